"""Storyboards with real takes: clips rendered by the offline renderer, kept as finished generations."""

from __future__ import annotations

from pathlib import Path

from django.core.files import File

from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.providers.local.render import RenderSpec, render
from studio.storyboards import services
from tests.factories import make_generation


def render_clip(
    path: Path, *, width=320, height=192, duration=1.0, fps=16, audio=False, prompt="shot"
) -> Path:
    render(
        RenderSpec(
            task="t2v", width=width, height=height, duration=duration, fps=fps, prompt=prompt, audio=audio
        ),
        str(path),
    )
    return path


def finished_take(workspace, project, clip: Path, *, duration: float, fps: int = 16, audio: bool = False):
    g = make_generation(workspace, project=project, status=Generation.Status.SUCCEEDED, provider="local")
    with open(clip, "rb") as fh:
        g.video.save("video.mp4", File(fh), save=False)
    g.result_duration, g.fps, g.has_audio = duration, fps, audio
    g.save(update_fields=["video", "result_duration", "fps", "has_audio"])
    return g


def local_recipe(prompt: str = "a lighthouse at dusk") -> Recipe:
    return Recipe(provider="local", model="preview-t2v", task="t2v", parts={"action": prompt}, duration=1)


def storyboard_with_takes(world, tmp_path, specs, **board) -> tuple:
    """A storyboard of ``world``'s project with one shot per spec (dict of render_clip options), each with
    its finished take chosen."""
    sb = services.create_storyboard(
        workspace=world.workspace, project=world.project, user=world.owner.user, name="Film", **board
    )
    shots = []
    for i, spec in enumerate(specs):
        clip = render_clip(tmp_path / f"clip{i}.mp4", prompt=f"shot {i}", **spec)
        shot = services.add_shot(workspace=world.workspace, storyboard=sb, recipe=local_recipe(f"shot {i}"))
        take = finished_take(
            world.workspace,
            world.project,
            clip,
            duration=spec.get("duration", 1.0),
            fps=spec.get("fps", 16),
            audio=spec.get("audio", False),
        )
        services.add_take(workspace=world.workspace, shot=shot, generation=take)
        services.choose_take(workspace=world.workspace, shot=shot, generation=take)
        shots.append(shot)
    return sb, shots


def an_export(w) -> dict:
    """URL kwargs of a finished export of ``w``'s workspace (a stand-in file: access is what is tried)."""
    from django.core.files.base import ContentFile

    from studio.storyboards.models import Export

    sb = services.create_storyboard(workspace=w.workspace, project=w.project, user=None, name="Film")
    export = Export.objects.create(
        workspace=w.workspace, storyboard=sb, width=320, height=180, fps=16, status=Export.Status.SUCCEEDED
    )
    export.file.save("film.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42" + b"0" * 100))
    return {"slug": w.workspace.slug, "export_id": export.public_id}


def a_storyboard(w) -> dict:
    sb = services.create_storyboard(workspace=w.workspace, project=w.project, user=None, name="Film")
    return {"slug": w.workspace.slug, "storyboard_id": sb.public_id}


def a_shot(w) -> dict:
    kwargs = a_storyboard(w)
    from studio.storyboards.models import Storyboard

    sb = Storyboard.objects.get(public_id=kwargs["storyboard_id"])
    services.add_shot(workspace=w.workspace, storyboard=sb, recipe=local_recipe("one"))
    shot = services.add_shot(workspace=w.workspace, storyboard=sb, recipe=local_recipe("two"))
    return {**kwargs, "shot_id": shot.public_id}
