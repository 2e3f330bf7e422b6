"""The storyboard, end to end in chromium: three shots chained across vendors (a local shot, one from its
last frame, a VACE extension through the DashScope emulator over loopback HTTP), made by "Generate from
here" on a real Celery worker with beat, reordered by drag and drop and by keyboard, trimmed, exported at
the settings chosen on the page, played and shared; the film is probed with PyAV against the plan."""

from __future__ import annotations

import av
import pytest
from playwright.sync_api import Browser, expect

from studio.providers.emulators import start_emulator
from studio.storyboards import media
from studio.storyboards.models import Chain, Export, Shot, Storyboard
from tests.browser.test_team_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

KEY = "emulated-key-1234"
MADE = 240_000  # ms: three takes in turn through a fresh worker on a busy machine


@pytest.fixture
def dashscope():
    handle = start_emulator("dashscope", api_key=KEY, task_seconds=1.0)
    yield handle
    handle.stop()


@pytest.fixture
def export_here(monkeypatch):
    """The export's nudge runs the job in a thread of this process (the worker's broker folder is its own;
    the generations are found by its sweeper, exports are only ever nudged)."""
    import threading

    from django.db import connection

    from studio.storyboards import exports

    def run(export_id: int) -> None:
        try:
            exports.run_export(export_id)
        finally:
            connection.close()

    monkeypatch.setattr(
        "studio.storyboards.services._nudge", lambda pk: threading.Thread(target=run, args=(pk,)).start()
    )


def planned_frames(sb: Storyboard, fps: int, crossfade: float) -> int:
    """What the film should hold: each shot's trimmed span at ``fps``, less each crossfade's overlap."""
    counts = []
    for shot in sb.shots.order_by("position").select_related("take"):
        length = media.duration_of(shot.take.video.path)
        end = length if shot.out_point is None else min(shot.out_point, length)
        counts.append(max(1, round((end - shot.in_point) * fps)))
    return sum(counts) - round(crossfade * fps) * (len(counts) - 1)


