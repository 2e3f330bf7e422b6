"""Storyboard pages: a project's storyboards, the timeline, and the film's download.

Every view starts at the one door (``get_membership`` through the selectors): viewers read, editors and
owners change. Every change is a plain POST answered by a redirect to the timeline, so the page works
without JavaScript; htmx only refreshes the exports while one is being made.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.assets.serving import serve_file
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.http import AuthenticatedRequest
from studio.prompts.builder import model_choices
from studio.storyboards import chains, continuity, selectors, services
from studio.storyboards.models import Export, Shot, Take
from studio.storyboards.selectors import get_export_for_user, get_storyboard_for_user
from studio.workspaces.access import get_membership, get_project_for_user


def _number(text: str, *, blank=None) -> float | None:
    text = (text or "").strip()
    if not text:
        return blank
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a number of seconds.") from None


def _refused(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@require_GET
def storyboard_index(request: AuthenticatedRequest, slug: str, project_id: str):
    membership, project = get_project_for_user(request, slug, project_id)
    boards = selectors.storyboards_of(workspace=membership.workspace, project=project)
    return render(
        request,
        "storyboards/index.html",
        {
            "membership": membership,
            "workspace": membership.workspace,
            "project": project,
            "storyboards": boards,
        },
    )


@require_POST
def storyboard_create(request: AuthenticatedRequest, slug: str, project_id: str):
    membership, project = get_project_for_user(request, slug, project_id, write=True)
    try:
        sb = services.create_storyboard(
            workspace=membership.workspace,
            project=project,
            user=request.user,
            name=request.POST.get("name", ""),
            subject=request.POST.get("subject", ""),
            look=request.POST.get("look", ""),
            light=request.POST.get("light", ""),
        )
    except ValidationError as exc:
        _refused(request, exc)
        return redirect("storyboards:index", slug=slug, project_id=project_id)
    return redirect("storyboards:detail", slug=slug, storyboard_id=sb.public_id)


def _pickable(storyboard) -> list[Generation]:
    """Finished videos of the project not yet a take of another shot: what a take picker offers."""
    taken = Take.objects.filter(shot__storyboard__workspace_id=storyboard.workspace_id).exclude(
        shot__storyboard=storyboard
    )
    return list(
        Generation.objects.filter(
            workspace_id=storyboard.workspace_id,
            project_id=storyboard.project_id,
            status=Generation.Status.SUCCEEDED,
        )
        .exclude(pk__in=taken.values("generation_id"))
        .select_related("prompt")
        .order_by("-created_at")[:60]
    )


def _estimate(shot: Shot) -> Decimal:
    """One take's estimate; a model gone from the catalog shows as nothing (generating it says why)."""
    from studio.providers.catalog import CatalogError

    try:
        return chains.shot_estimate(shot).amount
    except CatalogError:
        return Decimal("0")


def _timeline(membership, sb) -> dict:
    """The shot cards with what each shows: its takes, a live take, its "from here" estimate, and where a
    stopped chain stopped."""
    shots = list(selectors.shots_of(storyboard=sb))
    chain = selectors.latest_chain(storyboard=sb)
    pickable = _pickable(sb) if membership.can_write else []
    estimates = [_estimate(s) for s in shots]
    making = False
    for i, shot in enumerate(shots):
        takes = [t.generation for t in shot.takes.all()]
        shot.finished_takes = [g for g in takes if g.status == Generation.Status.SUCCEEDED and g.video]
        shot.in_flight = [g for g in takes if g.status not in Generation.FINISHED]
        making = making or bool(shot.in_flight)
        own = {g.pk for g in shot.finished_takes}
        shot.choices = shot.finished_takes + [g for g in pickable if g.pk not in own]
        shot.chain_estimate = sum(estimates[i:], Decimal("0"))
        shot.stopped_here = bool(
            chain and chain.status == chain.Status.FAILED and chain.failed_shot_id == shot.pk
        )
    running = bool(chain and chain.status == chain.Status.RUNNING)
    return {"shots": shots, "chain": chain, "live": running or making}


