"""Being a good guest: robots.txt, a delay between requests to one host, few requests at once, and Retry-After.

The delay and the concurrency limit are kept in the shared cache, so they hold across crawls and worker processes
(with Redis configured, across machines too). Across processes they are best effort unless PHOTOCLOUD_REDIS_URL is
set: the default FileBasedCache's `add` is not atomic, so two workers can now and then take the same slot.
"""

import time
from contextlib import contextmanager

import httpx
from django.core.cache import cache
from protego import Protego

from .fetch import Fetcher, FetchFailed

ROBOTS_MAX_BYTES = 512 * 1024
SLOT_WAIT = 0.05
MAX_CRAWL_DELAY = 30.0
LOCK_SECONDS = 5  # the lock around taking a turn is held for a few cache calls; one left by a killed worker expires


def robots_token(user_agent: str) -> str:
    """The product token robots.txt rules name ("PhotocloudBot" in "PhotocloudBot/1.0 (...)")."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "*"


class Stopped(FetchFailed):
    """The crawl was cancelled while waiting for a host's turn: nothing was sent."""


class HostGate:
    """Waits for a host's turn: `delay` seconds after the previous request started and ended, and at most
    `concurrency` requests in flight (best effort across processes unless PHOTOCLOUD_REDIS_URL is set: see the
    module's docstring). `pause(host, seconds)` honours a 429/503 Retry-After."""

    def __init__(self, delay: float, concurrency: int, hold_seconds: float, should_stop=lambda: False):
        self.delay = delay
        self.concurrency = max(concurrency, 1)
        self.hold_seconds = hold_seconds  # a slot left by a crashed worker frees itself after this
        self.should_stop = should_stop

    @staticmethod
    def _key(host: str, what: str) -> str:
        return f"crawler:host:{host}:{what}"

    def pause(self, host: str, seconds: float) -> None:
        until = time.time() + seconds
        if until > (cache.get(self._key(host, "next")) or 0):
            cache.set(self._key(host, "next"), until, timeout=int(seconds) + 60)

    def pause_left(self, host: str) -> float:
        return max((cache.get(self._key(host, "next")) or 0) - time.time(), 0.0)

    @contextmanager
    def turn(self, url: httpx.URL, extra_delay: float = 0.0):
        host = url.host
        gap = max(self.delay, extra_delay)
        slot = None
        while slot is None:
            if self.should_stop():
                raise Stopped("Stopped.")
            wait = self.pause_left(host)
            if wait > 0:
                time.sleep(min(wait, 0.5))
                continue
            slot = self._take_turn(host, gap)
            if slot is None:
                time.sleep(SLOT_WAIT)
        try:
            yield
        finally:
            # The delay counts from the end of the request too, so a slow response never shortens the pause.
            cache.set(
                self._key(host, "next"),
                max(time.time() + gap, cache.get(self._key(host, "next")) or 0),
                timeout=int(gap) + 60,
            )
            cache.delete(slot)

    def _take_turn(self, host: str, gap: float) -> str | None:
        """A free slot, if the host's delay has passed, with the next turn set `gap` from now: one step under a short
        lock, or two workers that both saw the delay pass would both go (one of them 17 ms after the other)."""
        lock = self._key(host, "lock")
        if not cache.add(lock, 1, timeout=LOCK_SECONDS):
            return None
        try:
            if self.pause_left(host) > 0:
                return None
            slot = self._take_slot(host)
            if slot is not None:
                cache.set(self._key(host, "next"), time.time() + gap, timeout=int(gap) + 60)
            return slot
        finally:
            cache.delete(lock)

    def _take_slot(self, host: str) -> str | None:
        for index in range(self.concurrency):
            key = self._key(host, f"slot{index}")
            if cache.add(key, 1, timeout=int(self.hold_seconds) + 1):
                return key
        return None


class Robots:
    """robots.txt per host (scheme, host and port), fetched once per crawl with the crawler's own user-agent.

    As RFC 9309 says: a missing file (4xx) allows everything; a server error or no answer disallows everything.
    No answer at all (a timeout, a refused connection) is tried once more first: one slow moment of a busy site
    would otherwise leave the whole crawl of it empty. `unreadable` says why a site's robots.txt could not be read.
    """

    TRIES = 2

    def __init__(self, fetcher: Fetcher, user_agent: str, deadline_for):
        self.fetcher = fetcher
        self.token = robots_token(user_agent)
        self.deadline_for = deadline_for
        self.rules: dict[str, Protego | bool] = {}
        self.unreadable: dict[str, str] = {}  # origin -> why its robots.txt could not be read
        self.busy = False  # fetching a robots.txt: its own hops are not checked against robots.txt

    def _fetch(self, origin: str):
        """The robots.txt answer, or None when none came (the reason is kept in `unreadable`)."""
        for _ in range(self.TRIES):
            try:
                return self.fetcher.get(
                    f"{origin}/robots.txt",
                    max_bytes=ROBOTS_MAX_BYTES,
                    deadline=self.deadline_for(),
                    accept="text/plain",
                )
            except Stopped:
                break
            except FetchFailed as problem:
                self.unreadable[origin] = str(problem)
        return None

    @staticmethod
    def origin_of(url: httpx.URL) -> str:
        return f"{url.scheme}://{url.netloc.decode('ascii')}"

    def _rules(self, url: httpx.URL):
        origin = self.origin_of(url)
        if origin not in self.rules:
            self.busy = True
            try:
                answer = self._fetch(origin)
            finally:
                self.busy = False
            if answer is not None and (answer.status >= 500 or answer.status == 429):
                self.unreadable[origin] = f"HTTP {answer.status}"
            if answer is None or answer.status >= 500 or answer.status == 429:
                self.rules[origin] = False
            elif answer.status >= 400:
                self.rules[origin] = True
            else:
                self.unreadable.pop(origin, None)
                self.rules[origin] = Protego.parse(answer.content.decode("utf-8", "replace"))
        return self.rules[origin]

    def allowed(self, url: httpx.URL) -> bool:
        rules = self._rules(url)
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(str(url), self.token)

    def crawl_delay(self, url: httpx.URL) -> float:
        rules = self._rules(url)
        if isinstance(rules, bool):
            return 0.0
        return min(float(rules.crawl_delay(self.token) or 0), MAX_CRAWL_DELAY)
