"""Every GET of the REST API refuses a query parameter it does not take, as the lists do (core.serializers)."""

from django.http import JsonResponse

from .serializers import unknown_filters


class UnreadQueryMiddleware:
    """A 400 for a GET of the API whose view read no query string (core.serializers.read_query, which every reader
    calls: `checked_query`, the search) but was given one: a typo, or a filter of a list sent to an object, answered
    as if it had been applied would tell a script a wrong thing. Checked after the view, which alone knows whether
    it reads parameters (a GET writes nothing); only our own views (the schema's view reads `format` and `lang`), and
    only their successful answers (an error already says what is wrong). `format` is DRF's, taken everywhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD") or not request.GET or getattr(request, "query_read", False):
            return response
        view = getattr(getattr(request, "resolver_match", None), "func", None)
        if (
            not getattr(getattr(view, "cls", None), "__module__", "").startswith("photocloud.")
            or response.status_code >= 400
        ):
            return response
        if unknown := unknown_filters(request.GET, ()):
            return JsonResponse(unknown, status=400)  # a streamed answer (a ZIP) dropped unstarted
        return response
