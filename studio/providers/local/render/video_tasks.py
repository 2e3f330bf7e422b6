"""The tasks made from an input video: repainting, edit, outpainting and extension."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator
from functools import lru_cache

import av
from av.video.reformatter import Interpolation
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from .camera import _View
from .image_tasks import _Morph
from .inputs import _cover_converter, _first_frame, _load_rgb, _open_image, _VideoReader
from .output import _Writer
from .spec import RenderError, RenderSpec
from .util import _BILINEAR, _clamp, _cover, _ease, _hsv, _hue_shift, _mean_colour, _mix, _smooth


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
