"""A cost before you click, in a real browser: the estimate beside Generate follows the model and the
length as they change, with this month's spend against the budget, and a job past the budget is refused
with the figures while everything typed stays."""

from decimal import Decimal

import pytest
from playwright.sync_api import Browser, expect

from studio.generations.models import Generation
from tests.browser.test_job_form import open_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def set_budget(world, amount):
    world.workspace.monthly_budget = Decimal(amount)
    world.workspace.save()


def test_the_estimate_follows_the_model_and_the_length(live_server, browser: Browser, world):
    set_budget(world, "1.00")
    page = open_form(browser, live_server, world)
    form = page.locator("#generation-form")
    cost = page.locator("#job-summary .job-cost")
    form.get_by_label("Model").select_option("dashscope:wan2.5-i2v-preview")
    # wan2.5 at its default 1080P, 5 s; no first frame yet, and the figure is there already.
    expect(cost).to_contain_text("About $0.75")
    expect(cost).to_contain_text("5 s at $0.10/s, x1.5 for 1080P")
    expect(cost).to_contain_text("this month $0.00 of the $1.00 budget")
    expect(page.locator("[data-over-budget]")).to_have_count(0)

    form.locator("select[name=duration]").select_option("10")
    expect(cost).to_contain_text("About $1.50")
    expect(page.locator("[data-over-budget]")).to_contain_text("past the workspace budget of $1.00")
    form.locator("select[name=resolution]").select_option("480P")
    expect(cost).to_contain_text("About $0.50")
    expect(page.locator("[data-over-budget]")).to_have_count(0)

    form.get_by_label("Model").select_option("jiekou:wan2.1-t2v")
    expect(cost).to_contain_text("About $0.15")  # 832x480, its default size
    form.locator("select[name=size]").select_option("1280x720")
    expect(cost).to_contain_text("About $0.30")
    page.locator('[data-param="fast_mode"] input').check()
    expect(cost).to_contain_text("About $0.18")

    form.get_by_label("Model").select_option("local:preview-t2v")
    expect(cost).to_contain_text("Free: an offline preview")


def test_a_job_past_the_budget_is_refused_and_keeps_what_was_typed(live_server, browser: Browser, world):
    set_budget(world, "0.10")
    page = open_form(browser, live_server, world)
    form = page.locator("#generation-form")
    form.get_by_label("Model").select_option("jiekou:wan2.1-t2v")
    page.locator("#pb-part-subject").fill("a grey heron")
    page.locator("#pb-part-action").fill("takes off over the marsh at dawn")
    page.locator("#pb-part-camera").fill("slow pan right")
    expect(page.locator("[data-over-budget]")).to_contain_text(
        "This job (about $0.15) would take this month's estimated spend to $0.15, past the workspace budget "
        "of $0.10."
    )
    page.get_by_role("button", name="Generate").click()
    errors = page.locator("#generation-form .errors")
    expect(errors).to_contain_text("past the workspace budget of $0.10")
    expect(errors).to_contain_text("Nothing was sent")
    expect(page.locator("#pb-part-subject")).to_have_value("a grey heron")
    expect(page.locator("#pb-part-action")).to_have_value("takes off over the marsh at dawn")
    expect(page.locator("#pb-part-camera")).to_have_value("slow pan right")
    expect(form.get_by_label("Model")).to_have_value("jiekou:wan2.1-t2v")
    assert not Generation.objects.exists()
