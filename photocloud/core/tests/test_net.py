"""The client address that rate limits and logs see: X-Forwarded-For only from trusted proxies (core/net.py)."""

import pytest
from rest_framework.throttling import AnonRateThrottle

from photocloud.core.net import client_address

PASSWORD = "a-long-Passw0rd!"


@pytest.fixture
def anon_rate(monkeypatch):
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "3/min")


def statuses(client, forwarded_for: list[str]) -> list[int]:
    return [client.get("/api/albums/", HTTP_X_FORWARDED_FOR=value).status_code for value in forwarded_for]


def test_a_made_up_forwarded_for_does_not_dodge_the_anonymous_throttle(client, db, anon_rate):
    assert statuses(client, ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"]) == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_count(client, db, anon_rate, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.0/8"]  # the test client's REMOTE_ADDR is 127.0.0.1
    assert statuses(client, ["203.0.113.7"] * 3) == [200, 200, 200]
    assert statuses(client, ["198.51.100.2"]) == [200]
    # What the client wrote left of the address the proxy appended changes nothing.
    assert statuses(client, ["9.9.9.9, 203.0.113.7", "203.0.113.7"]) == [429, 429]


def test_a_made_up_forwarded_for_does_not_dodge_the_login_limit(client, alice):
    for n in range(10):
        client.post("/accounts/login/", {"username": "x", "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="10.0.1.1"
    )
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.1", "203.0.113.7", [], "192.0.2.1"),  # no proxy configured: the header is ignored
        ("192.0.2.1", "203.0.113.7", ["10.0.0.0/8"], "192.0.2.1"),  # not from a trusted proxy
        ("10.1.2.3", "203.0.113.7", ["10.0.0.0/8"], "203.0.113.7"),
        ("10.1.2.3", "6.6.6.6, 203.0.113.7, 10.9.9.9", ["10.0.0.0/8"], "203.0.113.7"),  # two proxies
        ("10.1.2.3", "not-an-address", ["10.0.0.0/8"], "10.1.2.3"),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
        ("10.1.2.3", None, ["10.0.0.0/8"], "10.1.2.3"),
    ],
)
def test_client_address(settings, remote, forwarded, trusted, expected):
    settings.TRUSTED_PROXIES = trusted
    assert client_address(remote, forwarded) == expected
