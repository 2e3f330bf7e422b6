"""Storyboard media on real files: the exact last frame, the contact sheet and the stitched film."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, ImageDraw

from studio.storyboards.media import Clip, MediaError, contact_sheet, last_frame, stitch
from tests.storyboard_helpers import render_clip


def coloured_video(
    path: Path,
    colours,
    *,
    width=160,
    height=96,
    fps=16,
    sar: Fraction | None = None,
    rotation: int = 0,
    marker=None,
    tone: bool = False,
) -> Path:
    """One frame per colour; ``marker`` (box, colour) is drawn on the last frame only; ``tone`` adds a
    440 Hz sound track as long as the picture."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "10"}
        if sar:
            stream.codec_context.sample_aspect_ratio = sar
        if rotation:
            stream.set_display_rotation(rotation)
        audio = container.add_stream("aac", rate=24000, layout="mono") if tone else None
        for i, colour in enumerate(colours):
            image = Image.new("RGB", (width, height), colour)
            if marker and i == len(colours) - 1:
                ImageDraw.Draw(image).rectangle(marker[0], fill=marker[1])
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())
        if audio is not None:
            from array import array

            total = round(len(colours) / fps * 24000)
            for start in range(0, total, 1024):
                n = min(1024, total - start)
                frame = av.AudioFrame(format="fltp", layout="mono", samples=n)
                frame.planes[0].update(
                    array(
                        "f", (0.3 * math.sin(2 * math.pi * 440 * (start + j) / 24000) for j in range(n))
                    ).tobytes()
                )
                frame.sample_rate, frame.pts, frame.time_base = 24000, start, Fraction(1, 24000)
                container.mux(audio.encode(frame))
            container.mux(audio.encode())
    return path


def close(pixel, colour, tolerance=14) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def info(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        sizes = {(f.width, f.height) for f in container.decode(video)}
        frames, fps = video.frames, float(video.average_rate)
        codec, pix_fmt = video.codec_context.name, video.codec_context.pix_fmt
    with av.open(str(path)) as container:
        audio = next(iter(container.streams.audio), None)
        samples = sum(f.samples for f in container.decode(audio)) if audio is not None else 0
        return {
            "sizes": sizes,
            "frames": frames,
            "fps": fps,
            "duration": frames / fps,
            "audio": audio is not None,
            "audio_seconds": samples / audio.sample_rate if audio is not None else 0,
            "codec": codec,
            "pix_fmt": pix_fmt,
        }


# --------------------------------------------------------------------------------------------- last frame


def test_last_frame_is_exactly_the_last_decoded_frame(tmp_path):
    colours = [(30, 60, 200)] * 40 + [(30, 200, 60), (220, 40, 40)]  # the last two frames differ
    path = coloured_video(tmp_path / "v.mp4", colours, marker=((100, 10, 139, 49), (255, 255, 255)))
    image = last_frame(path)
    assert image.size == (160, 96)
    assert close(image.getpixel((20, 70)), (220, 40, 40))  # the last frame's colour, not the one before
    assert close(image.getpixel((120, 30)), (255, 255, 255))  # and its own marker
    assert close(image.getpixel((90, 30)), (220, 40, 40))


def test_last_frame_of_a_long_clip_is_found_after_seeking(tmp_path):
    # 10 s at 16 fps, keyframes far apart: the seek lands well before the end and decodes forward.
    colours = [(i % 200, 90, 90) for i in range(159)] + [(10, 220, 220)]
    path = coloured_video(tmp_path / "long.mp4", colours)
    assert close(last_frame(path).getpixel((5, 5)), (10, 220, 220))


def test_last_frame_is_at_display_size_with_the_sample_aspect_ratio_and_rotation(tmp_path):
    colours = [(0, 0, 200), (200, 200, 0)]
    wide = coloured_video(tmp_path / "sar.mp4", colours, width=160, height=96, sar=Fraction(2, 1))
    assert last_frame(wide).size == (320, 96)
    marked = ((0, 0, 39, 23), (250, 250, 250))  # the top-left corner of the stored picture
    turned = coloured_video(tmp_path / "rot.mp4", colours, width=160, height=96, rotation=90, marker=marked)
    image = last_frame(turned)
    assert image.size == (96, 160)
    # Turned a quarter counter-clockwise, the stored top-left corner is shown bottom-left.
    assert close(image.getpixel((5, 155)), (250, 250, 250))
    assert close(image.getpixel((90, 5)), (200, 200, 0))


def test_last_frame_reads_an_open_file(tmp_path):
    path = coloured_video(tmp_path / "v.mp4", [(0, 0, 0), (240, 240, 240)])
    with open(path, "rb") as fh:
        assert close(last_frame(fh).getpixel((1, 1)), (240, 240, 240))


def test_a_file_that_is_not_a_video_is_refused(tmp_path):
    path = tmp_path / "x.mp4"
    path.write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError):
        last_frame(path)


