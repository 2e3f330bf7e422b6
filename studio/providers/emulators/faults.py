"""Fault switches: make the next N requests (or tasks), or all of them, misbehave the way vendors do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

#: Every fault switch: name -> (what it does, its parameters and their defaults).
#: Submit faults that refuse (429/503, and 500 by default) create no task; ``submit_500`` with
#: ``accepted=True`` creates the task and then answers with the vendor's own 500 body (nothing in a 500
#: says no task was made); 502/504 create the task first unless ``accepted=False`` (a gateway error after
#: the vendor accepted = the unknown outcome the studio must not resubmit); slow/hang/drop/malformed always
#: create the task first.
FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "submit_429": ("submit refused with the vendor's rate-limit body; no task", {}),
    "submit_500": (
        "submit answered with the vendor's 500 body; no task unless accepted=True (then the task IS created)",
        {"accepted": False},
    ),
    "submit_503": ("submit refused with the vendor's 503 (overloaded) body; no task", {}),
    "submit_502": (
        "gateway 502 with no vendor body; the task IS created unless accepted=False",
        {"accepted": True},
    ),
    "submit_504": (
        "gateway 504 with no vendor body; the task IS created unless accepted=False",
        {"accepted": True},
    ),
    "submit_slow": ("task created, then the answer waits `seconds` before it is sent", {"seconds": 3.0}),
    "submit_hang": (
        "task created, never answered until the client gives up (or `seconds` pass)",
        {"seconds": 600.0},
    ),
    "submit_drop": ("task created, then the connection is closed without an answer", {}),
    "submit_malformed": ("task created, then 200 with a truncated (invalid) JSON body", {}),
    "poll_400": (
        "status call answered with the vendor's invalid-request 400 body, though the task exists (no page "
        "documents a 400 there)",
        {},
    ),
    "poll_429": ("status call refused with the vendor's rate-limit body", {}),
    "poll_500": ("status call answered 500 with the vendor's body", {}),
    "poll_502": ("status call answered 502 by the gateway (no vendor body)", {}),
    "poll_503": ("status call answered 503 with the vendor's body", {}),
    "poll_504": ("status call answered 504 by the gateway (no vendor body)", {}),
    "poll_slow": ("status answer waits `seconds` before it is sent", {"seconds": 3.0}),
    "poll_malformed": ("status call answered 200 with a truncated (invalid) JSON body", {}),
    "task_fail": (
        "the next accepted task ends FAILED with the vendor's failure shape "
        "(`code`/`message` on DashScope, `reason` on SiliconFlow and jiekou)",
        {"code": None, "message": None, "reason": None},
    ),
    "result_once": ("the next task's result URL works for one download; later GETs get 403", {}),
    "result_expired": ("the next task's result URL is already expired when it is handed out (403)", {}),
    "download_slow": ("the next result-file download waits `seconds` before its answer", {"seconds": 3.0}),
}

ALWAYS = "always"


class Faults:
    """Fault switches. Each applies to the next N matching requests (or tasks), or ``"always"``.

    >>> faults.set("submit_429", times=2)
    >>> faults.set("submit_slow", seconds=5)       # once
    >>> faults.set("poll_500", times="always")
    >>> faults.submit_503 = 1                      # attribute form: int, "always", True (= always), False/0/None (= off)
    >>> faults.configure(task_fail={"times": 1, "code": "DataInspectionFailed"}, poll_429=3)
    >>> faults.clear("poll_500"); faults.clear()
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_active", {})

    # -- setting
    def set(self, name: str, times: int | str | None = 1, **params: Any) -> None:
        _, defaults = _fault_spec(name)
        unknown = set(params) - set(defaults)
        if unknown:
            raise ValueError(
                f"fault {name!r} takes no parameter(s) {sorted(unknown)}; known: {sorted(defaults)}"
            )
        if times is None or times is True or times == ALWAYS:
            remaining = None
        elif isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise ValueError(f"times must be a non-negative int or 'always', not {times!r}")
        elif times == 0:
            self.clear(name)
            return
        else:
            remaining = times
        with self._lock:
            self._active[name] = {"remaining": remaining, "params": {**defaults, **params}}

    def configure(self, **spec: Any) -> None:
        """Set several switches: ``name=N | "always" | True | False | None | {"times": N, **params}``."""
        for name, value in spec.items():
            self._set_spec(name, value)

    def _set_spec(self, name: str, value: Any) -> None:
        _fault_spec(name)
        if value is None or value is False or value == 0:
            self.clear(name)
        elif isinstance(value, dict):
            params = dict(value)
            times = params.pop("times", 1)
            self.set(name, times, **params)
        else:
            self.set(name, value)

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._active.clear()
            else:
                _fault_spec(name)
                self._active.pop(name, None)

    # -- using
    def take(self, name: str, when: Callable[[dict], bool] | None = None) -> dict | None:
        """If ``name`` is on (and ``when(params)`` holds), use up one application and return its params."""
        with self._lock:
            entry = self._active.get(name)
            if entry is None or (when is not None and not when(entry["params"])):
                return None
            if entry["remaining"] is not None:
                entry["remaining"] -= 1
                if entry["remaining"] <= 0:
                    del self._active[name]
            return dict(entry["params"])

    def active(self) -> dict[str, dict]:
        with self._lock:
            return {
                name: {"times": ALWAYS if e["remaining"] is None else e["remaining"], **e["params"]}
                for name, e in self._active.items()
            }

    # -- attribute form
    def __getattr__(self, name: str) -> Any:
        if name in FAULTS:
            with self._lock:
                entry = self._active.get(name)
            if entry is None:
                return None
            return ALWAYS if entry["remaining"] is None else entry["remaining"]
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in FAULTS:
            self._set_spec(name, value)
        else:
            raise AttributeError(f"unknown fault {name!r}; known: {sorted(FAULTS)}")

    def __repr__(self) -> str:
        return f"Faults({self.active()!r})"


def _fault_spec(name: str) -> tuple[str, dict[str, Any]]:
    try:
        return FAULTS[name]
    except KeyError:
        raise ValueError(f"unknown fault {name!r}; known: {sorted(FAULTS)}") from None
