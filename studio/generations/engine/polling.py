"""Poll: claim a due job at the vendor, ask how it is, and act on the answer.

A finished result moves the row to downloading and goes to the download pool (from the sweep) or is
fetched at once (``generate --wait``); an answer no vendor page documents is doubtful, asked again, and
after ``rules.MAX_DOUBTFUL_POLLS`` in a row left to a person with its task id kept."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from studio.generations import eta, live
from studio.generations.engine import downloads, pools, rules
from studio.generations.engine.rules import REMOTE, S
from studio.generations.models import Generation
from studio.generations.states import transition
from studio.providers import buckets
from studio.providers.base import ErrorKind, Progress, ProviderError, RemoteState
from studio.providers.registry import get_provider


def due(now: datetime):
    """Jobs at the vendor whose poll is due and whose lease (if any) has run out."""
    return Generation.objects.filter(status__in=REMOTE, next_poll_at__lte=now).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    )


def claim_poll(generation_id: int):
    """The lease this call took on a due job at the vendor (a datetime, its fencing token), or None."""
    now = timezone.now()
    lease = now + rules.POLL_LEASE
    won = (
        due(now).filter(pk=generation_id).update(lease_until=lease, polls=F("polls") + 1, updated_at=now) == 1
    )
    return lease if won else None


def claim_due_polls(limit: int) -> tuple[list[int], datetime] | None:
    """Claim up to ``limit`` due jobs at once, skipping rows another worker's claim holds (PostgreSQL's
    ``FOR UPDATE SKIP LOCKED``): the workers' sweeps share the due rows instead of all racing for each.
    None where the database cannot (SQLite, whose one writer at a time makes the race short anyway)."""
    if not connection.features.has_select_for_update_skip_locked:
        return None
    now = timezone.now()
    lease = now + rules.POLL_LEASE
    with transaction.atomic():
        pks = list(
            due(now)
            .select_for_update(skip_locked=True)
            .order_by("next_poll_at")
            .values_list("pk", flat=True)[:limit]
        )
        if pks:
            Generation.objects.filter(pk__in=pks).update(
                lease_until=lease, polls=F("polls") + 1, updated_at=now
            )
    return pks, lease


def poll(generation_id: int, *, background: bool = False) -> bool:
    """Claim a due job at the vendor, ask how it is, and act on the answer. False if not claimed.

    With ``background`` (the sweep), a finished result is handed to this process's download pool under
    the poll's lease instead of being fetched here, so the sweep never waits on a download."""
    lease = claim_poll(generation_id)
    if lease is None:
        return False
    _ask(generation_id, lease, background=background)
    return True


def poll_claimed(generation_id: int, lease: datetime) -> bool:
    """The sweep's poll of a job ``claim_due_polls`` claimed: False if the claim is no longer ours (its
    lease ran out while it waited for a thread, and another worker took the row)."""
    if not Generation.objects.filter(pk=generation_id, lease_until=lease).exists():
        return False
    _ask(generation_id, lease, background=True)
    return True


def _ask(generation_id: int, lease: datetime, *, background: bool) -> None:
    """Ask the vendor how a claimed job is (within the account's share of status calls) and act on it."""
    generation = Generation.objects.get(pk=generation_id)
    provider = get_provider(generation.provider, workspace_id=generation.workspace_id)
    if provider.poll_rate is not None:
        wait = buckets.take(provider.bucket_key("poll"), provider.poll_rate)
        if wait > 0:
            # The account's status calls this second are spent: ask a little later, uncounted.
            rules.reschedule(
                generation, timedelta(seconds=wait * random.uniform(1.0, 3.0)), polls=F("polls") - 1
            )
            return
    try:
        progress = provider.poll(generation.external_id)
    except ProviderError as exc:
        _poll_failed(generation, provider, exc)
        return
    _apply_progress(generation, provider, progress, lease=lease if background else None)


def poll_from_sweep(generation_id: int) -> bool:
    return poll(generation_id, background=True)


def _poll_failed(generation: Generation, provider, exc: ProviderError) -> None:
    if (exc.kind == ErrorKind.PERMANENT and not exc.config) or rules.expired(generation, provider):
        transition(generation.pk, src=generation.status, dst=S.FAILED, **rules.error_fields(exc))
        return
    if exc.doubtful:
        _doubtful_poll(generation, provider, exc)
        return
    # Transient trouble, or a key problem an admin can fix: keep the (paid) job and ask again later.
    delay = (
        rules.backoff(min(generation.polls, 6), exc.retry_after) if not exc.config else timedelta(seconds=60)
    )
    rules.reschedule(generation, delay, **rules.error_fields(exc))


