from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.views.decorators.http import require_GET

from studio.assets.models import Asset
from studio.assets.serving import serve_file
from studio.assets.signing import read_token
from studio.http import AuthenticatedRequest
from studio.workspaces.access import get_membership


@require_GET
def asset_file(request: AuthenticatedRequest, slug: str, asset_id: str):
    membership = get_membership(request, slug)
    asset = Asset.objects.filter(workspace_id=membership.workspace_id, public_id=asset_id).first()
    if asset is None:
        raise Http404
    return serve_file(request, asset.file, content_type=asset.content_type, download_name=asset.original_name)


@login_not_required
@require_GET
def public_asset(request, token: str, name: str):
    """The one door for a vendor fetching an input: a signed, expiring token, nothing else."""
    public_id = read_token(token)
    asset = Asset.objects.filter(public_id=public_id).first() if public_id else None
    if asset is None or not name.startswith(asset.public_id):
        raise Http404
    return serve_file(request, asset.file, content_type=asset.content_type)