def test_a_three_shot_storyboard_is_chained_across_vendors_reordered_trimmed_exported_and_shared(
    live_server, browser: Browser, world, processes, proc_env, dashscope, export_here
):
    processes.env.update(
        {
            "DASHSCOPE_BASE_URL": dashscope.base_url,
            "DASHSCOPE_API_KEY": KEY,
            "STUDIO_FETCH_ALLOW_PRIVATE": "true",
            "STUDIO_PUBLIC_BASE_URL": live_server.url,
        }
    )
    processes.worker()
    page = browser.new_page()
    log_in(page, live_server.url, world.editor.user.username)
    page.goto(f"{live_server.url}/w/{world.workspace.slug}/storyboards/p/{world.project.public_id}/")
    page.get_by_label("Name").fill("Lighthouse")
    page.get_by_label("Subject, inherited by every shot").fill("a white lighthouse on a cliff")
    page.get_by_role("button", name="Create storyboard").click()
    expect(page.get_by_role("heading", name="Lighthouse")).to_be_visible()

    adding = page.locator("section", has=page.get_by_role("heading", name="Add a shot"))
    for model, action, length, continuity in (
        ("local:preview-t2v", "waves roll in", "2", "none"),
        ("local:preview-i2v", "the light turns on", "2", "last_frame"),
        ("dashscope:wan2.1-vace-plus", "the camera pulls back", "", "extension"),
    ):
        adding.get_by_label("Model").select_option(model)
        adding.get_by_label("Action").fill(action)
        adding.get_by_label("Length (s)").fill(length)
        adding.get_by_label("Continuity").select_option(continuity)
        adding.get_by_role("button", name="Add shot").click()
        expect(page.locator("[data-timeline] > li[data-shot]", has_text=action)).to_be_visible()
    sb = Storyboard.objects.get()
    cards = page.locator("[data-timeline] > li[data-shot]")
    expect(cards).to_have_count(3)

    # Generate from here, with the whole run's estimate on the button (5 s of VACE at $0.10/s).
    start = cards.nth(0).get_by_role("button", name="Generate from here (about $0.50)")
    start.click()
    status = page.locator(".chain-status")
    expect(status).to_contain_text("Generating shots 1 onward")
    expect(status).to_contain_text("Every shot from 1 on has a take.", timeout=MADE)
    chain = Chain.objects.get()
    assert chain.status == "done" and chain.steps.count() == 3
    assert dashscope.submit_count == 1  # the paid shot was sent once
    shots = list(sb.shots.order_by("position").select_related("take"))
    assert all(s.take and s.take.status == "succeeded" for s in shots)
    assert shots[1].take.input_links.get().slot == "image"
    assert (shots[2].take.task, shots[2].take.input_links.get().slot) == ("video_extension", "first_clip")
    for n in range(3):
        expect(cards.nth(n).locator("img")).to_be_visible()

    # Reorder: drag the third card onto the first, then Alt+ArrowDown moves it back one place.
    third = shots[2].public_id
    page.locator(f'li[data-shot="{third}"]').drag_to(cards.nth(0))
    expect(cards.nth(0)).to_have_attribute("data-shot", third)
    assert list(sb.shots.order_by("position").values_list("pk", flat=True)) == [
        shots[2].pk,
        shots[0].pk,
        shots[1].pk,
    ]
    expect(cards.nth(0)).to_be_focused()  # the page came back at the moved shot
    page.keyboard.press("Alt+ArrowDown")
    expect(cards.nth(1)).to_have_attribute("data-shot", third)
    assert list(Shot.objects.filter(storyboard=sb).order_by("position").values_list("pk", flat=True)) == [
        shots[0].pk,
        shots[2].pk,
        shots[1].pk,
    ]

    # Trim the first shot to its middle second.
    card = page.locator(f'li[data-shot="{shots[0].public_id}"]')
    card.get_by_label("In (s)").fill("0.5")
    card.get_by_label("Out (s)").fill("1.5")
    card.get_by_role("button", name="Trim").click()
    expect(page.locator(f'li[data-shot="{shots[0].public_id}"]')).to_contain_text("in 0.5 s · out 1.5 s")

    # The film's settings, then the export with its progress.
    page.get_by_label("Size").fill("424x240")
    page.get_by_label("Frame rate").fill("12")
    page.get_by_label("Crossfade (s)").fill("0.25")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".messages")).to_contain_text("The film will be 424x240 at 12 fps.")
    page.get_by_role("button", name="Export the film").click()
    download = page.get_by_role("link", name="Download")
    expect(download).to_be_visible(timeout=MADE)
    export = Export.objects.get()
    assert (export.status, export.width, export.height, export.fps, export.crossfade) == (
        "succeeded",
        424,
        240,
        12,
        0.25,
    )
    frames = planned_frames(sb, 12, 0.25)
    with av.open(export.file.path) as container:
        stream = container.streams.video[0]
        decoded = sum(1 for _ in container.decode(stream))
        assert (stream.codec_context.width, stream.codec_context.height, stream.average_rate) == (
            424,
            240,
            12,
        )
    assert decoded == frames

    # Share it, and play it as a stranger would.
    page.get_by_role("button", name="Create share link").click()
    share_url = page.locator("[data-share-link]").first.input_value()
    stranger = browser.new_context().new_page()
    stranger.goto(share_url)
    stranger.wait_for_function("() => document.querySelector('video').readyState >= 2")
    duration = stranger.evaluate("document.querySelector('video').duration")
    assert abs(duration - frames / 12) < 0.2
    stranger.evaluate("document.querySelector('video').muted = true")
    stranger.evaluate("document.querySelector('video').play()")
    stranger.wait_for_function("() => document.querySelector('video').currentTime > 0.2")
