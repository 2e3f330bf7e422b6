"""Pushed updates: one hub per web process fans changed cards out to every open tab's event stream.

Where the changes come from (decision 0007):
- With Redis as the broker, writers publish a job's id on ``CHANNEL`` when it changes in a way a card
  shows (``notify``); the hub reads those ids and checks only those rows, plus the whole recent window
  every ``SAFETY_SECONDS`` in case a message was lost.
- On the embedded default (no Redis) the hub checks the database once a second for rows updated since
  its last look.
Either way the database decides: a message only says "look at row 17", and the hub renders what the row
says now, once per change and per process, whatever the number of tabs. A tab reconnecting with
``Last-Event-ID`` (or the page's own ``since``) is sent what changed meanwhile (``catch_up``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from studio.generations import cards
from studio.generations.models import Generation

log = logging.getLogger(__name__)
CHANNEL = "studio:live"
CHECK_SECONDS = 1.0  # the database check on the embedded default
SAFETY_SECONDS = 5.0  # with Redis: the whole window again, for a message lost on the way
OVERLAP = timedelta(seconds=3)  # a write stamped before another may commit after it: look back this far
QUEUE_SIZE = (
    1000  # events a slow tab may have waiting; past it the tab is dropped and catches up on reconnect
)
CATCH_UP_ROWS = 200
FORGET_AFTER = timedelta(minutes=10)


def redis_url() -> str:
    """Redis for pub/sub when it is the broker, else "" (the database check)."""
    url = settings.CELERY_BROKER_URL
    return url if url.startswith(("redis://", "rediss://")) else ""


# ------------------------------------------------------------------------------------------ writers

_client = None
_client_lock = threading.Lock()


def notify(generation_id: int) -> None:
    """Say that a job changed (after the transaction commits). A no-op without Redis: the hub's database
    check finds the row by its ``updated_at``. Never raises: a lost message is found by the safety check."""
    url = redis_url()
    if not url:
        return

    def send() -> None:
        global _client
        try:
            with _client_lock:
                if _client is None:
                    import redis

                    _client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            _client.publish(CHANNEL, str(generation_id))
        except Exception as exc:  # Redis down: the hub's safety check finds the change a little later
            log.debug("could not publish a change of generation %s: %s", generation_id, exc)

    transaction.on_commit(send)


# ------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    workspace_id: int
    name: str
    data: str
    id: str = ""

    def encode(self) -> bytes:
        lines = [f"event: {self.name}"]
        if self.id:
            lines.append(f"id: {self.id}")
        lines += [f"data: {line}" for line in self.data.splitlines() or [""]]
        return ("\n".join(lines) + "\n\n").encode()


def event_id(stamp: datetime) -> str:
    """An event id is the row's ``updated_at`` in microseconds: a cursor any web process understands."""
    return str(int(stamp.timestamp() * 1_000_000))


def parse_event_id(value: str) -> datetime | None:
    try:
        micros = int(value[:20])
    except (TypeError, ValueError):
        return None
    if micros <= 0:
        return None
    try:
        return datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


_FIELDS = ("pk", "workspace_id", "status", "progress", "queue_position", "poster", "updated_at", "created_at")


def _signature(row: dict) -> tuple:
    """What a card shows: a change of anything else (a claim, a lease) pushes nothing."""
    return (row["status"], row["progress"], row["queue_position"], bool(row["poster"]))


def render_events(pks: list[int]) -> list[Event]:
    """Each row's card as one event named after it, in the order of their changes."""
    if not pks:
        return []
    rows = Generation.objects.filter(pk__in=pks).select_related("prompt", "workspace").order_by("updated_at")
    # A finished card comes from the cache the gallery pages fill (and fills it for them).
    return [
        Event(
            workspace_id=g.workspace_id,
            name=f"gen-{g.public_id}",
            data=cards.card(g, g.workspace),
            id=event_id(g.updated_at),
        )
        for g in rows
    ]


def news_event(workspace_id: int, stamp: datetime) -> Event:
    """A job was made: the gallery asks for its new cards (with its own filters) at once."""
    return Event(workspace_id=workspace_id, name="news", data="new", id=event_id(stamp))


def catch_up(*, workspace_id: int, since: datetime) -> list[Event]:
    """What changed in a workspace since ``since`` (a reconnecting tab's last event): its cards, newest
    changes last, and one "news" if a job was made meanwhile."""
    start = since - OVERLAP
    rows = list(
        Generation.objects.filter(workspace_id=workspace_id, updated_at__gt=start)
        .order_by("-updated_at")
        .values_list("pk", "created_at", "updated_at")[:CATCH_UP_ROWS]
    )
    events = render_events([pk for pk, _, _ in rows])
    made = [updated for _, created, updated in rows if created > start]
    if made:
        events.append(news_event(workspace_id, max(made)))
    return events


# ---------------------------------------------------------------------------------------------- hub


