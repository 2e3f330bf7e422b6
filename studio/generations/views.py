from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from studio.assets.serving import serve_file
from studio.generations import canvas, cards, limits, live, selectors, services
from studio.generations.filters import GalleryFilterForm
from studio.generations.forms import GenerationForm, LimitsForm
from studio.generations.models import Generation
from studio.http import AuthenticatedRequest
from studio.inputs import whole_number
from studio.logs import quiet
from studio.projects.forms import ProjectForm
from studio.projects.models import Project
from studio.providers import pricing
from studio.providers.catalog import get_model
from studio.workspaces.access import (
    get_generation_for_user,
    get_membership,
    get_project_for_user,
    remember_workspace,
)
from studio.workspaces.models import Workspace


@require_GET
def generation_video(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id)
    if not generation.video:
        raise Http404("This generation has no video yet.")
    return serve_file(
        request, generation.video, content_type="video/mp4", download_name=generation.download_name("mp4")
    )


@require_GET
def generation_poster(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id)
    if not generation.poster:
        raise Http404("This generation has no poster yet.")
    return serve_file(request, generation.poster, content_type="image/jpeg")


# ------------------------------------------------------------------------------------------ pages


def _add_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for field, field_messages in exc.message_dict.items():
        for message in field_messages:
            if field in form.fields:
                form.add_error(field, message)
            else:
                form.add_error(
                    None, message if field == "__all__" else f"{field.replace('_', ' ')}: {message}"
                )


@require_POST
def generation_create(request: AuthenticatedRequest, slug: str, project_id: str):
    """Make a job from the form. Uploads are kept as assets first, so a refusal never loses them: the form
    comes back holding their ids and the person fixes only what was wrong."""
    membership, project = get_project_for_user(request, slug, project_id, write=True)
    form = GenerationForm(request.POST, request.FILES)
    valid = form.is_valid()
    uploads, upload_errors = canvas.keep_uploads(form, membership, request.user)
    try:
        if not valid or upload_errors:
            raise ValidationError(upload_errors or {})
        inputs = {**canvas.existing_inputs(form, membership), **uploads}
        generation = services.create_generation(
            workspace=membership.workspace,
            project=project,
            user=request.user,
            recipe=form.recipe(inputs),
            remix_of=canvas.remix_source(membership, form.cleaned_data["remix_of"]),
        )
    except ValidationError as exc:
        data = request.POST.copy()
        for slot, assets in uploads.items():
            data[GenerationForm.asset_field(slot)] = ",".join(a.public_id for a in assets)
        refused = GenerationForm(data)
        refused.is_valid()
        _add_errors(refused, exc)
        return render_project(request, membership, project, form=refused)
    for warning in generation.warnings:
        messages.warning(request, warning)
    return redirect("projects:detail", slug=slug, project_id=project_id)


@quiet
@require_POST
def generation_preview(request: AuthenticatedRequest, slug: str, project_id: str):
    """What the job form would make, before anything is saved or sent: the same validation as Generate,
    answered as the form's summary (output shape, length, cost, notes, or what is still missing)."""
    from studio.providers.catalog import TASK_LABELS

    membership, project = get_project_for_user(request, slug, project_id, write=True)
    form = GenerationForm(request.POST)
    context = {
        "workspace": membership.workspace,
        "project": project,
        "usage": limits.usage(membership.workspace),
    }
    clean = None
    try:
        if not form.is_valid():
            raise ValidationError(form.errors)
        recipe = services.with_composed_prompt(form.recipe(canvas.existing_inputs(form, membership)))
        clean = services.validate_job(recipe)
    except ValidationError as exc:
        context["missing"] = list(dict.fromkeys(exc.messages))
    # The cost line is there while the job is still being written: from the settings chosen so far.
    estimate = pricing.estimate_job(clean) if clean else canvas.rough_estimate(form)
    if estimate is not None:
        context.update(estimate=estimate, over_budget=limits.over_budget(context["usage"], estimate.amount))
    if clean is not None:
        model = get_model(clean.provider, clean.model)
        followed = (
            not recipe.size
            and bool(recipe.inputs)
            and (bool(model.size_from_image) or clean.task in model.input_sized_tasks)
        )
        context.update(
            job=clean,
            model=model,
            task_label=TASK_LABELS.get(clean.task, clean.task),
            aspect=canvas.shape(clean.width, clean.height),
            follows_input=followed,
        )
    response = render(request, "generations/job_form.html#job-summary", context)
    response["Cache-Control"] = "no-store"
    return response