# ------------------------------------------------------------------------------------------ contact sheet


def test_contact_sheet_spreads_nine_frames_over_the_shots_so_far(tmp_path):
    red = coloured_video(tmp_path / "red.mp4", [(220, 30, 30)] * 16)
    blue = coloured_video(tmp_path / "blue.mp4", [(30, 30, 220)] * 16)
    sheet = contact_sheet([red, blue], cell_width=100)
    cell = (100, 60)
    assert sheet.size == (300, 180)
    centres = [sheet.getpixel((c * cell[0] + 50, r * cell[1] + 30)) for r in range(3) for c in range(3)]
    # Nine times at (k + 0.5) / 9 of 2 s: four fall in the first second, five in the second.
    assert [close(p, (220, 30, 30)) for p in centres] == [True] * 4 + [False] * 5
    assert all(close(p, (30, 30, 220)) for p in centres[4:])


# ------------------------------------------------------------------------------------------------- stitch


def test_stitched_durations_add_up_at_one_size_and_frame_rate(tmp_path):
    a = render_clip(tmp_path / "a.mp4", width=320, height=192, duration=2.0, fps=16)
    b = render_clip(tmp_path / "b.mp4", width=192, height=320, duration=1.5, fps=24)  # portrait, 24 fps
    c = render_clip(tmp_path / "c.mp4", width=256, height=256, duration=1.0, fps=8)
    out = tmp_path / "film.mp4"
    result = stitch([Clip(a, 0.5, 1.75), Clip(b), Clip(c, 0.25)], (320, 180), 16, 0, out)
    got = info(out)
    wanted = 1.25 + 1.5 + 0.75
    assert abs(got["duration"] - wanted) <= 3 / 16  # within one frame per shot
    assert got["frames"] == result.frames
    assert got["sizes"] == {(320, 180)}
    assert got["fps"] == 16
    assert (got["codec"], got["pix_fmt"]) == ("h264", "yuv420p")
    assert got["audio"] is False and result.has_audio is False


def test_shots_are_letterboxed_not_stretched(tmp_path):
    square = coloured_video(tmp_path / "sq.mp4", [(200, 200, 200)] * 8, width=96, height=96)
    out = tmp_path / "film.mp4"
    stitch([Clip(square)], (320, 160), 16, 0, out)
    image = last_frame(out)
    assert close(image.getpixel((160, 80)), (200, 200, 200))  # the picture, centred, 160 px wide
    assert close(image.getpixel((60, 80)), (0, 0, 0), 20)  # black bars at the sides
    assert close(image.getpixel((260, 80)), (0, 0, 0), 20)
    assert close(image.getpixel((90, 80)), (200, 200, 200))


def test_the_film_has_sound_whenever_any_shot_has_it(tmp_path):
    quiet = coloured_video(tmp_path / "quiet.mp4", [(10, 10, 10)] * 16)
    loud = coloured_video(tmp_path / "loud.mp4", [(200, 10, 10)] * 16, tone=True)
    out = tmp_path / "film.mp4"
    result = stitch([Clip(quiet), Clip(loud), Clip(quiet)], (160, 96), 16, 0, out)
    got = info(out)
    assert result.has_audio and got["audio"]
    assert abs(got["audio_seconds"] - 3.0) < 0.1  # silence where the quiet shots are, not a gap
    levels = _loudness(out, 3)
    assert levels[0] < 0.01 and levels[2] < 0.01  # the quiet shots are silent
    assert levels[1] > 0.1  # the loud one keeps its tone


