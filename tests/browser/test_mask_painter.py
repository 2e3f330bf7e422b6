"""Paint a mask in chromium and check, on the server, the PNG that was saved: pixel for pixel."""

from __future__ import annotations

import math

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import Browser, expect

from studio.assets.models import Asset
from studio.assets.services import create_asset
from tests.browser.test_team_flow import log_in
from tests.media import make_video

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

W, H = 320, 192
RECT = (40, 30, 140, 100)  # x0, y0, x1, y1 in video pixels (x1, y1 exclusive)
STROKE = ((200, 150), (300, 150))  # a horizontal brush stroke
BRUSH = 12


def to_screen(box: dict, x: float, y: float) -> tuple[float, float]:
    """Video pixel coordinates -> page coordinates, however large the painter is shown."""
    return box["x"] + x * box["width"] / W, box["y"] + y * box["height"] / H


def drag(page, start, end, steps=12):
    """Drag on the canvas between two points given in video pixels."""
    canvas = page.locator("canvas[data-mp-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # fresh: the page may have scrolled since the last drag
    assert box and box["width"] != W  # shown at another size than the video's: coordinates are mapped
    page.mouse.move(*to_screen(box, *start))
    page.mouse.down()
    page.mouse.move(*to_screen(box, *end), steps=steps)
    page.mouse.up()


def stroke_distance(x: float, y: float) -> float:
    (ax, ay), (bx, by) = STROKE
    t = max(0.0, min(1.0, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)))
    return math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay)))


def test_paint_a_mask_on_frame_10_and_use_it(live_server, browser: Browser, world, tmp_path, settings):
    video = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=make_video(tmp_path / "clip.mp4", W, H, frames=32, fps=16),
        expect="video",
    )
    assert (video.width, video.height, video.frames) == (W, H, 32)

    page = browser.new_page()
    log_in(page, live_server.url, world.editor.user.username)
    url = live_server.url + reverse(
        "masks:mask_page", kwargs={"slug": world.workspace.slug, "asset_id": video.public_id}
    )
    page.goto(url)
    painter = page.locator("[data-mask-painter]")
    expect(painter).to_have_attribute("data-loaded-frame", "1")

    # The frame picker: the slider moves the number field and loads frame 10 (1-based, the vendor's).
    page.get_by_role("slider", name="Frame").fill("10")
    expect(page.get_by_label("Frame number, 1 to 32")).to_have_value("10")
    expect(painter.locator("[data-mp-frame-info]")).to_contain_text("Frame 10 of 32")
    expect(painter).to_have_attribute("data-loaded-frame", "10")

    # A stray stroke in a corner, then undone with the keyboard.
    page.keyboard.press("b")
    drag(page, (5, 180), (60, 185))
    page.keyboard.press("Control+z")

    # Rectangle fill over a known region.
    page.get_by_role("button", name="Rectangle").click()
    expect(page.get_by_role("button", name="Rectangle")).to_have_attribute("aria-pressed", "true")
    drag(page, RECT[:2], RECT[2:])

    # A brush stroke of a known size.
    page.keyboard.press("b")
    expect(page.get_by_role("button", name="Brush")).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Brush size").fill(str(BRUSH))
    drag(page, *STROKE, steps=20)

    page.get_by_role("button", name="Use this mask").click()
    expect(painter.locator("[data-mp-status]")).to_have_text("Mask saved for frame 10.")
    asset_id = page.locator('input[name="mask_image_asset"]').input_value()
    assert asset_id
    assert page.locator('input[name="mask_frame_id"]').input_value() == "10"
    assert page.url == url  # the buttons never submitted the surrounding form

    # On the server: a binary PNG of exactly the video's size, white exactly where painted.
    mask_asset = Asset.objects.get(public_id=asset_id, workspace=world.workspace)
    assert mask_asset.kind == "image" and mask_asset.original_name == "mask-frame-10.png"
    with mask_asset.file.open("rb") as fh:
        mask = Image.open(fh)
        mask.load()
    assert mask.format == "PNG" and mask.size == (W, H) and mask.mode == "L"
    assert {v for v, n in enumerate(mask.histogram()) if n} == {0, 255}
    x0, y0, x1, y1 = RECT
    radius = BRUSH / 2
    wrong = []
    for y in range(H):
        for x in range(W):
            white = mask.getpixel((x, y)) == 255
            cx, cy = x + 0.5, y + 0.5  # pixel centre
            in_rect = x0 <= x < x1 and y0 <= y < y1
            d = stroke_distance(cx, cy)
            if in_rect or d <= radius - 1.5:
                if not white:
                    wrong.append((x, y, "should be white"))
            elif d >= radius + 1.5 and not white:
                continue
            elif d >= radius + 1.5:
                wrong.append((x, y, "should be black"))
            # else: at the stroke's edge, where antialiasing may go either way
    assert not wrong, wrong[:20]
    for corner in ((0, 0), (W - 1, 0), (0, H - 1), (W - 1, H - 1), (30, 182)):
        assert mask.getpixel(corner) == 0, corner

    # Changing the mask afterwards empties the inputs again: the form never holds a stale mask.
    drag(page, (250, 40), (290, 40))
    expect(page.locator('input[name="mask_image_asset"]')).to_have_value("")
    expect(page.locator('input[name="mask_frame_id"]')).to_have_value("")
