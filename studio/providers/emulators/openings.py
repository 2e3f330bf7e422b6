"""What every submit and status call meets before the vendor's own code: the key, the vendor's rate
limits (``RATE_LIMITS``, over a sliding second, counted in ``throttled``) and the injected faults (before
a task exists, and after).

A mixin of :class:`~.base.Emulator`, which provides ``faults``, ``_lock``, ``_calls``, ``throttled``,
``require_bearer``, ``json_object``, ``count_poll`` and the vendor's ``fault_reply``.
"""

from __future__ import annotations

import collections
import time

from .protocol import Refusal, Reply, Request, gateway_reply


class CallOpenings:
    #: call kind -> how many the vendor takes in any one second per key ("query", "submit:<model>")
    RATE_LIMITS: dict[str, int] = {}

    def over_rate(self, kind: str) -> bool:
        """True (and counted in ``throttled``) when this call would pass the vendor's limit for ``kind``
        over the last second; else the call is recorded. A kind with no limit always passes."""
        limit = self.RATE_LIMITS.get(kind)
        if limit is None:
            return False
        now = time.monotonic()
        with self._lock:
            calls = self._calls.setdefault(kind, collections.deque())
            while calls and calls[0] <= now - 1.0:
                calls.popleft()
            if len(calls) >= limit:
                self.throttled[kind] = self.throttled.get(kind, 0) + 1
                return True
            calls.append(now)
            return False

    def submit_opening(self, request: Request) -> dict:
        """What every submit checks first, in the vendors' order: the key, the faults that refuse before
        anything is created, then the body as a JSON object (returned)."""
        self.require_bearer(request)
        refused = self.submit_fault_before()
        if refused is not None:
            raise Refusal(refused)
        return self.json_object(request)

    def submit_fault_before(self) -> Reply | None:
        """Faults that refuse the submit before anything is created (none of them counts as a submit)."""
        for status in (429, 503):
            if self.faults.take(f"submit_{status}") is not None:
                return self.fault_reply(status)
        if self.faults.take("submit_500", when=lambda p: not p["accepted"]) is not None:
            return self.fault_reply(500)
        for status in (502, 504):
            if self.faults.take(f"submit_{status}", when=lambda p: not p["accepted"]) is not None:
                return gateway_reply(status)
        return None

    def submit_fault_after(self, reply: Reply) -> Reply:
        """Faults that act once the task exists: the answer is lost, late, broken or never comes."""
        if self.faults.take("submit_500", when=lambda p: bool(p["accepted"])) is not None:
            return self.fault_reply(500)  # the vendor's own 500 body, and yet the (paid) task exists
        for status in (502, 504):
            if self.faults.take(f"submit_{status}", when=lambda p: bool(p["accepted"])) is not None:
                return gateway_reply(status)
        if self.faults.take("submit_drop") is not None:
            return Reply(0, action="drop")
        params = self.faults.take("submit_hang")
        if params is not None:
            return Reply(0, action="hang", hang_seconds=float(params["seconds"]))
        if self.faults.take("submit_malformed") is not None:
            return _malformed(reply)
        params = self.faults.take("submit_slow")
        if params is not None:
            reply.delay = float(params["seconds"])
        return reply

    def poll_opening(self, request: Request) -> None:
        """What every status call does first: count it, check the key, then the faults that refuse it."""
        self.count_poll()
        self.require_bearer(request)
        refused = self.poll_fault_before()
        if refused is not None:
            raise Refusal(refused)

    def poll_fault_before(self) -> Reply | None:
        for status in (400, 429, 500, 503):
            if self.faults.take(f"poll_{status}") is not None:
                return self.fault_reply(status)
        for status in (502, 504):
            if self.faults.take(f"poll_{status}") is not None:
                return gateway_reply(status)
        return None

    def poll_fault_after(self, reply: Reply) -> Reply:
        if self.faults.take("poll_malformed") is not None:
            return _malformed(reply)
        params = self.faults.take("poll_slow")
        if params is not None:
            reply.delay = float(params["seconds"])
        return reply


def _malformed(reply: Reply) -> Reply:
    body = reply.body or b'{"status": "'
    cut = body[: max(1, len(body) // 2)]
    return Reply(
        200, cut, "application/json", {k: v for k, v in reply.headers.items() if k != "Content-Length"}
    )
