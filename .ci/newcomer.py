#!/usr/bin/env python3
"""The README's first command, as a newcomer runs it, proved end to end.

In a copy of this checkout (its tracked and new files: what a clone of the commit holds) the README's
first bash block runs verbatim: a venv made exactly its way, with no test extra, then ``manage.py up`` on
a free port. Then, from outside, as a person would:
  - the URL and the login are printed, and the URL answers at once (up says "ready" only when it is);
  - the printed login logs in, and a local text-to-video job is submitted through the project's form;
  - the job succeeds through the running worker and beat, and its video is a real MP4;
  - everything stays up for 30 s with no traceback in the output;
  - SIGINT (Ctrl-C) stops web, worker and beat cleanly, leaving no process behind.

Standard library only: it runs with the machine's python3, before any venv exists. Prints the seconds
from the command's start to a served URL. Exit 0 when all of it holds, 1 otherwise.

    python3 .ci/newcomer.py [--keep] [--cold]     # --cold: an empty pip cache (a first install)
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAY_UP = 30  # seconds the studio must run without a traceback
INSTALL_TIMEOUT = 900  # the venv and pip install, before the URL
JOB_TIMEOUT = 180


def readme_first_command() -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    command = blocks[0].strip()
    if "manage.py up" not in command:
        sys.exit(f"The README's first command does not run the studio: {command!r}")
    return command


def copy_checkout(target: Path) -> None:
    """The files a clone would hold (tracked, plus new ones not ignored), at their current content."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        name = raw.decode()
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, forms."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, bytes]:
        with self.opener.open(urllib.parse.urljoin(self.base, path), timeout=30) as r:
            return r.status, r.url, r.read()

    def post(self, path: str, fields: dict[str, str], referer: str) -> tuple[int, str, bytes]:
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(urllib.parse.urljoin(self.base, path), data=data)
        request.add_header("Referer", referer)
        with self.opener.open(request, timeout=60) as r:
            return r.status, r.url, r.read()


