"""The client's address: X-Forwarded-For is believed only from the proxies in PHOTOCLOUD_TRUSTED_PROXIES.

A client may write anything in that header, so rate limits keyed on it could be dodged with a new made-up address
per request. The middleware puts the real client address in REMOTE_ADDR, which DRF's throttles (NUM_PROXIES = 0),
django-ratelimit's "ip" keys and the logs read.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=8)
def _networks(values: tuple[str, ...]) -> tuple:
    try:
        return tuple(ipaddress.ip_network(value, strict=False) for value in values)
    except ValueError as error:
        raise ImproperlyConfigured(f"PHOTOCLOUD_TRUSTED_PROXIES: {error}") from None


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(remote_addr: str, forwarded_for: str | None) -> str:
    """The first address, from the right, that is not a trusted proxy: each trusted hop appended the address it
    received from; anything left of an untrusted hop was written by the client."""
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not forwarded_for or not _trusted(remote_addr, networks):
        return remote_addr
    address = remote_addr
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # garbage: the last good address is the client's
        if not _trusted(address, networks):
            break
    return address


class ClientAddressMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        meta["REMOTE_ADDR"] = client_address(meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR"))
        return self.get_response(request)
