"""The fault suite's worker: the real Celery worker with beat, on a faster clock.

Only timing changes, so that a scenario takes seconds instead of minutes: the vendors' poll cadence and
the engine's backoffs are divided by ``FAULTS_SPEEDUP``, and the leases are shortened to a few seconds
(still longer than any call the suite lets a vendor take). Every claim, transition, retry rule and
download path is the production code.

    python -m tests.faults.worker --schedule PATH [celery worker options]
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

import django

SPEEDUP = float(os.environ.get("FAULTS_SPEEDUP", "10"))
SUBMIT_LEASE = float(os.environ.get("FAULTS_SUBMIT_LEASE", "8"))
POLL_LEASE = float(os.environ.get("FAULTS_POLL_LEASE", "10"))


def faster_clock() -> None:
    from studio.generations.engine import rules
    from studio.providers.registry import provider_class

    for name in ("siliconflow", "dashscope", "jiekou"):
        cls = provider_class(name)
        cls.first_poll_delay = cls.first_poll_delay / SPEEDUP
        cls.poll_steps = tuple(step / SPEEDUP for step in cls.poll_steps)
        cls.max_poll_interval = cls.max_poll_interval / SPEEDUP
    backoff = rules.backoff
    rules.backoff = lambda attempt, retry_after=None: backoff(attempt, retry_after) / SPEEDUP
    rules.SUBMIT_LEASE = timedelta(seconds=SUBMIT_LEASE)
    rules.POLL_LEASE = timedelta(seconds=POLL_LEASE)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    django.setup()
    faster_clock()
    from studio.celery import app

    app.worker_main(["worker", "--beat", "--loglevel", "info", "--concurrency", "2", *sys.argv[1:]])
