"""What the renderer is asked for (RenderSpec), what it made (RenderResult), what it refuses (RenderError)."""

from __future__ import annotations

from dataclasses import dataclass

from studio.providers.catalog import TASKS

_MAX_SIDE = 4096
_MAX_DURATION = 600.0


class RenderError(Exception):
    """The spec or an input file is unusable. The message is meant for the person who made the job."""


@dataclass(frozen=True)
class RenderSpec:
    task: str
    width: int
    height: int
    duration: float
    fps: int = 16
    prompt: str = ""
    camera: str = ""
    seed: int = 0
    image: str | None = None
    last_image: str | None = None
    video: str | None = None
    first_clip: str | None = None
    last_clip: str | None = None
    mask_image: str | None = None
    mask_video: str | None = None
    mask_frame_id: int = 1
    ref_images: tuple[str, ...] = ()
    obj_or_bg: tuple[str, ...] = ()
    control_condition: str = ""
    strength: float = 1.0
    top_scale: float = 1.0
    bottom_scale: float = 1.0
    left_scale: float = 1.0
    right_scale: float = 1.0
    audio: bool = False


@dataclass(frozen=True)
class RenderResult:
    width: int
    height: int
    duration: float
    fps: int
    frames: int
    has_audio: bool


def _validate(spec: RenderSpec) -> None:
    if spec.task not in TASKS:
        raise RenderError(f"Unknown task {spec.task!r}; expected one of {', '.join(TASKS)}.")
    for name in ("width", "height"):
        value = getattr(spec, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 16 <= value <= _MAX_SIDE:
            raise RenderError(f"The {name} must be a whole number of pixels from 16 to {_MAX_SIDE}.")
        if value % 2:
            raise RenderError(f"The {name} must be even for H.264 (got {value}).")
    if not isinstance(spec.fps, int) or isinstance(spec.fps, bool) or not 1 <= spec.fps <= 60:
        raise RenderError("The frame rate must be a whole number from 1 to 60.")
    try:
        duration = float(spec.duration)
    except (TypeError, ValueError):
        raise RenderError("The duration must be a number of seconds.") from None
    if not (duration > 0 and duration <= _MAX_DURATION):
        raise RenderError(f"The duration must be more than 0 and at most {_MAX_DURATION:g} seconds.")
