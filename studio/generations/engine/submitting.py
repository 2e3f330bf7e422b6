"""Submit: claim a queued job, send it to its vendor once, and record what the vendor said.

A submit that may have reached the vendor is never sent again on our own: it becomes submit_unknown,
for a person to decide (unless the provider is free to resubmit)."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.db.models import F, Q
from django.utils import timezone

from studio.generations.engine import rules
from studio.generations.engine.rules import S
from studio.generations.models import Generation, GenerationInput
from studio.generations.states import transition
from studio.providers import buckets
from studio.providers.base import ErrorKind, InputFile, JobSpec, ProviderError
from studio.providers.models import ProviderCredential
from studio.providers.registry import get_provider, provider_class

log = logging.getLogger(__name__)


def build_spec(generation: Generation) -> JobSpec:
    inputs: dict[str, list[InputFile]] = {}
    links = list(
        GenerationInput.objects.filter(generation=generation)
        .select_related("asset")
        .order_by("slot", "position")
    )
    public_slots = _public_url_slots(generation) if links else set()
    for link in links:
        asset = link.asset
        url = ""
        if link.slot in public_slots:
            from studio.assets.signing import public_url

            url = public_url(asset)
        inputs.setdefault(link.slot, []).append(
            InputFile(
                slot=link.slot,
                path=_local_path(asset.file),
                content_type=asset.content_type,
                url=url,
                name=asset.file.name,
                width=asset.width,
                height=asset.height,
                duration=asset.duration,
                fps=asset.fps,
            )
        )
    return JobSpec(
        generation_id=generation.public_id,
        provider=generation.provider,
        model=generation.model,
        task=generation.task,
        prompt=generation.prompt.text,
        negative_prompt=generation.prompt.negative,
        size=generation.size or None,
        resolution=generation.resolution or None,
        duration=generation.duration,
        seed=generation.seed,
        params=generation.params,
        inputs=inputs,
        camera=generation.prompt.camera,
    )


def _public_url_slots(generation: Generation) -> set[str]:
    """The input slots this vendor fetches by URL (every slot of a needs_public_urls model, or marked ones)."""
    from studio.providers.catalog import get_model

    model = get_model(generation.provider, generation.model)
    return {slot.name for slot in model.media if model.needs_public_urls or slot.needs_public_url}


def _local_path(field_file) -> str:
    """A local path for a stored file (downloaded to a cache when the storage is remote)."""
    try:
        return field_file.path
    except NotImplementedError:
        cache = Path(settings.DATA_DIR) / "cache" / field_file.name
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            with field_file.open("rb") as src, open(cache, "wb") as dst:
                for chunk in iter(lambda: src.read(1024 * 1024), b""):
                    dst.write(chunk)
        return str(cache)


def _vendor_wait(generation_id: int) -> float:
    """Seconds this job must wait before its submit, 0.0 if it may go now: while the vendor already runs
    as many of this model's tasks for the account (the workspace's own key, or the instance-wide key that
    every workspace without one shares) as it allows (a few seconds), or while the account's share of the
    model's submits a second is spent (until a token is free; the token is taken here)."""
    row = (
        Generation.objects.filter(pk=generation_id, status=S.QUEUED)
        .values("workspace_id", "provider", "model")
        .first()
    )
    if row is None:
        return 0.0
    cls = provider_class(row["provider"])
    limit = cls.max_running.get(row["model"])
    if limit:
        running = Generation.objects.filter(
            provider=row["provider"], model=row["model"], status__in=(S.SUBMITTING, S.SUBMITTED, S.RUNNING)
        )
        own_key = ProviderCredential.objects.filter(
            workspace_id=row["workspace_id"], provider=row["provider"]
        )
        if own_key.exists():
            running = running.filter(workspace_id=row["workspace_id"])
        else:  # the instance-wide key: one account for every workspace without a key of its own
            running = running.exclude(workspace__credentials__provider=row["provider"])
        if running.count() >= limit:
            return 5.0
    rate = cls.submit_rates.get(row["model"])
    if rate is None:
        return 0.0
    provider = get_provider(row["provider"], workspace_id=row["workspace_id"])
    return buckets.take(provider.bucket_key(f"submit:{row['model']}"), rate)


