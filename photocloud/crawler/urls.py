from django.urls import path

from . import views

app_name = "crawler"

urlpatterns = [
    path("", views.crawl_list, name="list"),
    path("new/", views.crawl_new, name="new"),
    path("<uuid:pk>/", views.crawl_detail, name="detail"),
    path("<uuid:pk>/progress/", views.crawl_progress, name="progress"),
    path("<uuid:pk>/cancel/", views.crawl_cancel, name="cancel"),
    path("<uuid:pk>/save/", views.crawl_save, name="save"),
    path("<uuid:pk>/delete/", views.crawl_delete, name="delete"),
    path("<uuid:pk>/candidates/<int:candidate>.jpg", views.candidate_image, name="candidate_image"),
]
