"""The prompt builder's pages: a standalone builder, the template list (live search), and the small
endpoints the builder calls (save as template, load a template's parts, delete)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from studio.http import AuthenticatedRequest
from studio.inputs import whole_number
from studio.prompts import selectors, services
from studio.prompts.builder import (
    builder_context,
    model_choices,
    parts_from_post,
    placeholders,
    template_choices,
)
from studio.prompts.models import PART_NAMES, PromptTemplate, compose
from studio.providers import catalog
from studio.workspaces.access import get_membership

DEFAULT_MODEL = "local:preview-t2v"


def _template_or_404(workspace, template_id: int, *, own_only: bool = False) -> PromptTemplate:
    try:
        return selectors.get_template(workspace, template_id, own_only=own_only)
    except PromptTemplate.DoesNotExist:
        raise Http404("No such template.") from None


@require_GET
def builder_page(request: AuthenticatedRequest, slug: str):
    """The builder on its own page, in a form with a model select (``?template=<id>`` starts from one)."""
    membership = get_membership(request, slug)
    workspace = membership.workspace
    parts, negative, loaded = {}, "", None
    template_id = whole_number(request.GET.get("template"), low=1)
    if template_id:
        loaded = _template_or_404(workspace, template_id)
        parts, negative = loaded.parts, loaded.negative
    model = request.GET.get("model", DEFAULT_MODEL)
    provider, _, model_id = model.partition(":")
    try:
        catalog.get_model(provider, model_id)
    except catalog.CatalogError:
        model = DEFAULT_MODEL
    context = {
        "membership": membership,
        "workspace": workspace,
        "builder": builder_context(membership, parts=parts, negative=negative),
        "model_choices": model_choices(),
        "model": model,
        "loaded": loaded,
    }
    return render(request, "prompts/builder_demo.html", context)


@require_GET
def templates_list(request: AuthenticatedRequest, slug: str):
    """Built-in and workspace templates with a search box; htmx asks for the ``#template-list`` part only."""
    membership = get_membership(request, slug)
    q = request.GET.get("q", "").strip()[:100]
    templates = list(selectors.templates_for_workspace(membership.workspace, q))
    for t in templates:
        t.text = compose(t.parts)
        t.blanks = placeholders(t.text)
    context = {"membership": membership, "workspace": membership.workspace, "templates": templates, "q": q}
    if request.htmx and request.htmx.target == "template-list":
        return render(request, "prompts/templates_list.html#template-list", context)
    return render(request, "prompts/templates_list.html", context)


@require_POST
def template_save(request: AuthenticatedRequest, slug: str):
    """Save the builder's current parts as a workspace template (editors and owners)."""
    membership = get_membership(request, slug, write=True)
    workspace = membership.workspace
    post = request.POST
    try:
        template = services.save_template(
            workspace=workspace,
            user=request.user,
            name=post.get("template_name", post.get("name", "")),
            description=post.get("template_description", post.get("description", "")),
            parts=parts_from_post(post),
            negative=post.get("negative", ""),
        )
    except ValidationError as exc:
        errors = [m for msgs in exc.message_dict.values() for m in msgs]
        if request.htmx:
            return render(request, "prompts/builder.html#save-result", {"errors": errors})
        for e in errors:
            messages.error(request, e)
        return redirect("prompts:templates", slug=slug)
    if request.htmx:
        context = {
            "saved": template,
            "builder": {
                "templates": template_choices(workspace),
                "templates_url": reverse("prompts:templates", kwargs={"slug": slug}),
            },
            "oob": True,
        }
        return render(request, "prompts/builder.html#save-result", context)
    messages.success(request, f"Saved the template “{template.name}”.")
    return redirect("prompts:templates", slug=slug)


@require_GET
def template_parts(request: AuthenticatedRequest, slug: str, template_id: int):
    """One template as JSON for the builder to load: every part (empty ones as ""), the negative prompt."""
    membership = get_membership(request, slug)
    template = _template_or_404(membership.workspace, template_id)
    parts = {name: str(template.parts.get(name, "") or "") for name in PART_NAMES}
    text = compose(parts)
    return JsonResponse(
        {
            "id": template.pk,
            "name": template.name,
            "description": template.description,
            "builtin": template.workspace_id is None,
            "parts": parts,
            "negative": template.negative,
            "text": text,
            "blanks": placeholders(text),
        }
    )


@require_POST
def template_delete(request: AuthenticatedRequest, slug: str, template_id: int):
    """Delete one of the workspace's own templates (built-ins are not the workspace's: 404)."""
    membership = get_membership(request, slug, write=True)
    template = _template_or_404(membership.workspace, template_id, own_only=True)
    name = template.name
    services.delete_template(template=template)
    if request.htmx:
        return HttpResponse("")  # the row swaps itself out
    messages.success(request, f"Deleted the template “{name}”.")
    q = request.POST.get("q", "").strip()
    url = reverse("prompts:templates", kwargs={"slug": slug})
    return redirect(f"{url}?{urlencode({'q': q})}" if q else url)
