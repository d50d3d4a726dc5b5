"""gunicorn's configuration for `photocloud serve` (`--config python:photocloud.core.web`).

The application and the models the web pages run (the sentence model for meaning search, the CNN for search by
image) are loaded once in gunicorn's master, before it forks: the workers share those pages instead of holding a
copy each, and no request waits for a model to load (bench/footprint.py). Each app may define `warm_up()` on its
AppConfig for this.
"""

import gc
import os
import signal
import sys

from photocloud.core.supervisor import die_with_parent

preload_app = True
threads = 4
timeout = 300
graceful_timeout = 10  # on stop, requests still running get this long
accesslog = "-"
control_socket_disable = True  # its default path is per user, so two instances would remove each other's
# One thread per model run in the web server: concurrency comes from gunicorn's threads, many threads per run
# spin against each other on a busy server (5 s instead of 0.2 s measured for one picture), and the OpenMP thread
# pool of a run before the fork does not survive it (the workers' first run, and their exit, would hang).
# Set before the application (and numpy's BLAS, ONNX Runtime) is imported.
os.environ["OMP_NUM_THREADS"] = os.environ["PHOTOCLOUD_VISION_THREADS"] = "1"


def when_ready(server):
    from django.apps import apps
    from django.db import connections

    for config in apps.get_app_configs():
        if warm_up := getattr(config, "warm_up", None):
            try:
                warm_up()
            except Exception:  # e.g. the database is not there yet: the site still starts, and loads on first use
                server.log.exception("Warming up %s failed", config.label)
    connections.close_all()  # a connection must not be shared with the forked workers
    # The collector would write into every object it scans, copying the shared pages into each worker: what exists
    # now lives as long as the process anyway.
    gc.freeze()


def post_fork(server, worker):
    """A worker goes when its master goes, even after a `kill -9` (the master's death signal is not inherited)."""
    die_with_parent(signal.SIGKILL, server.pid)


def worker_exit(server, worker):
    """A worker that served leaves without tearing down the objects shared with the master: that writes to each of
    them, copying every shared page first (seconds of work, and memory) for a process that is going away. (gunicorn
    also calls this in the master for a worker found gone, and a worker that failed to boot must report it.)"""
    if os.getpid() == worker.pid and worker.booted:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
