"""Vendors' rate limits as token buckets every worker shares (decision 0011).

A vendor's limit is per account: DashScope answers at most 20 task queries a second per account, and
takes 2 submits a second of some models. Every worker and thread that calls the vendor with the same key
takes its tokens from one bucket, kept in Redis when Redis is the broker (one atomic script; Redis's own
clock, so hosts need not agree on the time) and in a database row otherwise (the embedded default, where
every process is on one machine).

``take`` never waits: it takes a token and answers 0.0, or takes nothing and answers the seconds until one
is free. The engine then moves the call later instead of holding a thread: a refused poll is only delayed,
a refused submit stays queued (nothing was sent).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """``per_second`` tokens come back each second, up to ``burst`` saved (one second's worth by default)."""

    per_second: float
    burst: float = 0.0

    @classmethod
    def at_most(cls, calls: int) -> Rate:
        """No more than ``calls`` in any one second, however the vendor counts its second: one saved
        token and ``calls - 1`` a second (a fuller bucket would allow a burst plus a second's refill)."""
        return cls(per_second=max(calls - 1, 0.5), burst=1.0)

    @property
    def capacity(self) -> float:
        return self.burst or max(1.0, self.per_second)


def account(provider: str, api_key: str) -> str:
    """A vendor account's name in bucket keys: a hash of its key, so no key is ever written down."""
    return hashlib.sha256(f"{provider}\0{api_key}".encode()).hexdigest()[:20]


def take(key: str, rate: Rate) -> float:
    """Take one token from ``key``'s bucket: 0.0 if taken, else the seconds until one is free."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        try:
            return _take_redis(url, key, rate)
        except Exception as exc:  # Redis down: the broker is down too; fall back rather than stall
            log.warning("rate bucket %s: Redis unavailable (%s); using the database", key, exc)
    return _take_database(key, rate)


# --------------------------------------------------------------------------------------- Redis

_SCRIPT = """
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""
_scripts: dict[str, object] = {}  # broker URL -> the script, registered on a client of that Redis
_scripts_lock = threading.Lock()


def _take_redis(url: str, key: str, rate: Rate) -> float:
    with _scripts_lock:
        script = _scripts.get(url)
        if script is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
            script = _scripts[url] = client.register_script(_SCRIPT)
    return float(script(keys=[f"studio:bucket:{key}"], args=[rate.per_second, rate.capacity]))


# ------------------------------------------------------------------------------------- database


def _take_database(key: str, rate: Rate) -> float:
    from studio.providers.models import RateBucket

    for _ in range(3):
        try:
            with transaction.atomic():
                now = timezone.now()
                bucket = RateBucket.objects.select_for_update().filter(key=key).first()
                if bucket is None:
                    RateBucket.objects.create(key=key, tokens=rate.capacity - 1, stamp=now)
                    return 0.0
                elapsed = max(0.0, (now - bucket.stamp).total_seconds())
                tokens = min(rate.capacity, bucket.tokens + elapsed * rate.per_second)
                wait = 0.0
                if tokens >= 1:
                    tokens -= 1
                else:
                    wait = (1 - tokens) / rate.per_second
                RateBucket.objects.filter(pk=bucket.pk).update(tokens=tokens, stamp=max(now, bucket.stamp))
                return wait
        except IntegrityError:  # another worker made the row first: take from it
            continue
    raise DatabaseError(f"rate bucket {key} could not be read")
