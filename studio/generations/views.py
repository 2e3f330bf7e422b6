from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from studio.assets.services import SLOT_KINDS, create_asset
from studio.assets.serving import serve_file
from studio.generations import cards, limits, live, selectors, services
from studio.generations.filters import GalleryFilterForm
from studio.generations.forms import GenerationForm, LimitsForm, job_catalog
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.http import AuthenticatedRequest
from studio.inputs import whole_number
from studio.logs import quiet
from studio.projects.forms import ProjectForm
from studio.projects.models import Project
from studio.providers import pricing
from studio.providers.catalog import CatalogError, get_model
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
    uploads, upload_errors = _keep_uploads(form, membership, request.user)
    try:
        if not valid or upload_errors:
            raise ValidationError(upload_errors or {})
        inputs = {**_existing_inputs(form, membership), **uploads}
        generation = services.create_generation(
            workspace=membership.workspace,
            project=project,
            user=request.user,
            recipe=form.recipe(inputs),
            remix_of=_remix_source(membership, form.cleaned_data["remix_of"]),
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
        recipe = services.with_composed_prompt(form.recipe(_existing_inputs(form, membership)))
        clean = services.validate_job(recipe)
    except ValidationError as exc:
        context["missing"] = list(dict.fromkeys(exc.messages))
    # The cost line is there while the job is still being written: from the settings chosen so far.
    estimate = pricing.estimate_job(clean) if clean else _rough_estimate(form)
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
            aspect=_shape(clean.width, clean.height),
            follows_input=followed,
        )
    response = render(request, "generations/job_form.html#job-summary", context)
    response["Cache-Control"] = "no-store"
    return response


def _rough_estimate(form) -> pricing.Estimate | None:
    """The estimate of a job that does not validate yet, from the fields that do (None without a model)."""
    data = getattr(form, "cleaned_data", {})
    if not data.get("model"):
        return None
    provider, model_id = form.provider_model()
    try:
        model = get_model(provider, model_id)
    except CatalogError:
        return None
    task = data.get("task") or (model.tasks[0] if len(model.tasks) == 1 else None)
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    return pricing.estimate_for(
        provider,
        model_id,
        task=task,
        duration=data.get("duration") if data.get("duration") in model.durations else None,
        resolution=data.get("resolution") if data.get("resolution") in model.resolutions else None,
        size=data.get("size") or None,
        params=params,
    )


def _shape(width: int | None, height: int | None) -> str:
    """A video's shape in a creator's words: "16:9", or "about 16:9" for 832x480."""
    from studio.providers.catalog import ASPECT_TOLERANCE, closest_aspect

    if not (width and height):
        return ""
    label, error = closest_aspect(width, height)
    return label if error <= ASPECT_TOLERANCE else f"about {label}"


def _keep_uploads(form, membership, user) -> tuple[dict, dict]:
    """Store every acceptable uploaded file as an asset at once; return (slot -> assets, slot -> errors)."""
    uploads: dict[str, list] = {}
    errors: dict[str, list[str]] = {}
    for slot in GenerationForm.UPLOAD_SLOTS:
        files = request_files(form, slot)
        kept = []
        for f in files:
            try:
                kept.append(
                    create_asset(workspace=membership.workspace, user=user, source=f, expect=SLOT_KINDS[slot])
                )
            except ValidationError as exc:
                errors.setdefault(slot, []).extend(exc.messages)
        if kept:
            uploads[slot] = kept
    return uploads, errors


def request_files(form, slot: str) -> list:
    return [f for f in form.files.getlist(slot) if f] if form.files else []


def _existing_inputs(form, membership) -> dict:
    """Inputs named by public id (kept uploads, the mask page's video and mask), looked up in this workspace."""
    from studio.assets.models import Asset

    found = {}
    for slot, public_ids in form.kept_assets().items():
        assets = {
            a.public_id: a
            for a in Asset.objects.filter(
                workspace_id=membership.workspace_id, public_id__in=public_ids, kind=SLOT_KINDS[slot]
            )
        }
        if len(assets) != len(set(public_ids)):
            raise ValidationError(
                {"__all__": [f"A {slot.replace('_', ' ')} you chose is no longer in this workspace."]}
            )
        found[slot] = [assets[i] for i in public_ids]
    return found


_widget_html: dict[str, str] = {}
_WIDGET_MEMO_MAX = 2000


def prerendered(form):
    """An unbound form whose fields print from a per-process memo of their widget HTML.

    A widget's markup is a pure function of what goes into it: its class and attributes, its choices, the
    field's value, id, name, help text and flags. The memo's key is all of that, so a changed choice or
    initial value is simply another entry; a bound form (a refused try, a filter chosen) is left alone.
    Rendering the job form's 25 widgets through Django's templates is about a fifth of the project page."""
    if form.is_bound:
        return form
    for name in form.fields:
        bf = form[name]
        field, widget = bf.field, bf.field.widget
        key = repr(
            (
                type(form).__module__,
                type(form).__qualname__,
                name,
                type(widget).__module__,
                type(widget).__qualname__,
                widget.attrs,
                list(getattr(widget, "choices", ()) or ()),
                bf.value(),
                bf.auto_id,
                bf.html_name,
                field.required,
                field.disabled,
                field.localize,
                str(field.help_text),
                form.use_required_attribute,
                form.empty_permitted,
                getattr(widget, "template_name", ""),
            )
        )
        bf.as_widget = _memo_widget(bf, bf.as_widget, key)
    return form


