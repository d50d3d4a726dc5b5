from django.urls import path

from . import views

app_name = "social"

KIND = "<str:kind>/<uuid:pk>"

urlpatterns = [
    path("feed/", views.feed, name="feed"),
    path("for-you/", views.for_you, name="for_you"),
    path("for-you/web/", views.find_on_the_web, name="find_on_the_web"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("collected/", views.collected, name="collected"),
    path(f"social/like/{KIND}/", views.like, name="like"),
    path("social/collect/<uuid:pk>/", views.collect, name="collect"),
    path(f"social/comments/{KIND}/", views.comment_create, name="comment_create"),
    path("social/comments/<int:pk>/edit/", views.comment_edit, name="comment_edit"),
    path("social/comments/<int:pk>/delete/", views.comment_delete, name="comment_delete"),
    path("social/photos/<uuid:pk>/copy/", views.copy_photo, name="copy_photo"),
    path("social/people/<str:username>/followers/", views.people, {"direction": "followers"}, name="followers"),
    path("social/people/<str:username>/following/", views.people, {"direction": "following"}, name="following"),
]
