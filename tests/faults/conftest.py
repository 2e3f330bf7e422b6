"""The fault suite's plumbing: loopback vendors, the sped-up worker, and the ledger printed at the end.

Each scenario makes a few paid jobs, lets a real worker process run them while something goes wrong,
and then settles the books from both sides: what the vendor emulators saw (submits, result fetches, the
tasks they finished) and what our database says. Every scenario adds a row to the table printed after
the run, and fails if a job ended wrong, a submit was sent twice or a paid result was lost.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from studio.generations import services
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers.emulators import start_emulator
from tests.media import probe
from tests.processes import wait_for

S = Generation.Status
KEY = "faults-key-0001"
VENDORS = {"siliconflow": "SILICONFLOW", "jiekou": "JIEKOU"}
JOB = {
    "siliconflow": {"model": "Wan-AI/Wan2.2-T2V-A14B", "size": "1280x720"},
    "jiekou": {"model": "wan2.1-t2v", "size": "832x480"},
}
LEDGER: list[dict] = []
COLUMNS = (
    ("scenario", "scenario"),
    ("database", "db"),
    ("jobs", "jobs"),
    ("ended", "ended as"),
    ("submits", "vendor submits"),
    ("duplicates", "duplicate submits"),
    ("fetches", "result fetches"),
    ("lost", "lost results"),
    ("seconds", "s"),
)


def pytest_terminal_summary(terminalreporter):
    if not LEDGER:
        return
    rows = [{key: str(row[key]) for key, _ in COLUMNS} for row in LEDGER]
    widths = {key: max(len(title), *(len(r[key]) for r in rows)) for key, title in COLUMNS}
    terminalreporter.section("fault suite: every job ended as expected, nothing paid twice or lost")
    line = "  ".join(title.ljust(widths[key]) for key, title in COLUMNS)
    terminalreporter.write_line(line)
    terminalreporter.write_line("-" * len(line))
    for row in rows:
        terminalreporter.write_line("  ".join(row[key].ljust(widths[key]) for key, _ in COLUMNS))


@dataclass
class FaultRun:
    """One scenario: its vendors, its worker processes, its jobs, and the books at the end."""

    name: str
    world: object
    processes: object
    tmp: Path
    vendors: dict = field(default_factory=dict)
    jobs: list[Generation] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def worker(self, **env: str):
        self.processes.env.update(env)
        return self.processes.start(
            sys.executable,
            "-m",
            "tests.faults.worker",
            "--schedule",
            str(self.tmp / "beat-schedule"),
            name="worker",
        )

    def make_jobs(self, count: int, vendor: str = "siliconflow") -> list[Generation]:
        made = [
            services.create_generation(
                workspace=self.world.workspace,
                project=self.world.project,
                user=self.world.owner.user,
                recipe=Recipe(
                    provider=vendor,
                    prompt=f"{self.name}, job {len(self.jobs) + i}: a kite over a windy beach",
                    **JOB[vendor],
                ),
            )
            for i in range(count)
        ]
        self.jobs += made
        return made

    def status(self, job: Generation) -> str:
        return Generation.objects.values_list("status", flat=True).get(pk=job.pk)

    def wait_until(self, predicate, what: str, timeout: float = 60):
        return wait_for(predicate, timeout=timeout, interval=0.05, what=what, logs=self.processes.logs)

    def wait_for_the_end(self, timeout: float = 90) -> None:
        settled = Generation.SETTLED
        self.wait_until(
            lambda: all(self.status(j) in settled for j in self.jobs), "every job to end", timeout=timeout
        )

    def settle(self, expected: dict[str, int]) -> dict:
        """Check the books from both sides, add the scenario's row to the ledger, and return it."""
        rows = {g.pk: g for g in Generation.objects.filter(pk__in=[j.pk for j in self.jobs])}
        submits = [body for handle in self.vendors.values() for body in handle.submits]
        per_prompt = Counter(body["prompt"] for body in submits)
        finished_at_vendor = {
            task.body["prompt"]
            for handle in self.vendors.values()
            for task in handle.tasks.values()
            if task.phase() == "succeeded"
        }
        lost = [
            g.public_id
            for g in rows.values()
            if g.prompt.text in finished_at_vendor
            and g.status != S.SUBMIT_UNKNOWN  # a person decides these; the page says the vendor may have it
            and not (g.status == S.SUCCEEDED and g.video and probe(g.video.path)["frames"] > 0)
        ]
        ended = Counter(g.status for g in rows.values())
        row = {
            "scenario": self.name,
            "database": connection.vendor,
            "jobs": len(rows),
            "ended": ", ".join(f"{n} {status}" for status, n in sorted(ended.items())),
            "submits": len(submits),
            "duplicates": sum(n - 1 for n in per_prompt.values()),
            "fetches": sum(
                1
                for handle in self.vendors.values()
                for method, path, _, _ in handle.requests
                if method == "GET" and path.startswith("/_files/")
            ),
            "lost": len(lost),
            "seconds": round(time.monotonic() - self.started, 1),
        }
        LEDGER.append(row)
        assert dict(ended) == expected, (
            row,
            [(g.public_id, g.status, g.error_message) for g in rows.values()],
        )
        assert row["duplicates"] == 0, per_prompt
        assert not lost, lost
        assert set(per_prompt) <= {g.prompt.text for g in rows.values()}
        # Whatever went wrong, the vendor key shows up in no worker's log and no stored error.
        logs = "".join(Path(p.log_path).read_text(errors="replace") for p in self.processes.procs)
        errors = "".join(f"{g.error_message}{g.error_detail}" for g in rows.values())
        assert KEY not in logs and KEY not in errors, "a provider key leaked into a log or an error"
        return row


@pytest.fixture
def fault_run(request, world, processes, proc_env, settings, tmp_path):
    """A scenario named after its test, with both vendors emulated and the worker's env pointed at them."""
    vendors = {v: start_emulator(v, api_key=KEY, task_seconds=1.5) for v in VENDORS}
    processes.env.update(
        STUDIO_FETCH_ALLOW_PRIVATE="true",  # the emulators' result files live on 127.0.0.1
        STUDIO_PROVIDER_TIMEOUT="3",
        STUDIO_SWEEP_SECONDS="0.3",
    )
    providers = dict(settings.STUDIO_PROVIDERS)
    for vendor, prefix in VENDORS.items():
        processes.env[f"{prefix}_BASE_URL"] = vendors[vendor].base_url
        processes.env[f"{prefix}_API_KEY"] = KEY
        providers[vendor] = {
            **providers[vendor],
            "OPTIONS": {"base_url": vendors[vendor].base_url, "api_key": KEY},
        }
    settings.STUDIO_PROVIDERS = providers
    name = request.node.function.__doc__.strip().splitlines()[0].rstrip(".")
    run = FaultRun(name=name, world=world, processes=processes, tmp=tmp_path, vendors=vendors)
    yield run
    for proc in processes.procs:  # how a worker stops is not under test here; how it dies is
        if proc.poll() is None:
            processes.kill9(proc)
    for handle in vendors.values():
        handle.stop()