def _loudness(path: Path, seconds: int) -> list[float]:
    from array import array

    totals = [0.0] * seconds
    counts = [0] * seconds
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        position = 0
        for frame in container.decode(stream):
            samples = array("f", bytes(frame.planes[0])[: 4 * frame.samples])
            for j, value in enumerate(samples):
                second = min(seconds - 1, (position + j) // stream.sample_rate)
                totals[second] += value * value
                counts[second] += 1
            position += frame.samples
    return [math.sqrt(t / max(1, c)) for t, c in zip(totals, counts, strict=True)]


def test_a_crossfade_shortens_the_film_by_the_overlaps(tmp_path):
    red = coloured_video(tmp_path / "red.mp4", [(220, 30, 30)] * 32, tone=True)
    blue = coloured_video(tmp_path / "blue.mp4", [(30, 30, 220)] * 32)
    cut, faded = tmp_path / "cut.mp4", tmp_path / "faded.mp4"
    stitch([Clip(red), Clip(blue), Clip(red)], (160, 96), 16, 0, cut)
    stitch([Clip(red), Clip(blue), Clip(red)], (160, 96), 16, 0.5, faded)
    assert info(cut)["frames"] == 96
    assert info(faded)["frames"] == 96 - 2 * 8  # two overlaps of half a second
    assert abs(info(faded)["audio_seconds"] - 5.0) < 0.1
    # Mid-dissolve the picture is a mix of the two shots, neither one nor the other.
    with av.open(str(faded)) as container:
        frames = [f.to_image() for f in container.decode(container.streams.video[0])]
    middle = frames[32 - 8 + 3].getpixel((80, 48))
    assert 70 < middle[0] < 180 and 70 < middle[2] < 180


def test_a_crossfade_longer_than_a_shot_is_refused(tmp_path):
    short = coloured_video(tmp_path / "s.mp4", [(0, 0, 0)] * 4)
    with pytest.raises(MediaError, match="crossfade"):
        stitch([Clip(short), Clip(short)], (160, 96), 16, 0.5, tmp_path / "f.mp4")
    assert not (tmp_path / "f.mp4").exists()


# ------------------------------------------------------------------------------ last frame for the next model


def test_the_last_frame_is_cut_to_the_next_models_nearest_aspect_with_a_note(tmp_path):
    from studio.storyboards.media import fit_to_model

    colours = [(0, 0, 0), (40, 160, 40)]
    path = coloured_video(
        tmp_path / "v.mp4", colours, width=360, height=240, marker=((0, 0, 359, 15), (250, 250, 250))
    )
    frame = last_frame(path)  # 3:2
    fitted, note = fit_to_model(frame, provider="siliconflow", model="Wan-AI/Wan2.2-I2V-A14B")
    assert fitted.size == (352, 198)  # exactly 16:9, its nearest, cut without scaling
    assert close(fitted.getpixel((176, 99)), (40, 160, 40))
    assert close(fitted.getpixel((176, 0)), (40, 160, 40))  # the top 21 rows (with the marker) were cut off
    assert "360x240" in note and "352x198" in note and "16:9" in note

    same, note = fit_to_model(fitted, provider="siliconflow", model="Wan-AI/Wan2.2-I2V-A14B")
    assert same.size == (352, 198) and note == ""
    kept, note = fit_to_model(frame, provider="dashscope", model="wan2.2-i2v-flash")  # sizes by resolution
    assert kept is frame and note == ""


def test_sound_stays_in_sync_with_the_picture_after_a_cut_and_a_trim(tmp_path):
    from array import array

    # 2 s at 16 fps: black, then white from 1.0 s; silent, then a tone from 1.0 s.
    path = tmp_path / "sync.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=16)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        audio = container.add_stream("aac", rate=24000, layout="mono")
        for i in range(32):
            image = Image.new("RGB", (160, 96), (250, 250, 250) if i >= 16 else (0, 0, 0))
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())
        for start in range(0, 48000, 1024):
            n = min(1024, 48000 - start)
            values = (
                0.4 * math.sin(2 * math.pi * 300 * t / 24000) if t >= 24000 else 0.0
                for t in range(start, start + n)
            )
            frame = av.AudioFrame(format="fltp", layout="mono", samples=n)
            frame.planes[0].update(array("f", values).tobytes())
            frame.sample_rate, frame.pts, frame.time_base = 24000, start, Fraction(1, 24000)
            container.mux(audio.encode(frame))
        container.mux(audio.encode())
    quiet = coloured_video(tmp_path / "quiet.mp4", [(0, 0, 0)] * 16)
    out = tmp_path / "film.mp4"
    stitch([Clip(quiet), Clip(path, 0.5)], (160, 96), 16, 0, out)  # the change now at 1 + 0.5 = 1.5 s
    with av.open(str(out)) as container:
        first_white = next(
            i
            for i, f in enumerate(container.decode(container.streams.video[0]))
            if f.to_image().getpixel((80, 48))[0] > 128
        )
    assert first_white == 24  # 1.5 s at 16 fps
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        position, onset = 0, None
        for frame in container.decode(stream):
            samples = array("f", bytes(frame.planes[0])[: 4 * frame.samples])
            loud = next((j for j, v in enumerate(samples) if abs(v) > 0.1), None)
            if loud is not None:
                onset = (position + loud) / stream.sample_rate
                break
            position += frame.samples
    assert onset is not None and abs(onset - 1.5) < 1 / 16  # within a frame of the picture
