"""Per-host limits shared through the cache: concurrency, delay, and Retry-After parsing."""

import threading
import time
from email.utils import formatdate

import httpx
import pytest

from photocloud.crawler.fetch import FetchFailed, retry_after_seconds
from photocloud.crawler.polite import HostGate

URL = httpx.URL("http://pictures.example/")


def test_concurrency_limit_holds_across_crawls():
    """Several crawls (threads here, processes in production) never have more requests in flight than allowed."""
    in_flight, peak, lock = 0, 0, threading.Lock()

    def crawl():
        nonlocal in_flight, peak
        gate = HostGate(delay=0, concurrency=2, hold_seconds=10)
        for _ in range(5):
            with gate.turn(URL):
                with lock:
                    in_flight += 1
                    peak = max(peak, in_flight)
                time.sleep(0.02)
                with lock:
                    in_flight -= 1

    threads = [threading.Thread(target=crawl) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak == 2


def test_crawls_racing_for_one_host_still_leave_the_delay_between_requests(monkeypatch):
    """Several crawls that all see the host's delay pass at once: only one of them goes, the others wait a delay.
    Reading the cache takes a few milliseconds here, as Redis on another machine does, so that they do race."""
    starts, lock = [], threading.Lock()
    read = HostGate.pause_left

    def slow_read(gate, host):
        left = read(gate, host)
        time.sleep(0.005)
        return left

    monkeypatch.setattr(HostGate, "pause_left", slow_read)

    def crawl():
        gate = HostGate(delay=0.1, concurrency=2, hold_seconds=10)
        for _ in range(4):
            with gate.turn(URL), lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=crawl) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert len(starts) == 20
    assert min(later - earlier for earlier, later in zip(starts, starts[1:], strict=False)) >= 0.09


def test_pause_delays_the_next_turn_and_stop_ends_the_wait():
    gate = HostGate(delay=0, concurrency=1, hold_seconds=10)
    gate.pause("pictures.example", 0.6)
    started = time.monotonic()
    with gate.turn(URL):
        assert time.monotonic() - started >= 0.55
    gate.pause("pictures.example", 30)
    stopping = HostGate(delay=0, concurrency=1, hold_seconds=10, should_stop=lambda: True)
    with pytest.raises(FetchFailed, match="Stopped"), stopping.turn(URL):
        raise AssertionError("a stopped crawl must not get a turn")


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after_seconds(httpx.Headers({"Retry-After": "7"}), 5) == 7
    in_ten = retry_after_seconds(httpx.Headers({"Retry-After": formatdate(time.time() + 10, usegmt=True)}), 5)
    assert 8 <= in_ten <= 10
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"}), 5) == 5
    assert retry_after_seconds(httpx.Headers({}), 5) == 5
