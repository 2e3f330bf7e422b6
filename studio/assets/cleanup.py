"""Files nothing uses go after a day (beat runs ``sweep_unused_assets`` every hour).

The job form keeps every file as an asset the moment it is picked, so a refusal never loses it; a form that
is then abandoned leaves assets nothing points at. An asset is removed, row and file, only when all of
these hold:

- it is more than a day old: a person may come back to a refused form (its hidden fields hold the ids), a
  painter page or an image input within that time;
- no job uses it (GenerationInput, which also protects it in the database);
- nothing made from it in the last day is still around (a crop's image, a painted mask's video, through
  ``Asset.derived_from``): the person may want to crop again or paint another frame.

Each batch is deleted in a transaction that checks those conditions again, so an asset a job takes up while
the sweep runs is kept; files go only once the rows' deletion is committed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, ProtectedError
from django.utils import timezone

from studio.assets.models import Asset

log = logging.getLogger(__name__)

GRACE = timedelta(days=1)
BATCH = 200


def _unused(cutoff: datetime):
    from studio.generations.models import GenerationInput

    used = GenerationInput.objects.filter(asset_id=OuterRef("pk"))
    recent = Asset.objects.filter(derived_from_id=OuterRef("pk"), created_at__gte=cutoff)
    return Asset.objects.filter(created_at__lt=cutoff).exclude(Exists(used)).exclude(Exists(recent))


def _candidates(cutoff: datetime, after: int = 0, batch: int = BATCH) -> list[int]:
    return list(_unused(cutoff).filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch])


def _delete_files(names: list[str]) -> None:
    storage = Asset._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # a file already gone, or storage down: the row is gone either way
            log.warning("could not delete %s", name, exc_info=True)
            continue
        with contextlib.suppress(NotImplementedError, OSError):
            os.rmdir(Path(storage.path(name)).parent)  # the asset's own folder, when empty


def _remove(pks: list[int], cutoff: datetime) -> int:
    try:
        with transaction.atomic():
            rows = list(_unused(cutoff).filter(pk__in=pks).values_list("pk", "file"))
            if not rows:
                return 0
            Asset.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
            names = [name for _, name in rows if name]
            transaction.on_commit(lambda: _delete_files(names))
            return len(rows)
    except (ProtectedError, IntegrityError):
        # A job took one of them up between the check and the delete: try them one at a time.
        if len(pks) == 1:
            return 0
        return sum(_remove([pk], cutoff) for pk in pks)


def sweep_unused_assets(*, now: datetime | None = None) -> dict:
    cutoff = (now or timezone.now()) - GRACE
    removed, after = 0, 0
    while pks := _candidates(cutoff, after):
        after = pks[-1]
        removed += _remove(pks, cutoff)
    if removed:
        log.info("removed %d unused assets", removed)
    return {"removed": removed}
