"""Retake the README's screenshots from a running studio that has a few finished videos in its first project:

python docs/screenshots/take.py URL USER PASSWORD [WORKSPACE]

Makes workspace.png, project.png (the gallery), prompt-builder.png (the job form with a part open),
upload-check.png (a 4:3 first frame and its crop helper), mask-painter.png (the painter opened in the job
form beside its input video) and detail.png. Needs Debian's chromium and the test extra (Playwright).
"""

import sys
import tempfile
from pathlib import Path

import av
from PIL import Image, ImageDraw
from playwright.sync_api import expect, sync_playwright

HERE = Path(__file__).parent


def inputs(folder: Path) -> tuple[Path, Path]:
    photo = folder / "market.png"
    image = Image.new("RGB", (1600, 1200), (92, 70, 58))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 820, 1600, 1200), fill=(60, 46, 40))
    draw.ellipse((560, 260, 1040, 740), fill=(236, 196, 92))
    image.save(photo)
    clip = folder / "street.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=16)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i in range(32):
            frame = Image.new("RGB", (640, 360), (40, 70 + i, 120))
            ImageDraw.Draw(frame).rectangle((120 + i * 6, 120, 260 + i * 6, 260), fill=(245, 245, 245))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return photo, clip


def main(base: str, username: str, password: str, workspace: str = "demo") -> None:
    base = base.rstrip("/")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        photo, clip = inputs(Path(tmp))
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"{base}/w/{workspace}/")
        page.screenshot(path=str(HERE / "workspace.png"))
        project = page.locator(".project-card a").first.get_attribute("href")

        # The gallery, below the form.
        page.goto(base + project)
        page.locator("details.new-generation > summary").click()  # folded, the gallery shows
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(HERE / "project.png"))

        # The canvas: parts on the left, one open with its suggestions; the rest in view on the right.
        page.goto(base + project)
        form = page.locator("#generation-form")
        form.get_by_label("Model").select_option("local:preview-t2v")
        page.locator("#pb-part-subject").fill("a young woman in a blue denim jacket")
        page.locator("#pb-part-action").fill("walks slowly toward the camera")
        page.locator("#pb-part-scene").fill("a busy market street after rain, paper lanterns")
        page.locator("#pb-part-camera").fill("medium shot at eye level, slow push in")
        page.locator("#pb-part-lighting").click()
        page.wait_for_timeout(600)
        page.screenshot(path=str(HERE / "prompt-builder.png"))

        # The first-frame check: a 4:3 photo, offered a crop to the nearest of 16:9, 9:16 and 1:1.
        form.get_by_label("Model").select_option("siliconflow:Wan-AI/Wan2.2-I2V-A14B")
        page.locator('[data-field="image"] input[type=file]').set_input_files(str(photo))
        expect(page.locator("[data-ii-crop]")).to_be_visible()
        page.locator('[data-field="image"]').scroll_into_view_if_needed()
        page.wait_for_timeout(400)
        page.locator(".job-side").screenshot(path=str(HERE / "upload-check.png"))

        # The mask painter, opened in the job form beside its input video.
        page.goto(base + project)
        form.get_by_label("Model").select_option("local:preview-vace")
        form.get_by_label("Task").select_option("video_edit")
        page.locator("#pb-part-changes").fill("the white box turns into a red balloon")
        page.locator('[data-field="video"] input[type=file]').set_input_files(str(clip))
        page.get_by_role("button", name="Paint the mask on this video").click()
        expect(page.locator("[data-mask-painter]")).to_have_attribute("data-loaded-frame", "1")
        page.keyboard.press("r")
        canvas = page.locator("canvas[data-mp-canvas]")
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.18, box["y"] + box["height"] * 0.3)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.75, steps=6)
        page.mouse.up()
        page.wait_for_timeout(300)
        page.screenshot(path=str(HERE / "mask-painter.png"))

        # A finished video with its recipe.
        page.goto(base + project)
        page.locator("a.gcard-media").first.click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(HERE / "detail.png"))
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
