"""What an emulator remembers: accepted tasks, whose state is a function of the clock, and result files."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

QUEUE_FRACTION = 0.3  # the first 30 % of a task's time is spent queued


@dataclass
class Task:
    """One accepted job. Its state is computed from the clock, so no thread drives it."""

    id: str
    vendor: str
    model: str
    body: dict
    created: float  # time.monotonic()
    created_wall: float  # time.time()
    duration: float  # task_seconds when it was created
    width: int
    height: int
    audio: bool = False
    seed: int | None = None
    fail_code: str | None = None
    fail_message: str | None = None
    fail_after: float = 1.0  # fraction of `duration` after which a failing task shows FAILED
    deferred: bool = False  # failure is a validation the vendor does after accepting
    canceled_at: float | None = None
    file_token: str = ""
    result_once: bool = False
    result_expired: bool = False
    info: dict = field(default_factory=dict)  # vendor extras (prompts, usage, function ...)

    # -- clock
    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.created

    def phase(self, now: float | None = None) -> str:
        """``queued`` | ``running`` | ``succeeded`` | ``failed`` | ``canceled``."""
        if self.canceled_at is not None:
            return "canceled"
        elapsed = self.elapsed(now)
        if self.fail_code is not None and elapsed >= self.duration * self.fail_after:
            return "failed"
        if elapsed >= self.duration:
            return "succeeded"
        if elapsed >= self.duration * QUEUE_FRACTION:
            return "running"
        return "queued"

    def progress(self, now: float | None = None) -> int:
        phase = self.phase(now)
        if phase == "succeeded":
            return 100
        if phase in ("queued", "canceled") or self.duration <= 0:
            return 0
        run = self.duration * (1 - QUEUE_FRACTION)
        done = (self.elapsed(now) - self.duration * QUEUE_FRACTION) / run if run > 0 else 1
        return max(0, min(99, int(done * 100)))

    def remaining(self, now: float | None = None) -> float:
        return max(0.0, self.duration - self.elapsed(now))

    @property
    def scheduled_wall(self) -> float:
        return self.created_wall + self.duration * QUEUE_FRACTION

    @property
    def end_wall(self) -> float:
        if self.canceled_at is not None:
            return self.created_wall + (self.canceled_at - self.created)
        if self.fail_code is not None:
            return self.created_wall + self.duration * self.fail_after
        return self.created_wall + self.duration

    def snapshot(self) -> dict:
        return {
            "id": self.id,
            "model": self.model,
            "state": self.phase(),
            "progress": self.progress(),
            "width": self.width,
            "height": self.height,
            "audio": self.audio,
            "seed": self.seed,
            "fail_code": self.fail_code,
            "fail_message": self.fail_message,
            "deferred_failure": self.deferred,
            "result_once": self.result_once,
            "result_expired": self.result_expired,
            "info": self.info,
        }


@dataclass
class ResultFile:
    token: str
    task_id: str
    width: int
    height: int
    audio: bool
    once: bool = False
    downloads: int = 0
