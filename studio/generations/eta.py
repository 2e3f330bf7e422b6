"""When a job at a vendor should be done, learnt from finished jobs of its kind, and when to poll it next.

A kind is (provider, model, task, size, resolution, duration). Its running time (submitted to "vendor says
done") is the median of its last HISTORY finished jobs, its spread their median absolute deviation (scaled
to a standard deviation): robust to the odd job stuck in a vendor's queue. The vendor's own estimate wins
where the reply carries one (jiekou's ``task.eta``, in seconds). With neither (a cold start, fewer than
MIN_HISTORY jobs) the provider's own cadence is kept, exactly as before.

Polling: one sparse jump to just before the expected finish, then every ``spread / 3`` (1 to 3 s) while it
may finish, then the provider's cadence again once the job is well past its kind's usual time.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from studio.generations.models import Generation

HISTORY = 50
MIN_HISTORY = 5
CACHE_SECONDS = 60.0
MIN_SPREAD = 1.0


@dataclass(frozen=True)
class Estimate:
    median: float  # seconds from submitted to done
    spread: float
    count: int


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
        .order_by("-provider_done_at")
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
    return Estimate(median=median, spread=max(MIN_SPREAD, 1.4826 * mad), count=len(seconds))


def vendor_eta(raw) -> float | None:
    """Seconds left by the vendor's own reckoning, where its reply says (jiekou: ``task.eta``)."""
    task = raw.get("task") if isinstance(raw, dict) else None
    value = task.get("eta") if isinstance(task, dict) else None
    try:
        eta = float(value)
    except (TypeError, ValueError):
        return None
    return eta if 0 <= eta < 24 * 3600 else None


def expected_done(g: Generation, raw=None, *, now: datetime | None = None) -> tuple[datetime, float] | None:
    """When ``g`` should be done at the vendor and how sure that is (seconds of spread), or None."""
    now = now or timezone.now()
    left = vendor_eta(raw)
    if left is not None:
        return now + timedelta(seconds=left), max(2.0, 0.1 * left)
    if g.submitted_at is None:
        return None
    found = estimate(kind_of(g))
    if found is None:
        return None
    return g.submitted_at + timedelta(seconds=found.median), found.spread


def next_poll_delay(g: Generation, *, default: float, raw=None, now: datetime | None = None) -> float:
    """Seconds until the next poll of a job still queued or running at its vendor."""
    now = now or timezone.now()
    expected = expected_done(g, raw, now=now)
    if expected is None:
        return default  # a cold start: the provider's cadence
    done_at, spread = expected
    left = (done_at - now).total_seconds()
    if left > spread:
        return left - spread  # nothing to hear before the window opens: one sparse jump
    if left > -3 * spread:
        return min(3.0, max(1.0, spread / 3))  # it may finish any moment
    return default  # well past its kind's usual time: the provider's cadence again


def seconds_left(g: Generation) -> int | None:
    """For the card: whole seconds until the expected finish (0 once it is due), or None unknown."""
    expected = expected_done(g)
    if expected is None:
        return None
    return max(0, round((expected[0] - timezone.now()).total_seconds()))
