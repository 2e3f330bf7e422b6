"""The live hub's parts that need no server: what counts as a change, event wire format, ids, the door."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from studio.generations import live
from studio.generations.engine import claim_poll
from studio.generations.models import Generation
from studio.generations.states import transition
from tests.factories import make_generation

S = Generation.Status


def test_an_event_carries_every_line_of_its_html_and_its_id():
    wire = live.Event(workspace_id=1, name="gen-x", data="<a>\n<b>", id="17").encode().decode()
    assert wire == "event: gen-x\nid: 17\ndata: <a>\ndata: <b>\n\n"


@pytest.mark.parametrize("garbage", ["", "abc", "-5", "0", "9" * 40])
def test_an_unreadable_event_id_is_no_cursor(garbage):
    assert live.parse_event_id(garbage) is None


def test_an_event_id_reads_back_as_its_moment():
    now = timezone.now()
    assert abs(live.parse_event_id(live.event_id(now)) - now) < timedelta(microseconds=2)


@pytest.mark.parametrize(("persona", "status"), [("viewer", 204), ("outsider", 404), ("anonymous", 302)])
def test_under_wsgi_there_is_no_stream_and_the_door_is_the_pages(world, persona, status):
    response = world.persona(persona).client.get(f"/w/{world.workspace.slug}/g/live/")
    assert response.status_code == status


def test_the_hub_pushes_what_a_card_shows_and_not_a_claim(world):
    hub = live.Hub()
    assert hub._changed([], True) == []  # the first look learns what cards show
    g = make_generation(world.workspace, project=world.project, status=S.RUNNING)
    first = hub._changed([], True)
    assert [e.name for e in first] == [f"gen-{g.public_id}", "news"]
    assert all(e.workspace_id == world.workspace.pk for e in first)
    Generation.objects.filter(pk=g.pk).update(next_poll_at=timezone.now() - timedelta(seconds=1))
    assert claim_poll(g.pk)  # updated_at moves, the card does not
    assert hub._changed([], True) == []
    assert transition(g.pk, src=S.RUNNING, dst=S.DOWNLOADING)
    (event,) = hub._changed([], True)
    assert event.name == f"gen-{g.public_id}" and 'data-status="downloading"' in event.data


def test_catch_up_sends_changed_cards_of_that_workspace_only(world):
    since = timezone.now() - timedelta(minutes=1)
    ours = make_generation(world.workspace, project=world.project, status=S.RUNNING)
    make_generation(world.other_workspace, project=world.other_project, status=S.RUNNING)
    events = live.catch_up(workspace_id=world.workspace.pk, since=since)
    assert [e.name for e in events] == [f"gen-{ours.public_id}", "news"]
    assert live.catch_up(workspace_id=world.workspace.pk, since=timezone.now() + timedelta(minutes=1)) == []
