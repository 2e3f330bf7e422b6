"""A shot's job and what carries the story into it: the previous take's last frame, its end as a VACE
first clip, or a contact sheet of the shots so far as a VACE reference (decision 0009).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers import catalog
from studio.storyboards.models import Shot, Take
from studio.storyboards.services import same_workspace


def shot_recipe(shot: Shot, *, inputs: dict | None = None) -> Recipe:
    """The shot as one job: its provider, model and asked settings, its parts with the storyboard's
    subject, look and light where its own are empty, and the given inputs."""
    asked = shot.recipe or {}
    return Recipe(
        provider=shot.provider,
        model=shot.model,
        task=asked.get("task"),
        parts=shot.prompt_parts(),
        negative=shot.negative,
        size=asked.get("size"),
        resolution=asked.get("resolution"),
        duration=asked.get("duration"),
        seed=asked.get("seed"),
        params=dict(asked.get("params") or {}),
        inputs=inputs or {},
        as_is=tuple(asked.get("as_is") or ()),
    )


def _previous_take(shot: Shot, *, why: str) -> tuple[Shot, Generation]:
    """The previous shot and its chosen finished take, or a message saying what to do first."""
    previous = (
        Shot.objects.filter(storyboard_id=shot.storyboard_id, position=shot.position - 1)
        .select_related("take")
        .first()
    )
    if previous is None:
        raise ValidationError(f"The first shot has no previous shot to {why}: choose no continuity.")
    take = previous.take
    if take is None or take.status != Generation.Status.SUCCEEDED or not take.video:
        raise ValidationError(
            f"Choose a finished take for shot {previous.position} first: this shot starts from it."
        )
    return previous, take


def _work_dir(prefix: str):
    import tempfile
    from pathlib import Path

    from django.conf import settings

    tmp_dir = Path(settings.DATA_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(dir=tmp_dir, prefix=prefix)


def _previous_last_frame(*, workspace, user, shot: Shot):
    """The previous shot's chosen take's last frame, cut to this shot's model, kept as an image Asset."""
    from pathlib import Path

    from studio.assets.services import create_asset
    from studio.storyboards import media

    previous, take = _previous_take(shot, why="start from")
    with take.video.open("rb") as fh:
        frame = media.last_frame(fh)
    frame, note = media.fit_to_model(frame, provider=shot.provider, model=shot.model)
    with _work_dir("last-frame-") as work:
        path = Path(work) / f"shot-{previous.position}-last-frame.png"
        frame.save(path, "PNG")
        asset = create_asset(workspace=workspace, user=user, source=path, expect="image")
    return asset, note


def model_for(shot: Shot, task: str, slot: str, what: str):
    """The shot's model, if it does ``task`` with an input ``slot``; else a message naming what can."""
    model = catalog.get_model(shot.provider, shot.model)
    if task not in model.tasks or model.slot(slot, task) is None:
        able = [
            f"{m.provider}:{m.id}"
            for m in catalog.iter_models()
            if task in m.tasks and m.slot(slot, task) is not None
        ]
        raise ValidationError(
            f"{shot.provider}:{shot.model} cannot take {what}; choose a model that can "
            f"({', '.join(able) or 'none is set up'}) or another continuity."
        )
    return model


CLIP_SECONDS = 3.0  # VACE: the first and last clip together at most 3 s


def _previous_clip(*, workspace, user, shot: Shot):
    """The end of the previous shot's chosen take (as trimmed), at most 3 s, as a video Asset: VACE's
    first clip, which the new take continues."""
    from pathlib import Path

    from studio.assets.services import create_asset
    from studio.storyboards import media

    model = model_for(shot, "video_extension", "first_clip", "a clip to extend (VACE video extension)")
    previous, take = _previous_take(shot, why="extend")
    limits = model.slot("first_clip", "video_extension").limits
    longest = min(x for x in (CLIP_SECONDS, limits.max_duration, limits.max_total_duration) if x)
    with _work_dir("first-clip-") as work:
        source = Path(work) / "take.mp4"
        with take.video.open("rb") as fh, open(source, "wb") as out:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                out.write(chunk)
        length = media.duration_of(str(source))
        end = length if previous.out_point is None else min(previous.out_point, length)
        start = max(previous.in_point, end - longest)
        fps = max(16, round(take.fps or 16))
        clip = Path(work) / f"shot-{previous.position}-end.mp4"
        width = (take.width or 0) // 2 * 2
        height = (take.height or 0) // 2 * 2
        if not (width and height):
            with media._open(str(source)) as container:
                stream = media._video_stream(container)
                width, height = stream.width // 2 * 2, stream.height // 2 * 2
        made = media.stitch([media.Clip(str(source), start, end)], (width, height), fps, 0.0, clip)
        asset = create_asset(workspace=workspace, user=user, source=clip, expect="video")
    note = (
        f"This take continues the last {made.duration:.2f} s of shot {previous.position}, which it begins "
        f"with: set its in point to {made.duration:.2f} s to show them once."
    )
    return asset, note


