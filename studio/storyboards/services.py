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
from studio.storyboards.models import Chain, ChainStep, Export, Shot, Storyboard, Take

MAX_EXPORT_SIDE = 1920
MAX_CROSSFADE = 2.0


def _same_workspace(workspace, *objects) -> None:
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
    _same_workspace(workspace, project)
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
    _same_workspace(workspace, storyboard)
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
    _same_workspace(workspace, storyboard)
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
    _same_workspace(workspace, shot.storyboard)
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
    _same_workspace(workspace, shot.storyboard)
    with transaction.atomic():
        board = Storyboard.objects.select_for_update().get(pk=shot.storyboard_id)
        shot.delete()
        _renumber(board.pk, list(board.shots.order_by("position").values_list("pk", flat=True)))


def add_take(*, workspace, shot: Shot, generation: Generation) -> Take:
    """Record ``generation`` as a take of ``shot`` (a generation is a take of one shot at most)."""
    _same_workspace(workspace, shot.storyboard, generation)
    if generation.project_id != shot.storyboard.project_id:
        raise ValidationError("A take must be a video of the storyboard's project.")
    take, created = Take.objects.get_or_create(generation=generation, defaults={"shot": shot})
    if not created and take.shot_id != shot.pk:
        raise ValidationError("That video is already a take of another shot.")
    return take


def choose_take(*, workspace, shot: Shot, generation: Generation | None) -> Shot:
    """Make ``generation`` (one of the shot's finished takes) the one the film uses; None clears it.
    The trim is kept where it still fits the new take, else reset to the whole take."""
    _same_workspace(workspace, shot.storyboard)
    if generation is not None:
        _same_workspace(workspace, generation)
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
    _same_workspace(workspace, shot.storyboard)
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
    _same_workspace(workspace, storyboard)
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


def _model_for(shot: Shot, task: str, slot: str, what: str):
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

    model = _model_for(shot, "video_extension", "first_clip", "a clip to extend (VACE video extension)")
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

    _model_for(shot, "image_reference", "ref_images", "reference images (VACE image reference)")
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

    _same_workspace(workspace, shot.storyboard)
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


# ------------------------------------------------------------------------------------ generate from here

CHAIN_TASKS = {
    Shot.Continuity.EXTENSION: "video_extension",
    Shot.Continuity.REFERENCE_SHEET: "image_reference",
}


def shot_estimate(shot: Shot):
    """What one take of ``shot`` is likely to cost (``pricing.estimate_for`` on its settings)."""
    from studio.providers import pricing

    asked = shot.recipe or {}
    task = CHAIN_TASKS.get(shot.continuity) or asked.get("task")
    if shot.continuity == Shot.Continuity.LAST_FRAME and not task:
        task = "i2v"
    return pricing.estimate_for(
        shot.provider,
        shot.model,
        task=task,
        duration=asked.get("duration"),
        resolution=asked.get("resolution"),
        size=asked.get("size"),
        params=dict(asked.get("params") or {}),
    )


def chain_shots(storyboard: Storyboard, start: int) -> list[Shot]:
    return list(storyboard.shots.filter(position__gte=start).order_by("position"))


def chain_estimate(storyboard: Storyboard, start: int):
    """The whole chain's estimate in dollars: the sum of each shot's."""
    from decimal import Decimal

    return sum((shot_estimate(s).amount for s in chain_shots(storyboard, start)), Decimal("0"))


