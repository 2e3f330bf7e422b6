"""Small maths and colour helpers, and the crops that fit one picture to another's shape."""

from __future__ import annotations

import colorsys
import hashlib
import math

from PIL import Image

_BILINEAR = Image.Resampling.BILINEAR
_LANCZOS = Image.Resampling.LANCZOS


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
