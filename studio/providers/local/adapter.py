"""The embedded `local` provider: an offline preview renderer, honestly labelled (no AI).

It behaves like a cloud vendor so the whole flow runs offline: ``submit`` files the job and starts
rendering in a background thread of the calling process, ``poll`` reads the job's state file, and the
result is "downloaded" by copying the file. A render whose process died (no heartbeat) is restarted
by the next poll: rendering costs nothing, so doing it again is safe.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings

from studio.providers.base import (
    ErrorKind,
    JobSpec,
    Progress,
    Provider,
    ProviderError,
    RemoteState,
    Submitted,
)

STALE_AFTER = 20.0  # seconds without a heartbeat before a render counts as dead
_threads: dict[str, threading.Thread] = {}
_lock = threading.Lock()


def jobs_dir() -> Path:
    path = Path(settings.DATA_DIR) / "local-jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def render_spec(spec: JobSpec) -> dict:
    """The renderer's arguments from a job: sizes as numbers, inputs as local paths."""
    width, height = (int(n) for n in (spec.size or "1280x720").lower().split("x"))
    p = spec.params

    def path(slot: str) -> str | None:
        f = spec.first(slot)
        return f.path if f else None

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
        "ref_images": [f.path for f in spec.inputs.get("ref_images", [])],
        "obj_or_bg": list(p.get("obj_or_bg") or []),
        "control_condition": str(p.get("control_condition") or ""),
        "strength": float(p.get("strength", 1.0) if p.get("strength") is not None else 1.0),
        "top_scale": float(p.get("top_scale") or 1.0),
        "bottom_scale": float(p.get("bottom_scale") or 1.0),
        "left_scale": float(p.get("left_scale") or 1.0),
        "right_scale": float(p.get("right_scale") or 1.0),
        "audio": bool(p.get("audio")) or bool(spec.inputs.get("audio")),
    }


def _render(job: Path) -> None:
    from studio.providers.local.render import RenderError, RenderSpec, render

    state_file = job / "state.json"
    args = json.loads((job / "spec.json").read_text(encoding="utf-8"))
    args["ref_images"] = tuple(args["ref_images"])
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
    # Two processes may render the same job after a crash; each writes its own file, the last one wins.
    out = job / f"out.{os.getpid()}.{threading.get_ident()}.mp4"
    try:
        render(RenderSpec(**args), str(out), progress=progress)
        os.replace(out, job / "out.mp4")
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
        out.unlink(missing_ok=True)


def _start(job_id: str) -> None:
    with _lock:
        thread = _threads.get(job_id)
        if thread is not None and thread.is_alive():
            return
        thread = threading.Thread(
            target=_render, args=(jobs_dir() / job_id,), name=f"render-{job_id}", daemon=True
        )
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
        job = jobs_dir() / job_id
        job.mkdir()
        _write_json(job / "spec.json", render_spec(spec))
        _write_json(job / "state.json", {"state": "queued", "heartbeat": time.time()})
        _start(job_id)
        return Submitted(external_id=job_id)

    def poll(self, external_id: str) -> Progress:
        job = jobs_dir() / external_id
        try:
            state = json.loads((job / "state.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Progress(
                RemoteState.LOST,
                error_code="lost",
                error_message="The preview job is gone from this machine.",
            )
        except ValueError:
            return Progress(RemoteState.RUNNING)
        if state["state"] == "succeeded":
            return Progress(
                RemoteState.SUCCEEDED, result_url=(job / "out.mp4").as_uri(), fraction=1.0, raw=state
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
        source = Path(url.removeprefix("file://"))
        if jobs_dir().resolve() not in source.resolve().parents:
            raise ProviderError(ErrorKind.PERMANENT, "The preview result is not where it should be.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