def submit(generation_id: int) -> bool:
    """Claim a queued job and send it to its provider. False if someone else had it (or it isn't due)."""
    wait = _vendor_wait(generation_id)
    if wait > 0:
        # Wait our turn here rather than collect a 429: look again then.
        Generation.objects.filter(pk=generation_id, status=S.QUEUED).update(
            next_poll_at=timezone.now() + timedelta(seconds=wait * random.uniform(1.0, 1.5))
        )
        return False
    now = timezone.now()
    won = (
        Generation.objects.filter(pk=generation_id, status=S.QUEUED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .update(
            status=S.SUBMITTING,
            lease_until=now + rules.SUBMIT_LEASE,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if won != 1:
        return False
    try:
        generation = Generation.objects.select_related("prompt").get(pk=generation_id)
        provider = get_provider(generation.provider, workspace_id=generation.workspace_id)
        spec = build_spec(generation)
    except DatabaseError:
        # Nothing was sent, so the job simply goes back to the queue once the database answers again.
        log.warning("could not read generation %s to submit it; queued again", generation_id, exc_info=True)
        rules.write_through_outages(
            lambda: transition(
                generation_id,
                src=S.SUBMITTING,
                dst=S.QUEUED,
                lease_until=None,
                next_poll_at=timezone.now() + timedelta(seconds=2),
                attempts=F("attempts") - 1,
            )
        )
        return True
    except Exception as exc:  # nothing was sent: a configuration problem, not a vendor one
        log.exception("could not prepare generation %s", generation_id)
        transition(
            generation_id,
            src=S.SUBMITTING,
            dst=S.FAILED,
            **rules.error_fields(
                kind="permanent", code="setup", message=f"The job could not be prepared: {exc}"
            ),
        )
        return True
    try:
        submitted = provider.submit(spec)
    except ProviderError as exc:
        _submit_failed(generation, exc)
        return True
    except Exception as exc:  # a bug mid-call: we cannot know whether the vendor got the request
        log.exception("submit of generation %s crashed", generation_id)
        _submit_failed(
            generation, ProviderError(ErrorKind.UNKNOWN_OUTCOME, f"The submit crashed: {exc}", code="crash")
        )
        return True
    now = timezone.now()
    fields = {
        "external_id": submitted.external_id,
        "trace_id": submitted.trace_id[:128],
        "submitted_at": now,
        "next_poll_at": now + timedelta(seconds=provider.first_poll_delay),
        "lease_until": None,
        **rules.error_fields(),
    }

    def record() -> None:
        if not transition(generation_id, src=S.SUBMITTING, dst=S.SUBMITTED, **fields):
            # The sweeper gave up on us (lease expired) and marked it unconfirmed; the vendor's answer settles it.
            transition(generation_id, src=S.SUBMIT_UNKNOWN, dst=S.SUBMITTED, **fields)

    try:
        rules.write_through_outages(record)
    except DatabaseError:
        # The row stays 'submitting' and becomes 'submit unknown' when its lease runs out; the id is here.
        log.error(
            "generation %s was accepted by %s as task %s, but the database would not record it",
            generation.public_id,
            generation.provider,
            submitted.external_id,
        )
        raise
    return True


def _submit_failed(generation: Generation, exc: ProviderError) -> None:
    gid = generation.pk
    if exc.kind == ErrorKind.TRANSIENT and generation.attempts < rules.MAX_SUBMIT_ATTEMPTS:
        # The vendor proved no task was made (429, refused connection): try again later.
        transition(
            gid,
            src=S.SUBMITTING,
            dst=S.QUEUED,
            lease_until=None,
            next_poll_at=timezone.now() + rules.backoff(generation.attempts, exc.retry_after),
            **rules.error_fields(exc),
        )
    elif exc.kind == ErrorKind.UNKNOWN_OUTCOME:
        if provider_class(generation.provider).free_to_resubmit:
            transition(
                gid,
                src=S.SUBMITTING,
                dst=S.QUEUED,
                lease_until=None,
                next_poll_at=timezone.now(),
                **rules.error_fields(exc),
            )
        else:
            transition(
                gid,
                src=S.SUBMITTING,
                dst=S.SUBMIT_UNKNOWN,
                lease_until=None,
                next_poll_at=None,
                **rules.error_fields(exc),
            )
    else:
        transition(gid, src=S.SUBMITTING, dst=S.FAILED, **rules.error_fields(exc))


def recover_abandoned() -> int:
    """Rows whose worker died mid-submit: the vendor may have the job, so a person decides (unless free)."""
    now = timezone.now()
    count = 0
    stale = Generation.objects.filter(status=S.SUBMITTING, lease_until__lte=now).values_list("pk", "provider")
    for pk, provider in stale:
        free = provider_class(provider).free_to_resubmit
        dst = S.QUEUED if free else S.SUBMIT_UNKNOWN
        fields = {"lease_until": None, "next_poll_at": now if free else None}
        if not free:
            fields.update(
                rules.error_fields(
                    kind="unknown",
                    code="worker_lost",
                    message="The worker stopped while sending this job; it may or may not have reached the provider.",
                )
            )
        count += transition(pk, src=S.SUBMITTING, dst=dst, lease_expired_before=now, **fields)
    return count