def start_chain(*, workspace, storyboard: Storyboard, shot: Shot, user) -> Chain:
    """Make the shots from ``shot`` on, in order, each waiting for its predecessor's chosen take. Refused
    before anything is sent when a shot's model cannot take its continuity, when a chain already runs, or
    when the whole chain's estimate would pass the month's budget."""
    from django.db import IntegrityError

    from studio.generations import limits
    from studio.workspaces.models import Workspace

    _same_workspace(workspace, storyboard)
    if shot.storyboard_id != storyboard.pk:
        raise ValidationError("That shot is not on this storyboard.")
    shots = chain_shots(storyboard, shot.position)
    for s in shots:
        try:
            catalog.get_model(s.provider, s.model)
        except catalog.CatalogError as exc:
            raise ValidationError(f"Shot {s.position}: {'; '.join(exc.messages)}") from exc
        if s.continuity == Shot.Continuity.EXTENSION:
            _model_for(s, "video_extension", "first_clip", "a clip to extend (VACE video extension)")
        elif s.continuity == Shot.Continuity.REFERENCE_SHEET:
            _model_for(s, "image_reference", "ref_images", "reference images (VACE image reference)")
    total = chain_estimate(storyboard, shot.position)
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        refusal = limits.over_budget(limits.usage(locked), total)
        if refusal:
            raise ValidationError(
                f"These {len(shots)} shots (about ${total} in all) would pass the budget: {refusal} "
                "Nothing was sent."
            )
        try:
            with transaction.atomic():
                chain = Chain.objects.create(
                    storyboard=storyboard,
                    start=shot.position,
                    shots=[s.pk for s in shots],
                    estimate=total,
                    created_by=user,
                )
        except IntegrityError:
            raise ValidationError(
                "Shots of this storyboard are already being generated; wait for them or stop them first."
            ) from None
    advance_chain(chain.pk)
    chain.refresh_from_db()
    return chain


def cancel_chain(*, workspace, chain: Chain) -> bool:
    """Stop making further shots (a take already sent is left to finish)."""
    _same_workspace(workspace, chain.storyboard)
    return bool(
        Chain.objects.filter(pk=chain.pk, status=Chain.Status.RUNNING).update(
            status=Chain.Status.CANCELLED, finished_at=timezone.now()
        )
    )


def _stop(chain: Chain, shot: Shot | None, message: str) -> None:
    chain.status, chain.failed_shot, chain.message = Chain.Status.FAILED, shot, message[:2000]
    chain.finished_at = timezone.now()
    chain.save(update_fields=["status", "failed_shot", "message", "finished_at"])


def advance_chain(chain_id: int) -> str:
    """Move a running chain on as far as it can go now; returns its status.

    The chain's row is locked while it decides, and each shot's step is created once (unique per chain and
    shot) in the same transaction as its generation, so however often this runs a shot is paid for once.
    A finished take is chosen for its shot when none is; a take that failed stops the chain at its shot."""
    with transaction.atomic():
        chain = Chain.objects.select_for_update().select_related("storyboard").filter(pk=chain_id).first()
        if chain is None or chain.status != Chain.Status.RUNNING:
            return chain.status if chain else ""
        workspace = chain.storyboard.workspace
        steps = {s.shot_id: s for s in chain.steps.select_related("generation")}
        for pk in chain.shots:
            shot = Shot.objects.select_related("storyboard", "take").filter(pk=pk).first()
            if shot is None:
                _stop(chain, None, "A shot of this run was deleted; nothing after it was made.")
                return chain.status
            step = steps.get(pk)
            if step is None:
                try:
                    with transaction.atomic():
                        generation = generate_shot(workspace=workspace, shot=shot, user=chain.created_by)
                        ChainStep.objects.create(chain=chain, shot=shot, generation=generation)
                except ValidationError as exc:
                    _stop(chain, shot, f"Shot {shot.position}: {' '.join(exc.messages)}")
                return chain.status
            generation = step.generation
            if generation is None:
                _stop(chain, shot, f"Shot {shot.position}: its take was deleted.")
                return chain.status
            if generation.status not in Generation.FINISHED:
                return chain.status  # still being made
            if generation.status != Generation.Status.SUCCEEDED or not generation.video:
                why = generation.error_message or generation.get_status_display().lower()
                _stop(
                    chain,
                    shot,
                    f"Shot {shot.position}: its take {generation.get_status_display().lower()}: {why}",
                )
                return chain.status
            if shot.take_id is None:
                choose_take(workspace=workspace, shot=shot, generation=generation)
        chain.status, chain.finished_at = Chain.Status.DONE, timezone.now()
        chain.save(update_fields=["status", "finished_at"])
        return chain.status


def advance_chains() -> int:
    """Move every running chain on (the beat calls this every few seconds); returns how many ran."""
    import logging

    ids = list(Chain.objects.filter(status=Chain.Status.RUNNING).values_list("pk", flat=True))
    for pk in ids:
        try:
            advance_chain(pk)
        except Exception:  # one broken chain must not hold up the others
            logging.getLogger(__name__).exception("chain %s could not advance", pk)
    return len(ids)
