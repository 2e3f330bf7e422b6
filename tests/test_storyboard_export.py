"""Exports end to end: the job stitches the chosen takes into a stored film with the shots' recipes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse

from studio.storyboards import services
from studio.storyboards.models import Export
from studio.storyboards.tasks import run_export_task
from tests.storyboard_helpers import local_recipe, storyboard_with_takes
from tests.test_storyboard_media import info


@pytest.fixture
def nudges(monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr("studio.storyboards.services._nudge", sent.append)
    return sent


SPECS = [{"duration": 1.0}, {"duration": 1.0, "audio": True}, {"duration": 1.0, "width": 192, "height": 320}]


def test_an_export_is_queued_after_commit_and_stitched_by_the_task(
    world, tmp_path, nudges, django_capture_on_commit_callbacks
):
    sb, shots = storyboard_with_takes(
        world, tmp_path, SPECS, export_width=320, export_height=180, export_fps=16, crossfade=0.25
    )
    services.set_trim(workspace=world.workspace, shot=shots[0], in_point=0.25, out_point=None)
    with django_capture_on_commit_callbacks(execute=True):
        export = services.start_export(workspace=world.workspace, storyboard=sb, user=world.editor.user)
    assert nudges == [export.pk]
    assert export.status == Export.Status.QUEUED
    assert [s["take"] for s in export.recipe] == [s.take.public_id for s in shots]
    assert export.recipe[0]["in_point"] == 0.25 and export.recipe[0]["model"] == "preview-t2v"

    run_export_task(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.SUCCEEDED, export.error_message
    assert export.progress == 100 and export.has_audio
    assert default_storage.exists(export.file.name)
    got = info(export.file.path)
    assert got["sizes"] == {(320, 180)}
    assert abs(got["duration"] - (0.75 + 1 + 1 - 2 * 0.25)) <= 3 / 16
    assert abs(export.duration - got["duration"]) < 1e-6

    response = world.viewer.client.get(
        reverse("storyboards:export_file", kwargs={"slug": "acme", "export_id": export.public_id}),
        headers={"range": "bytes=0-99"},
    )
    assert response.status_code == 206 and len(b"".join(response.streaming_content)) == 100


def test_an_outsider_gets_404_for_another_workspaces_export(world, tmp_path, nudges):
    sb, _ = storyboard_with_takes(world, tmp_path, SPECS[:1], export_width=320, export_height=180)
    export = services.start_export(workspace=world.workspace, storyboard=sb, user=None)
    run_export_task(export.pk)
    url = reverse("storyboards:export_file", kwargs={"slug": "acme", "export_id": export.public_id})
    assert world.owner.client.get(url).status_code == 200
    assert world.outsider.client.get(url).status_code == 404
    # Through their own workspace's address, too.
    theirs = reverse("storyboards:export_file", kwargs={"slug": "rival", "export_id": export.public_id})
    assert world.outsider.client.get(theirs).status_code == 404
    with pytest.raises(ValidationError):
        services.start_export(workspace=world.other_workspace, storyboard=sb, user=None)


def test_an_export_needs_a_finished_take_for_every_shot(world, tmp_path, nudges):
    sb, _ = storyboard_with_takes(world, tmp_path, SPECS[:1])
    services.add_shot(workspace=world.workspace, storyboard=sb, recipe=local_recipe("later"))
    with pytest.raises(ValidationError, match="shot 2"):
        services.start_export(workspace=world.workspace, storyboard=sb, user=None)
    assert not Export.objects.exists()


def test_a_failed_export_says_why_and_keeps_no_file(world, tmp_path, nudges):
    sb, shots = storyboard_with_takes(world, tmp_path, SPECS[:2])
    export = services.start_export(workspace=world.workspace, storyboard=sb, user=None)
    default_storage.delete(shots[1].take.video.name)
    run_export_task(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.FAILED
    assert export.error_message.startswith("The film could not be made")
    assert not export.file


def test_an_export_runs_once_however_often_it_is_asked(world, tmp_path, nudges):
    sb, _ = storyboard_with_takes(world, tmp_path, SPECS[:1], export_width=320, export_height=180)
    export = services.start_export(workspace=world.workspace, storyboard=sb, user=None)
    run_export_task(export.pk)
    export.refresh_from_db()
    first = export.file.name
    run_export_task(export.pk)
    export.refresh_from_db()
    assert export.file.name == first and export.status == Export.Status.SUCCEEDED


def test_an_export_whose_worker_died_is_taken_up_again_but_a_live_one_is_not(world, tmp_path, nudges):
    from datetime import timedelta

    from django.utils import timezone

    sb, _ = storyboard_with_takes(world, tmp_path, SPECS[:1], export_width=320, export_height=180)
    export = services.start_export(workspace=world.workspace, storyboard=sb, user=None)
    assert services.claim_export(export.pk)  # a worker took it ...
    assert not services.claim_export(export.pk)  # ... and holds it while its lease runs
    run_export_task(export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.RUNNING and not export.is_stalled

    Export.objects.filter(pk=export.pk).update(lease_until=timezone.now() - timedelta(seconds=1))  # it died
    export.refresh_from_db()
    assert export.is_stalled
    run_export_task(export.pk)  # the message, delivered again
    export.refresh_from_db()
    assert export.status == Export.Status.SUCCEEDED and export.lease_until is None


def test_a_finished_film_is_shared_by_a_revocable_link_that_opens_nothing_else(world, tmp_path, nudges):
    from studio.sharing.models import ShareLink
    from studio.sharing.services import create_share_link, revoke_share_link

    sb, shots = storyboard_with_takes(world, tmp_path, SPECS[:1], export_width=320, export_height=180)
    export = services.start_export(workspace=world.workspace, storyboard=sb, user=None)
    with pytest.raises(ValidationError, match="finished film"):
        create_share_link(workspace=world.workspace, user=None, export=export)
    run_export_task(export.pk)
    export.refresh_from_db()
    with pytest.raises(ValidationError):
        create_share_link(workspace=world.other_workspace, user=None, export=export)

    response = world.editor.client.post(
        reverse("storyboards:export_share", kwargs={"slug": "acme", "export_id": export.public_id})
    )
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert (link.scope, link.export) == ("export", export)
    page = world.anonymous.client.get(reverse("shared", kwargs={"token": link.token}))
    film = reverse(
        "shared_media", kwargs={"token": link.token, "generation_id": export.public_id, "kind": "mp4"}
    )
    assert page.status_code == 200 and film in page.content.decode()
    response = world.anonymous.client.get(film, headers={"range": "bytes=0-9"})
    assert response.status_code == 206 and response["Content-Disposition"].endswith(
        f'studio-{export.public_id}.mp4"'
    )
    # The link opens this film only: not the takes it was made from.
    take = reverse(
        "shared_media", kwargs={"token": link.token, "generation_id": shots[0].take.public_id, "kind": "mp4"}
    )
    assert world.anonymous.client.get(take).status_code == 404
    revoke_share_link(link=link)
    assert world.anonymous.client.get(film).status_code == 404
