"""API routes of this app; included in the "api" namespace by photocloud/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import FaceViewSet, PersonViewSet, PhotoFacesView

router = SimpleRouter()
router.register("people", PersonViewSet, basename="person")

urlpatterns = [
    *router.urls,
    path("faces/<int:pk>/", FaceViewSet.as_view({"get": "retrieve", "patch": "partial_update"}), name="face-detail"),
    path("faces/<int:pk>/similar/", FaceViewSet.as_view({"get": "similar"}), name="face-similar"),
    path("photos/<uuid:pk>/faces/", PhotoFacesView.as_view(), name="photo-faces"),
]
