"""A small real web site on 127.0.0.1 for the crawler tests: pages, robots.txt, images of several kinds (from
tests/images.py), redirects (also to forbidden addresses), slow, huge and compressed-bomb responses, 429 with
Retry-After, and broken HTML. Every request is recorded, with the time it arrived."""

import gzip
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import ImageOps

from tests import images

ROBOTS = b"""User-agent: PhotocloudBot
Disallow: /private/

User-agent: *
Disallow: /
"""


@cache
def pictures() -> dict[str, tuple[bytes, str]]:
    """path -> (bytes, content type). Cats in several formats and crops, other subjects, and bad files."""
    cat_png = images.encode(images.photo("cat", size=(300, 200)), "PNG")
    return {
        "/img/cat.jpg": (images.variant("cat", 1), "image/jpeg"),
        "/img/cat-copy.jpg": (images.variant("cat", 1), "image/jpeg"),  # the same bytes again: a duplicate
        "/img/cat-small.png": (cat_png, "image/png"),
        "/img/cat-large.webp": (images.variant("cat", 30, fmt="WEBP"), "image/webp"),
        "/img/coffee.jpg": (images.jpeg("coffee"), "image/jpeg"),
        "/img/rocket.png": (images.in_format("PNG", "rocket"), "image/png"),
        "/img/astronaut.gif": (images.in_format("GIF", "astronaut"), "image/gif"),
        "/img/unlabelled": (images.encode(ImageOps.mirror(images.photo("rocket")), "JPEG"), "application/octet-stream"),
        "/img/secret-cat.jpg": (images.variant("cat", 5), "image/jpeg"),
        "/img/busy-coffee.jpg": (images.variant("coffee", 7), "image/jpeg"),
        "/img/truncated.jpg": (images.truncated_jpeg(), "image/jpeg"),
        "/img/page.jpg": (images.html_as_jpeg(), "image/jpeg"),
        "/img/drawing.svg": (images.svg(), "image/svg+xml"),
        "/img/bomb.png": (images.decompression_bomb_png(), "image/png"),
        "/img/icon.png": (images.encode(images.photo("cat", size=(16, 16)), "PNG"), "image/png"),
        # One photograph at two sizes: a page's thumbnail and the full picture it links to.
        "/img/rocket-thumb.jpg": (
            images.encode(images.photo("rocket").resize((240, 160)), "JPEG", quality=80),
            "image/jpeg",
        ),
        "/img/rocket-full.jpg": (images.encode(images.photo("rocket"), "JPEG", quality=92), "image/jpeg"),
    }


@cache
def gzip_bomb() -> bytes:
    """64 MB of zeros in about 64 KB."""
    return gzip.compress(b"<p>" + b"\0" * (64 * 1024 * 1024), compresslevel=9)


def _page(title: str, body: str) -> bytes:
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>".encode()


PAGES = {
    "/": _page(
        "Pets and things",
        """
        <meta property="og:image" content="/img/rocket.png">
        <a href="/cats.html">Cats</a> <a href="/things.html">Things</a> <a href="/private/secret.html">Secret</a>
        <a href="/broken.html">Broken</a> <a href="ftp://127.0.0.1/file">FTP</a> <a href="/img/astronaut.gif">GIF</a>
        <a href="/moved">Moved</a>""",
    ),
    "/cats.html": _page(
        "Cats",
        """
        <figure><img src="/img/cat.jpg" alt="A tabby cat"><figcaption>Chelsea the cat</figcaption></figure>
        <img srcset="/img/cat-small.png 300w, /img/cat-large.webp 1200w" src="/img/cat-small.png" alt="Cat again">
        <img src="/img/cat-copy.jpg" alt="Same cat"> <img src="/img/icon.png" alt="icon">
        <a href="/deeper.html">Deeper</a>""",
    ),
    "/things.html": _page(
        "Things",
        """
        <img src="/img/coffee.jpg" alt="A cup of coffee"> <img src="/img/unlabelled" alt="rocket launch">""",
    ),
    "/gallery.html": _page(
        "Gallery",
        """
        <a href="/img/rocket-full.jpg" title="Launch pad"><img src="/img/rocket-thumb.jpg" alt="A rocket"></a>""",
    ),
    "/deeper.html": _page("Deeper", '<a href="/deepest.html">Deepest</a>'),
    "/deepest.html": _page("Deepest", '<img src="/img/coffee.jpg">'),
    "/private/secret.html": _page("Secret", '<img src="/img/secret-cat.jpg" alt="cat">'),
    # Unclosed tags, stray quotes, a script, bad files behind image links, links no URL parser can read.
    "/broken.html": b"""<html><head><title>Broken <b>page</title><body><div><p>text <img src="/img/truncated.jpg"
        alt="broken cat><img src='/img/page.jpg' alt="<script>alert(1)</script>"><table><tr><td>
        <img src=/img/drawing.svg><img src="/img/bomb.png" alt=bomb><a href="/cats.html">cats<script>document.write(
        '<a href="/nowhere">')</script><img src="file:///etc/passwd"><img src="data:image/png;base64,AAAA">
        <a href="http://h:abc/">bad port</a> <a href="http://xn--/">bad name</a> <a href="http://[zz]/">bad IPv6</a>
        <img src="http://[zz]/cat.jpg" alt="cat"> <img src="http://xn--/cat.jpg" alt="cat">""",
}


