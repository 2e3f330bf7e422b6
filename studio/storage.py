"""Files another process reads go through the configured storage, never a host's own disk.

Every web host, worker and beat may run on its own machine with its own ``STUDIO_DATA_DIR``: what one of
them writes for another (a preview render's state and result, a stored video) lives in Django's default
storage, local media or S3 alike. These helpers are the few operations that needs, on any storage:
whole-or-absent writes that replace what was there, reads that tell a missing file apart, and a local
path or a link for people.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage


def local_root(storage: Storage = default_storage) -> Path | None:
    """The folder a storage keeps its files in, or None when they are not on this machine's disk (S3)."""
    try:
        return Path(storage.path(""))
    except NotImplementedError:
        return None


def put(name: str, content: bytes | Path, *, storage: Storage = default_storage) -> None:
    """Write ``name`` whole, replacing any earlier file: readers see the old file or the new, never half.

    On local media that is a file beside it moved into place; on S3 one PUT (the storage overwrites)."""
    root = local_root(storage)
    if root is not None:
        target = Path(storage.path(name))
        _folders(root, target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(content, bytes):
                    out.write(content)
                else:
                    with open(content, "rb") as src:
                        shutil.copyfileobj(src, out, 1024 * 1024)
            os.chmod(tmp, settings.FILE_UPLOAD_PERMISSIONS)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return
    if not getattr(storage, "file_overwrite", False) and storage.exists(name):
        storage.delete(name)
    if isinstance(content, bytes):
        saved = storage.save(name, ContentFile(content))
    else:
        with open(content, "rb") as fh:
            saved = storage.save(name, File(fh))
    if saved != name:  # a storage that renamed instead of replacing would lose the file for readers
        storage.delete(saved)
        raise OSError(f"The storage kept {name} as {saved}; it must overwrite.")


def read(name: str, *, storage: Storage = default_storage) -> bytes | None:
    """The file's bytes, or None when there is no such file."""
    try:
        with storage.open(name, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        if _missing(exc):
            return None
        raise


def copy_to(name: str, dest: Path, *, storage: Storage = default_storage) -> None:
    """Copy a stored file to a local path (for tools that need one: PyAV, Pillow)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(f".{dest.name}.part")
    with storage.open(name, "rb") as src, open(part, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    os.replace(part, dest)


def where(field_file) -> str:
    """Where a person finds a stored file: its absolute path on local media, else its (signed) URL."""
    try:
        return str(Path(field_file.path).resolve())
    except NotImplementedError:
        return field_file.url


def _folders(root: Path, folder: Path) -> None:
    """Make ``folder`` and those between it and ``root`` with the media's folder mode, as Django's saves do."""
    root.mkdir(parents=True, exist_ok=True)
    made = []
    while folder != root and not folder.exists():
        made.append(folder)
        folder = folder.parent
    for path in reversed(made):
        with contextlib.suppress(FileExistsError):
            path.mkdir()
        os.chmod(path, settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS)


def _missing(exc: OSError) -> bool:
    """S3's "no such key", which django-storages raises as a plain error on open."""
    response = getattr(exc, "response", None) or getattr(exc.__cause__, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")
