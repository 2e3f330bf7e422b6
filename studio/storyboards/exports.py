"""Running one export: the chosen takes, copied from storage, stitched, and the film put back in storage.

Takes are read through Django's storage, never by a path only one host can see: each is copied into a
working folder under DATA_DIR for the stitch, and the film is saved with the export's FileField.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.files import File

from studio.generations.models import Generation
from studio.storyboards import services
from studio.storyboards.media import Clip, MediaError, stitch
from studio.storyboards.models import Export, export_path

log = logging.getLogger(__name__)


def _copy(field_file, dest: Path) -> Path:
    with field_file.open("rb") as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out, 1024 * 1024)
    return dest


def run_export(export_id: int) -> Export:
    """Claim the export (once, whoever asks twice), stitch it with progress, and record how it ended."""
    export = Export.objects.select_related("storyboard").get(pk=export_id)
    if not services.claim_export(export_id):
        return export
    tmp_dir = Path(settings.DATA_DIR) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=tmp_dir, prefix="export-"))
    last = -1

    def progress(fraction: float) -> None:
        nonlocal last
        # Copying is the first tenth, the stitch the rest; a write only when the figure moves.
        percent = 10 + int(fraction * 89)
        if percent > last:
            last = percent
            services.record_progress(export_id, percent)

    try:
        ids = [shot["take"] for shot in export.recipe]
        takes = {
            g.public_id: g
            for g in Generation.objects.filter(
                workspace_id=export.workspace_id, public_id__in=ids, status="succeeded"
            )
        }
        clips = []
        for i, shot in enumerate(export.recipe):
            take = takes.get(shot["take"])
            if take is None or not take.video:
                raise MediaError(f"Shot {shot['position']}'s take is gone or has no video.")
            clips.append(
                Clip(
                    _copy(take.video, work / f"shot-{i}.mp4"),
                    shot.get("in_point") or 0.0,
                    shot.get("out_point"),
                )
            )
            services.record_progress(export_id, round(10 * (i + 1) / len(export.recipe)))
        film = work / "film.mp4"
        made = stitch(
            clips, (export.width, export.height), export.fps, export.crossfade, film, progress=progress
        )
        with open(film, "rb") as fh:
            name = export.file.storage.save(export_path(export, "film.mp4"), File(fh))
        if not services.finish_export(
            export_id, name=name, duration=made.duration, has_audio=made.has_audio, size=film.stat().st_size
        ):
            export.file.storage.delete(name)  # it was failed meanwhile: keep no orphan
    except (MediaError, OSError) as exc:
        log.warning("export %s failed: %s", export_id, exc)
        services.fail_export(export_id, f"The film could not be made: {exc}")
    except Exception as exc:
        services.fail_export(
            export_id, f"The film could not be made (an unexpected error: {type(exc).__name__})."
        )
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    export.refresh_from_db()
    return export
