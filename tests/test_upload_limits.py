"""Request bodies are judged by their declared length before they are read: a body too large for the view it
is sent to is refused without its file being read, in the person's words, through the CSRF middleware as in
production; a body that turns out larger than it said is cut off as it streams."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http.multipartparser import MultiPartParser
from django.test import Client, RequestFactory
from django.urls import reverse

from studio.assets import uploads
from studio.assets.models import Asset
from studio.assets.services import ABSOLUTE_MAX, MAX_BYTES

MB = 1024 * 1024
BOUNDARY = "limitboundary"
TOKEN = "limitcsrftokenlimitcsrftoken0123"  # 32 characters: a bare secret, as the cookie holds it


class Body(io.RawIOBase):
    """A multipart body made as it is read (never held whole), counting every byte read from it.

    ``fields`` come first (as a page's form puts its CSRF token first), then one file of ``size`` bytes.
    """

    def __init__(
        self, size: int, *, field: str = "image", name: str = "huge.png", fields: dict | None = None
    ):
        parts = [
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
            for key, value in (fields or {}).items()
        ]
        head = "".join(parts) + (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        self.head, self.tail = head.encode(), f"\r\n--{BOUNDARY}--\r\n".encode()
        self.size = size
        self.total = len(self.head) + size + len(self.tail)
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer)
        n = min(len(view), self.total - self.pos)
        done = 0
        while done < n:
            p = self.pos + done
            if p < len(self.head):
                piece = self.head[p : p + n - done]
            elif p < len(self.head) + self.size:
                piece = bytes(min(n - done, len(self.head) + self.size - p))
            else:
                offset = p - len(self.head) - self.size
                piece = self.tail[offset : offset + n - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
        self.pos += n
        return n


def send(client: Client, url: str, body: Body, *, header_token: bool = True, declared: int | None = None):
    extra = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        "CONTENT_LENGTH": str(body.total if declared is None else declared),
        "wsgi.input": body,
        "HTTP_ACCEPT": "application/json",
    }
    if header_token:
        extra["HTTP_X_CSRFTOKEN"] = TOKEN
    return client.generic("POST", url, b"", **extra)


def csrf_client(user) -> Client:
    """A client that the CSRF middleware checks, as a browser is: the body is parsed before the view runs."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = TOKEN
    return client


def image_upload(world) -> str:
    return reverse("images:upload", kwargs={"slug": world.workspace.slug})


def test_the_handler_that_caps_bodies_runs_first():
    assert settings.FILE_UPLOAD_HANDLERS[0] == "studio.assets.uploads.CappedUploadHandler"


def test_a_200_mb_image_upload_is_refused_by_its_length_without_reading_it(world):
    body = Body(200 * MB)
    response = send(csrf_client(world.editor.user), image_upload(world), body)
    assert response.status_code == 413
    assert response.json() == {"error": "The upload is 200.0 MB; images may be up to 20 MB."}
    assert body.pos == 0  # not one byte of it was read
    assert not Asset.objects.exists()


def test_a_plain_form_post_reads_its_leading_fields_and_stops_at_the_file(world):
    """A page's form sends its CSRF token in the body, first: that much is read, then nothing of the file."""
    body = Body(200 * MB, fields={"csrfmiddlewaretoken": TOKEN})
    response = send(csrf_client(world.editor.user), image_upload(world), body, header_token=False)
    assert response.status_code == 413
    assert response.json() == {
        "error": "“huge.png” is too large: the upload is 200.0 MB; images may be up to 20 MB."
    }
    assert body.pos <= 256 * 1024  # the fields and the file's header, in the parser's read-ahead


def test_the_job_forms_upload_is_capped_at_the_largest_file(world):
    url = reverse("asset_upload", kwargs={"slug": world.workspace.slug})
    body = Body(ABSOLUTE_MAX + MB, field="file", name="long.mp4")
    response = send(csrf_client(world.editor.user), url, body)
    assert response.status_code == 413
    assert response.json() == {
        "error": "The upload is 101.0 MB; videos may be up to 100 MB, images 20 MB and audio 15 MB."
    }
    assert body.pos == 0


def test_the_mask_and_the_crop_take_small_bodies(world, tmp_path):
    from studio.assets.services import create_asset
    from tests.media import make_video

    video = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=make_video(tmp_path / "v.mp4", 64, 48, frames=2),
        expect="video",
    )
    client = csrf_client(world.editor.user)
    body = Body(20 * MB, field="mask", name="mask.png")
    url = reverse("masks:mask_save", kwargs={"slug": world.workspace.slug, "asset_id": video.public_id})
    response = send(client, url, body)
    assert response.status_code == 413 and response.json()["error"].endswith("a mask may be up to 10 MB.")
    assert body.pos == 0
    body = Body(MB, field="box", name="box.txt")
    response = send(client, reverse("images:crop", kwargs={"slug": world.workspace.slug}), body)
    assert response.status_code == 413 and body.pos == 0


def test_a_body_within_its_cap_is_read_as_before(world):
    content = Body(0).head  # any bytes will do: the view refuses them as an image, having read them
    client = csrf_client(world.editor.user)
    response = client.post(
        image_upload(world),
        {"image": SimpleUploadedFile("notes.png", content * 10)},
        HTTP_X_CSRFTOKEN=TOKEN,
    )
    assert response.status_code == 400
    assert response.json() == {"error": "“notes.png” is not an image we can read (or it is damaged)."}


@pytest.mark.parametrize("declared", [1, 64 * 1024])
def test_a_body_longer_than_it_says_is_cut_off_as_it_streams(declared):
    """Behind a server that hands Django the raw stream (chunked, or a length that lies), the handler counts
    the file's bytes as they arrive and stops past the cap instead of reading on."""
    body = Body(50 * MB)
    request = RequestFactory().post("/")
    request.upload_max_bytes = 5 * MB  # as a view would state it; the declared length says less
    handler = uploads.CappedUploadHandler(request)
    parser = MultiPartParser(
        {
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
            "CONTENT_LENGTH": str(declared),
        },
        io.BufferedReader(body, 64 * 1024),
        [handler, *request.upload_handlers[1:]],
    )
    _, files = parser.parse()
    assert not files
    refusal = uploads.refusal_of(request)
    assert refusal is not None and refusal.file_name == "huge.png"
    assert body.pos <= 5 * MB + 256 * 1024  # stopped at the cap, not at the end of 50 MB


def test_every_view_that_takes_files_states_its_cap():
    from studio.assets import image_views, mask_views
    from studio.assets import views as asset_views

    assert image_views.upload.upload_max_bytes == MAX_BYTES["image"] + uploads.SLACK
    assert asset_views.asset_upload.upload_max_bytes == ABSOLUTE_MAX + uploads.SLACK
    assert mask_views.mask_save.upload_max_bytes == mask_views.MAX_MASK_BYTES + uploads.SLACK
    assert image_views.crop.upload_max_bytes == uploads.SLACK
