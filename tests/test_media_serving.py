"""Private media: only members see them, and Range requests work the way browsers seek videos."""

import pytest
from django.urls import reverse

from studio.assets.serving import parse_range
from studio.generations.engine import download
from studio.generations.models import Generation
from tests.factories import make_generation


@pytest.fixture
def finished(world, sample_mp4, settings):
    from studio.providers.base import Provider

    class Copy(Provider):
        def download(self, url, dest):
            dest.write_bytes(sample_mp4.read_bytes())

    g = make_generation(world.workspace, status=Generation.Status.DOWNLOADING, provider="local")
    download(g.pk, provider=Copy(), url="file:///sample")
    g.refresh_from_db()
    assert g.status == Generation.Status.SUCCEEDED
    return g


def url(g):
    return reverse("generations:video", kwargs={"slug": g.workspace.slug, "generation_id": g.public_id})


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_whole_file_with_accept_ranges(world, finished, sample_mp4):
    response = world.viewer.client.get(url(finished))
    assert response.status_code == 200 and response["Accept-Ranges"] == "bytes"
    assert body(response) == sample_mp4.read_bytes()


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-199", 100, 199),
        ("bytes=-50", None, None),
        ("bytes=200-", 200, None),
    ],
)
def test_range_requests_get_206_and_exactly_the_slice(world, finished, sample_mp4, header, start, end):
    data = sample_mp4.read_bytes()
    size = len(data)
    if start is None:
        start, end = size - 50, size - 1
    end = size - 1 if end is None else end
    response = world.viewer.client.get(url(finished), HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert body(response) == data[start : end + 1]
    assert int(response["Content-Length"]) == end - start + 1


@pytest.mark.parametrize("header", ["bytes=999999999-", "bytes=-0", "bytes=50-10"])
def test_unsatisfiable_range_is_416(world, finished, sample_mp4, header):
    response = world.viewer.client.get(url(finished), HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{sample_mp4.stat().st_size}"


def test_malformed_range_gets_the_whole_file():
    assert parse_range("bytes=0-1,5-9", 100) is None
    assert parse_range("items=0-1", 100) is None


def test_outsider_gets_404_for_another_teams_video(world, finished):
    assert world.outsider.client.get(url(finished)).status_code == 404


def test_download_has_a_sensible_file_name(world, finished):
    response = world.viewer.client.get(url(finished) + "?download=1")
    disposition = response["Content-Disposition"]
    assert (
        disposition.startswith("attachment;")
        and ".mp4" in disposition
        and "a-lighthouse-at-dusk" in disposition
    )


def test_accel_redirect_hands_the_file_to_the_proxy(world, finished, settings):
    settings.STUDIO_ACCEL_REDIRECT_PREFIX = "/protected/"
    response = world.viewer.client.get(url(finished))
    assert response["X-Accel-Redirect"] == "/protected/" + finished.video.name
    assert response.content == b""
