"""The embedded `local` provider: an offline preview renderer, honestly labelled (no AI).

It behaves like a cloud vendor so the whole flow runs offline: ``submit`` files the job and starts
rendering in a background thread of the calling process, ``poll`` reads the job's state file, and the
result is "downloaded" by copying the file. The job's files live in the studio's storage
(``local-jobs/<id>/``), so any worker on any host polls, resumes and downloads any render. A render whose process died (no heartbeat) is restarted
by the next poll: rendering costs nothing, so doing it again is safe.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings

from studio import storage
from studio.providers.base import (
    ErrorKind,
    JobSpec,
    Progress,
    Provider,
    ProviderError,
    RemoteState,
    Submitted,
)

RESULT_SCHEME = "local-job:"  # a finished render's "URL": its job id; the file is in storage

STALE_AFTER = 20.0  # seconds without a heartbeat before a render counts as dead
JOBS = "local-jobs"  # in the studio's storage: every worker, on any host, sees every render
_threads: dict[str, threading.Thread] = {}
_lock = threading.Lock()
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_INPUT_KEYS = ("image", "last_image", "video", "first_clip", "last_clip", "mask_image", "mask_video")


def job_file(job_id: str, filename: str) -> str:
    """A render's file, by its name in storage (``local-jobs/<id>/state.json``, ``.../out.mp4``)."""
    return f"{JOBS}/{job_id}/{filename}"


def _write_json(name: str, data: dict) -> None:
    storage.put(name, json.dumps(data).encode())


def _read_json(name: str) -> dict | None:
    raw = storage.read(name)
    return None if raw is None else json.loads(raw)


def render_spec(spec: JobSpec) -> dict:
    """The renderer's arguments from a job: sizes as numbers, inputs as names in storage.

    Names, not paths: after a crash the render starts again in whichever worker polls next, on any host."""
    width, height = (int(n) for n in (spec.size or "1280x720").lower().split("x"))
    p = spec.params

    def stored(f) -> str:
        return f"storage:{f.name}" if f.name else f.path

    def path(slot: str) -> str | None:
        f = spec.first(slot)
        return stored(f) if f else None

    task = spec.task
    image = path("image") or (path("first_frame") if task == "video_extension" else None)
    last = path("last_image") or (path("last_frame") if task == "video_extension" else None)
    return {
        "task": task,
        "width": width,
        "height": height,
        "duration": float(spec.duration or 5),
        "fps": 16,
        "prompt": spec.prompt,
        "camera": spec.camera,
        "seed": int(spec.seed if spec.seed is not None and spec.seed >= 0 else 0),
        "image": image,
        "last_image": last,
        "video": path("video"),
        "first_clip": path("first_clip"),
        "last_clip": path("last_clip"),
        "mask_image": path("mask_image"),
        "mask_video": path("mask_video"),
        "mask_frame_id": int(p.get("mask_frame_id") or 1),
        "ref_images": [stored(f) for f in spec.inputs.get("ref_images", [])],
        "obj_or_bg": list(p.get("obj_or_bg") or []),
        "control_condition": str(p.get("control_condition") or ""),
        "strength": float(p.get("strength", 1.0) if p.get("strength") is not None else 1.0),
        "top_scale": float(p.get("top_scale") or 1.0),
        "bottom_scale": float(p.get("bottom_scale") or 1.0),
        "left_scale": float(p.get("left_scale") or 1.0),
        "right_scale": float(p.get("right_scale") or 1.0),
        "audio": bool(p.get("audio")) or bool(spec.inputs.get("audio")),
    }


def _local_inputs(args: dict, work: Path) -> None:
    """Replace the inputs' storage names by local files (the storage's own on local media, copies from S3)."""
    root = storage.local_root()
    count = 0

    def local(value: str | None) -> str | None:
        nonlocal count
        if not value or not value.startswith("storage:"):
            return value
        name = value.removeprefix("storage:")
        if root is not None:
            return str(root / name)
        count += 1
        dest = work / f"{count}-{Path(name).name}"
        storage.copy_to(name, dest)
        return str(dest)

    for key in _INPUT_KEYS:
        args[key] = local(args.get(key))
    args["ref_images"] = tuple(local(v) for v in args["ref_images"])


