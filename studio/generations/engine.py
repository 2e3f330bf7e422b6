"""The engine: claim, submit, poll, download. Run by Celery (tasks.py) and by `generate --wait`.

Rules (docs/design.md, "The flow of one generation"):
- A row is worked on only by whoever won its conditional UPDATE (a claim with a lease).
- A submit that may have reached the vendor is never sent again on our own: it becomes submit_unknown.
- A finished result is downloaded at once (by the process's download pool, never holding the sweep),
  probed, given a poster, and stored before the job succeeds.
- A crash anywhere loses nothing: leases expire and the sweeper picks the row up again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from studio.assets.probe import ProbeError, make_poster, probe_av
from studio.generations import eta, live
from studio.generations.models import Generation, GenerationInput, result_path
from studio.generations.states import transition
from studio.net import FetchError
from studio.providers.base import ErrorKind, InputFile, JobSpec, Progress, ProviderError, RemoteState
from studio.providers.registry import get_provider, provider_class

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


def _backoff(attempt: int, retry_after: float | None = None) -> timedelta:
    seconds = min(60.0, 2.0 * (2 ** max(0, attempt - 1)))
    if retry_after:
        seconds = max(seconds, min(retry_after, 600.0))
    return timedelta(seconds=seconds)


def _error_fields(
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


# ------------------------------------------------------------------------------------------- submit


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


def _at_vendor_limit(generation_id: int) -> bool:
    """True when the vendor already runs as many of this model's tasks for this workspace as it allows."""
    row = Generation.objects.filter(pk=generation_id).values("workspace_id", "provider", "model").first()
    if row is None:
        return False
    limit = provider_class(row["provider"]).max_running.get(row["model"])
    if not limit:
        return False
    running = Generation.objects.filter(
        workspace_id=row["workspace_id"],
        provider=row["provider"],
        model=row["model"],
        status__in=(S.SUBMITTING, S.SUBMITTED, S.RUNNING),
    ).count()
    return running >= limit


