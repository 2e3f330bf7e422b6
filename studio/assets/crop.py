"""Cropping a first-frame image to an exact aspect (16:9, 9:16 or 1:1) on the server, with Pillow.

SiliconFlow's image to video maps the first frame's aspect to its output size: 16:9 -> 1280x720,
9:16 -> 720x1280, 1:1 -> 960x960; other aspects are allowed but not recommended (SiliconFlow's image-to-video page).
DashScope and VACE take images of 360 to 2000 pixels a side (the DashScope and VACE pages).

A crop is exact: the result is ``k*a`` x ``k*b`` pixels for aspect ``a:b`` (1024x576 for 16:9, never
1024x577), cut out of the source without scaling, so every pixel of the result is a pixel of the source;
except for a JPEG too large to crop at full size within the memory budget (``studio.assets.pixels``), which
is cut, still at exactly the aspect, from a decode at 1/2, 1/4 or 1/8 of each side.
The result is saved as a new image Asset through ``create_asset`` (probed again like any upload); the
source Asset is left as it was.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import warnings
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

from studio.assets import (
    pixels,
    probe,  # noqa: F401 - sets Image.MAX_IMAGE_PIXELS before any decoding here
)
from studio.assets.models import Asset
from studio.assets.services import create_asset
from studio.providers.catalog import ASPECT_TOLERANCE, closest_aspect

# The aspects a first frame is cropped to, as (width units, height units), and SiliconFlow's size for each.
ASPECTS: dict[str, tuple[int, int]] = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
I2V_SIZES: dict[str, str] = {"16:9": "1280x720", "9:16": "720x1280", "1:1": "960x960"}
# The smallest side any vendor states for a first frame (DashScope i2v and VACE: 360-2000 px).
DEFAULT_MIN_SIDE = 360
SUFFIX_RE = re.compile(r"-(?:16x9|9x16|1x1)$")
SAVE_AS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "BMP": "BMP", "GIF": "PNG"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp"}
MAX_COORD = 1_000_000  # no image the studio accepts is this large; anything beyond is nonsense


def aspect_choices() -> str:
    return "16:9, 9:16 or 1:1"


def closest_target(width: int, height: int, candidates: tuple[str, ...] | None = None) -> tuple[str, float]:
    """The crop aspect nearest to width:height and its relative error (0.25 = 25 %).

    Like ``catalog.closest_aspect``, but a tie goes to the aspect of the image's own orientation: 4:3 is
    exactly as far from 16:9 as from 1:1, and a landscape picture should stay landscape.
    """
    if not width or not height or width <= 0 or height <= 0:
        raise ValueError(f"not a size: {width}x{height}")
    cands = tuple(candidates or ASPECTS)
    r = width / height

    def rank(label: str) -> tuple[float, int]:
        a, b = ASPECTS[label]
        distance = round(abs(math.log(r * b / a)), 9)
        same_side = (a > b) == (width > height) and (a < b) == (width < height)
        return distance, 0 if same_side else 1

    best = min(cands, key=rank)
    a, b = ASPECTS[best]
    return best, abs(r * b / a - 1)


def fits(width: int, height: int) -> dict[str, str | None]:
    """For each crop aspect: SiliconFlow's output size if the image is within ~1 % of it, else None."""
    out: dict[str, str | None] = {}
    for label in ASPECTS:
        _, error = closest_aspect(width, height, (label,))
        out[label] = I2V_SIZES[label] if error <= ASPECT_TOLERANCE else None
    return out


def parse_box(raw: str | None) -> tuple[float, float, float, float] | None:
    """``"x,y,w,h"`` (source pixels; decimals allowed) -> a tuple; empty -> None. ValidationError else."""
    text = (raw or "").strip()
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValidationError("The crop frame must be four numbers: x, y, width and height in pixels.")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise ValidationError(
            "The crop frame must be four numbers: x, y, width and height in pixels."
        ) from None
    return values  # type: ignore[return-value]


