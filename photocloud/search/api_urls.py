"""API routes of this app; included in the "api" namespace by photocloud/urls.py."""

from django.urls import path

from . import api

urlpatterns = [
    path("search/", api.SearchView.as_view(), name="search"),
]
