"""Measure media on the server: never trust what the browser said about a file.

Images go through Pillow: judged by their header first (EXIF orientation honoured, decompression bombs and
images too large for the memory budget refused before decoding, see ``studio.assets.pixels``), then
decoded, at a reduced scale where libjpeg can, to prove the file is whole. Video and audio go through PyAV
(container, codec, size, duration, fps, frames, audio track), read from the container without decoding a
frame.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from studio.assets import pixels
from studio.providers.catalog import MediaInfo

# Refuse images above this many pixels before decoding them (a 12,000 x 12,000 bomb is 144 M).
MAX_IMAGE_PIXELS = 40_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

IMAGE_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "GIF": "image/gif",
}
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": ("mp4", "video/mp4"), "matroska,webm": ("webm", "video/webm")}
AUDIO_CONTAINERS = {"wav": ("wav", "audio/wav"), "mp3": ("mp3", "audio/mpeg")}


class ProbeError(Exception):
    """The file cannot be used; the message is for the person who uploaded it."""


@dataclass(frozen=True)
class Probe:
    kind: str
    format: str
    content_type: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    frames: int | None = None
    has_alpha: bool = False
    has_audio: bool = False
    animated: bool = False
    codec: str = ""
    bytes: int = 0

    def info(self) -> MediaInfo:
        return MediaInfo(
            kind=self.kind,
            format=self.format,
            width=self.width,
            height=self.height,
            duration=self.duration,
            fps=self.fps,
            frames=self.frames,
            bytes=self.bytes,
            has_alpha=self.has_alpha,
            animated=self.animated,
            codec=self.codec or None,
        )


def open_image(fh) -> tuple[Image.Image, pixels.Header]:
    """Open lazily and read the header: format, size, mode, orientation. Nothing is decoded.

    Raises ProbeError for what the studio does not take: other formats, bombs, and images too large to be
    handled within ``pixels.BUDGET`` (the message gives the limit).
    """
    im = Image.open(fh)
    fmt = im.format or ""
    if fmt not in IMAGE_TYPES:
        im.close()
        raise ProbeError(f"{fmt or 'This'} images are not supported; use JPEG, PNG, WebP or BMP.")
    header = pixels.read_header(im)
    if header.pixels > MAX_IMAGE_PIXELS:
        im.close()
        raise ProbeError(
            f"The image is {header.width}x{header.height}, too many pixels to handle; scale it down first."
        )
    refusal = pixels.refusal(header)
    if refusal:
        im.close()
        raise ProbeError(refusal)
    return im, header


def probe_image(path: Path) -> Probe:
    size = path.stat().st_size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im, header = open_image(path)
            with im:
                width, height = header.upright
                animated = getattr(im, "n_frames", 1) > 1
                has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
                scale = pixels.check_scale(header)
                if scale is None:  # fits() passed, so only a budget lowered since would get here
                    raise ProbeError(pixels.refusal(header) or "The image is too large to check.")
                pixels.draft(im, header, scale)
                im.load()  # a truncated or corrupt file fails here, not later in a worker
    except ProbeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ProbeError(
            "The image has far too many pixels to be handled safely; scale it down first."
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ProbeError("This file is not an image we can read (or it is damaged).") from exc
    return Probe(
        kind="image",
        format=header.format.lower(),
        content_type=IMAGE_TYPES[header.format],
        width=width,
        height=height,
        has_alpha=has_alpha,
        animated=animated,
        bytes=size,
    )


def probe_av(path: Path) -> Probe:
    size = path.stat().st_size
    try:
        # Every figure wanted here is in the container's header. Left alone, FFmpeg decodes a frame or two
        # to fill in what it does not need (its pixel format): 80 MB for one 8K frame.
        with av.open(str(path), options={"skip_frame": "all"}) as container:
            fmt = container.format.name
            video = next(iter(container.streams.video), None)
            audio = next(iter(container.streams.audio), None)
            duration = float(container.duration / av.time_base) if container.duration else None
            if video is not None:
                if fmt not in VIDEO_CONTAINERS:
                    raise ProbeError("Videos must be MP4 (H.264) or WebM files.")
                short, ctype = VIDEO_CONTAINERS[fmt]
                rate = video.average_rate or video.guessed_rate or Fraction(0)
                fps = float(rate) if rate else None
                if video.duration and video.time_base:
                    duration = float(video.duration * video.time_base)
                frames = video.frames or (round(duration * fps) if duration and fps else None)
                return Probe(
                    kind="video",
                    format=short,
                    content_type=ctype,
                    width=video.codec_context.width,
                    height=video.codec_context.height,
                    duration=duration,
                    fps=fps,
                    frames=frames,
                    has_audio=audio is not None,
                    codec=video.codec_context.name,
                    bytes=size,
                )
            if audio is not None:
                if fmt not in AUDIO_CONTAINERS:
                    raise ProbeError("Audio must be a WAV or MP3 file.")
                short, ctype = AUDIO_CONTAINERS[fmt]
                return Probe(
                    kind="audio",
                    format=short,
                    content_type=ctype,
                    duration=duration,
                    has_audio=True,
                    codec=audio.codec_context.name,
                    bytes=size,
                )
    except ProbeError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise ProbeError("This file is not a video or audio file we can read (or it is damaged).") from exc
    raise ProbeError("This file has neither a picture nor a sound track.")


def probe_file(path: Path) -> Probe:
    """Whatever the file is: an image, a video or an audio file."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    from studio.net import sniff

    kind = sniff(head) or ""
    if kind.startswith("image/") or head[:2] == b"BM" or head[:4] in (b"GIF8",):
        return probe_image(path)
    if not head:
        raise ProbeError("The file is empty.")
    return probe_av(path)


def make_poster(video: Path, poster: Path, *, at: float = 1 / 3, max_side: int = 1280) -> tuple[int, int]:
    """Write a JPEG of the frame about ``at`` of the way in; return its size."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        target = int(total * at) if total else 0
        frame = None
        for i, f in enumerate(container.decode(stream)):
            frame = f
            if i >= target:
                break
        if frame is None:
            raise ProbeError("The video has no frames.")
        image = frame.to_image()
    image.thumbnail((max_side, max_side))
    poster.parent.mkdir(parents=True, exist_ok=True)
    image.save(poster, "JPEG", quality=85)
    return image.size
