"""Real media files for tests, made on the spot with Pillow and PyAV."""

from __future__ import annotations

from pathlib import Path

import av
from PIL import Image, ImageDraw


def make_image(
    path: Path, width: int, height: int, *, fmt: str = "PNG", color=(40, 120, 200), mode: str = "RGB"
) -> Path:
    image = Image.new(mode, (width, height), color if mode == "RGB" else (*color, 128))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(240, 200, 40))
    image.save(path, fmt)
    return path


def make_video(path: Path, width: int, height: int, *, frames: int = 16, fps: int = 16) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = Image.new("RGB", (width, height), (i * 10 % 255, 80, 160))
            ImageDraw.Draw(image).rectangle((i * 4, 10, i * 4 + 40, 50), fill=(255, 255, 255))
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())
    return path


def make_mask(path: Path, width: int, height: int, box: tuple[int, int, int, int]) -> Path:
    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).rectangle(box, fill=255)
    image.save(path, "PNG")
    return path


def probe(path: str | Path) -> dict:
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        frames = sum(1 for _ in container.decode(v))
        return {
            "codec": v.codec_context.name,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "frames": frames,
            "fps": float(v.average_rate),
            "audio": len(container.streams.audio) > 0,
        }
