"""The project's URLs plus a stand-in for the crawler's "new crawl" page, to test the hand-over to it."""

from django.http import HttpResponse
from django.urls import include, path

from photocloud.urls import urlpatterns as project


def new_crawl(request):
    return HttpResponse(f"new crawl for {request.GET.get('q', '')}")


urlpatterns = [path("crawl-stand-in/", include(([path("new/", new_crawl, name="new")], "crawler"))), *project]
