"""The first-frame image input's server side: check an uploaded image, crop it to 16:9, 9:16 or 1:1.

Both POST views answer JSON describing an image Asset::

    {"asset_id", "name", "url", "width", "height", "format", "bytes", "has_alpha",
     "aspect": "4:3", "closest": "16:9", "error_pct": 25.0,
     "fits": {"16:9": null, "9:16": null, "1:1": null}, "needs_crop": true, "warnings": ["..."]}

``aspect`` is the image's own aspect (``aspect_label``), ``closest`` the nearest of 16:9, 9:16 and 1:1
with its relative error in percent, ``fits`` SiliconFlow's output size for each aspect the image is
within 1 % of (its image-to-video page). A refused file or crop is ``{"error": "..."}`` with status 400
(413 for a body larger than the view takes, refused before it is read): the message is the one the person
sees. Images too large for the memory budget are refused from their header (``studio.assets.pixels``);
a large photo turned upright, or a large crop, that had to be made at a reduced scale says so first in
``warnings``. Access is the workspace's: outsiders get 404, viewers 403 (the usual error pages, before any
JSON).

An optional ``model`` ("provider:model id", as the generation form sends it) makes the warnings those of
that model's first-frame slot in the catalogue, and the crop's minimum side that slot's.
"""

from __future__ import annotations

import dataclasses
import logging
import math

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFilesSent, ValidationError
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from studio.assets.crop import (
    ASPECTS,
    DEFAULT_MIN_SIDE,
    I2V_SIZES,
    closest_target,
    crop_to_aspect,
    fits,
    parse_box,
)
from studio.assets.models import Asset
from studio.assets.services import MAX_BYTES, create_asset, media_info
from studio.assets.uploads import SLACK, accepts_upload, refusal_of
from studio.http import AuthenticatedRequest
from studio.providers import catalog
from studio.providers.catalog import ASPECT_TOLERANCE, aspect_label
from studio.workspaces.access import get_membership

log = logging.getLogger(__name__)

MB = 1024 * 1024
VENDOR_FORMATS = {"jpeg", "png", "webp", "bmp"}  # what every vendor that states formats takes
VENDOR_SIDES = (360, 2000)  # DashScope i2v and VACE


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


SCALE_WORDS = {2: "half size", 4: "a quarter of its size", 8: "an eighth of its size"}


def _scale_words(kept: tuple[int, int], full: tuple[int, int]) -> str:
    return SCALE_WORDS.get(round(full[0] / kept[0]) if kept[0] else 0, "a reduced size")


def turned_warning(asset: Asset) -> str | None:
    """What to say when create_asset kept a large turned photo at a reduced scale."""
    full = getattr(asset, "reduced_from", None)
    if not full:
        return None
    kept = (asset.width or 0, asset.height or 0)
    return (
        f"It was turned upright at {_scale_words(kept, full)} and kept at {kept[0]}x{kept[1]} (the photo is "
        f"{full[0]}x{full[1]}): turning a photo this large at full size takes more memory than one upload "
        "may use."
    )


def flattened_warning(asset: Asset) -> str | None:
    """What to say when create_asset kept only the first frame of an animated image."""
    source = getattr(asset, "flattened_from", "")
    if not source:
        return None
    return (
        f"“{asset.original_name}” is an animated {source}: no provider takes an animation as a first frame, "
        "so the studio kept its first frame only, as a still PNG."
    )


def crop_warning(asset: Asset) -> str | None:
    """What to say when a crop was cut from a reduced decode."""
    full = getattr(asset, "reduced_from", None)
    if not full:
        return None
    kept = (asset.width or 0, asset.height or 0)
    return (
        f"The crop was cut at {_scale_words(kept, full)}, {kept[0]}x{kept[1]} rather than {full[0]}x{full[1]}: "
        "cropping an image this large at full size takes more memory than one crop may use."
    )


def size_mb(n: int) -> str:
    """Megabytes as the vendors count them (MiB), rounded up: a file just over 20 MB never reads "20.0"."""
    return f"{math.ceil(n / MB * 10) / 10:.1f}"


