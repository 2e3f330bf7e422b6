"""When a job at a vendor should be done, learnt from finished jobs of its kind, and when to poll it next.

A kind is (provider, model, task, size, resolution, duration). Its running time (submitted to "vendor says
done") is the median of its last HISTORY finished jobs, its spread their median absolute deviation (scaled
to a standard deviation): robust to the odd job stuck in a vendor's queue. The vendor's own estimate wins
where the reply carries one (jiekou's ``task.eta``, in seconds). With neither (a cold start, fewer than
MIN_HISTORY jobs) the provider's own cadence is kept, exactly as before.

Polling (``next_poll_delay``): one sparse jump to where the kind's jobs start finishing, then every
``spread / 3`` (1 to 2 s) while it may finish, then the provider's cadence again once the job is well past
its kind's usual time. The engine asks it where it sets the next poll, but it answers the provider's
cadence unless ``POLL_BY_HISTORY`` is on (bench/engine.py --history turns it on): with 1,000 jobs of one kind sent at once,
``bench/engine.py --start 54 --spread 12 --history`` measured 2.1 polls a job instead of 8.1 but vendor
done -> stored p95 16.4 s instead of 13.1 s, because every job's window opens together and one sweep (16
threads, downloads included) cannot poll them all densely. It waits for downloads off the sweep and a
window spread by the sweep's capacity. The cards already show the expected time left (``seconds_left``).
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from studio.generations.models import Generation

HISTORY = 100
MIN_HISTORY = 20
CACHE_SECONDS = 60.0
MIN_SPREAD = 1.0
POLL_BY_HISTORY = False  # see the module's docstring: off until downloads leave the sweep


@dataclass(frozen=True)
class Estimate:
    median: float  # seconds from submitted to done
    spread: float
    count: int
    early: float = 0.0  # the 10th percentile: finished jobs record when a poll heard them, not when the
    # vendor finished (a poll later), so the window opens at whichever is earlier of this and median - spread

    @property
    def opens(self) -> float:
        return max(0.0, min(self.early, self.median - self.spread))


def kind_of(g: Generation) -> tuple:
    return (g.provider, g.model, g.task, g.size, g.resolution, g.duration)


_cache: dict[tuple, tuple[float, Estimate | None]] = {}
_lock = threading.Lock()


def estimate(kind: tuple) -> Estimate | None:
    """The kind's running time from its last finished jobs (cached a minute per process), or None."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(kind)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    provider, model, task, size, resolution, duration = kind
    rows = (
        Generation.objects.filter(
            status=Generation.Status.SUCCEEDED,
            provider=provider,
            model=model,
            task=task,
            size=size,
            resolution=resolution,
            duration=duration,
            submitted_at__isnull=False,
            provider_done_at__isnull=False,
        )
        # The last jobs *made* that have finished, not the last to finish: of a batch sent together, the
        # last to finish are its slowest, and a window learnt from them opens too late.
        .order_by("-submitted_at", "-id")
        .values_list("submitted_at", "provider_done_at")[:HISTORY]
    )
    found = from_durations([(done - sent).total_seconds() for sent, done in rows])
    with _lock:
        _cache[kind] = (now, found)
    return found


def from_durations(seconds: list[float]) -> Estimate | None:
    seconds = [s for s in seconds if s >= 0]
    if len(seconds) < MIN_HISTORY:
        return None
    median = statistics.median(seconds)
    mad = statistics.median(abs(s - median) for s in seconds)
    early = sorted(seconds)[len(seconds) // 10]
    return Estimate(median=median, spread=max(MIN_SPREAD, 1.4826 * mad), count=len(seconds), early=early)


def vendor_eta(raw) -> float | None:
    """Seconds left by the vendor's own reckoning, where its reply says (jiekou: ``task.eta``)."""
    task = raw.get("task") if isinstance(raw, dict) else None
    value = task.get("eta") if isinstance(task, dict) else None
    try:
        eta = float(value)
    except (TypeError, ValueError):
        return None
    return eta if 0 <= eta < 24 * 3600 else None


def expected_done(
    g: Generation, raw=None, *, now: datetime | None = None
) -> tuple[datetime, datetime, float] | None:
    """When ``g``'s window opens, when it should be done at the vendor, and the spread (seconds), or None."""
    now = now or timezone.now()
    left = vendor_eta(raw)
    if left is not None:
        spread = max(2.0, 0.1 * left)
        return now + timedelta(seconds=left - spread), now + timedelta(seconds=left), spread
    if g.submitted_at is None:
        return None
    found = estimate(kind_of(g))
    if found is None:
        return None
    sent = g.submitted_at
    return sent + timedelta(seconds=found.opens), sent + timedelta(seconds=found.median), found.spread


def next_poll_delay(g: Generation, *, default: float, raw=None, now: datetime | None = None) -> float:
    """Seconds until the next poll of a job still queued or running at its vendor."""
    if not POLL_BY_HISTORY:
        return default
    now = now or timezone.now()
    expected = expected_done(g, raw, now=now)
    if expected is None:
        return default  # a cold start: the provider's cadence
    opens, done_at, spread = expected
    until_open = (opens - now).total_seconds()
    if until_open > 0:
        return until_open  # nothing to hear before the window opens: one sparse jump
    if (now - done_at).total_seconds() < 3 * spread:
        return min(2.0, max(1.0, spread / 3))  # it may finish any moment
    return default  # well past its kind's usual time: the provider's cadence again


def seconds_left(g: Generation) -> int | None:
    """For the card: whole seconds until the expected finish (0 once it is due), or None unknown."""
    expected = expected_done(g)
    if expected is None:
        return None
    return max(0, round((expected[1] - timezone.now()).total_seconds()))
