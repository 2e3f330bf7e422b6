"""Sizes, aspect ratios, file formats and the small words the catalogue's messages are made of."""

from __future__ import annotations

import math
import re
from typing import Any

MB = 1024 * 1024  # vendors write "MB"; read as MiB
ASPECT_TOLERANCE = 0.01  # relative; "exact" aspects may be off by about 1 %
FPS_TOLERANCE = 0.05  # absolute frames per second

COMMON_ASPECTS = (
    "16:9",
    "9:16",
    "1:1",
    "4:3",
    "3:4",
    "3:2",
    "2:3",
    "21:9",
    "9:21",
    "5:4",
    "4:5",
    "2:1",
    "1:2",
)


def _ratio(label: str) -> float:
    a, b = label.split(":")
    return float(a) / float(b)


def closest_aspect(
    w: int, h: int, candidates: tuple[str, ...] | list[str] | None = None
) -> tuple[str, float]:
    """The candidate aspect ("16:9"...) nearest to w:h, and the relative error (0.01 = 1 %)."""
    if not w or not h or w <= 0 or h <= 0:
        raise ValueError(f"not a size: {w}x{h}")
    ratio = w / h
    cands = tuple(candidates) if candidates else COMMON_ASPECTS
    best = min(cands, key=lambda c: abs(math.log(ratio / _ratio(c))))
    return best, abs(ratio / _ratio(best) - 1)


def aspect_label(w: int, h: int) -> str:
    """A readable aspect: a common one within 1 % ("16:9"), else the reduced ratio, else "1.45:1"."""
    label, error = closest_aspect(w, h)
    if error <= ASPECT_TOLERANCE:
        return label
    g = math.gcd(int(w), int(h))
    a, b = int(w) // g, int(h) // g
    if a <= 32 and b <= 32:
        return f"{a}:{b}"
    return f"{w / h:.2f}:1"


_SIZE_RE = re.compile("^\\s*(\\d+)\\s*[x*\u00d7X,:]\\s*(\\d+)\\s*$")


def parse_size(value: str) -> tuple[int, int] | None:
    """ "1280x720", "1280*720", "1280 x 720" (also the multiplication sign) -> (1280, 720); else None."""
    m = _SIZE_RE.match(str(value or ""))
    if not m:
        return None
    w, h = int(m.group(1)), int(m.group(2))
    if w <= 0 or h <= 0:
        return None
    return w, h


_FORMAT_ALIASES = {
    "jpg": "jpeg",
    "jpe": "jpeg",
    "mpo": "jpeg",  # Pillow's name for multi-picture JPEGs written by many phones
    "tif": "tiff",
    "wave": "wav",
    "x-wav": "wav",
    "mpeg": "mp3",
    "mp4a": "m4a",
    "quicktime": "mov",
}


def normalise_format(fmt: str | None) -> str:
    """Lower-case short name: "JPEG"/"image/jpeg"/"jpg" -> "jpeg"; PyAV's "mov,mp4,m4a,..." -> "mp4"."""
    f = (fmt or "").strip().lower()
    if not f:
        return ""
    if "/" in f:  # a MIME type
        f = f.split("/", 1)[1].split(";", 1)[0].strip()
    if "," in f:  # PyAV demuxer lists
        names = [n.strip() for n in f.split(",")]
        if "mp4" in names:
            return "mp4"
        f = names[0]
    return _FORMAT_ALIASES.get(f, f)


def _size_str(w: int, h: int) -> str:
    return f"{w}x{h}"


def _fmt_bytes(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def _num(x: float) -> str:
    return f"{x:g}"


def _join_or(items) -> str:
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _article(label: str) -> str:
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label


def _show_choice(c: Any) -> str:
    """A choice as creators see it: the empty one is "none" (the job form's select shows it so too)."""
    return "none" if c == "" else str(c)
