"""The procedural landscape (t2v, and image_reference without a background): sky, clouds, ridges, orbs."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from .camera import _View
from .util import _BILINEAR, _LANCZOS, _clamp, _clip_box, _hsv, _mix, _seed_int, _smooth

# soft procedural scenes are drawn at most this big, then upscaled by swscale
_INTERNAL_AREA = 640 * 360


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
