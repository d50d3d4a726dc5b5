"""Fetching from the web without letting the web reach the server's own network.

Every connection goes through `GuardedBackend`: it resolves the host itself, refuses the whole host if any address
is private, loopback, link-local, reserved or otherwise not global (unless an administrator's allow-list covers it),
and then connects to the address it checked. There is no second DNS lookup that could answer differently (DNS
rebinding), and redirects are followed here, one checked hop at a time. Bodies are streamed with byte limits applied
to what arrives and to what it decompresses to, and a deadline applies to the whole response, not only to each read.
"""

import ipaddress
import logging
import socket
import time
import zlib
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpcore
import httpx

SCHEMES = ("http", "https")
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024

logger = logging.getLogger(__name__)


class Refused(Exception):
    """A request Photocloud will not make (forbidden address or scheme, robots.txt). Nothing was sent."""


class FetchFailed(Exception):
    """The request was made but gave nothing usable (network error, too large, too slow, bad encoding)."""


class TooLarge(FetchFailed):
    """The response is larger than the limit it was read with."""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values if value.strip()]


def address_allowed(address: str, allow: list[Network]) -> bool:
    """Public internet addresses, plus whatever the allow-list names; never internal ones otherwise."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip in network for network in allow if network.version == ip.version):
        return True
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return address_allowed(str(embedded), allow)
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified
    )


def system_resolver(host: str, port: int) -> list[tuple[int, str]]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [(family, sockaddr[0]) for family, _, _, _, sockaddr in infos]


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network layer with the address check done at connect time, on the address actually used."""

    def __init__(self, allow: list[Network], resolver: Callable[[str, int], list[tuple[int, str]]] = system_resolver):
        self.allow = allow
        self.resolver = resolver
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"Could not resolve {host}: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no address.")
        for _, address in addresses:
            if not address_allowed(address, self.allow):
                # The address stays in the server's log: the user's notes must not map the internal network.
                logger.warning("Refused %s: it resolves to %s", host, address)
                raise Refused(f"{host} resolves to a private or reserved address.")
        last_error = None
        for _, address in addresses:  # the checked literal addresses: nothing is resolved again below
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error

    def sleep(self, seconds):
        self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on the guarded backend; no proxies from the environment (they would bypass the check).

    httpx's own __init__ only builds the pool, so it is skipped rather than run to build one that is thrown away."""

    def __init__(self, allow: list[Network], resolver=system_resolver, max_connections: int = 10):
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=max_connections,
            network_backend=GuardedBackend(allow, resolver),
        )


def check_url(url: str, allow: list[Network]) -> httpx.URL:
    """Refuse what is not worth sending at all: other schemes, credentials, internal IP literals."""
    try:
        parsed = httpx.URL(url)
        host = parsed.host  # decoded on access: "http://xn--/" fails only here
    except (httpx.InvalidURL, TypeError, ValueError):  # IDNAError is a UnicodeError, a ValueError
        raise Refused(f"Not a valid URL: {url[:200]}") from None
    if parsed.scheme not in SCHEMES:
        raise Refused(f"Only http and https URLs are fetched, not {parsed.scheme or 'this'}: {url[:200]}")
    if not host:
        raise Refused(f"The URL has no host: {url[:200]}")
    if "%" in host:  # a space or other character no host name has, kept percent-encoded: it would only fail later
        raise Refused(f"Not a valid host name: {url[:200]}")
    if parsed.userinfo:
        raise Refused(f"URLs with a user name or password are not fetched: {host}")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(str(literal), allow):
        raise Refused(f"{host} is a private, local or reserved address.")
    return parsed


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class Fetcher:
    """One crawl's HTTP client. `before_hop(url)` runs before every request, redirects included (robots.txt, the
    host's turn); `on_bytes(n)` counts what arrives, for the byte budget."""

    def __init__(
        self,
        *,
        allow: list[Network],
        user_agent: str,
        timeout: float,
        max_redirects: int,
        before_hop: Callable[[httpx.URL], AbstractContextManager] | None = None,
        on_bytes: Callable[[int], None] | None = None,
        resolver=system_resolver,
    ):
        self.allow = allow
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.before_hop = before_hop or (lambda url: nullcontext())
        self.on_bytes = on_bytes or (lambda count: None)
        self.client = httpx.Client(
            transport=GuardedTransport(allow, resolver),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=False,
            trust_env=False,
        )

    def close(self):
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        deadline: float,
        accept: str = "*/*",
        wanted: Callable[[str], bool] = lambda content_type: True,
    ) -> Fetched:
        """GET with redirects followed by hand (each hop checked), the body read only when the status is 200 and
        `wanted(content type)` says so. Raises Refused or FetchFailed."""
        current = check_url(url, self.allow)
        for _ in range(self.max_redirects + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchFailed("Out of time.")
            with self.before_hop(current):
                request = self.client.build_request(
                    "GET", current, headers={"Accept": accept}, timeout=httpx.Timeout(min(self.timeout, remaining))
                )
                try:
                    response = self.client.send(request, stream=True)
                except httpx.HTTPError as exc:
                    raise FetchFailed(_describe(exc)) from None
                try:
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        try:
                            target = str(current.join(response.headers["location"]))
                        except httpx.InvalidURL:
                            raise Refused(f"Not a valid redirect: {response.headers['location'][:200]}") from None
                        current = check_url(target, self.allow)
                        continue
                    content = b""
                    if response.status_code == 200 and wanted(response.headers.get("content-type", "").lower()):
                        content = self._read(response, max_bytes, deadline)
                    return Fetched(str(current), response.status_code, response.headers, content)
                finally:
                    response.close()
        raise FetchFailed(f"More than {self.max_redirects} redirects.")

    def _read(self, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(f"Too large ({int(declared):,} bytes; the limit is {max_bytes:,}).")
        decoder = _decoder(response.headers.get("content-encoding", ""))
        parts, size = [], 0
        try:
            for raw in response.iter_raw():
                self.on_bytes(len(raw))
                for piece in decoder(raw, max_bytes - size + 1):
                    size += len(piece)
                    if size > max_bytes:
                        raise TooLarge(f"Too large (more than {max_bytes:,} bytes).")
                    parts.append(piece)
                if time.monotonic() > deadline:
                    raise FetchFailed("Too slow: the response did not finish in time.")
        except httpx.HTTPError as exc:
            raise FetchFailed(_describe(exc)) from None
        except zlib.error:
            raise FetchFailed("The compressed response is damaged.") from None
        return b"".join(parts)


def _decoder(encoding: str):
    """Bounded decompression: never more than `limit` bytes out of one step, however small the input."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return lambda data, limit: [data]
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise FetchFailed(f"Unsupported content encoding: {encoding[:40]}")
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected

    def decode(data, limit):
        out = []
        while data:
            piece = inflater.decompress(data, max(limit, 1))
            out.append(piece)
            limit -= len(piece)
            if limit <= 0:
                break
            data = inflater.unconsumed_tail
        return out

    return decode


def _describe(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "Timed out."
    return str(exc).strip()[:200] or type(exc).__name__


def retry_after_seconds(headers: httpx.Headers, default: float) -> float:
    """Retry-After as seconds or as an HTTP date; `default` when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return default
    return max(moment.timestamp() - time.time(), 0.0)
