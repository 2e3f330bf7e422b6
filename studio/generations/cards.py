"""Gallery cards as HTML: a finished card is rendered once and kept in Django's cache.

A card's key is made of everything its markup shows (the row's fields and ``updated_at``, its prompt, the
workspace's slug in its links, the words of "3 hours ago", the time zone and language) and of the card
template's own text, so a changed row, a new deploy or an hour passing asks for a new key: nothing is ever
invalidated by scanning, and a stale key simply ages out. The card has no buttons that depend on who looks
(any member sees the same card), so the viewer's role is not part of it; the workspace is, so another
workspace never gets one of ours even for a row it could not see anyway.

A job still moving (queued, running, downloading...) is never cached: its card counts its time in line each
second, so it is rendered fresh every time.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.core.cache import cache as django_cache
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

CARD = "generations/card.html#generation-card"
TIMEOUT = 24 * 3600  # a card unseen for a day is rendered again next time
_PREFIX = "card:v1:"


@cache
def template_version() -> str:
    """The card template's own text, hashed once per process: a deploy that changes it changes every key."""
    from pathlib import Path

    source = Path(get_template("generations/card.html").origin.name).read_bytes()
    return hashlib.blake2b(source, digest_size=8).hexdigest()


def cache_key(g, workspace) -> str:
    """Everything the finished card's markup depends on, hashed."""
    parts = (
        template_version(),
        workspace.pk,
        workspace.slug,
        g.pk,
        g.workspace_id,
        g.public_id,
        g.updated_at.isoformat() if g.updated_at else "",
        g.status,
        g.progress,
        g.queue_position,
        g.poster.name if g.poster else "",
        g.video.name if g.video else "",
        g.width,
        g.height,
        g.size,
        g.duration,
        g.result_duration,
        g.model,
        g.error_message,
        g.prompt.text,
        g.created_at.isoformat(),
        timesince(g.created_at),  # "3 hours": the card says it, so the card changes when it does
        timezone.get_current_timezone_name(),
        translation.get_language(),
    )
    return _PREFIX + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def render_card(g, workspace) -> SafeString:
    return get_template(CARD).render({"g": g, "workspace": workspace})  # a template's output is safe


def cards(generations, workspace) -> list[SafeString]:
    """Each generation's card, finished ones from the cache (one round trip for the lot), in order."""
    keys = {g.pk: cache_key(g, workspace) for g in generations if not g.is_active}
    found = django_cache.get_many(list(keys.values())) if keys else {}
    fresh, out = {}, []
    for g in generations:
        key = keys.get(g.pk)
        html = found.get(key) if key else None
        if html is None:
            html = render_card(g, workspace)
            if key:
                fresh[key] = str(html)
        out.append(SafeString(html))  # ours, as the template made it (a cache may hand back a plain str)
    if fresh:
        django_cache.set_many(fresh, TIMEOUT)
    return out


def attach(generations, workspace):
    """Set ``card_html`` on each generation (what the gallery templates print), and return them."""
    for g, html in zip(generations, cards(generations, workspace), strict=True):
        g.card_html = html
    return generations


def card(g, workspace) -> SafeString:
    return cards([g], workspace)[0]
