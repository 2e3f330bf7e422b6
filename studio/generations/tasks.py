"""Celery tasks: each takes an id and calls the engine. The database decides; the broker only nudges."""

from celery import shared_task


@shared_task(ignore_result=True)
def submit_generation_task(generation_id: int) -> None:
    from studio.generations import engine

    engine.submit(generation_id)


@shared_task(ignore_result=True)
def sweep_task() -> dict:
    from studio.generations import engine

    report = engine.sweep()
    return {
        "recovered": report.recovered,
        "submitted": report.submitted,
        "polled": report.polled,
        "errors": len(report.errors),
    }
