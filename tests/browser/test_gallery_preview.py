"""Gallery cards play a muted preview on hover, keyboard focus or a first tap, and load no video before."""

import pytest
from django.core.files import File
from playwright.sync_api import Browser, Page, expect

from studio.assets.probe import make_poster
from studio.generations.models import Generation
from tests.browser.test_team_flow import log_in
from tests.factories import make_generation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYING = """(selector) => {
  const video = document.querySelector(selector);
  return !!video && video.currentTime > 0 && !video.paused && video.muted;
}"""


def finished(world, sample_mp4, tmp_path, text):
    """A succeeded generation with a real H.264 video and a poster made from it."""
    g = make_generation(
        world.workspace,
        project=world.project,
        status=Generation.Status.SUCCEEDED,
        provider="local",
        text=text,
    )
    poster = tmp_path / f"{g.public_id}.jpg"
    width, height = make_poster(sample_mp4, poster)
    with sample_mp4.open("rb") as f:
        g.video.save("video.mp4", File(f), save=False)
    with poster.open("rb") as f:
        g.poster.save("poster.jpg", File(f), save=False)
    g.width, g.height, g.result_duration, g.fps = width, height, 1.0, 16
    g.save()
    return g


@pytest.fixture
def two_cards(world, sample_mp4, tmp_path):
    return [finished(world, sample_mp4, tmp_path, t) for t in ("a kite over dunes", "a tram in the rain")]


def open_gallery(page: Page, live_server, world) -> list[str]:
    """Log in and open the workspace gallery; return the list that collects every URL the page asks for."""
    log_in(page, live_server.url, world.owner.user.username)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/w/{world.workspace.slug}/gallery/")
    expect(page.locator(".gcard img").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    return requested


def videos_asked_for(requested: list[str]) -> list[str]:
    return [url for url in requested if url.split("?")[0].endswith("/video.mp4")]


def test_hover_plays_a_muted_preview_and_leaving_removes_it(live_server, browser: Browser, world, two_cards):
    page = browser.new_page()
    requested = open_gallery(page, live_server, world)
    assert page.locator(".gallery video").count() == 0
    assert videos_asked_for(requested) == [], "the gallery must not load any video before a hover"

    first = two_cards[-1]  # newest first
    card = page.locator(f"#generation-{first.public_id}")
    card.locator("a.gcard-media").hover()
    page.wait_for_function(PLAYING, arg=f"#generation-{first.public_id} video")
    assert videos_asked_for(requested), "the preview is fetched once someone hovers"
    assert page.locator(".gallery video").count() == 1  # only the hovered card plays
    assert card.locator("video").get_attribute("src").endswith(f"/{first.public_id}/video.mp4")

    page.locator("h1").hover()  # the pointer leaves the card
    expect(page.locator(".gallery video")).to_have_count(0)


def test_keyboard_focus_on_the_card_link_plays_it(live_server, browser: Browser, world, two_cards):
    page = browser.new_page()
    requested = open_gallery(page, live_server, world)
    page.mouse.move(0, 0)
    card = page.locator(f"#generation-{two_cards[-1].public_id}")
    # Shift+Tab back from the card's own "compare" box: the card's link is the focusable element before it.
    card.locator("input[data-compare]").focus()
    expect(page.locator(".gallery video")).to_have_count(0)
    page.keyboard.press("Shift+Tab")
    expect(card.locator("a.gcard-media")).to_be_focused()
    page.wait_for_function(PLAYING, arg=f"#generation-{two_cards[-1].public_id} video")
    assert videos_asked_for(requested)

    page.keyboard.press("Tab")  # focus moves on to the compare box: the preview goes
    expect(page.locator(".gallery video")).to_have_count(0)


def test_a_first_tap_previews_and_a_second_tap_opens(live_server, browser: Browser, world, two_cards):
    context = browser.new_context(has_touch=True, is_mobile=True, viewport={"width": 390, "height": 844})
    page = context.new_page()
    open_gallery(page, live_server, world)
    gallery_url = page.url
    g = two_cards[-1]
    link = page.locator(f"#generation-{g.public_id} a.gcard-media")
    link.tap()
    page.wait_for_function(PLAYING, arg=f"#generation-{g.public_id} video")
    assert page.url == gallery_url  # the first tap stayed on the gallery
    link.tap()
    expect(page).to_have_url(f"{live_server.url}/w/{world.workspace.slug}/g/{g.public_id}/")
    context.close()


def test_with_reduced_motion_a_hover_plays_nothing(live_server, browser: Browser, world, two_cards):
    context = browser.new_context(reduced_motion="reduce")
    page = context.new_page()
    requested = open_gallery(page, live_server, world)
    card = page.locator(f"#generation-{two_cards[-1].public_id}")
    card.locator("a.gcard-media").hover()
    page.wait_for_timeout(500)  # long enough for a preview to have been made, were it going to be
    assert page.locator(".gallery video").count() == 0
    assert videos_asked_for(requested) == []
    card.locator("a.gcard-media").focus()  # picking the card deliberately still shows it
    page.wait_for_function(PLAYING, arg=f"#generation-{two_cards[-1].public_id} video")
    context.close()
