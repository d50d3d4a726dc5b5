from django.urls import path

from . import views

# "people" is the namespace of users' profiles (photocloud/urls.py): the people in pictures are "persons".
app_name = "persons"
urlpatterns = [
    path("", views.people, name="people"),
    path("<int:pk>/", views.person, name="person"),
    path("<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("<int:pk>/merge/", views.person_merge, name="person_merge"),
    path("faces/<int:pk>/move/", views.face_move, name="face_move"),
    path("faces/<int:pk>/similar/", views.face_similar, name="face_similar"),
]
