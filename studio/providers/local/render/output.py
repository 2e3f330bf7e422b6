"""Writing the video: the corner label, the soundtrack, and the H.264/MP4 encoder."""

from __future__ import annotations

import contextlib
import math
import os
import random
from array import array
from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache

import av
from av.video.reformatter import Colorspace, Interpolation
from PIL import Image, ImageDraw, ImageFont

from .spec import RenderError, RenderSpec
from .util import _BILINEAR, _seed_int

LABEL_TEXT = "offline preview \u00b7 no AI"
_AUDIO_RATE = 24000


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
