"""The mask painter's server side: frames of a video to paint on, and saving the painted mask.

Frames are numbered the vendor's way: 1-based, frame N is the picture shown at (N - 1) / fps seconds
(DashScope VACE's ``mask_frame_id``). A mask is saved as an image Asset: a PNG in L mode
holding only 0 (black, keep) and 255 (white, edit), at exactly the video's resolution, as VACE asks.

``mask_save`` answers JSON: ``{"asset_id", "width", "height", "frame", "white_pixels", "name", "url"}``
on success, ``{"error": "..."}`` with status 400 when the mask cannot be used (413 for a body over 10 MB,
refused before it is read). Videos above 1080p (kept before such uploads were refused) get neither frames
nor masks. Access is the workspace's: outsiders get 404, viewers 403 (the usual error pages, not JSON).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings

import av
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.base import ContentFile
from django.http import Http404, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe
from PIL import Image, UnidentifiedImageError

from studio.assets import probe  # noqa: F401 - sets Image.MAX_IMAGE_PIXELS before any decoding here
from studio.assets.models import Asset
from studio.assets.services import MAX_VIDEO_SIZE, create_asset
from studio.assets.uploads import SLACK, accepts_upload, refusal_of
from studio.http import AuthenticatedRequest
from studio.workspaces.access import get_membership

THRESHOLD = 128  # grey >= 128 is white (edit), below is black (keep)
MASK_FORMATS = {"PNG", "WEBP", "BMP", "JPEG"}
MAX_MASK_BYTES = 10 * 1024 * 1024  # VACE's limit for a mask image
# FFmpeg's frame threads each hold frames of their own, so their number (left to FFmpeg, one per core and
# more) would set the memory a decode takes; two keep a 1080p frame well under 128 MB, and near full speed.
DECODE_THREADS = 2
DATA_URL_RE = re.compile(r"^data:image/(?:png|webp|bmp|jpeg);base64,", re.IGNORECASE)


class MaskError(Exception):
    """The message is for the person painting."""


def _video(membership, asset_id: str) -> Asset:
    asset = Asset.objects.filter(
        workspace_id=membership.workspace_id, public_id=asset_id, kind=Asset.Kind.VIDEO
    ).first()
    if asset is None:
        raise Http404("No such video in this workspace.")
    return asset


def frame_count(asset: Asset) -> int:
    """How many frames the painter offers (what the probe measured on upload)."""
    if asset.frames:
        return int(asset.frames)
    if asset.duration and asset.fps:
        return max(1, round(asset.duration * asset.fps))
    return 0


def too_large(asset: Asset) -> str | None:
    """Why the painter cannot show this video (one kept before larger ones were refused), or None."""
    long_side, short_side = MAX_VIDEO_SIZE
    w, h = asset.width or 0, asset.height or 0
    if max(w, h) <= long_side and min(w, h) <= short_side:
        return None
    return (
        f"This video is {w}x{h}; the painter shows videos up to {long_side}x{short_side} ({short_side}p). "
        "Upload a smaller copy."
    )


def _open_video(asset: Asset):
    try:
        return av.open(asset.file.path)
    except NotImplementedError:  # remote storage: PyAV reads (and seeks) the file object
        return av.open(asset.file.open("rb"))


def _pick(container, stream, target: int, half: int):
    chosen = None
    for decoded in container.decode(stream):
        if decoded.pts is None:
            continue
        if decoded.pts > target + half:
            break
        chosen = decoded
        if decoded.pts >= target - half:
            break
    return chosen


def decode_frame(asset: Asset, frame: int) -> Image.Image | None:
    """Frame ``frame`` (1-based) as an RGB image at the video's own size, or None past the end.

    Videos above 1080p are refused (MaskError) before they are opened: no decoder option makes an 8K frame
    cheap (FFmpeg takes over 500 MB for one, whatever its threads).
    """
    refusal = too_large(asset)
    if refusal:
        raise MaskError(refusal)
    fps = asset.fps or 0
    with _open_video(asset) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.thread_count = DECODE_THREADS
        rate = fps or float(stream.average_rate or stream.guessed_rate or 0)
        if not rate or not stream.time_base:
            raise MaskError("This video does not say its frame rate, so its frames cannot be numbered.")
        tb = float(stream.time_base)
        start = stream.start_time or 0
        target = start + round((frame - 1) / rate / tb)
        half = max(1, int(0.5 / rate / tb))
        chosen = None
        if frame > 1:
            # Seek to the key frame at or before the wanted one, then decode forward to it.
            container.seek(target, stream=stream, backward=True, any_frame=False)
            chosen = _pick(container, stream, target, half)
        if chosen is None:  # frame 1, or the seek overshot: decode from the start
            container.seek(start, stream=stream, backward=True, any_frame=False)
            chosen = _pick(container, stream, target, half)
        if chosen is None or chosen.pts < target - half:
            return None
        return chosen.to_image()


@require_safe
def video_frame(request: AuthenticatedRequest, slug: str, asset_id: str, frame: int):
    """GET: a JPEG of frame ``frame`` (1-based) of a video Asset, at the video's exact size."""
    membership = get_membership(request, slug)
    asset = _video(membership, asset_id)
    total = frame_count(asset)
    if not 1 <= frame <= total:
        return HttpResponseNotFound(
            f"This video has {total} frames, numbered 1 to {total}; there is no frame {frame}.",
            content_type="text/plain; charset=utf-8",
        )
    etag = f'"{asset.sha256[:20]}-{frame}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        try:
            image = decode_frame(asset, frame)
        except (MaskError, av.FFmpegError, OSError) as exc:
            return HttpResponseNotFound(
                str(exc) if isinstance(exc, MaskError) else "This video could not be decoded.",
                content_type="text/plain; charset=utf-8",
            )
        if image is None:
            return HttpResponseNotFound(
                f"The video ends before frame {frame}.", content_type="text/plain; charset=utf-8"
            )
        if asset.width and asset.height and image.size != (asset.width, asset.height):
            image = image.resize((asset.width, asset.height))
        buffer = io.BytesIO()
        (image if image.mode == "RGB" else image.convert("RGB")).save(buffer, "JPEG", quality=90)
        response = HttpResponse(buffer.getvalue(), content_type="image/jpeg")
        response["Content-Length"] = str(len(buffer.getvalue()))
        response["X-Content-Type-Options"] = "nosniff"
    # An asset's file never changes, so neither do its frames: cache hard, but only in this browser.
    response["Cache-Control"] = "private, max-age=86400, immutable"
    response["ETag"] = etag
    return response


