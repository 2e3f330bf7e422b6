"""Run the whole studio on one machine: migrate, make the demo login, start web, worker and beat.

The URL and the login are printed once all three are ready (the web answers, the worker consumes, beat
ticks), and until then ``up`` says what it waits for. Ctrl-C stops all of them. Beyond one machine use the
Procfile (gunicorn, celery worker, celery beat).
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from studio.workspaces.management.commands.demo import demo_login


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the studio (web + worker + beat) on this machine with the embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, port: int, host: str, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("demo", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
        username, password = demo_login()
        python = sys.executable
        procs = {
            "web": [
                python,
                "-m",
                "gunicorn",
                # ASGI: pages run as before, and each tab's event stream waits in the event loop, not a thread.
                "studio.asgi:application",
                "--worker-class",
                "uvicorn_worker.UvicornWorker",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
                "--graceful-timeout",
                "10",
                # Longer than the gallery's 2 s and 4 s polls: at gunicorn's default of 2 s, one poll in
                # twenty met a connection being closed under it (bench/load.py).
                "--keep-alive",
                "5",
                # No gunicorn access log: studio.logs.AccessLogMiddleware writes the lines worth reading.
                "--log-level",
                "warning",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "studio",
                "--quiet",  # no banner: the URL and the login are what a person needs to see
                "worker",
                "--beat",
                "--loglevel",
                "warning",
                "--concurrency",
                "2",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        # SIGTERM (a service manager, `timeout`) stops everything the same way as Ctrl-C does; and Ctrl-C
        # works even when the shell that started us ignored SIGINT (as it does for `cmd &` without job
        # control, an ignored signal being inherited through exec).
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        ready_dir = Path(tempfile.mkdtemp(prefix="studio-up-"))
        env = {**os.environ, "STUDIO_READY_DIR": str(ready_dir)}
        self.stdout.write("Starting web, worker and beat…")
        running = {
            name: subprocess.Popen(cmd, start_new_session=True, env=env) for name, cmd in procs.items()
        }
        url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"  # noqa: S104
        login_page = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/accounts/login/"  # noqa: S104
        checks = {
            "web": lambda: _answers(login_page),
            "worker": lambda: (ready_dir / "worker").exists(),
            "beat": lambda: (ready_dir / "beat").exists(),
        }
        failed = ""
        try:
            if self._wait_until_ready(checks, running):
                self.stdout.write(self.style.SUCCESS(f"\nStudio is running at {url}"))
                self.stdout.write(
                    f"Log in as {username} / {password}   (Ctrl-C stops web, worker and beat)\n"
                )
                while all(p.poll() is None for p in running.values()):
                    time.sleep(0.5)
            dead = [name for name, p in running.items() if p.poll() is not None]
            failed = f"{', '.join(dead)} stopped; stopping the rest."
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            for p in running.values():
                if p.poll() is None:
                    p.terminate()  # the main process stops its own children (warm shutdown)
            deadline = time.monotonic() + 15
            for p in running.values():
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
            for p in running.values():  # nothing may outlive `up`, not even an orphaned pool process
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
            shutil.rmtree(ready_dir, ignore_errors=True)
        if failed:
            raise CommandError(failed)

    def _wait_until_ready(self, checks: dict, running: dict) -> bool:
        """Wait for every part, saying which are ready and what is still awaited; False if one stopped."""
        started = time.monotonic()
        waiting = dict(checks)
        said_at = started
        while waiting:
            for name, ready in list(waiting.items()):
                if ready():
                    del waiting[name]
                    self.stdout.write(f"  {name} ready ({time.monotonic() - started:.1f} s)")
            if any(p.poll() is not None for p in running.values()):
                return False
            if waiting and time.monotonic() - said_at >= 10:
                self.stdout.write(f"  still waiting for {' and '.join(waiting)}…")
                said_at = time.monotonic()
            time.sleep(0.2)
        return True


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
