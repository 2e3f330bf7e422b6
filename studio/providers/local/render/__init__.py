"""The ``local`` provider's renderer: an honestly labelled offline preview, no AI.

It writes real H.264/MP4 files with PyAV at exactly the requested width, height, frame rate and length, so
the whole studio works without any model. Every task has a cheap procedural stand-in (a parallax
landscape for t2v, a camera move over the first frame for i2v, a luma-keyed morph for flf2v, colour and
line filters for the video tasks, ...). Most outputs carry a small "offline preview · no AI" label;
video_edit does not, because it promises to leave everything outside the mask untouched.

Pure Python (PyAV + Pillow, no numpy, no Django). Speed comes from whole-frame Pillow operations on
precomputed layers, rendering soft scenes at a reduced internal size and letting swscale upscale while
converting to YUV, and patching the sharp label straight into the YUV planes.

``render`` here runs one job; ``spec`` holds what it is asked for, ``image_tasks`` and ``video_tasks`` the
per-task renderers, built from ``camera``, ``inputs``, ``scene``, ``output`` and ``util``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

from .camera import CAMERA_MOVES, parse_camera
from .image_tasks import _render_flf2v, _render_i2v, _render_image_reference, _render_t2v
from .output import _Label, _Writer
from .spec import TASKS, RenderError, RenderResult, RenderSpec, _validate
from .video_tasks import _render_edit, _render_extension, _render_outpainting, _render_repainting

__all__ = [
    "CAMERA_MOVES",
    "TASKS",
    "RenderError",
    "RenderResult",
    "RenderSpec",
    "parse_camera",
    "render",
]


def render(
    spec: RenderSpec,
    out_path: str,
    *,
    progress: Callable[[float], None] | None = None,
    poster_path: str | None = None,
) -> RenderResult:
    """Render ``spec`` to an MP4 at ``out_path`` (written atomically) and optionally a JPEG poster."""
    _validate(spec)
    n = max(1, round(spec.duration * spec.fps))
    label = None if spec.task == "video_edit" else _Label(spec.width, spec.height, spec.prompt)
    part = f"{out_path}.part"
    writer = None
    try:
        writer = _Writer(part, spec, n, label=label, progress=progress, poster_path=poster_path)
        _RENDERERS[spec.task](spec, writer, n)
        writer.finish()
        os.replace(part, out_path)
    except BaseException:
        if writer is not None:
            writer.abort()
            if writer.poster_written:
                _unlink(poster_path)
        _unlink(part)
        raise
    if progress is not None:
        progress(1.0)
    return RenderResult(
        width=spec.width,
        height=spec.height,
        duration=n / spec.fps,
        fps=spec.fps,
        frames=writer.count,
        has_audio=bool(spec.audio),
    )


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


_RENDERERS: dict[str, Callable[[RenderSpec, _Writer, int], None]] = {
    "t2v": _render_t2v,
    "i2v": _render_i2v,
    "flf2v": _render_flf2v,
    "image_reference": _render_image_reference,
    "video_repainting": _render_repainting,
    "video_edit": _render_edit,
    "video_extension": _render_extension,
    "video_outpainting": _render_outpainting,
}