def _mask_bytes(request) -> bytes:
    upload = request.FILES.get("mask")
    if upload is not None:
        if upload.size > MAX_MASK_BYTES:
            raise MaskError(f"The mask is {upload.size / 1e6:.1f} MB; a mask may be up to 10 MB.")
        return upload.read()
    data_url = request.POST.get("mask", "").strip()
    if not data_url:
        raise MaskError("No mask was sent: paint the area to change, then press “Use this mask”.")
    if not DATA_URL_RE.match(data_url):
        raise MaskError("The mask is not an image (send a PNG file or a data:image/png;base64 URL).")
    try:
        return base64.b64decode(data_url.partition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        raise MaskError("The mask's data URL is damaged (its base64 does not decode).") from None


def binarise(raw: bytes, size: tuple[int, int]) -> Image.Image:
    """Decode ``raw``, check it is ``size``, and return a pure black/white L image (white = edit).

    Transparent pixels count as black: a canvas leaves whatever was never painted transparent.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as im:
                if im.format not in MASK_FORMATS:
                    raise MaskError("The mask is not an image we can read; send a PNG.")
                if im.size != size:
                    raise MaskError(
                        f"The mask is {im.size[0]}x{im.size[1]} but the video is {size[0]}x{size[1]}; "
                        "a mask must have exactly the video's size."
                    )
                im.load()
                if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                    rgba = im.convert("RGBA")
                    flat = Image.new("RGBA", im.size, (0, 0, 0, 255))
                    flat.alpha_composite(rgba)
                    grey = flat.convert("L")
                else:
                    grey = im.convert("L")
    except MaskError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise MaskError("The mask has far too many pixels to handle.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise MaskError("The mask is not an image we can read (or it is damaged); send a PNG.") from None
    return grey.point(lambda v: 255 if v >= THRESHOLD else 0)


def white_pixels(mask: Image.Image) -> int:
    return mask.histogram()[255]


def _error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@accepts_upload(MAX_MASK_BYTES + SLACK)
@require_POST
def mask_save(request: AuthenticatedRequest, slug: str, asset_id: str):
    """POST ``mask`` (a PNG file, or a PNG data URL) and ``frame``: store a binary mask for the video."""
    membership = get_membership(request, slug, write=True)
    video = _video(membership, asset_id)
    if not (video.width and video.height):
        return _error("This video's size is unknown, so a mask cannot be matched to it.")
    if refusal := too_large(video):
        return _error(refusal)
    try:
        refused = refusal_of(request)
        if refused:
            limit = f"a mask may be up to {MAX_MASK_BYTES // (1024 * 1024)} MB"
            return JsonResponse({"error": refused.words(limit)}, status=413)
        raw = _mask_bytes(request)
        frame_raw = request.POST.get("frame", "1").strip()
    except RequestDataTooBig:
        return _error("The mask is too large to send as a data URL; send it as a PNG file.")
    except MaskError as exc:
        return _error(str(exc))
    total = frame_count(video)
    try:
        frame = int(frame_raw)
    except ValueError:
        return _error(f"The frame must be a whole number from 1 to {total}, not “{frame_raw[:20]}”.")
    if not 1 <= frame <= total:
        return _error(f"The frame must be from 1 to {total} (this video's frames); {frame} is not.")
    try:
        mask = binarise(raw, (video.width, video.height))
    except MaskError as exc:
        return _error(str(exc))
    white = white_pixels(mask)
    if white == 0:
        return _error("The mask is all black: paint the area to change in white first.")
    buffer = io.BytesIO()
    mask.save(buffer, "PNG", optimize=True)
    name = f"mask-frame-{frame}.png"
    try:
        asset = create_asset(
            workspace=membership.workspace,
            user=request.user,
            source=ContentFile(buffer.getvalue(), name=name),
            name=name,
            expect="image",
            derived_from=video,
        )
    except ValidationError as exc:
        return _error(" ".join(exc.messages))
    return JsonResponse(
        {
            "asset_id": asset.public_id,
            "width": asset.width,
            "height": asset.height,
            "frame": frame,
            "white_pixels": white,
            "name": asset.original_name,
            "url": reverse("asset_file", kwargs={"slug": slug, "asset_id": asset.public_id}),
        }
    )


@require_safe
def mask_page(request: AuthenticatedRequest, slug: str, asset_id: str):
    """A page of its own with the painter for one video: paint a mask, keep it as an image asset, and
    (given ``?project=``) generate the edit there; ``?from=<generation>`` starts from that job's prompt."""
    from studio.generations.models import Generation
    from studio.projects.models import Project
    from studio.providers.catalog import iter_models

    membership = get_membership(request, slug)
    video = _video(membership, asset_id)
    project = Project.objects.filter(
        workspace_id=membership.workspace_id, public_id=request.GET.get("project", "")[:22]
    ).first()
    source = (
        Generation.objects.select_related("prompt")
        .filter(workspace_id=membership.workspace_id, public_id=request.GET.get("from", "")[:22])
        .first()
    )
    vace_models = [(m.key, m.label) for m in iter_models() if "video_edit" in m.tasks]
    return render(
        request,
        "assets/mask_demo.html",
        {
            "workspace": membership.workspace,
            "membership": membership,
            "mask_video": video,
            "project": project,
            "vace_models": vace_models,
            "chosen_model": source.provider + ":" + source.model if source else "",
            "prompt_text": source.prompt.text if source else "",
        },
    )


@require_safe
def painter_fragment(request: AuthenticatedRequest, slug: str, asset_id: str):
    """The painter alone, for the job form to swap in beside its input video: it writes the saved mask and
    its frame into the form's own fields, and the form's model settings carry mask type and expansion."""
    membership = get_membership(request, slug)
    video = _video(membership, asset_id)
    response = render(
        request,
        "assets/mask_painter.html#mask-painter",
        {
            "workspace": membership.workspace,
            "membership": membership,
            "mask_video": video,
            "mask_inputs_outside": True,
            "mask_settings_outside": True,
            "mask_asset_id": request.GET.get("mask", "")[:22],
            "mask_frame": request.GET.get("frame", "")[:6] if request.GET.get("frame", "").isdigit() else "",
        },
    )
    response["Cache-Control"] = "no-store"
    return response
