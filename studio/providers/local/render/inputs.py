"""Reading inputs: images (oriented, flattened) and videos resampled to the output rate and size."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator

import av
from av.video.reformatter import Interpolation
from PIL import Image, ImageOps

from .spec import RenderError


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
