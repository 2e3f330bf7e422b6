"""Download: fetch a finished result once, probe it, make its poster, store both; then the job succeeded.

Results are fetched by this process's download pool under the poll's lease, so a sweep never waits on one;
a fetched file is staged until storage has it, so no failure after the fetch sends us back to a result URL
that may have expired."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from studio.assets.probe import ProbeError, make_poster, probe_av
from studio.generations.engine import pools, rules
from studio.generations.engine.rules import S
from studio.generations.models import Generation, result_path
from studio.generations.states import transition
from studio.net import FetchError
from studio.providers.base import ErrorKind, ProviderError

log = logging.getLogger(__name__)


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


def start(generation_id: int, *, provider, url: str, lease) -> None:
    """Hand a result to this process's download pool. The row keeps the poll's lease; the download
    thread first renews it only if it is still that lease (a fencing token), so a row whose lease ran out
    while it waited for a thread (and which another worker has claimed since) is never fetched twice.
    If this process dies first, the lease runs out and the next sweep polls and downloads it."""

    def run(gid: int) -> bool:
        now = timezone.now()
        renewed = Generation.objects.filter(pk=gid, status=S.DOWNLOADING, lease_until=lease).update(
            lease_until=now + rules.POLL_LEASE, updated_at=now
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
    future = pools.pool("download").submit(pools.guarded, run, generation_id)
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
        if transient and not rules.expired(generation, provider):
            log.warning("saving the result of %s failed, will retry: %s", generation_id, exc)
            rules.reschedule(
                generation,
                rules.backoff(min(generation.polls, 5)),
                **rules.error_fields(
                    kind="transient", code=code, message=f"Saving the result failed; retrying: {exc}"
                ),
            )
        elif transition(
            generation_id,
            src=S.DOWNLOADING,
            dst=S.FAILED,
            **rules.error_fields(
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
        **rules.error_fields(),
    ):
        video.unlink(missing_ok=True)
