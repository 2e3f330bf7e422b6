"""Creator journeys, end to end in chromium: log in, make, watch, remix or edit, share; and what the page
said before Generate is what was made (probed with PyAV on the stored file).

A real Celery worker with beat runs the jobs on the test's database, as ``manage.py up`` does."""

from __future__ import annotations

import re

import av
import pytest
from playwright.sync_api import Browser, Page, expect

from studio.generations.models import Generation
from tests.browser.test_team_flow import log_in
from tests.media import make_image, make_video

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DONE = 90_000  # ms: a local job through a fresh worker, on a busy machine


def project_page(browser: Browser, live_server, world, *, viewport=None) -> Page:
    page = browser.new_page(**({"viewport": viewport} if viewport else {}))
    log_in(page, live_server.url, world.editor.user.username)
    page.goto(f"{live_server.url}/w/{world.workspace.slug}/p/{world.project.public_id}/")
    return page


def probe(generation: Generation) -> tuple[int, int]:
    generation.refresh_from_db()
    with av.open(generation.video.path) as container:
        stream = container.streams.video[0]
        return stream.codec_context.width, stream.codec_context.height


def test_a_portrait_first_frame_makes_a_portrait_video_then_remix_wins_over_a_draft_and_is_shared(
    live_server, browser: Browser, world, processes, tmp_path
):
    processes.worker()
    portrait = make_image(tmp_path / "tower.png", 720, 1280)
    page = project_page(browser, live_server, world)
    form = page.locator("#generation-form")
    summary = page.locator("#job-summary")

    # Make: an image-led task follows the first frame's shape, and says so before Generate.
    form.get_by_label("Model").select_option("local:preview-i2v")
    expect(form.locator("select[name=size]")).to_have_value("")
    expect(form.locator("select[name=size] option:checked")).to_have_text("As the input")
    page.locator('[data-field="image"] input[type=file]').set_input_files(str(portrait))
    expect(page.locator("[data-ii-info]")).to_contain_text("fits 9:16")
    page.locator("#pb-part-subject").fill("a white lighthouse on a cliff")
    page.locator("#pb-part-action").fill("waves break against the rocks below")
    form.locator("select[name=duration]").select_option("2")
    expect(summary).to_contain_text("720×1280 (9:16), the input's shape")
    expect(summary).not_to_contain_text("crop")
    page.get_by_role("button", name="Generate").click()

    # Watch: the card finishes live and shows what was made.
    card = page.locator(".gcard", has_text="white lighthouse")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=DONE)
    expect(card).to_contain_text("720×1280")
    first = Generation.objects.get()
    assert probe(first) == (720, 1280) and not first.warnings
    expect(page.locator(".msg--warning")).to_have_count(0)

    # A draft typed afterwards, then an explicit Remix of the finished video: the remix wins.
    page.locator("#pb-part-action").fill("an unsent idea about a harbour at night")
    card.locator("a.gcard-media").click()
    page.get_by_role("link", name="Remix").click()
    expect(page.locator(".draft-note")).to_contain_text("Restore your draft")
    expect(page.locator("#pb-part-action")).to_have_value("waves break against the rocks below")
    expect(form.get_by_label("Model")).to_have_value("local:preview-i2v")
    expect(page.locator("input[name=image_asset]")).to_have_value(first.input_links.get().asset.public_id)
    expect(page.locator("[data-ii-name]")).to_contain_text("tower.png")
    expect(summary).to_contain_text("720×1280 (9:16)")

    # The draft is recoverable, and the remix comes back when asked for again.
    page.get_by_role("button", name="Restore your draft").click()
    expect(page.locator("#pb-part-action")).to_have_value("an unsent idea about a harbour at night")
    page.go_back()
    page.get_by_role("link", name="Remix").click()
    expect(page.locator("#pb-part-action")).to_have_value("waves break against the rocks below")

    # Remix: change the action only; every input rides along.
    page.locator("#pb-part-action").fill("gulls circle the lantern room")
    page.get_by_role("button", name="Generate").click()
    remix_card = page.locator(".gcard", has_text="gulls circle")
    expect(remix_card).to_have_attribute("data-status", "succeeded", timeout=DONE)
    remix = Generation.objects.exclude(pk=first.pk).get()
    assert remix.remix_of_id == first.pk and remix.task == "i2v"
    assert remix.input_links.get().asset_id == first.input_links.get().asset_id
    assert probe(remix) == (720, 1280)

    # The remix's page says where it came from; share it and watch it as a stranger would.
    remix_card.locator("a.gcard-media").click()
    expect(page.locator(".facts")).to_contain_text("Remix of")
    page.get_by_role("link", name=re.compile("white lighthouse")).click()
    expect(page).to_have_url(re.compile(first.public_id))
    page.go_back()
    page.get_by_role("button", name="Create share link").click()
    share_url = page.locator("[data-share-link]").first.input_value()
    stranger = browser.new_context().new_page()
    stranger.goto(share_url)
    video = stranger.locator("video")
    expect(video).to_be_visible()
    stranger.wait_for_function("document.querySelector('video').readyState >= 2")
    assert stranger.evaluate(
        "[document.querySelector('video').videoWidth, document.querySelector('video').videoHeight]"
    ) == [720, 1280]


