"""Reads for galleries: scoped, joined and keyset-paginated, so a page costs the same few queries at any size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

from studio.generations.models import Generation
from studio.inputs import whole_number

PAGE_SIZE = 24
# Columns a gallery card never shows (the recipe, the vendor's reply, the error's detail): left in the
# database, so a page reads and decodes 24 rows, not 24 rows' JSON. The detail page reads them.
CARD_UNUSED = (
    "params",
    "recipe",
    "warnings",
    "error_detail",
    "vendor_report",
    "actual_prompt",
    "prompt__parts",
    "prompt__negative",
)


@dataclass(frozen=True)
class GalleryFilters:
    status: str = ""
    provider: str = ""
    model: str = ""
    task: str = ""
    author: str = ""
    since: str = ""  # YYYY-MM-DD
    until: str = ""
    q: str = ""

    def apply(self, qs: QuerySet[Generation]) -> QuerySet[Generation]:
        if self.status == "active":
            qs = qs.filter(status__in=Generation.IN_FLIGHT)
        elif self.status:
            qs = qs.filter(status=self.status)
        if self.provider:
            qs = qs.filter(provider=self.provider)
        if self.model:
            qs = qs.filter(model=self.model)
        if self.task:
            qs = qs.filter(task=self.task)
        if self.author:
            qs = qs.filter(created_by__username=self.author)
        if self.since:
            qs = qs.filter(created_at__date__gte=self.since)
        if self.until:
            qs = qs.filter(created_at__date__lte=self.until)
        for word in self.q.split()[:8]:
            qs = qs.filter(prompt__text__icontains=word)
        return qs

    @property
    def active(self) -> bool:
        return any(vars(self).values())


def cursor_of(g: Generation) -> str:
    return f"{g.created_at.isoformat()}~{g.pk}"


def _parse_cursor(cursor: str) -> tuple[datetime, int] | None:
    """A keyset cursor from a URL, or None for anything else (a page then starts from the newest)."""
    stamp, _, pk = cursor[:64].partition("~")
    try:
        when = parse_datetime(stamp) if stamp else None
    except ValueError:  # well formed but impossible: month 13, day 45
        return None
    number = whole_number(pk, low=1)
    return (when, number) if when and number else None


def gallery_queryset(
    *, workspace, project=None, filters: GalleryFilters | None = None
) -> QuerySet[Generation]:
    qs = Generation.objects.filter(workspace=workspace)
    if project is not None:
        qs = qs.filter(project=project)
    qs = (filters or GalleryFilters()).apply(qs)
    return (
        qs.select_related("prompt", "created_by", "project")
        .defer(*CARD_UNUSED)
        .order_by("-created_at", "-id")
    )


def gallery_page(
    *,
    workspace,
    project=None,
    filters: GalleryFilters | None = None,
    before: str = "",
    limit: int = PAGE_SIZE,
) -> tuple[list[Generation], str]:
    """One page, newest first, strictly older than the ``before`` cursor; returns (rows, next cursor or "")."""
    qs = gallery_queryset(workspace=workspace, project=project, filters=filters)
    parsed = _parse_cursor(before) if before else None
    if parsed:
        when, pk = parsed
        qs = qs.filter(Q(created_at__lt=when) | Q(created_at=when, pk__lt=pk))
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (cursor_of(rows[-1]) if more and rows else "")


def newer_than(
    *, workspace, project=None, filters: GalleryFilters | None = None, after: str, limit: int = 24
) -> list[Generation]:
    """Jobs made since ``after`` (another tab, a teammate, the CLI): one indexed query, usually empty."""
    parsed = _parse_cursor(after)
    if not parsed:
        return []
    when, pk = parsed
    qs = gallery_queryset(workspace=workspace, project=project, filters=filters)
    return list(qs.filter(Q(created_at__gt=when) | Q(created_at=when, pk__gt=pk))[:limit])


def ops_overview(*, workspace) -> dict:
    """For an owner: jobs by state, and the ones that need a person or look stuck."""
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    now = timezone.now()
    qs = Generation.objects.filter(workspace=workspace)
    by_state = dict(qs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    stuck = (
        qs.filter(
            Q(status=Generation.Status.SUBMIT_UNKNOWN)
            | Q(status__in=[Generation.Status.SUBMITTING, Generation.Status.DOWNLOADING], lease_until__lt=now)
            | Q(
                status__in=[Generation.Status.SUBMITTED, Generation.Status.RUNNING],
                next_poll_at__lt=now - timedelta(minutes=5),
            )
            | Q(status=Generation.Status.QUEUED, created_at__lt=now - timedelta(minutes=10))
        )
        .select_related("prompt", "created_by", "project")
        .order_by("created_at")[:100]
    )
    return {
        "by_state": [(s, label, by_state.get(s, 0)) for s, label in Generation.Status.choices],
        "stuck": list(stuck),
    }
