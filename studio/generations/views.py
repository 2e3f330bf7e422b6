import re

from django.http import Http404
from django.views.decorators.http import require_GET

from studio.assets.serving import serve_file
from studio.generations.models import Generation
from studio.http import AuthenticatedRequest
from studio.workspaces.access import get_membership


def get_generation_for_user(request, slug: str, public_id: str, *, write: bool = False) -> Generation:
    membership = get_membership(request, slug, write=write)
    generation = (
        Generation.objects.select_related("prompt", "project", "workspace")
        .filter(workspace_id=membership.workspace_id, public_id=public_id)
        .first()
    )
    if generation is None:
        raise Http404("No such generation.")
    return generation


def download_name(generation: Generation, ext: str) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "-", generation.prompt.text[:40]).strip("-").lower() or "video"
    return f"{generation.project.name[:30]}-{words}-{generation.public_id[:6]}.{ext}".replace(" ", "-")


@require_GET
def generation_video(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id)
    if not generation.video:
        raise Http404("This generation has no video yet.")
    return serve_file(
        request, generation.video, content_type="video/mp4", download_name=download_name(generation, "mp4")
    )


@require_GET
def generation_poster(request: AuthenticatedRequest, slug: str, generation_id: str):
    generation = get_generation_for_user(request, slug, generation_id)
    if not generation.poster:
        raise Http404("This generation has no poster yet.")
    return serve_file(request, generation.poster, content_type="image/jpeg")
