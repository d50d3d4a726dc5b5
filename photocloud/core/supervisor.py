"""Runs Photocloud's processes and keeps them running (`photocloud serve`): a child that exits is started again
after a back-off, so one dead worker is never an outage, and the children never outlive the supervisor.

Each child runs in its own process group (a Ctrl-C reaches only the supervisor, which stops them in order, and a
stop reaches the child's own children too) and, on Linux, asks the kernel for a signal when the supervisor dies
(PR_SET_PDEATHSIG), so even a `kill -9` of `serve` leaves no process holding the port or the queue.

No Django here and no model: the supervisor stays small (bench/footprint.py).
"""

import ctypes
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
FIRST_BACKOFF, MAX_BACKOFF = 1.0, 60.0  # seconds before a restart, doubling while the child keeps dying young
STEADY_SECONDS = 60  # a child that ran this long before it exited is restarted at once
STOP_SECONDS = 20  # a child asked to stop is killed after this long


def die_with_parent(sig: int = signal.SIGKILL, parent: int | None = None) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies (Linux; elsewhere nothing). With `parent`
    given, a parent that died before the request was made ends this process at once."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


class PortTaken(Exception):
    pass


def listen(host: str, port: int) -> socket.socket:
    """The web server's listening socket, made here so that a port already taken is said clearly before anything
    starts, and so that it stays open (connections wait in its backlog) while the web server is restarted."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        raise PortTaken(
            f"Cannot listen on {host}:{port}: {error.strerror}. Is Photocloud already running? Stop it, "
            "or choose another port with --port or PHOTOCLOUD_PORT."
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@dataclass
class Child:
    """One supervised process: `argv` started again whenever it exits, until the supervisor stops."""

    name: str
    argv: list[str]
    death_signal: int = signal.SIGKILL  # what the kernel sends it if the supervisor dies
    pass_fds: tuple[int, ...] = ()
    on_exit: Callable[["Child"], None] | None = None  # told after each unexpected exit
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = 0.0
    restart_at: float = field(default=0.0)

    def start(self) -> None:
        parent = os.getpid()
        self.process = subprocess.Popen(
            self.argv,
            pass_fds=self.pass_fds,
            start_new_session=True,
            preexec_fn=functools.partial(die_with_parent, self.death_signal, parent),
        )
        self.started_at = time.monotonic()

    def signal_group(self, sig: int) -> None:
        if self.process is not None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)


class Supervisor:
    """Starts the children, restarts those that exit (with back-off) and runs `ticks`, each `(seconds, callable)`,
    about every so many seconds, until SIGTERM or SIGINT; then stops the children, each with its own children."""

    def __init__(self, children: list[Child], ticks: list[tuple[float, Callable[[], None]]] = ()):
        self.children = children
        self.ticks = [[seconds, action, time.monotonic() + seconds] for seconds, action in ticks]
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for child in self.children:
            child.start()
        try:
            while not self.stopping:
                time.sleep(0.2)
                self._watch(time.monotonic())
        finally:
            self._stop_children()

    def _stop(self, *_) -> None:
        self.stopping = True

    def _watch(self, now: float) -> None:
        for child in self.children:
            if child.process is None:
                if now >= child.restart_at and not self.stopping:
                    logger.warning("Starting the %s again.", child.name)
                    child.start()
                continue
            code = child.process.poll()
            if code is None or self.stopping:
                continue
            child.signal_group(signal.SIGKILL)  # whatever it started goes with it
            young = now - child.started_at < STEADY_SECONDS
            child.backoff = min(MAX_BACKOFF, child.backoff * 2 or FIRST_BACKOFF) if young else 0.0
            child.process, child.restart_at = None, now + child.backoff
            logger.error("The %s stopped (exit code %s); starting it again in %.0f s.", child.name, code, child.backoff)
            if child.on_exit:
                self._safely(child.on_exit, child)
        for tick in self.ticks:
            if now >= tick[2] and not self.stopping:
                self._safely(tick[1])
                tick[2] = time.monotonic() + tick[0]

    @staticmethod
    def _safely(action, *args) -> None:
        try:
            action(*args)
        except Exception:  # the database may be down for a moment: the site stays up, the next tick tries again
            logger.exception("Supervisor task %s failed", getattr(action, "__name__", action))

    def _stop_children(self) -> None:
        running = [child for child in self.children if child.process is not None]
        for child in running:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in running:
            with suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            child.signal_group(signal.SIGKILL)
