from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent, ValidationError
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.assets.models import Asset, describe_asset
from studio.assets.services import ABSOLUTE_MAX, ARTICLE, MAX_BYTES, SLOT_KINDS, create_asset
from studio.assets.serving import serve_file
from studio.assets.signing import read_token
from studio.assets.uploads import SLACK, accepts_upload, refusal_of
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


def asset_summary(asset: Asset, slug: str) -> dict:
    """What a form shows for a kept input file (the same words the job form's fields render)."""
    return {
        "asset_id": asset.public_id,
        "kind": asset.kind,
        "name": asset.original_name or asset.public_id,
        "url": reverse("asset_file", kwargs={"slug": slug, "asset_id": asset.public_id}),
        "width": asset.width,
        "height": asset.height,
        "duration": asset.duration,
        "fps": asset.fps,
        "frames": asset.frames,
        "has_audio": asset.has_audio,
        "description": describe_asset(asset),
        "painter_url": reverse("masks:painter", kwargs={"slug": slug, "asset_id": asset.public_id})
        if asset.kind == Asset.Kind.VIDEO
        else "",
    }


def _limits_words() -> str:
    """ "videos may be up to 100 MB, images 20 MB and audio 15 MB" """
    mb = {kind: limit // (1024 * 1024) for kind, limit in MAX_BYTES.items()}
    return f"videos may be up to {mb['video']} MB, images {mb['image']} MB and audio {mb['audio']} MB"


@accepts_upload(ABSOLUTE_MAX + SLACK)
@require_POST
def asset_upload(request: AuthenticatedRequest, slug: str):
    """POST ``file`` and ``slot`` (a job form's input slot): keep the file as an Asset of that slot's kind,
    answered as JSON (``asset_summary``), or ``{"error"}`` with status 400 in the person's words (413 for a
    body larger than any file may be, refused before it is read). The job
    form keeps every input this way as soon as it is picked, so a refusal never loses it."""
    membership = get_membership(request, slug, write=True)
    try:
        refused = refusal_of(request)
    except (RequestDataTooBig, TooManyFilesSent, MultiPartParserError, SuspiciousOperation):
        refused = None  # answered below, as a file that could not be read
    if refused:
        return JsonResponse({"error": refused.words(_limits_words())}, status=413)
    slot = request.POST.get("slot", "")
    if slot not in SLOT_KINDS:
        return JsonResponse({"error": "This file has no place in the form."}, status=400)
    kind = SLOT_KINDS[slot]
    try:
        files = request.FILES.getlist("file")
    except (RequestDataTooBig, TooManyFilesSent, MultiPartParserError, SuspiciousOperation):
        files = []
    if len(files) != 1:
        return JsonResponse({"error": f"Send {ARTICLE[kind]}, one file at a time."}, status=400)
    try:
        asset = create_asset(workspace=membership.workspace, user=request.user, source=files[0], expect=kind)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    data = asset_summary(asset, slug)
    if getattr(asset, "flattened_from", ""):  # no vendor takes an animation: its first frame was kept
        data["description"] = (
            f"{data['description']} · the first frame of an animated {asset.flattened_from}, kept as a still"
        )
    return JsonResponse(data)
