"""Seconds from Generate to a playable video in the gallery, measured in a real browser.

Starts ``manage.py up`` (web, worker and beat, embedded defaults) in a fresh data directory on a free port,
logs in with the login it prints, and for each journey (local text to video, image to video, masked video
edit) fills the job form in chromium, clicks Generate, and times until the card in the gallery says done
and its video plays (a <video> of it reaches "canplay"). Each journey runs --runs times; prints
min / median / max per journey.

    .venv/bin/python bench/journeys.py [--runs 3]

Needs the test extra (Playwright) and Debian's chromium.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def inputs(folder: Path) -> tuple[Path, Path]:
    image = folder / "frame.png"
    Image.new("RGB", (1280, 720), (40, 120, 200)).save(image)
    clip = folder / "clip.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=16)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for i in range(32):
            frame = Image.new("RGB", (320, 180), (i * 7 % 255, 80, 160))
            ImageDraw.Draw(frame).rectangle((i * 4, 20, i * 4 + 60, 80), fill=(255, 255, 255))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return image, clip


def start_studio(data: Path, port: int) -> tuple[subprocess.Popen, str, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DATABASE_", "CELERY_"))}
    env.update(STUDIO_DATA_DIR=str(data), PYTHONUNBUFFERED="1")
    data.mkdir(parents=True, exist_ok=True)
    log = data / "up.log"
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        url, login = re.search(r"running at (\S+)", text), re.search(r"Log in as (\S+) / (\S+)", text)
        if url and login:
            return proc, url.group(1), login.group(1), login.group(2)
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    sys.exit(f"up did not start:\n{log.read_text(errors='replace')[-3000:]}")


def generate_and_wait(page, base: str, prompt: str) -> float:
    started = time.monotonic()
    page.get_by_role("button", name="Generate").click()
    card = page.locator(".gcard", has_text=prompt).first
    expect(card).to_have_attribute("data-status", "succeeded", timeout=180_000)
    href = card.locator("a.gcard-media").get_attribute("href")
    page.evaluate(
        """(src) => new Promise((done, fail) => {
             const v = document.createElement("video");
             v.muted = true; v.preload = "auto";
             v.addEventListener("canplay", done, { once: true });
             v.addEventListener("error", () => fail(new Error("the video does not play")), { once: true });
             v.src = src;
           })""",
        f"{href}video.mp4",
    )
    return time.monotonic() - started


def journey(page, base: str, project: str, kind: str, image: Path, clip: Path, n: int) -> float:
    page.goto(base.rstrip("/") + project)
    form = page.locator("#generation-form")
    prompt = f"{kind} run {n}: a paper lantern drifts over a night lake"
    if kind == "t2v":
        form.get_by_label("Model").select_option("local:preview-t2v")
    elif kind == "i2v":
        form.get_by_label("Model").select_option("local:preview-i2v")
        page.locator('[data-field="image"] input[type=file]').set_input_files(str(image))
        expect(page.locator("input[name=image_asset]")).not_to_have_value("")
    else:
        form.get_by_label("Model").select_option("local:preview-vace")
        form.get_by_label("Task").select_option("video_edit")
        page.locator('[data-field="video"] input[type=file]').set_input_files(str(clip))
        page.get_by_role("button", name="Paint the mask on this video").click()
        expect(page.locator("[data-mask-painter]")).to_have_attribute("data-loaded-frame", "1")
        page.keyboard.press("r")
        box = page.locator("canvas[data-mp-canvas]").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.7, steps=6)
        page.mouse.up()
        page.get_by_role("button", name="Use this mask").click()
        expect(page.locator("input[name=mask_frame_id]")).to_have_value("1")
    page.locator("#pb-part-action").fill(prompt)
    form.locator("select[name=duration]").select_option("2")
    return generate_and_wait(page, base, prompt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as tmp:
        folder = Path(tmp)
        image, clip = inputs(folder)
        proc, base, username, password = start_studio(folder / "data", free_port())
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
                )
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.goto(base + "accounts/login/")
                page.get_by_label("Username").fill(username)
                page.get_by_label("Password").fill(password)
                page.get_by_role("button", name="Log in").click()
                page.goto(base + "w/demo/")
                project = page.locator("a[href*='/p/']").first.get_attribute("href")
                print(
                    f"# {args.runs} runs each, 2 s clips, local provider, one machine (up: web, worker, beat)"
                )
                for kind in ("t2v", "i2v", "video_edit"):
                    times = [journey(page, base, project, kind, image, clip, n) for n in range(args.runs)]
                    print(
                        f"generate_to_playable_{kind}  min {min(times):.2f}  median {statistics.median(times):.2f}"
                        f"  max {max(times):.2f}  s"
                    )
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(30)


if __name__ == "__main__":
    main()
