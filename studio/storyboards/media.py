"""Storyboard media with PyAV and Pillow: a clip's exact last frame, a contact sheet, the stitched film.

Everything streams: frames are decoded, used and dropped, so memory stays bounded by a few frames whatever
the length of the clips (a crossfade decodes the two shots it joins side by side instead of holding a
tail). Frames are shown as a player would: the sample aspect ratio and the display rotation are applied.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import av
from av.video.reformatter import Colorspace, Interpolation
from PIL import Image

Source = str | Path | IO[bytes]

AUDIO_RATE = 48000
AUDIO_LAYOUT = "stereo"
AUDIO_CHUNK = 1024  # AAC's frame size
_EPS = 1e-6


class MediaError(Exception):
    """A clip cannot be used; the message is meant for the person making the film."""


def _open(source: Source):
    try:
        return av.open(str(source) if isinstance(source, (str, Path)) else source)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError("A clip could not be read (it is not a video, or it is damaged).") from exc


def _rewind(source: Source) -> None:
    if hasattr(source, "seek"):
        source.seek(0)


def _video_stream(container):
    stream = next(iter(container.streams.video), None)
    if stream is None:
        raise MediaError("A clip has no picture.")
    stream.thread_type = "AUTO"
    return stream


def _seconds(frame, stream) -> float:
    start = stream.start_time or 0
    pts = frame.pts if frame.pts is not None else 0
    return float((pts - start) * stream.time_base)


def displayed(frame: av.VideoFrame, stream=None) -> Image.Image:
    """The frame as a player shows it: square pixels (the sample aspect ratio) and upright (rotation)."""
    image = frame.to_image()
    sar = stream.codec_context.sample_aspect_ratio if stream is not None else None
    if sar and sar != 1 and sar > 0:
        image = image.resize(
            (max(2, round(frame.width * float(sar))), frame.height), Image.Resampling.BICUBIC
        )
    rotation = round(frame.rotation or 0) % 360
    if rotation:
        # ``rotation`` is counter-clockwise, as is Pillow's rotate; 90, 180, 270 are exact transposes.
        transpose = {
            90: Image.Transpose.ROTATE_90,
            180: Image.Transpose.ROTATE_180,
            270: Image.Transpose.ROTATE_270,
        }
        image = (
            image.transpose(transpose[rotation])
            if rotation in transpose
            else image.rotate(rotation, expand=True)
        )
    return image


def duration_of(source: Source) -> float:
    """The clip's length in seconds, from its header."""
    with _open(source) as container:
        stream = _video_stream(container)
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        if container.duration:
            return float(container.duration / av.time_base)
    raise MediaError("A clip does not say how long it is.")


def has_audio(source: Source) -> bool:
    with _open(source) as container:
        return bool(container.streams.audio)


def last_frame(source: Source) -> Image.Image:
    """The exact last decoded frame, at the video's display size.

    Seeks to the last keyframe before the final two seconds and decodes from there (the whole clip when the
    seek is refused or finds nothing), keeping the frame shown last: the one with the greatest timestamp.
    """
    for seek in (True, False):
        _rewind(source)
        with _open(source) as container:
            stream = _video_stream(container)
            if seek:
                end = stream.duration or (
                    int(container.duration / av.time_base / stream.time_base) if container.duration else 0
                )
                if not end:
                    continue
                target = (stream.start_time or 0) + max(0, end - int(2 / stream.time_base))
                try:
                    container.seek(target, stream=stream, backward=True, any_frame=False)
                except av.FFmpegError:
                    continue
            best = None
            try:
                for frame in container.decode(stream):
                    if best is None or (frame.pts or 0) >= (best.pts or 0):
                        best = frame
            except av.FFmpegError as exc:
                raise MediaError("A clip is damaged: its frames could not be decoded.") from exc
            if best is not None:
                return displayed(best, stream)
    raise MediaError("A clip has no frames.")