def _gallery_context(request, membership, project=None) -> dict:
    filter_form = canvas.prerendered(GalleryFilterForm(request.GET or None))
    filters = filter_form.filters()
    generations, next_cursor = selectors.gallery_page(
        workspace=membership.workspace, project=project, filters=filters, before=request.GET.get("before", "")
    )
    cards.attach(generations, membership.workspace)
    params = request.GET.copy()
    params.pop("before", None)
    params.pop("after", None)
    news_cursor = (
        selectors.cursor_of(generations[0])
        if generations and not request.GET.get("before")
        else f"{timezone.now().isoformat()}~0"
    )
    return {
        "membership": membership,
        "workspace": membership.workspace,
        "project": project,
        "filter_form": filter_form,
        "filters": filters,
        "generations": generations,
        "next_cursor": next_cursor,
        "news_cursor": news_cursor,
        "live_since": live.event_id(timezone.now()),  # the stream sends what changed after this page
        "query": params.urlencode(),
        "gallery_url": request.path,
        "partial": _fragment(request),
    }


def _fragment(request) -> str:
    """The gallery region an htmx request asks for, or "" for the whole page."""
    if request.htmx and request.GET.get("before"):
        return "generations/gallery.html#gallery-page"
    if request.htmx and request.htmx.target == "gallery-results":
        return "generations/gallery.html#gallery-results"
    return ""


def _gallery_response(request, template: str, context: dict, status: int = 200):
    template = context["partial"] or template
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_GET
def project_page(request: AuthenticatedRequest, slug: str, project_id: str):
    """A project: its job form and its gallery (the gallery's fragments, for htmx, at the same address)."""
    membership, project = get_project_for_user(request, slug, project_id)
    remember_workspace(request, slug)
    return render_project(request, membership, project)


def render_project(request, membership, project, *, form=None, status=200):
    context = _gallery_context(request, membership, project)
    if not context["partial"]:
        context.update(canvas.job_form_context(request, membership, project, form))
        context.update(
            {
                "form": ProjectForm(initial={"name": project.name}),
                "share_links": project.share_links.all(),
                "share_action": reverse(
                    "share_project",
                    kwargs={"slug": membership.workspace.slug, "project_id": project.public_id},
                ),
                # A refused form is shown at the page's own address, so a reload or a shared link is the
                # project page, not the form's POST address.
                "page_url": reverse(
                    "projects:detail",
                    kwargs={"slug": membership.workspace.slug, "project_id": project.public_id},
                ),
            }
        )
    return _gallery_response(request, "projects/detail.html", context, status)


@require_GET
def workspace_gallery(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug)
    return _gallery_response(
        request, "generations/workspace_gallery.html", _gallery_context(request, membership)
    )


@require_GET
def gallery_news(request: AuthenticatedRequest, slug: str):
    """Cards made since the page's newest one, added on top; one cheap query when there are none."""
    membership = get_membership(request, slug)
    project = None
    if request.GET.get("project"):
        project = Project.objects.filter(
            workspace_id=membership.workspace_id, public_id=request.GET["project"]
        ).first()
        if project is None:
            raise Http404
    filters = GalleryFilterForm(request.GET).filters()
    after = request.GET.get("after", "")
    fresh = selectors.newer_than(
        workspace=membership.workspace, project=project, filters=filters, after=after
    )
    cards.attach(fresh, membership.workspace)
    params = request.GET.copy()
    params.pop("after", None)
    params.pop("project", None)
    context = {
        "workspace": membership.workspace,
        "membership": membership,
        "project": project,
        "fresh": fresh,
        "news_cursor": selectors.cursor_of(fresh[0]) if fresh else after,
        "query": params.urlencode(),
    }
    response = render(request, "generations/gallery.html#gallery-news-reply", context)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def generation_card(request: AuthenticatedRequest, slug: str, generation_id: str):
    """One card, as the gallery shows it (its poll while the event stream is down, every 2 s per open tab).
    One query: the row, in a workspace of that slug the caller is a member of (the same 404 otherwise). No
    context processors: the card needs only the row and its workspace."""
    generation = (
        Generation.objects.select_related("prompt", "workspace")
        .defer(*selectors.CARD_UNUSED)
        .filter(
            workspace__slug=slug,
            workspace__memberships__user_id=request.user.pk,
            public_id=generation_id[:22],
        )
        .first()
    )
    if generation is None:
        raise Http404("No such generation.")
    response = HttpResponse(cards.card(generation, generation.workspace))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def generation_detail(request: AuthenticatedRequest, slug: str, generation_id: str):
    membership = get_membership(request, slug)
    generation = get_generation_for_user(request, slug, generation_id)
    inputs = generation.input_links.select_related("asset")
    from studio.providers.catalog import TASK_LABELS

    context = {
        "membership": membership,
        "workspace": membership.workspace,
        "g": generation,
        "task_label": TASK_LABELS.get(generation.task, generation.task),
        "can_mask_edit": "video_edit" in canvas.tasks_of(generation),
        "inputs": inputs,
        "share_links": generation.share_links.all(),
        "rating": generation.ratings.filter(user=request.user).first(),
        "share_action": reverse("generations:share", kwargs={"slug": slug, "generation_id": generation_id}),
    }
    return render(request, "generations/detail.html", context)


