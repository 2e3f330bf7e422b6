"""The gallery's event stream through a real ASGI web process: who hears what, catching up, stopping."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from studio.generations import live
from studio.generations.models import Generation
from studio.generations.states import transition
from tests.asgi import read_events, session_cookie, start_web
from tests.factories import make_generation

pytestmark = pytest.mark.slow
S = Generation.Status


@pytest.fixture
def web(processes):
    return start_web(processes)


def stream(url: str, slug: str, persona, **headers):
    return httpx.stream(
        "GET",
        f"{url}/w/{slug}/g/live/",
        cookies=session_cookie(persona.client),
        headers=headers,
        timeout=httpx.Timeout(20, connect=5),
    )


def named(name: str):
    return lambda event: event.get("event") == name


def test_a_member_hears_a_running_card_change_without_asking(web, world):
    _, url = web
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING)
    with stream(url, world.workspace.slug, world.viewer) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-accel-buffering"] == "no"
        lines = response.iter_lines()
        read_events(lines, until=lambda e: "retry" in e)
        assert transition(g.pk, src=S.RUNNING, dst=S.DOWNLOADING)
        events = read_events(lines, until=named(f"gen-{g.public_id}"))
    card = events[-1]
    assert f'id="generation-{g.public_id}"' in card["data"]
    assert 'data-status="downloading"' in card["data"]
    assert int(card["id"]) > 0


def test_a_new_job_is_news_to_the_open_gallery(web, world):
    _, url = web
    with stream(url, world.workspace.slug, world.editor) as response:
        lines = response.iter_lines()
        read_events(lines, until=lambda e: "retry" in e)
        make_generation(world.workspace, project=world.project)
        read_events(lines, until=named("news"))


def test_an_outsider_gets_404_and_their_own_stream_carries_nothing_of_ours(web, world):
    _, url = web
    with stream(url, world.workspace.slug, world.outsider) as response:
        assert response.status_code == 404
    anonymous = httpx.get(f"{url}/w/{world.workspace.slug}/g/live/", timeout=5)
    assert anonymous.status_code in (302, 404)  # to the login page
    ours = make_generation(world.workspace, project=world.project, status=S.RUNNING)
    theirs = make_generation(world.other_workspace, project=world.other_project, status=S.RUNNING)
    with stream(url, world.other_workspace.slug, world.outsider) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        read_events(lines, until=lambda e: "retry" in e)
        transition(ours.pk, src=S.RUNNING, dst=S.DOWNLOADING)
        transition(theirs.pk, src=S.RUNNING, dst=S.DOWNLOADING)
        events = read_events(lines, until=named(f"gen-{theirs.public_id}"))
    heard = [e.get("event") for e in events]
    assert f"gen-{ours.public_id}" not in heard
    assert not any(ours.public_id in e.get("data", "") for e in events)


def test_a_tab_that_reconnects_with_its_last_event_id_gets_what_it_missed(web, world):
    _, url = web
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING)
    with stream(url, world.workspace.slug, world.owner) as response:
        lines = response.iter_lines()
        read_events(lines, until=lambda e: "retry" in e)
        transition(g.pk, src=S.RUNNING, dst=S.DOWNLOADING)
        last_id = read_events(lines, until=named(f"gen-{g.public_id}"))[-1]["id"]
    # Offline: the job finishes while no stream is open.
    assert transition(g.pk, src=S.DOWNLOADING, dst=S.SUCCEEDED)
    with stream(url, world.workspace.slug, world.owner, **{"Last-Event-ID": last_id}) as response:
        events = read_events(
            response.iter_lines(),
            until=lambda e: e.get("event") == f"gen-{g.public_id}" and "succeeded" in e.get("data", ""),
        )
    assert 'data-status="succeeded"' in events[-1]["data"]
    # What changed well before the id is not sent again (only a few seconds' overlap is).
    Generation.objects.filter(pk=g.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    fresh = live.event_id(timezone.now())
    with stream(url, world.workspace.slug, world.owner, **{"Last-Event-ID": fresh}) as response:
        lines = response.iter_lines()
        read_events(lines, until=lambda e: "retry" in e)
        other = make_generation(world.workspace, project=world.project, status=S.RUNNING)
        transition(other.pk, src=S.RUNNING, dst=S.DOWNLOADING)
        events = read_events(lines, until=named(f"gen-{other.public_id}"))
    assert f"gen-{g.public_id}" not in [e.get("event") for e in events]


def test_open_streams_end_at_once_when_the_web_process_is_told_to_stop(web, world):
    proc, url = web
    with stream(url, world.workspace.slug, world.owner) as response:
        lines = response.iter_lines()
        read_events(lines, until=lambda e: "retry" in e)
        os.killpg(proc.pid, signal.SIGTERM)
        rest = list(lines)  # the stream ends (it would wait 10 s for gunicorn's graceful timeout, then die)
    assert all(line.startswith(":") or line == "" for line in rest)
    assert proc.wait(8) == 0


@pytest.fixture
def redis_broker(proc_env, settings):
    import redis

    url = "redis://127.0.0.1:6379/10"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    proc_env["CELERY_BROKER_URL"] = url
    settings.CELERY_BROKER_URL = url
    return url


def test_with_redis_a_published_change_is_pushed_even_when_the_row_looks_unchanged(
    redis_broker, processes, world
):
    _, url = start_web(processes)
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING, progress=0.1)
    Generation.objects.filter(pk=g.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    with stream(url, world.workspace.slug, world.owner) as response:
        lines = response.iter_lines()
        read_events(lines, until=lambda e: "retry" in e)
        # updated_at stays an hour old (QuerySet.update leaves auto_now alone): the database window never
        # sees this row, so only the message on Redis can bring it.
        Generation.objects.filter(pk=g.pk).update(progress=0.6)
        live.notify(g.pk)
        events = read_events(lines, until=named(f"gen-{g.public_id}"))
    assert "60%" in events[-1]["data"]
