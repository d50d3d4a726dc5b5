"""API routes of this app; included in the "api" namespace by photocloud/urls.py."""

from django.urls import path, re_path

from . import api

TARGET = r"^(?P<kind>albums|photos)/(?P<pk>[0-9a-f-]{36})"

urlpatterns = [
    re_path(TARGET + r"/likes/$", api.LikeView.as_view(), name="likes"),
    re_path(TARGET + r"/comments/$", api.CommentListView.as_view(), name="comments"),
    path("albums/<uuid:pk>/collect/", api.CollectView.as_view(), name="collect"),
    path("photos/<uuid:pk>/copy/", api.CopyView.as_view(), name="photo-copy"),
    path("collected/", api.CollectedView.as_view(), name="collected"),
    path("comments/<int:pk>/", api.CommentDetailView.as_view(), name="comment-detail"),
    path("notifications/", api.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", api.NotificationReadView.as_view(), name="notifications-read"),
    path("feed/", api.FeedView.as_view(), name="feed"),
    path("recommendations/", api.RecommendationsView.as_view(), name="recommendations"),
    path("recommendations/web/", api.WebFindsView.as_view(), name="recommendations-web"),
    path("users/<str:username>/followers/", api.PeopleView.as_view(direction="followers"), name="user-followers"),
    path("users/<str:username>/following/", api.PeopleView.as_view(direction="following"), name="user-following"),
]
