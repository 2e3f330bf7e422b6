"""Plain helpers that make rows for tests (no factory library needed)."""

from __future__ import annotations

from django.utils import timezone

from studio.generations.models import Generation
from studio.projects.models import Project
from studio.prompts.models import Prompt


def make_generation(
    workspace,
    *,
    project=None,
    status=Generation.Status.QUEUED,
    provider="fake",
    model="m",
    task="t2v",
    text="a lighthouse at dusk",
    user=None,
    **fields,
) -> Generation:
    project = (
        project
        or Project.objects.filter(workspace=workspace).first()
        or Project.objects.create(workspace=workspace, name="P")
    )
    prompt = Prompt.objects.create(
        workspace=workspace, project=project, author=user, text=text, parts={"action": text}
    )
    fields.setdefault("next_poll_at", timezone.now())
    fields.setdefault("size", "320x192")
    fields.setdefault("duration", 1)
    return Generation.objects.create(
        workspace=workspace,
        project=project,
        prompt=prompt,
        created_by=user,
        provider=provider,
        model=model,
        task=task,
        status=status,
        **fields,
    )
