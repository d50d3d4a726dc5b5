from django.urls import path, re_path

from . import views

# The themes, look-alike and picture pages combine apps: photocloud/pages.py adds them to this namespace.
app_name = "library"
urlpatterns = [
    path("", views.home, name="home"),
    path("library/", views.timeline, name="timeline"),
    path("library/scrubber/", views.scrubber, name="scrubber"),
    path("library/archive/", views.archive, name="archive"),
    path("library/favourites/", views.favourites, name="favourites"),
    path("library/dates/", views.dates, name="dates"),
    path("library/dates/<int:year>/", views.dates_year, name="dates_year"),
    path("library/dates/<int:year>/<int:month>/", views.dates_month, name="dates_month"),
    path("library/themes/<str:name>/", views.theme, name="theme"),
    path("albums/", views.album_list, name="albums"),
    path("albums/new/", views.album_create, name="album_create"),
    path("albums/<uuid:pk>/", views.album_detail, name="album"),
    path("albums/<uuid:pk>/edit/", views.album_edit, name="album_edit"),
    path("albums/<uuid:pk>/delete/", views.album_delete, name="album_delete"),
    path("albums/<uuid:pk>/cover/<uuid:photo_pk>/", views.album_cover, name="album_cover"),
    path("albums/<uuid:pk>/download.zip", views.album_download, name="album_download"),
    path("photos/download.zip", views.photos_download, name="photos_download"),
    path("photos/<uuid:pk>/tile/", views.photo_tile, name="photo_tile"),
    path("photos/<uuid:pk>/edit/", views.photo_edit, name="photo_edit"),
    path("photos/<uuid:pk>/delete/", views.photo_delete, name="photo_delete"),
    path("photos/<uuid:pk>/retry/", views.photo_retry, name="photo_retry"),
    path("photos/<uuid:pk>/marks/", views.photo_marks, name="photo_marks"),
    path("photos/<uuid:pk>/taken/", views.photo_taken, name="photo_taken"),
    path("photos/<uuid:pk>/location/", views.photo_location, name="photo_location"),
    path("photos/<uuid:pk>/rotate/", views.photo_rotate, name="photo_rotate"),
    path("photos/<uuid:pk>/unstack/", views.photo_unstack, name="photo_unstack"),
    re_path(r"^photos/(?P<pk>[0-9a-f-]{36})/(?P<size>original|s|m|l)$", views.photo_file, name="photo_file"),
    path("trash/", views.trash_page, name="trash"),
    path("trash/restore/", views.trash_restore, name="trash_restore"),
    path("trash/delete/", views.trash_delete, name="trash_delete"),
    path("trash/empty/", views.trash_empty, name="trash_empty"),
    re_path(r"^trash/(?P<pk>[0-9a-f-]{36})/(?P<size>s|m)$", views.trash_file, name="trash_file"),
]