def csrf(html: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not found:
        raise AssertionError("no CSRF token on the page")
    return found.group(1)


class Run:
    def __init__(self, keep: bool, cold: bool):
        self.keep = keep
        self.cold = cold
        self.tmp = Path(tempfile.mkdtemp(prefix="studio-newcomer-"))
        self.repo = self.tmp / "studio"
        self.log = self.tmp / "up.log"
        self.proc: subprocess.Popen | None = None
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
        if not ok:
            self.failures.append(what)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def start(self, command: str, port: int) -> float:
        self.repo.mkdir()
        copy_checkout(self.repo)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DATABASE_", "CELERY_"))}
        env.update(PORT=str(port), PYTHONUNBUFFERED="1")
        env.pop("VIRTUAL_ENV", None)
        if self.cold:
            env["PIP_CACHE_DIR"] = str(self.tmp / "pip-cache")
        print(f"== {command}\n   in {self.repo}, port {port}", flush=True)
        started = time.monotonic()
        self.proc = subprocess.Popen(  # the README's own command line, through bash as a person types it
            command,
            shell=True,
            executable="/bin/bash",
            cwd=self.repo,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        return started

    def wait_for_login(self, started: float) -> tuple[str, str, str, float] | None:
        deadline = started + INSTALL_TIMEOUT
        while time.monotonic() < deadline:
            text = self.output()
            url = re.search(r"Studio is running at (\S+)", text)
            login = re.search(r"Log in as (\S+) / (\S+)", text)
            if url and login:
                return url.group(1), login.group(1), login.group(2), time.monotonic() - started
            if self.proc.poll() is not None:
                return None
            time.sleep(0.2)
        return None

    def journey(self, url: str, username: str, password: str) -> None:
        browser = Browser(url)
        status, _, _ = browser.get("/")
        self.check(status == 200, f"the printed URL answers at once ({status})")
        _, login_url, body = browser.get("/accounts/login/")
        status, landed, body = browser.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": csrf(body.decode()), "username": username, "password": password},
            login_url,
        )
        page = body.decode()
        self.check("/accounts/login/" not in landed, f"the printed login logs in (landed on {landed})")
        projects = re.findall(r'href="(/w/[\w-]+/p/[\w-]+/)"', page)
        if not projects:
            _, _, body = browser.get("/w/demo/")
            projects = re.findall(r'href="(/w/[\w-]+/p/[\w-]+/)"', body.decode())
        self.check(bool(projects), "the workspace lists a project")
        if not projects:
            return
        project = projects[0]
        _, project_url, body = browser.get(project)
        page = body.decode()
        action = re.search(r'action="([^"]+)"[^>]*id="generation-form"', page) or re.search(
            r'id="generation-form"[^>]*action="([^"]+)"', page
        )
        self.check(action is not None, "the project page has the job form")
        if action is None:
            return
        submitted = time.monotonic()
        status, landed, body = browser.post(
            action.group(1),
            {
                "csrfmiddlewaretoken": csrf(page),
                "model": "local:preview-t2v",
                "prompt": "A paper lantern drifts over a night lake.",
                "duration": "2",
            },
            project_url,
        )
        ids = re.findall(r'<article id="generation-([\w-]+)"', body.decode())
        self.check(bool(ids) and landed.rstrip("/").endswith(project.rstrip("/")), "the job is made")
        if not ids:
            return
        card = f"{project.split('/p/')[0]}/g/{ids[0]}/card/"
        state = ""
        while time.monotonic() - submitted < JOB_TIMEOUT:
            _, _, body = browser.get(card)
            state = re.search(r'data-status="(\w+)"', body.decode()).group(1)
            if state in ("succeeded", "failed", "canceled", "submit_unknown"):
                break
            time.sleep(0.5)
        seconds = time.monotonic() - submitted
        self.check(state == "succeeded", f"the job {state} through the worker and beat in {seconds:.1f} s")
        if state == "succeeded":
            _, _, video = browser.get(f"{project.split('/p/')[0]}/g/{ids[0]}/video.mp4")
            self.check(video[4:8] == b"ftyp", f"its video is an MP4 ({len(video)} bytes)")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            code = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            code = None
        self.check(code == 0, f"Ctrl-C stops it, exit status {code}")
        time.sleep(1)
        left = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if str(self.repo) in cmdline:
                    left.append(f"{entry.name}: {cmdline[:120]}")
        self.check(not left, "no process is left behind" + (f": {left}" if left else ""))

    def main(self) -> int:
        command = readme_first_command()
        port = free_port()
        started = self.start(command, port)
        try:
            found = self.wait_for_login(started)
            self.check(found is not None, "up prints the URL and the login")
            if found is None:
                return 1
            url, username, password, seconds = found
            print(
                f"   {seconds:.1f} s from the command to a served URL ({'cold' if self.cold else 'warm'} pip cache)"
            )
            ready_at = time.monotonic()
            self.journey(url, username, password)
            time.sleep(max(0.0, STAY_UP - (time.monotonic() - ready_at)))
            self.check(self.proc.poll() is None, f"web, worker and beat stay up for {STAY_UP} s")
            self.check("Traceback" not in self.output(), "no traceback in the output")
            if self.proc.poll() is None:
                self.stop()
        finally:
            if self.proc and self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
            if self.failures:
                print("---- what up printed ----\n" + self.output()[-6000:])
            if self.keep:
                print(f"   kept {self.tmp}")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        print(
            f"== newcomer check: {'passed' if not self.failures else 'FAILED: ' + '; '.join(self.failures)}"
        )
        return 1 if self.failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the copy, its venv and its log")
    parser.add_argument("--cold", action="store_true", help="install with an empty pip cache")
    args = parser.parse_args()
    sys.exit(Run(args.keep, args.cold).main())
