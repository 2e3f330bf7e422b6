"""Media for the emulators: the MP4 they serve as a result, and probes of the media they are sent.

The result is a real, small H.264 MP4 (PyAV + libx264) at the size the request asked for: a dark
background with a bar that sweeps across and the size written in the corner, so a human who opens it
sees what it is. Files are cached per (width, height, audio, fps, seconds); encoding one 1080p second
takes a fraction of a second, so the first download of each size pays it once.

The probes (`probe_image`, `probe_video`, `probe_audio`, `decode_data_uri`) are what the emulators use to
check the media a request points at, as the vendors do: the file must decode, and its real size, fps and
length feed the vendor's rules (mask size = video size, frame ranges, output size).
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import os
import re
import struct
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction

import av
from PIL import Image, ImageDraw

__all__ = [
    "AudioInfo",
    "ImageInfo",
    "MediaError",
    "VideoInfo",
    "decode_data_uri",
    "mp4_bytes",
    "probe_audio",
    "probe_image",
    "probe_video",
]

_cache: dict[tuple, bytes] = {}
_cache_lock = threading.Lock()


def mp4_bytes(width: int, height: int, *, audio: bool = False, fps: int = 16, seconds: float = 1.0) -> bytes:
    """A playable H.264 MP4 of exactly ``width`` x ``height`` (even numbers), cached per argument set.

    With ``audio`` the file also carries an AAC track (a quiet 440 Hz tone), like DashScope's wan2.5
    output with sound.
    """
    width, height = _even(width), _even(height)
    key = (width, height, bool(audio), int(fps), float(seconds))
    with _cache_lock:
        data = _cache.get(key)
        if data is None:
            data = _encode(width, height, audio=bool(audio), fps=int(fps), seconds=float(seconds))
            _cache[key] = data
        return data


def _even(value: int) -> int:
    value = max(2, int(value))
    return value if value % 2 == 0 else value + 1


def _encode(width: int, height: int, *, audio: bool, fps: int, seconds: float) -> bytes:
    # A real file path (not BytesIO) so the muxer can move the moov atom to the front (+faststart),
    # as the vendors' CDN files are.
    fd, path = tempfile.mkstemp(prefix="emulator-", suffix=".mp4")
    os.close(fd)
    try:
        out = av.open(path, "w", format="mp4", options={"movflags": "+faststart"})
        try:
            video = out.add_stream(
                "libx264", rate=fps, options={"preset": "ultrafast", "tune": "zerolatency"}
            )
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            sound = out.add_stream("aac", rate=48000, layout="mono") if audio else None
            frames = max(1, round(fps * seconds))
            for index in range(frames):
                frame = av.VideoFrame.from_image(_picture(width, height, index, frames))
                for packet in video.encode(frame):
                    out.mux(packet)
            for packet in video.encode():
                out.mux(packet)
            if sound is not None:
                _write_tone(out, sound, seconds)
        finally:
            out.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _picture(width: int, height: int, index: int, frames: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (18, 24, 48))
    draw = ImageDraw.Draw(image)
    bar = max(2, width // 10)
    x = int(index / frames * (width + bar)) - bar
    draw.rectangle([x, 0, x + bar, height], fill=(224, 128, 48))
    draw.rectangle(
        [0, height - max(2, height // 40), int(width * (index + 1) / frames), height], fill=(90, 200, 120)
    )
    draw.text((8, 8), f"emulator {width}x{height} #{index + 1}", fill=(240, 240, 240))
    return image


def _write_tone(out, stream, seconds: float) -> None:
    rate, chunk = 48000, 1024
    total = int(rate * seconds)
    pts = 0
    while pts < total:
        count = min(chunk, total - pts)
        samples = [0.15 * math.sin(2 * math.pi * 440 * (pts + i) / rate) for i in range(count)]
        frame = av.AudioFrame(format="fltp", layout="mono", samples=count)
        frame.planes[0].update(struct.pack(f"<{count}f", *samples))
        frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(1, rate)
        for packet in stream.encode(frame):
            out.mux(packet)
        pts += count
    for packet in stream.encode():
        out.mux(packet)


# --------------------------------------------------------------------------- probes


class MediaError(ValueError):
    """The bytes are not the kind of media the field needs."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # Pillow's name: JPEG, PNG, BMP, TIFF, WEBP, ...
    width: int
    height: int


@dataclass(frozen=True)
class VideoInfo:
    format: str  # the demuxer's name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    width: int
    height: int
    fps: float
    duration: float  # seconds
    frames: int
    has_audio: bool

    @property
    def is_mp4(self) -> bool:
        return "mp4" in self.format.split(",")


@dataclass(frozen=True)
class AudioInfo:
    format: str
    duration: float


def probe_image(data: bytes) -> ImageInfo:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return ImageInfo(image.format or "", image.width, image.height)
    except Exception as exc:  # Pillow raises many kinds
        raise MediaError(f"not a decodable image ({exc.__class__.__name__})") from exc


def probe_video(data: bytes) -> VideoInfo:
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.video:
                raise MediaError("no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or 0
            fps = float(rate) if rate else 0.0
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = 0.0
            frames = stream.frames or round(duration * fps)
            return VideoInfo(
                format=container.format.name,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                fps=fps,
                duration=duration,
                frames=int(frames),
                has_audio=bool(container.streams.audio),
            )
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError(f"not a decodable video ({exc.__class__.__name__})") from exc


def probe_audio(data: bytes) -> AudioInfo:
    try:
        with av.open(io.BytesIO(data)) as container:
            if not container.streams.audio:
                raise MediaError("no audio stream")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = 0.0
            return AudioInfo(container.format.name, duration)
    except MediaError:
        raise
    except Exception as exc:
        raise MediaError(f"not a decodable audio file ({exc.__class__.__name__})") from exc


_DATA_URI = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


def decode_data_uri(value: str) -> tuple[str, bytes]:
    """Split ``data:<mime>;base64,<data>`` into (mime, bytes). Strict: no whitespace inside the data."""
    match = _DATA_URI.match(value)
    if not match:
        raise MediaError("not a data:<mime>;base64,<data> URI")
    try:
        payload = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MediaError("the base64 part does not decode") from exc
    if not payload:
        raise MediaError("the data URI is empty")
    return match["mime"].lower(), payload
