"""Writes for generations: create (validated against the catalog before any money is spent), cancel,
retry, submit-again and remix. The web form and the `generate` command both call ``create_generation``."""

from __future__ import annotations

import contextlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from studio.assets.services import media_info
from studio.generations import limits, live
from studio.generations.models import Generation, GenerationInput, Rating
from studio.generations.recipe import Recipe
from studio.generations.states import transition
from studio.prompts.models import Prompt, compose
from studio.providers import catalog, pricing
from studio.providers.registry import provider_names
from studio.workspaces.models import Activity, Workspace, record

S = Generation.Status


def validate_job(recipe: Recipe) -> catalog.CleanJob:
    """The catalog's verdict on a recipe as Django's ValidationError (field -> messages), or the clean job.

    The prompt is checked as sent: ``create_generation`` composes it from the parts first when it is empty.
    """
    if recipe.provider not in provider_names():
        raise ValidationError(
            {
                "provider": [
                    f"Unknown provider {recipe.provider!r}. Choose one of: {', '.join(provider_names())}."
                ]
            }
        )
    media = {slot: [media_info(a) for a in assets] for slot, assets in recipe.inputs.items() if assets}
    request = catalog.JobRequest(
        provider=recipe.provider,
        model=recipe.model,
        task=recipe.task or None,
        prompt=recipe.prompt,
        negative_prompt=recipe.negative,
        size=recipe.size or None,
        resolution=recipe.resolution or None,
        duration=recipe.duration if recipe.duration not in ("", None) else None,
        seed=recipe.seed if recipe.seed not in ("", None) else None,
        params=dict(recipe.params),
        media=media,
        as_is=tuple(recipe.as_is),
    )
    try:
        clean = catalog.validate(request)
    except catalog.CatalogError as exc:
        raise ValidationError(exc.errors) from exc
    by_url = [
        s.name
        for s in clean.spec.media
        if (clean.spec.needs_public_urls or s.needs_public_url) and media.get(s.name)
    ]
    if by_url and not settings.STUDIO_PUBLIC_BASE_URL:
        raise ValidationError(
            f"{clean.model} fetches its {', '.join(sorted(set(by_url))).replace('_', ' ')} by URL, so this studio "
            "needs a public address: ask the admin to set STUDIO_PUBLIC_BASE_URL."
        )
    return clean


def with_composed_prompt(recipe: Recipe) -> Recipe:
    """The recipe with its empty parts dropped and, when no final text was given, the parts composed."""
    parts = {k: v for k, v in recipe.parts.items() if str(v).strip()}
    return recipe.replace(parts=parts, prompt=(recipe.prompt or "").strip() or compose(parts))


def create_generation(
    *,
    workspace,
    project,
    user,
    recipe: Recipe,
    remix_of: Generation | None = None,
    retry_of: Generation | None = None,
) -> Generation:
    """Validate everything, then save a queued Generation and nudge the worker after commit."""
    if project.workspace_id != workspace.pk:
        raise ValidationError({"project": ["That project belongs to another workspace."]})
    for assets in recipe.inputs.values():
        for asset in assets:
            if asset.workspace_id != workspace.pk:
                raise ValidationError("An input file belongs to another workspace.")
    if remix_of is not None and remix_of.workspace_id != workspace.pk:
        raise ValidationError("The video remixed belongs to another workspace.")
    recipe = with_composed_prompt(recipe)
    clean = validate_job(recipe)
    cost = pricing.estimate_job(clean).amount  # what the job form showed beside Generate
    with transaction.atomic():
        limits.check(Workspace.objects.select_for_update().get(pk=workspace.pk), cost=cost)
        prompt_row = Prompt.objects.create(
            workspace=workspace,
            project=project,
            author=user,
            parts=dict(recipe.parts),
            text=recipe.prompt,
            negative=recipe.negative.strip(),
        )
        generation = Generation.objects.create(
            workspace=workspace,
            project=project,
            prompt=prompt_row,
            created_by=user,
            provider=clean.provider,
            model=clean.model,
            task=clean.task,
            size=clean.size or "",
            resolution=clean.resolution or "",
            duration=clean.duration,
            seed=clean.seed,
            params=clean.params,
            recipe=recipe.asked(),
            warnings=clean.warnings,
            cost_estimate=cost,
            next_poll_at=timezone.now(),
            remix_of=remix_of,
            retry_of=retry_of,
        )
        GenerationInput.objects.bulk_create(
            GenerationInput(generation=generation, asset=asset, slot=slot, position=i)
            for slot, assets in recipe.inputs.items()
            for i, asset in enumerate(assets)
        )
        record(
            workspace.pk,
            user,
            Activity.Verb.GENERATED,
            summary=recipe.prompt[:120],
            generation=generation,
            project=project,
        )
        transaction.on_commit(lambda: _nudge(generation.pk))
        transaction.on_commit(lambda: limits.forget(workspace.pk))  # the budget line counts it
        live.notify(generation.pk)  # open galleries show the new card
    return generation


