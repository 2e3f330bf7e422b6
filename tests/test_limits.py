"""Per-workspace limits: the monthly budget for paid jobs and the cap on jobs in flight."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from studio.generations import limits, services
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers import pricing

S = Generation.Status
T2V = {"provider": "siliconflow", "model": "Wan-AI/Wan2.2-T2V-A14B", "size": "1280x720"}


def make(world, **fields):
    return services.create_generation(
        workspace=world.workspace,
        project=world.project,
        user=world.owner.user,
        recipe=Recipe(**{"prompt": "a kite over a windy beach", **T2V, **fields}),
    )


def set_limits(world, *, budget=None, cap=None):
    world.workspace.monthly_budget = budget
    world.workspace.max_jobs_in_flight = cap
    world.workspace.save()


def test_each_job_carries_its_estimated_cost(world):
    assert make(world).cost_estimate == Decimal("0.29")
    local = make(world, provider="local", model="preview-t2v", size="832x480", duration=2)
    assert local.cost_estimate == 0


def test_a_paid_job_past_the_budget_is_refused_before_anything_is_saved(world):
    set_limits(world, budget=Decimal("0.60"))
    make(world)
    make(world)
    with pytest.raises(ValidationError) as refused:
        make(world, prompt="one too many")
    message = refused.value.messages[0]
    assert "$0.87" in message and "$0.60" in message and "Nothing was sent" in message
    assert not Generation.objects.filter(prompt__text="one too many").exists()
    assert make(world, provider="local", model="preview-t2v", size="832x480", duration=1)  # free


def test_failed_jobs_and_last_month_do_not_count_but_unconfirmed_ones_do(world):
    failed, unknown, old = make(world), make(world), make(world)
    set_limits(world, budget=Decimal("0.60"))
    Generation.objects.filter(pk=failed.pk).update(status=S.FAILED)
    Generation.objects.filter(pk=unknown.pk).update(status=S.SUBMIT_UNKNOWN)
    Generation.objects.filter(pk=old.pk).update(
        status=S.SUCCEEDED, created_at=limits.month_start() - timedelta(days=1)
    )
    assert limits.usage(world.workspace, fresh=True).spent == Decimal("0.29")
    make(world)  # 0.58: still within
    with pytest.raises(ValidationError):
        make(world)


def test_the_cap_on_jobs_in_flight_counts_queued_and_running_jobs(world):
    set_limits(world, cap=2)
    first, _ = make(world), make(world)
    with pytest.raises(ValidationError, match="2 jobs in flight, its limit"):
        make(world)
    Generation.objects.filter(pk=first.pk).update(status=S.SUCCEEDED)
    assert make(world)


def test_no_limits_means_none(world):
    set_limits(world)
    for _ in range(3):
        make(world)
    usage = limits.usage(world.workspace, fresh=True)
    assert usage.in_flight == 3 and usage.left is None and usage.share is None


def test_pages_show_counts_a_few_seconds_old_and_a_new_job_at_once(world, django_capture_on_commit_callbacks):
    """The budget line reads a cached copy (the month's sum reads every billed job); making a job drops it,
    and the check before a job is let through always counts afresh."""
    set_limits(world, budget=Decimal("1.00"))
    assert limits.usage(world.workspace).spent == Decimal(0)
    with django_capture_on_commit_callbacks(execute=True):
        make(world)
    assert limits.usage(world.workspace).spent == Decimal("0.29")  # dropped when the job was made
    other = make(world)  # its commit callbacks do not run here: the page's copy stays as it was
    assert limits.usage(world.workspace).spent == Decimal("0.29")
    assert limits.usage(world.workspace, fresh=True).spent == Decimal("0.58")
    Generation.objects.filter(pk=other.pk).update(status=S.FAILED)  # failed before the vendor: not billed
    assert limits.usage(world.workspace, fresh=True).spent == Decimal("0.29")


@pytest.mark.django_db(transaction=True)
def test_two_people_at_once_cannot_both_slip_under_the_budget(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time anyway; row locks are PostgreSQL's")
    set_limits(world, budget=Decimal("0.29"))
    start, outcomes = threading.Barrier(4), []

    def press_generate(n: int) -> None:
        try:
            start.wait()
            make(world, prompt=f"racer {n}")
            outcomes.append("made")
        except ValidationError:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    racers = [threading.Thread(target=press_generate, args=(n,)) for n in range(4)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(30)
    assert sorted(outcomes) == ["made", "refused", "refused", "refused"]


def test_the_owner_sets_limits_on_the_jobs_page_and_sees_the_spend(world):
    make(world)
    client = world.owner.client
    url = reverse("ops_limits", kwargs={"slug": world.workspace.slug})
    response = client.post(url, {"monthly_budget": "-3", "max_jobs_in_flight": "0"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "cannot be negative" in page and "between 1 and 10,000" in page
    response = client.post(url, {"monthly_budget": "25.50", "max_jobs_in_flight": ""}, follow=True)
    world.workspace.refresh_from_db()
    assert (world.workspace.monthly_budget, world.workspace.max_jobs_in_flight) == (Decimal("25.50"), None)
    page = response.content.decode()
    assert "about <strong>$0.29</strong>" in page and "<strong>$25.50</strong> budget" in page
    assert "Wan-AI/Wan2.2-T2V-A14B" in page and "$0.29/video" in page


def test_the_job_form_says_why_a_job_was_refused_and_keeps_the_prompt(world):
    set_limits(world, budget=Decimal("0.10"))
    url = reverse(
        "generations:create", kwargs={"slug": world.workspace.slug, "project_id": world.project.public_id}
    )
    response = world.editor.client.post(
        url,
        {"model": "siliconflow:Wan-AI/Wan2.2-T2V-A14B", "prompt": "my careful prompt", "size": "1280x720"},
    )
    page = response.content.decode()
    assert "past the workspace budget of $0.10" in page
    assert "my careful prompt" in page and not Generation.objects.exists()


def test_prices_can_be_set_by_the_admin(settings):
    settings.STUDIO_PRICES = ["siliconflow:Wan-AI/Wan2.2-T2V-A14B=0.05/s", "jiekou:wan2.1-t2v=1/video"]
    assert pricing.estimate("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", None) == Decimal("0.25")
    assert pricing.estimate("jiekou", "wan2.1-t2v", 5) == Decimal("1.00")
    assert pricing.estimate("dashscope", "wan2.5-i2v-preview", 10) == Decimal("1.00")  # a default
    settings.STUDIO_PRICES = ["siliconflow:Wan-AI/Wan2.2-T2V-A14B=cheap"]
    with pytest.raises(ImproperlyConfigured, match="STUDIO_PRICES"):
        pricing.estimate("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", None)


def test_month_start_is_the_first_of_this_month():
    start = limits.month_start()
    assert start.day == 1 and start.hour == 0 and start <= timezone.now()
