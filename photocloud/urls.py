from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from photocloud import pages
from photocloud.accounts import api as accounts_api
from photocloud.accounts import views as accounts_views
from photocloud.core import errors
from photocloud.library import api as library_api
from photocloud.library import urls as library_urls
from photocloud.social import views as social_views
from photocloud.vision import api as vision_api

handler404 = errors.not_found

router = DefaultRouter()
router.register("albums", library_api.AlbumViewSet, basename="album")
router.register("photos", library_api.PhotoViewSet, basename="photo")
router.register("trash", library_api.TrashViewSet, basename="trash")
router.register("tokens", accounts_api.ApiTokenViewSet, basename="token")
router.register("users", accounts_api.UserViewSet, basename="user")

api_urlpatterns = [
    path("", include(router.urls)),
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("library/years/", library_api.YearsView.as_view(), name="years"),
    path("library/years/<int:year>/", library_api.MonthsView.as_view(), name="months"),
    path("library/years/<int:year>/<int:month>/", library_api.EventsView.as_view(), name="events"),
    path("library/themes/", library_api.ThemesView.as_view(), name="themes"),
    path("jobs/<uuid:pk>/", library_api.JobView.as_view(), name="job"),
    path("photos/<uuid:pk>/similar/", vision_api.SimilarView.as_view(), name="photo-similar"),
    path("search/image/", vision_api.ImageSearchView.as_view(), name="search-image"),
    path("", include("photocloud.search.api_urls")),
    path("", include("photocloud.social.api_urls")),
    path("", include("photocloud.crawler.api_urls")),
    path("", include("photocloud.sync.api_urls")),
    path("", include("photocloud.people.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]

people_urlpatterns = [
    path("<str:username>/", accounts_views.profile, name="profile"),
    path("<str:username>/avatar.jpg", accounts_views.avatar, name="avatar"),
    path("<str:username>/follow/", social_views.follow, name="follow"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("photocloud.accounts.urls")),
    path("api/", include((api_urlpatterns, "api"))),
    path("u/", include((people_urlpatterns, "people"))),
    path("search/", include("photocloud.search.urls")),
    path("crawls/", include("photocloud.crawler.urls")),
    path("sync/", include("photocloud.sync.urls")),
    path("people/", include("photocloud.people.urls")),
    path("", include("photocloud.social.urls")),
    path("", include("photocloud.vision.urls")),
    path("", include(([*pages.library_urlpatterns, *library_urls.urlpatterns], "library"))),
]
