"""Files nothing uses are removed after a day, by a beat task; anything a job, a kept form or a person still
working on it may need is kept."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from studio.assets import cleanup
from studio.assets.crop import crop_to_aspect
from studio.assets.models import Asset
from studio.assets.services import create_asset
from studio.generations.models import GenerationInput
from tests.factories import make_generation
from tests.media import make_video


def png(width: int = 800, height: int = 600) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue())


def image(world, **kwargs) -> Asset:
    return create_asset(
        workspace=world.workspace, user=world.editor.user, source=png(), expect="image", **kwargs
    )


def age(asset: Asset, hours: float) -> Asset:
    Asset.objects.filter(pk=asset.pk).update(created_at=timezone.now() - timedelta(hours=hours))
    asset.refresh_from_db()
    return asset


def exists(asset: Asset) -> bool:
    return Asset.objects.filter(pk=asset.pk).exists()


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The sweep, with what it does once its deletions are committed (the files) done too."""

    def run() -> dict:
        with django_capture_on_commit_callbacks(execute=True):
            return cleanup.sweep_unused_assets()

    return run


def test_an_unused_asset_goes_after_a_day_with_its_file(world, sweep):
    old = age(image(world), 25)
    young = age(image(world), 23)
    name = old.file.name
    assert old.file.storage.exists(name)
    assert sweep() == {"removed": 1}
    assert not exists(old) and not old.file.storage.exists(name)
    assert exists(young) and young.file.storage.exists(young.file.name)
    assert sweep() == {"removed": 0}  # nothing left to do


def test_an_asset_a_job_uses_is_kept_however_old(world, sweep):
    used = age(image(world), 24 * 90)
    generation = make_generation(world.workspace, status="succeeded")
    GenerationInput.objects.create(generation=generation, asset=used, slot="image")
    assert sweep() == {"removed": 0}
    assert exists(used)


def test_the_source_of_a_recent_crop_is_kept_while_its_person_may_come_back(world, sweep):
    source = image(world)
    crop = crop_to_aspect(source, aspect="16:9", box=None, user=world.editor.user, min_side=0)
    assert crop.derived_from == source
    age(source, 30)
    assert sweep() == {"removed": 0}  # the crop is new: its person may crop again
    age(crop, 25)
    assert sweep() == {"removed": 2}


def test_a_video_is_kept_while_a_mask_painted_on_it_is_recent(world, tmp_path, sweep):
    video = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=make_video(tmp_path / "v.mp4", 64, 48, frames=4),
        expect="video",
    )
    mask = Image.new("L", (64, 48), 0)
    mask.paste(255, (10, 10, 30, 30))
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    response = world.editor.client.post(
        reverse("masks:mask_save", kwargs={"slug": world.workspace.slug, "asset_id": video.public_id}),
        {"mask": SimpleUploadedFile("m.png", buffer.getvalue(), content_type="image/png"), "frame": "1"},
    )
    assert response.status_code == 200, response.content
    painted = Asset.objects.get(public_id=response.json()["asset_id"])
    assert painted.derived_from == video
    age(video, 48)
    assert sweep() == {"removed": 0}
    # A job that used the mask keeps it, and the job's video with it (the job names both).
    generation = make_generation(world.workspace, status="succeeded", task="video_edit")
    GenerationInput.objects.create(generation=generation, asset=painted, slot="mask_image")
    GenerationInput.objects.create(generation=generation, asset=video, slot="video")
    age(painted, 48)
    assert sweep() == {"removed": 0}


def test_an_asset_that_a_job_takes_up_while_the_sweep_runs_is_kept(world, monkeypatch, sweep):
    """The candidates are chosen, then each is deleted only if it is still unused at that moment."""
    old = age(image(world), 30)
    other = age(image(world), 30)
    real = cleanup._candidates

    def candidates(*args):
        found = list(real(*args))
        generation = make_generation(world.workspace)
        GenerationInput.objects.create(generation=generation, asset=old, slot="image")  # just in time
        return found

    monkeypatch.setattr(cleanup, "_candidates", candidates)
    assert sweep() == {"removed": 1}
    assert exists(old) and old.file.storage.exists(old.file.name) and not exists(other)


def test_the_beat_runs_the_sweep_every_hour():
    from studio.assets.tasks import sweep_unused_assets_task

    entry = settings.CELERY_BEAT_SCHEDULE["assets-sweep"]
    assert entry["task"] == sweep_unused_assets_task.name == "studio.assets.tasks.sweep_unused_assets_task"
    assert entry["schedule"] == 3600


@pytest.mark.django_db
def test_the_task_answers_what_it_removed(world):
    from studio.assets.tasks import sweep_unused_assets_task

    age(image(world), 25)
    assert sweep_unused_assets_task() == {"removed": 1}
