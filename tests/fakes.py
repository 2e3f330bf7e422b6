"""A scripted provider for engine tests: the edge where the engine ends and a vendor begins.

Each test sets ``ScriptedProvider.script`` to a list of steps, consumed in order by submit/poll calls:
an exception to raise, a ``Submitted`` or a ``Progress`` to return, or a callable given the call's
argument (the generation id for submit, the external id for poll). Calls are recorded in ``calls``.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from studio.providers.base import Progress, Provider, Submitted


class ScriptedProvider(Provider):
    name = "fake"
    first_poll_delay = 0.0
    poll_steps = (0.0,)
    max_poll_interval = 0.0
    script: list = []
    calls: list[tuple[str, str]] = []
    result_file: Path | None = None
    lock = threading.Lock()

    @classmethod
    def reset(cls, script, result_file=None):
        cls.script = list(script)
        cls.calls = []
        cls.result_file = result_file

    def _next(self, what: str, arg: str):
        with self.lock:
            self.calls.append((what, arg))
            step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return step(arg)
        return step

    def submit(self, spec) -> Submitted:
        return self._next("submit", spec.generation_id)

    def poll(self, external_id: str) -> Progress:
        return self._next("poll", external_id)

    def download(self, url: str, dest: Path) -> None:
        self.calls.append(("download", url))
        if url.startswith("error:"):
            from studio.net import FetchError

            raise FetchError("gone", code=url.split(":", 1)[1], transient=url.endswith("transient"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.result_file, dest)
