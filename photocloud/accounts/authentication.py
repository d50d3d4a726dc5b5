import functools

from django.http import HttpResponse
from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`) against hashed personal tokens."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"token", b"bearer"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header: the key has invalid characters.") from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_key(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return "Token"


def accepts_api_token(view):
    """Let API clients fetch what the API links to (thumbnails, originals) with the same personal token."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            authenticated = ApiTokenAuthentication().authenticate(request)
        except exceptions.AuthenticationFailed as failure:
            return HttpResponse(str(failure.detail), status=401, content_type="text/plain; charset=utf-8")
        if authenticated:
            request.user = authenticated[0]
        return view(request, *args, **kwargs)

    return wrapper
