from django.http import Http404
from django.views.decorators.http import require_GET

from studio.assets.serving import serve_file
from studio.http import AuthenticatedRequest
from studio.storyboards.selectors import get_export_for_user


@require_GET
def export_file(request: AuthenticatedRequest, slug: str, export_id: str):
    """The stitched film, for members of its workspace (Range honoured, so the player can seek)."""
    export = get_export_for_user(request, slug, export_id)
    if not export.file:
        raise Http404("This export has no film yet.")
    return serve_file(request, export.file, content_type="video/mp4", download_name=export.download_name())
