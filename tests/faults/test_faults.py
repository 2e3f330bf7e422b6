"""Things going wrong while real worker processes run paid jobs against the vendor emulators.

The first line of each test's docstring names its row in the table printed at the end of the run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from studio.generations.models import Generation
from tests.processes import database_url

pytestmark = [pytest.mark.slow, pytest.mark.faults]
S = Generation.Status


# --------------------------------------------------------------------------------------------- crashes


def test_kill_9_while_submitting(fault_run):
    """kill -9 mid-submit (the vendor got it).

    The vendor has accepted the job but the worker dies before hearing so. Nobody can know whether it
    was charged, so it must never be sent again on our own: it waits for a person as 'submit unknown'."""
    vendor = fault_run.vendors["siliconflow"]
    vendor.set_faults(submit_slow={"seconds": 2.5})
    first = fault_run.worker()
    [job] = fault_run.make_jobs(1)
    fault_run.wait_until(lambda: vendor.submit_count == 1, "the vendor to accept the submit")
    assert fault_run.status(job) == S.SUBMITTING
    fault_run.processes.kill9(first)
    fault_run.worker()
    fault_run.wait_until(lambda: fault_run.status(job) == S.SUBMIT_UNKNOWN, "the lease to run out")
    time.sleep(2)  # several more sweeps: none of them may send it again
    job.refresh_from_db()
    assert job.error_code == "worker_lost" and "may or may not" in job.error_message
    fault_run.settle({S.SUBMIT_UNKNOWN: 1})


def test_kill_9_while_polling(fault_run):
    """kill -9 mid-poll.

    The worker dies while the vendor is slow to answer a status call; the row's lease runs out and the
    next worker asks again, finds the job done and stores it."""
    vendor = fault_run.vendors["siliconflow"]
    first = fault_run.worker()
    [job] = fault_run.make_jobs(1)
    fault_run.wait_until(lambda: fault_run.status(job) in (S.SUBMITTED, S.RUNNING), "the submit")
    vendor.set_faults(poll_slow={"seconds": 20})
    fault_run.wait_until(lambda: vendor.faults.poll_slow is None, "a poll to hang")
    fault_run.processes.kill9(first)
    fault_run.worker()
    fault_run.wait_for_the_end()
    job.refresh_from_db()
    assert job.attempts == 1
    fault_run.settle({S.SUCCEEDED: 1})


def test_kill_9_while_downloading(fault_run):
    """kill -9 mid-download.

    The vendor is done and the worker dies while fetching the result; the next worker fetches it again
    while the URL still works, and the row ends with one stored video."""
    vendor = fault_run.vendors["siliconflow"]
    vendor.set_faults(download_slow={"seconds": 20})
    first = fault_run.worker()
    [job] = fault_run.make_jobs(1)
    fault_run.wait_until(lambda: vendor.faults.download_slow is None, "the download to start")
    assert fault_run.status(job) == S.DOWNLOADING
    fault_run.processes.kill9(first)
    fault_run.worker()
    fault_run.wait_for_the_end()
    row = fault_run.settle({S.SUCCEEDED: 1})
    assert row["fetches"] == 2


def test_broker_restarted_during_a_run(fault_run, tmp_path):
    """Redis restarted mid-run.

    The broker only carries nudges and beat ticks: while it is down nothing is lost, and once it is back
    the same worker reconnects (kombu's own Redis transport crashed it here: studio/broker.py) and every
    job finishes."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = _free_port()
    redis = _redis(port, tmp_path)
    try:
        worker = fault_run.worker(CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")
        jobs = fault_run.make_jobs(4)
        fault_run.wait_until(
            lambda: any(fault_run.status(j) != S.QUEUED for j in jobs), "the worker to start on the jobs"
        )
        redis.kill()
        redis.wait(10)
        time.sleep(3)
        redis = _redis(port, tmp_path)
        fault_run.wait_for_the_end()
        assert worker.poll() is None, "the worker died with the broker"
    finally:
        redis.kill()
        redis.wait(10)
    fault_run.settle({S.SUCCEEDED: 4})


def test_database_connections_dropped_during_a_run(fault_run):
    """PostgreSQL sessions killed mid-run.

    Every second, every session the workers hold is terminated (a restart or failover, over and over),
    through submits, polls and downloads: each step that loses its connection is tried again on a new
    one, a vendor's acceptance is recorded through the outage, and nothing is sent twice."""
    if connection.vendor != "postgresql":
        pytest.skip("terminating the workers' sessions needs PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (ours,) = cursor.fetchone()
    fault_run.worker()
    stop, killed = threading.Event(), []

    def keep_killing() -> None:
        with psycopg.connect(database_url(), autocommit=True) as admin:
            while not stop.wait(1.0):
                found = admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
                    [ours],
                ).fetchall()
                killed.extend(found)

    killer = threading.Thread(target=keep_killing, daemon=True)
    killer.start()
    try:
        fault_run.make_jobs(4)
        fault_run.wait_for_the_end(timeout=120)
    finally:
        stop.set()
        killer.join(10)
    assert len(killed) >= 5
    fault_run.settle({S.SUCCEEDED: 4})


# ------------------------------------------------------------------------------------ vendor trouble


def test_rate_limit_storm(fault_run):
    """429 storm on submits and polls.

    Refused submits created nothing at the vendor, so they are sent again after a backoff; refused
    polls only delay the next one."""
    vendor = fault_run.vendors["siliconflow"]
    vendor.set_faults(submit_429=8, poll_429=8)
    fault_run.worker()
    fault_run.make_jobs(4)
    fault_run.wait_for_the_end()
    assert vendor.faults.submit_429 is None and vendor.faults.poll_429 is None
    fault_run.settle({S.SUCCEEDED: 4})


def test_server_errors(fault_run):
    """5xx on submits and polls.

    No 5xx on a submit proves that no task was made, not even a 503 or a 500 with the vendor's own body
    (here one of them hides an accepted task): those jobs wait for a person and nothing is sent twice.
    Every 5xx on a status call only delays the job."""
    vendor = fault_run.vendors["jiekou"]
    vendor.set_faults(
        submit_503=1,
        submit_500={"times": 1, "accepted": True},
        poll_500=1,
        poll_502=1,
        poll_503=1,
        poll_504=1,
    )
    fault_run.worker()
    fault_run.make_jobs(3, vendor="jiekou")
    fault_run.wait_for_the_end()
    assert not vendor.faults.active()
    fault_run.settle({S.SUCCEEDED: 1, S.SUBMIT_UNKNOWN: 2})
    assert vendor.submit_count == 2  # the job behind the 500, and the one that went through


def test_gateway_error_after_acceptance(fault_run):
    """502 after the vendor accepted.

    A gateway error without the vendor's body may hide an accepted (paid) task: that job waits for a
    person, and the others finish."""
    vendor = fault_run.vendors["siliconflow"]
    vendor.set_faults(submit_502={"times": 1, "accepted": True})
    fault_run.worker()
    fault_run.make_jobs(3)
    fault_run.wait_for_the_end()
    fault_run.settle({S.SUCCEEDED: 2, S.SUBMIT_UNKNOWN: 1})


def test_hanging_submit(fault_run):
    """Hanging submit.

    The vendor takes the job and never answers; our timeout (3 s here) ends the wait and the job waits
    for a person instead of being sent again."""
    vendor = fault_run.vendors["siliconflow"]
    vendor.set_faults(submit_hang={"times": 1, "seconds": 30})
    fault_run.worker()
    fault_run.make_jobs(2)
    fault_run.wait_for_the_end()
    unknown = Generation.objects.get(status=S.SUBMIT_UNKNOWN)
    assert unknown.error_code == "timeout", unknown.error_message
    fault_run.settle({S.SUCCEEDED: 1, S.SUBMIT_UNKNOWN: 1})


def test_malformed_bodies(fault_run):
    """Malformed JSON from submits and polls.

    A broken answer to a submit may hide an accepted task (it waits for a person); broken answers to
    status calls are asked again."""
    vendor = fault_run.vendors["siliconflow"]
    vendor.set_faults(submit_malformed=1, poll_malformed=4)
    fault_run.worker()
    fault_run.make_jobs(3)
    fault_run.wait_for_the_end()
    assert vendor.faults.poll_malformed is None
    fault_run.settle({S.SUCCEEDED: 2, S.SUBMIT_UNKNOWN: 1})


def test_results_that_expire_after_the_first_download(fault_run):
    """Result URLs that work once.

    Each vendor URL serves one download; we fetch each exactly once and serve our own copy after."""
    vendor = fault_run.vendors["siliconflow"]
    vendor.set_faults(result_once=3)
    fault_run.worker()
    fault_run.make_jobs(3)
    fault_run.wait_for_the_end()
    row = fault_run.settle({S.SUCCEEDED: 3})
    assert row["fetches"] == 3


def test_disk_full_while_saving_results(fault_run, settings):
    """Disk full while saving (URLs work once).

    The media volume is full when the results arrive and each vendor URL works only once. The fetched
    files wait on our side; the jobs keep retrying the save and succeed once space is freed, without
    going back to the vendor."""
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(media)], check=False)
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs as the media volume needs root")
    try:
        filler = _fill(media)
        vendor = fault_run.vendors["siliconflow"]
        vendor.set_faults(result_once=2)
        fault_run.worker()
        jobs = fault_run.make_jobs(2)
        fault_run.wait_until(
            lambda: (
                all(
                    "No space left" in Generation.objects.get(pk=j.pk).error_message
                    for j in jobs
                    if Generation.objects.get(pk=j.pk).status == S.DOWNLOADING
                )
                and all(fault_run.status(j) == S.DOWNLOADING for j in jobs)
            ),
            "both saves to hit the full disk",
        )
        time.sleep(1)  # more retries against the full disk
        filler.unlink()
        fault_run.wait_for_the_end()
        row = fault_run.settle({S.SUCCEEDED: 2})
        assert row["fetches"] == 2
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)


# ------------------------------------------------------------------------------------------- helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis(port: int, tmp_path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("redis-server did not start")


def _fill(volume: Path) -> Path:
    """Take every free byte of ``volume``; deleting the returned file gives them back."""
    filler = volume / "filler.bin"
    with open(filler, "wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 65536)
    os.sync()
    return filler
