"""Camera moves: the free-text camera field read as one move, and views over a still picture."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PIL import Image

from .util import _BILINEAR, _clamp, _clip_box, _ease

CAMERA_MOVES = ("push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "tilt_down", "orbit", "static")


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
