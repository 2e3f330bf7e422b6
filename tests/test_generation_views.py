"""The project page's job form, the card fragment and the detail page's actions."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from tests.factories import make_generation
from tests.media import make_image

S = Generation.Status


def create_url(world):
    return reverse("generations:create", kwargs={"slug": "acme", "project_id": world.project.public_id})


def test_a_valid_job_is_queued_and_nudged_after_commit(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    nudged = []
    monkeypatch.setattr("studio.generations.services._nudge", nudged.append)  # the broker is the edge
    with django_capture_on_commit_callbacks() as callbacks:
        response = world.editor.client.post(
            create_url(world),
            {
                "model": "local:preview-t2v",
                "prompt": "a kite over dunes",
                "size": "832x480",
                "duration": "2",
                "parts_json": '{"camera": "pan left"}',
            },
        )
    assert response.status_code == 302
    g = Generation.objects.get()
    assert (g.status, g.provider, g.model, g.size, g.duration) == (
        S.QUEUED,
        "local",
        "preview-t2v",
        "832x480",
        2,
    )
    assert g.prompt.parts == {"camera": "pan left"} and g.created_by == world.editor.user
    assert nudged == []  # the worker is nudged only once the row is committed...
    for callback in callbacks:
        callback()
    assert nudged == [g.pk]  # ...and then once


def test_a_refused_job_keeps_what_the_person_typed_and_says_why(world):
    response = world.editor.client.post(
        create_url(world),
        {"model": "local:preview-t2v", "prompt": "a kite over dunes", "size": "801x480", "duration": "2"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "a kite over dunes" in page and "801x480 is not one of them" in page
    assert not Generation.objects.exists()


def test_an_upload_that_is_not_an_image_is_refused_where_the_person_is(world, tmp_path):
    bogus = tmp_path / "frame.png"
    bogus.write_bytes(b"this is not a png")
    with open(bogus, "rb") as fh:
        response = world.editor.client.post(
            create_url(world), {"model": "local:preview-i2v", "prompt": "waves", "image": fh}
        )
    assert response.status_code == 200
    assert "is not an image we can read" in response.content.decode()


def test_an_i2v_job_with_a_real_image(world, tmp_path):
    image = make_image(tmp_path / "first.png", 640, 360)
    with open(image, "rb") as fh:
        response = world.owner.client.post(
            create_url(world), {"model": "local:preview-i2v", "prompt": "waves", "duration": "1", "image": fh}
        )
    assert response.status_code == 302
    g = Generation.objects.get()
    assert g.size == "1280x720" and g.input_links.get().asset.width == 640


def test_a_running_card_polls_itself_and_a_finished_one_does_not(world):
    running = make_generation(world.workspace, status=S.RUNNING)
    done = make_generation(world.workspace, status=S.SUCCEEDED)
    html_running = render_to_string(
        "generations/card.html#generation-card", {"g": running, "workspace": world.workspace}
    )
    html_done = render_to_string(
        "generations/card.html#generation-card", {"g": done, "workspace": world.workspace}
    )
    assert 'hx-trigger="every 2s' in html_running
    assert "hx-trigger" not in html_done and "hx-get" not in html_done


def test_card_fragment_is_the_card_alone(world):
    g = make_generation(world.workspace, status=S.QUEUED)
    response = world.viewer.client.get(
        reverse("generations:card", kwargs={"slug": "acme", "generation_id": g.public_id})
    )
    body = response.content.decode().strip()
    assert body.startswith(f'<article id="generation-{g.public_id}"') and "<html" not in body


@pytest.mark.parametrize("status", [S.FAILED, S.SUCCEEDED, S.CANCELED])
def test_run_again_makes_a_new_job_and_keeps_the_old_one(world, status):
    old = make_generation(
        world.workspace,
        status=status,
        provider="local",
        model="preview-t2v",
        size="832x480",
        error_message="boom" if status == S.FAILED else "",
    )
    response = world.editor.client.post(
        reverse("generations:retry", kwargs={"slug": "acme", "generation_id": old.public_id})
    )
    new = Generation.objects.exclude(pk=old.pk).get()
    assert response["Location"].endswith(f"/g/{new.public_id}/")
    assert new.retry_of == old and new.status == S.QUEUED and new.prompt.text == old.prompt.text
    old.refresh_from_db()
    assert old.status == status and (old.error_message == "boom") == (status == S.FAILED)


def test_submit_again_after_an_unconfirmed_submit_dismisses_the_old_one(world):
    old = make_generation(
        world.workspace,
        status=S.SUBMIT_UNKNOWN,
        provider="local",
        model="preview-t2v",
        size="832x480",
        error_message="timeout",
    )
    world.owner.client.post(
        reverse("generations:retry", kwargs={"slug": "acme", "generation_id": old.public_id})
    )
    old.refresh_from_db()
    new = Generation.objects.exclude(pk=old.pk).get()
    assert old.status == S.CANCELED and new.public_id in old.error_message


def test_cancel_a_queued_job(world):
    g = make_generation(world.workspace, status=S.QUEUED)
    world.editor.client.post(
        reverse("generations:cancel", kwargs={"slug": "acme", "generation_id": g.public_id})
    )
    g.refresh_from_db()
    assert g.status == S.CANCELED


def test_another_workspaces_generation_is_404(world):
    g = make_generation(world.other_workspace)
    url = reverse("generations:detail", kwargs={"slug": "acme", "generation_id": g.public_id})
    assert world.owner.client.get(url).status_code == 404


def test_delete_a_finished_video_removes_its_files(world, sample_mp4, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    g = make_generation(world.workspace, status=S.SUCCEEDED)
    g.video.save("v.mp4", ContentFile(sample_mp4.read_bytes()))
    name = g.video.name
    with django_capture_on_commit_callbacks(execute=True):  # files go only once the delete is committed
        response = world.editor.client.post(
            reverse("generations:delete", kwargs={"slug": "acme", "generation_id": g.public_id})
        )
    assert response.status_code == 302 and not Generation.objects.filter(pk=g.pk).exists()
    assert not default_storage.exists(name)


def test_a_running_video_must_be_canceled_before_delete(world):
    g = make_generation(world.workspace, status=S.RUNNING)
    world.editor.client.post(
        reverse("generations:delete", kwargs={"slug": "acme", "generation_id": g.public_id})
    )
    assert Generation.objects.filter(pk=g.pk).exists()


def test_a_viewer_cannot_delete(world):
    g = make_generation(world.workspace, status=S.SUCCEEDED)
    assert (
        world.viewer.client.post(
            reverse("generations:delete", kwargs={"slug": "acme", "generation_id": g.public_id})
        ).status_code
        == 403
    )
    assert Generation.objects.filter(pk=g.pk).exists()


def test_ratings_are_per_person(world):
    from studio.generations.models import Rating

    g = make_generation(world.workspace, status=S.SUCCEEDED)
    url = reverse("generations:rate", kwargs={"slug": "acme", "generation_id": g.public_id})
    world.viewer.client.post(url, {"favorite": "1"})
    world.editor.client.post(url, {"stars": "4"}, HTTP_HX_REQUEST="true")
    assert Rating.objects.get(user=world.viewer.user).favorite is True
    assert Rating.objects.get(user=world.editor.user).stars == 4
    world.editor.client.post(url, {"stars": "9"})
    assert Rating.objects.get(user=world.editor.user).stars == 4


def test_compare_shows_only_finished_videos_of_this_workspace(world):
    a = make_generation(world.workspace, status=S.SUCCEEDED, text="first take")
    b = make_generation(world.workspace, status=S.SUCCEEDED, text="second take")
    theirs = make_generation(world.other_workspace, status=S.SUCCEEDED, text="their take")
    page = world.viewer.client.get(
        reverse("compare", kwargs={"slug": "acme"}),
        {"ids": f"{a.public_id},{b.public_id},{theirs.public_id}"},
    ).content.decode()
    assert "first take" in page and "second take" in page and "their take" not in page
    assert page.count("data-compare-video") == 2


def test_the_activity_feed_tells_who_did_what(world):
    from studio.generations import services as gen_services

    gen_services.create_generation(
        workspace=world.workspace,
        project=world.project,
        user=world.editor.user,
        recipe=Recipe(
            provider="local", model="preview-t2v", prompt="a heron takes off", size="832x480", duration=1
        ),
    )
    page = world.viewer.client.get(reverse("workspaces:activity", kwargs={"slug": "acme"})).content.decode()
    assert "editor-user" in page and "started a video" in page and "a heron takes off" in page


def test_remix_opens_the_form_filled_with_the_recipe(world):
    g = make_generation(
        world.workspace,
        project=world.project,
        status=S.SUCCEEDED,
        provider="local",
        model="preview-t2v",
        size="832x480",
        text="an owl at dusk",
        seed=77,
    )
    url = reverse("projects:detail", kwargs={"slug": "acme", "project_id": world.project.public_id})
    page = world.editor.client.get(url, {"remix": g.public_id}).content.decode()
    assert "an owl at dusk</textarea>" in page and 'value="832x480"' in page and 'value="77"' in page
    assert '<option value="local:preview-t2v" selected>' in page


def test_a_video_edit_from_the_mask_page_uses_the_painted_mask(world, tmp_path):
    from studio.assets.services import create_asset
    from tests.media import make_mask, make_video

    video = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=make_video(tmp_path / "v.mp4", 320, 192, frames=32),
        expect="video",
    )
    mask = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=make_mask(tmp_path / "m.png", 320, 192, (10, 10, 100, 100)),
        expect="image",
    )
    response = world.editor.client.post(
        create_url(world),
        {
            "model": "local:preview-vace",
            "task": "video_edit",
            "prompt": "the box turns gold",
            "duration": "2",
            "video_asset": video.public_id,
            "mask_image_asset": mask.public_id,
            "mask_frame_id": "10",
            "mask_type": "fixed",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    g = Generation.objects.get()
    assert {link.slot: link.asset_id for link in g.input_links.all()} == {
        "video": video.pk,
        "mask_image": mask.pk,
    }
    assert g.params["mask_frame_id"] == 10 and g.params["mask_type"] == "fixed"


def test_another_workspaces_asset_cannot_be_named_as_an_input(world, tmp_path):
    from studio.assets.services import create_asset
    from tests.media import make_video

    theirs = create_asset(
        workspace=world.other_workspace,
        user=world.outsider.user,
        source=make_video(tmp_path / "v.mp4", 320, 192),
        expect="video",
    )
    response = world.editor.client.post(
        create_url(world),
        {
            "model": "local:preview-vace",
            "task": "video_outpainting",
            "prompt": "wider",
            "video_asset": theirs.public_id,
        },
    )
    assert response.status_code == 200 and "no longer in this workspace" in response.content.decode()
    assert not Generation.objects.exists()


def test_a_refused_job_keeps_the_uploaded_image_for_the_next_try(world, tmp_path):
    image = make_image(tmp_path / "first.png", 640, 360)
    with open(image, "rb") as fh:
        refused = world.editor.client.post(
            create_url(world),
            {"model": "local:preview-i2v", "prompt": "waves", "duration": "99", "image": fh},
        )
    page = refused.content.decode()
    assert refused.status_code == 200
    kept_id = page.split('name="image_asset" value="', 1)[1].split('"', 1)[0]
    assert kept_id
    # Shown in the first frame's own field, not in a note above an empty file input.
    assert f'data-initial-id="{kept_id}"' in page and 'data-initial-name="first.png"' in page
    assert "Your files are kept" not in page
    again = world.editor.client.post(
        create_url(world),
        {"model": "local:preview-i2v", "prompt": "waves", "duration": "2", "image_asset": kept_id},
    )
    assert again.status_code == 302
    assert Generation.objects.get().input_links.get().asset.public_id == kept_id


def test_builder_parts_are_saved_with_the_prompt(world):
    import json

    parts = {"action": "a heron lifts off", "camera": "low angle, slow tilt up", "bogus": "ignored"}
    world.editor.client.post(
        create_url(world),
        {
            "model": "local:preview-t2v",
            "prompt": "a heron lifts off. low angle.",
            "size": "832x480",
            "duration": "1",
            "parts_json": json.dumps(parts),
        },
    )
    g = Generation.objects.get()
    assert g.prompt.parts == {"action": "a heron lifts off", "camera": "low angle, slow tilt up"}


def test_the_jobs_page_lists_what_needs_a_person(world):
    from datetime import timedelta

    from django.utils import timezone

    unknown = make_generation(
        world.workspace, status=S.SUBMIT_UNKNOWN, text="maybe billed", error_message="timeout"
    )
    lost = make_generation(
        world.workspace,
        status=S.DOWNLOADING,
        text="worker died",
        lease_until=timezone.now() - timedelta(minutes=1),
    )
    fine = make_generation(
        world.workspace, status=S.RUNNING, text="all good", next_poll_at=timezone.now() + timedelta(seconds=5)
    )
    page = world.owner.client.get(reverse("ops", kwargs={"slug": "acme"})).content.decode()
    assert "maybe billed" in page and "worker died" in page and "all good" not in page
    assert world.editor.client.get(reverse("ops", kwargs={"slug": "acme"})).status_code == 403
    world.owner.client.post(
        reverse("generations:nudge", kwargs={"slug": "acme", "generation_id": lost.public_id})
    )
    lost.refresh_from_db()
    assert lost.next_poll_at <= timezone.now() and lost.status == S.DOWNLOADING
    world.owner.client.post(
        reverse("generations:nudge", kwargs={"slug": "acme", "generation_id": unknown.public_id})
    )
    unknown.refresh_from_db()
    assert unknown.status == S.SUBMIT_UNKNOWN  # never resent by a nudge
    assert fine.status == S.RUNNING


def test_the_job_form_offers_as_the_input_video_for_video_edit_and_the_summary_says_so(
    world, tmp_path, settings
):
    """VACE's video_edit keeps the input video's size unless one is chosen [004]: the form's catalogue marks
    the task so the size menu starts on "As the input video", and the summary says the input's shape."""
    from studio.assets.services import create_asset
    from studio.generations.forms import job_catalog
    from tests.media import make_mask, make_video

    tasks = job_catalog()["dashscope:wan2.1-vace-plus"]["tasks"]
    assert tasks["video_edit"]["follows_input"] and not tasks["image_reference"]["follows_input"]
    video = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=make_video(tmp_path / "v.mp4", 320, 192, frames=32),
        expect="video",
    )
    mask = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=make_mask(tmp_path / "m.png", 320, 192, (10, 10, 100, 100)),
        expect="image",
    )
    settings.STUDIO_PUBLIC_BASE_URL = "https://studio.example"
    url = reverse("generations:preview", kwargs={"slug": "acme", "project_id": world.project.public_id})
    fields = {
        "model": "dashscope:wan2.1-vace-plus",
        "task": "video_edit",
        "prompt": "the box turns gold",
        "video_asset": video.public_id,
        "mask_image_asset": mask.public_id,
    }
    page = world.editor.client.post(url, fields).content.decode()
    assert "the input's shape" in page and ", the input's shape" not in page, page
    assert "1280×720" not in page