def _doubtful_poll(generation: Generation, provider, exc: ProviderError) -> None:
    """An answer no vendor page documents (a 400, an unknown id): back off and ask again; after
    ``rules.MAX_DOUBTFUL_POLLS`` in a row the job is unconfirmed, for a person, and its task id is kept."""
    before = generation.error_detail if generation.error_code == "doubtful" else None
    count = (before.get("doubtful_answers", 0) if isinstance(before, dict) else 0) + 1
    detail = {"doubtful_answers": count, "code": exc.code, "status": exc.status, "reply": exc.raw}
    if count >= rules.MAX_DOUBTFUL_POLLS:
        transition(
            generation.pk,
            src=generation.status,
            dst=S.SUBMIT_UNKNOWN,
            lease_until=None,
            next_poll_at=None,
            error_kind=ErrorKind.UNKNOWN_OUTCOME.value,
            error_code="unconfirmed",
            error_message=f"{exc.message} It answered so {count} times in a row, which its documentation "
            f"does not explain: the job (task {generation.external_id}) may still be running or done there. "
            "Check it in the provider's console before you submit it again.",
            error_detail=detail,
        )
        return
    delay = rules.backoff(count, exc.retry_after)
    rules.reschedule(
        generation,
        delay,
        error_kind=exc.kind.value,
        error_code="doubtful",
        error_message=exc.message,
        error_detail=detail,
    )


def _reported_cost(generation: Generation, progress: Progress) -> dict:
    """The spend follows the vendor's own figures (its reported length) where it gives them."""
    from studio.providers.pricing import reported_cost

    cost = reported_cost(generation, progress.report)
    return {"cost_estimate": cost} if cost is not None else {}


def _apply_progress(generation: Generation, provider, progress: Progress, *, lease=None) -> None:
    gid, status = generation.pk, generation.status
    if progress.state in (RemoteState.QUEUED, RemoteState.RUNNING):
        if rules.expired(generation, provider):
            transition(
                gid,
                src=status,
                dst=S.FAILED,
                **rules.error_fields(
                    kind="permanent", code="expired", message="The provider did not finish the job in time."
                ),
            )
            return
        fields = {
            "progress": progress.fraction,
            "queue_position": progress.position,
            "lease_until": None,
            # ``polls`` already counts this poll (the claim added it): the delay after poll n is step n-1.
            "next_poll_at": timezone.now()
            + timedelta(
                seconds=eta.next_poll_delay(
                    generation,
                    default=provider.next_poll_delay(generation.polls - 1),
                    raw=progress.raw,
                    capacity=pools.poll_capacity(),
                )
            ),
            "error_kind": "",
            "error_code": "",
            "error_message": "",
            "error_detail": None,
        }
        started = progress.state == RemoteState.RUNNING and status == S.SUBMITTED
        if started and transition(gid, src=S.SUBMITTED, dst=S.RUNNING, **fields):
            return
        if Generation.objects.filter(pk=gid, status=status).update(updated_at=timezone.now(), **fields):
            live.notify(gid)  # the card's progress
        return
    if progress.state == RemoteState.SUCCEEDED:
        if status != S.DOWNLOADING:
            moved = transition(
                gid,
                src=status,
                dst=S.DOWNLOADING,
                remote_url=progress.result_url[:2000],
                provider_done_at=timezone.now(),
                actual_prompt=progress.actual_prompt,
                result_seed=progress.seed,
                progress=1.0,
                vendor_report=progress.report,
                **_reported_cost(generation, progress),
            )
            if not moved:
                return
        else:
            Generation.objects.filter(pk=gid).update(remote_url=progress.result_url[:2000])
        if lease is not None:
            downloads.start(gid, provider=provider, url=progress.result_url, lease=lease)
        else:
            downloads.download(gid, provider=provider, url=progress.result_url)
        return
    if progress.state == RemoteState.CANCELED:
        transition(
            gid,
            src=status,
            dst=S.CANCELED,
            **rules.error_fields(kind="permanent", code="canceled", message="The provider canceled the job."),
        )
        return
    message = progress.error_message or (
        "The provider no longer knows this job (it expired)."
        if progress.state == RemoteState.LOST
        else "The provider could not make this video."
    )
    transition(
        gid,
        src=status,
        dst=S.FAILED,
        **rules.error_fields(
            kind="permanent",
            code=progress.error_code or progress.state.value,
            message=message,
            raw=progress.raw,
        ),
    )
