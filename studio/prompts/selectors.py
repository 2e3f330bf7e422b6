"""Reading prompt templates: a workspace sees its own and the built-in ones (workspace NULL), never another's."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Lower

from studio.prompts.models import PART_NAMES, PromptTemplate

MAX_QUERY = 100


def templates_for_workspace(workspace, q: str = "") -> QuerySet[PromptTemplate]:
    """The workspace's templates first, then the built-ins, each by name; ``q`` searches name, description
    and every part's text (case-insensitive, all words must match somewhere)."""
    qs = PromptTemplate.objects.filter(Q(workspace=workspace) | Q(workspace__isnull=True))
    for word in (q or "").split()[:8]:
        word = word[:MAX_QUERY]
        match = Q(name__icontains=word) | Q(description__icontains=word) | Q(negative__icontains=word)
        for part in PART_NAMES:
            match |= Q(**{f"parts__{part}__icontains": word})
        qs = qs.filter(match)
    return qs.annotate(
        builtin_order=Case(
            When(workspace__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()
        )
    ).order_by("builtin_order", Lower("name"), "pk")


def templates_for_builder(workspace) -> dict[str, list[PromptTemplate]]:
    """The builder's "start from a template" list, split into this workspace's and the built-in ones."""
    own, builtin = [], []
    for t in templates_for_workspace(workspace).only("id", "name", "description", "workspace_id"):
        (builtin if t.workspace_id is None else own).append(t)
    return {"own": own, "builtin": builtin}


def get_template(workspace, template_id: int, *, own_only: bool = False) -> PromptTemplate:
    """One template the workspace may read (its own or a built-in); with ``own_only``, its own only.
    Raises PromptTemplate.DoesNotExist otherwise, so another workspace's template looks like nothing."""
    scope = Q(workspace=workspace) if own_only else Q(workspace=workspace) | Q(workspace__isnull=True)
    return PromptTemplate.objects.filter(scope).get(pk=template_id)


def name_taken(workspace, name: str) -> PromptTemplate | None:
    """A template this workspace would confuse with ``name``: its own or a built-in, ignoring case."""
    return (
        PromptTemplate.objects.filter(
            Q(workspace=workspace) | Q(workspace__isnull=True), name__iexact=name.strip()
        )
        .order_by("workspace_id")
        .first()
    )
