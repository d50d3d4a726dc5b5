"""API routes of this app; included in the "api" namespace by photocloud/urls.py."""

from django.urls import path  # noqa: F401

urlpatterns = []
