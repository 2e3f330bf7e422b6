"""How much the engine carries: many jobs in flight in one worker process against a slow fake vendor.

Runs the real sweeper (the code a Celery worker runs on every beat tick: claims, the bounded thread pool,
polls, download, PyAV probe, poster, storage) in this one process, on a fresh database, against a fake
provider that answers each call after a network-like delay and finishes each job at a scheduled time.

Prints ``name value unit`` lines:
- rss_peak: this process's peak resident memory while every job was in flight;
- done_to_stored p50/p95: from the poll that hears "succeeded" to the row saying succeeded (download,
  probe, poster and store included) - what the engine adds once the vendor is done;
- vendor_done_to_stored p50/p95: from the moment the vendor finished to the row saying succeeded (adds
  the poll cadence: the vendor does not call us);
- the gallery card polls its fragment every 2 s, which adds 0-2 s (mean 1 s) before a person sees it.

- with --history, the first round polls at the provider's own cadence (as before polling by history, and
  as any cold start does) and a second round of the same jobs runs after it, polling by the first round's
  finished jobs as the kind's history (studio/generations/eta.py); both rounds' figures are printed side by
  side. Downloads run in the download pool in both rounds (a sweep never waits on one).

    .venv/bin/python bench/engine.py [--jobs 1000] [--latency 0.08] [--start 20] [--spread 40] [--history]
        [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.08, help="seconds each vendor call takes")
    parser.add_argument("--start", type=float, default=20.0, help="seconds before the first job finishes")
    parser.add_argument("--spread", type=float, default=40.0, help="jobs finish over this many seconds")
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between sweeps (beat)")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument(
        "--history",
        action="store_true",
        help="run twice: once as today (no history of the kind), then again with the first run as history",
    )
    return parser.parse_args()


ARGS = parse()
WORK = Path(tempfile.mkdtemp(prefix="bench-engine-"))
os.environ["STUDIO_DATA_DIR"] = str(WORK)
os.environ["DATABASE_URL"] = ARGS.database_url or f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from studio.generations import engine, eta  # noqa: E402
from studio.generations.models import Generation  # noqa: E402
from studio.projects.models import Project  # noqa: E402
from studio.prompts.models import Prompt  # noqa: E402
from studio.providers.base import Progress, Provider, RemoteState  # noqa: E402
from studio.providers.local.render import RenderSpec, render  # noqa: E402
from studio.workspaces.models import Workspace  # noqa: E402

SAMPLE = WORK / "sample.mp4"
DONE_AT: dict[str, float] = {}  # external id -> when the vendor finishes it
HEARD: dict[str, float] = {}  # external id -> when our poll first heard "succeeded"
CALLS = {"poll": 0, "download": 0}
LOCK = threading.Lock()


class SlowVendor(Provider):
    """A vendor that takes ``--latency`` per call and finishes each job at its scheduled time."""

    name = "bench"
    first_poll_delay = 5.0
    poll_steps = (2, 4, 6, 8, 10)  # SiliconFlow's cadence in the studio
    max_poll_interval = 10.0

    def poll(self, external_id: str) -> Progress:
        time.sleep(ARGS.latency)
        now = time.time()
        with LOCK:
            CALLS["poll"] += 1
        if now >= DONE_AT[external_id]:
            HEARD.setdefault(external_id, now)
            return Progress(RemoteState.SUCCEEDED, result_url=f"https://vendor.invalid/{external_id}.mp4")
        return Progress(RemoteState.RUNNING, fraction=0.5)

    def download(self, url: str, dest: Path) -> None:
        time.sleep(ARGS.latency)
        with LOCK:
            CALLS["download"] += 1
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLE, dest)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def one_round(label: str, workspace, project, prompt) -> dict:
    """Put ``--jobs`` jobs in flight at once and sweep until every one is stored; the round's figures."""
    for key in CALLS:
        CALLS[key] = 0
    eta._cache.clear()  # the history as it stands now, not as a minute ago
    start = time.time()
    now = timezone.now()
    rows, ids = [], []
    for i in range(ARGS.jobs):
        ext = f"{label}-{i}"
        ids.append(ext)
        DONE_AT[ext] = start + ARGS.start + random.uniform(0, ARGS.spread)
        rows.append(
            Generation(
                workspace=workspace,
                project=project,
                prompt=prompt,
                provider="bench",
                model="m",
                task="t2v",
                status=Generation.Status.SUBMITTED,
                external_id=ext,
                submitted_at=now,
                next_poll_at=now + timedelta(seconds=random.uniform(0, 5)),
            )
        )
    Generation.objects.bulk_create(rows, batch_size=500)
    base_rss = rss_mb()
    sweeps, slow_ticks = 0, 0
    while Generation.objects.exclude(status__in=Generation.FINISHED).exists():
        tick = time.time()
        engine.sweep(limit=2000)
        sweeps += 1
        spent = time.time() - tick
        slow_ticks += spent > ARGS.tick
        time.sleep(max(0.0, ARGS.tick - spent))
        if time.time() - start > ARGS.start + ARGS.spread + 300:
            print("# gave up waiting")
            break
    mine = Generation.objects.filter(external_id__in=ids)
    done = list(mine.filter(status=Generation.Status.SUCCEEDED).values_list("external_id", "finished_at"))
    stored = {ext: fin.timestamp() for ext, fin in done}
    engine_delay = [stored[e] - HEARD[e] for e in stored if e in HEARD]
    vendor_delay = [stored[e] - DONE_AT[e] for e in stored]
    return {
        "jobs_succeeded": (len(done), "jobs"),
        "jobs_not_succeeded": (mine.exclude(status=Generation.Status.SUCCEEDED).count(), "jobs"),
        "rss_peak": (round(rss_mb()), "MB"),
        "rss_growth_during_run": (round(rss_mb() - base_rss), "MB"),
        "polls": (CALLS["poll"], "requests"),
        "polls_per_job": (round(CALLS["poll"] / max(1, ARGS.jobs), 1), "requests"),
        "downloads": (CALLS["download"], "requests"),
        "sweeps": (sweeps, f"ticks ({slow_ticks} took longer than a tick)"),
        "done_to_stored_p50": (round(statistics.median(engine_delay), 2), "s"),
        "done_to_stored_p95": (round(pct(engine_delay, 0.95), 2), "s"),
        "vendor_done_to_stored_p50": (round(statistics.median(vendor_delay), 2), "s"),
        "vendor_done_to_stored_p95": (round(pct(vendor_delay, 0.95), 2), "s"),
        "poll_capacity_booked": (round(engine.poll_capacity()), "polls/s (as measured by the busy sweeps)"),
        "wall": (round(time.time() - start), "s"),
    }


