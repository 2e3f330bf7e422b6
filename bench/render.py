"""Speed of the local offline-preview renderer (studio/providers/local/render/).

Prints a header line stating the conditions, then per case two ``name value unit`` lines: frames rendered
and encoded per second of wall time for a whole ``render()`` call (set-up, drawing, H.264 encoding, MP4
muxing and the poster included), and the same per second of CPU time used by this process (all its
threads), which stays meaningful when other work shares the machine. Best of ``--repeat`` runs.

    .venv/bin/python bench/render.py [--cores 1] [--seconds 4] [--repeat 2] [--all]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import PIL
from PIL import Image, ImageDraw, ImageFilter

from studio.providers.local.render import RenderSpec, render

SIZES = ((1280, 720), (832, 480))
PROMPT = "A misty mountain valley at sunset, a lone hiker walking along a ridge, cinematic"


def _photo(path: str, size: tuple[int, int]) -> None:
    """A photo-like test picture: fractal detail, gradients, shapes and a little grain."""
    w, h = size
    base = Image.effect_mandelbrot(size, (-2.2, -1.2, 1.0, 1.2), 120).convert("RGB")
    grad = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.linear_gradient("L").resize(size),
            Image.new("L", size, 140),
        ),
    )
    img = Image.blend(grad, base, 0.45)
    d = ImageDraw.Draw(img)
    for i in range(14):
        x, y = (i * 211) % w, (i * 137) % h
        d.ellipse((x, y, x + w // 7, y + h // 5), fill=((i * 47) % 256, (i * 89) % 256, (i * 23) % 256))
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    img = Image.blend(img, Image.effect_noise(size, 48).convert("RGB"), 0.08)
    img.save(path, quality=92)


def _video(path: str, size: tuple[int, int], seconds: float, fps: int = 16) -> None:
    from fractions import Fraction

    w, h = size
    with av.open(path, "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        pic = (
            Image.open(path.replace(".mp4", ".jpg")) if os.path.exists(path.replace(".mp4", ".jpg")) else None
        )
        for i in range(round(seconds * fps)):
            im = pic.resize(size) if pic else Image.new("RGB", size, (40, 60, 90))
            ImageDraw.Draw(im).ellipse(
                (i * 8 % w, h // 3, i * 8 % w + w // 5, h // 3 + h // 4), fill=(230, 180, 60)
            )
            f = av.VideoFrame.from_image(im)
            f.pts, f.time_base = i, Fraction(1, fps)
            c.mux(s.encode(f))
        c.mux(s.encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", type=int, default=1, help="pin to this many CPUs (0 = no pinning)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--fps", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--all", action="store_true", help="also time the video tasks at 832x480")
    args = ap.parse_args()

    ncpu = os.cpu_count() or 1
    pinned = "not pinned"
    if args.cores and hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[: args.cores]
        os.sched_setaffinity(0, set(cpus))
        pinned = f"pinned to {len(cpus)} of {ncpu} CPUs"
    frames = round(args.seconds * args.fps)
    codec = (
        "libx264 veryfast crf 23 no B-frames"
        if "libx264" in av.codecs_available
        else "fallback H.264 encoder"
    )
    print(
        f"# local render: {args.seconds:g} s clips at {args.fps} fps ({frames} frames), default camera (push in), "
        f"{codec}, yuv420p MP4 + poster, {pinned}, best of {args.repeat}; "
        f"Python {platform.python_version()}, PyAV {av.__version__}, Pillow {PIL.__version__}, "
        f"{platform.machine()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        photo = os.path.join(tmp, "photo.jpg")
        _photo(photo, (1920, 1080))
        cases = []
        for w, h in SIZES:
            cases.append(
                (f"t2v_{w}x{h}", RenderSpec("t2v", w, h, args.seconds, args.fps, prompt=PROMPT, seed=7))
            )
            cases.append(
                (f"i2v_{w}x{h}", RenderSpec("i2v", w, h, args.seconds, args.fps, prompt=PROMPT, image=photo))
            )
        if args.all:
            clip = os.path.join(tmp, "clip.mp4")
            Image.open(photo).resize((832, 480)).save(clip.replace(".mp4", ".jpg"))
            _video(clip, (832, 480), args.seconds, args.fps)
            w, h = 832, 480
            extra = {
                "flf2v": {"image": photo, "last_image": photo},
                "video_repainting": {"video": clip, "control_condition": "depth"},
                "video_outpainting": {"video": clip, "left_scale": 1.5, "right_scale": 1.5},
                "video_extension": {"first_clip": clip, "last_image": photo},
            }
            for task, kw in extra.items():
                cases.append(
                    (f"{task}_{w}x{h}", RenderSpec(task, w, h, args.seconds, args.fps, prompt=PROMPT, **kw))
                )
        for name, spec in cases:
            best = best_cpu = float("inf")
            for r in range(args.repeat):
                out = os.path.join(tmp, f"{name}_{r}.mp4")
                t0, c0 = time.perf_counter(), time.process_time()
                res = render(spec, out, poster_path=out + ".jpg")
                best = min(best, time.perf_counter() - t0)
                best_cpu = min(best_cpu, time.process_time() - c0)
            print(f"{name} {res.frames / best:.1f} fps", flush=True)
            print(f"{name}_cpu {res.frames / best_cpu:.1f} frames_per_cpu_second", flush=True)


if __name__ == "__main__":
    main()
