import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_sign_up_make_a_team_and_invite_a_teammate(live_server, browser: Browser, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    base = live_server.url
    User = get_user_model()
    User.objects.create_user("teammate", password=PASSWORD)
    User.objects.create_user("stranger", password=PASSWORD)

    founder = browser.new_context().new_page()
    founder.goto(f"{base}/accounts/signup/")
    founder.get_by_label("Username").fill("founder")
    founder.get_by_label("Password", exact=True).fill(PASSWORD)
    founder.get_by_label("Password confirmation").fill(PASSWORD)
    founder.get_by_role("button", name="Sign up").click()
    expect(founder.get_by_role("heading", name="New workspace")).to_be_visible()
    founder.get_by_label("Workspace name").fill("Night Owls")
    founder.get_by_role("button", name="Create workspace").click()
    expect(founder.get_by_role("heading", name="Night Owls")).to_be_visible()

    founder.get_by_label("New project name").fill("Moon teaser")
    founder.get_by_role("button", name="Create project").click()
    expect(founder.get_by_role("heading", name="Moon teaser")).to_be_visible()
    project_url = founder.url

    founder.get_by_role("link", name="Members").click()
    founder.get_by_role("button", name="Create invite link").click()
    invite_url = founder.locator("[data-invite-link]").first.input_value()
    assert re.search(r"/invite/[\w-]{40,}/$", invite_url)

    teammate = browser.new_context().new_page()
    teammate.goto(invite_url)  # not logged in: sent to log in, then back to the invite
    teammate.get_by_label("Username").fill("teammate")
    teammate.get_by_label("Password").fill(PASSWORD)
    teammate.get_by_role("button", name="Log in").click()
    expect(teammate.get_by_role("heading", name="Join Night Owls")).to_be_visible()
    teammate.get_by_role("button", name="Join workspace").click()
    expect(teammate.get_by_role("link", name="Moon teaser")).to_be_visible()
    teammate.get_by_role("link", name="Moon teaser").click()
    expect(teammate.get_by_role("heading", name="Moon teaser")).to_be_visible()

    # The invite was single use: a stranger holding the same link is refused, and the project is a 404.
    stranger = browser.new_context().new_page()
    log_in(stranger, base, "stranger")
    stranger.goto(invite_url)
    expect(stranger.get_by_role("heading", name="This invite can't be used")).to_be_visible()
    response = stranger.goto(project_url)
    assert response.status == 404
    expect(stranger.get_by_role("heading", name="Nothing here")).to_be_visible()
