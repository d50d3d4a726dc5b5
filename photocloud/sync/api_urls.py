"""API routes of this app; included in the "api" namespace by photocloud/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("uploads/", api.UploadStartView.as_view(), name="upload-start"),
    path("uploads/<uuid:pk>/", api.UploadView.as_view(), name="upload"),
    path("uploads/<uuid:pk>/complete/", api.UploadCompleteView.as_view(), name="upload-complete"),
]
