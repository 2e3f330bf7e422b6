"""Files other processes read go through storage: local media and a real (loopback) S3 alike."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import RequestFactory

from studio import storage
from studio.assets.serving import serve_file

BUCKET = "unit-media"


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """moto's S3 server on loopback, over HTTP, with one bucket."""
    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("s3") / "s3.log", "wb")  # noqa: SIM115 - closed below
    server = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log, start_new_session=True
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(endpoint, timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)
    log.close()


@pytest.fixture
def s3_storage(s3_endpoint):
    from storages.backends.s3 import S3Storage

    return S3Storage(
        bucket_name=BUCKET,
        endpoint_url=s3_endpoint,
        access_key="k",
        secret_key="s",
        region_name="us-east-1",
        querystring_auth=True,
        querystring_expire=120,
        file_overwrite=True,
        default_acl=None,
    )


@pytest.fixture(params=["local", "s3"])
def any_storage(request, tmp_path):
    if request.param == "local":
        return FileSystemStorage(location=tmp_path / "media")
    return request.getfixturevalue("s3_storage")


def test_put_replaces_the_file_whole_and_read_tells_a_missing_one(any_storage, tmp_path):
    name = f"local-jobs/{os.getpid()}-{time.monotonic_ns()}/state.json"
    assert storage.read(name, storage=any_storage) is None
    storage.put(name, b'{"state": "queued"}', storage=any_storage)
    storage.put(name, b'{"state": "running"}', storage=any_storage)  # replaced under the same name
    assert storage.read(name, storage=any_storage) == b'{"state": "running"}'
    source = tmp_path / "out.mp4"
    source.write_bytes(b"\0" * 300_000)
    storage.put(name.replace("state.json", "out.mp4"), source, storage=any_storage)
    copy = tmp_path / "copy" / "back.mp4"
    storage.copy_to(name.replace("state.json", "out.mp4"), copy, storage=any_storage)
    assert copy.read_bytes() == source.read_bytes()
    folder = name.rsplit("/", 1)[0]
    assert sorted(any_storage.listdir(folder)[1]) == ["out.mp4", "state.json"]  # no part files left


def test_local_media_keep_their_modes_for_files_written_for_other_processes(tmp_path, settings):
    local = FileSystemStorage(location=tmp_path / "media")
    (tmp_path / "media").mkdir()
    storage.put("local-jobs/abc/state.json", b"{}", storage=local)
    mode = lambda p: p.stat().st_mode & 0o777  # noqa: E731
    assert mode(tmp_path / "media" / "local-jobs") == settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS
    assert mode(tmp_path / "media" / "local-jobs" / "abc") == settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS
    assert mode(tmp_path / "media" / "local-jobs" / "abc" / "state.json") == settings.FILE_UPLOAD_PERMISSIONS


def test_copy_of_a_missing_file_says_so(any_storage, tmp_path):
    with pytest.raises(FileNotFoundError):
        storage.copy_to("local-jobs/none/out.mp4", tmp_path / "x.mp4", storage=any_storage)


class Stored:
    """A FieldFile's few parts that serving and ``where`` use."""

    def __init__(self, backend, name: str):
        self.storage, self.name = backend, name

    @property
    def path(self) -> str:
        return self.storage.path(self.name)

    @property
    def url(self) -> str:
        return self.storage.url(self.name)

    @property
    def size(self) -> int:
        return self.storage.size(self.name)

    def open(self, mode="rb"):
        return self.storage.open(self.name, mode)


def test_where_is_a_path_on_local_media_and_a_working_link_on_s3(s3_storage, tmp_path):
    local = FileSystemStorage(location=tmp_path / "media")
    local.save("a/video.mp4", ContentFile(b"local bytes"))
    assert storage.where(Stored(local, "a/video.mp4")) == str(
        (tmp_path / "media" / "a" / "video.mp4").resolve()
    )
    s3_storage.save("a/video.mp4", ContentFile(b"remote bytes"))
    link = storage.where(Stored(s3_storage, "a/video.mp4"))
    assert link.startswith("http://127.0.0.1") and httpx.get(link).content == b"remote bytes"


def test_s3_media_are_a_short_lived_redirect_and_range_works_at_s3(s3_storage, sample_mp4):
    with open(sample_mp4, "rb") as fh:
        s3_storage.save("g/video.mp4", ContentFile(fh.read()))
    request = RequestFactory().get("/w/acme/g/x/video.mp4", {"download": "1"}, HTTP_RANGE="bytes=0-99")
    response = serve_file(
        request, Stored(s3_storage, "g/video.mp4"), content_type="video/mp4", download_name="lake.mp4"
    )
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, max-age=60"  # half the link's life
    link = response["Location"]
    part = httpx.get(link, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == sample_mp4.read_bytes()[:100]
    assert part.headers["content-type"] == "video/mp4"
    assert part.headers["content-disposition"] == 'attachment; filename="lake.mp4"'
    assert int(dict(httpx.URL(link).params)["Expires"]) - time.time() <= 121


def test_local_media_are_still_served_by_django_or_nginx(tmp_path, sample_mp4, settings):
    local = FileSystemStorage(location=tmp_path / "media")
    with open(sample_mp4, "rb") as fh:
        local.save("g/video.mp4", ContentFile(fh.read()))
    request = RequestFactory().get("/", HTTP_RANGE="bytes=0-99")
    response = serve_file(request, Stored(local, "g/video.mp4"), content_type="video/mp4")
    assert (
        response.status_code == 206 and b"".join(response.streaming_content) == sample_mp4.read_bytes()[:100]
    )
    settings.STUDIO_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    response = serve_file(request, Stored(local, "g/video.mp4"), content_type="video/mp4")
    assert response["X-Accel-Redirect"] == "/protected-media/g/video.mp4"
