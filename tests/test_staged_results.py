"""A result fetched by a worker that died before storing it: found again by the worker that takes over."""

from __future__ import annotations

import shutil

import pytest
from django.utils import timezone

from studio.generations import engine
from studio.generations.models import Generation
from studio.providers.base import Progress, RemoteState
from tests.factories import make_generation
from tests.fakes import ScriptedProvider

S = Generation.Status


@pytest.fixture
def fake(settings, sample_mp4):
    settings.STUDIO_PROVIDERS = {
        **settings.STUDIO_PROVIDERS,
        "fake": {"BACKEND": "tests.fakes.ScriptedProvider", "OPTIONS": {}},
    }

    def use(*script):
        ScriptedProvider.reset(script, result_file=sample_mp4)
        return ScriptedProvider

    return use


def refreshed(g):
    g.refresh_from_db()
    return g


def test_a_shared_results_folder_spares_a_second_fetch_on_another_host(
    world, fake, settings, tmp_path, sample_mp4
):
    settings.STUDIO_RESULTS_DIR = str(tmp_path / "shared")
    (tmp_path / "shared").mkdir()
    provider = fake(Progress(RemoteState.SUCCEEDED, result_url="https://vendor.example/once.mp4"))
    g = make_generation(world.workspace, status=S.DOWNLOADING, external_id="x", next_poll_at=timezone.now())
    settings.DATA_DIR = tmp_path / "host-a"
    staged = engine.staged_result(g)
    assert staged.parent == tmp_path / "shared"
    shutil.copyfile(sample_mp4, staged)  # host A fetched it, then died before storage had it
    settings.DATA_DIR = tmp_path / "host-b"
    assert engine.poll(g.pk) is True  # host B's worker takes the job over
    assert refreshed(g).status == S.SUCCEEDED and g.video
    assert [c[0] for c in provider.calls] == ["poll"]  # no download: the vendor's URL was not asked again
    assert not staged.exists() and list((tmp_path / "shared").iterdir()) == []


def test_by_default_results_wait_in_the_workers_own_data_dir(world, settings, tmp_path):
    settings.STUDIO_RESULTS_DIR = ""
    settings.DATA_DIR = tmp_path / "host-a"
    g = make_generation(world.workspace)
    assert engine.staged_result(g) == tmp_path / "host-a" / "results" / f"{g.public_id}.mp4"


def test_a_failed_fetch_leaves_no_part_file_beside_the_staged_ones(world, fake, settings, tmp_path):
    settings.STUDIO_RESULTS_DIR = str(tmp_path / "shared")
    (tmp_path / "shared").mkdir()
    fake(Progress(RemoteState.SUCCEEDED, result_url="error:connect-transient"))
    g = make_generation(world.workspace, status=S.RUNNING, external_id="x")
    engine.poll(g.pk)
    assert refreshed(g).status == S.DOWNLOADING
    assert list((tmp_path / "shared").iterdir()) == []
