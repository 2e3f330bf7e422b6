"""Turning an uploaded (or local, for the CLI) file into a validated Asset."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from PIL import Image, ImageOps

from studio.assets import pixels
from studio.assets.models import Asset
from studio.assets.probe import Probe, ProbeError, probe_file

MAX_BYTES = {"image": 20 * 1024 * 1024, "video": 100 * 1024 * 1024, "audio": 15 * 1024 * 1024}
ABSOLUTE_MAX = max(MAX_BYTES.values())
# Videos up to 1080p either way round. Nothing larger is of use (the models that take a video, VACE's, keep
# at most 720p of it), and one 8K frame takes FFmpeg over 500 MB to decode for the painter.
MAX_VIDEO_SIZE = (1920, 1080)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _upright(path: Path) -> tuple[tuple[int, int], tuple[int, int] | None] | None:
    """Bake EXIF orientation into the pixels, so every consumer sees what the person saw.

    Turning is a copy, so the decode and its turned copy must fit ``pixels.BUDGET`` together; a JPEG too
    large for that is decoded (and kept) at 1/2, 1/4 or 1/8 of each side. Returns None when the image is
    already upright, else (the size kept, the full size when that is smaller than the photo, or None).
    """
    with Image.open(path) as im:
        header = pixels.read_header(im)
        if not header.turned:
            return None
        scale = pixels.upright_scale(header)
        if scale is None:  # probe_image accepted it, so only a budget lowered since would get here
            raise ProbeError(pixels.refusal(header) or "The image is too large to turn upright.")
        fmt = im.format
        pixels.draft(im, header, scale)
        upright = ImageOps.exif_transpose(im)
    # The source is closed (and libwebp's canvases with it) before encoding: only the turned copy is held.
    options: dict = {"quality": 95} if fmt == "JPEG" else {}  # Pillow's default (75) would soften a photo
    if upright.info.get("icc_profile"):
        options["icc_profile"] = upright.info["icc_profile"]
    upright.save(path, fmt, **options)
    return upright.size, (header.upright if scale > 1 else None)


def _first_frame(path: Path) -> None:
    """Replace an animated GIF, WebP or PNG (APNG) by a still PNG of its first frame.

    No vendor takes an animation as a first frame, and none says which frame it would use. Only the first
    frame is decoded (the probe has already held the image's header to ``pixels.BUDGET``, and one frame of
    it costs what the probe's own check did); the PNG is written beside the upload, then moved over it.
    """
    flat = path.with_suffix(".first.png")
    try:
        with Image.open(path) as im:
            im.seek(0)
            im.load()
            frame = im if im.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16") else im.convert("RGBA")
            options: dict = {"icc_profile": im.info["icc_profile"]} if im.info.get("icc_profile") else {}
            if frame.mode == "P" and "transparency" in im.info:
                options["transparency"] = im.info["transparency"]
            frame.save(flat, "PNG", **options)
        os.replace(flat, path)
    finally:
        flat.unlink(missing_ok=True)


def _too_large_video(probe: Probe) -> bool:
    long_side, short_side = MAX_VIDEO_SIZE
    w, h = probe.width or 0, probe.height or 0
    return max(w, h) > long_side or min(w, h) > short_side


SLOT_KINDS = {
    "image": "image",
    "last_image": "image",
    "first_frame": "image",
    "last_frame": "image",
    "mask_image": "image",
    "ref_images": "image",
    "video": "video",
    "mask_video": "video",
    "first_clip": "video",
    "last_clip": "video",
    "audio": "audio",
}
ARTICLE = {"image": "an image", "video": "a video", "audio": "an audio file"}


def create_asset(
    *,
    workspace,
    user,
    source,
    name: str = "",
    expect: str | None = None,
    derived_from: Asset | None = None,
) -> Asset:
    """Validate and store ``source`` (an UploadedFile, an open file, or a path). Raises ValidationError.

    ``expect`` ("image", "video", "audio") makes the messages say what was wanted. ``derived_from`` is the
    asset this one was made from (a crop's image, a mask's video), kept while this one is recent.

    The returned asset's ``reduced_from`` is the full (width, height) when an image too large to turn upright
    at full size was kept at a reduced scale, else None. An animated image is kept as a still PNG of its
    first frame; ``flattened_from`` then names the format it came in ("GIF", "WebP", "PNG"), else "".
    """
    tmp_dir = Path(settings.DATA_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, (str, Path)):
                name = name or Path(source).name
                with open(source, "rb") as fh:
                    shutil.copyfileobj(fh, out, 1024 * 1024)
            else:
                name = name or getattr(source, "name", "") or "upload"
                chunks = (
                    source.chunks()
                    if hasattr(source, "chunks")
                    else iter(lambda: source.read(1024 * 1024), b"")
                )
                written = 0
                for chunk in chunks:
                    written += len(chunk)
                    if written > ABSOLUTE_MAX:
                        raise ValidationError(f"“{name}” is larger than {ABSOLUTE_MAX // (1024 * 1024)} MB.")
                    out.write(chunk)
        try:
            probe = probe_file(tmp)
        except ProbeError as exc:
            if expect and str(exc).startswith("This file is not"):
                raise ValidationError(
                    f"“{name}” is not {ARTICLE[expect]} we can read (or it is damaged)."
                ) from exc
            raise ValidationError(f"“{name}”: {exc}") from exc
        if expect and probe.kind != expect:
            raise ValidationError(f"“{name}” is {ARTICLE[probe.kind]}; {ARTICLE[expect]} is needed here.")
        limit = MAX_BYTES[probe.kind]
        if probe.bytes > limit:
            raise ValidationError(
                f"“{name}” is {probe.bytes / 1e6:.1f} MB; {probe.kind}s may be up to {limit // (1024 * 1024)} MB."
            )
        if probe.kind == "video" and _too_large_video(probe):
            long_side, short_side = MAX_VIDEO_SIZE
            raise ValidationError(
                f"“{name}” is {probe.width}x{probe.height}; videos may be up to {long_side}x{short_side} "
                f"({short_side}p). Scale it down and upload it again."
            )
        reduced_from = None
        flattened_from = ""
        if probe.kind == "image" and probe.animated:
            try:
                _first_frame(tmp)
                flattened_from = pixels.FORMAT_NAMES.get(probe.format.upper(), probe.format.upper())
                probe = probe_file(tmp)
            except (ProbeError, OSError, SyntaxError, ValueError) as exc:
                raise ValidationError(
                    f"“{name}” is animated and its first frame could not be read; use a still image."
                ) from exc
        if probe.kind == "image":
            try:
                turned = _upright(tmp)
            except ProbeError as exc:
                raise ValidationError(f"“{name}”: {exc}") from exc
            except (OSError, SyntaxError, ValueError) as exc:
                raise ValidationError(f"“{name}” is not an image we can read (or it is damaged).") from exc
            if turned:
                (width, height), reduced_from = turned
                probe = dataclasses.replace(probe, width=width, height=height)
        stem = Path(name).stem[:80] or "file"
        asset = Asset(
            workspace=workspace,
            created_by=user,
            derived_from=derived_from,
            kind=probe.kind,
            original_name=Path(name).name[:255],
            format=probe.format,
            content_type=probe.content_type,
            width=probe.width,
            height=probe.height,
            duration=probe.duration,
            fps=probe.fps,
            frames=probe.frames,
            has_alpha=probe.has_alpha,
            has_audio=probe.has_audio,
            codec=probe.codec,
            sha256=_sha256(tmp),
            bytes=tmp.stat().st_size,
        )
        ext = {"jpeg": "jpg"}.get(probe.format, probe.format)
        with open(tmp, "rb") as fh:
            asset.file.save(f"{stem}.{ext}", File(fh), save=False)
        asset.save()
        asset.reduced_from = reduced_from
        asset.flattened_from = flattened_from
        return asset
    finally:
        tmp.unlink(missing_ok=True)


def media_info(asset: Asset):
    from studio.providers.catalog import MediaInfo

    return MediaInfo(
        kind=asset.kind,
        format=asset.format,
        width=asset.width,
        height=asset.height,
        duration=asset.duration,
        fps=asset.fps,
        frames=asset.frames,
        bytes=asset.bytes,
        has_alpha=asset.has_alpha,
        animated=False,
        codec=asset.codec or None,
    )