def frames_at(source: Source, times: Sequence[float]) -> Iterator[Image.Image]:
    """One displayed frame per time (seconds from the start, ascending): the frame showing at that time."""
    if not times:
        return
    _rewind(source)
    with _open(source) as container:
        stream = _video_stream(container)
        wanted = iter(times)
        t = next(wanted)
        shown = None
        for frame in container.decode(stream):
            at = _seconds(frame, stream)
            while shown is not None and at > t + _EPS:
                yield displayed(shown, stream)
                t = next(wanted, None)
                if t is None:
                    return
            shown = frame
        while shown is not None and t is not None:  # times past the last frame see the last frame
            yield displayed(shown, stream)
            t = next(wanted, None)


def fit(image: Image.Image, size: tuple[int, int], *, background=(0, 0, 0)) -> Image.Image:
    """``image`` scaled to fit ``size`` without stretching, centred, the rest filled (letterbox/pillarbox)."""
    width, height = size
    if image.size == size:
        return image.convert("RGB") if image.mode != "RGB" else image
    scale = min(width / image.width, height / image.height)
    scaled = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = Image.new("RGB", size, background)
    resized = image.convert("RGB").resize(scaled, Image.Resampling.BILINEAR)
    canvas.paste(resized, ((width - scaled[0]) // 2, (height - scaled[1]) // 2))
    return canvas


def contact_sheet(
    videos: Sequence[Source], cols: int = 3, rows: int = 3, *, cell_width: int = 320
) -> Image.Image:
    """``cols`` x ``rows`` frames spread evenly over the clips so far, played one after another; each frame
    sits in a cell of the first clip's shape, in reading order."""
    if not videos:
        raise MediaError("A contact sheet needs at least one clip.")
    lengths = [duration_of(v) for v in videos]
    total = sum(lengths)
    count = cols * rows
    times = [(k + 0.5) * total / count for k in range(count)]
    first = last_frame(videos[0])
    cell = (cell_width, max(2, round(cell_width * first.height / first.width)))
    sheet = Image.new("RGB", (cell[0] * cols, cell[1] * rows), (0, 0, 0))
    owner = []  # the clip each time falls in
    start = 0.0
    for n, length in enumerate(lengths):
        owner += [(n, t - start) for t in times if start <= t < start + length and len(owner) < count]
        start += length
    owner += [(len(videos) - 1, lengths[-1]) for _ in range(count - len(owner))]  # rounding at the end
    index = 0
    for index_clip, source in enumerate(videos):
        local = [t for n, t in owner if n == index_clip]
        for image in frames_at(source, local):
            sheet.paste(fit(image, cell), ((index % cols) * cell[0], (index // cols) * cell[1]))
            index += 1
    return sheet


def fit_to_model(image: Image.Image, *, provider: str, model: str) -> tuple[Image.Image, str]:
    """The previous shot's last frame made ready to start the next shot on ``model``: cut (never scaled,
    never stretched) to the nearest of the model's aspects when it lists sizes, with a note saying so.

    A model that takes its size from a resolution (and the image's own shape) gets the frame as it is.
    """
    from studio.providers.catalog import ASPECT_TOLERANCE, closest_aspect, get_model, parse_size

    sizes = [s for s in (parse_size(x) for x in get_model(provider, model).sizes) if s]
    if not sizes:
        return image, ""
    labels = {f"{w}:{h}": (w, h) for w, h in sizes}
    label, error = closest_aspect(image.width, image.height, list(labels))
    if error <= ASPECT_TOLERANCE:
        return image, ""
    aw, ah = labels[label]
    g = math.gcd(aw, ah)
    aw, ah = aw // g, ah // g
    k = min(image.width // aw, image.height // ah)
    w, h = k * aw, k * ah
    left, top = (image.width - w) // 2, (image.height - h) // 2
    cropped = image.crop((left, top, left + w, top + h))
    note = (
        f"The previous shot's last frame ({image.width}x{image.height}) was cut to {w}x{h}, "
        f"the {aw}:{ah} of {model}'s nearest size, keeping its centre."
    )
    return cropped, note


# ---------------------------------------------------------------------------------------------- stitch


@dataclass(frozen=True)
class Clip:
    """One shot of a film: its file and where it is cut (seconds; ``out_point`` None: its end)."""

    source: Source
    in_point: float = 0.0
    out_point: float | None = None


@dataclass(frozen=True)
class Stitched:
    width: int
    height: int
    fps: int
    frames: int
    duration: float
    has_audio: bool


def _pick_codec() -> str:
    for name in ("libx264", "libopenh264", "h264"):
        if name in av.codecs_available:
            return name
    raise MediaError("This PyAV build has no H.264 encoder.")


def _span(clip: Clip, length: float) -> tuple[float, float]:
    out = length if clip.out_point is None else min(clip.out_point, length)
    if clip.in_point < 0 or out <= clip.in_point:
        raise MediaError(f"A shot is cut from {clip.in_point:g} s to {out:g} s: nothing is left of it.")
    return clip.in_point, out


def _shot_frames(
    clip: Clip, start: float, count: int, fps: int, size: tuple[int, int]
) -> Iterator[Image.Image]:
    """``count`` frames at ``fps`` from ``start`` seconds into the clip, fitted to ``size``; the clip's last
    frame is held if it runs short. A source frame shown for several output frames is fitted once."""
    times = [start + j / fps for j in range(count)]
    _rewind(clip.source)
    with _open(clip.source) as container:
        stream = _video_stream(container)
        if start > 0:
            try:
                container.seek(
                    (stream.start_time or 0) + int(start / stream.time_base), stream=stream, backward=True
                )
            except av.FFmpegError:
                _rewind(clip.source)
        j, shown, fitted = 0, None, None
        for frame in container.decode(stream):
            at = _seconds(frame, stream)
            while shown is not None and j < count and at > times[j] + _EPS:
                if fitted is None:
                    fitted = fit(displayed(shown, stream), size)
                yield fitted
                j += 1
            if j >= count:
                return
            shown, fitted = frame, None
        if shown is None:
            raise MediaError("A shot has no frames.")
        while j < count:
            if fitted is None:
                fitted = fit(displayed(shown, stream), size)
            yield fitted
            j += 1


def _audio_samples(clip: Clip, start: float, count: int) -> Iterator[tuple[bytes, bytes]]:
    """``count`` samples per channel (float32, 48 kHz stereo) from ``start`` seconds into the clip's sound,
    in pieces; silence where the clip has none (or it ends early)."""
    given = 0
    _rewind(clip.source)
    with _open(clip.source) as container:
        stream = next(iter(container.streams.audio), None)
        picture = next(iter(container.streams.video), None)
        clock = picture if picture is not None and picture.start_time is not None else stream
        origin = float((clock.start_time or 0) * clock.time_base) if clock is not None else 0.0
        if stream is not None:
            stereo = av.AudioResampler(format="fltp", layout=AUDIO_LAYOUT, rate=AUDIO_RATE)
            position: int | None = None  # samples from the clip's start, of the next resampled sample
            try:
                for frame in itertools.chain(container.decode(stream), [None]):  # None: flush
                    for out in stereo.resample(frame):
                        if position is None:
                            pts = out.pts if out.pts is not None else 0
                            position = round(float(pts * out.time_base) * AUDIO_RATE) if out.time_base else 0
                            # Measured from the picture's first frame, as the shot's frames are: in sync.
                            position -= round(origin * AUDIO_RATE)
                        n = out.samples
                        left, right = bytes(out.planes[0])[: 4 * n], bytes(out.planes[1])[: 4 * n]
                        gap = min(position - round(start * AUDIO_RATE) - given, count - given)
                        if gap > 0:  # the sound starts late: silence until it does
                            yield bytes(4 * gap), bytes(4 * gap)
                            given += gap
                        skip = max(0, round(start * AUDIO_RATE) + given - position)
                        position += n
                        if skip >= n:
                            continue
                        take = min(n - skip, count - given)
                        if take <= 0:
                            break
                        yield left[4 * skip : 4 * (skip + take)], right[4 * skip : 4 * (skip + take)]
                        given += take
                    if given >= count:
                        break
            except av.FFmpegError as exc:
                raise MediaError("A shot's sound could not be decoded.") from exc
    while given < count:
        n = min(AUDIO_CHUNK * 16, count - given)
        yield bytes(4 * n), bytes(4 * n)
        given += n


class _AudioOut:
    """The film's sound: pieces are queued per channel and encoded in AAC-sized frames."""

    def __init__(self, container):
        self.stream = container.add_stream("aac", rate=AUDIO_RATE, layout=AUDIO_LAYOUT)
        self.container = container
        self.left = bytearray()
        self.right = bytearray()
        self.pts = 0

    def add(self, left: bytes, right: bytes) -> None:
        self.left += left
        self.right += right
        while len(self.left) >= 4 * AUDIO_CHUNK:
            self._emit(AUDIO_CHUNK)

    def _emit(self, n: int) -> None:
        frame = av.AudioFrame(format="fltp", layout=AUDIO_LAYOUT, samples=n)
        frame.planes[0].update(bytes(self.left[: 4 * n]))
        frame.planes[1].update(bytes(self.right[: 4 * n]))
        del self.left[: 4 * n], self.right[: 4 * n]
        frame.sample_rate = AUDIO_RATE
        frame.pts = self.pts
        frame.time_base = Fraction(1, AUDIO_RATE)
        self.pts += n
        self.container.mux(self.stream.encode(frame))

    def finish(self) -> None:
        if self.left:
            self._emit(len(self.left) // 4)
        self.container.mux(self.stream.encode(None))


class _Pieces:
    """Samples from an iterator of pieces, read by count."""

    def __init__(self, pieces: Iterator[tuple[bytes, bytes]]):
        self.pieces = pieces
        self.left = b""
        self.right = b""

    def read(self, count: int) -> Iterator[tuple[bytes, bytes]]:
        want = 4 * count
        while want > 0:
            if not self.left:
                self.left, self.right = next(self.pieces)
            k = min(want, len(self.left))
            yield self.left[:k], self.right[:k]
            self.left, self.right = self.left[k:], self.right[k:]
            want -= k

    def read_all(self, count: int) -> tuple[bytes, bytes]:
        parts = list(self.read(count))
        return b"".join(p[0] for p in parts), b"".join(p[1] for p in parts)


def _mixed(a: tuple[bytes, bytes], b: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    left = array("f", (p + q for p, q in zip(array("f", a[0]), array("f", b[0]), strict=True)))
    right = array("f", (p + q for p, q in zip(array("f", a[1]), array("f", b[1]), strict=True)))
    return left.tobytes(), right.tobytes()


def _fade(samples: tuple[bytes, bytes], *, rising: bool) -> tuple[bytes, bytes]:
    out = []
    for channel in samples:
        values = array("f", channel)
        n = len(values)
        for i in range(n):
            gain = (i + 1) / (n + 1)
            values[i] *= gain if rising else 1 - gain
        out.append(values.tobytes())
    return out[0], out[1]


def stitch(
    shots: Sequence[Clip],
    size: tuple[int, int],
    fps: int,
    crossfade: float,
    out: str | Path,
    *,
    progress: Callable[[float], Any] | None = None,
) -> Stitched:
    """One MP4 (H.264 yuv420p, AAC) of ``shots`` in order: each cut to its in/out points, fitted to
    ``size`` without stretching, resampled to ``fps``, joined by cuts or ``crossfade`` seconds of dissolve.

    The film has a sound track when any shot has one: each shot's own sound where it has one, silence
    elsewhere; a crossfade fades the sound across as it does the picture.
    """
    if not shots:
        raise MediaError("A film needs at least one shot.")
    width, height = size
    if width % 2 or height % 2 or width < 16 or height < 16:
        raise MediaError("The film's width and height must be even numbers of at least 16 pixels.")
    if not isinstance(fps, int) or not 1 <= fps <= 60:
        raise MediaError("The film's frame rate must be a whole number from 1 to 60.")
    spans, counts, sounds = [], [], []
    for clip in shots:
        _rewind(clip.source)
        length = duration_of(clip.source)
        _rewind(clip.source)
        sounds.append(has_audio(clip.source))
        start, end = _span(clip, length)
        spans.append(start)
        counts.append(max(1, round((end - start) * fps)))
    overlap = round(max(0.0, crossfade) * fps) if len(shots) > 1 else 0
    if overlap and overlap >= min(counts):
        raise MediaError(
            f"The crossfade ({crossfade:g} s) is as long as a shot; make it shorter than {min(counts) / fps:.2f} s."
        )
    total = sum(counts) - overlap * (len(shots) - 1)
    with_audio = any(sounds)
    codec = _pick_codec()
    container = av.open(str(out), mode="w", format="mp4", options={"movflags": "+faststart"})
    try:
        video = container.add_stream(codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            video.options = {"preset": "veryfast", "crf": "20", "bf": "0"}
        cc = video.codec_context
        cc.colorspace = cc.color_primaries = cc.color_trc = 1  # BT.709
        cc.color_range = 1
        audio = _AudioOut(container) if with_audio else None
        written = 0

        def encode(image: Image.Image) -> None:
            nonlocal written
            frame = av.VideoFrame.from_image(image).reformat(
                format="yuv420p", dst_colorspace=Colorspace.ITU709, interpolation=Interpolation.BILINEAR
            )
            frame.pts = written
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
            written += 1
            if progress is not None and written % max(1, fps // 2) == 0:
                progress(written / total)

        lead = round(overlap / fps * AUDIO_RATE)  # samples of sound in a crossfade
        incoming = None  # the next shot's frames, already begun by a crossfade
        sound = None  # the current shot's sound, already begun by a crossfade
        for i, clip in enumerate(shots):
            frames = incoming or _shot_frames(clip, spans[i], counts[i], fps, size)
            head = overlap if i > 0 else 0
            tail = overlap if i < len(shots) - 1 else 0
            for _ in range(counts[i] - head - tail):
                encode(next(frames))
            incoming = None
            if tail:
                incoming = _shot_frames(shots[i + 1], spans[i + 1], counts[i + 1], fps, size)
                for k in range(tail):
                    encode(Image.blend(next(frames), next(incoming), (k + 1) / (tail + 1)))
            frames.close()
            if audio is not None:
                length = round(counts[i] / fps * AUDIO_RATE)
                own = sound or _Pieces(_audio_samples(clip, spans[i], length))
                lead_in = lead if i > 0 else 0
                lead_out = lead if i < len(shots) - 1 else 0
                for piece in own.read(length - lead_in - lead_out):
                    audio.add(*piece)
                sound = None
                if lead_out:
                    nxt = round(counts[i + 1] / fps * AUDIO_RATE)
                    sound = _Pieces(_audio_samples(shots[i + 1], spans[i + 1], nxt))
                    audio.add(
                        *_mixed(
                            _fade(own.read_all(lead_out), rising=False),
                            _fade(sound.read_all(lead_out), rising=True),
                        )
                    )
                own.pieces.close()
        container.mux(video.encode(None))
        if audio is not None:
            audio.finish()
    except BaseException:
        container.close()
        Path(out).unlink(missing_ok=True)
        raise
    container.close()
    if progress is not None:
        progress(1.0)
    return Stitched(
        width=width, height=height, fps=fps, frames=written, duration=written / fps, has_audio=with_audio
    )
