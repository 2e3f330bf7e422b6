"""Per-workspace limits: how many jobs may be in flight, and a monthly budget for paid providers.

``check`` runs inside ``create_generation``'s transaction with the workspace row locked, so two people
pressing Generate at once cannot both slip under a limit. The spend is an estimate (see
studio/providers/pricing.py): jobs that reached the vendor or may still reach it count, from the moment
they are queued; jobs that failed or were canceled before the vendor took them do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.utils import timezone

from studio.generations.models import Generation
from studio.providers.pricing import CENT

S = Generation.Status
IN_FLIGHT = Generation.IN_FLIGHT
#: states whose job the vendor has (or may have) been paid for; failed jobs are not billed by the vendors
BILLED = Q(status__in=(*IN_FLIGHT, S.SUBMIT_UNKNOWN, S.SUCCEEDED)) | (
    Q(status=S.CANCELED) & ~Q(external_id="")
)


def month_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Usage:
    in_flight: int
    max_in_flight: int | None
    spent: Decimal  # this month's estimate, in dollars
    budget: Decimal | None
    since: datetime

    @property
    def left(self) -> Decimal | None:
        return None if self.budget is None else max(Decimal(0), self.budget - self.spent)

    @property
    def share(self) -> int | None:
        """Percent of the budget used, for a meter."""
        if not self.budget:
            return None
        return min(100, int(self.spent * 100 / self.budget))


#: how old the pages' copy of the counts may be (the sum reads every billed job of the month)
SHOWN_FOR_SECONDS = 10


def usage(workspace, *, fresh: bool = False) -> Usage:
    """Jobs in flight and this month's estimated spend against the workspace's limits.

    Pages read the counts from the cache, at most ``SHOWN_FOR_SECONDS`` old and dropped when a job is
    made (``forget``); ``fresh`` counts them now, as ``check`` does under the workspace's lock before a
    job is let through. The limits themselves always come from the workspace row."""
    since = month_start()
    key = _cache_key(workspace.pk, since)
    found = None if fresh else cache.get(key)
    if found is None:
        found = Generation.objects.filter(workspace=workspace).aggregate(
            in_flight=Count("pk", filter=Q(status__in=IN_FLIGHT)),
            spent=Sum("cost_estimate", filter=BILLED & Q(created_at__gte=since)),
        )
        if not fresh:  # a check's count is taken before its own job: never the pages' copy
            cache.set(key, found, SHOWN_FOR_SECONDS)
    return Usage(
        in_flight=found["in_flight"],
        max_in_flight=workspace.max_jobs_in_flight,
        spent=(found["spent"] or Decimal(0)).quantize(CENT),  # SQLite sums decimals as floats
        budget=workspace.monthly_budget,
        since=since,
    )


def forget(workspace_id: int) -> None:
    """Drop the pages' copy of a workspace's counts (a job was made: the next page shows it)."""
    cache.delete(_cache_key(workspace_id, month_start()))


def _cache_key(workspace_id: int, since: datetime) -> str:
    return f"studio:usage:{workspace_id}:{since:%Y-%m}"


def check(workspace, *, cost: Decimal) -> None:
    """Refuse a new job past a limit, saying which and what to do. Call with the workspace row locked."""
    now = usage(workspace, fresh=True)
    if now.max_in_flight is not None and now.in_flight >= now.max_in_flight:
        raise ValidationError(
            f"This workspace already has {now.in_flight} jobs in flight, its limit. Wait for some to "
            "finish, or ask an owner to raise the limit on the Jobs page.",
            code="in_flight",
        )
    refusal = over_budget(now, cost)
    if refusal:
        raise ValidationError(
            f"{refusal} Nothing was sent. An owner can raise the budget on the Jobs page; jobs on the "
            "offline renderer are free.",
            code="budget",
        )


def over_budget(now: Usage, cost: Decimal) -> str | None:
    """Why a job of ``cost`` would pass this month's budget, with the figures, or None when it fits. The job
    form says it before Generate; ``check`` refuses with the same words."""
    if cost > 0 and now.budget is not None and now.spent + cost > now.budget:
        return (
            f"This job (about ${cost}) would take this month's estimated spend to ${now.spent + cost}, "
            f"past the workspace budget of ${now.budget}."
        )
    return None
