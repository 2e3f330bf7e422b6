"""The state machine of a Generation. Every move is one conditional UPDATE; the caller learns if it won.

Never read a row, change ``status`` and ``save()``: two workers would both win. ``transition`` writes
the status, its bookkeeping fields and ``updated_at`` in one statement filtered on the old status (and,
where given, on the lease), so exactly one contender gets ``True``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from studio.generations.models import Generation

S = Generation.Status

ALLOWED: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.SUBMITTING, S.CANCELED, S.FAILED}),
    S.SUBMITTING: frozenset({S.SUBMITTED, S.QUEUED, S.FAILED, S.SUBMIT_UNKNOWN}),
    # A status call the vendor keeps refusing in a way no page documents: a person decides (the task may
    # exist, be paid for and finish), as for a submit whose answer was lost.
    S.SUBMITTED: frozenset({S.RUNNING, S.DOWNLOADING, S.FAILED, S.CANCELED, S.SUBMIT_UNKNOWN}),
    S.RUNNING: frozenset({S.DOWNLOADING, S.FAILED, S.CANCELED, S.SUBMIT_UNKNOWN}),
    S.DOWNLOADING: frozenset({S.SUCCEEDED, S.FAILED}),
    # A late answer to a submit we had given up on still tells us the task's id.
    S.SUBMIT_UNKNOWN: frozenset({S.SUBMITTED, S.CANCELED, S.FAILED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}


class IllegalTransition(Exception):
    """A bug in the caller, not a race: that edge does not exist."""


def transition(
    generation_id: int,
    *,
    src: str | tuple[str, ...],
    dst: str,
    lease_expired_before=None,
    **fields: Any,
) -> bool:
    """Move ``generation_id`` from ``src`` (one state or several) to ``dst``; True if this call won."""
    sources = (src,) if isinstance(src, str) else tuple(src)
    for s in sources:
        if dst not in ALLOWED[s]:
            raise IllegalTransition(f"{s} -> {dst}")
    now = timezone.now()
    if dst in Generation.FINISHED:
        fields.setdefault("finished_at", now)
        fields.setdefault("lease_until", None)
        fields.setdefault("next_poll_at", None)
    query = Generation.objects.filter(pk=generation_id, status__in=sources)
    if lease_expired_before is not None:
        query = query.filter(Q(lease_until__isnull=True) | Q(lease_until__lte=lease_expired_before))
    won = query.update(status=dst, updated_at=now, **fields) == 1
    if won:
        from studio.generations import live

        live.notify(generation_id)  # open galleries swap the card (a no-op without Redis)
    return won
