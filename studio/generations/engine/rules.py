"""What every step of the engine shares: the leases, the backoff, and the error fields it writes.

Steps read these through the module (``rules.POLL_LEASE``, ``rules.backoff``), so a test or a fault
worker that speeds the clock up changes them in one place."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from studio.generations.models import Generation
from studio.providers.base import ProviderError

log = logging.getLogger(__name__)
S = Generation.Status
REMOTE = Generation.AT_VENDOR
SUBMIT_LEASE = timedelta(seconds=180)  # longer than any submit call may take
# Covers a poll plus the download of a large result; a row claimed by a worker that died waits this long
# before another worker takes it (STUDIO_POLL_LEASE_SECONDS).
POLL_LEASE = timedelta(seconds=settings.STUDIO_POLL_LEASE_SECONDS)
MAX_SUBMIT_ATTEMPTS = 8
#: doubtful answers to a status call in a row (refusals no vendor page documents) before a person decides
MAX_DOUBTFUL_POLLS = 5


def backoff(attempt: int, retry_after: float | None = None) -> timedelta:
    seconds = min(60.0, 2.0 * (2 ** max(0, attempt - 1)))
    if retry_after:
        seconds = max(seconds, min(retry_after, 600.0))
    return timedelta(seconds=seconds)


def error_fields(
    exc: ProviderError | None = None, *, kind: str = "", code: str = "", message: str = "", raw=None
) -> dict:
    if exc is not None:
        kind, code, message, raw = (
            exc.kind.value,
            exc.code or (str(exc.status) if exc.status else ""),
            exc.message,
            exc.raw,
        )
    return {
        "error_kind": kind,
        "error_code": str(code)[:64],
        "error_message": message,
        "error_detail": raw
        if isinstance(raw, (dict, list))
        else ({"text": str(raw)[:2000]} if raw else None),
    }


def reschedule(generation: Generation, delay: timedelta, **fields) -> None:
    Generation.objects.filter(pk=generation.pk, status=generation.status).update(
        lease_until=None, next_poll_at=timezone.now() + delay, updated_at=timezone.now(), **fields
    )


def expired(generation: Generation, provider) -> bool:
    started = generation.submitted_at or generation.created_at
    return timezone.now() - started > timedelta(seconds=provider.task_ttl_seconds)


def write_through_outages(write, *, attempts: int = 5, first_wait: float = 0.25) -> None:
    """Run a write that records what a vendor has already done, on a fresh connection after a dropped
    one (a database restart, a failover, a killed backend): losing it would lose a paid job's task id.
    The writes are conditional UPDATEs, so running one again is harmless."""
    for attempt in range(attempts):
        try:
            write()
            return
        except (OperationalError, InterfaceError) as exc:
            if attempt == attempts - 1:
                raise
            log.warning("database write failed (%s); retrying on a fresh connection", exc)
            connection.close()
            time.sleep(first_wait * 2**attempt)
