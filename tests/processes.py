"""Real processes beside a test: Celery workers and engine sweeps on the test's own database.

Used through the ``proc_env`` and ``processes`` fixtures (registered in tests/conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(conf['NAME']).resolve()}"
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf["PASSWORD"] else "")
    return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"


@pytest.fixture
def proc_env(transactional_db, tmp_path, settings):
    """The environment a child process needs to share this test's database, media and keys."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "STUDIO_DATA_DIR": str(tmp_path / "data"),
        "STUDIO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "STUDIO_SECRET_KEY": settings.SECRET_KEY,
        "STUDIO_SECRET_KEYS": ",".join(settings.STUDIO_SECRET_KEYS),
        "STUDIO_SWEEP_SECONDS": "0.5",
        "PYTHONUNBUFFERED": "1",
    }
    # Tests render into the data dir of the child; make the parent agree so both see the same files.
    settings.DATA_DIR = tmp_path / "data"
    (tmp_path / "data").mkdir(exist_ok=True)
    return env


class Processes:
    def __init__(self, env: dict, tmp: Path):
        self.env, self.tmp, self.procs = env, tmp, []

    def start(self, *args: str, name: str = "proc") -> subprocess.Popen:
        log = open(self.tmp / f"{name}-{len(self.procs)}.log", "wb")  # noqa: SIM115 - closed at teardown
        proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        proc.log_path = log.name
        self.procs.append(proc)
        return proc

    def worker(self, *extra: str) -> subprocess.Popen:
        return self.start(
            sys.executable,
            "-m",
            "celery",
            "-A",
            "studio",
            "worker",
            "--beat",
            "--loglevel",
            "info",
            "--concurrency",
            "2",
            "--schedule",
            str(self.tmp / "beat-schedule"),
            *extra,
            name="worker",
        )

    def manage(self, *args: str) -> subprocess.Popen:
        return self.start(sys.executable, "manage.py", *args, name=args[0])

    @staticmethod
    def kill9(proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(Path(p.log_path).read_text(errors="replace")[-3000:] for p in self.procs)


@pytest.fixture
def processes(proc_env, tmp_path):
    procs = Processes(proc_env, tmp_path)
    yield procs
    procs.stop_all()


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition", logs=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")