def _memo_widget(bf, real, key):
    def as_widget(widget=None, attrs=None, only_initial=False):
        if widget is not None or attrs or only_initial:
            return real(widget, attrs, only_initial)
        html = _widget_html.get(key)
        if html is None:
            html = real()
            if len(_widget_html) < _WIDGET_MEMO_MAX:
                _widget_html[key] = html
        return html

    return as_widget


def _gallery_context(request, membership, project=None) -> dict:
    filter_form = prerendered(GalleryFilterForm(request.GET or None))
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


def _remix_source(membership, public_id: str) -> Generation | None:
    """The generation of this workspace being remixed, if any (an unknown id is simply no remix)."""
    if not public_id:
        return None
    return (
        Generation.objects.select_related("prompt")
        .filter(workspace_id=membership.workspace_id, public_id=public_id[:22])
        .first()
    )


def _tasks_of(generation: Generation) -> tuple[str, ...]:
    """The tasks of the model a generation ran on (none for a model the catalog no longer has)."""
    try:
        return get_model(generation.provider, generation.model).tasks
    except CatalogError:
        return ()


def _remix_initial(source: Generation | None) -> dict:
    """The form's starting values when remixing: the whole recipe, inputs included."""
    if source is None:
        return {}
    return {**GenerationForm.initial_from(Recipe.of(source)), "remix_of": source.public_id}


def _input_fields(form, membership) -> list[dict]:
    """Each upload slot of the job form with the assets it already holds (kept from a refused try, picked
    on upload, or carried by a remix), so every field shows its own files."""
    from studio.assets.models import Asset

    ids = {
        slot: [i for i in str(form[GenerationForm.asset_field(slot)].value() or "").split(",") if i]
        for slot in GenerationForm.UPLOAD_SLOTS
    }
    wanted = {i for found in ids.values() for i in found}
    assets = (
        {
            a.public_id: a
            for a in Asset.objects.filter(workspace_id=membership.workspace_id, public_id__in=wanted)
        }
        if wanted
        else {}
    )
    return [
        {
            "name": slot,
            "field": form[slot],
            "asset_field": form[GenerationForm.asset_field(slot)],
            "kept": [assets[i] for i in ids[slot] if i in assets],
            "kind": SLOT_KINDS[slot],
        }
        for slot in GenerationForm.UPLOAD_SLOTS
    ]


def _builder(membership, form):
    """The prompt builder's state: what was last submitted, or a remix's recipe, or empty."""
    from studio.prompts.builder import builder_context, parts_from_post

    if form.is_bound:
        return builder_context(
            membership,
            parts=parts_from_post(form.data),
            prompt=form.data.get("prompt", ""),
            negative=form.data.get("negative", ""),
            errors=form.errors,
            limits=False,
        )
    return builder_context(
        membership,
        parts=form.initial.get("parts"),
        prompt=form.initial.get("prompt", ""),
        negative=form.initial.get("negative", ""),
        limits=False,
    )


_catalog_scripts: dict[tuple, str] = {}


def job_catalog_script() -> str:
    """The job form's catalog as its <script> tag, built once per process: it is static per deploy (the
    catalog and the public address it depends on), and building and encoding it cost each page ~1 ms."""
    from django.conf import settings
    from django.utils.html import json_script

    from studio.providers.catalog.vendors import models_by_provider

    key = (id(models_by_provider()), settings.STUDIO_PUBLIC_BASE_URL)
    script = _catalog_scripts.get(key)
    if script is None:
        script = _catalog_scripts[key] = json_script(job_catalog(), "job-catalog")
    return script


def job_form_context(request, membership, project, form=None) -> dict:
    """What the job form needs: the form (fresh, a remix's recipe, or a refused try), its inputs and the
    builder. Only the full project page builds it; the gallery's fragments never do."""
    remix = None
    if form is None:
        remix = _remix_source(membership, request.GET.get("remix", ""))
        initial = _remix_initial(remix)
        if remix is not None:
            initial["parts"] = remix.prompt.parts
            # "Edit inside a mask" from a video's page: the same recipe, another function of the model.
            task = request.GET.get("task", "")
            if task and task in _tasks_of(remix):
                initial["task"] = task
        form = GenerationForm(initial=initial)
    elif form.is_bound:
        remix = _remix_source(membership, form.data.get("remix_of", ""))
    prerendered(form)
    inputs = _input_fields(form, membership)
    return {
        "generation_form": form,
        "remix": remix,
        "input_fields": inputs,
        "kept_image": next((f["kept"][0] for f in inputs if f["name"] == "image" and f["kept"]), None),
        "kept_image_as_is": form["image_as_is"].value() == "1",
        "builder": _builder(membership, form),
        "job_catalog_script": job_catalog_script(),
        "usage": limits.usage(membership.workspace),  # fresh each page: the budget line says it
    }


@require_GET
def project_page(request: AuthenticatedRequest, slug: str, project_id: str):
    """A project: its job form and its gallery (the gallery's fragments, for htmx, at the same address)."""
    membership, project = get_project_for_user(request, slug, project_id)
    remember_workspace(request, slug)
    return render_project(request, membership, project)


def render_project(request, membership, project, *, form=None, status=200):
    context = _gallery_context(request, membership, project)
    if not context["partial"]:
        context.update(job_form_context(request, membership, project, form))
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
        "can_mask_edit": "video_edit" in _tasks_of(generation),
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
