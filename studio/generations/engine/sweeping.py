"""One tick of the sweeper over every due row, and ``drive`` for one job in this process (the CLI)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from studio.generations.engine import downloads, pools
from studio.generations.engine.polling import claim_due_polls, due, poll, poll_claimed, poll_from_sweep
from studio.generations.engine.rules import REMOTE, S
from studio.generations.engine.submitting import recover_abandoned, submit
from studio.generations.models import Generation


@dataclass
class SweepReport:
    """One tick's work. ``submitted`` and ``polled`` count the claims this process won, not candidates."""

    recovered: int = 0
    submitted: int = 0
    polled: int = 0
    errors: list[str] = field(default_factory=list)


def close_pool_connections() -> None:
    """Close the database connection each sweep and download thread keeps between steps (before a
    database is dropped, as tests do). The barrier holds every thread until all have taken one closing job."""
    downloads.wait_for_downloads()
    for kind in ("sweep", "download"):
        pool = pools.running(kind)
        if pool is None:
            continue
        threads = pool._max_workers
        barrier = threading.Barrier(threads)

        def close(barrier=barrier) -> None:
            connection.close()
            barrier.wait(timeout=30)

        for future in [pool.submit(close) for _ in range(threads)]:
            future.result()


def sweep(*, limit: int = 500) -> SweepReport:
    """One tick: recover abandoned submits, submit due queued jobs, poll due remote jobs, concurrently.

    Finished results go to the download pool and are not waited for: the tick ends with its polls."""
    report = SweepReport(recovered=recover_abandoned())
    now = timezone.now()
    queued = list(
        Generation.objects.filter(status=S.QUEUED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:limit]
    )
    pool = pools.pool()
    began = time.monotonic()
    steps = [("submitted", pool.submit(pools.guarded, submit, pk)) for pk in queued]
    claimed = claim_due_polls(limit)
    if claimed is not None:  # PostgreSQL: this sweep's share of the due rows, claimed in one statement
        pks, lease = claimed

        def poll_claimed_row(pk: int) -> bool:
            return poll_claimed(pk, lease)

        steps += [("polled", pool.submit(pools.guarded, poll_claimed_row, pk)) for pk in pks]
    else:  # each row claimed by the thread that polls it
        pks = list(due(now).order_by("next_poll_at").values_list("pk", flat=True)[:limit])
        steps += [("polled", pool.submit(pools.guarded, poll_from_sweep, pk)) for pk in pks]
    for counter, future in steps:
        won, error = future.result()
        if won:
            setattr(report, counter, getattr(report, counter) + 1)
        if error:
            report.errors.append(error)
    pools.measure(len(steps), time.monotonic() - began)
    return report


def drive(generation_id: int, *, timeout: float | None = None, tick: float = 0.25) -> Generation:
    """Run one job to its end in this process (the CLI's --wait), with the same claims as the worker."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        generation = Generation.objects.get(pk=generation_id)
        if generation.is_finished or generation.status == S.SUBMIT_UNKNOWN:
            return generation
        if deadline is not None and time.monotonic() > deadline:
            return generation
        if generation.status == S.QUEUED:
            submit(generation_id)
        elif (
            generation.status == S.SUBMITTING
            and generation.lease_until
            and generation.lease_until <= timezone.now()
        ):
            recover_abandoned()
        elif generation.status in REMOTE:
            poll(generation_id)
        time.sleep(tick)
