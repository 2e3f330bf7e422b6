"""The first-frame input in chromium: checks before upload, the crop helper dragged with a mouse and the
keyboard, and the cropped image checked on the server pixel for pixel.

Set STUDIO_SCREENSHOT_DIR (e.g. docs/screenshots) to also save upload-check.png."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFilter
from playwright.sync_api import Page, expect

from studio.assets.models import Asset
from tests.browser.test_team_flow import log_in
from tests.test_images import animated_gif, bomb_png, gradient, rotated_jpeg

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

W, H = 1024, 768


@pytest.fixture
def image_page(live_server, page: Page, world):
    log_in(page, live_server.url, world.editor.user.username)
    page.goto(live_server.url + reverse("images:image_page", kwargs={"slug": world.workspace.slug}))
    expect(page.get_by_role("heading", name="First frame")).to_be_visible()
    page.wait_for_function("() => window.StudioImageInput !== undefined")
    return page


def uploads(page: Page) -> list[str]:
    """Every POST the page sends to the upload endpoint from now on."""
    sent: list[str] = []
    page.on(
        "request", lambda r: sent.append(r.url) if r.method == "POST" and "/images/upload/" in r.url else None
    )
    return sent


def box_of(page: Page) -> tuple[int, int, int, int]:
    return tuple(int(v) for v in page.locator("[data-ii-frame]").get_attribute("data-box").split(","))


def to_screen(page: Page, x: float, y: float) -> tuple[float, float]:
    """Source pixels -> page coordinates, however large the picture is shown."""
    stage = page.locator("[data-ii-stage]").bounding_box()
    assert stage and abs(stage["width"] - W) > 50  # shown at another size: coordinates are mapped
    return stage["x"] + x * stage["width"] / W, stage["y"] + y * stage["height"] / H


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*to_screen(page, *start))
    page.mouse.down()
    page.mouse.move(*to_screen(page, *end), steps=15)
    page.mouse.up()


def test_pick_a_4_3_image_drag_the_frame_and_crop_to_16_9(image_page: Page, world, tmp_path):
    page = image_page
    source = gradient(W, H)
    path = tmp_path / "photo.png"
    source.save(path)
    sent = uploads(page)

    page.locator("[data-ii-file]").set_input_files(path)
    info = page.locator("[data-ii-info]")
    expect(info).to_have_text("4:3, 1024x768 — closest 16:9: 1280x720 needs a crop")
    root = page.locator("[data-image-input]")
    expect(root).to_have_attribute("data-asset-id", re.compile(r"^[\w-]+$"))
    hidden = page.locator('input[type=hidden][name="image_asset"]')
    original_id = hidden.input_value()
    original = Asset.objects.get(public_id=original_id, workspace=world.workspace)
    assert (original.width, original.height) == (W, H) and len(sent) == 1
    expect(page.locator("[data-ii-state]")).to_have_text("Kept · needs a crop")
    expect(page.locator("[data-ii-warnings]")).to_contain_text("Crop it to 16:9 (1280x720), the closest.")

    # The crop helper: 16:9 (the closest) chosen, the largest centred frame.
    expect(page.get_by_role("group", name="Crop to")).to_be_visible()
    expect(page.get_by_role("button", name="16:9")).to_have_attribute("aria-pressed", "true")
    assert box_of(page) == (0, 96, 1024, 576)

    # Resize with the bottom-right corner to 640x360, keeping 16:9, then drag the frame by (200, 150).
    page.locator("[data-ii-frame]").scroll_into_view_if_needed()
    drag(page, (1024, 96 + 576), (640, 96 + 360))
    assert box_of(page) == (0, 96, 640, 360)
    drag(page, (320, 276), (320 + 200, 276 + 150))
    x, y, w, h = box_of(page)
    assert (w, h) == (640, 360)
    assert abs(x - 200) <= 3 and abs(y - 246) <= 3, (x, y)

    # The keyboard moves it too: 1 % of the image per arrow press, 10 % with Shift.
    frame = page.locator("[data-ii-frame]")
    frame.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Shift+ArrowDown")
    assert box_of(page) == (x - 10, y - 10 + 100, 640, 360)
    expect(page.locator("[data-ii-crop-out]")).to_have_text(
        f"Keeps 640x360 from x {x - 10}, y {y + 90}; the video is 1280x720."
    )
    box = box_of(page)

    page.get_by_role("button", name="Apply crop").click()
    expect(page.locator("[data-ii-state]")).to_have_text("Cropped to 16:9")
    expect(hidden).not_to_have_value(original_id)
    expect(info).to_have_text("16:9, 640x360 — fits 16:9: 1280x720")
    expect(page.get_by_role("group", name="Crop to")).to_be_hidden()
    assert page.url.endswith("/images/")  # the buttons never submitted the surrounding form

    # On the server: exactly 16:9, and exactly the pixels under the frame.
    cropped = Asset.objects.get(public_id=hidden.input_value(), workspace=world.workspace)
    assert cropped.width * 9 == cropped.height * 16 and (cropped.width, cropped.height) == (640, 360)
    assert cropped.original_name == "photo-16x9.png"
    with cropped.file.open("rb") as fh, Image.open(fh) as kept:
        kept = kept.convert("RGB")
    bx, by, bw, bh = box
    assert kept.getpixel((0, 0))[:2] == (bx // 4, by // 3)  # the colours say where it was cut
    assert kept.tobytes() == source.crop((bx, by, bx + bw, by + bh)).tobytes()

    # Back to the uncropped image, then crop again at 1:1 with the keyboard alone.
    page.get_by_role("button", name="Use the uncropped image").click()
    expect(hidden).to_have_value(original_id)
    page.get_by_role("button", name="1:1").click()
    assert box_of(page) == (128, 0, 768, 768)
    frame.focus()
    page.keyboard.press("-")
    page.keyboard.press("Enter")
    expect(page.locator("[data-ii-state]")).to_have_text("Cropped to 1:1")
    square = Asset.objects.get(public_id=hidden.input_value())
    assert square.width == square.height < 768


def test_bad_files_are_refused_before_any_upload(image_page: Page, tmp_path):
    page = image_page
    sent = uploads(page)
    error = page.locator("[data-ii-error]")
    picker = page.locator("[data-ii-file]")
    cases = [
        (
            "notes.png",
            "image/png",
            b"These are my notes, not a picture.\n" * 20,
            "\u201cnotes.png\u201d is not an image we can read (or it is damaged).",
        ),
        (
            "bomb.png",
            "image/png",
            bomb_png(),
            "\u201cbomb.png\u201d is 12000x12000, too many pixels to handle; scale it down first.",
        ),
        (
            "huge.jpg",
            "image/jpeg",
            b"\xff\xd8\xff" + b"\x00" * (21 * 1024 * 1024 - 3),
            "\u201chuge.jpg\u201d is 21.0 MB; images may be up to 20 MB.",
        ),
        ("empty.png", "image/png", b"", "\u201cempty.png\u201d is empty (0 bytes); choose the image again."),
    ]
    for name, mime, content, message in cases:
        picker.set_input_files({"name": name, "mimeType": mime, "buffer": content})
        expect(error).to_have_text(message)
        expect(page.locator("[data-ii-body]")).to_be_hidden()
    assert sent == []
    assert page.locator('input[name="image_asset"]').input_value() == ""


def test_an_animated_gif_is_kept_as_its_first_frame_with_a_note(image_page: Page):
    page = image_page
    page.locator("[data-ii-file]").set_input_files(
        {"name": "spinner.gif", "mimeType": "image/gif", "buffer": animated_gif()}
    )
    expect(page.locator("[data-ii-warnings]")).to_contain_text(
        "\u201cspinner.gif\u201d is an animated GIF: no provider takes an animation as a first frame, so the "
        "studio kept its first frame only, as a still PNG."
    )
    expect(page.locator("[data-ii-error]")).to_be_hidden()
    kept = page.locator('input[name="image_asset"]').input_value()
    assert Asset.objects.get(public_id=kept).format == "png"
    expect(page.locator("[data-ii-img]")).to_have_attribute("src", re.compile(kept))  # the still, not the GIF


def test_an_exif_rotated_photo_shows_its_displayed_size(image_page: Page, tmp_path):
    page = image_page
    path = tmp_path / "phone.jpg"
    path.write_bytes(rotated_jpeg(400, 300, orientation=6))
    page.locator("[data-ii-file]").set_input_files(path)
    expect(page.locator("[data-ii-info]")).to_have_text("3:4, 300x400 — closest 9:16: 720x1280 needs a crop")
    expect(page.locator("[data-image-input]")).to_have_attribute("data-asset-id", re.compile(r"^[\w-]+$"))
    expect(page.get_by_role("button", name="9:16")).to_have_attribute("aria-pressed", "true")
    # The server measured the same: the preview did not switch to other dimensions.
    expect(page.locator("[data-image-input]")).to_have_attribute("data-width", "300")


def test_a_16_9_image_needs_no_crop(image_page: Page, tmp_path):
    page = image_page
    path = tmp_path / "wide.jpg"
    Image.new("RGB", (1920, 1080), (30, 90, 160)).save(path, "JPEG")
    page.locator("[data-ii-file]").set_input_files(path)
    expect(page.locator("[data-ii-info]")).to_have_text("16:9, 1920x1080 — fits 16:9: 1280x720")
    expect(page.locator("[data-ii-state]")).to_have_text("Kept")
    expect(page.get_by_role("group", name="Crop to")).to_be_hidden()
    expect(page.locator("[data-ii-warnings]")).to_be_hidden()


def landscape(width: int = 1600, height: int = 1200) -> Image.Image:
    """A 4:3 picture that looks like a photo: dusk sky, sun, hills, a lake."""
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        t = min(1.0, y / 800)
        draw.line([(0, y), (width, y)], fill=(int(95 + 160 * t), int(150 + 60 * t), int(225 - 75 * t)))
    draw.ellipse((1010, 360, 1210, 560), fill=(255, 236, 180))
    hills = [(0, 760), (260, 540), (520, 700), (820, 480), (1150, 720), (1400, 590), (1600, 690)]
    draw.polygon([*hills, (1600, 1200), (0, 1200)], fill=(96, 104, 150))
    draw.polygon(
        [(0, 860), (380, 720), (760, 850), (1100, 750), (1600, 880), (1600, 1200), (0, 1200)],
        fill=(60, 92, 88),
    )
    draw.rectangle((0, 940, width, height), fill=(120, 160, 215))
    for i in range(14):
        y = 960 + i * 16
        draw.line([(740 + i * 9, y), (1480 - i * 11, y)], fill=(255, 226, 170), width=3)
    return image.filter(ImageFilter.GaussianBlur(1.2))


@pytest.mark.skipif(
    not os.environ.get("STUDIO_SCREENSHOT_DIR"), reason="set STUDIO_SCREENSHOT_DIR to take it"
)
def test_screenshot_of_the_crop_helper(image_page: Page, tmp_path):
    page = image_page
    page.set_viewport_size({"width": 1200, "height": 900})
    path = tmp_path / "lakeside.jpg"
    buffer = io.BytesIO()
    landscape().save(buffer, "JPEG", quality=88)
    path.write_bytes(buffer.getvalue())
    page.locator("[data-ii-file]").set_input_files(path)
    expect(page.locator("[data-image-input]")).to_have_attribute("data-asset-id", re.compile(r"^[\w-]+$"))
    page.locator("[data-ii-frame]").focus()
    page.keyboard.press("-")
    page.keyboard.press("-")
    page.keyboard.press("Shift+ArrowDown")
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(Path(os.environ["STUDIO_SCREENSHOT_DIR"]) / "upload-check.png"))
