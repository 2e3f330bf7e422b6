"""Public share pages. The token is the only key: these views never look at the session user."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from studio.assets.serving import serve_file
from studio.generations.models import Generation
from studio.http import AuthenticatedRequest
from studio.sharing import services
from studio.sharing.models import ShareLink
from studio.workspaces.access import get_generation_for_user, get_membership, get_project_for_user


def _private(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    response["Cache-Control"] = "private, no-store"
    return response


def _link_or_404(token: str) -> ShareLink:
    link = services.active_link(token)
    if link is None:
        raise Http404("This link does not work: it may have been revoked or have expired.")
    return link


def _shared_generations(link: ShareLink):
    if link.scope == ShareLink.Scope.EXPORT:
        return Generation.objects.none()
    if link.scope == ShareLink.Scope.GENERATION:
        return Generation.objects.filter(pk=link.generation_id, status=Generation.Status.SUCCEEDED)
    return (
        Generation.objects.filter(project_id=link.project_id, status=Generation.Status.SUCCEEDED)
        .select_related("prompt")
        .order_by("-created_at")
    )


@login_not_required
@require_GET
def shared_page(request, token: str):
    link = _link_or_404(token)
    services.count_view(link)
    generations = list(_shared_generations(link)[:60])
    return _private(render(request, "sharing/public.html", {"link": link, "generations": generations}))


@login_not_required
@require_GET
def shared_media(request, token: str, generation_id: str, kind: str):
    if kind not in ("mp4", "jpg"):
        raise Http404
    link = _link_or_404(token)
    if link.scope == ShareLink.Scope.EXPORT:  # a storyboard's film: its own id, the video only
        export = link.export
        if kind != "mp4" or generation_id != export.public_id or not export.file:
            raise Http404
        name = export.download_name() if link.include_recipe else f"studio-{export.public_id}.mp4"
        return _private(serve_file(request, export.file, content_type="video/mp4", download_name=name))
    generation = (
        _shared_generations(link).filter(public_id=generation_id).select_related("prompt", "project").first()
    )
    if generation is None:
        raise Http404
    if kind == "mp4":
        response = serve_file(
            request,
            generation.video,
            content_type="video/mp4",
            # The file name tells the prompt and the project only where the sharer chose to show them.
            download_name=generation.download_name("mp4")
            if link.include_recipe
            else f"studio-{generation.public_id}.mp4",
        )
    else:
        response = serve_file(request, generation.poster, content_type="image/jpeg")
    return _private(response)


@require_POST
def share_generation(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id, write=True)
    try:
        services.create_share_link(
            workspace=generation.workspace,
            user=request.user,
            generation=generation,
            include_recipe=request.POST.get("include_recipe") == "on",
            expires_in=request.POST.get("expires_in", ""),
        )
        messages.success(
            request, "Share link created. Anyone with it can watch this video until you revoke it."
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("generations:detail", slug=slug, generation_id=generation_id)


@require_POST
def share_project(request: AuthenticatedRequest, slug: str, project_id: str):
    membership, project = get_project_for_user(request, slug, project_id, write=True)
    try:
        services.create_share_link(
            workspace=membership.workspace,
            user=request.user,
            project=project,
            include_recipe=request.POST.get("include_recipe") == "on",
            expires_in=request.POST.get("expires_in", ""),
        )
        messages.success(request, "Share link created for the project's finished videos.")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("projects:detail", slug=slug, project_id=project_id)


@require_POST
def share_revoke(request: AuthenticatedRequest, slug: str, link_id: int):
    membership = get_membership(request, slug, write=True)
    link = get_object_or_404(ShareLink, pk=link_id, workspace_id=membership.workspace_id)
    services.revoke_share_link(link=link, user=request.user)
    messages.success(request, "Link revoked: it stopped working just now.")
    return redirect(
        request.POST.get("next") if (request.POST.get("next") or "").startswith("/w/") else "home"
    )