def test_a_landscape_first_frame_is_not_cropped(live_server, browser: Browser, world, tmp_path):
    page = project_page(browser, live_server, world)
    form = page.locator("#generation-form")
    form.get_by_label("Model").select_option("local:preview-i2v")
    page.locator('[data-field="image"] input[type=file]').set_input_files(
        str(make_image(tmp_path / "wide.png", 1280, 720))
    )
    page.locator("#pb-part-action").fill("a tram crosses the square")
    expect(page.locator("#job-summary")).to_contain_text("1280×720 (16:9), the input's shape")
    expect(page.locator("#job-summary .job-warning")).to_have_count(0)
    # A size picked by hand holds for this model; another model starts from its own default again.
    form.locator("select[name=size]").select_option("960x960")
    expect(page.locator("#job-summary")).to_contain_text("960×960")
    expect(page.locator("#job-summary .job-warning")).to_contain_text("crops it to 960x960")
    form.get_by_label("Model").select_option("local:preview-t2v")
    form.get_by_label("Model").select_option("local:preview-i2v")
    expect(form.locator("select[name=size]")).to_have_value("")


def test_a_masked_edit_is_painted_in_the_job_form_and_a_refusal_keeps_the_video(
    live_server, browser: Browser, world, processes, tmp_path
):
    processes.worker()
    clip = make_video(tmp_path / "street.mp4", 320, 180, frames=32, fps=16)
    page = project_page(browser, live_server, world)
    form = page.locator("#generation-form")
    form.get_by_label("Model").select_option("local:preview-vace")
    form.get_by_label("Task").select_option("video_edit")
    expect(form.locator("select[name=size]")).to_have_value("")
    expect(page.locator('[data-field="mask_image"] > label')).to_contain_text("one is needed")
    page.locator('[data-field="video"] input[type=file]').set_input_files(str(clip))
    expect(page.locator('[data-field="video"] [data-kept]')).to_contain_text("street.mp4")
    page.locator("#pb-part-subject").fill("the white box")
    page.locator("#pb-part-changes").fill("turns into a red balloon")

    # Generate with no mask: refused where the person is, the video kept in its own field, the address
    # still the project's.
    expect(page.locator("#job-summary")).to_contain_text("mask")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#generation-form :is(.errors, p.error):not([hidden])").first).to_contain_text("mask")
    assert page.url.rstrip("/").endswith(world.project.public_id)
    expect(page.locator('[data-field="video"] [data-kept]')).to_contain_text("street.mp4")
    expect(page.locator("#pb-part-changes")).to_have_value("turns into a red balloon")
    assert not Generation.objects.exists()

    # Paint the mask right here, beside the prompt.
    page.get_by_role("button", name="Paint the mask on this video").click()
    painter = page.locator("[data-mask-painter]")
    expect(painter).to_have_attribute("data-loaded-frame", "1")
    page.keyboard.press("r")
    canvas = page.locator("canvas[data-mp-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.1)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    page.get_by_role("button", name="Use this mask").click()
    expect(page.locator('[data-field="mask_image"] [data-kept]')).to_contain_text("frame 1")
    expect(page.locator("input[name=mask_frame_id]")).to_have_value("1")
    expect(page.locator("#job-summary")).to_contain_text("1280×720 (16:9), the input's shape")
    page.get_by_role("button", name="Generate").click()

    card = page.locator(".gcard", has_text="red balloon")
    expect(card).to_have_attribute("data-status", "succeeded", timeout=DONE)
    g = Generation.objects.get()
    assert g.task == "video_edit" and g.params["mask_frame_id"] == 1
    assert {link.slot for link in g.input_links.all()} == {"video", "mask_image"}
    assert probe(g) == (1280, 720)


def test_the_canvas_keeps_model_inputs_prompt_and_generate_in_view(live_server, browser: Browser, world):
    page = project_page(browser, live_server, world)
    page.locator("#generation-form").get_by_label("Model").select_option("local:preview-i2v")
    page.locator("#pb-part-action").fill("a heron lifts off the water")
    for selector in (
        "#id_model",
        '[data-field="image"] .ii-drop',
        "[data-pb-preview]",
        "[data-pb-words]",
        "#job-submit",
    ):
        box = page.locator(selector).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 860, f"{selector} is out of view: {box}"
    assert page.evaluate("window.scrollY") == 0
    # Parts are one line each until opened; opening one shows its suggestions.
    heights = page.locator(".pb-part:not(.pb-part--open)").evaluate_all(
        "parts => parts.map(p => p.getBoundingClientRect().height)"
    )
    assert max(heights) < 60
    page.locator("#pb-part-camera").click()
    expect(page.locator('[data-pb-part-wrap="camera"] .pb-chips')).to_be_visible()
    expect(page.locator('[data-pb-part-wrap="subject"] .pb-chips')).to_be_hidden()

    # After the scripts ran: every id once, every control that shows with a name a screen reader reads.
    problems = page.evaluate(
        """() => {
          const out = [];
          const seen = new Map();
          document.querySelectorAll("[id]").forEach((el) => seen.set(el.id, (seen.get(el.id) || 0) + 1));
          seen.forEach((n, id) => { if (n > 1) out.push(`id ${id} x${n}`); });
          document.querySelectorAll("input, select, textarea").forEach((el) => {
            if (["hidden", "submit", "button"].includes(el.type) || !el.checkVisibility()) return;
            if (!el.labels?.length && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby")) out.push(`unlabelled ${el.outerHTML.slice(0, 80)}`);
          });
          return out;
        }"""
    )
    assert problems == []


def test_the_canvas_is_usable_on_a_phone(live_server, browser: Browser, world, tmp_path):
    page = project_page(browser, live_server, world, viewport={"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#generation-form").get_by_label("Model").select_option("local:preview-t2v")
    page.locator("#pb-part-action").fill("a paper boat on a pond")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator(".gcard", has_text="paper boat")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
