"""A running card in an open gallery flips to done on the pushed event, with no poll of its own."""

import pytest
from playwright.sync_api import Browser, expect

from studio.generations import live
from studio.generations.models import Generation
from studio.generations.states import transition
from tests.asgi import session_cookie, start_web
from tests.factories import make_generation

pytestmark = [pytest.mark.browser, pytest.mark.slow]
S = Generation.Status


def log_in(page, url, persona):
    """The persona's session (the web process checks passwords with other hashers than the tests)."""
    page.context.add_cookies(
        [{"name": k, "value": v, "url": url} for k, v in session_cookie(persona.client).items()]
    )


def test_a_running_card_flips_to_done_on_the_stream_without_polling(browser: Browser, world, processes):
    _, url = start_web(processes)
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, progress=0.3)
    page = browser.new_page()
    card_requests, news_requests = [], []
    page.on("request", lambda r: card_requests.append(r.url) if "/card/" in r.url else None)
    page.on("request", lambda r: news_requests.append(r.url) if "/news/" in r.url else None)
    log_in(page, url, world.owner)
    page.goto(f"{url}/w/{world.workspace.slug}/p/{world.project.public_id}/")
    card = page.locator(f"#generation-{g.public_id}")
    expect(card).to_have_attribute("data-status", "running")
    expect(page.locator("#gallery-live")).to_have_attribute("data-live", "open")
    # Longer than a card's poll (every 2 s): with the stream open, the card does not ask.
    page.wait_for_timeout(3000)
    assert transition(g.pk, src=S.RUNNING, dst=S.DOWNLOADING)
    expect(card).to_have_attribute("data-status", "downloading")
    assert transition(g.pk, src=S.DOWNLOADING, dst=S.SUCCEEDED)
    expect(card).to_have_attribute("data-status", "succeeded")
    assert card_requests == []
    # A job made elsewhere is news: the gallery asks for its new cards on the event.
    asked = len(news_requests)
    other = make_generation(world.workspace, project=world.project, status=S.QUEUED)
    live.notify(other.pk)  # as create_generation does (with Redis; without it the hub's check finds it)
    expect(page.locator(f"#generation-{other.public_id}")).to_be_visible()
    assert len(news_requests) > asked


def test_while_the_stream_is_down_the_cards_poll(browser: Browser, world, processes):
    _, url = start_web(processes)
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING)
    page = browser.new_page()
    log_in(page, url, world.owner)
    # The stream's address answers 404 here, as a proxy that drops it would: the polls carry on alone.
    page.route("**/g/live/**", lambda route: route.fulfill(status=404, body="gone"))
    page.goto(f"{url}/w/{world.workspace.slug}/p/{world.project.public_id}/")
    card = page.locator(f"#generation-{g.public_id}")
    expect(card).to_have_attribute("data-status", "running")
    with page.expect_request(lambda r: "/card/" in r.url, timeout=10_000):
        assert transition(g.pk, src=S.RUNNING, dst=S.DOWNLOADING)
    expect(card).to_have_attribute("data-status", "downloading")
    assert page.locator("#gallery-live").get_attribute("data-live") is None