def _reference_sheet(*, workspace, user, shot: Shot):
    """A 3x3 contact sheet of frames from the chosen takes of the shots before this one, as an image
    Asset: VACE's reference image."""
    from contextlib import ExitStack
    from pathlib import Path

    from studio.assets.services import create_asset
    from studio.storyboards import media

    model_for(shot, "image_reference", "ref_images", "reference images (VACE image reference)")
    before = list(
        Shot.objects.filter(storyboard_id=shot.storyboard_id, position__lt=shot.position)
        .select_related("take")
        .order_by("position")
    )
    if not before:
        raise ValidationError(
            "The first shot has no shots before it for a contact sheet: choose no continuity."
        )
    missing = [
        str(s.position)
        for s in before
        if s.take is None or s.take.status != Generation.Status.SUCCEEDED or not s.take.video
    ]
    if missing:
        raise ValidationError(
            f"Choose a finished take for shot {', '.join(missing)} first: this shot's reference sheet shows it."
        )
    with ExitStack() as stack:
        files = [stack.enter_context(s.take.video.open("rb")) for s in before]
        sheet = media.contact_sheet(files)
    with _work_dir("contact-sheet-") as work:
        path = Path(work) / f"shots-1-{len(before)}-sheet.png"
        sheet.save(path, "PNG")
        asset = create_asset(workspace=workspace, user=user, source=path, expect="image")
    note = (
        f"The reference image is a 3x3 contact sheet of shot{'s' if len(before) > 1 else ''} 1-{len(before)}."
    )
    return asset, note


def continuity_inputs(*, workspace, user, shot: Shot) -> tuple[dict, str | None, list[str]]:
    """The inputs the shot's continuity makes (as Assets of the workspace), the task it needs, and notes."""
    if shot.continuity == Shot.Continuity.LAST_FRAME:
        asset, note = _previous_last_frame(workspace=workspace, user=user, shot=shot)
        return {"image": [asset]}, None, [note] if note else []
    if shot.continuity == Shot.Continuity.EXTENSION:
        asset, note = _previous_clip(workspace=workspace, user=user, shot=shot)
        return {"first_clip": [asset]}, "video_extension", [note]
    if shot.continuity == Shot.Continuity.REFERENCE_SHEET:
        asset, note = _reference_sheet(workspace=workspace, user=user, shot=shot)
        return {"ref_images": [asset]}, "image_reference", [note]
    return {}, None, []


def generate_shot(*, workspace, shot: Shot, user) -> Generation:
    """One take of ``shot``, validated and queued like any job and recorded as the shot's take.

    Continuity "last_frame" starts from the previous shot's chosen take's exact last frame (cut to this
    model's nearest aspect, with a note among the job's warnings); "extension" sends the end of the previous
    take (at most 3 s) as VACE's first clip; "reference_sheet" sends a 3x3 contact sheet of the shots so far
    as VACE's reference image. A model that cannot take them is refused with a message naming those that can.
    """
    from studio.generations.services import create_generation

    same_workspace(workspace, shot.storyboard)
    try:
        catalog.get_model(shot.provider, shot.model)
    except catalog.CatalogError as exc:
        raise ValidationError(exc.errors) from exc
    inputs, task, notes = continuity_inputs(workspace=workspace, user=user, shot=shot)
    recipe = shot_recipe(shot, inputs=inputs)
    if task:
        recipe = recipe.replace(task=task)
    elif inputs and not recipe.task:
        recipe = recipe.replace(task="i2v")
    with transaction.atomic():
        generation = create_generation(
            workspace=workspace, project=shot.storyboard.project, user=user, recipe=recipe
        )
        Take.objects.create(shot=shot, generation=generation)
        if notes:
            generation.warnings = [*notes, *generation.warnings]
            generation.save(update_fields=["warnings"])
    return generation