@require_GET
def storyboard_detail(request: AuthenticatedRequest, slug: str, storyboard_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id)
    exports = list(selectors.exports_of(storyboard=sb).prefetch_related("share_links")[:10])
    context = {
        "membership": membership,
        "workspace": membership.workspace,
        "storyboard": sb,
        "exports": exports,
        "exporting": any(not e.is_finished and not e.is_stalled for e in exports),
    }
    target = request.htmx.target if request.htmx else None
    if target == "storyboard-exports":
        response = render(request, "storyboards/detail.html#storyboard-exports", context)
    elif target == "storyboard-timeline":
        context.update(_timeline(membership, sb))
        response = render(request, "storyboards/detail.html#storyboard-timeline", context)
    else:
        context.update(_timeline(membership, sb))
        context.update({"model_choices": model_choices(), "continuities": Shot.Continuity.choices})
        response = render(request, "storyboards/detail.html", context)
    response["Vary"] = "HX-Request"
    return response


def _back(slug: str, sb, shot: Shot | None = None) -> HttpResponse:
    url = reverse("storyboards:detail", kwargs={"slug": slug, "storyboard_id": sb.public_id})
    return redirect(f"{url}#shot-{shot.public_id}" if shot is not None else url)


def _shot(membership, sb, shot_id: str) -> Shot:
    shot = selectors.shot_of(workspace=membership.workspace, storyboard=sb, public_id=shot_id)
    if shot is None:
        raise Http404("No such shot.")
    return shot


@require_POST
def shot_add(request: AuthenticatedRequest, slug: str, storyboard_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    provider, _, model = request.POST.get("model", "").partition(":")
    prompt = request.POST.get("prompt", "").strip()
    try:
        duration = _number(request.POST.get("duration", ""))
        services.add_shot(
            workspace=membership.workspace,
            storyboard=sb,
            recipe=Recipe(
                provider=provider,
                model=model,
                parts={"action": prompt} if prompt else {},
                duration=int(duration) if duration else None,
            ),
            continuity=request.POST.get("continuity", Shot.Continuity.NONE),
        )
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, sb)


@require_POST
def shot_move(request: AuthenticatedRequest, slug: str, storyboard_id: str, shot_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    shot = _shot(membership, sb, shot_id)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""), 0)
    try:
        position = int(request.POST["position"]) if request.POST.get("position") else shot.position + step
        services.move_shot(workspace=membership.workspace, shot=shot, position=position)
    except ValueError:
        messages.error(request, "Give the position as a whole number.")
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, sb, shot)


@require_POST
def shot_take(request: AuthenticatedRequest, slug: str, storyboard_id: str, shot_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    shot = _shot(membership, sb, shot_id)
    chosen = request.POST.get("generation", "")
    generation = (
        Generation.objects.filter(workspace_id=membership.workspace_id, public_id=chosen).first()
        if chosen
        else None
    )
    if chosen and generation is None:
        raise Http404("No such video.")
    try:
        if generation is not None:
            services.add_take(workspace=membership.workspace, shot=shot, generation=generation)
        services.choose_take(workspace=membership.workspace, shot=shot, generation=generation)
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, sb, shot)


@require_POST
def shot_generate(request: AuthenticatedRequest, slug: str, storyboard_id: str, shot_id: str):
    """One take of the shot, queued like any job (validated, limits and budget checked)."""
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    shot = _shot(membership, sb, shot_id)
    try:
        generation = continuity.generate_shot(workspace=membership.workspace, shot=shot, user=request.user)
        messages.success(
            request, f"Shot {shot.position}: a take is being made; pick it here when it is done."
        )
        for warning in generation.warnings:
            messages.info(request, warning)
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, sb, shot)


@require_POST
def shot_trim(request: AuthenticatedRequest, slug: str, storyboard_id: str, shot_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    shot = _shot(membership, sb, shot_id)
    try:
        services.set_trim(
            workspace=membership.workspace,
            shot=shot,
            in_point=_number(request.POST.get("in_point", ""), blank=0.0),
            out_point=_number(request.POST.get("out_point", "")),
        )
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, sb, shot)


