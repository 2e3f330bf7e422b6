"""The local provider keeps its renders in the studio's storage: any host polls, resumes and fetches them."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from studio.providers.base import InputFile, JobSpec, RemoteState
from studio.providers.local.adapter import LocalProvider, job_file
from tests.media import make_image, probe
from tests.processes import wait_for


def spec(**extra) -> JobSpec:
    fields = {"generation_id": "g1", "provider": "local", "model": "preview-t2v", "task": "t2v"}
    return JobSpec(**{**fields, "prompt": "a boat", "size": "320x192", "duration": 1, **extra})


def ended(provider: LocalProvider, job_id: str):
    progress = provider.poll(job_id)
    return progress if progress.state in (RemoteState.SUCCEEDED, RemoteState.FAILED) else None


def finished(provider: LocalProvider, job_id: str):
    progress = provider.poll(job_id)
    return progress if progress.state == RemoteState.SUCCEEDED else None


def test_a_render_made_on_one_host_is_polled_and_fetched_on_another(settings, tmp_path):
    provider = LocalProvider()
    settings.DATA_DIR = tmp_path / "host-a"
    job_id = provider.submit(spec()).external_id
    wait_for(lambda: finished(provider, job_id), timeout=60, what="the render")
    settings.DATA_DIR = tmp_path / "host-b"  # another machine: its own data directory, the same storage
    progress = provider.poll(job_id)
    assert progress.state == RemoteState.SUCCEEDED
    provider.download(progress.result_url, tmp_path / "fetched.mp4")
    assert probe(tmp_path / "fetched.mp4")["codec"] == "h264"
    assert default_storage.exists(job_file(job_id, "out.mp4"))
    assert not (tmp_path / "host-a" / "local-jobs").exists()


def test_a_render_whose_process_died_is_rendered_again_by_whoever_polls(settings, tmp_path):
    provider = LocalProvider()
    job_id = provider.submit(spec()).external_id
    wait_for(lambda: finished(provider, job_id), timeout=60, what="the first render")
    default_storage.delete(job_file(job_id, "out.mp4"))
    dead = subprocess.Popen(["true"])
    dead.wait()
    state = {"state": "running", "progress": 0.4, "pid": dead.pid, "host": socket.gethostname()}
    default_storage.delete(job_file(job_id, "state.json"))
    default_storage.save(
        job_file(job_id, "state.json"), ContentFile(json.dumps({**state, "heartbeat": time.time()}))
    )
    settings.DATA_DIR = tmp_path / "host-b"
    assert provider.poll(job_id).state == RemoteState.RUNNING  # and it starts the render again here
    progress = wait_for(lambda: finished(provider, job_id), timeout=60, what="the render again")
    provider.download(progress.result_url, tmp_path / "again.mp4")
    assert probe(tmp_path / "again.mp4")["frames"] == 16


def test_inputs_are_read_from_storage_not_the_path_of_the_process_that_submitted(settings, tmp_path):
    image = make_image(tmp_path / "frame.png", 320, 192, color=(200, 40, 40))
    name = default_storage.save("assets/frame.png", ContentFile(image.read_bytes()))
    frame = InputFile(slot="image", path="/gone/with/the/other/host.png", content_type="image/png", name=name)
    provider = LocalProvider()
    job_id = provider.submit(spec(model="preview-i2v", task="i2v", inputs={"image": [frame]})).external_id
    progress = wait_for(lambda: ended(provider, job_id), timeout=60, what="the render")
    assert progress.state == RemoteState.SUCCEEDED, progress.error_message


def test_a_result_url_that_is_not_a_render_is_refused(tmp_path):
    import pytest

    from studio.providers.base import ProviderError

    with pytest.raises(ProviderError):
        LocalProvider().download("local-job:../../secret", tmp_path / "x.mp4")
    assert LocalProvider().poll("../etc").state == RemoteState.LOST