@dataclass
class Hit:
    path: str
    user_agent: str
    at: float


@dataclass
class Site:
    server: ThreadingHTTPServer
    hits: list[Hit] = field(default_factory=list)
    pages: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    robots: bytes = ROBOTS
    robots_status: int = 200
    busy_left: int = 0  # /busy.html answers 429 this many times first
    holds: dict[str, threading.Event] = field(default_factory=dict)  # the first request for a path waits for it

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, body=b"", content_type="text/html; charset=utf-8", headers=()):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: C901 - one branch per kind of response, as a site would have
            path = self.path
            site.hits.append(Hit(path, self.headers.get("User-Agent", ""), time.monotonic()))
            if (held := site.holds.pop(path, None)) is not None:
                held.wait(10)
            if path == "/robots.txt":
                return self.send(site.robots_status, site.robots, "text/plain")
            if path in site.redirects:
                return self.send(302, headers=[("Location", site.redirects[path])])
            if path == "/moved":
                return self.send(301, headers=[("Location", "/things.html")])
            if path == "/loop":
                return self.send(302, headers=[("Location", "/loop")])
            if path in site.pages:
                return self.send(200, site.pages[path])
            if path in PAGES:
                return self.send(200, PAGES[path])
            if path in pictures():
                body, content_type = pictures()[path]
                return self.send(200, body, content_type)
            if path == "/busy.html":
                if site.busy_left > 0:
                    site.busy_left -= 1
                    return self.send(429, b"slow down", headers=[("Retry-After", "1")])
                return self.send(200, _page("Busy", '<img src="/img/busy-coffee.jpg" alt="coffee">'))
            if path.startswith("/slow"):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                try:
                    for _ in range(30):  # a byte at a time, forever as far as a crawler is concerned
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.4)
                except OSError:
                    pass
                self.close_connection = True
                return None
            if path == "/huge.html":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()  # no length: the crawler has to stop reading by itself
                try:
                    for _ in range(2000):
                        self.wfile.write(b"<p>" + b"x" * 65536)
                except OSError:
                    pass
                self.close_connection = True
                return None
            if path == "/gzip-bomb.html":
                return self.send(200, gzip_bomb(), headers=[("Content-Encoding", "gzip")])
            if path == "/gzip-page.html":
                body = gzip.compress(_page("Zipped", '<img src="/img/coffee.jpg" alt="zipped coffee">'))
                return self.send(200, body, headers=[("Content-Encoding", "gzip")])
            return self.send(404, b"not here")

    return Handler


def serve(host: str = "127.0.0.1") -> Site:
    pictures(), gzip_bomb()  # made before the first request, so no response is slow by accident
    server_class = ThreadingHTTPServer
    if ":" in host:
        import socket

        class V6Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6

        server_class = V6Server
    site = Site(server=None)
    site.server = server_class((host, 0), _handler(site))
    site.server.daemon_threads = True
    site.server.handle_error = lambda request, address: None  # a crawler hanging up early is expected here
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    return site


@pytest.fixture
def site():
    """The site on 127.0.0.1, for the crawler's tests (conftest.py) and its end-to-end test alike."""
    server = serve("127.0.0.1")
    yield server
    server.stop()