def fit_box(
    width: int, height: int, aspect: str, box: tuple[float, float, float, float] | None
) -> tuple[int, int, int, int]:
    """The crop (left, top, w, h) in whole source pixels: exactly ``aspect``, inside the image, no upscaling.

    With ``box``, its area and centre are kept as far as the image allows: the size is rounded to whole
    aspect units (and shrunk to the largest crop that fits), then the frame is moved inside the image.
    Without a box, the largest centred crop.
    """
    if aspect not in ASPECTS:
        raise ValidationError(f"Choose {aspect_choices()} for the crop, not “{str(aspect)[:20]}”.")
    a, b = ASPECTS[aspect]
    k_max = min(width // a, height // b)
    if k_max < 1:
        raise ValidationError(f"The image ({width}x{height}) is too small to crop to {aspect}.")
    if box is None:
        k = k_max
        cx, cy = width / 2, height / 2
    else:
        if len(box) != 4:
            raise ValidationError("The crop frame must be four numbers: x, y, width and height in pixels.")
        x, y, w, h = (float(v) for v in box)
        if not all(math.isfinite(v) and abs(v) <= MAX_COORD for v in (x, y, w, h)):
            raise ValidationError("The crop frame's numbers are not pixel positions.")
        if w <= 0 or h <= 0:
            raise ValidationError("The crop frame must have a width and a height above zero.")
        # Keep the frame's area (a box already at the aspect keeps its exact size); round to whole units.
        k = min(k_max, max(1, round(math.sqrt(w * h / (a * b)))))
        cx, cy = x + w / 2, y + h / 2
    cw, ch = k * a, k * b
    left = min(max(round(cx - cw / 2), 0), width - cw)
    top = min(max(round(cy - ch / 2), 0), height - ch)
    return left, top, cw, ch


def check_min_side(
    width: int, height: int, aspect: str, crop: tuple[int, int, int, int], min_side: int
) -> None:
    """Refuse a crop whose shorter side is under ``min_side``, saying what the image allows."""
    _, _, cw, ch = crop
    if not min_side or min(cw, ch) >= min_side:
        return
    a, b = ASPECTS[aspect]
    k_max = min(width // a, height // b)
    largest = (k_max * a, k_max * b)
    if min(largest) < min_side:
        raise ValidationError(
            f"The image ({width}x{height}) is too small: its largest {aspect} crop is "
            f"{largest[0]}x{largest[1]}, and each side must be at least {min_side} pixels. "
            "Use a larger image."
        )
    raise ValidationError(
        f"The crop would be {cw}x{ch}; each side must be at least {min_side} pixels. Make the frame larger "
        f"(this image allows up to {largest[0]}x{largest[1]} at {aspect})."
    )


def cropped_name(asset: Asset, aspect: str, fmt: str) -> str:
    stem = Path(asset.original_name or Path(asset.file.name).name or "image").stem
    stem = SUFFIX_RE.sub("", stem)[:80] or "image"
    return f"{stem}-{aspect.replace(':', 'x')}.{EXTENSIONS[fmt]}"


def _plan(asset: Asset, aspect: str, box, min_side: int):
    """Read the stored image's header and plan the crop: (header, full-size crop, scale). Nothing decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with asset.file.open("rb") as fh, Image.open(fh) as im:
                header = pixels.read_header(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The image has far too many pixels to be handled safely.") from None
    except (FileNotFoundError, UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("The stored image could not be read; upload it again.") from None
    width, height = header.upright
    crop = fit_box(width, height, aspect, box)
    check_min_side(width, height, aspect, crop, min_side)
    scale = pixels.crop_scale(header, crop[2:])
    if scale is None:
        raise ValidationError(
            f"The image ({width}x{height}) is too large to crop here: {pixels.limit_words(header)}. "
            "Upload a smaller copy and crop that."
        )
    return header, crop, scale


def crop_to_aspect(
    asset: Asset,
    *,
    aspect: str,
    box: tuple[float, float, float, float] | None,
    user,
    min_side: int | None = DEFAULT_MIN_SIDE,
) -> Asset:
    """Crop an image Asset to exactly ``aspect`` ("16:9", "9:16", "1:1") and save it as a new Asset.

    ``box`` is the chosen rectangle (x, y, w, h) in the source's pixels as shown (EXIF orientation is
    baked in by ``create_asset``); it is adjusted to the exact aspect and moved inside the image. Without
    it, a centred crop. ``min_side`` (pixels; None or 0 for none) refuses results too small for the vendor.
    Same format as the source, PNG when it has transparency (or was a GIF). Raises ValidationError.

    The decode and the crop's copy must fit ``pixels.BUDGET`` together: a JPEG too large for that is decoded
    at 1/2, 1/4 or 1/8 of each side and the crop cut from that (still exactly ``aspect``; the returned
    asset's ``reduced_from`` is then the full-size crop's (width, height)); other images too large are
    refused before decoding.
    """
    if asset.kind != Asset.Kind.IMAGE:
        raise ValidationError("Only images can be cropped.")
    header, full, scale = _plan(asset, aspect, box, min_side or 0)
    crop = full
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with asset.file.open("rb") as fh, Image.open(fh) as source:
                fmt = source.format or ""
                icc = source.info.get("icc_profile")
                pixels.draft(source, header, scale)
                source.load()
                # What create_asset stored is upright already; only an older image may still need turning
                # (exif_transpose copies even when there is nothing to turn, hence the test).
                image = ImageOps.exif_transpose(source) if header.turned else source
                if scale > 1:
                    # Cut from the reduced decode: the same frame, scaled, kept at exactly the aspect.
                    width, height = header.upright
                    rw, rh = image.size
                    left, top, cw, ch = crop
                    fx, fy = rw / width, rh / height
                    crop = fit_box(rw, rh, aspect, (left * fx, top * fy, cw * fx, ch * fy))
                    check_min_side(rw, rh, aspect, crop, min_side or 0)
                left, top, cw, ch = crop
                out = image.crop((left, top, left + cw, top + ch))
                del image  # the source goes with the file: only the crop is held while it is encoded
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The image has far too many pixels to be handled safely.") from None
    except (FileNotFoundError, UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError("The stored image could not be read; upload it again.") from None

    has_alpha = out.mode in ("RGBA", "LA", "PA") or (out.mode == "P" and "transparency" in out.info)
    save_as = "PNG" if has_alpha else SAVE_AS.get(fmt, "PNG")
    options: dict = {}
    if icc:
        options["icc_profile"] = icc
    if save_as == "JPEG":
        if out.mode not in ("RGB", "L", "CMYK"):
            out = out.convert("RGB")
        options.update(quality=95, subsampling=0, optimize=True)
    elif save_as == "WEBP":
        options.update(quality=95, method=4)
    elif save_as == "BMP" and out.mode not in ("1", "L", "P", "RGB"):
        out = out.convert("RGB")
    elif save_as == "PNG":
        options.update(compress_level=6)
    name = cropped_name(asset, aspect, save_as)
    # Encoded to a file, not to memory: a PNG of a large crop can be most of its decoded size.
    tmp_dir = Path(settings.DATA_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="crop-")
    try:
        with os.fdopen(fd, "wb") as fh:
            out.save(fh, save_as, **options)
        del out
        result = create_asset(
            workspace=asset.workspace,
            user=user,
            source=tmp_name,
            name=name,
            expect="image",
            derived_from=asset,
        )
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    result.reduced_from = full[2:] if scale > 1 else None
    return result
