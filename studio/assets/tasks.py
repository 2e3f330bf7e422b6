"""Celery tasks of the assets app: each calls a service; the database decides."""

from celery import shared_task


@shared_task(ignore_result=True)
def sweep_unused_assets_task() -> dict:
    from studio.assets import cleanup

    return cleanup.sweep_unused_assets()
