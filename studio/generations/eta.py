"""When a job at a vendor should be done, learnt from finished jobs of its kind, and when to poll it next.

A kind is (provider, model, task, size, resolution, duration). Its running time (submitted to "vendor says
done") is the median of its last HISTORY finished jobs, its spread their median absolute deviation (scaled
to a standard deviation): robust to the odd job stuck in a vendor's queue. The vendor's own estimate wins
where the reply carries one (jiekou's ``task.eta``, in seconds). With neither (a cold start, fewer than
MIN_HISTORY jobs) the provider's own cadence is kept, exactly as before.

Polling (``next_poll_delay``): one sparse jump to where the kind's jobs start finishing, then every
``spread / 2`` (1 to 2 s) while it may finish (until its kind's late jobs are done and a spread more), then
the provider's cadence again. Every poll it schedules is booked against a second of this process's poll
capacity (``capacity`` polls a second: the sweep's threads over one call's time), so 1,000 jobs whose
windows open together are spread over the seconds the sweep can actually poll them in, rather than all
coming due in one tick the sweep cannot finish. The vendor's own estimate wins where the reply carries one
(jiekou's ``task.eta``, in seconds). A cold start (fewer than MIN_HISTORY finished jobs) keeps the
provider's cadence. The sweep no longer waits on downloads (the engine's download pool), which is what kept
this off before: bench/engine.py --history measured the old windows, all opening in one tick, with vendor
done -> stored p95 16.4 s instead of 13.1 s. The cards show the expected time left (``seconds_left``).
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
POLL_BY_HISTORY = True  # False keeps every provider's own cadence (bench/engine.py --history compares)
DENSE_MIN, DENSE_MAX = 1.0, 2.0  # seconds between polls while a job may finish any moment


@dataclass(frozen=True)
class Estimate:
    median: float  # seconds from submitted to done
    spread: float
    count: int
    early: float = 0.0  # the 10th percentile: finished jobs record when a poll heard them, not when the
    # vendor finished (up to a poll gap later), so the window opens a spread before whichever is earlier of
    # this and median - spread
    late: float = 0.0  # the 95th percentile: the window stays dense until then (and a spread more)

    @property
    def opens(self) -> float:
        return max(0.0, min(self.early, self.median - self.spread) - self.spread)


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
    ordered = sorted(seconds)
    early = ordered[len(ordered) // 10]
    late = ordered[min(len(ordered) - 1, (len(ordered) * 95) // 100)]
    return Estimate(
        median=median, spread=max(MIN_SPREAD, 1.4826 * mad), count=len(seconds), early=early, late=late
    )


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
    window = _window(g, raw, now=now)
    return window[:3] if window else None


def _window(g: Generation, raw=None, *, now: datetime | None = None):
    """(opens, expected done, spread, closes) for ``g``, or None without an estimate."""
    now = now or timezone.now()
    left = vendor_eta(raw)
    if left is not None:
        spread = max(2.0, 0.1 * left)
        done = now + timedelta(seconds=left)
        return done - timedelta(seconds=spread), done, spread, done + timedelta(seconds=3 * spread)
    if g.submitted_at is None:
        return None
    found = estimate(kind_of(g))
    if found is None:
        return None
    sent = g.submitted_at
    closes = max(found.late, found.median + found.spread) + found.spread
    return (
        sent + timedelta(seconds=found.opens),
        sent + timedelta(seconds=found.median),
        found.spread,
        sent + timedelta(seconds=closes),
    )


# Polls booked per whole second (epoch), per process: what the sweep will be asked to do in that second.
_booked: dict[int, int] = {}
_book_lock = threading.Lock()


def book(at: float, capacity: float | None, *, earliest: float | None = None) -> float:
    """A time in a second with room left, booked: the latest one from ``earliest`` up to ``at`` if
    ``earliest`` is given (a jump may come early rather than late), else the first at or after ``at``."""
    if not capacity:
        return at
    room = max(1, int(capacity))
    second = int(at)
    with _book_lock:
        if len(_booked) > 4096:  # forget the past
            floor = int(time.time()) - 5
            for key in [k for k in _booked if k < floor]:
                del _booked[key]
        if earliest is not None:
            while second > int(earliest) + 1 and _booked.get(second, 0) >= room:
                second -= 1
        if _booked.get(second, 0) >= room:
            second = int(at)
        while _booked.get(second, 0) >= room:
            second += 1
        _booked[second] = _booked.get(second, 0) + 1
    return at if second == int(at) else float(second) + (0.0 if second > int(at) else 0.5)


def next_poll_delay(
    g: Generation,
    *,
    default: float,
    raw=None,
    now: datetime | None = None,
    capacity: float | None = None,
) -> float:
    """Seconds until the next poll of a job still queued or running at its vendor.

    ``capacity``: polls a second this process can make; the delays chosen by history are booked against
    it (a cold start's and the provider's own cadence are not, as before)."""
    if not POLL_BY_HISTORY:
        return default
    now = now or timezone.now()
    window = _window(g, raw, now=now)
    if window is None:
        return default  # a cold start: the provider's cadence
    opens, _done_at, spread, closes = window
    until_open = (opens - now).total_seconds()
    earliest = None
    if until_open > 0:
        # Nothing to hear before the window opens: one sparse jump, booked no later than it opens (in
        # the seconds before it when the second itself is full) so a crowd of jobs is not heard late.
        delay = until_open
        earliest = now.timestamp() + min(until_open, max(DENSE_MIN, until_open / 2))
    elif now < closes:
        delay = min(DENSE_MAX, max(DENSE_MIN, spread / 2))  # it may finish any moment
    else:
        return default  # well past its kind's usual time: the provider's cadence again
    at = now.timestamp() + delay
    return max(0.0, book(at, capacity, earliest=earliest) - now.timestamp())


def seconds_left(g: Generation) -> int | None:
    """For the card: whole seconds until the expected finish (0 once it is due), or None unknown."""
    expected = expected_done(g)
    if expected is None:
        return None
    return max(0, round((expected[1] - timezone.now()).total_seconds()))
