"""Seconds to export a 3-shot storyboard of 5 s shots (studio/storyboards/media.stitch), at 832x480 and 1280x720.

The shots are rendered first by the local offline renderer at the film's size, 16 fps, the middle one with
sound (so the film has an AAC track with silence around it); then each case stitches them with cuts and with
a 0.5 s crossfade. Prints a header with the conditions, then ``name value unit`` lines: wall seconds, CPU
seconds of this process, and the film's frames. Best of ``--repeat`` runs. Peak memory (RSS) at the end.

    .venv/bin/python bench/storyboard.py [--repeat 2] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av

from studio.providers.local.render import RenderSpec, render
from studio.storyboards.media import Clip, stitch

SIZES = ((832, 480), (1280, 720))
PROMPTS = ("a red kite rises over the dunes", "the kite dives toward the sea", "the kite lands on the sand")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(
        f"# storyboard export: 3 shots x {args.seconds:g} s at 16 fps, local renderer's clips, middle shot with "
        f"sound; PyAV {av.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"best of {args.repeat}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for width, height in SIZES:
            clips = []
            for i, prompt in enumerate(PROMPTS):
                path = Path(tmp) / f"shot-{width}-{i}.mp4"
                render(
                    RenderSpec(
                        task="t2v",
                        width=width,
                        height=height,
                        duration=args.seconds,
                        fps=16,
                        prompt=prompt,
                        seed=i,
                        audio=i == 1,
                    ),
                    str(path),
                )
                clips.append(Clip(path))
            for crossfade in (0.0, 0.5):
                best_wall = best_cpu = float("inf")
                frames = 0
                for _ in range(args.repeat):
                    out = Path(tmp) / "film.mp4"
                    wall, cpu = time.perf_counter(), time.process_time()
                    made = stitch(clips, (width, height), 16, crossfade, out)
                    best_wall = min(best_wall, time.perf_counter() - wall)
                    best_cpu = min(best_cpu, time.process_time() - cpu)
                    frames = made.frames
                name = f"export_{width}x{height}_{'crossfade' if crossfade else 'cuts'}"
                print(f"{name}_wall {best_wall:.2f} s")
                print(f"{name}_cpu {best_cpu:.2f} s")
                print(f"{name}_frames {frames} frames")
    print(f"rss_peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
