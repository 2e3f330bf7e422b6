"""Scale-out: two Celery workers on Redis + PostgreSQL share 1,000 jobs in flight, and submit each once.

Conditions: a throwaway PostgreSQL database (``bench_workers_<pid>``, created and dropped here), a dedicated
Redis database as the broker (flushed at start and end), a temporary data and media directory, one loopback
SiliconFlow emulator in this process (each job takes ``--task-seconds`` at the "vendor", longer than it
takes to submit them all, so every job is at the vendor at once; results are real 1280x720 MP4s fetched
through the guarded fetcher), ``--workers`` Celery workers (``celery -A studio worker``, prefork,
``--concurrency`` children each) and exactly one ``celery beat`` (as the Procfile runs them) ticking the
sweeper every ``--sweep-seconds``. Once the workers are ready, the jobs arrive at once: rows written as
``services.create_generation`` writes them, in three bulk inserts. By default no per-job nudge is sent, so
every sweeping process races for every queued row (the hardest case for the submit claim); ``--nudge``
adds the service's one broker message per job.

What it measures, and how it knows:
- who won each claim: a trigger in the throwaway database (not in the product) logs every submit claim
  (``attempts`` went up) and every poll claim (``polls`` went up) with the ``application_name`` of the
  connection that won it; each worker connects under its node name. The sweeper's own reports (the
  return dicts Celery logs: "Task ...sweep_task[...] succeeded in ...s: {...}") are parsed as a cross-check;
- duplicates: accepted submits at the emulator per job (each prompt is unique) and in total; every row's
  ``attempts == 1``; distinct ``external_id``s; result downloads per result file;
- lost: rows not finished at the end (or unconfirmed), and vendor tasks no row points at;
- peaks, sampled every 0.25 s: jobs in flight at the vendor (emulator tasks queued or running), rows
  submitting/submitted/running/downloading, jobs the vendor has finished that are not stored yet; the
  emulator's answer time to a trivial request (is the vendor side keeping up?);
- submit_to_stored p50/p95 (vendor accepted -> row succeeded, the vendor's own time included) and
  vendor_done_to_stored p50/p95 (vendor finished -> row succeeded: poll cadence, download, probe, poster,
  store); CPU seconds per worker; PostgreSQL sessions opened; the machine's busy share and load average
  (other work on the machine shows there).

Prints ``name value unit`` lines, then a table per worker. Exits 1 on any duplicate, lost or failed job.

    .venv/bin/python bench/workers.py [--jobs 1000] [--task-seconds 60] [--workers 2] [--concurrency 1]
        [--nudge] [--database-url postgres://postgres@127.0.0.1:5432/postgres]
        [--broker-url redis://127.0.0.1:6379/7] [--keep-logs]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODEL = "Wan-AI/Wan2.2-T2V-A14B"
SIZE = "1280x720"
API_KEY = "test-key"
TICKS = os.sysconf("SC_CLK_TCK")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument(
        "--task-seconds", type=float, default=60.0, help="how long each job takes at the vendor"
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes (one beat besides)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="prefork children per worker (each already runs the sweeper's threads; on 2 cores a second "
        "child adds racers for the same rows, not capacity)",
    )
    parser.add_argument("--sweep-seconds", type=float, default=1.0, help="STUDIO_SWEEP_SECONDS (beat tick)")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for every job to finish"
    )
    parser.add_argument(
        "--nudge",
        action="store_true",
        help="also nudge the broker once per job, as the service does (each nudge reaches one worker, and "
        "during the burst the sweeper's ticks expire behind the nudges); default: the sweeper finds the rows",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the work directory with the logs")
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server's maintenance database; bench_workers_<pid> is made beside it and dropped",
    )
    parser.add_argument(
        "--broker-url",
        default="redis://127.0.0.1:6379/7",
        help="a Redis database for this bench alone: it is flushed at start and end",
    )
    return parser.parse_args()


ARGS = parse()
WORK = Path(tempfile.mkdtemp(prefix="bench-workers-"))
DB_NAME = f"bench_workers_{os.getpid()}"


def database_url(name: str, app: str) -> str:
    """ARGS.database_url with the database ``name``, connecting as ``application_name=app``."""
    parts = urlsplit(ARGS.database_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", f"application_name={app}", ""))


os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": database_url(DB_NAME, "bench"),
        "CELERY_BROKER_URL": ARGS.broker_url,
        "STUDIO_DATA_DIR": str(WORK / "data"),
        "STUDIO_MEDIA_ROOT": str(WORK / "media"),
        "STUDIO_SWEEP_SECONDS": str(ARGS.sweep_seconds),
        "STUDIO_FETCH_ALLOW_PRIVATE": "true",  # the emulator's result files are on loopback
        "STUDIO_STORAGE": "local",
        "SILICONFLOW_API_KEY": API_KEY,
        "PYTHONUNBUFFERED": "1",
    }
)

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from studio.generations import services  # noqa: E402
from studio.generations.models import Generation  # noqa: E402
from studio.generations.recipe import Recipe  # noqa: E402
from studio.generations.tasks import submit_generation_task  # noqa: E402
from studio.projects.models import Project  # noqa: E402
from studio.prompts.models import Prompt  # noqa: E402
from studio.providers.emulators import Emulator, start_emulator  # noqa: E402
from studio.workspaces.models import Activity, Membership, Workspace  # noqa: E402

S = Generation.Status
IN_FLIGHT = (S.SUBMITTING, S.SUBMITTED, S.RUNNING, S.DOWNLOADING)

# Bench instrumentation in the throwaway database only: who won each claim, by connection name.
CLAIM_LOG_SQL = """
CREATE TABLE bench_claims (
    id bigserial PRIMARY KEY,
    generation_id bigint NOT NULL,
    kind text NOT NULL,
    app text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION bench_log_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.attempts > OLD.attempts THEN
        INSERT INTO bench_claims (generation_id, kind, app)
        VALUES (NEW.id, 'submit', current_setting('application_name'));
    END IF;
    IF NEW.polls > OLD.polls THEN
        INSERT INTO bench_claims (generation_id, kind, app)
        VALUES (NEW.id, 'poll', current_setting('application_name'));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_log_claim AFTER UPDATE ON generations_generation FOR EACH ROW
    WHEN (NEW.attempts > OLD.attempts OR NEW.polls > OLD.polls) EXECUTE FUNCTION bench_log_claim();
"""

SWEEP_LINE = re.compile(r"sweep_task\[[^\]]+\] succeeded in ([\d.e-]+)s: (\{.*\})")
DISCARDED_LINE = re.compile(r"Discarding revoked task: studio\.generations\.tasks\.sweep_task")
NUDGE_LINE = re.compile(r"submit_generation_task\[[^\]]+\] succeeded in ")


# ----------------------------------------------------------------------------------------- processes


@dataclass
class Child:
    """A process this bench started in its own session (so its whole group can be signalled)."""

    name: str
    proc: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def child_env(app: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(DB_NAME, app),
        "STUDIO_SECRET_KEY": settings.SECRET_KEY,
        "STUDIO_SECRET_KEYS": ",".join(settings.STUDIO_SECRET_KEYS),
    }


def start_child(name: str, *args: str) -> Child:
    log = WORK / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "studio", *args],
            cwd=ROOT,
            env=child_env(name),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Child(name, proc, log)


def start_worker(name: str) -> Child:
    return start_child(
        name, "worker", "-n", f"{name}@%h", "--concurrency", str(ARGS.concurrency), "--loglevel", "info"
    )


def start_beat() -> Child:
    return start_child("beat", "beat", "--loglevel", "info", "--schedule", str(WORK / "beat-schedule"))


def wait_ready(children: list[Child], timeout: float = 120.0) -> None:
    """Until every worker says "ready." and beat has started; raises if one dies or it takes too long."""
    deadline = time.monotonic() + timeout
    for child in children:
        marker = "beat: Starting" if child.name == "beat" else " ready."
        while marker not in child.text():
            if child.proc.poll() is not None:
                raise RuntimeError(
                    f"{child.name} exited with {child.proc.returncode}:\n{child.text()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"{child.name} not ready after {timeout:.0f}s:\n{child.text()[-3000:]}")
            time.sleep(0.2)


def stop_children(children: list[Child], grace: float = 30.0) -> None:
    """SIGTERM each leader (Celery's warm shutdown lets running tasks finish), then SIGKILL each group."""
    for child in children:
        if child.proc.poll() is None:
            child.proc.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)  # the leader if it hung, and any straggler of its group
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.proc.wait(10)


def cpu_seconds(session: int) -> float:
    """User + system CPU of every live process in a session (the leader's includes its reaped children)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / TICKS


def machine_busy() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# ------------------------------------------------------------------------------------ database, broker


def maintenance(sql: str) -> None:
    with psycopg.connect(ARGS.database_url, autocommit=True) as conn:
        conn.execute(sql)


def check_connections() -> None:
    """Each prefork child may hold one connection per sweep thread plus its own; refuse to start short."""
    need = ARGS.workers * ARGS.concurrency * (settings.STUDIO_SWEEP_THREADS + 1) + 10
    with psycopg.connect(ARGS.database_url) as conn:
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])
        used = int(conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0])
    if need > limit - used:
        raise SystemExit(f"need up to {need} PostgreSQL connections; {limit - used} of {limit} are free")


def create_database() -> None:
    maintenance(f'CREATE DATABASE "{DB_NAME}"')
    call_command("migrate", verbosity=0)
    with connection.cursor() as cur:
        cur.execute(CLAIM_LOG_SQL)


def database_sessions() -> int:
    """Connections ever opened to the bench database (each sweep step opens its own)."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cur.fetchone()[0])


def drop_database() -> None:
    connections.close_all()
    maintenance(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def flush_broker() -> None:
    client = redis.Redis.from_url(ARGS.broker_url)
    try:
        client.flushdb()
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------- jobs


def create_jobs(count: int) -> None:
    """``count`` queued SiliconFlow t2v jobs, written as ``services.create_generation`` writes them.

    The recipe is validated by the service's own ``validate_job`` (the jobs differ only in prompt text), and
    the rows go in with three bulk inserts in one transaction (prompt, generation, activity, as the service
    makes them), so 1,000 jobs arrive within a second or two while the workers run. With ``--nudge`` each is
    then nudged with ``submit_generation_task.delay``, as the service's on-commit hook does.
    """
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    workspace = Workspace.objects.create(slug="bench", name="Bench")
    Membership.objects.create(workspace=workspace, user=user, role="owner")
    project = Project.objects.create(workspace=workspace, name="Scale-out", created_by=user)
    texts = [f"a paper boat drifting on a pond at dawn, bench job {i}" for i in range(count)]
    recipe = Recipe(provider="siliconflow", model=MODEL, prompt=texts[0], size=SIZE)
    clean = services.validate_job(recipe)
    with transaction.atomic():
        prompts = Prompt.objects.bulk_create(
            Prompt(workspace=workspace, project=project, author=user, text=text) for text in texts
        )
        now = timezone.now()
        generations = Generation.objects.bulk_create(
            Generation(
                workspace=workspace,
                project=project,
                prompt=prompt,
                created_by=user,
                provider=clean.provider,
                model=clean.model,
                task=clean.task,
                size=clean.size or "",
                resolution=clean.resolution or "",
                duration=clean.duration,
                seed=clean.seed,
                params=clean.params,
                recipe=recipe.asked(),
                warnings=clean.warnings,
                next_poll_at=now,
            )
            for prompt in prompts
        )
        Activity.objects.bulk_create(
            Activity(
                workspace=workspace,
                actor=user,
                verb=Activity.Verb.GENERATED,
                summary=generation.prompt.text[:120],
                generation=generation,
                project=project,
            )
            for generation in generations
        )
    if ARGS.nudge:
        for generation in generations:
            submit_generation_task.delay(generation.pk)


@dataclass
class Peaks:
    vendor: int = 0
    database: int = 0
    backlog: int = 0
    emulator_ms: list[float] = field(default_factory=list)


def vendor_phases(emulator: Emulator) -> Counter[str]:
    now = time.monotonic()
    return Counter(task.phase(now) for task in emulator.tasks.values())


def emulator_latency(client: httpx.Client, emulator: Emulator) -> float:
    """Milliseconds for the emulator to answer a trivial request (its 404), while it serves the workers."""
    began = time.perf_counter()
    client.get(f"{emulator.origin}/bench-probe")
    return (time.perf_counter() - began) * 1000


def sample(emulator: Emulator, peaks: Peaks, client: httpx.Client) -> dict[str, int]:
    """One sample of the vendor and the database; returns the rows per status."""
    by_status = dict(Generation.objects.values_list("status").annotate(n=Count("id")).order_by())
    phases = vendor_phases(emulator)
    peaks.vendor = max(peaks.vendor, phases["queued"] + phases["running"])
    peaks.database = max(peaks.database, sum(by_status.get(s, 0) for s in IN_FLIGHT))
    peaks.backlog = max(peaks.backlog, phases["succeeded"] - by_status.get(S.SUCCEEDED, 0))
    peaks.emulator_ms.append(emulator_latency(client, emulator))
    return by_status


def wait_finished(emulator: Emulator, peaks: Peaks, children: list[Child], jobs: int) -> bool:
    """Sample until every row is finished (or unconfirmed); False on timeout or a dead worker."""
    deadline = time.monotonic() + ARGS.timeout
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            by_status = sample(emulator, peaks, client)
            done = sum(by_status.get(s, 0) for s in Generation.SETTLED)
            if done >= jobs:
                return True
            dead = [c.name for c in children if c.proc.poll() is not None]
            if dead:
                print(f"# died during the run: {', '.join(dead)}")
                return False
            time.sleep(0.25)
    print(f"# gave up after {ARGS.timeout:.0f}s")
    return False


# ------------------------------------------------------------------------------------------- results


@dataclass
class WorkerShare:
    name: str
    submit_claims: int = 0
    poll_claims: int = 0
    sweeps: int = 0
    sweep_seconds: list[float] = field(default_factory=list)
    ticks_discarded: int = 0
    sweep_submitted: int = 0
    sweep_polled: int = 0
    sweep_errors: int = 0
    nudges: int = 0
    cpu: float = 0.0


@dataclass
class Verdict:
    duplicates: int = 0
    lost: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)


def claims_by_app() -> dict[tuple[str, str], int]:
    with connection.cursor() as cur:
        cur.execute("SELECT app, kind, count(*) FROM bench_claims GROUP BY app, kind")
        return {(app, kind): n for app, kind, n in cur.fetchall()}


def read_log(share: WorkerShare, text: str) -> None:
    for match in SWEEP_LINE.finditer(text):
        report = ast.literal_eval(match.group(2))
        share.sweeps += 1
        share.sweep_seconds.append(float(match.group(1)))
        share.sweep_submitted += report["submitted"]
        share.sweep_polled += report["polled"]
        share.sweep_errors += report["errors"]
    share.nudges = len(NUDGE_LINE.findall(text))
    share.ticks_discarded = len(DISCARDED_LINE.findall(text))


def shares(workers: list[Child], cpu: dict[str, float]) -> list[WorkerShare]:
    claims = claims_by_app()
    out = []
    for worker in workers:
        share = WorkerShare(worker.name, cpu=cpu.get(worker.name, 0.0))
        share.submit_claims = claims.get((worker.name, "submit"), 0)
        share.poll_claims = claims.get((worker.name, "poll"), 0)
        read_log(share, worker.text())
        out.append(share)
    stray = {k: n for k, n in claims.items() if k[0] not in {w.name for w in workers}}
    if stray:
        print(f"# claims won outside the workers: {stray}")
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def check_jobs(emulator: Emulator, jobs: int, verdict: Verdict) -> None:
    """Duplicates and losses, from the vendor's side and the database's."""
    rows = list(
        Generation.objects.values_list("status", "attempts", "external_id", "submitted_at", "finished_at")
    )
    by_status = Counter(r[0] for r in rows)
    prompts = Counter(body.get("prompt") for body in emulator.submits)
    vendor_dupes = sum(n - 1 for n in prompts.values() if n > 1)
    externals = [r[2] for r in rows if r[2]]
    downloads = Counter(
        path.split("?")[0] for method, path, _h, _b in emulator.requests if path.startswith("/_files/")
    )
    orphans = set(emulator.tasks) - set(externals)
    verdict.failed = by_status.get(S.FAILED, 0) + by_status.get(S.CANCELED, 0)
    verdict.lost = jobs - sum(by_status.get(s, 0) for s in Generation.FINISHED) + len(orphans)
    multi_claims = sum(1 for r in rows if r[1] != 1)
    extra_downloads = sum(n - 1 for n in downloads.values() if n > 1)
    verdict.duplicates = (
        vendor_dupes + multi_claims + (len(externals) - len(set(externals))) + extra_downloads
    )
    if by_status.get(S.FAILED):
        codes = Counter(Generation.objects.filter(status=S.FAILED).values_list("error_code", flat=True))
        verdict.notes.append(f"failure codes: {dict(codes)}")
    ends = {tid: task.end_wall for tid, task in emulator.tasks.items()}
    done = [(r[2], r[3], r[4]) for r in rows if r[0] == S.SUCCEEDED]
    submit_to_stored = [fin.timestamp() - sub.timestamp() for _e, sub, fin in done]
    vendor_to_stored = [fin.timestamp() - ends[ext] for ext, _s, fin in done if ext in ends]
    submitted = [r[3].timestamp() for r in rows if r[3]]
    print(f"jobs {jobs} jobs")
    print(f"jobs_succeeded {by_status.get(S.SUCCEEDED, 0)} jobs")
    print(f"jobs_failed {verdict.failed} jobs")
    print(f"jobs_lost {verdict.lost} jobs")
    print(f"vendor_submits {emulator.submit_count} requests")
    print(f"duplicate_vendor_submits {vendor_dupes} requests")
    print(f"jobs_with_attempts_not_1 {multi_claims} jobs")
    print(f"distinct_external_ids {len(set(externals))} ids")
    print(f"vendor_tasks_without_a_row {len(orphans)} tasks")
    print(f"result_downloads {sum(downloads.values())} requests")
    print(f"duplicate_result_downloads {extra_downloads} requests")
    print(f"vendor_polls {emulator.poll_count} requests")
    print(f"polls_per_job {emulator.poll_count / max(1, jobs):.1f} requests")
    if submitted:
        print(f"submit_window {max(submitted) - min(submitted):.1f} s")
    print(f"submit_to_stored_p50 {statistics.median(submit_to_stored) if done else float('nan'):.2f} s")
    print(f"submit_to_stored_p95 {pct(submit_to_stored, 0.95):.2f} s")
    print(f"vendor_done_to_stored_p50 {statistics.median(vendor_to_stored) if done else float('nan'):.2f} s")
    print(f"vendor_done_to_stored_p95 {pct(vendor_to_stored, 0.95):.2f} s")


def print_shares(rows: list[WorkerShare], verdict: Verdict) -> None:
    submits = sum(r.submit_claims for r in rows) or 1
    polls = sum(r.poll_claims for r in rows) or 1
    for r in rows:
        print(f"{r.name}_submit_claims {r.submit_claims} claims")
        print(f"{r.name}_poll_claims {r.poll_claims} claims")
        print(f"{r.name}_cpu {r.cpu:.1f} s")
    print()
    table = [
        (
            *("worker", "submits won", "share", "by sweep/nudge", "polls won", "share"),
            *("sweeps", "expired ticks", "sweep s p50/max", "nudge tasks", "cpu s"),
        )
    ]
    for r in rows:
        seconds = r.sweep_seconds or [0.0]
        table.append(
            (
                r.name,
                str(r.submit_claims),
                f"{100 * r.submit_claims / submits:.0f}%",
                f"{r.sweep_submitted}/{r.submit_claims - r.sweep_submitted}",
                str(r.poll_claims),
                f"{100 * r.poll_claims / polls:.0f}%",
                str(r.sweeps),
                str(r.ticks_discarded),
                f"{statistics.median(seconds):.1f}/{max(seconds):.1f}",
                str(r.nudges),
                f"{r.cpu:.1f}",
            )
        )
        if r.sweep_polled != r.poll_claims:
            verdict.notes.append(
                f"{r.name}: its sweeps reported {r.sweep_polled} poll claims, the database logged {r.poll_claims}"
            )
        if r.sweep_errors:
            verdict.notes.append(f"{r.name}: {r.sweep_errors} sweep step errors (see its log)")
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


# ---------------------------------------------------------------------------------------------- main


def run(children: list[Child], emulator: Emulator) -> Verdict:
    workers = [start_worker(f"w{i + 1}") for i in range(ARGS.workers)]
    children.extend([*workers, start_beat()])
    wait_ready(children)
    load = os.getloadavg()[0]
    print(
        f"# {ARGS.jobs} SiliconFlow t2v jobs of {ARGS.task_seconds:g} s at a loopback emulator; "
        f"{ARGS.workers} Celery workers x {ARGS.concurrency} prefork children x {settings.STUDIO_SWEEP_THREADS} "
        f"sweep threads + 1 beat every {ARGS.sweep_seconds:g} s; PostgreSQL {connection.pg_version // 10000}, "
        f"Redis broker; python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load:.1f}"
    )
    busy0, total0 = machine_busy()
    start = time.monotonic()
    create_jobs(ARGS.jobs)
    created = time.monotonic() - start
    peaks = Peaks()
    finished = wait_finished(emulator, peaks, children, ARGS.jobs)
    wall = time.monotonic() - start
    busy1, total1 = machine_busy()
    load = max(load, os.getloadavg()[0])
    time.sleep(2 * ARGS.sweep_seconds + 1)  # let the last sweeps log their reports
    cpu = {c.name: cpu_seconds(c.proc.pid) for c in children}
    emulator.stop()  # first, so the workers' idle keep-alive connections are closed by the server side
    stop_children(children)  # warm shutdown: running sweeps finish and log before the counts are read
    verdict = Verdict()
    if not finished:
        verdict.notes.append("not every job finished in time")
    check_jobs(emulator, ARGS.jobs, verdict)
    print(f"peak_in_flight_at_vendor {peaks.vendor} jobs")
    print(f"peak_in_flight_in_database {peaks.database} jobs")
    print(f"peak_done_at_vendor_not_stored {peaks.backlog} jobs")
    print(f"emulator_latency_p50 {statistics.median(peaks.emulator_ms):.1f} ms")
    print(f"emulator_latency_max {max(peaks.emulator_ms):.1f} ms")
    print(f"create_jobs {created:.1f} s ({'rows and nudges' if ARGS.nudge else 'rows'}, workers running)")
    print(f"wall {wall:.1f} s (first job created -> every job finished)")
    print(f"db_sessions {database_sessions()} connections")
    print(f"machine_cpu_busy {100 * (busy1 - busy0) / max(1, total1 - total0):.0f} %")
    print(f"load_average_max {load:.1f}")
    print(f"beat_cpu {cpu.get('beat', 0.0):.1f} s")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"bench_process_cpu {usage.ru_utime + usage.ru_stime:.1f} s (emulator, job creation, sampling)")
    print_shares(shares(workers, cpu), verdict)
    return verdict


