"""The app under real gunicorn workers, for tests about several processes (shared rate limits,
a worker killed mid-burst)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# How long a test waits for a server before calling it hung. A guard against a hang, never a
# speed requirement: a busy shared machine may be slow, and a test must not fail for it.
PATIENCE = 120


@contextmanager
def gunicorn_serving(settings: dict, workers: int, production_config: bool = True):
    """gunicorn with `workers` processes and the app configured by `settings` (environment
    variables); yields (base URL, the master process) once /healthz answers, stops it after."""
    port = free_port()
    config = ["-c", "deploy/gunicorn.conf.py"] if production_config else []
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), *config, "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "wsgi:app"],
        cwd=PROJECT_ROOT, env={**os.environ, **settings}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except OSError:  # not listening yet
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("gunicorn did not start: " + server.stderr.read().decode()[-2000:])
    try:
        yield base, server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
