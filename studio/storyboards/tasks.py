"""Celery tasks: each takes an id and calls the service. The database decides; the broker only nudges."""

from celery import shared_task


@shared_task(ignore_result=True)
def run_export_task(export_id: int) -> None:
    from studio.storyboards import exports

    exports.run_export(export_id)


@shared_task(ignore_result=True)
def advance_chains_task() -> int:
    """Each beat: move on every "generate from here" whose current take has finished."""
    from studio.storyboards import chains

    return chains.advance_chains()
