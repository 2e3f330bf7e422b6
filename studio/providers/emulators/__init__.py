"""Loopback emulators of the vendors' Wan video APIs, for tests and for running the studio offline.

    from studio.providers.emulators import start_emulator, run_all

    handle = start_emulator("dashscope", task_seconds=0.2)
    handle.base_url          # -> DASHSCOPE_BASE_URL, e.g. http://127.0.0.1:PORT/api/v1
    handle.set_faults(submit_429=2, task_fail={"code": "DataInspectionFailed"})
    ...
    handle.submit_count, handle.poll_count, handle.submits, handle.tasks, handle.requests
    handle.reset(); handle.stop()

Each emulator is strict about the documented fields (a refused request is not a submit), serves real
MP4 results at the requested size from its own signed-looking URLs, and can misbehave on demand
(see :data:`faults.FAULTS`). Every emulator also answers a control endpoint for tests in another process:
``POST /_emulator/faults`` (JSON of fault settings, plus ``task_seconds`` and ``clear``),
``GET /_emulator/stats``, ``GET /_emulator/submits``, ``POST /_emulator/reset``,
``POST /_emulator/forget`` (``{"task_id"}``: the id now reads as expired/unknown).

This package holds the machinery the vendors share; each vendor's emulator lives in its own package
(``studio.providers.<vendor>.emulator``) and is listed in :data:`EMULATORS`.

No Django here: the ``emulate`` management command wraps :func:`run_all`.
"""

from __future__ import annotations

import importlib
import sys
import threading

from .base import Emulator
from .faults import FAULTS, Faults
from .state import Task

__all__ = [
    "EMULATORS",
    "FAULTS",
    "Emulator",
    "Faults",
    "Task",
    "emulator_class",
    "run_all",
    "start_emulator",
]

#: vendor name -> its emulator class (module:Class), in the order run_all() gives them ports. Named, not
#: imported: the vendors' emulators import this package's machinery.
EMULATORS: dict[str, str] = {
    "siliconflow": "studio.providers.siliconflow.emulator:SiliconFlowEmulator",
    "dashscope": "studio.providers.dashscope.emulator:DashScopeEmulator",
    "jiekou": "studio.providers.jiekou.emulator:JiekouEmulator",
}


def emulator_class(vendor: str) -> type[Emulator]:
    try:
        module, name = EMULATORS[vendor].split(":")
    except KeyError:
        raise ValueError(f"unknown vendor {vendor!r}; known: {', '.join(EMULATORS)}") from None
    return getattr(importlib.import_module(module), name)


def start_emulator(
    vendor: str,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = "test-key",
    task_seconds: float = 2.0,
    *,
    verbose: bool = False,
) -> Emulator:
    """Start one vendor's emulator in a background thread and return its handle.

    ``port=0`` picks a free port (read ``handle.base_url``). ``api_key=None`` accepts any Bearer token.
    """
    cls = emulator_class(vendor)
    return cls(host=host, port=port, api_key=api_key, task_seconds=task_seconds, verbose=verbose).start()


def run_all(
    host: str = "127.0.0.1",
    port: int = 8700,
    api_key: str | None = "test-key",
    task_seconds: float = 2.0,
    *,
    verbose: bool = True,
    stop: threading.Event | None = None,
    out=None,
) -> None:
    """Start every emulator on consecutive ports from ``port`` (``port``, ``port+1``, ...), print their base
    URLs, block until Ctrl-C.

    ``stop`` (an Event) ends the wait as Ctrl-C does, for callers that run this in a thread.
    """
    out = out or sys.stdout
    handles: list[Emulator] = []
    try:
        for offset, vendor in enumerate(EMULATORS):
            handles.append(
                start_emulator(vendor, host, port + offset, api_key, task_seconds, verbose=verbose)
            )
        for handle in handles:
            print(f"{handle.vendor.upper()}_BASE_URL={handle.base_url}", file=out)
        key_note = "any Bearer token" if api_key is None else f"Bearer {api_key}"
        print(f"# auth: {key_note}; tasks take {task_seconds:g} s; Ctrl-C stops", file=out, flush=True)
        waiter = stop or threading.Event()
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for handle in handles:
            handle.stop()
