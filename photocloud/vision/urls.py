from django.urls import path

from . import duplicate_views, views

app_name = "vision"
urlpatterns = [
    path("photos/<uuid:pk>/similar/", views.similar, name="similar"),
    path("search/image/", views.search_by_image, name="search_by_image"),
    path("library/teach/", views.teach, name="teach"),
    path("library/duplicates/", duplicate_views.duplicates, name="duplicates"),
    path("library/duplicates/merge/", duplicate_views.duplicates_merge, name="duplicates_merge"),
    path("library/duplicates/distinct/", duplicate_views.duplicates_distinct, name="duplicates_distinct"),
]
