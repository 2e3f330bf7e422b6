"""The gallery's event stream (Server-Sent Events): one per open tab, held by the event loop, not a thread.

Served under ASGI (``studio.asgi``). Same door as the pages: a member of the workspace, or 404. The stream
carries that workspace's changed cards (event ``gen-<id>``, data: the card's HTML) and ``news`` when a job
was made; it starts with what changed since the tab's ``Last-Event-ID`` (or the page's ``since``)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from studio.generations import live
from studio.logs import quiet
from studio.workspaces.access import get_membership
from studio.workspaces.models import Membership

HEARTBEAT_SECONDS = 15.0  # a comment line: keeps proxies from timing out, finds a tab that went away
RECHECK_SECONDS = 60.0  # a person removed from the workspace stops hearing it within a minute
RETRY_MS = 2000  # the browser's wait before it reconnects


@quiet
@require_GET
async def gallery_stream(request: HttpRequest, slug: str) -> HttpResponse:
    membership = await sync_to_async(get_membership)(request, slug)
    if not isinstance(request, ASGIRequest):
        # Under WSGI (runserver, the test live server) a stream would hold a thread for as long as the tab
        # stays open. 204 tells the browser there is no stream here: the page's polls carry it instead.
        return HttpResponse(status=204)
    since = live.parse_event_id(request.headers.get("Last-Event-ID", "")) or live.parse_event_id(
        request.GET.get("since", "")
    )
    response = StreamingHttpResponse(
        _events(membership, since), content_type="text/event-stream; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


async def _events(membership: Membership, since):
    hub = live.hub()
    sub = hub.subscribe(membership.workspace_id)  # before the catch-up, so nothing falls between them
    try:
        await hub.listening()
        yield f"retry: {RETRY_MS}\n\n".encode()
        if since is not None and since < timezone.now():
            for event in await sync_to_async(live.catch_up)(
                workspace_id=membership.workspace_id, since=since
            ):
                yield event.encode()
        checked = time.monotonic()
        while True:
            try:
                event = await asyncio.wait_for(sub.queue.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"
                event = ...
            if event is None or sub.dropped:
                return  # the process is stopping, or this tab fell behind: it reconnects and catches up
            if event is not ...:
                yield event.encode()
            if time.monotonic() - checked > RECHECK_SECONDS:
                checked = time.monotonic()
                if not await sync_to_async(_still_member)(membership):
                    return
    finally:
        hub.unsubscribe(sub)


def _still_member(membership: Membership) -> bool:
    with contextlib.suppress(Exception):
        return Membership.objects.filter(pk=membership.pk).exists()
    return True  # the database is away: keep the stream; the next look decides