class Subscriber:
    """One open stream: a bounded queue of its workspace's events."""

    def __init__(self, workspace_id: int):
        self.workspace_id = workspace_id
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.dropped = False

    def put(self, event: Event | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # Too slow to keep up: end this stream; the browser reconnects and catches up from its last id.
            self.dropped = True


class Hub:
    """Per process: watches for changed jobs, renders each changed card once, fans it out in memory."""

    def __init__(self) -> None:
        self.subscribers: dict[int, set[Subscriber]] = {}
        self.closing = False
        self.checks = 0
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._listening: asyncio.Event | None = None
        self._primed: asyncio.Event | None = None
        self._pending: set[int] = set()
        # One thread for the hub's database work, so it keeps one connection instead of one per check.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live")
        self._cursor: datetime | None = None
        self._seen: dict[int, tuple[tuple, datetime, bool]] = {}

    # -- streams

    def subscribe(self, workspace_id: int) -> Subscriber:
        self._ensure_running()
        sub = Subscriber(workspace_id)
        self.subscribers.setdefault(workspace_id, set()).add(sub)
        if self.closing:
            sub.put(None)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        subs = self.subscribers.get(sub.workspace_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.subscribers[sub.workspace_id]

    async def listening(self, timeout: float = 2.0) -> None:
        """Wait (a little, once per process) until the hub has its first look and hears messages: what
        changed before that a new tab's catch-up sends, what changes after it the hub does."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(self._primed.wait(), self._listening.wait()), timeout)

    @property
    def open_streams(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    def publish(self, events: list[Event]) -> None:
        for event in events:
            for sub in list(self.subscribers.get(event.workspace_id, ())):
                sub.put(event)

    def close(self) -> None:
        """End every stream now (the process is stopping): each browser reconnects to a live process."""
        self.closing = True
        for subs in list(self.subscribers.values()):
            for sub in list(subs):
                sub.put(None)
        if self._task is not None:
            self._task.cancel()

    # -- the watcher

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is not None and self._loop is loop and not self._task.done():
            return
        self._loop = loop
        self._wake = asyncio.Event()
        self._listening = asyncio.Event()
        self._primed = asyncio.Event()
        if not redis_url():
            self._listening.set()
        self._task = loop.create_task(self._run(), name="studio-live-hub")
        _close_on_signals(self)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        listener = loop.create_task(self._listen()) if redis_url() else None
        interval = SAFETY_SECONDS if listener else CHECK_SECONDS
        last_full = 0.0
        try:
            if self._cursor is None:
                with contextlib.suppress(Exception):
                    await loop.run_in_executor(self._executor, self._check, [], True)
            self._primed.set()
            while not self.closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=interval)
                self._wake.clear()
                if listener is not None and self._pending:
                    await asyncio.sleep(0.02)  # gather the ids of one burst into one check
                pks, self._pending = self._pending, set()
                full = loop.time() - last_full >= interval * 0.9
                if full:
                    last_full = loop.time()
                if not self.subscribers:
                    continue
                try:
                    events = await loop.run_in_executor(self._executor, self._check, sorted(pks), full)
                except Exception:
                    log.exception("the live check failed; trying again")
                    continue
                self.publish(events)
        finally:
            if listener is not None:
                listener.cancel()

    async def _listen(self) -> None:
        """Redis pub/sub: collect the ids of changed jobs and wake the watcher."""
        import redis.asyncio as aioredis

        while not self.closing:
            client = aioredis.Redis.from_url(redis_url())
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._listening.set()
                    self._wake.set()  # anything said before we listened: look at the window once
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        with contextlib.suppress(ValueError):
                            self._pending.add(int(message["data"]))
                            self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("live updates lost Redis (%s); the database check covers until it is back", exc)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _check(self, pks: list[int], full: bool) -> list[Event]:
        """The given rows, and with ``full`` every row changed since the last look, as events of what
        changed on their cards; runs in the hub's thread."""
        try:
            return self._changed(pks, full)
        except DatabaseError:
            connection.close()  # a fresh connection next time (a restart, a failover)
            raise

    def _changed(self, pks: list[int], full: bool) -> list[Event]:
        self.checks += 1
        now = timezone.now()
        priming = self._cursor is None
        if priming:
            # The first look only learns what the cards show now: a tab opened before it catches up by
            # itself (its ``since``), and pushing every recent row to it again would be a burst of nothing.
            self._cursor = now - OVERLAP
        wanted = Q(pk__in=pks)
        if full:
            wanted |= Q(updated_at__gt=self._cursor - OVERLAP)
        qs = Generation.objects.filter(wanted)
        rows = list(qs.order_by("updated_at").values(*_FIELDS)[:2000])
        changed, news = [], {}
        for row in rows:
            sig = _signature(row)
            known = self._seen.get(row["pk"])
            if known is None and row["created_at"] > self._cursor - OVERLAP:
                news[row["workspace_id"]] = row["updated_at"]
            if known is None or known[0] != sig:
                changed.append(row["pk"])
            self._seen[row["pk"]] = (sig, row["updated_at"], row["status"] in Generation.FINISHED)
            if row["updated_at"] > self._cursor:
                self._cursor = row["updated_at"]
        forget = now - FORGET_AFTER
        for pk, (_, stamp, finished) in list(self._seen.items()):
            # Finished rows leave the window for good; running ones are kept so a claim pushes nothing.
            if (finished and stamp < self._cursor - OVERLAP * 2) or stamp < forget:
                del self._seen[pk]
        if priming:
            return []
        events = render_events(changed)
        events += [news_event(ws, stamp) for ws, stamp in news.items()]
        return events


_hub: Hub | None = None


def hub() -> Hub:
    global _hub
    if _hub is None:
        _hub = Hub()
    return _hub


def _close_on_signals(the_hub: Hub) -> None:
    """End the streams as soon as the server is told to stop, before it waits for open responses to
    finish (which a stream never does by itself). The server's own handler still runs after ours."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if getattr(previous, "studio_live", False):
            continue

        def handler(signum, frame, previous=previous):
            loop.call_soon_threadsafe(the_hub.close)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL:
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)

        handler.studio_live = True
        signal.signal(sig, handler)
