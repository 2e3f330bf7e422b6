"""This process's threads: the sweep's (vendor calls) and the downloads', and what they can do.

Vendor calls in flight at once per process (STUDIO_SWEEP_THREADS) and downloads besides
(STUDIO_DOWNLOAD_THREADS); each thread waits on the network, not the CPU, and keeps one database connection
between steps. ``poll_capacity`` is what the sweep can poll in a second, which eta.py books against."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from studio.generations.engine.rules import S
from studio.generations.models import Generation

log = logging.getLogger(__name__)


_pools: dict[tuple[int, str], ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def pool(kind: str = "sweep") -> ThreadPoolExecutor:
    key = (os.getpid(), kind)
    with _pool_lock:
        pool = _pools.get(key)
        if pool is None:
            threads = settings.STUDIO_SWEEP_THREADS if kind == "sweep" else settings.STUDIO_DOWNLOAD_THREADS
            pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=kind)
            _pools[key] = pool
        return pool


def running(kind: str) -> ThreadPoolExecutor | None:
    """This process's pool of that kind, if it has started one."""
    return _pools.get((os.getpid(), kind))


_measured: dict[int, float] = {}  # pid -> polls a second a saturated sweep of this process last made


def poll_capacity() -> float:
    """Polls a second this process's sweep can make: what eta.py may book for any one second.

    Sweep threads over one call's time (STUDIO_POLL_CALL_SECONDS) until a sweep with more rows than
    threads has measured it (a busy machine, a slow database or vendor make fewer): the lower of the two."""
    nominal = settings.STUDIO_SWEEP_THREADS / max(0.01, settings.STUDIO_POLL_CALL_SECONDS)
    measured = _measured.get(os.getpid())
    return min(nominal, measured) if measured else nominal


def measure(steps: int, seconds: float) -> None:
    if steps >= 2 * settings.STUDIO_SWEEP_THREADS and seconds > 0:
        rate = steps / seconds
        before = _measured.get(os.getpid())
        _measured[os.getpid()] = rate if before is None else 0.7 * before + 0.3 * rate


def guarded(fn, generation_id: int) -> tuple[bool, str | None]:
    """Run one step in a pool thread; a poison row is pushed back so it cannot wedge the loop.

    The thread keeps its database connection between steps (Django closes it past CONN_MAX_AGE or
    after an error): opening one per step was a fifth of a busy worker's time.
    Returns whether this process won the row's claim, and the error if the step crashed."""
    try:
        close_old_connections()
        return bool(fn(generation_id)), None
    except Exception as exc:
        log.exception("%s(%s) failed", fn.__name__, generation_id)
        now = timezone.now()
        try:
            # A row in 'submitting' keeps its lease (it may be another worker's, mid-call): when the lease
            # runs out, recovery decides, since the vendor may have the job. Any other step is tried again
            # a little later: soon after a lost database connection, not so soon after a bug in a row.
            connection.close()
            later = timedelta(seconds=2 if isinstance(exc, DatabaseError) else 30)
            Generation.objects.filter(pk=generation_id).exclude(status=S.SUBMITTING).update(
                lease_until=None, next_poll_at=now + later
            )
        except DatabaseError:
            log.warning("could not push back generation %s; its lease will run out", generation_id)
        return True, f"{fn.__name__}({generation_id}): {exc}"
