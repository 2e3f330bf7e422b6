"""Generate from here: the shots from one on, in order, each waiting for its predecessor's take; one chain a
storyboard at a time, one step a shot, the whole chain's estimate checked against the budget first.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from studio.generations.models import Generation
from studio.providers import catalog
from studio.storyboards.continuity import generate_shot, model_for
from studio.storyboards.models import Chain, ChainStep, Shot, Storyboard
from studio.storyboards.services import choose_take, same_workspace

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

    same_workspace(workspace, storyboard)
    if shot.storyboard_id != storyboard.pk:
        raise ValidationError("That shot is not on this storyboard.")
    shots = chain_shots(storyboard, shot.position)
    for s in shots:
        try:
            catalog.get_model(s.provider, s.model)
        except catalog.CatalogError as exc:
            raise ValidationError(f"Shot {s.position}: {'; '.join(exc.messages)}") from exc
        if s.continuity == Shot.Continuity.EXTENSION:
            model_for(s, "video_extension", "first_clip", "a clip to extend (VACE video extension)")
        elif s.continuity == Shot.Continuity.REFERENCE_SHEET:
            model_for(s, "image_reference", "ref_images", "reference images (VACE image reference)")
    total = chain_estimate(storyboard, shot.position)
    with transaction.atomic():
        locked = Workspace.objects.select_for_update().get(pk=workspace.pk)
        refusal = limits.over_budget(limits.usage(locked, fresh=True), total)
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
    same_workspace(workspace, chain.storyboard)
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
