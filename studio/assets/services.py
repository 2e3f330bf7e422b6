"""Turning an uploaded (or local, for the CLI) file into a validated Asset."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from PIL import Image, ImageOps

from studio.assets.models import Asset
from studio.assets.probe import Probe, ProbeError, probe_file

MAX_BYTES = {"image": 20 * 1024 * 1024, "video": 100 * 1024 * 1024, "audio": 15 * 1024 * 1024}
ABSOLUTE_MAX = max(MAX_BYTES.values())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _upright(path: Path, probe: Probe) -> None:
    """Bake EXIF orientation into the pixels, so every consumer sees what the person saw."""
    with Image.open(path) as im:
        if im.getexif().get(0x0112, 1) == 1:
            return
        fmt = im.format
        upright = ImageOps.exif_transpose(im)
        # Re-encoding a phone photo at Pillow's default JPEG quality (75) would visibly soften it.
        upright.save(path, fmt, **({"quality": 95} if fmt == "JPEG" else {}))


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


def create_asset(*, workspace, user, source, name: str = "", expect: str | None = None) -> Asset:
    """Validate and store ``source`` (an UploadedFile, an open file, or a path). Raises ValidationError.

    ``expect`` ("image", "video", "audio") makes the messages say what was wanted.
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
        if probe.kind == "image":
            _upright(tmp, probe)
        stem = Path(name).stem[:80] or "file"
        asset = Asset(
            workspace=workspace,
            created_by=user,
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
