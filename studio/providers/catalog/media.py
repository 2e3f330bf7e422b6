"""One input file against its slot's limits, and inputs that must agree with each other."""

from __future__ import annotations

from .schema import MediaInfo, MediaSlot, Model
from .units import (
    ASPECT_TOLERANCE,
    COMMON_ASPECTS,
    FPS_TOLERANCE,
    _article,
    _fmt_bytes,
    _join_or,
    _num,
    aspect_label,
    closest_aspect,
    normalise_format,
)
from .vendors import provider_labels


def _as_list(value) -> list[MediaInfo]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None]
    return [value]


def _item_name(slot: MediaSlot, index: int, count: int) -> str:
    if count > 1:
        return f"{slot.title[:1].upper()}{slot.title[1:]} {index}"
    return f"The {slot.title}"


def _check_media_item(
    model: Model, slot: MediaSlot, info: MediaInfo, name: str, *, check_aspect: bool = True
) -> list[str]:
    """Messages for one input against its slot's limits (format, bytes, pixels, duration, fps, alpha...).
    ``check_aspect=False``: the person chose to send this image as is (see ``JobRequest.as_is``)."""
    out: list[str] = []
    lim = slot.limits
    if info.kind != slot.kind:
        return [
            f"{name} must be {_article(slot.kind)}; this file is {_article(info.kind or 'unknown file')}."
        ]
    fmt = normalise_format(info.format)
    if lim.formats is not None and fmt not in lim.formats:
        shown = (fmt or "an unknown format").upper()
        out.append(
            f"{name} is {shown}; {model.id} takes {_join_or(f.upper() for f in lim.formats)}. "
            f"Convert it first."
        )
    if lim.max_bytes is not None and info.bytes and info.bytes > lim.max_bytes:
        out.append(
            f"{name} is {_fmt_bytes(info.bytes)}; {model.id} takes at most {_fmt_bytes(lim.max_bytes)}."
        )
    if info.kind == "image" and info.animated and not lim.allow_animated:
        out.append(f"{name} is animated; use a still image.")
    if info.kind == "image" and info.has_alpha and not lim.allow_alpha:
        out.append(
            f"{name} has transparency (an alpha channel); {provider_labels()[model.provider]} takes "
            f"images without one. Flatten it onto a solid background first."
        )
    w, h = info.width, info.height
    if w and h:
        lo, hi = lim.min_side, lim.max_side
        if (lo is not None and min(w, h) < lo) or (hi is not None and max(w, h) > hi):
            if lo is not None and hi is not None:
                rule = f"each side must be between {lo} and {hi} pixels"
            elif lo is not None:
                rule = f"each side must be at least {lo} pixels"
            else:
                rule = f"each side must be at most {hi} pixels"
            out.append(f"{name} is {w}x{h}; {rule}. Resize it first.")
        if lim.aspects and check_aspect:
            label, error = closest_aspect(w, h, lim.aspects)
            if error > ASPECT_TOLERANCE:
                actual = aspect_label(w, h)
                near = "" if actual in COMMON_ASPECTS else f", closest to {label}"
                out.append(
                    f"{model.id} needs {_article(slot.title)} of {_join_or(lim.aspects)}; this "
                    f"{info.kind} is {actual} ({w}x{h}){near}. Crop it first."
                )
    elif lim.min_side or lim.max_side or lim.aspects:
        out.append(f"{name}: its width and height could not be read.")
    if info.kind in ("video", "audio"):
        d = info.duration
        if d is None and (lim.max_duration or lim.min_duration or lim.uses_first):
            out.append(f"{name}: its duration could not be read.")
        elif d is not None:
            slack = _slack(info.fps)
            if lim.max_duration is not None and d > lim.max_duration + slack:
                out.append(
                    f"{name} lasts {d:.1f} s; at most {_num(lim.max_duration)} s is allowed (the vendor "
                    f"would use only the first {_num(lim.max_duration)} s). Trim it first."
                )
            if lim.min_duration is not None and d < lim.min_duration - 0.05:
                out.append(f"{name} lasts {d:.1f} s; it must last at least {_num(lim.min_duration)} s.")
    if info.kind == "video":
        if info.fps is None and (lim.min_fps or lim.max_fps):
            out.append(f"{name}: its frame rate could not be read.")
        elif info.fps is not None:
            if lim.min_fps is not None and info.fps < lim.min_fps - FPS_TOLERANCE:
                out.append(f"{name} runs at {info.fps:g} fps; at least {_num(lim.min_fps)} fps is needed.")
            if lim.max_fps is not None and info.fps > lim.max_fps + FPS_TOLERANCE:
                out.append(f"{name} runs at {info.fps:g} fps; at most {_num(lim.max_fps)} fps is allowed.")
    return out


def _compare(prop: str, a: MediaInfo, b: MediaInfo) -> bool:
    if prop == "size":
        if not (a.width and a.height and b.width and b.height):
            return True
        return (a.width, a.height) == (b.width, b.height)
    if prop == "fps":
        if a.fps is None or b.fps is None:
            return True
        return abs(a.fps - b.fps) <= FPS_TOLERANCE
    if prop == "duration":
        if a.duration is None or b.duration is None:
            return True
        fps = a.fps or b.fps
        return abs(a.duration - b.duration) <= _slack(fps)
    if prop == "format":
        return normalise_format(a.format) == normalise_format(b.format)
    raise ValueError(prop)


def _describe(prop: str, info: MediaInfo) -> str:
    if prop == "size":
        return f"{info.width}x{info.height}"
    if prop == "fps":
        return f"{info.fps:g} fps"
    if prop == "duration":
        return f"{info.duration:.2f} s"
    return (normalise_format(info.format) or "?").upper()


_PROP_WORD = {"size": "resolution", "fps": "frame rate", "duration": "length", "format": "format"}


def _slack(fps: float | None) -> float:
    """Duration tolerance: one frame (a 5 s clip of 81 frames at 16 fps lasts 5.06 s), at least 0.05 s."""
    return max(0.05, (1.0 / fps) if fps else 0.0) + 1e-6
