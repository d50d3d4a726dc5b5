"""The supervisor behind `photocloud serve`, on real processes (tests/test_server.py runs the whole server)."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from photocloud.core.supervisor import PortTaken, listen

SUPERVISE = textwrap.dedent(
    """
    import logging, sys
    from photocloud.core.supervisor import Child, Supervisor
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print("started", flush=True)
    Supervisor([Child("child", [sys.executable, "-c", sys.argv[1]])]).run()
    """
)


def supervise(child_code: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", SUPERVISE, child_code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "started\n"
    return process


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return "Z" not in open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]


def test_a_child_that_keeps_exiting_is_started_again_with_a_growing_back_off():
    process = supervise("import sys; sys.exit(3)")
    time.sleep(4.5)
    process.send_signal(signal.SIGTERM)
    _, log = process.communicate(timeout=30)
    assert process.returncode == 0
    waits = [line.rsplit(" in ", 1)[1] for line in log.splitlines() if line.startswith("The child stopped")]
    assert waits[:3] == ["1 s.", "2 s.", "4 s."], log
    assert "exit code 3" in log


def test_the_children_die_with_a_killed_supervisor(tmp_path):
    pid_file = tmp_path / "child"
    process = supervise(f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)")
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    assert alive(child)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 5
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_a_taken_port_is_said_clearly():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortTaken, match=f"Cannot listen on 127.0.0.1:{port}: Address already in use"):
            listen("127.0.0.1", port)
    listen("127.0.0.1", port).close()  # free again