@require_POST
def chain_start(request: AuthenticatedRequest, slug: str, storyboard_id: str, shot_id: str):
    """Generate from here: this shot and every one after it, in order, each from the take before it."""
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    shot = _shot(membership, sb, shot_id)
    try:
        chain = chains.start_chain(
            workspace=membership.workspace, storyboard=sb, shot=shot, user=request.user
        )
        count = len(chain.shots)
        if chain.status == chain.Status.FAILED:
            messages.error(request, chain.message)
        else:
            messages.success(
                request,
                f"Making shot{'s' if count > 1 else ''} {shot.position}"
                f"{f'-{shot.position + count - 1}' if count > 1 else ''} in order (about ${chain.estimate}); "
                "each starts when the one before it has a take.",
            )
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, sb, shot)


@require_POST
def chain_stop(request: AuthenticatedRequest, slug: str, storyboard_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    chain = selectors.latest_chain(storyboard=sb)
    if chain is not None and chains.cancel_chain(workspace=membership.workspace, chain=chain):
        messages.success(request, "Stopped: no further shot is sent (a take being made is left to finish).")
    return _back(slug, sb)


SETTING_LABELS = {
    "export_width": "Width",
    "export_height": "Height",
    "export_fps": "Frame rate",
    "crossfade": "Crossfade",
}


def _whole(text: str, label: str) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        raise ValidationError(f"Give the {label} as a whole number.") from None


@require_POST
def export_settings(request: AuthenticatedRequest, slug: str, storyboard_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    try:
        width, _, height = request.POST.get("size", "").lower().replace(" ", "").partition("x")
        services.update_export_settings(
            workspace=membership.workspace,
            storyboard=sb,
            width=_whole(width, "width"),
            height=_whole(height, "height"),
            fps=_whole(request.POST.get("fps", ""), "frame rate"),
            crossfade=_number(request.POST.get("crossfade", ""), blank=0.0),
        )
        messages.success(request, f"The film will be {sb.export_size} at {sb.export_fps} fps.")
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, found in exc.message_dict.items():
                for message in found:
                    messages.error(request, f"{SETTING_LABELS.get(field, field)}: {message}")
        else:
            _refused(request, exc)
    return _back(slug, sb)


@require_POST
def export_create(request: AuthenticatedRequest, slug: str, storyboard_id: str):
    membership, sb = get_storyboard_for_user(request, slug, storyboard_id, write=True)
    try:
        services.start_export(workspace=membership.workspace, storyboard=sb, user=request.user)
        messages.success(request, "The film is being made; it appears below when it is ready.")
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, sb)


@require_POST
def export_share(request: AuthenticatedRequest, slug: str, export_id: str):
    """A public, revocable link to one finished film (the sharing app's ShareLink, scope "export")."""
    from studio.sharing.services import create_share_link

    membership = get_membership(request, slug, write=True)
    export = selectors.export_of(workspace=membership.workspace, public_id=export_id)
    if export is None:
        raise Http404("No such export.")
    try:
        create_share_link(
            workspace=membership.workspace,
            user=request.user,
            export=export,
            include_recipe=request.POST.get("include_recipe") == "on",
            expires_in=request.POST.get("expires_in", ""),
        )
        messages.success(
            request, "Share link created. Anyone with it can watch this film until you revoke it."
        )
    except ValidationError as exc:
        _refused(request, exc)
    return _back(slug, export.storyboard)


@require_GET
def export_file(request: AuthenticatedRequest, slug: str, export_id: str):
    """The stitched film, for members of its workspace (Range honoured, so the player can seek)."""
    export = get_export_for_user(request, slug, export_id)
    if export.status != Export.Status.SUCCEEDED or not export.file:
        raise Http404("This export has no film yet.")
    return serve_file(request, export.file, content_type="video/mp4", download_name=export.download_name())