def _render(job_id: str) -> None:
    from studio.providers.local.render import RenderError, RenderSpec, render

    state_file = job_file(job_id, "state.json")
    args = _read_json(job_file(job_id, "spec.json"))
    args["obj_or_bg"] = tuple(args["obj_or_bg"])
    started = time.time()

    def progress(fraction: float) -> None:
        _write_json(
            state_file,
            {
                "state": "running",
                "progress": round(fraction, 3),
                "heartbeat": time.time(),
                "started": started,
                "pid": os.getpid(),
                "host": socket.gethostname(),
            },
        )

    progress(0.0)
    tmp_dir = Path(settings.DATA_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_dir, prefix=f"render-{job_id}-"))
    # Two processes may render the same job after a crash; each renders on its own, the last one wins.
    out = work / "out.mp4"
    try:
        _local_inputs(args, work)
        render(RenderSpec(**args), str(out), progress=progress)
        storage.put(job_file(job_id, "out.mp4"), out)
        _write_json(
            state_file,
            {
                "state": "succeeded",
                "progress": 1.0,
                "heartbeat": time.time(),
                "seconds": time.time() - started,
            },
        )
    except RenderError as exc:
        _write_json(
            state_file, {"state": "failed", "code": "render", "message": str(exc), "heartbeat": time.time()}
        )
    except Exception as exc:  # a renderer bug must still end the job, with a message
        _write_json(
            state_file,
            {
                "state": "failed",
                "code": "render_crash",
                "message": f"The preview renderer failed: {exc}",
                "heartbeat": time.time(),
            },
        )
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _start(job_id: str) -> None:
    with _lock:
        thread = _threads.get(job_id)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(target=_render, args=(job_id,), name=f"render-{job_id}", daemon=True)
        _threads[job_id] = thread
        thread.start()


def _renderer_gone(state: dict) -> bool:
    if state.get("host") == socket.gethostname() and state.get("pid"):
        try:
            os.kill(int(state["pid"]), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
    return time.time() - state.get("heartbeat", 0) > STALE_AFTER


class LocalProvider(Provider):
    name = "local"
    first_poll_delay = 0.5
    poll_steps = (0.5, 0.5, 1.0, 1.0)
    max_poll_interval = 1.5
    free_to_resubmit = True

    def submit(self, spec: JobSpec) -> Submitted:
        job_id = uuid.uuid4().hex
        _write_json(job_file(job_id, "spec.json"), render_spec(spec))
        _write_json(job_file(job_id, "state.json"), {"state": "queued", "heartbeat": time.time()})
        _start(job_id)
        return Submitted(external_id=job_id)

    def poll(self, external_id: str) -> Progress:
        if not _JOB_ID.match(external_id):
            return Progress(RemoteState.LOST, error_code="lost", error_message="No such preview job.")
        try:
            state = _read_json(job_file(external_id, "state.json"))
        except ValueError:
            return Progress(RemoteState.RUNNING)
        if state is None:
            return Progress(
                RemoteState.LOST,
                error_code="lost",
                error_message="The preview job is gone from the studio's storage.",
            )
        if state["state"] == "succeeded":
            return Progress(
                RemoteState.SUCCEEDED, result_url=RESULT_SCHEME + external_id, fraction=1.0, raw=state
            )
        if state["state"] == "failed":
            return Progress(
                RemoteState.FAILED,
                error_code=state.get("code", ""),
                error_message=state.get("message", ""),
                raw=state,
            )
        if _renderer_gone(state):
            _start(external_id)  # the process rendering it died; render again here
        return Progress(
            RemoteState.RUNNING if state["state"] == "running" else RemoteState.QUEUED,
            fraction=state.get("progress"),
            raw=state,
        )

    def cancel(self, external_id: str) -> bool:
        return False

    def check_key(self) -> None:
        return None

    def download(self, url: str, dest: Path) -> None:
        job_id = url.removeprefix(RESULT_SCHEME)
        if not url.startswith(RESULT_SCHEME) or not _JOB_ID.match(job_id):
            raise ProviderError(ErrorKind.PERMANENT, "The preview result is not where it should be.")
        try:
            storage.copy_to(job_file(job_id, "out.mp4"), dest)
        except FileNotFoundError:
            raise ProviderError(
                ErrorKind.PERMANENT, "The preview result is gone from the studio's storage."
            ) from None
