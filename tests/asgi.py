"""The web process as it runs in production (gunicorn with uvicorn workers, ``studio.asgi``), on the test's
database: the event streams need a real ASGI server (Django's live server speaks WSGI)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from tests.processes import ROOT, Processes, wait_for


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(processes: Processes, *, workers: int = 1):
    """Start the web process; returns (process, base URL) once it answers."""
    # Static files as a deployment has them (the manifest the pages' {% static %} asks), in the child's data dir.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=processes.env,
        check=True,
    )
    port = free_port()
    proc = processes.start(
        sys.executable,
        "-m",
        "gunicorn",
        "studio.asgi:application",
        "--worker-class",
        "uvicorn_worker.UvicornWorker",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--graceful-timeout",
        "10",
        name="web",
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(answers, timeout=30, what="the ASGI web process", logs=processes.logs)
    return proc, url


def session_cookie(client) -> dict:
    """The session of a test client (force_login), for a real HTTP client talking to the web process."""
    return {"sessionid": client.cookies["sessionid"].value}


def read_events(lines, *, until, timeout: float = 20) -> list[dict]:
    """Read server-sent events from ``lines`` (an iterator of text lines) until ``until(event)`` is true;
    fails after ``timeout`` seconds (heartbeats keep the connection itself alive)."""
    events, event = [], {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = next(lines)
        if line == "":
            if event:
                events.append(event)
                if until(event):
                    return events
            event = {}
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        event[key] = f"{event[key]}\n{value}" if key == "data" and key in event else value
    raise AssertionError(f"no such event in {timeout} s; heard {[e.get('event') for e in events]}")
