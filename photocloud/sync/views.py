"""The "Sync & import" page: the user's server-side import folders with live progress, and how to use the client."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import import_folders_of


@login_required
def imports(request):
    context = {"folders": import_folders_of(request.user), "server_url": request.build_absolute_uri("/").rstrip("/")}
    return render(request, "sync/imports.html", context)


@login_required
def imports_status(request):
    """The folder list alone, which the page reloads every few seconds (htmx) while imports run."""
    return render(request, "sync/_folders.html", {"folders": import_folders_of(request.user)})
