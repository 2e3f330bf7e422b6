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


def test_generate_from_here_shows_its_estimate_then_the_run_live_and_where_it_stopped(world):
    from studio.generations.models import Generation
    from studio.storyboards.models import Chain

    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    for position in (1, 2):
        Shot.objects.create(
            storyboard=sb,
            position=position,
            provider="siliconflow",
            model="Wan-AI/Wan2.2-T2V-A14B",
            parts={"action": f"shot {position}"},
            recipe={"task": "t2v", "size": "1280x720"},
        )
    first = sb.shots.get(position=1)
    client = world.editor.client
    page = client.get(url("detail", storyboard_id=sb.public_id)).content.decode()
    assert "Generate from here (about $0.58)" in page and "Generate from here (about $0.29)" in page
    assert 'hx-trigger="every 2s"' not in page  # nothing being made: no polling

    response = client.post(
        url("chain_start", storyboard_id=sb.public_id, shot_id=first.public_id), follow=True
    )
    assert "Making shots 1-2 in order (about $0.58)" in response.content.decode()
    chain = Chain.objects.get()
    fragment = client.get(
        url("detail", storyboard_id=sb.public_id),
        headers={"hx-request": "true", "hx-target": "storyboard-timeline"},
    ).content.decode()
    assert "<html" not in fragment and 'hx-trigger="every 2s"' in fragment
    assert "Generating shots 1 onward" in fragment and "A take is being made" in fragment

    step = chain.steps.get()
    Generation.objects.filter(pk=step.generation_id).update(
        status=Generation.Status.FAILED, error_message="Content was refused."
    )
    from studio.storyboards import chains

    chains.advance_chains()
    page = client.get(url("detail", storyboard_id=sb.public_id)).content.decode()
    assert (
        "Stopped at shot 1." in page
        and "The run stopped here: Shot 1: its take failed: Content was refused." in page
    )
    assert 'hx-trigger="every 2s"' not in page
    markup = parse(page)
    assert not markup.duplicate_ids() and not markup.unnamed_controls()
    assert Generation.objects.count() == 1


def test_a_running_chain_can_be_stopped_and_a_second_is_refused(world):
    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    shot = Shot.objects.create(
        storyboard=sb, position=1, provider="local", model="preview-t2v", parts={"action": "a"}
    )
    client = world.editor.client
    client.post(url("chain_start", storyboard_id=sb.public_id, shot_id=shot.public_id))
    again = client.post(url("chain_start", storyboard_id=sb.public_id, shot_id=shot.public_id), follow=True)
    assert "already being generated" in again.content.decode()
    stopped = client.post(url("chain_stop", storyboard_id=sb.public_id), follow=True).content.decode()
    assert "Stopped: no further shot is sent" in stopped and "Stopped by hand." in stopped


def test_export_settings_are_saved_or_refused_with_what_is_wrong(world):
    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    client = world.editor.client
    response = client.post(
        url("export_settings", storyboard_id=sb.public_id),
        {"size": "833x480", "fps": "ten", "crossfade": "0"},
        follow=True,
    )
    text = response.content.decode()
    assert "Give the frame rate as a whole number." in text
    response = client.post(
        url("export_settings", storyboard_id=sb.public_id),
        {"size": "833x480", "fps": "24", "crossfade": "9"},
        follow=True,
    )
    text = response.content.decode()
    assert "Width: An even number of pixels" in text and "Crossfade: From 0 to 2 seconds." in text
    sb.refresh_from_db()
    assert (sb.export_width, sb.export_fps) == (1280, 16)  # nothing half-saved
    client.post(
        url("export_settings", storyboard_id=sb.public_id),
        {"size": "832 x 480", "fps": "24", "crossfade": "0.5"},
    )
    sb.refresh_from_db()
    assert (sb.export_width, sb.export_height, sb.export_fps, sb.crossfade) == (832, 480, 24, 0.5)


def test_a_drop_sends_the_new_position_and_comes_back_at_the_moved_shot(world):
    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    shots = [
        Shot.objects.create(
            storyboard=sb, position=p, provider="local", model="preview-t2v", parts={"action": a}
        )
        for p, a in ((1, "a"), (2, "b"), (3, "c"))
    ]
    response = world.editor.client.post(
        url("shot_move", storyboard_id=sb.public_id, shot_id=shots[2].public_id), {"position": "1"}
    )
    assert response["Location"].endswith(f"#shot-{shots[2].public_id}")
    assert list(sb.shots.order_by("position").values_list("parts__action", flat=True)) == ["c", "a", "b"]


def test_a_shot_whose_model_left_the_catalog_still_shows_and_says_why_it_cannot_be_made(world):
    sb = Storyboard.objects.create(workspace=world.workspace, project=world.project, name="Kite")
    shot = Shot.objects.create(storyboard=sb, position=1, provider="local", model="retired-model")
    page = world.editor.client.get(url("detail", storyboard_id=sb.public_id))
    assert page.status_code == 200 and "Shot 1" in page.content.decode()
    response = world.editor.client.post(
        url("chain_start", storyboard_id=sb.public_id, shot_id=shot.public_id), follow=True
    )
    assert "Shot 1: " in response.content.decode() and "retired-model" in response.content.decode()
