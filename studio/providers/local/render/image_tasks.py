"""The tasks made from text and stills: t2v, i2v, flf2v and image_reference."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps, ImageStat

from .camera import _camera, _View, _Viewer, _window, parse_camera
from .inputs import _load_rgb, _open_image
from .output import _Writer
from .scene import _internal_size, _Scene
from .spec import RenderError, RenderSpec
from .util import _BILINEAR, _LANCZOS, _clamp, _clip_box, _cover, _mean_colour, _seed_int, _smooth, _t_of


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
