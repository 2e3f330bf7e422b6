"""The ``local`` provider's renderer: an honestly labelled offline preview, no AI.

It writes real H.264/MP4 files with PyAV at exactly the requested width, height, frame rate and length, so
the whole studio works without any model. Every task has a cheap procedural stand-in (a parallax
landscape for t2v, a camera move over the first frame for i2v, a luma-keyed morph for flf2v, colour and
line filters for the video tasks, ...). Most outputs carry a small "offline preview · no AI" label;
video_edit does not, because it promises to leave everything outside the mask untouched.

Pure Python (PyAV + Pillow, no numpy, no Django). Speed comes from whole-frame Pillow operations on
precomputed layers, rendering soft scenes at a reduced internal size and letting swscale upscale while
converting to YUV, and patching the sharp label straight into the YUV planes.
"""

from __future__ import annotations

import colorsys
import contextlib
import hashlib
import math
import os
import random
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import av
from av.video.reformatter import Colorspace, Interpolation
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

__all__ = [
    "CAMERA_MOVES",
    "TASKS",
    "RenderError",
    "RenderResult",
    "RenderSpec",
    "parse_camera",
    "render",
]

from studio.providers.catalog import TASKS

CAMERA_MOVES = ("push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "orbit", "static")
LABEL_TEXT = "offline preview \u00b7 no AI"

_BILINEAR = Image.Resampling.BILINEAR
_LANCZOS = Image.Resampling.LANCZOS
_MAX_SIDE = 4096
_MAX_DURATION = 600.0
_AUDIO_RATE = 24000
_INTERNAL_AREA = 640 * 360  # soft procedural scenes are drawn at most this big, then upscaled by swscale


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


# ---------------------------------------------------------------------------------------------------------
# Public entry point


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


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# ---------------------------------------------------------------------------------------------------------
# Small helpers


def _clamp(v: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if v < lo else hi if v > hi else v


def _ease(t: float) -> float:
    """Ease in and out (sine), 0..1 -> 0..1."""
    return 0.5 - 0.5 * math.cos(math.pi * _clamp(t))


def _smooth(e0: float, e1: float, t: float) -> float:
    x = _clamp((t - e0) / (e1 - e0)) if e1 > e0 else float(t >= e1)
    return x * x * (3 - 2 * x)


def _mix(a: tuple, b: tuple, k: float) -> tuple[int, int, int]:
    return tuple(round(a[i] + (b[i] - a[i]) * k) for i in range(3))


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, _clamp(s), _clamp(v))
    return round(r * 255), round(g * 255), round(b * 255)


def _seed_int(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _t_of(i: int, n: int) -> float:
    return i / (n - 1) if n > 1 else 0.0


def _clip_box(box: tuple[float, float, float, float], w: int, h: int) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    return max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)


def _cover_box(sw: int, sh: int, w: int, h: int) -> tuple[float, float, float, float]:
    """The centred crop of a sw x sh source that has the aspect of w x h."""
    if sw * h > sh * w:  # source wider
        cw = sh * w / h
        return (sw - cw) / 2, 0.0, (sw + cw) / 2, float(sh)
    ch = sw * h / w
    return 0.0, (sh - ch) / 2, float(sw), (sh + ch) / 2


def _cover(img: Image.Image, w: int, h: int) -> Image.Image:
    return img.resize((w, h), _LANCZOS, box=_cover_box(*img.size, w, h), reducing_gap=3.0)


def _hue_shift(img: Image.Image, amount: float) -> Image.Image:
    h, s, v = img.convert("HSV").split()
    shift = round(amount * 256) % 256
    h = h.point([(i + shift) % 256 for i in range(256)])
    s = s.point([min(255, round(i * 1.25)) for i in range(256)])
    return Image.merge("HSV", (h, s, v)).convert("RGB")


def _mean_colour(img: Image.Image) -> tuple[int, int, int]:
    return img.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3.0


# ---------------------------------------------------------------------------------------------------------
# Camera


_CAMERA_PATTERNS = (
    ("push_in", r"\b(?:push|zoom|dolly|track|move)(?:es|s|ing)?[\s-]+(?:in|into|forward)\b"),
    ("pull_out", r"\b(?:pull|zoom|dolly|track|move)(?:es|s|ing)?[\s-]+(?:out|back|backwards?)\b"),
    ("pan_left", r"\bpan(?:s|ning)?[\s-]+(?:to[\s-]+the[\s-]+)?left\b"),
    ("pan_right", r"\bpan(?:s|ning)?[\s-]+(?:to[\s-]+the[\s-]+)?right\b"),
    ("tilt_up", r"\btilt(?:s|ing)?[\s-]+up(?:wards?)?\b"),
    ("tilt_down", r"\btilt(?:s|ing)?[\s-]+down(?:wards?)?\b"),
    ("orbit", r"\b(?:orbit(?:s|ing|al)?|arc(?:s|ing)?)\b"),
    ("static", r"\b(?:static|fixed|locked(?:[\s-]+off)?|no[\s-]+camera[\s-]+move(?:ment)?)\b"),
)


def parse_camera(text: str) -> str:
    """Map the free-text camera field to one of CAMERA_MOVES; the earliest keyword wins, default push in."""
    text = (text or "").lower()
    best, best_pos = "push_in", None
    for move, pattern in _CAMERA_PATTERNS:
        m = re.search(pattern, text)
        if m and (best_pos is None or m.start() < best_pos):
            best, best_pos = move, m.start()
    return best


@dataclass(frozen=True)
class _View:
    move: str
    zoom: float = 1.0  # >= 1: how far the window is zoomed into the source
    x: float = 0.0  # -1..1, share of the horizontal slack; + = window right of centre
    y: float = 0.0  # -1..1, + = window below centre
    yaw: float = 0.0  # keystone for orbit; + = left edge looks nearer


def _camera(move: str, t: float, amount: float = 1.0) -> _View:
    e = _ease(t)
    s = 1.0 - 2.0 * e  # +1 -> -1
    if move == "push_in":
        return _View(move, zoom=1.0 + 0.18 * amount * e)
    if move == "pull_out":
        return _View(move, zoom=1.0 + 0.18 * amount * (1.0 - e))
    if move in ("pan_left", "pan_right"):
        return _View(move, zoom=1.0 + 0.14 * amount, x=0.9 * s if move == "pan_left" else -0.9 * s)
    if move in ("tilt_up", "tilt_down"):
        return _View(move, zoom=1.0 + 0.14 * amount, y=0.9 * s if move == "tilt_up" else -0.9 * s)
    if move == "orbit":
        return _View(move, zoom=1.0 + 0.12 * amount, x=-0.85 * s, yaw=0.07 * amount * s)
    return _View("static")


def _window(sw: float, sh: float, zoom: float, x: float, y: float) -> tuple[float, float, float, float]:
    """Box of a sw x sh source seen at ``zoom`` (>= 1), shifted by x/y shares of the slack."""
    z = max(1.0, zoom)
    ww, wh = sw / z, sh / z
    cx = sw / 2 + _clamp(x, -1.0, 1.0) * (sw - ww) / 2
    cy = sh / 2 + _clamp(y, -1.0, 1.0) * (sh - wh) / 2
    return cx - ww / 2, cy - wh / 2, cx + ww / 2, cy + wh / 2


class _Viewer:
    """Renders a camera view over one still source; returns the same object while the view is unchanged."""

    def __init__(self, src: Image.Image, size: tuple[int, int]):
        self.src, self.size = src, size
        self._key: tuple | None = None
        self._img: Image.Image | None = None

    def view(self, v: _View, zoom_mul: float = 1.0) -> Image.Image:
        sw, sh = self.src.size
        box = _clip_box(_window(sw, sh, v.zoom * zoom_mul, v.x, v.y), sw, sh)
        key = (box, round(v.yaw, 6))
        if key == self._key and self._img is not None:
            return self._img
        if abs(v.yaw) > 1e-4:
            x0, y0, x1, y1 = box
            h = y1 - y0
            kl, kr = max(v.yaw, 0.0) * h / 2, max(-v.yaw, 0.0) * h / 2
            quad = (x0, y0 + kl, x0, y1 - kl, x1, y1 - kr, x1, y0 + kr)
            img = self.src.transform(self.size, Image.Transform.QUAD, quad, _BILINEAR)
        else:
            img = self.src.resize(self.size, _BILINEAR, box=box)
        self._key, self._img = key, img
        return img


# ---------------------------------------------------------------------------------------------------------
# Inputs


def _open_image(path: str | None, what: str, want: tuple[int, int] | None = None) -> Image.Image:
    if not path:
        raise RenderError(f"This task needs {what}.")
    name = os.path.basename(path)
    try:
        with Image.open(path) as im:
            if want and im.format == "JPEG":
                im.draft("RGB", want)
            im.load()
            img = ImageOps.exif_transpose(im)
    except FileNotFoundError:
        raise RenderError(f"The {what} ({name}) is missing.") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise RenderError(f"Could not read the {what} ({name}): it is not a usable image ({exc}).") from None
    if img.width < 1 or img.height < 1:
        raise RenderError(f"The {what} ({name}) is empty.")
    if img.mode not in ("RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() or "transparency" in img.info else "RGB")
    return img


def _load_rgb(path: str | None, what: str, want: tuple[int, int] | None = None) -> Image.Image:
    img = _open_image(path, what, want)
    if img.mode == "RGBA":
        bg = Image.new("RGB", img.size, (24, 24, 28))
        bg.paste(img, (0, 0), img)
        img = bg
    return img


class _VideoReader:
    """Decodes an input video with PyAV and resamples it to the output frame rate and size (cover-fit)."""

    def __init__(self, path: str | None, what: str):
        if not path:
            raise RenderError(f"This task needs {what}.")
        self.path, self.what = path, what
        name = os.path.basename(path)
        if not os.path.isfile(path):
            raise RenderError(f"The {what} ({name}) is missing.")
        try:
            with av.open(path) as c:
                if not c.streams.video:
                    raise RenderError(f"The {what} ({name}) has no video track.")
                s = c.streams.video[0]
                self.width = s.codec_context.width
                self.height = s.codec_context.height
                rate = s.average_rate or s.guessed_rate or s.base_rate
                self.src_fps = float(rate) if rate else 0.0
                if not 0.5 < self.src_fps < 1000:
                    self.src_fps = 25.0
                dur = None
                if s.duration and s.time_base:
                    dur = float(s.duration * s.time_base)
                elif c.duration:
                    dur = c.duration / 1_000_000
                self.duration = dur
        except RenderError:
            raise
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise RenderError(
                f"Could not read the {what} ({name}): it is not a usable video ({exc})."
            ) from None
        if not self.width or not self.height:
            raise RenderError(f"The {what} ({name}) has no picture size.")

    def count_frames(self, fps: int) -> int:
        """Frames this video lasts at the output rate (decodes it when the header does not say)."""
        dur = self.duration
        if not dur:
            times = [t for t, _ in self._decode()]
            dur = (times[-1] + 1.0 / self.src_fps) if times else 0.0
            self.duration = dur
        return max(1, round(dur * fps))

    def _decode(self) -> Iterator[tuple[float, av.VideoFrame]]:
        name = os.path.basename(self.path)
        got = 0
        try:
            with av.open(self.path) as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                t0 = None
                for idx, frame in enumerate(c.decode(s)):
                    ft = frame.time
                    if ft is None:
                        ft = idx / self.src_fps
                    if t0 is None:
                        t0 = ft
                    got += 1
                    yield ft - t0, frame
        except (av.FFmpegError, OSError, ValueError) as exc:
            if not got:
                raise RenderError(f"Could not decode the {self.what} ({name}): {exc}.") from None
        if not got:
            raise RenderError(f"The {self.what} ({name}) has no readable frames.")

    def frames(
        self, count: int, fps: int, convert: Callable[[av.VideoFrame], Image.Image], *, loop: bool = True
    ) -> Iterator[Image.Image]:
        """Yield ``count`` images sampled at i/fps; past the end loop (or hold the last frame)."""
        produced, offset, eps = 0, 0.0, 1e-4
        while produced < count:
            cur: av.VideoFrame | None = None
            cur_img: Image.Image | None = None
            last_t = 0.0
            for ft, frame in self._decode():
                while cur is not None and produced < count and produced / fps < offset + ft - eps:
                    if cur_img is None:
                        cur_img = convert(cur)
                    yield cur_img
                    produced += 1
                if produced >= count:
                    return
                cur, cur_img, last_t = frame, None, ft
            # past the last decoded frame
            if cur_img is None:
                cur_img = convert(cur)
            end = offset + last_t + 1.0 / self.src_fps
            if not loop or end - offset <= eps:
                while produced < count:
                    yield cur_img
                    produced += 1
                return
            while produced < count and produced / fps < end - eps:
                yield cur_img
                produced += 1
            offset = end


def _cover_converter(src_w: int, src_h: int, w: int, h: int) -> Callable[[av.VideoFrame], Image.Image]:
    """swscale to a size that covers w x h, then crop the centre (cheap, integer)."""

    def convert(frame: av.VideoFrame) -> Image.Image:
        fw, fh = frame.width or src_w, frame.height or src_h
        s = max(w / fw, h / fh)
        sw, sh = max(w, math.ceil(fw * s - 1e-6)), max(h, math.ceil(fh * s - 1e-6))
        img = frame.to_image(width=sw, height=sh, interpolation=Interpolation.BILINEAR)
        if (sw, sh) == (w, h):
            return img
        ox, oy = (sw - w) // 2, (sh - h) // 2
        return img.crop((ox, oy, ox + w, oy + h))

    return convert


def _first_frame(reader: _VideoReader, w: int, h: int) -> Image.Image:
    return next(reader.frames(1, 1, _cover_converter(reader.width, reader.height, w, h)))


# ---------------------------------------------------------------------------------------------------------
# Output: label, audio, encoder


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _excerpt(prompt: str, limit: int = 60) -> str:
    text = " ".join((prompt or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


class _Label:
    """The small corner label; applied either on an RGB frame or patched into a YUV frame."""

    def __init__(self, w: int, h: int, prompt: str):
        fs = max(8, round(math.sqrt(w * h) / 48))
        font = _font(fs)
        pad = max(3, round(fs * 0.55))
        margin = max(2, round(min(w, h) * 0.03))
        line_h = round(fs * 1.3)
        max_text_w = max(10, w - 2 * margin - 2 * pad)
        lines = [LABEL_TEXT]
        excerpt = _excerpt(prompt)
        while excerpt and font.getlength(excerpt) > max_text_w:
            excerpt = excerpt[:-2].rstrip() + "\u2026" if len(excerpt) > 2 else ""
        if excerpt:
            lines.append(excerpt)
        tw = math.ceil(max(font.getlength(s) for s in lines))
        pw = min(w - 2 * margin, tw + 2 * pad)
        ph = min(h - 2 * margin, line_h * len(lines) + 2 * pad - round(fs * 0.2))
        sprite = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
        d = ImageDraw.Draw(sprite)
        d.rounded_rectangle((0, 0, pw - 1, ph - 1), radius=max(2, round(fs * 0.45)), fill=(8, 10, 14, 120))
        for i, text in enumerate(lines):
            fill = (255, 255, 255, 235) if i == 0 else (235, 238, 245, 185)
            d.text((pad, pad + i * line_h - round(fs * 0.1)), text, font=font, fill=fill)
        x, y = margin, h - margin - ph
        # patch region: aligned to even pixels so the 4:2:0 chroma lines up
        self.x0, self.y0 = x & ~1, y & ~1
        self.x1, self.y1 = min(w, (x + pw + 1) & ~1), min(h, (y + ph + 1) & ~1)
        self.ox, self.oy = x - self.x0, y - self.y0
        self.sprite, self.size = sprite, (w, h)

    def draw_on(self, img: Image.Image) -> None:
        img.paste(self.sprite, (self.x0 + self.ox, self.y0 + self.oy), self.sprite)

    def patch(self, vf: av.VideoFrame, src: Image.Image) -> None:
        """Draw the label into yuv420p frame ``vf``, whose picture is ``src`` scaled to the output size."""
        w, h = self.size
        x0, y0, x1, y1 = self.x0, self.y0, self.x1, self.y1
        if src.size == (w, h):
            region = src.crop((x0, y0, x1, y1))
        else:
            sx, sy = src.width / w, src.height / h
            region = src.resize((x1 - x0, y1 - y0), _BILINEAR, box=(x0 * sx, y0 * sy, x1 * sx, y1 * sy))
        region.paste(self.sprite, (self.ox, self.oy), self.sprite)
        pv = av.VideoFrame.from_image(region).reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709)
        for i, sub in ((0, 1), (1, 2), (2, 2)):
            dplane, splane = vf.planes[i], pv.planes[i]
            dst, src_mv = memoryview(dplane), memoryview(splane)
            dls, sls = dplane.line_size, splane.line_size
            rx, ry, rw, rh = x0 // sub, y0 // sub, (x1 - x0) // sub, (y1 - y0) // sub
            for r in range(rh):
                d = (ry + r) * dls + rx
                s = r * sls
                dst[d : d + rw] = src_mv[s : s + rw]


class _Tone:
    """A quiet, soft chord with a touch of filtered noise (mono float samples)."""

    def __init__(self, total: int, seed: int):
        rng = random.Random(seed)
        base = rng.choice((98.0, 110.0, 130.81, 146.83))
        self.total = total
        self.w = tuple(2 * math.pi * f / _AUDIO_RATE for f in (base, base * 1.5, base * 2.0))
        self.lcg = (seed & 0xFFFFFFFF) or 1
        self.lp = 0.0

    def chunk(self, start: int, count: int) -> bytes:
        w0, w1, w2 = self.w
        out = array("f", bytes(4 * count))
        fade_len = 0.4 * _AUDIO_RATE
        lcg, lp, total = self.lcg, self.lp, self.total
        trem_w = 2 * math.pi * 0.2 / _AUDIO_RATE
        for j in range(count):
            n = start + j
            fade = min(1.0, n / fade_len, max(0.0, total - n) / fade_len)
            lcg = (lcg * 1664525 + 1013904223) & 0xFFFFFFFF
            lp += 0.03 * (lcg / 2147483648.0 - 1.0 - lp)
            tone = 0.03 * math.sin(w0 * n) + 0.016 * math.sin(w1 * n) + 0.01 * math.sin(w2 * n)
            out[j] = fade * (tone * (0.8 + 0.2 * math.sin(trem_w * n)) + 0.12 * lp)
        self.lcg, self.lp = lcg, lp
        return out.tobytes()


def _pick_codec() -> str:
    available = av.codecs_available
    for name in ("libx264", "libopenh264", "h264"):
        if name in available:
            return name
    raise RenderError("This PyAV build has no H.264 encoder, so the local preview cannot render.")


class _Writer:
    def __init__(
        self,
        path: str,
        spec: RenderSpec,
        n: int,
        *,
        label: _Label | None,
        progress: Callable[[float], None] | None,
        poster_path: str | None,
    ):
        self.w, self.h, self.fps, self.n = spec.width, spec.height, spec.fps, n
        self.label, self.progress, self.poster_path = label, progress, poster_path
        self.poster_index = min(n - 1, n // 3)
        self.step = max(1, math.ceil(n / 19))
        self.count = 0
        self.poster_written = False
        self._last_src: Image.Image | None = None
        self._last_vf: av.VideoFrame | None = None
        self._last_label = False
        codec = _pick_codec()
        self.container = av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"})
        try:
            st = self.container.add_stream(codec, rate=self.fps)
            st.width, st.height, st.pix_fmt = self.w, self.h, "yuv420p"
            if codec == "libx264":
                # No B-frames: with them (and mb-tree) this libx264 now and then writes a slightly different
                # file for the very same frames; without, output is byte-identical per seed, as fast, and
                # only a little bigger. (mbtree=0 also fixes it but doubles the size and halves the speed.)
                st.options = {"preset": "veryfast", "crf": "23", "bf": "0"}
            cc = st.codec_context
            cc.colorspace = cc.color_primaries = cc.color_trc = 1  # BT.709
            cc.color_range = 1  # limited (MPEG)
            self.stream = st
            self.audio = None
            if spec.audio:
                self.audio = self.container.add_stream("aac", rate=_AUDIO_RATE, layout="mono")
                self.audio_total = round(n / self.fps * _AUDIO_RATE)
                self.audio_pos = 0
                self.tone = _Tone(self.audio_total, _seed_int("audio", spec.seed, spec.prompt))
        except BaseException:
            self.container.close()
            raise

    def write(self, img: Image.Image, *, label: bool = True) -> None:
        """Encode the next frame; ``img`` may be smaller than the output (swscale upscales it)."""
        if self.count >= self.n:
            return
        use_label = label and self.label is not None
        if img is self._last_src and self._last_vf is not None and use_label == self._last_label:
            vf = self._last_vf
        else:
            if img.mode != "RGB":
                img = img.convert("RGB")
            vf = av.VideoFrame.from_image(img).reformat(
                width=self.w,
                height=self.h,
                format="yuv420p",
                dst_colorspace=Colorspace.ITU709,
                interpolation=Interpolation.BILINEAR,
            )
            if use_label:
                self.label.patch(vf, img)
            self._last_src, self._last_vf, self._last_label = img, vf, use_label
        vf.pts = self.count
        vf.time_base = Fraction(1, self.fps)
        self.container.mux(self.stream.encode(vf))
        if self.count == self.poster_index and self.poster_path:
            poster = vf.to_image(src_colorspace=Colorspace.ITU709)
            os.makedirs(os.path.dirname(os.path.abspath(self.poster_path)), exist_ok=True)
            poster.save(self.poster_path, "JPEG", quality=88)
            self.poster_written = True
        self.count += 1
        if self.audio is not None:
            self._audio_until(round(self.count / self.fps * _AUDIO_RATE), final=False)
        if self.progress is not None and self.count % self.step == 0 and self.count < self.n:
            self.progress(self.count / self.n)

    def _audio_until(self, target: int, *, final: bool) -> None:
        target = min(target, self.audio_total)
        while self.audio_pos < target and (final or target - self.audio_pos >= 1024):
            k = min(1024, target - self.audio_pos)
            frame = av.AudioFrame(format="fltp", layout="mono", samples=k)
            frame.planes[0].update(self.tone.chunk(self.audio_pos, k))
            frame.sample_rate = _AUDIO_RATE
            frame.pts = self.audio_pos
            frame.time_base = Fraction(1, _AUDIO_RATE)
            self.container.mux(self.audio.encode(frame))
            self.audio_pos += k

    def finish(self) -> None:
        while self.count < self.n and self._last_src is not None:  # a renderer came up short: hold
            self.write(self._last_src)
        if self.count < self.n:
            raise RenderError("Nothing was rendered.")
        self.container.mux(self.stream.encode(None))
        if self.audio is not None:
            self._audio_until(self.audio_total, final=True)
            self.container.mux(self.audio.encode(None))
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # best effort while another error propagates
            self.container.close()


# ---------------------------------------------------------------------------------------------------------
# Procedural landscape (t2v, and image_reference without a background)


_KEYWORDS = {
    "night": ("night", "moon", "star", "midnight", "galaxy", "nebula", "space", "dark"),
    "dusk": ("sunset", "dusk", "golden hour", "evening", "twilight", "sundown"),
    "dawn": ("sunrise", "dawn", "morning", "daybreak"),
    "green": ("forest", "jungle", "tree", "grass", "meadow", "garden", "park", "valley", "field"),
    "sand": ("desert", "sand", "dune", "canyon", "savanna", "mars"),
    "snow": ("snow", "ice", "winter", "glacier", "arctic", "frozen", "alps"),
    "water": ("ocean", "sea", "beach", "lake", "river", "water", "coast", "island", "wave"),
    "city": ("city", "street", "urban", "building", "skyline", "cyberpunk", "neon"),
}


def _has(prompt: str, key: str) -> bool:
    return any(re.search(rf"\b{re.escape(w)}", prompt) for w in _KEYWORDS[key])


@dataclass
class _Palette:
    sky_top: tuple
    sky_mid: tuple
    horizon: tuple
    sun: tuple
    glow: tuple
    cloud: tuple
    cloud_alpha: float
    hills: tuple  # far..near colours
    orb: tuple
    night: bool


def _palette(prompt: str, rng: random.Random) -> _Palette:
    p = (prompt or "").lower()
    if _has(p, "night"):
        mood = "night"
    elif _has(p, "dusk"):
        mood = "dusk"
    elif _has(p, "dawn"):
        mood = "dawn"
    else:
        mood = rng.choices(("day", "dusk", "dawn", "night"), weights=(45, 30, 15, 10))[0]
    j = rng.uniform(-0.04, 0.04)
    if mood == "day":
        top, mid, hor = _hsv(0.6 + j, 0.6, 0.78), _hsv(0.57 + j, 0.42, 0.92), _hsv(0.53 + j, 0.18, 0.99)
        sun, glow, cloud, ca = (255, 252, 240), (255, 250, 225), (255, 255, 255), 0.6
    elif mood == "dusk":
        top, mid, hor = _hsv(0.7 + j, 0.5, 0.42), _hsv(0.93 + j, 0.45, 0.8), _hsv(0.08 + j, 0.62, 1.0)
        sun, glow, cloud, ca = (255, 226, 170), (255, 170, 90), _hsv(0.95 + j, 0.3, 0.95), 0.45
    elif mood == "dawn":
        top, mid, hor = _hsv(0.62 + j, 0.35, 0.72), _hsv(0.9 + j, 0.2, 0.9), _hsv(0.1 + j, 0.32, 1.0)
        sun, glow, cloud, ca = (255, 245, 220), (255, 205, 170), (255, 240, 235), 0.5
    else:
        top, mid, hor = _hsv(0.66 + j, 0.65, 0.1), _hsv(0.64 + j, 0.55, 0.2), _hsv(0.6 + j, 0.45, 0.36)
        sun, glow, cloud, ca = (238, 242, 255), (150, 170, 230), _hsv(0.63, 0.3, 0.45), 0.35
    if _has(p, "green"):
        th, ts, tv = 0.3 + j, 0.55, 0.55
    elif _has(p, "sand"):
        th, ts, tv = 0.08 + j / 2, 0.55, 0.8
    elif _has(p, "snow"):
        th, ts, tv = 0.6, 0.12, 0.95
    elif _has(p, "water"):
        th, ts, tv = 0.55 + j, 0.6, 0.6
    elif _has(p, "city"):
        th, ts, tv = 0.64 + j, 0.25, 0.45
    else:
        th, ts, tv = rng.random(), rng.uniform(0.3, 0.6), rng.uniform(0.45, 0.7)
    dark = 0.35 if mood == "night" else 0.75 if mood == "dusk" else 1.0
    near = _hsv(th, ts, tv * 0.45 * dark)
    hills = (
        _mix(hor, _hsv(th, ts * 0.6, tv * dark), 0.35),
        _mix(hor, _hsv(th, ts * 0.8, tv * 0.8 * dark), 0.62),
        _mix(hor, near, 0.88),
    )
    orb = _mix(glow, (255, 255, 255), 0.5)
    return _Palette(top, mid, hor, sun, glow, cloud, ca, hills, orb, mood == "night")


def _soft_disc(d: int, power: float = 1.6) -> Image.Image:
    """An L disc of diameter d: 255 in the middle fading to 0 at the rim."""
    g = ImageOps.invert(Image.radial_gradient("L"))  # 255 centre .. 127 at r=128 .. 0 corners
    lut = [round(255 * _clamp((v - 127) / 128) ** power) for v in range(256)]
    return g.point(lut).resize((d, d), _BILINEAR)


class _Scene:
    """A parallax landscape: gradient sky with sun or moon, drifting clouds, three ridges, floating orbs."""

    PAD = 1.3  # layers are this much bigger than the view, leaving room for the camera

    def __init__(self, vw: int, vh: int, prompt: str, seed: int):
        self.vw, self.vh = vw, vh
        rng = random.Random(_seed_int("scene", seed, prompt))
        pal = _palette(prompt, rng)
        self.pal = pal
        lw, lh = round(vw * self.PAD), round(vh * self.PAD)
        oy = (lh - vh) / 2  # layer row of the view's top at zoom 1
        horizon = oy + vh * rng.uniform(0.58, 0.66)

        # sky: three-stop vertical gradient, sun/moon with glow, stars at night
        col = Image.new("RGB", (1, lh))
        px = col.load()
        for y in range(lh):
            k = y / max(1, horizon)
            if k < 0.55:
                c = _mix(pal.sky_top, pal.sky_mid, _smooth(0.0, 0.55, k))
            else:
                c = _mix(pal.sky_mid, pal.horizon, _smooth(0.55, 1.0, min(k, 1.0)))
            px[0, y] = c
        sky = col.resize((lw, lh), Image.Resampling.NEAREST)
        if pal.night:
            d = ImageDraw.Draw(sky)
            for _ in range(int(lw * lh / 900)):
                x, y = rng.uniform(0, lw), rng.uniform(0, horizon * 0.9)
                b = rng.uniform(0.35, 1.0) ** 2
                d.point((x, y), fill=_mix(pal.sky_top, (255, 255, 255), b))
        sun_x = lw * rng.uniform(0.28, 0.72)
        sun_y = horizon - vh * (rng.uniform(0.12, 0.3) if not pal.night else rng.uniform(0.3, 0.42))
        gd = round(vh * 1.1)
        sky.paste(
            pal.glow,
            (round(sun_x - gd / 2), round(sun_y - gd / 2)),
            _soft_disc(gd, 2.2).point([round(v * 0.55) for v in range(256)]),
        )
        sd = max(4, round(vh * (0.09 if not pal.night else 0.06)))
        disc = _soft_disc(sd * 4, 0.15).resize((sd, sd), _LANCZOS)
        sky.paste(pal.sun, (round(sun_x - sd / 2), round(sun_y - sd / 2)), disc)
        self.sky = sky

        # clouds: soft blurred ellipse clusters on a wide mask, drifting sideways
        cw = round(vw * 1.8)
        cm = Image.new("L", (cw, lh), 0)
        d = ImageDraw.Draw(cm)
        for _ in range(rng.randint(4, 7)):
            cx, cy = rng.uniform(0, cw), rng.uniform(oy + vh * 0.06, horizon - vh * 0.2)
            s = vh * rng.uniform(0.05, 0.1)
            for _ in range(rng.randint(3, 5)):
                ex, ey = cx + rng.uniform(-2.2, 2.2) * s, cy + rng.uniform(-0.4, 0.3) * s
                rx, ry = s * rng.uniform(1.2, 2.4), s * rng.uniform(0.45, 0.8)
                d.ellipse((ex - rx, ey - ry, ex + rx, ey + ry), fill=255)
        cm = cm.filter(ImageFilter.GaussianBlur(vh * 0.025))
        cm = cm.point([round(v * pal.cloud_alpha) for v in range(256)])
        self.clouds = cm
        self.cloud_rows = self._rows(cm)
        self.cloud_drift = vw * rng.uniform(0.05, 0.12) * rng.choice((-1, 1))

        # three ridges, far to near, supersampled polygons with soft tops
        self.hills: list[tuple[Image.Image, tuple[int, int], tuple, float]] = []
        for k, depth in enumerate((0.35, 0.6, 0.85)):
            base = horizon + vh * (0.02 + 0.1 * k)
            amp = vh * (0.05 + 0.03 * k) * rng.uniform(0.7, 1.3)
            waves = [
                (rng.uniform(1.0, 3.5) * (1 + j), rng.uniform(0, 2 * math.pi), 1 / (1 + j)) for j in range(3)
            ]
            ss = 2
            pts = []
            steps = max(8, lw // 6)
            for i in range(steps + 1):
                x = lw * i / steps
                u = x / lw
                yv = base - amp * sum(a * math.sin(2 * math.pi * f * u + ph) for f, ph, a in waves) / 1.8
                pts.append((x * ss, yv * ss))
            pts += [(lw * ss, lh * ss), (0, lh * ss)]
            m = Image.new("L", (lw * ss, lh * ss), 0)
            ImageDraw.Draw(m).polygon(pts, fill=255)
            m = m.resize((lw, lh), Image.Resampling.BOX)
            m = m.filter(ImageFilter.GaussianBlur(max(0.6, vh * (0.006 - 0.0015 * k))))
            self.hills.append((m, self._rows(m), pal.hills[k], depth))

        # floating orbs (near layer coordinates)
        self.orbs = []
        for _ in range(rng.randint(5, 8)):
            r = vh * rng.uniform(0.012, 0.035)
            self.orbs.append(
                (
                    rng.uniform(0, lw),
                    rng.uniform(oy, oy + vh * 1.1),
                    r,
                    rng.uniform(0.04, 0.12) * vh,
                    rng.uniform(0, 2 * math.pi),
                    rng.uniform(0.35, 0.8),
                )
            )
        self.layer_size = (lw, lh)
        self._orb_sprite = _soft_disc(64, 1.4)
        self._orb_pad = 24  # room for sub-pixel boxes down to ~5 px orbs
        op = Image.new("L", (64 + 2 * self._orb_pad,) * 2, 0)
        op.paste(self._orb_sprite, (self._orb_pad, self._orb_pad))
        self._orb_sprite = op

        # vignette
        vg = ImageOps.invert(Image.radial_gradient("L")).point(
            [round(200 + 55 * _clamp((v - 40) / 215) ** 0.7) for v in range(256)]
        )
        self.vignette = vg.resize((vw, vh), _BILINEAR).convert("RGB")

    @staticmethod
    def _rows(mask: Image.Image) -> tuple[int, int]:
        bbox = mask.getbbox()
        return (bbox[1], bbox[3]) if bbox else (0, 0)

    def _box(self, size: tuple[int, int], view: _View, depth: float, drift: float = 0.0):
        lw, lh = size
        zd = view.zoom ** (0.35 + 0.9 * depth)
        par = _clamp((depth - 0.45) * 2.2, -1.0, 1.0) if view.move == "orbit" else 0.3 + 0.7 * depth
        ww, wh = self.vw / zd, self.vh / zd
        cx = lw / 2 + view.x * par * 0.13 * self.vw + drift
        cy = lh / 2 + view.y * par * 0.13 * self.vh
        cx = _clamp(cx, ww / 2, lw - ww / 2)
        cy = _clamp(cy, wh / 2, lh - wh / 2)
        return cx - ww / 2, cy - wh / 2, cx + ww / 2, cy + wh / 2

    def _paste_mask(self, frame, mask, rows, box, fill) -> None:
        r0, r1 = rows
        if r1 <= r0:
            return
        bx0, by0, bx1, by1 = box
        scale = self.vh / (by1 - by0)
        ys0 = max(0, math.floor((r0 - by0) * scale))
        ys1 = min(self.vh, math.ceil((r1 - by0) * scale))
        if ys1 <= ys0:
            return
        sub = _clip_box((bx0, by0 + ys0 / scale, bx1, by0 + ys1 / scale), *mask.size)
        m = mask.resize((self.vw, ys1 - ys0), _BILINEAR, box=sub)
        frame.paste(fill, (0, ys0, self.vw, ys1), m)

    def render(self, view: _View, t: float) -> Image.Image:
        vw, vh = self.vw, self.vh
        frame = self.sky.resize(
            (vw, vh), _BILINEAR, box=_clip_box(self._box(self.layer_size, view, 0.0), *self.layer_size)
        )
        drift = (t - 0.5) * self.cloud_drift
        self._paste_mask(
            frame,
            self.clouds,
            self.cloud_rows,
            self._box(self.clouds.size, view, 0.15, drift),
            self.pal.cloud,
        )
        for mask, rows, colour, depth in self.hills:
            self._paste_mask(frame, mask, rows, self._box(mask.size, view, depth), colour)
        # orbs on the near layer, sub-pixel placed
        bx0, by0, bx1, _ = self._box(self.layer_size, view, 1.0)
        k = vw / (bx1 - bx0)
        spr, pad = self._orb_sprite, self._orb_pad
        for ox, oy, r, rise, ph, alpha in self.orbs:
            lx = ox + math.sin(ph + t * 2.4) * r * 1.5
            ly = (oy - rise * t * 3.0 - (by0 - r * 2)) % (vh * 1.25 + r * 4) + by0 - r * 2
            sx, sy = (lx - bx0) * k, (ly - by0) * k
            dd = 2 * r * k
            if dd < 1.5 or sx < -dd or sy < -dd or sx > vw + dd or sy > vh + dd:
                continue
            out = math.ceil(dd) + 2
            left, top = math.floor(sx - dd / 2) - 1, math.floor(sy - dd / 2) - 1
            sc = 64 / dd
            fx, fy = (left - (sx - dd / 2)) * sc + pad, (top - (sy - dd / 2)) * sc + pad
            m = spr.resize(
                (out, out), _BILINEAR, box=_clip_box((fx, fy, fx + out * sc, fy + out * sc), *spr.size)
            )
            if alpha < 1:
                m = m.point([round(v * alpha) for v in range(256)])
            frame.paste(self.pal.orb, (left, top, left + out, top + out), m)
        return ImageChops.multiply(frame, self.vignette)


def _internal_size(w: int, h: int) -> tuple[int, int]:
    s = min(1.0, math.sqrt(_INTERNAL_AREA / (w * h)))
    return max(16, round(w * s)), max(16, round(h * s))


# ---------------------------------------------------------------------------------------------------------
# Tasks


def _render_t2v(spec: RenderSpec, out: _Writer, n: int) -> None:
    vw, vh = _internal_size(spec.width, spec.height)
    scene = _Scene(vw, vh, spec.prompt, spec.seed)
    move = parse_camera(spec.camera)
    for i in range(n):
        t = _t_of(i, n)
        out.write(scene.render(_camera(move, t), t))


def _render_i2v(spec: RenderSpec, out: _Writer, n: int) -> None:
    w, h = spec.width, spec.height
    img = _load_rgb(spec.image, "a first-frame image", (w, h))
    viewer = _Viewer(_cover(img, round(w * 1.2), round(h * 1.2)), (w, h))
    move = parse_camera(spec.camera)
    for i in range(n):
        out.write(viewer.view(_camera(move, _t_of(i, n))))


def _luma_lut(alpha: float, soft: float = 0.5) -> list[int]:
    """Mask LUT for a luma-keyed dissolve: bright pixels of the incoming image arrive first."""
    return [round(255 * _clamp((alpha - soft * (1 - v / 255)) / (1 - soft))) for v in range(256)]


class _Morph:
    """Dissolve between two moving stills, keyed on the incoming image's (blurred) brightness."""

    def __init__(self, a: Image.Image, b: Image.Image, size: tuple[int, int]):
        self.a, self.b = _Viewer(a, size), _Viewer(b, size)
        self.size = size
        lw, lh = max(8, b.width // 4), max(8, b.height // 4)
        self.luma = b.convert("L").resize((lw, lh), Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(2))
        self.luma = ImageOps.autocontrast(self.luma, cutoff=2)

    def frame(
        self, va: _View, vb: _View, alpha: float, zoom_a: float = 1.0, zoom_b: float = 1.0
    ) -> Image.Image:
        if alpha <= 0.0:
            return self.a.view(va, zoom_a)
        if alpha >= 1.0:
            return self.b.view(vb, zoom_b)
        ia, ib = self.a.view(va, zoom_a), self.b.view(vb, zoom_b)
        sw, sh = self.b.src.size
        box = _window(sw, sh, vb.zoom * zoom_b, vb.x, vb.y)
        q = self.luma.width / sw
        mask = self.luma.resize(
            self.size, _BILINEAR, box=_clip_box(tuple(c * q for c in box), *self.luma.size)
        )
        return Image.composite(ib, ia, mask.point(_luma_lut(alpha)))


def _render_flf2v(spec: RenderSpec, out: _Writer, n: int) -> None:
    w, h = spec.width, spec.height
    sw, sh = round(w * 1.15), round(h * 1.15)
    a = _cover(_load_rgb(spec.image, "a first-frame image", (w, h)), sw, sh)
    b = _cover(_load_rgb(spec.last_image, "a last-frame image", (w, h)), sw, sh)
    morph = _Morph(a, b, (w, h))
    move = parse_camera(spec.camera)
    for i in range(n):
        t = _t_of(i, n)
        # the move swells and settles, so the first and last frames are exactly the two images
        v = _camera(move, t, 0.6 * math.sin(math.pi * t))
        alpha = _smooth(0.2, 0.8, t)
        out.write(morph.frame(v, v, alpha, zoom_a=1.0 + 0.05 * math.sin(math.pi * alpha)))


def _render_image_reference(spec: RenderSpec, out: _Writer, n: int) -> None:
    w, h = spec.width, spec.height
    if not spec.ref_images:
        raise RenderError("Reference images to video needs at least one reference image.")
    if len(spec.ref_images) > 3:
        raise RenderError("Reference images to video takes at most three reference images.")
    roles = [
        (str(spec.obj_or_bg[i]).strip().lower() if i < len(spec.obj_or_bg) else "obj")
        for i in range(len(spec.ref_images))
    ]
    bg_path = next((p for p, r in zip(spec.ref_images, roles, strict=True) if r == "bg"), None)
    obj_paths = [p for p, r in zip(spec.ref_images, roles, strict=True) if r != "bg"]
    move = parse_camera(spec.camera)
    rng = random.Random(_seed_int("refs", spec.seed, spec.prompt))

    if bg_path:
        viewer = _Viewer(
            _cover(
                _load_rgb(bg_path, "background reference image", (w, h)), round(w * 1.15), round(h * 1.15)
            ),
            (w, h),
        )

        def background(v: _View, t: float) -> Image.Image:
            return viewer.view(v).copy()

    else:
        scene = _Scene(*_internal_size(w, h), spec.prompt, spec.seed)

        def background(v: _View, t: float) -> Image.Image:
            return scene.render(v, t).resize((w, h), _BILINEAR)

    k = len(obj_paths)
    sprites = []
    for idx, p in enumerate(obj_paths):
        img = _open_image(p, f"reference image {idx + 1}", (w, h))
        max_h = h * (0.62 if k == 1 else 0.5 if k == 2 else 0.42)
        max_w = w * 0.8 / max(1, k)
        obj = _cutout(img, max_w, max_h)
        shadow = _shadow(obj, h)
        x = w * (idx + 1) / (k + 1)
        y = h * 0.9 - obj.height / 2
        sprites.append((obj, shadow, x, y, rng.uniform(0, 2 * math.pi), rng.uniform(0.6, 1.2)))

    cache: dict[tuple[int, int], tuple[Image.Image, Image.Image]] = {}
    for i in range(n):
        t = _t_of(i, n)
        v = _camera(move, t, 0.6)
        frame = background(v, t)
        zd = v.zoom
        for j, (obj, shadow, x, y, ph, sp) in enumerate(sprites):
            dx = math.sin(ph + t * 2.2 * sp) * w * 0.015 + (t - 0.5) * w * 0.03 * (1 if j % 2 else -1)
            dy = math.sin(ph * 1.7 + t * 3.1 * sp) * h * 0.01
            sx = w / 2 + (x + dx - w / 2) * zd - v.x * 0.06 * w
            sy = h / 2 + (y + dy - h / 2) * zd - v.y * 0.06 * h
            q = round(zd * 100)
            key = (j, q)
            if key not in cache:
                s = q / 100
                size = (max(1, round(obj.width * s)), max(1, round(obj.height * s)))
                cache[key] = (
                    obj.resize(size, _BILINEAR),
                    shadow.resize((round(shadow.width * s), round(shadow.height * s)), _BILINEAR),
                )
            o, sh_img = cache[key]
            off = h * 0.018
            frame.paste(
                sh_img, (round(sx - sh_img.width / 2 + off), round(sy - sh_img.height / 2 + off)), sh_img
            )
            frame.paste(o, (round(sx - o.width / 2), round(sy - o.height / 2)), o)
        out.write(frame)


def _cutout(img: Image.Image, max_w: float, max_h: float) -> Image.Image:
    """Scale a reference to fit max_w x max_h and give it an alpha: its own, a keyed flat background, or a
    soft rounded card when the background is busy."""
    s = min(max_w / img.width, max_h / img.height)
    size = (max(2, round(img.width * s)), max(2, round(img.height * s)))
    im = img.convert("RGBA").resize(size, _LANCZOS, reducing_gap=3.0)
    alpha = im.getchannel("A")
    if alpha.getextrema()[0] < 200:
        return im
    rgb = im.convert("RGB")
    w, h = size
    b = max(1, min(w, h) // 25)
    strips = [
        rgb.crop((0, 0, w, b)),
        rgb.crop((0, h - b, w, h)),
        rgb.crop((0, 0, b, h)),
        rgb.crop((w - b, 0, w, h)),
    ]
    cols = [_mean_colour(s) for s in strips]
    bg = tuple(round(sum(c[i] for c in cols) / 4) for i in range(3))
    diff = ImageChops.difference(rgb, Image.new("RGB", size, bg)).convert("L")
    mask = diff.point(lambda v: 255 if v > 40 else 0).filter(ImageFilter.MedianFilter(5))
    cover = ImageStat.Stat(mask).mean[0] / 255
    edge = (
        sum(
            ImageStat.Stat(mask.crop(c)).mean[0]
            for c in ((0, 0, w, b), (0, h - b, w, h), (0, 0, b, h), (w - b, 0, w, h))
        )
        / 4
        / 255
    )
    if not (0.05 < cover < 0.92 and edge < 0.2):
        mask = Image.new("L", size, 0)
        r = max(2, round(min(w, h) * 0.08))
        ImageDraw.Draw(mask).rounded_rectangle((1, 1, w - 2, h - 2), radius=r, fill=255)
    im.putalpha(mask.filter(ImageFilter.GaussianBlur(1.0)))
    return im


def _shadow(obj: Image.Image, h: int) -> Image.Image:
    r = max(2, round(h * 0.015))
    a = obj.getchannel("A")
    big = Image.new("L", (a.width + 4 * r, a.height + 4 * r), 0)
    big.paste(a, (2 * r, 2 * r))
    big = big.filter(ImageFilter.GaussianBlur(r)).point([round(v * 0.5) for v in range(256)])
    sh = Image.new("RGBA", big.size, (0, 0, 0, 0))
    sh.putalpha(big)
    return sh


# --- video tasks -----------------------------------------------------------------------------------------


def _depth_filter(img: Image.Image, tint: tuple | None) -> Image.Image:
    w, h = img.size
    sw, sh = max(8, w // 8), max(8, h // 8)
    lum = img.convert("L").resize((sw, sh), Image.Resampling.BOX)
    ramp = Image.linear_gradient("L").resize((sw, sh), _BILINEAR)  # lower rows read as nearer
    lum = ImageOps.autocontrast(Image.blend(lum, ramp, 0.35), cutoff=1).filter(ImageFilter.GaussianBlur(1.5))
    mid = tint or (214, 62, 120)
    col = ImageOps.colorize(lum, black=(14, 8, 40), white=(252, 236, 150), mid=mid)
    return col.resize((w, h), _BILINEAR)


def _scribble_filter(img: Image.Image, tint: tuple | None) -> Image.Image:
    w, h = img.size
    sw, sh = max(8, w // 4), max(8, h // 4)
    flat = ImageOps.posterize(img.resize((sw, sh), Image.Resampling.BOX).filter(ImageFilter.SMOOTH_MORE), 3)
    flat = flat.resize((w, h), _BILINEAR)
    if tint:
        flat = Image.blend(
            flat, ImageChops.multiply(flat, Image.new("RGB", (w, h), _mix(tint, (255, 255, 255), 0.5))), 0.5
        )
    edges = img.convert("L").filter(ImageFilter.SMOOTH).filter(ImageFilter.FIND_EDGES)
    ImageDraw.Draw(edges).rectangle((0, 0, w - 1, h - 1), outline=0)  # the filter's own frame border
    edges = edges.point(lambda v: 255 if v > 20 else v * 10)
    if min(w, h) >= 360:
        edges = edges.filter(ImageFilter.MaxFilter(3))
    ink = ImageOps.invert(edges)
    paper = Image.blend(flat, Image.new("RGB", (w, h), (246, 242, 232)), 0.35)
    return ImageChops.multiply(paper, ink.convert("RGB"))


@lru_cache(maxsize=8)
def _rainbow(w: int, h: int, vertical: bool) -> Image.Image:
    n = 64
    strip = Image.new("RGB", (n, 1))
    for i in range(n):
        strip.putpixel((i, 0), _hsv(i / n * 0.85, 0.85, 1.0))
    if vertical:
        return strip.transpose(Image.Transpose.ROTATE_270).resize((w, h), _BILINEAR)
    return strip.resize((w, h), _BILINEAR)


def _pose_filter(img: Image.Image, face: bool) -> Image.Image:
    w, h = img.size
    sw, sh = max(8, w // 2), max(8, h // 2)
    g = img.convert("L").resize((sw, sh), Image.Resampling.BOX).filter(ImageFilter.GaussianBlur(1.2))
    e = g.filter(ImageFilter.FIND_EDGES)
    ImageDraw.Draw(e).rectangle((0, 0, sw - 1, sh - 1), outline=0)
    e = e.point(lambda v: min(255, v * 6)).filter(ImageFilter.MaxFilter(3))
    e = e.filter(ImageFilter.GaussianBlur(1)).resize((w, h), _BILINEAR)
    neon = ImageChops.multiply(e.convert("RGB"), _rainbow(w, h, face))
    glow = neon.resize((max(4, w // 8), max(4, h // 8)), Image.Resampling.BOX).filter(
        ImageFilter.GaussianBlur(1.5)
    )
    return ImageChops.add(neon, glow.resize((w, h), _BILINEAR).point(lambda v: v // 2))


def _control(img: Image.Image, condition: str, tint: tuple | None) -> Image.Image:
    c = (condition or "").strip().lower()
    if c == "scribble":
        return _scribble_filter(img, tint)
    if c in ("posebody", "posebodyface"):
        return _pose_filter(img, c == "posebodyface")
    return _depth_filter(img, tint)


def _ref_tint(spec: RenderSpec) -> tuple | None:
    if not spec.ref_images:
        return None
    c = _mean_colour(_load_rgb(spec.ref_images[0], "reference image", (64, 64)))
    h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in c))
    return _hsv(h, max(s, 0.45), max(v, 0.7))


def _render_repainting(spec: RenderSpec, out: _Writer, n: int) -> None:
    w, h = spec.width, spec.height
    rd = _VideoReader(spec.video, "an input video")
    tint = _ref_tint(spec)
    keep = 0.3 * _clamp(float(spec.strength))  # higher strength stays closer to the source
    conv = _cover_converter(rd.width, rd.height, w, h)
    for src in rd.frames(n, spec.fps, conv):
        styled = _control(src, spec.control_condition, tint)
        out.write(Image.blend(styled, src, keep) if keep > 0 else styled)


def _render_edit(spec: RenderSpec, out: _Writer, n: int) -> None:
    w, h = spec.width, spec.height
    rd = _VideoReader(spec.video, "an input video")
    conv = _cover_converter(rd.width, rd.height, w, h)
    ref = _cover(_load_rgb(spec.ref_images[0], "reference image", (w, h)), w, h) if spec.ref_images else None

    def prepare(mask: Image.Image) -> Image.Image:
        m = mask.point(lambda v: 255 if v >= 128 else 0)
        r = max(1.0, min(w, h) / 160)
        return ImageChops.darker(m, m.filter(ImageFilter.GaussianBlur(r)))  # feather inwards only

    def edited(src: Image.Image) -> Image.Image:
        if ref is not None:
            return ref
        cond = (spec.control_condition or "").strip().lower()
        if cond == "depth":
            return _depth_filter(src, None)
        if cond in ("posebodyface", "posebody"):
            return _pose_filter(src, True)
        return ImageOps.posterize(_hue_shift(src, 1 / 3), 4)

    if spec.mask_video:
        mr = _VideoReader(spec.mask_video, "a mask video")
        mconv = _cover_converter(mr.width, mr.height, w, h)
        masks: Iterator[Image.Image | None] = (prepare(m.convert("L")) for m in mr.frames(n, spec.fps, mconv))
        start = 0
    elif spec.mask_image:
        raw = _open_image(spec.mask_image, "a mask image")
        mimg = raw.convert("L")
        if raw.mode == "RGBA":  # white strokes on a transparent sheet
            mimg = ImageChops.multiply(mimg, raw.getchannel("A"))
        mimg = mimg.resize((rd.width, rd.height), _BILINEAR)  # the mask belongs to the input video
        mask = prepare(_cover(mimg, w, h) if mimg.size != (w, h) else mimg)
        masks = iter(lambda: mask, None)
        fid = max(1, int(spec.mask_frame_id or 1))
        start = max(0, math.ceil((fid - 1) / rd.src_fps * spec.fps - 1e-6))
    else:
        raise RenderError("A local edit needs a mask image or a mask video (white marks the area to change).")

    for i, (src, m) in enumerate(zip(rd.frames(n, spec.fps, conv), masks, strict=False)):
        if i < start or m is None or m.getbbox() is None:
            out.write(src, label=False)
        else:
            out.write(Image.composite(edited(src), src, m), label=False)


def _mirror_pad(img: Image.Image, left: int, top: int, right: int, bottom: int) -> Image.Image:
    """Pad by mirroring the edges (repeatedly, if a side is wider than the picture)."""
    while left > 0 or top > 0 or right > 0 or bottom > 0:
        w, h = img.size
        dl, dr, dt, db = min(left, w), min(right, w), min(top, h), min(bottom, h)
        row = Image.new("RGB", (w + dl + dr, h))
        row.paste(img, (dl, 0))
        if dl:
            row.paste(img.crop((0, 0, dl, h)).transpose(Image.Transpose.FLIP_LEFT_RIGHT), (0, 0))
        if dr:
            row.paste(img.crop((w - dr, 0, w, h)).transpose(Image.Transpose.FLIP_LEFT_RIGHT), (dl + w, 0))
        new = Image.new("RGB", (row.width, h + dt + db))
        new.paste(row, (0, dt))
        if dt:
            new.paste(row.crop((0, 0, row.width, dt)).transpose(Image.Transpose.FLIP_TOP_BOTTOM), (0, 0))
        if db:
            new.paste(
                row.crop((0, h - db, row.width, h)).transpose(Image.Transpose.FLIP_TOP_BOTTOM), (0, dt + h)
            )
        img = new
        left, right, top, bottom = left - dl, right - dr, top - dt, bottom - db
    return img


def _render_outpainting(spec: RenderSpec, out: _Writer, n: int) -> None:
    w, h = spec.width, spec.height
    rd = _VideoReader(spec.video, "an input video")
    iw, ih = rd.width, rd.height
    sl, sr, st, sb = (
        _clamp(float(v), 1.0, 2.0)
        for v in (spec.left_scale, spec.right_scale, spec.top_scale, spec.bottom_scale)
    )
    pl, pr, pt, pb = iw * (sl - 1) / 2, iw * (sr - 1) / 2, ih * (st - 1) / 2, ih * (sb - 1) / 2
    cw, ch = iw + pl + pr, ih + pt + pb
    s = min(w / cw, h / ch)
    fw, fh = min(w, max(2, round(iw * s))), min(h, max(2, round(ih * s)))
    x0 = int(_clamp(round((w - cw * s) / 2 + pl * s), 0, w - fw))
    y0 = int(_clamp(round((h - ch * s) / 2 + pt * s), 0, h - fh))
    q = 4  # the fill is built at a quarter of the size
    qw, qh = math.ceil(w / q), math.ceil(h / q)
    qfw, qfh = max(1, round(fw / q)), max(1, round(fh / q))
    qx, qy = min(round(x0 / q), qw - qfw), min(round(y0 / q), qh - qfh)
    pads = (qx, qy, qw - qx - qfw, qh - qy - qfh)
    dist = Image.new("L", (qw, qh), 0)
    ImageDraw.Draw(dist).rectangle((qx, qy, qx + qfw - 1, qy + qfh - 1), fill=255)
    dist = dist.filter(ImageFilter.GaussianBlur(max(1.0, min(qw, qh) * 0.2))).point(lambda v: min(255, v * 2))
    feather = Image.new("L", (fw, fh), 0)
    ImageDraw.Draw(feather).rectangle((1, 1, fw - 2, fh - 2), fill=255)
    feather = ImageChops.darker(feather, feather.filter(ImageFilter.GaussianBlur(1.2)))

    def convert(frame: av.VideoFrame) -> Image.Image:
        return frame.to_image(width=fw, height=fh, interpolation=Interpolation.BILINEAR)

    for img in rd.frames(n, spec.fps, convert):
        small = img.resize((qfw, qfh), Image.Resampling.BOX)
        mirrored = _mirror_pad(small, *pads)
        near = mirrored.filter(ImageFilter.BoxBlur(1))
        far = mirrored.resize((max(1, qw // 6), max(1, qh // 6)), Image.Resampling.BOX)
        far = far.filter(ImageFilter.GaussianBlur(1.5)).resize((qw, qh), _BILINEAR)
        fill = Image.composite(near, far, dist)
        canvas = fill.resize((w, h), _BILINEAR, box=(0, 0, w / q, h / q))
        canvas.paste(img, (x0, y0), feather)
        out.write(canvas)


def _render_extension(spec: RenderSpec, out: _Writer, n: int) -> None:
    w, h, fps = spec.width, spec.height, spec.fps
    first_clip = spec.first_clip or (spec.video if not spec.image else None)
    if not first_clip and not spec.image:
        raise RenderError("Video extension needs a first clip or a first frame to continue from.")
    a_reader = _VideoReader(first_clip, "first clip") if first_clip else None
    c_reader = _VideoReader(spec.last_clip, "last clip") if spec.last_clip else None
    a_img = None if a_reader else _cover(_load_rgb(spec.image, "a first-frame image", (w, h)), w, h)
    c_img = None
    if not c_reader and spec.last_image:
        c_img = _cover(_load_rgb(spec.last_image, "a last-frame image", (w, h)), w, h)
    has_end = c_reader is not None or c_img is not None
    cap = round(0.45 * n) if has_end else n
    n_a = min(a_reader.count_frames(fps), cap) if a_reader else 0
    n_c = min(c_reader.count_frames(fps), round(0.45 * n) if (a_reader or a_img) else n) if c_reader else 0
    n_b = n - n_a - n_c

    last = a_img
    if a_reader:
        for img in a_reader.frames(
            n_a, fps, _cover_converter(a_reader.width, a_reader.height, w, h), loop=False
        ):
            out.write(img)
            last = img
    if n_b > 0:
        sw, sh = round(w * 1.12), round(h * 1.12)
        start = _cover(last, sw, sh)
        if c_reader:
            c_img = _first_frame(c_reader, w, h)
        end = _cover(c_img, sw, sh) if c_img is not None else start
        morph = _Morph(start, end, (w, h))
        lead, trail = int(n_a > 0), int(n_c > 0)  # those clips already show t=0 / will show t=1
        for i in range(n_b):
            t = (i + lead) / max(1, n_b - 1 + lead + trail)
            # at t=0 the view is exactly the picture we continue from (a 1.12x cover seen at zoom 1)
            va = _View("push_in", zoom=1.0 + 0.1 * _ease(t))
            if has_end:
                alpha = _smooth(0.15, 0.85, t)
                vb = _View("pull_out", zoom=1.0 + 0.08 * (1.0 - _ease(t)))
                out.write(morph.frame(va, vb, alpha))
            else:
                out.write(morph.a.view(va))
    if c_reader and n_c:
        for img in c_reader.frames(
            n_c, fps, _cover_converter(c_reader.width, c_reader.height, w, h), loop=False
        ):
            out.write(img)


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
