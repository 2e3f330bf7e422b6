"""The timeline: made, filled and reordered with plain forms (no JavaScript), exported, and refreshed by
htmx only while a film is being made."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studio.storyboards.models import Export, Shot, Storyboard
from studio.storyboards.tasks import run_export_task
from tests.storyboard_helpers import finished_take, render_clip
from tests.test_page_markup import parse


@pytest.fixture
def nudges(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr("studio.storyboards.services._nudge", sent.append)
    return sent


def url(name: str, **kwargs) -> str:
    return reverse(f"storyboards:{name}", kwargs={"slug": "acme", **kwargs})


def test_an_editor_builds_a_storyboard_and_exports_it_with_plain_forms(
    world, tmp_path, nudges, django_capture_on_commit_callbacks
):
    client = world.editor.client
    project_page = client.get(
        reverse("projects:detail", kwargs={"slug": "acme", "project_id": world.project.public_id})
    )
    index = url("index", project_id=world.project.public_id)
    assert index in project_page.content.decode()

    response = client.post(
        url("create", project_id=world.project.public_id), {"name": "Kite", "subject": "A red kite"}
    )
    sb = Storyboard.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", storyboard_id=sb.public_id)
    assert sb.subject == "A red kite" and sb.workspace == world.workspace

    for prompt in ("rises", "dives"):
        client.post(
            url("shot_add", storyboard_id=sb.public_id),
            {"model": "local:preview-t2v", "prompt": prompt, "continuity": "last_frame", "duration": "2"},
        )
    first, second = sb.shots.order_by("position")
    assert (first.parts, first.recipe["duration"], first.continuity) == ({"action": "rises"}, 2, "last_frame")

    client.post(url("shot_move", storyboard_id=sb.public_id, shot_id=second.public_id), {"direction": "up"})
    assert list(sb.shots.order_by("position").values_list("parts__action", flat=True)) == ["dives", "rises"]

    takes = []
    for i, shot in enumerate((first, second)):
        g = finished_take(
            world.workspace, world.project, render_clip(tmp_path / f"{i}.mp4", duration=1.0), duration=1.0
        )
        takes.append(g)
        client.post(
            url("shot_take", storyboard_id=sb.public_id, shot_id=shot.public_id), {"generation": g.public_id}
        )
    client.post(
        url("shot_trim", storyboard_id=sb.public_id, shot_id=first.public_id),
        {"in_point": "0.25", "out_point": ""},
    )
    first.refresh_from_db()
    assert (first.take, first.in_point, first.out_point) == (takes[0], 0.25, None)

    page = client.get(url("detail", storyboard_id=sb.public_id)).content.decode()
    assert page.count("Move up") == 1 and page.count("Move down") == 1
    markup = parse(page)
    assert not markup.duplicate_ids() and not markup.unnamed_controls()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("export_create", storyboard_id=sb.public_id))
    assert response.status_code == 302
    export = Export.objects.get()
    assert nudges == [export.pk]
    fragment = client.get(
        url("detail", storyboard_id=sb.public_id),
        headers={"hx-request": "true", "hx-target": "storyboard-exports"},
    )
    assert 'hx-trigger="every 2s' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()

    run_export_task(export.pk)
    fragment = client.get(
        url("detail", storyboard_id=sb.public_id),
        headers={"hx-request": "true", "hx-target": "storyboard-exports"},
    )
    text = fragment.content.decode()
    assert "hx-trigger" not in text  # finished: the region stops polling by itself
    assert url("export_file", export_id=export.public_id) in text
    client.post(url("export_share", export_id=export.public_id), {"expires_in": "7d"})
    page = client.get(url("detail", storyboard_id=sb.public_id)).content.decode()
    assert "Share link of this film" in page and "Revoke" in page
    markup = parse(page)
    assert not markup.duplicate_ids() and not markup.unnamed_controls()


def test_a_viewer_reads_the_timeline_without_any_form(world):
    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    Shot.objects.create(storyboard=sb, position=1, provider="local", model="preview-t2v")
    page = world.viewer.client.get(url("detail", storyboard_id=sb.public_id)).content.decode()
    assert "Shot 1" in page
    for control in ("Use this take", "Move", "Trim", "Export the film", "Add shot"):
        assert control not in page


def test_refusals_come_back_as_messages_on_the_timeline(world):
    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    response = world.editor.client.post(url("export_create", storyboard_id=sb.public_id), follow=True)
    assert "The storyboard has no shots yet." in response.content.decode()
    response = world.editor.client.post(
        url("shot_add", storyboard_id=sb.public_id), {"model": "local:nothing"}, follow=True
    )
    assert "nothing" in response.content.decode() and not sb.shots.exists()


def test_another_workspaces_video_cannot_be_picked_as_a_take(world):
    from studio.generations.models import Generation
    from tests.factories import make_generation

    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    shot = Shot.objects.create(storyboard=sb, position=1, provider="local", model="preview-t2v")
    theirs = make_generation(world.other_workspace, status=Generation.Status.SUCCEEDED)
    response = world.editor.client.post(
        url("shot_take", storyboard_id=sb.public_id, shot_id=shot.public_id), {"generation": theirs.public_id}
    )
    assert response.status_code == 404
    shot.refresh_from_db()
    assert shot.take is None


def test_generate_on_the_timeline_queues_a_take_of_that_shot(world):
    from studio.generations.models import Generation

    sb = Storyboard.objects.create(
        workspace=world.workspace, project=world.project, name="Kite", look="Film grain"
    )
    shot = Shot.objects.create(
        storyboard=sb,
        position=1,
        provider="local",
        model="preview-t2v",
        parts={"action": "a kite"},
        recipe={"duration": 2},
    )
    response = world.editor.client.post(
        url("shot_generate", storyboard_id=sb.public_id, shot_id=shot.public_id), follow=True
    )
    assert "a take is being made" in response.content.decode()
    generation = Generation.objects.get()
    assert generation.storyboard_take.shot == shot and generation.duration == 2
    assert generation.prompt.parts == {"action": "a kite", "style": "Film grain"}
