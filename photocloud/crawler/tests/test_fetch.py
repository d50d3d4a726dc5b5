"""The guarded client on its own: which addresses it refuses, and that the check holds where the connection is made."""

import socket
import time

import pytest

from photocloud.crawler.fetch import Fetcher, Refused, address_allowed, check_url, parse_networks
from photocloud.crawler.polite import robots_token

LOOPBACK_ONLY = parse_networks(["127.0.0.1/32"])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.2",
        "10.1.2.3",
        "172.16.5.4",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12::1",
        "ff02::1",
        "::ffff:127.0.0.2",
        "::ffff:10.0.0.1",
        "2002:7f00:2::1",
        "64:ff9b::a00:1",
        "2001:db8::1",
    ],
)
def test_internal_addresses_are_refused(address):
    assert not address_allowed(address, LOOPBACK_ONLY)


@pytest.mark.parametrize("address", ["8.8.8.8", "151.101.1.69", "2606:4700:4700::1111", "127.0.0.1"])
def test_public_addresses_and_the_allow_list_pass(address):
    assert address_allowed(address, LOOPBACK_ONLY)


def test_nothing_internal_without_an_allow_list():
    assert not address_allowed("127.0.0.1", [])
    assert address_allowed("10.9.8.7", parse_networks(["10.9.0.0/16"]))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/",
        "file:///etc/passwd",
        "gopher://example.org/",
        "http://user:secret@example.org/",
        "http:///nohost",
        "http://[::1]/",
        "http://169.254.169.254/latest/",
        "http://exa mple.com/",  # a typo: refused at once, not a crawl that ends with nothing
        "http://exa%20mple.com/",
    ],
)
def test_urls_refused_before_anything_is_sent(url):
    with pytest.raises(Refused):
        check_url(url, LOOPBACK_ONLY)


def _fetcher(resolver, **options):
    return Fetcher(
        allow=LOOPBACK_ONLY, user_agent="PhotocloudBot/1.0", timeout=2, max_redirects=3, resolver=resolver, **options
    )


def test_names_are_checked_at_connect_time(site, other_loopback):
    """A host name that resolves to a forbidden address is refused where the socket is opened, and a name whose
    answer changes between lookups (DNS rebinding) gets only the address that was checked."""
    answers = {"good.test": ["127.0.0.1"], "evil.test": ["127.0.0.2"], "mixed.test": ["127.0.0.1", "127.0.0.2"]}
    calls = []

    def resolver(host, port):
        calls.append(host)
        return [(socket.AF_INET, address) for address in answers[host]]

    port = site.url.rsplit(":", 1)[1]
    other_port = other_loopback.url.rsplit(":", 1)[1]
    with _fetcher(resolver) as fetcher:
        deadline = time.monotonic() + 5
        assert fetcher.get(f"http://good.test:{port}/cats.html", max_bytes=10**6, deadline=deadline).status == 200
        with pytest.raises(Refused, match="evil.test resolves to a private or reserved address"):
            fetcher.get(f"http://evil.test:{other_port}/", max_bytes=10**6, deadline=deadline)
        with pytest.raises(Refused, match="mixed.test resolves to a private or reserved address"):
            fetcher.get(f"http://mixed.test:{other_port}/", max_bytes=10**6, deadline=deadline)
        answers["good.test"] = ["127.0.0.2"]  # rebinding: the name now points inside
        with pytest.raises(Refused):
            fetcher.get(f"http://good.test:{other_port}/", max_bytes=10**6, deadline=deadline)
    assert other_loopback.hits == []
    assert calls.count("good.test") == 2


def test_odd_spellings_of_internal_addresses_are_caught_when_resolved(other_loopback):
    port = other_loopback.url.rsplit(":", 1)[1]
    with Fetcher(allow=LOOPBACK_ONLY, user_agent="PhotocloudBot/1.0", timeout=2, max_redirects=3) as fetcher:
        for host in ("0x7f.0.0.2", "2130706434", "127.2"):
            with pytest.raises(Refused, match=f"{host} resolves to a private or reserved address"):
                fetcher.get(f"http://{host}:{port}/", max_bytes=10**6, deadline=time.monotonic() + 5)
    assert other_loopback.hits == []


def test_a_refused_name_does_not_reveal_its_address(caplog):
    """What a name resolves to inside the network is for the server's log, not for the user's notes."""
    resolver = lambda host, port: [(socket.AF_INET, "10.1.2.3")]  # noqa: E731
    with _fetcher(resolver) as fetcher, pytest.raises(Refused) as refusal:
        fetcher.get("http://db.internal/", max_bytes=10**6, deadline=time.monotonic() + 5)
    assert str(refusal.value) == "db.internal resolves to a private or reserved address."
    assert "Refused db.internal: it resolves to 10.1.2.3" in caplog.text


def test_redirect_hops_are_checked(site, other_loopback):
    site.redirects = {"/away": f"{other_loopback.url}/", "/meta": "http://169.254.169.254/"}
    with _fetcher(lambda host, port: [(socket.AF_INET, host)]) as fetcher:
        for path in ("/away", "/meta"):
            with pytest.raises(Refused, match="private"):
                fetcher.get(site.url + path, max_bytes=10**6, deadline=time.monotonic() + 5)
    assert other_loopback.hits == []


def test_robots_token():
    assert robots_token("PhotocloudBot/1.0 (self-hosted)") == "PhotocloudBot"
    assert robots_token("MyCrawler") == "MyCrawler"