def _model_slot(key: str) -> tuple[catalog.Model, catalog.MediaSlot] | None:
    """The model and its first-frame slot for "provider:model id", or None (unknown keys are ignored)."""
    provider, _, model_id = (key or "").partition(":")
    if not provider or not model_id:
        return None
    try:
        model = catalog.get_model(provider, model_id)
    except catalog.CatalogError:
        return None
    slot = model.slot("image") or model.slot("first_frame")
    if slot is None or slot.kind != "image":
        return None
    return model, slot


def generic_warnings(asset: Asset) -> list[str]:
    """Advice for a first frame when no model is chosen yet: what each vendor would say about it."""
    w, h = asset.width, asset.height
    out: list[str] = []
    ok = {label: size for label, size in fits(w, h).items() if size}
    if not ok:
        closest, _ = closest_target(w, h)
        out.append(
            f"The image is {aspect_label(w, h)} ({w}x{h}); SiliconFlow's image to video wants 16:9, 9:16 or "
            f"1:1. Crop it to {closest} ({I2V_SIZES[closest]}), the closest."
        )
    else:
        label, size = next(iter(ok.items()))
        tw, th = catalog.parse_size(size)
        if w < tw or h < th:
            out.append(
                f"At {w}x{h} it is smaller than the {size} video it makes at {label}; it will be scaled up, "
                "so a larger image gives a sharper video."
            )
    lo, hi = VENDOR_SIDES
    if min(w, h) < lo or max(w, h) > hi:
        out.append(f"DashScope and VACE take images of {lo} to {hi} pixels a side; this one is {w}x{h}.")
    if asset.has_alpha:
        out.append(
            "It has transparency (an alpha channel); DashScope's image to video takes images without one."
        )
    if asset.format not in VENDOR_FORMATS:
        out.append(f"The providers take JPEG, PNG, WebP or BMP; convert this {asset.format.upper()} first.")
    return out


def describe(asset: Asset, slug: str, model_key: str = "") -> dict:
    """The JSON the image input shows for one image Asset."""
    w, h = asset.width or 0, asset.height or 0
    closest, error = closest_target(w, h)
    fit = fits(w, h)
    found = _model_slot(model_key)
    if found:
        model, slot = found
        warns = catalog._check_media_item(model, slot, media_info(asset), "The first frame")
    else:
        warns = generic_warnings(asset)
    return {
        "asset_id": asset.public_id,
        "name": asset.original_name,
        "url": reverse("asset_file", kwargs={"slug": slug, "asset_id": asset.public_id}),
        "width": w,
        "height": h,
        "format": asset.format,
        "bytes": asset.bytes,
        "has_alpha": asset.has_alpha,
        "aspect": aspect_label(w, h),
        "closest": closest,
        "error_pct": round(error * 100, 1),
        "fits": fit,
        "needs_crop": error > ASPECT_TOLERANCE,
        "warnings": warns,
    }


def _one_upload(request):
    files = request.FILES.getlist("image") or [
        f for name in request.FILES for f in request.FILES.getlist(name)
    ]
    if not files:
        raise ValidationError("Choose an image file to upload.")
    if len(files) > 1:
        raise ValidationError("Send one image at a time.")
    return files[0]


@accepts_upload(MAX_BYTES["image"] + SLACK)
@require_POST
def upload(request: AuthenticatedRequest, slug: str):
    """POST ``image`` (one file), optional ``model``: check and keep it as an image Asset."""
    membership = get_membership(request, slug, write=True)
    try:
        refused = refusal_of(request)
        if refused:
            return _error(refused.words(f"images may be up to {MAX_BYTES['image'] // MB} MB"), status=413)
        upload_file = _one_upload(request)
    except ValidationError as exc:
        return _error(" ".join(exc.messages))
    except (RequestDataTooBig, TooManyFilesSent, MultiPartParserError, SuspiciousOperation):
        return _error("The upload could not be read; send one image file.")
    name = upload_file.name or "upload"
    limit = MAX_BYTES["image"]
    if not upload_file.size:
        return _error(f"“{name}” is empty (0 bytes); choose the image again.")
    if upload_file.size > limit:
        return _error(f"“{name}” is {size_mb(upload_file.size)} MB; images may be up to {limit // MB} MB.")
    try:
        asset = create_asset(
            workspace=membership.workspace, user=request.user, source=upload_file, name=name, expect="image"
        )
        data = describe(asset, slug, request.POST.get("model", ""))
        if note := turned_warning(asset):
            data["warnings"].insert(0, note)
        if note := flattened_warning(asset):
            data["warnings"].insert(0, note)
            data["flattened"] = True
        return JsonResponse(data)
    except ValidationError as exc:
        return _error(" ".join(exc.messages))
    except Exception:
        log.exception("checking an uploaded image failed")
        return _error(f"“{name}” could not be checked; try again, or use another image.")