def cleanup(children: list[Child], emulator: Emulator | None) -> None:
    """Every step runs even if an earlier one fails; a failure is reported, not raised over the real error."""
    steps = [
        ("processes", lambda: stop_children(children)),
        ("database", drop_database),
        ("broker", flush_broker),
    ]
    if emulator is not None:
        steps.insert(1, ("emulator", emulator.stop))
    for name, step in steps:
        try:
            step()
        except Exception as exc:
            print(f"# cleanup of the {name} failed: {exc!r}")


def main() -> int:
    children: list[Child] = []
    emulator: Emulator | None = None
    verdict: Verdict | None = None
    try:
        check_connections()
        flush_broker()
        create_database()
        emulator = start_emulator("siliconflow", api_key=API_KEY, task_seconds=ARGS.task_seconds)
        os.environ["SILICONFLOW_BASE_URL"] = emulator.base_url
        settings.STUDIO_PROVIDERS["siliconflow"]["OPTIONS"]["base_url"] = emulator.base_url
        verdict = run(children, emulator)
    finally:
        cleanup(children, emulator)
        if verdict is None:
            print(f"# the bench stopped early; logs kept in {WORK}")
    for note in verdict.notes:
        print(f"# {note}")
    bad = verdict.duplicates or verdict.lost or verdict.failed
    if bad:
        print(f"# FAILED: {verdict.duplicates} duplicates, {verdict.lost} lost, {verdict.failed} failed")
    if bad or ARGS.keep_logs:
        print(f"# logs kept in {WORK}")
    else:
        shutil.rmtree(WORK, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