def main() -> None:
    call_command("migrate", verbosity=0)
    settings.STUDIO_PROVIDERS = {
        **settings.STUDIO_PROVIDERS,
        "bench": {"BACKEND": "__main__.SlowVendor", "OPTIONS": {}},
    }
    render(RenderSpec(task="t2v", width=320, height=192, duration=1.0, prompt="bench"), str(SAMPLE))
    workspace = Workspace.objects.create(slug="bench", name="Bench")
    project = Project.objects.create(workspace=workspace, name="Bench")
    prompt = Prompt.objects.create(workspace=workspace, project=project, text="bench")
    print(
        f"# {ARGS.jobs} jobs in flight, one process, sweep every {ARGS.tick}s with {settings.STUDIO_SWEEP_THREADS} threads "
        f"(booking {engine.poll_capacity():.0f} polls/s) and {settings.STUDIO_DOWNLOAD_THREADS} download threads, "
        f"vendor latency {ARGS.latency * 1000:.0f} ms/call, jobs finish {ARGS.start:.0f}-{ARGS.start + ARGS.spread:.0f}s in, "
        f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    # The first round is today's cadence (the provider's own steps), as a cold start has anyway.
    eta.POLL_BY_HISTORY = False
    cold = one_round("cold", workspace, project, prompt)
    if not ARGS.history:
        for name, (value, unit) in cold.items():
            print(f"{name} {value} {unit}")
    else:
        # The first round's finished jobs are the kind's history: the second round polls by it.
        eta.POLL_BY_HISTORY = True
        warm = one_round("warm", workspace, project, prompt)
        print("# name  without-history  with-history  unit (same run)")
        for name, (value, unit) in cold.items():
            print(f"{name} {value} {warm[name][0]} {unit}")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
