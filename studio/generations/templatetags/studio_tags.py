from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def elapsed(start: datetime | None, end: datetime | None = None) -> str:
    """Compact time since ``start`` (or until ``end``): "42 s", "3 min 05 s", "2 h 10 min"."""
    if not start:
        return ""
    seconds = int(((end or timezone.now()) - start).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def asset_facts(asset) -> str:
    """A kept input file's measured facts: "1280x720 · 3.0 s · 16 fps"."""
    from studio.assets.models import describe_asset

    return describe_asset(asset)


@register.filter
def eta_left(g) -> str:
    """A running job's expected time left, from its kind's history or the vendor ("about 40 s left")."""
    from studio.generations.eta import seconds_left

    left = seconds_left(g)
    if left is None:
        return ""
    return "finishing" if left == 0 else f"about {elapsed(timezone.now() - timedelta(seconds=left))} left"
