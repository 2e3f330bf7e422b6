"""The Celery application. Tasks take ids and call services; the database decides what happens."""

import os
import sys
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

app = Celery("studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _report_ready(name: str) -> None:
    """``manage.py up`` waits for these marks before it prints the URL (STUDIO_READY_DIR is its own)."""
    folder = os.environ.get("STUDIO_READY_DIR")
    if folder:
        Path(folder, name).touch()


worker_ready.connect(lambda **_: _report_ready("worker"), weak=False)
beat_init.connect(lambda **_: _report_ready("beat"), weak=False)


def _refuse_to_start(process: str) -> None:
    """A worker or beat whose bucket or shared folder is gone stops at once with its name."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()
    from studio.checks import refuse_to_start

    try:
        refuse_to_start(process)
    except ImproperlyConfigured as exc:
        # Said here: celery swallows a handler's plain exceptions, and beat exits quietly on SystemExit.
        # The real stderr: celery may have put a logging proxy in its place by now.
        sys.__stderr__.write(f"{exc}\n")
        sys.__stderr__.flush()
        raise SystemExit(1) from None


worker_init.connect(lambda **_: _refuse_to_start("worker"), weak=False)
beat_init.connect(lambda **_: _refuse_to_start("beat"), weak=False)