def _nudge(generation_id: int) -> None:
    from studio.generations.tasks import submit_generation_task

    try:
        submit_generation_task.delay(generation_id)
    except Exception:  # the broker is only a nudge: the sweeper finds the queued row anyway
        import logging

        logging.getLogger(__name__).warning(
            "could not enqueue generation %s; the sweeper will", generation_id
        )


def cancel_generation(*, generation: Generation) -> bool:
    """Stop a job. Queued: never sent. At the vendor: ask it to cancel where it can, stop tracking it."""
    if generation.status == S.QUEUED and transition(generation.pk, src=S.QUEUED, dst=S.CANCELED):
        return True
    if generation.status in (S.SUBMITTED, S.RUNNING):
        if generation.external_id:
            from studio.providers.base import ProviderError
            from studio.providers.registry import get_provider

            # If the vendor will not cancel, it may finish the job anyway; either way we stop watching it.
            with contextlib.suppress(ProviderError):
                provider = get_provider(generation.provider, workspace_id=generation.workspace_id)
                provider.cancel(generation.external_id)
        return transition(generation.pk, src=(S.SUBMITTED, S.RUNNING), dst=S.CANCELED)
    if generation.status == S.SUBMIT_UNKNOWN:
        return transition(
            generation.pk, src=S.SUBMIT_UNKNOWN, dst=S.CANCELED, error_message="Dismissed by a person."
        )
    return False


def retry_generation(*, generation: Generation, user, reuse_seed: bool = False) -> Generation:
    """A new job with the same recipe. The old one keeps its state and error. ``reuse_seed``: with the seed
    the vendor reported it used (when no seed was asked, it picked one)."""
    recipe = Recipe.of(generation)
    if reuse_seed and generation.result_seed is not None:
        recipe = recipe.replace(seed=generation.result_seed)
    return create_generation(
        workspace=generation.workspace,
        project=generation.project,
        user=user,
        recipe=recipe,
        retry_of=generation,
    )


def submit_again(*, generation: Generation, user) -> Generation:
    """A person decided an unconfirmed submit did not happen: dismiss it and queue a fresh one."""
    if generation.status != S.SUBMIT_UNKNOWN:
        raise ValidationError("Only a job whose submit is unconfirmed can be submitted again.")
    new = retry_generation(generation=generation, user=user)
    transition(
        generation.pk,
        src=S.SUBMIT_UNKNOWN,
        dst=S.CANCELED,
        error_message=f"Submitted again as {new.public_id}.",
    )
    return new


def check_again(*, generation: Generation, user) -> bool:
    """A person asks the vendor about an unconfirmed job that has a task id (its status calls were refused
    in a way no page documents): it is polled again, nothing is submitted. True if it moved."""
    if generation.status != S.SUBMIT_UNKNOWN or not generation.external_id:
        raise ValidationError("Only an unconfirmed job with the provider's task id can be checked again.")
    return transition(
        generation.pk,
        src=S.SUBMIT_UNKNOWN,
        dst=S.SUBMITTED,
        next_poll_at=timezone.now(),
        lease_until=None,
        error_kind="",
        error_code="",
        error_message="",
    )


def delete_generation(*, generation: Generation, user) -> None:
    """Remove a finished (or dismissed) job and its files. A job still at the vendor must be canceled first."""
    if generation.is_active:
        raise ValidationError("This job is still running: cancel it first.")
    files = [f.name for f in (generation.video, generation.poster) if f]
    with transaction.atomic():
        record(
            generation.workspace_id,
            user,
            Activity.Verb.DELETED,
            summary=generation.prompt.text[:120],
            project=generation.project,
        )
        generation.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])


def rate_generation(
    *, generation: Generation, user, favorite: bool | None = None, stars: int | None = None
) -> Rating:
    if stars is not None and not 1 <= stars <= 5:
        raise ValidationError("Stars go from 1 to 5.")
    rating, _ = Rating.objects.get_or_create(user=user, generation=generation)
    if favorite is not None:
        rating.favorite = favorite
    if stars is not None:
        rating.stars = stars
    rating.save()
    return rating


def nudge_generation(*, generation: Generation) -> bool:
    """Make a waiting job due now (a lost lease, a long backoff). Never resends a submit: only queued
    jobs are submitted, and a row in 'submitting' goes through the sweeper's recovery like any other."""
    from django.utils import timezone

    return bool(
        Generation.objects.filter(pk=generation.pk, status__in=Generation.IN_FLIGHT).update(
            next_poll_at=timezone.now(), lease_until=timezone.now(), updated_at=timezone.now()
        )
    )
