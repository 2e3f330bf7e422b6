import pytest
from playwright.sync_api import Browser, expect

from studio.generations import services
from studio.generations.recipe import Recipe
from tests.browser.test_team_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_job_made_elsewhere_finishes_on_the_open_page_without_a_reload(
    live_server, browser: Browser, world, processes
):
    processes.worker()
    generation = services.create_generation(
        workspace=world.workspace,
        project=world.project,
        user=world.owner.user,
        recipe=Recipe(
            provider="local",
            model="preview-t2v",
            prompt="a paper lantern drifting over a night lake",
            size="832x480",
            duration=2,
        ),
    )
    page = browser.new_page()
    log_in(page, live_server.url, world.owner.user.username)
    page.goto(f"{live_server.url}/w/{world.workspace.slug}/p/{world.project.public_id}/")
    card = page.locator(f"#generation-{generation.public_id}")
    expect(card).to_be_visible()
    page.evaluate("window.__marker = 'same page'")  # gone if anything reloads the page
    expect(card).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(card.locator("img")).to_be_visible()
    assert page.evaluate("window.__marker") == "same page"
    card.locator("a.gcard-media").click()
    video = page.locator("video")
    expect(video).to_be_visible()
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    assert page.evaluate("document.querySelector('video').duration") == pytest.approx(2.0, abs=0.1)