def submit(generation_id: int) -> bool:
    """Claim a queued job and send it to its provider. False if someone else had it (or it isn't due)."""
    if _at_vendor_limit(generation_id):
        # Wait our turn here rather than collect a 429: look again in a few seconds.
        Generation.objects.filter(pk=generation_id, status=S.QUEUED).update(
            next_poll_at=timezone.now() + timedelta(seconds=5)
        )
        return False
    now = timezone.now()
    won = (
        Generation.objects.filter(pk=generation_id, status=S.QUEUED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .update(
            status=S.SUBMITTING, lease_until=now + SUBMIT_LEASE, attempts=F("attempts") + 1, updated_at=now
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
        _write_through_outages(
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
            **_error_fields(kind="permanent", code="setup", message=f"The job could not be prepared: {exc}"),
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
        **_error_fields(),
    }

    def record() -> None:
        if not transition(generation_id, src=S.SUBMITTING, dst=S.SUBMITTED, **fields):
            # The sweeper gave up on us (lease expired) and marked it unconfirmed; the vendor's answer settles it.
            transition(generation_id, src=S.SUBMIT_UNKNOWN, dst=S.SUBMITTED, **fields)

    try:
        _write_through_outages(record)
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


def _write_through_outages(write, *, attempts: int = 5, first_wait: float = 0.25) -> None:
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


def _submit_failed(generation: Generation, exc: ProviderError) -> None:
    gid = generation.pk
    if exc.kind == ErrorKind.TRANSIENT and generation.attempts < MAX_SUBMIT_ATTEMPTS:
        # The vendor proved no task was made (429, refused connection): try again later.
        transition(
            gid,
            src=S.SUBMITTING,
            dst=S.QUEUED,
            lease_until=None,
            next_poll_at=timezone.now() + _backoff(generation.attempts, exc.retry_after),
            **_error_fields(exc),
        )
    elif exc.kind == ErrorKind.UNKNOWN_OUTCOME:
        if provider_class(generation.provider).free_to_resubmit:
            transition(
                gid,
                src=S.SUBMITTING,
                dst=S.QUEUED,
                lease_until=None,
                next_poll_at=timezone.now(),
                **_error_fields(exc),
            )
        else:
            transition(
                gid,
                src=S.SUBMITTING,
                dst=S.SUBMIT_UNKNOWN,
                lease_until=None,
                next_poll_at=None,
                **_error_fields(exc),
            )
    else:
        transition(gid, src=S.SUBMITTING, dst=S.FAILED, **_error_fields(exc))


# --------------------------------------------------------------------------------------------- poll


def claim_poll(generation_id: int):
    """The lease this call took on a due job at the vendor (a datetime, its fencing token), or None."""
    now = timezone.now()
    lease = now + POLL_LEASE
    won = (
        Generation.objects.filter(pk=generation_id, status__in=REMOTE, next_poll_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_until=lease, polls=F("polls") + 1, updated_at=now)
        == 1
    )
    return lease if won else None


def poll(generation_id: int, *, background: bool = False) -> bool:
    """Claim a due job at the vendor, ask how it is, and act on the answer. False if not claimed.

    With ``background`` (the sweep), a finished result is handed to this process's download pool under
    the poll's lease instead of being fetched here, so the sweep never waits on a download."""
    lease = claim_poll(generation_id)
    if lease is None:
        return False
    generation = Generation.objects.get(pk=generation_id)
    provider = get_provider(generation.provider, workspace_id=generation.workspace_id)
    try:
        progress = provider.poll(generation.external_id)
    except ProviderError as exc:
        _poll_failed(generation, provider, exc)
        return True
    _apply_progress(generation, provider, progress, lease=lease if background else None)
    return True


def poll_from_sweep(generation_id: int) -> bool:
    return poll(generation_id, background=True)


def _reschedule(generation: Generation, delay: timedelta, **fields) -> None:
    Generation.objects.filter(pk=generation.pk, status=generation.status).update(
        lease_until=None, next_poll_at=timezone.now() + delay, updated_at=timezone.now(), **fields
    )


def _expired(generation: Generation, provider) -> bool:
    started = generation.submitted_at or generation.created_at
    return timezone.now() - started > timedelta(seconds=provider.task_ttl_seconds)


def _poll_failed(generation: Generation, provider, exc: ProviderError) -> None:
    if (exc.kind == ErrorKind.PERMANENT and not exc.config) or _expired(generation, provider):
        transition(generation.pk, src=generation.status, dst=S.FAILED, **_error_fields(exc))
        return
    if exc.doubtful:
        _doubtful_poll(generation, provider, exc)
        return
    # Transient trouble, or a key problem an admin can fix: keep the (paid) job and ask again later.
    delay = _backoff(min(generation.polls, 6), exc.retry_after) if not exc.config else timedelta(seconds=60)
    _reschedule(generation, delay, **_error_fields(exc))


def _doubtful_poll(generation: Generation, provider, exc: ProviderError) -> None:
    """An answer no vendor page documents (a 400, an unknown id): back off and ask again; after
    ``MAX_DOUBTFUL_POLLS`` in a row the job is unconfirmed, for a person, and its task id is kept."""
    before = generation.error_detail if generation.error_code == "doubtful" else None
    count = (before.get("doubtful_answers", 0) if isinstance(before, dict) else 0) + 1
    detail = {"doubtful_answers": count, "code": exc.code, "status": exc.status, "reply": exc.raw}
    if count >= MAX_DOUBTFUL_POLLS:
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
    delay = _backoff(count, exc.retry_after)
    _reschedule(
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
        if _expired(generation, provider):
            transition(
                gid,
                src=status,
                dst=S.FAILED,
                **_error_fields(
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
                    capacity=poll_capacity(),
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
            _start_download(gid, provider=provider, url=progress.result_url, lease=lease)
        else:
            download(gid, provider=provider, url=progress.result_url)
        return
    if progress.state == RemoteState.CANCELED:
        transition(
            gid,
            src=status,
            dst=S.CANCELED,
            **_error_fields(kind="permanent", code="canceled", message="The provider canceled the job."),
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
        **_error_fields(
            kind="permanent",
            code=progress.error_code or progress.state.value,
            message=message,
            raw=progress.raw,
        ),
    )


# ----------------------------------------------------------------------------------------- download


def staged_result(generation: Generation) -> Path:
    """Where a fetched result waits until storage has it: the vendor's URL may not work a second time.

    On the worker's own disk by default; STUDIO_RESULTS_DIR may point at a volume every worker mounts."""
    folder = (
        Path(settings.STUDIO_RESULTS_DIR)
        if settings.STUDIO_RESULTS_DIR
        else Path(settings.DATA_DIR) / "results"
    )
    return folder / f"{generation.public_id}.mp4"


def _fetch_once(generation: Generation, provider, url: str, work: Path) -> Path:
    """The result's bytes on our own disk, fetched at most once per job whatever fails after."""
    staged = staged_result(generation)
    if not staged.exists():
        staged.parent.mkdir(parents=True, exist_ok=True)
        # Fetched beside its final name (the same volume, which may be shared), then moved into place.
        part = staged.with_name(f".{staged.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            provider.download(url, part)
            os.replace(part, staged)  # whole or absent: a crash mid-fetch leaves nothing half-written here
        finally:
            part.unlink(missing_ok=True)
    return staged


def _store(local: Path, name: str) -> str:
    """Save under ``name`` (this job's own path): junk from an earlier failed save is replaced, not kept."""
    if default_storage.exists(name):
        default_storage.delete(name)
    try:
        with open(local, "rb") as fh:
            return default_storage.save(name, File(fh))
    except BaseException:
        with contextlib.suppress(Exception):
            if default_storage.exists(name):
                default_storage.delete(name)
        raise


def _start_download(generation_id: int, *, provider, url: str, lease) -> None:
    """Hand a result to this process's download pool. The row keeps the poll's lease; the download
    thread first renews it only if it is still that lease (a fencing token), so a row whose lease ran out
    while it waited for a thread (and which another worker has claimed since) is never fetched twice.
    If this process dies first, the lease runs out and the next sweep polls and downloads it."""

    def run(gid: int) -> bool:
        now = timezone.now()
        renewed = Generation.objects.filter(pk=gid, status=S.DOWNLOADING, lease_until=lease).update(
            lease_until=now + POLL_LEASE, updated_at=now
        )
        try:
            if renewed != 1:
                return False
            download(gid, provider=provider, url=url)
            return True
        finally:
            # One download per job: a download thread holds no connection between them, so the workers'
            # connection budget (studio.W003) stays the sweep threads'.
            connection.close()

    run.__name__ = "download"
    future = _pool("download").submit(_guarded, run, generation_id)
    with _downloads_lock:
        _downloads.add(future)
    future.add_done_callback(_download_done)


_downloads: set = set()
_downloads_lock = threading.Lock()


def _download_done(future) -> None:
    with _downloads_lock:
        _downloads.discard(future)
    _won, error = future.result()
    if error:
        log.warning("background download failed: %s", error)


def wait_for_downloads(timeout: float = 60.0) -> None:
    """Block until this process's background downloads are done (tests, the bench, a clean exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _downloads_lock:
            pending = list(_downloads)
        if not pending:
            return
        for future in pending:
            with contextlib.suppress(Exception):
                future.result(timeout=max(0.0, deadline - time.monotonic()))


def download(generation_id: int, *, provider, url: str) -> None:
    """Fetch (once), probe, poster, store; then succeeded. Transient trouble keeps the row for another try.

    The fetched file is staged under DATA_DIR until storage has it, so a full disk, a storage outage or a
    killed worker never sends us back to a result URL that may have expired since."""
    generation = Generation.objects.get(pk=generation_id)
    tmp_dir = Path(settings.DATA_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_dir, prefix="result-"))
    poster = work / "poster.jpg"
    try:
        video = _fetch_once(generation, provider, url, work)
        try:
            probe = probe_av(video)
        except ProbeError:
            video.unlink(missing_ok=True)  # not a video: keeping it would only fail the same way again
            raise
        make_poster(video, poster)
        video_name = _store(video, result_path(generation, "video.mp4"))
        poster_name = _store(poster, result_path(generation, "poster.jpg"))
    except (FetchError, ProviderError, ProbeError, OSError) as exc:
        transient = (
            getattr(exc, "transient", False)
            or (isinstance(exc, ProviderError) and exc.kind == ErrorKind.TRANSIENT)
            or (isinstance(exc, OSError) and not isinstance(exc, FetchError))
        )
        code = getattr(exc, "code", "") or type(exc).__name__
        if transient and not _expired(generation, provider):
            log.warning("saving the result of %s failed, will retry: %s", generation_id, exc)
            _reschedule(
                generation,
                _backoff(min(generation.polls, 5)),
                **_error_fields(
                    kind="transient", code=code, message=f"Saving the result failed; retrying: {exc}"
                ),
            )
        elif transition(
            generation_id,
            src=S.DOWNLOADING,
            dst=S.FAILED,
            **_error_fields(
                kind="permanent", code=code, message=f"The finished video could not be saved: {exc}"
            ),
        ):
            staged_result(generation).unlink(missing_ok=True)
        return
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if transition(
        generation_id,
        src=S.DOWNLOADING,
        dst=S.SUCCEEDED,
        video=video_name,
        poster=poster_name,
        width=probe.width,
        height=probe.height,
        result_duration=probe.duration,
        fps=probe.fps,
        frames=probe.frames,
        has_audio=probe.has_audio,
        bytes=probe.bytes,
        remote_url="",
        progress=1.0,
        **_error_fields(),
    ):
        video.unlink(missing_ok=True)


# -------------------------------------------------------------------------------------------- sweep


@dataclass
class SweepReport:
    """One tick's work. ``submitted`` and ``polled`` count the claims this process won, not candidates."""

    recovered: int = 0
    submitted: int = 0
    polled: int = 0
    errors: list[str] = field(default_factory=list)


_pools: dict[tuple[int, str], ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()


def _pool(kind: str = "sweep") -> ThreadPoolExecutor:
    key = (os.getpid(), kind)
    with _pool_lock:
        pool = _pools.get(key)
        if pool is None:
            # Vendor calls in flight at once per process (STUDIO_SWEEP_THREADS) and downloads besides
            # (STUDIO_DOWNLOAD_THREADS); each waits on the network, not the CPU, and keeps one database
            # connection.
            threads = settings.STUDIO_SWEEP_THREADS if kind == "sweep" else settings.STUDIO_DOWNLOAD_THREADS
            pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=kind)
            _pools[key] = pool
        return pool


_measured: dict[int, float] = {}  # pid -> polls a second a saturated sweep of this process last made


def poll_capacity() -> float:
    """Polls a second this process's sweep can make: what eta.py may book for any one second.

    Sweep threads over one call's time (STUDIO_POLL_CALL_SECONDS) until a sweep with more rows than
    threads has measured it (a busy machine, a slow database or vendor make fewer): the lower of the two."""
    nominal = settings.STUDIO_SWEEP_THREADS / max(0.01, settings.STUDIO_POLL_CALL_SECONDS)
    measured = _measured.get(os.getpid())
    return min(nominal, measured) if measured else nominal


def _measure(steps: int, seconds: float) -> None:
    if steps >= 2 * settings.STUDIO_SWEEP_THREADS and seconds > 0:
        rate = steps / seconds
        before = _measured.get(os.getpid())
        _measured[os.getpid()] = rate if before is None else 0.7 * before + 0.3 * rate


def close_pool_connections() -> None:
    """Close the database connection each sweep and download thread keeps between steps (before a
    database is dropped, as tests do). The barrier holds every thread until all have taken one closing job."""
    wait_for_downloads()
    for kind in ("sweep", "download"):
        pool = _pools.get((os.getpid(), kind))
        if pool is None:
            continue
        threads = pool._max_workers
        barrier = threading.Barrier(threads)

        def close(barrier=barrier) -> None:
            connection.close()
            barrier.wait(timeout=30)

        for future in [pool.submit(close) for _ in range(threads)]:
            future.result()


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
                _error_fields(
                    kind="unknown",
                    code="worker_lost",
                    message="The worker stopped while sending this job; it may or may not have reached the provider.",
                )
            )
        count += transition(pk, src=S.SUBMITTING, dst=dst, lease_expired_before=now, **fields)
    return count


def _guarded(fn, generation_id: int) -> tuple[bool, str | None]:
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


def sweep(*, limit: int = 500) -> SweepReport:
    """One tick: recover abandoned submits, submit due queued jobs, poll due remote jobs, concurrently.

    Finished results go to the download pool and are not waited for: the tick ends with its polls."""
    report = SweepReport(recovered=recover_abandoned())
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    queued = list(
        Generation.objects.filter(status=S.QUEUED)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:limit]
    )
    due = list(
        Generation.objects.filter(status__in=REMOTE, next_poll_at__lte=now)
        .filter(free)
        .order_by("next_poll_at")
        .values_list("pk", flat=True)[:limit]
    )
    pool = _pool()
    began = time.monotonic()
    steps = [("submitted", pool.submit(_guarded, submit, pk)) for pk in queued] + [
        ("polled", pool.submit(_guarded, poll_from_sweep, pk)) for pk in due
    ]
    for counter, future in steps:
        won, error = future.result()
        if won:
            setattr(report, counter, getattr(report, counter) + 1)
        if error:
            report.errors.append(error)
    _measure(len(steps), time.monotonic() - began)
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
