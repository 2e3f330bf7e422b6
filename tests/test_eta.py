"""Poll timing learnt from finished jobs of a kind: cold start as before, sparse early, dense near the end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.generations import eta
from studio.generations.models import Generation
from tests.factories import make_generation

S = Generation.Status


@pytest.fixture(autouse=True)
def _no_cached_history(monkeypatch):
    eta._cache.clear()
    monkeypatch.setattr(eta, "POLL_BY_HISTORY", True)
    yield
    eta._cache.clear()


def test_the_engine_keeps_the_providers_cadence_while_polling_by_history_is_off(world, monkeypatch):
    monkeypatch.setattr(eta, "POLL_BY_HISTORY", False)
    for seconds in (58, 59, 60, 60, 61, 62) * 4:
        finished(world, seconds)
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, submitted_at=timezone.now())
    assert eta.next_poll_delay(g, default=4.0) == 4.0


def finished(world, seconds: float, **kind):
    sent = timezone.now() - timedelta(minutes=5)
    return make_generation(
        world.workspace,
        project=world.project,
        status=S.SUCCEEDED,
        submitted_at=sent,
        provider_done_at=sent + timedelta(seconds=seconds),
        **kind,
    )


def test_the_running_time_is_the_median_and_one_stuck_job_does_not_move_it():
    found = eta.from_durations([58, 60, 61, 59, 62, 60, 900] * 3)
    assert found.median == 60
    assert 1 <= found.spread < 3


def test_fewer_than_twenty_finished_jobs_are_no_history():
    assert eta.from_durations([60, 61, 59, 60] * 4) is None


def test_a_cold_start_keeps_the_providers_cadence(world):
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, submitted_at=timezone.now())
    assert eta.next_poll_delay(g, default=4.0) == 4.0


def test_with_history_it_polls_once_early_then_densely_around_the_expected_finish(world):
    for seconds in (58, 59, 60, 60, 61, 62) * 4:
        finished(world, seconds)
    finished(world, 5, duration=2)  # another kind: not counted
    now = timezone.now()
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, submitted_at=now)
    jump = eta.next_poll_delay(g, default=4.0, now=now + timedelta(seconds=5))
    assert 50 < jump < 55  # from 5 s in to just before 60 s, in one step
    near = eta.next_poll_delay(g, default=4.0, now=now + timedelta(seconds=59))
    assert 1.0 <= near <= 3.0
    late = eta.next_poll_delay(g, default=4.0, now=now + timedelta(seconds=200))
    assert late == 4.0  # far past its kind's time: the provider's cadence again


def test_the_vendors_own_eta_wins(world):
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, submitted_at=timezone.now())
    now = timezone.now()
    assert 25 < eta.next_poll_delay(g, default=4.0, raw={"task": {"eta": 30}}, now=now) < 30
    assert eta.next_poll_delay(g, default=4.0, raw={"task": {"eta": "soon"}}, now=now) == 4.0


def test_a_running_card_shows_the_time_left_and_a_progress_bar(world):
    for seconds in (58, 59, 60, 60, 61, 62) * 4:
        finished(world, seconds)
    g = make_generation(
        world.workspace, project=world.project, status=S.RUNNING, progress=0.4, submitted_at=timezone.now()
    )
    html = world.owner.client.get(f"/w/{world.workspace.slug}/g/{g.public_id}/card/").content.decode()
    assert "about 1 min 00 s left" in html or "about 59 s left" in html
    assert '<progress class="gcard-progress" max="100" value="40"' in html


def test_polls_booked_by_history_never_exceed_the_capacity_of_a_second(world, monkeypatch):
    monkeypatch.setattr(eta, "_booked", {})
    for seconds in (58, 59, 60, 60, 61, 62) * 4:
        finished(world, seconds)
    now = timezone.now()
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, submitted_at=now)
    at = now + timedelta(seconds=59)
    delays = [eta.next_poll_delay(g, default=4.0, now=at, capacity=3) for _ in range(9)]
    seconds = [int(at.timestamp() + d) for d in delays]
    assert max(seconds.count(s) for s in seconds) == 3
    assert len(set(seconds)) == 3  # 9 polls over the next three seconds, not nine in one
    assert max(delays) <= 2.0 + 3


def test_the_dense_window_lasts_until_the_kinds_late_jobs_are_done(world):
    for seconds in [50 + i for i in range(20)] + [69] * 4:
        finished(world, seconds)
    now = timezone.now()
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, submitted_at=now)
    assert eta.next_poll_delay(g, default=4.0, now=now + timedelta(seconds=68)) <= 2.0
    assert eta.next_poll_delay(g, default=4.0, now=now + timedelta(seconds=120)) == 4.0


def test_a_crowd_of_jumps_is_booked_before_the_window_opens_not_after(world, monkeypatch):
    monkeypatch.setattr(eta, "_booked", {})
    for seconds in (58, 59, 60, 60, 61, 62) * 4:
        finished(world, seconds)
    now = timezone.now()
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, submitted_at=now)
    at = now + timedelta(seconds=5)
    plain = eta.next_poll_delay(g, default=4.0, now=at)
    jumps = [eta.next_poll_delay(g, default=4.0, now=at, capacity=10) for _ in range(50)]
    assert max(jumps) <= plain
    assert min(jumps) >= plain - 6  # five seconds' worth of room, just before it
    seconds = [int(at.timestamp() + d) for d in jumps]
    assert max(seconds.count(s) for s in seconds) <= 10