@require_POST
def generation_cancel(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id, write=True)
    if services.cancel_generation(generation=generation):
        messages.success(request, "Canceled.")
    else:
        messages.error(request, "This job can't be canceled any more.")
    return redirect("generations:detail", slug=slug, generation_id=generation_id)


@require_POST
def generation_retry(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id, write=True)
    try:
        if generation.status == Generation.Status.SUBMIT_UNKNOWN and request.POST.get("check"):
            services.check_again(generation=generation, user=request.user)
            messages.success(request, "Asking the provider about this job again.")
            return redirect("generations:detail", slug=slug, generation_id=generation_id)
        if generation.status == Generation.Status.SUBMIT_UNKNOWN:
            new = services.submit_again(generation=generation, user=request.user)
        else:
            new = services.retry_generation(
                generation=generation, user=request.user, reuse_seed=request.POST.get("seed") == "result"
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("generations:detail", slug=slug, generation_id=generation_id)
    messages.success(request, "Queued again with the same recipe.")
    return redirect("generations:detail", slug=slug, generation_id=new.public_id)


@require_POST
def generation_delete(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id, write=True)
    project_id = generation.project.public_id
    try:
        services.delete_generation(generation=generation, user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("generations:detail", slug=slug, generation_id=generation_id)
    messages.success(request, "Deleted.")
    return redirect("projects:detail", slug=slug, project_id=project_id)


@require_POST
def generation_rate(request: AuthenticatedRequest, slug: str, generation_id: str):
    """Any member may mark a video for themselves (viewers included: it changes nothing shared)."""
    generation = get_generation_for_user(request, slug, generation_id)
    favorite = {"1": True, "0": False}.get(request.POST.get("favorite", ""))
    stars = request.POST.get("stars", "")
    try:
        rating = services.rate_generation(
            generation=generation,
            user=request.user,
            favorite=favorite,
            stars=whole_number(stars, low=0, high=99),
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("generations:detail", slug=slug, generation_id=generation_id)
    if request.htmx:
        return render(
            request,
            "generations/detail.html#rating",
            {"g": generation, "rating": rating, "workspace": generation.workspace},
        )
    return redirect("generations:detail", slug=slug, generation_id=generation_id)


@require_GET
def compare(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug)
    ids = [i for i in request.GET.get("ids", "").split(",") if i][:4]
    found = {
        g.public_id: g
        for g in Generation.objects.filter(
            workspace_id=membership.workspace_id, public_id__in=ids, status=Generation.Status.SUCCEEDED
        ).select_related("prompt")
    }
    generations = [found[i] for i in ids if i in found]
    return render(
        request,
        "generations/compare.html",
        {"membership": membership, "workspace": membership.workspace, "generations": generations},
    )


@require_GET
def ops(request: AuthenticatedRequest, slug: str):
    membership = get_membership(request, slug, owner=True)
    return _ops_page(request, membership, LimitsForm(instance=membership.workspace))


def _ops_page(request, membership, limits_form, status=200):
    workspace = membership.workspace
    context = {
        "membership": membership,
        "workspace": workspace,
        "usage": limits.usage(workspace),
        "limits_form": limits_form,
        "prices": pricing.price_list(),
        "price_factors": pricing.factor_notes(),
        **selectors.ops_overview(workspace=workspace),
    }
    return render(request, "generations/ops.html", context, status=status)


@require_POST
def ops_limits(request: AuthenticatedRequest, slug: str):
    """An owner sets the workspace's budget and its cap on jobs in flight."""
    membership = get_membership(request, slug, owner=True)
    form = LimitsForm(request.POST, instance=Workspace.objects.get(pk=membership.workspace_id))
    if not form.is_valid():
        return _ops_page(request, membership, form, status=400)
    form.save()
    messages.success(request, "Limits saved. They apply to the next job anyone starts.")
    return redirect("ops", slug=slug)


@require_POST
def generation_nudge(request: AuthenticatedRequest, slug: str, generation_id: str):
    """An owner asks for a job to be looked at now: its lease is dropped and it is due at once."""
    get_membership(request, slug, owner=True)
    generation = get_generation_for_user(request, slug, generation_id)
    if services.nudge_generation(generation=generation):
        messages.success(request, "The worker will look at it on its next tick.")
    else:
        messages.error(request, "That job is not waiting on anything the worker can redo.")
    return redirect("ops", slug=slug)
