"""The API's error answers: JSON with a `detail` message, also for what Django refuses before a view runs."""

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent
from django.http import JsonResponse
from django.shortcuts import render
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """JSON errors with a `detail` message for what Django itself refuses while reading a request."""
    if isinstance(exc, RequestDataTooBig):
        exc = exceptions.APIException("The request is too large.")
        exc.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    elif isinstance(exc, TooManyFilesSent):
        exc = exceptions.ValidationError({"detail": "Too many files in one request (at most 100)."})
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ValidationError({"detail": "The request could not be read."})
    return drf_exception_handler(exc, context)


def not_found(request, exception):
    """Django's 404 for a URL no route matches: DRF's JSON error format under /api/, the 404 page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


def bad_request_page(request, message: str):
    """A page's answer to input it cannot take (a form posted with a bad value): the message on a 400 page with the
    site's layout, as the API answers `{"detail": message}`."""
    return render(request, "400.html", {"message": message}, status=400)
