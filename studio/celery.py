"""The Celery application. Tasks take ids and call services; the database decides what happens."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, worker_ready

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
