"""The engine in real processes: a Celery worker with beat, kill -9, two engines on one database."""

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from studio.generations import services
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from tests.processes import wait_for

pytestmark = pytest.mark.slow
S = Generation.Status


def make_local_job(world, *, duration=1, size="832x480", prompt="a paper boat on a pond"):
    return services.create_generation(
        workspace=world.workspace,
        project=world.project,
        user=world.owner.user,
        recipe=Recipe(provider="local", model="preview-t2v", prompt=prompt, size=size, duration=duration),
    )


def status_of(g) -> str:
    return Generation.objects.values_list("status", flat=True).get(pk=g.pk)


def test_a_job_made_by_the_service_finishes_with_nobody_touching_it(world, processes):
    worker = processes.worker()
    g = make_local_job(world)
    wait_for(lambda: status_of(g) == S.SUCCEEDED, timeout=60, what="the job to succeed", logs=processes.logs)
    g.refresh_from_db()
    assert Path(g.video.path).stat().st_size > 1000 and (g.width, g.height) == (832, 480)
    assert worker.poll() is None


def test_a_worker_killed_mid_render_loses_nothing(world, processes):
    worker = processes.worker()
    g = make_local_job(world, duration=10, size="1280x720")
    wait_for(
        lambda: status_of(g) in (S.SUBMITTED, S.RUNNING),
        timeout=60,
        what="the render to start",
        logs=processes.logs,
    )
    processes.kill9(worker)
    assert status_of(g) in (S.SUBMITTED, S.RUNNING)
    processes.worker()
    wait_for(
        lambda: status_of(g) == S.SUCCEEDED,
        timeout=120,
        what="the job to finish after the restart",
        logs=processes.logs,
    )
    g.refresh_from_db()
    assert g.frames == 160 and g.attempts == 1


def test_two_engines_on_one_database_submit_each_job_exactly_once(world, processes, settings):
    jobs = [make_local_job(world, prompt=f"job {i}") for i in range(16)]
    first = processes.manage("sweep", "--until-idle", "--timeout", "120")
    second = processes.manage("sweep", "--until-idle", "--timeout", "120")
    for proc in (first, second):
        assert proc.wait(180) == 0, processes.logs()
    rows = list(
        Generation.objects.filter(pk__in=[j.pk for j in jobs]).values_list(
            "status", "attempts", "external_id"
        )
    )
    assert {r[0] for r in rows} == {S.SUCCEEDED}
    assert all(r[1] == 1 for r in rows), rows  # each claimed for submit once
    external = [r[2] for r in rows]
    assert len(set(external)) == len(jobs)
    rendered, _ = default_storage.listdir("local-jobs")
    assert len(rendered) == len(jobs)  # one render submitted per job, across both engines
