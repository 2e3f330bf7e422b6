import re

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_team_flow import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROMPTS = ["a red kite over green dunes", "a lighthouse in a storm at night", "a tram crossing a rainy city"]


def test_three_jobs_finish_live_then_filter_watch_share_and_revoke(
    live_server, browser: Browser, world, processes
):
    processes.worker()
    page = browser.new_page()
    log_in(page, live_server.url, world.editor.user.username)
    project_url = f"{live_server.url}/w/{world.workspace.slug}/p/{world.project.public_id}/"
    page.goto(project_url)
    for prompt in PROMPTS:
        new_video = page.locator("details.new-generation")
        if new_video.get_attribute("open") is None:
            new_video.locator("> summary").click()
        page.locator("#generation-form").get_by_label("Model").select_option("local:preview-t2v")
        page.locator("#pb-part-action").fill(prompt)  # the builder composes the final prompt from its parts
        page.locator("select[name=size]").select_option("832x480")  # the model's sizes, offered as a list
        page.locator("select[name=duration]").select_option("3")
        page.get_by_role("button", name="Generate").click()
        expect(page.locator(".gcard", has_text=prompt)).to_be_visible()
    page.evaluate("window.__marker = 'same page'")
    cards = page.locator(".gcard")
    expect(cards).to_have_count(3)
    for prompt in PROMPTS:
        expect(page.locator(".gcard", has_text=prompt)).to_have_attribute(
            "data-status", "succeeded", timeout=90_000
        )
    assert page.evaluate("window.__marker") == "same page"  # finished without a reload

    page.get_by_placeholder("Search prompts").fill("lighthouse")
    expect(cards).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=lighthouse"))
    cards.first.locator("a.gcard-media").click()

    video = page.locator("video")
    page.wait_for_function("() => document.querySelector('video').readyState >= 1")
    page.evaluate("document.querySelector('video').currentTime = 2.0")
    page.wait_for_function(
        "() => Math.abs(document.querySelector('video').currentTime - 2.0) < 0.2 && !document.querySelector('video').seeking"
    )
    expect(video).to_be_visible()

    page.get_by_role("button", name="Create share link").click()
    share_url = page.locator("[data-share-link]").first.input_value()
    assert "/s/" in share_url

    stranger = browser.new_context().new_page()  # logged out
    response = stranger.goto(share_url)
    assert response.status == 200 and response.headers["x-robots-tag"] == "noindex, nofollow"
    expect(stranger.locator("video")).to_be_visible()
    expect(stranger.get_by_text("lighthouse")).to_have_count(0)  # no recipe unless the sharer chose it
    stranger.wait_for_function("() => document.querySelector('video').readyState >= 1")

    page.get_by_role("button", name="Revoke").click()
    expect(page.locator(".msg", has_text="Link revoked")).to_be_visible()
    response = stranger.goto(share_url)
    assert response.status == 404