def _min_side(request) -> int | None:
    raw = request.POST.get("min_side", "").strip()
    if raw:
        try:
            return max(0, min(int(raw), 10_000))
        except ValueError:
            raise ValidationError("min_side must be a whole number of pixels.") from None
    found = _model_slot(request.POST.get("model", ""))
    if found:
        return found[1].limits.min_side or 0
    return DEFAULT_MIN_SIDE


@accepts_upload(SLACK)
@require_POST
def crop(request: AuthenticatedRequest, slug: str):
    """POST ``asset_id``, ``aspect`` (16:9, 9:16, 1:1), optional ``box`` ("x,y,w,h" in source pixels),
    ``min_side`` and ``model``: keep an exact-aspect crop of the image as a new Asset."""
    membership = get_membership(request, slug, write=True)
    try:
        refused = refusal_of(request)
        if refused:
            return _error(refused.words(f"a crop request takes at most {SLACK // 1024} KB"), status=413)
        asset_id = request.POST.get("asset_id", "").strip()
        aspect = request.POST.get("aspect", "").strip()
    except (RequestDataTooBig, MultiPartParserError, SuspiciousOperation):
        return _error("The crop request could not be read.")
    if not asset_id:
        return _error("Upload an image first, then crop it.")
    source = Asset.objects.filter(
        workspace_id=membership.workspace_id, public_id=asset_id[:40], kind=Asset.Kind.IMAGE
    ).first()
    if source is None:
        return _error("That image is not in this workspace (any more); choose it again.", status=404)
    if aspect not in ASPECTS:
        return _error(f"Choose 16:9, 9:16 or 1:1 for the crop, not “{aspect[:20]}”.")
    try:
        box = parse_box(request.POST.get("box"))
        result = crop_to_aspect(
            source, aspect=aspect, box=box, user=request.user, min_side=_min_side(request)
        )
        data = describe(result, slug, request.POST.get("model", ""))
        if note := crop_warning(result):
            data["warnings"].insert(0, note)
    except ValidationError as exc:
        return _error(" ".join(exc.messages))
    except Exception:
        log.exception("cropping an image failed")
        return _error("The image could not be cropped; try again, or upload it again.")
    data["source_id"] = source.public_id
    return JsonResponse(data)


@require_safe
def image_page(request: AuthenticatedRequest, slug: str):
    """A page of its own with the first-frame input: pick, check and crop an image (``?model=`` checks
    against one model; ``?image_asset=`` shows an image already kept)."""
    membership = get_membership(request, slug)
    initial = Asset.objects.filter(
        workspace_id=membership.workspace_id,
        public_id=request.GET.get("image_asset", "")[:40],
        kind=Asset.Kind.IMAGE,
    ).first()
    model_key = request.GET.get("model", "")
    found = _model_slot(model_key)
    models = [
        (f"{m.provider}:{m.id}", f"{catalog.PROVIDER_LABELS[m.provider]} · {m.label}")
        for m in catalog.iter_models()
        if (m.slot("image") or m.slot("first_frame")) and "i2v" in m.tasks
    ]
    return render(
        request,
        "assets/image_demo.html",
        {
            "workspace": membership.workspace,
            "membership": membership,
            "initial_asset": initial,
            "initial_info": describe(initial, slug, model_key)
            if initial and initial.width and initial.height
            else None,
            "model_key": model_key if found else "",
            "limits": dataclasses.asdict(found[1].limits) if found else None,
            "models": models,
        },
    )
