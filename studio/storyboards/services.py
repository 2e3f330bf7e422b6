"""Writes for storyboards. Every service takes the caller's workspace and refuses objects of another one.

Shot positions are 1-based without gaps; the unique (storyboard, position) constraint holds at every
statement, so a move first parks the shots it renumbers above every position in use (SQLite has no
deferrable constraints).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers import catalog
from studio.storyboards.models import Export, Shot, Storyboard, Take

MAX_EXPORT_SIDE = 1920
MAX_CROSSFADE = 2.0


def same_workspace(workspace, *objects) -> None:
    for obj in objects:
        if obj.workspace_id != workspace.pk:
            raise ValidationError("That belongs to another workspace.")


def _check_export_settings(width: int, height: int, fps: int, crossfade: float) -> None:
    errors: dict[str, list[str]] = {}
    for name, value in (("export_width", width), ("export_height", height)):
        if not isinstance(value, int) or not 16 <= value <= MAX_EXPORT_SIDE or value % 2:
            errors[name] = [f"An even number of pixels from 16 to {MAX_EXPORT_SIDE}."]
    if not isinstance(fps, int) or not 1 <= fps <= 60:
        errors["export_fps"] = ["A whole number of frames per second from 1 to 60."]
    if not 0 <= crossfade <= MAX_CROSSFADE:
        errors["crossfade"] = [f"From 0 to {MAX_CROSSFADE:g} seconds."]
    if errors:
        raise ValidationError(errors)


def create_storyboard(
    *,
    workspace,
    project,
    user,
    name: str,
    subject: str = "",
    look: str = "",
    light: str = "",
    export_width: int = 1280,
    export_height: int = 720,
    export_fps: int = 16,
    crossfade: float = 0.0,
) -> Storyboard:
    same_workspace(workspace, project)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the storyboard a name."]})
    _check_export_settings(export_width, export_height, export_fps, crossfade)
    return Storyboard.objects.create(
        workspace=workspace,
        project=project,
        name=name[:100],
        subject=subject.strip(),
        look=look.strip(),
        light=light.strip(),
        export_width=export_width,
        export_height=export_height,
        export_fps=export_fps,
        crossfade=crossfade,
        created_by=user,
    )


def update_export_settings(
    *, workspace, storyboard: Storyboard, width: int, height: int, fps: int, crossfade: float
) -> Storyboard:
    same_workspace(workspace, storyboard)
    _check_export_settings(width, height, fps, crossfade)
    storyboard.export_width, storyboard.export_height = width, height
    storyboard.export_fps, storyboard.crossfade = fps, crossfade
    storyboard.save(update_fields=["export_width", "export_height", "export_fps", "crossfade", "updated_at"])
    return storyboard


def _park(storyboard_id: int, **filters) -> None:
    """Lift shots above every position in use, so renumbering never meets the unique constraint."""
    top = Shot.objects.filter(storyboard_id=storyboard_id).aggregate(m=Max("position"))["m"] or 0
    Shot.objects.filter(storyboard_id=storyboard_id, **filters).update(position=F("position") + top + 1)


def _renumber(storyboard_id: int, order: list[int]) -> None:
    _park(storyboard_id)
    for position, pk in enumerate(order, start=1):
        Shot.objects.filter(pk=pk).update(position=position)


def add_shot(
    *,
    workspace,
    storyboard: Storyboard,
    recipe: Recipe,
    continuity: str = Shot.Continuity.NONE,
    position: int | None = None,
) -> Shot:
    """A new shot at ``position`` (1-based; None: at the end). The recipe's provider and model must be
    in the catalog; the rest is checked in full when a take is generated, as the first shot's inputs
    (the previous shot's last frame, its clip) exist only then."""
    same_workspace(workspace, storyboard)
    try:
        model = catalog.get_model(recipe.provider, recipe.model)
    except catalog.CatalogError as exc:
        raise ValidationError(exc.errors) from exc
    if recipe.task and recipe.task not in model.tasks:
        raise ValidationError(
            {"task": [f"{model.id} does not do {recipe.task}; it does {', '.join(model.tasks)}."]}
        )
    if continuity not in Shot.Continuity.values:
        raise ValidationError({"continuity": [f"Choose one of: {', '.join(Shot.Continuity.values)}."]})
    with transaction.atomic():
        board = Storyboard.objects.select_for_update().get(pk=storyboard.pk)
        order = list(board.shots.order_by("position").values_list("pk", flat=True))
        if position is None:
            position = len(order) + 1
        if not 1 <= position <= len(order) + 1:
            raise ValidationError({"position": [f"A position from 1 to {len(order) + 1}."]})
        _park(board.pk, position__gte=position)
        shot = Shot.objects.create(
            storyboard=board,
            position=position,
            parts={k: str(v) for k, v in recipe.parts.items() if str(v).strip()},
            negative=recipe.negative.strip(),
            provider=model.provider,
            model=model.id,
            recipe=recipe.asked(),
            continuity=continuity,
        )
        order.insert(position - 1, shot.pk)
        _renumber(board.pk, order)
        board.save(update_fields=["updated_at"])
    shot.refresh_from_db()
    return shot


def move_shot(*, workspace, shot: Shot, position: int) -> Shot:
    """Put ``shot`` at ``position`` (1-based), the others closing up around it."""
    same_workspace(workspace, shot.storyboard)
    with transaction.atomic():
        board = Storyboard.objects.select_for_update().get(pk=shot.storyboard_id)
        order = list(board.shots.order_by("position").values_list("pk", flat=True))
        if not 1 <= position <= len(order):
            raise ValidationError({"position": [f"A position from 1 to {len(order)}."]})
        order.remove(shot.pk)
        order.insert(position - 1, shot.pk)
        _renumber(board.pk, order)
    shot.refresh_from_db()
    return shot


def delete_shot(*, workspace, shot: Shot) -> None:
    same_workspace(workspace, shot.storyboard)
    with transaction.atomic():
        board = Storyboard.objects.select_for_update().get(pk=shot.storyboard_id)
        shot.delete()
        _renumber(board.pk, list(board.shots.order_by("position").values_list("pk", flat=True)))


def add_take(*, workspace, shot: Shot, generation: Generation) -> Take:
    """Record ``generation`` as a take of ``shot`` (a generation is a take of one shot at most)."""
    same_workspace(workspace, shot.storyboard, generation)
    if generation.project_id != shot.storyboard.project_id:
        raise ValidationError("A take must be a video of the storyboard's project.")
    take, created = Take.objects.get_or_create(generation=generation, defaults={"shot": shot})
    if not created and take.shot_id != shot.pk:
        raise ValidationError("That video is already a take of another shot.")
    return take


def choose_take(*, workspace, shot: Shot, generation: Generation | None) -> Shot:
    """Make ``generation`` (one of the shot's finished takes) the one the film uses; None clears it.
    The trim is kept where it still fits the new take, else reset to the whole take."""
    same_workspace(workspace, shot.storyboard)
    if generation is not None:
        same_workspace(workspace, generation)
        if not Take.objects.filter(shot=shot, generation=generation).exists():
            raise ValidationError("That video is not a take of this shot.")
        if generation.status != Generation.Status.SUCCEEDED or not generation.video:
            raise ValidationError("Only a finished take can be chosen.")
        length = generation.result_duration or 0
        if shot.in_point >= length or (shot.out_point is not None and shot.out_point > length):
            shot.in_point, shot.out_point = 0.0, None
    shot.take = generation
    shot.save(update_fields=["take", "in_point", "out_point"])
    return shot


def set_trim(*, workspace, shot: Shot, in_point: float, out_point: float | None) -> Shot:
    """Seconds into the chosen take where the shot starts and ends (None: its end)."""
    same_workspace(workspace, shot.storyboard)
    length = shot.take.result_duration if shot.take_id and shot.take else None
    errors: dict[str, list[str]] = {}
    if in_point < 0:
        errors["in_point"] = ["The in point cannot be before the start."]
    if out_point is not None and out_point <= in_point:
        errors["out_point"] = ["The out point must come after the in point."]
    if length is not None:
        if in_point >= length:
            errors.setdefault("in_point", []).append(f"The take is {length:.2f} s long.")
        if out_point is not None and out_point > length + 1e-6:
            errors.setdefault("out_point", []).append(f"The take is {length:.2f} s long.")
    if errors:
        raise ValidationError(errors)
    shot.in_point, shot.out_point = float(in_point), out_point if out_point is None else float(out_point)
    shot.save(update_fields=["in_point", "out_point"])
    return shot


def shot_recipe_json(shot: Shot) -> dict:
    """What an export keeps of one shot: enough to say how the film was made."""
    take = shot.take
    return {
        "position": shot.position,
        "shot": shot.public_id,
        "take": take.public_id if take else None,
        "provider": shot.provider,
        "model": shot.model,
        "parts": shot.prompt_parts(),
        "negative": shot.negative,
        "recipe": shot.recipe,
        "continuity": shot.continuity,
        "prompt": take.prompt.text if take else "",
        "in_point": shot.in_point,
        "out_point": shot.out_point,
    }


def start_export(*, workspace, storyboard: Storyboard, user, nudge: bool = True) -> Export:
    """Check every shot has a finished take, then queue an export job (nudged after commit, unless the
    caller runs it itself, as the command does)."""
    same_workspace(workspace, storyboard)
    shots = list(storyboard.shots.select_related("take__prompt").order_by("position"))
    if not shots:
        raise ValidationError("The storyboard has no shots yet.")
    missing = [
        str(s.position)
        for s in shots
        if s.take is None or s.take.status != Generation.Status.SUCCEEDED or not s.take.video
    ]
    if missing:
        raise ValidationError(f"Choose a finished take for shot {', '.join(missing)} first.")
    with transaction.atomic():
        export = Export.objects.create(
            workspace=workspace,
            storyboard=storyboard,
            width=storyboard.export_width,
            height=storyboard.export_height,
            fps=storyboard.export_fps,
            crossfade=storyboard.crossfade,
            recipe=[shot_recipe_json(s) for s in shots],
            created_by=user,
        )
        if nudge:
            transaction.on_commit(lambda: _nudge(export.pk))
    return export


def _nudge(export_id: int) -> None:
    from studio.storyboards.tasks import run_export_task

    try:
        run_export_task.delay(export_id)
    except Exception:  # the broker is unreachable: the export stays queued and says so
        import logging

        logging.getLogger(__name__).warning("could not enqueue export %s", export_id)


EXPORT_LEASE = timedelta(minutes=2)  # renewed by every progress write (several a second of film)


def claim_export(export_id: int) -> bool:
    """queued (or running under an expired lease) -> running, by one conditional UPDATE: two workers
    handed the same message run it once, and a worker killed mid-stitch does not strand it."""
    now = timezone.now()
    return bool(
        Export.objects.filter(
            Q(status=Export.Status.QUEUED) | Q(status=Export.Status.RUNNING, lease_until__lt=now),
            pk=export_id,
        ).update(status=Export.Status.RUNNING, progress=0, lease_until=now + EXPORT_LEASE)
    )


def record_progress(export_id: int, percent: int) -> None:
    Export.objects.filter(pk=export_id, status=Export.Status.RUNNING).update(
        progress=max(0, min(99, int(percent))), lease_until=timezone.now() + EXPORT_LEASE
    )


def finish_export(export_id: int, *, name: str, duration: float, has_audio: bool, size: int) -> bool:
    return bool(
        Export.objects.filter(pk=export_id, status=Export.Status.RUNNING).update(
            status=Export.Status.SUCCEEDED,
            progress=100,
            file=name,
            duration=duration,
            has_audio=has_audio,
            bytes=size,
            lease_until=None,
            finished_at=timezone.now(),
        )
    )


def fail_export(export_id: int, message: str) -> bool:
    return bool(
        Export.objects.filter(pk=export_id, status__in=(Export.Status.QUEUED, Export.Status.RUNNING)).update(
            status=Export.Status.FAILED,
            error_message=message[:2000],
            lease_until=None,
            finished_at=timezone.now(),
        )
    )
