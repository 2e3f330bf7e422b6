"""A cost before you click: one price table (``STUDIO_PRICES`` overrides it), the estimate of a job by its
model, picture, length, fast mode and sound, VACE priced by the seconds it outputs, and the job form's
summary showing the same figure Generate stores, with this month's spend and a refusal past the budget."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from studio.generations import services
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers import catalog, pricing
from studio.providers.catalog import MediaInfo


def clean_of(provider, model, task=None, **fields):
    return catalog.validate(
        catalog.JobRequest(provider=provider, model=model, task=task, prompt="a heron takes off", **fields)
    )


def still(w=1280, h=720):
    return MediaInfo(kind="image", format="png", width=w, height=h, bytes=100_000)


def clip(seconds):
    return MediaInfo(
        kind="video", format="mp4", width=1280, height=720, duration=seconds, fps=30, bytes=10**6
    )


def test_a_per_second_price_follows_the_length_and_the_resolution():
    five = pricing.estimate_for("dashscope", "wan2.5-i2v-preview", duration=5, resolution="720P")
    ten = pricing.estimate_for("dashscope", "wan2.5-i2v-preview", duration=10, resolution="720P")
    assert (five.amount, ten.amount) == (Decimal("0.50"), Decimal("1.00"))
    hd = pricing.estimate_for("dashscope", "wan2.5-i2v-preview", duration=5, resolution="1080P")
    low = pricing.estimate_for("dashscope", "wan2.5-i2v-preview", duration=5, resolution="480P")
    assert (hd.amount, low.amount) == (Decimal("0.75"), Decimal("0.25"))
    assert hd.basis == "5 s at $0.10/s, x1.5 for 1080P"
    # Nothing chosen: the model's defaults (wan2.5: 1080P, 5 s).
    assert pricing.estimate_for("dashscope", "wan2.5-i2v-preview").amount == Decimal("0.75")


def test_a_per_video_price_ignores_length_and_siliconflow_ignores_size():
    a = pricing.estimate_for("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", size="1280x720")
    b = pricing.estimate_for("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", size="960x960", duration=10)
    assert a.amount == b.amount == Decimal("0.29") and a.basis == "$0.29/video"


def test_jiekou_is_priced_by_size_and_fast_mode():
    big = pricing.estimate_for("jiekou", "wan2.1-t2v", size="1280x720")
    small = pricing.estimate_for("jiekou", "wan2.1-t2v", size="832x480")
    fast = pricing.estimate_for("jiekou", "wan2.1-t2v", size="1280x720", params={"fast_mode": True})
    assert (big.amount, small.amount, fast.amount) == (Decimal("0.30"), Decimal("0.15"), Decimal("0.18"))
    assert fast.basis == "$0.30/video, x0.6 for fast mode"


def test_vace_is_priced_by_the_seconds_of_video_it_outputs():
    # Repainting keeps the input's length: a 3 s clip makes 3 s; a longer one is cut to the model's 5 s.
    three = pricing.estimate_for("dashscope", "wan2.1-vace-plus", task="video_repainting", input_seconds=3.0)
    long = pricing.estimate_for("dashscope", "wan2.1-vace-plus", task="video_edit", input_seconds=9.0)
    ref = pricing.estimate_for("dashscope", "wan2.1-vace-plus", task="image_reference")
    assert (three.seconds, long.seconds, ref.seconds) == (3, 5, 5)
    assert three.amount == Decimal("0.30") and ref.amount == Decimal("0.50")
    # A frame of slack: 3.02 s is a 3 s output.
    assert (
        pricing.output_seconds(
            model=catalog.get_model("dashscope", "wan2.1-vace-plus"),
            task="video_edit",
            duration=5,
            input_seconds=3.02,
        )
        == 3
    )


def test_a_validated_job_is_estimated_from_what_it_will_make():
    job = clean_of(
        "dashscope", "wan2.5-i2v-preview", media={"image": still()}, duration=10, resolution="480P"
    )
    assert pricing.estimate_job(job).amount == Decimal("0.50")
    local = clean_of("local", "preview-t2v", size="832x480", duration=2)
    assert pricing.estimate_job(local).free and pricing.estimate_job(local).amount == 0


def test_the_price_table_is_overridden_by_studio_prices(settings):
    settings.STUDIO_PRICES = ["dashscope:wan2.5-i2v-preview=0.20/s", "jiekou:wan2.1-t2v=1/video"]
    assert pricing.estimate_for("dashscope", "wan2.5-i2v-preview", resolution="720P").amount == Decimal(
        "1.00"
    )
    assert pricing.estimate_for("jiekou", "wan2.1-t2v", size="1280x720").amount == Decimal("1.00")


def test_a_stored_job_carries_the_estimate_of_its_size(world):
    g = services.create_generation(
        workspace=world.workspace,
        project=world.project,
        user=world.owner.user,
        recipe=Recipe(provider="jiekou", model="wan2.1-t2v", prompt="a heron", size="832x480"),
    )
    assert g.cost_estimate == Decimal("0.15")


# ------------------------------------------------------------------------------------ the job form's line


def preview(world, **data):
    url = reverse(
        "generations:preview", kwargs={"slug": world.workspace.slug, "project_id": world.project.public_id}
    )
    return world.editor.client.post(url, data).content.decode()


def test_the_summary_shows_the_estimate_and_this_months_spend_even_before_the_prompt(world):
    world.workspace.monthly_budget = Decimal("10.00")
    world.workspace.save()
    page = preview(world, model="jiekou:wan2.1-t2v", size="1280x720")
    assert "Before Generate:" in page  # the prompt is still missing
    assert "About $0.30" in page and "this month $0.00 of the $10.00 budget" in page
    page = preview(
        world, model="jiekou:wan2.1-t2v", size="832x480", prompt="a heron", params='{"fast_mode": true}'
    )
    assert "About $0.09" in page and "x0.6 for fast mode" in page and "Before Generate" not in page
    assert "Free: an offline preview" in preview(world, model="local:preview-t2v", prompt="a heron")


def test_the_summary_says_a_job_past_the_budget_will_be_refused_with_the_figures(world):
    world.workspace.monthly_budget = Decimal("0.20")
    world.workspace.save()
    page = preview(world, model="jiekou:wan2.1-t2v", size="1280x720", prompt="a heron")
    assert "data-over-budget" in page
    assert (
        "This job (about $0.30) would take this month&#x27;s estimated spend to $0.30, past the workspace "
        in page
    )
    assert "budget of $0.20." in page
    assert "data-over-budget" not in preview(
        world, model="jiekou:wan2.1-t2v", size="832x480", prompt="a heron"
    )


@pytest.mark.parametrize("size", ["832x480", "1280x720"])
def test_the_summary_and_generate_agree_on_the_figure(world, size):
    page = preview(world, model="jiekou:wan2.1-t2v", size=size, prompt="a heron")
    url = reverse(
        "generations:create", kwargs={"slug": world.workspace.slug, "project_id": world.project.public_id}
    )
    world.editor.client.post(url, {"model": "jiekou:wan2.1-t2v", "size": size, "prompt": "a heron"})
    stored = Generation.objects.get().cost_estimate
    assert f'data-cost="{stored}"' in page


def test_the_owners_page_lists_the_factors_beside_the_prices(world):
    assert pricing.factor_notes() == [
        "Alibaba DashScope (Model Studio): x0.5 at 480P, x1.5 at 1080P",
        "jiekou.ai: x0.5 at 480P",
        "fast mode: x0.6",
    ]
    page = world.owner.client.get(reverse("ops", kwargs={"slug": world.workspace.slug}))
    assert "x1.5 at 1080P" in page.content.decode()


def test_the_vendors_reported_length_is_priced_with_the_same_factors_as_the_estimate(settings):
    settings.STUDIO_PRICES = ["dashscope:wan2.5-i2v-preview=0.10/s"]
    g = Generation(
        provider="dashscope", model="wan2.5-i2v-preview", task="i2v", resolution="1080P", params={}
    )
    assert pricing.reported_cost(g, {"usage": {"video_duration": 10}}) == Decimal("1.50")  # 10 s x $0.10 x1.5
    assert pricing.reported_cost(g, {"usage": {"duration": 4.2}}) == Decimal("0.63")
    assert (
        pricing.reported_cost(g, {"usage": {"video_duration": 0}}) is None
    )  # nothing stated: the estimate stands
    assert pricing.reported_cost(g, {}) is None
