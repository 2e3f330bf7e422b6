"""The mask painter's server side: frames to paint on, and saving a painted mask as a binary PNG asset."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from studio.assets.models import Asset
from studio.assets.services import create_asset
from tests.media import make_image, make_video

W, H, FRAMES = 320, 192, 32


@pytest.fixture
def video(world, tmp_path) -> Asset:
    path = make_video(tmp_path / "clip.mp4", W, H, frames=FRAMES, fps=16)
    asset = create_asset(workspace=world.workspace, user=world.owner.user, source=path, expect="video")
    assert (asset.width, asset.height, asset.frames) == (W, H, FRAMES)
    return asset


def frame_url(asset: Asset, frame: int, slug: str | None = None) -> str:
    return reverse(
        "masks:mask_frame",
        kwargs={"slug": slug or asset.workspace.slug, "asset_id": asset.public_id, "frame": frame},
    )


def save_url(asset: Asset, slug: str | None = None) -> str:
    return reverse(
        "masks:mask_save", kwargs={"slug": slug or asset.workspace.slug, "asset_id": asset.public_id}
    )


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def canvas_like_mask(size=(W, H)) -> Image.Image:
    """What the browser sends: RGBA, black where nothing was painted, white paint, grey antialiasing."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 30, 139, 99), fill=(255, 255, 255, 255))  # 100 x 70 = 7000 pixels
    draw.point((200, 150), fill=(200, 200, 200, 255))  # antialiased edge, bright: white
    draw.point((201, 150), fill=(100, 100, 100, 255))  # antialiased edge, dark: black
    draw.point((202, 150), fill=(255, 255, 255, 90))  # faint alpha over black: black
    return image


def upload(data: bytes, name="mask.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def rect_left_edge(image: Image.Image, y: int = 30) -> int:
    """make_video draws a white box at x = 4 * (frame - 1) on every frame: where does it start?"""
    grey = image.convert("L")
    return next(x for x in range(image.width) if grey.getpixel((x, y)) > 200)


# ---- frames ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("frame", [1, 10, FRAMES])
def test_frame_is_a_jpeg_of_the_videos_size_and_the_right_frame(world, video, frame):
    response = world.viewer.client.get(frame_url(video, frame))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "max-age" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["ETag"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG" and image.size == (W, H)
    assert abs(rect_left_edge(image) - 4 * (frame - 1)) <= 1


def test_every_frame_is_the_one_decoding_from_the_start_would_give(world, video):
    """Seeking must land on exactly frame N, never a neighbour."""
    for frame in range(1, FRAMES + 1):
        image = Image.open(io.BytesIO(world.editor.client.get(frame_url(video, frame)).content))
        assert abs(rect_left_edge(image) - 4 * (frame - 1)) <= 1, frame


def test_frame_past_the_end_is_404_and_says_how_many_there_are(world, video):
    response = world.owner.client.get(frame_url(video, FRAMES + 1))
    assert response.status_code == 404
    assert f"{FRAMES} frames" in response.content.decode()
    assert world.owner.client.get(frame_url(video, 0)).status_code == 404


def test_frame_unchanged_answers_304(world, video):
    first = world.owner.client.get(frame_url(video, 3))
    again = world.owner.client.get(frame_url(video, 3), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_another_workspaces_video_is_404(world, video, tmp_path):
    theirs = create_asset(
        workspace=world.other_workspace,
        user=world.outsider.user,
        source=make_video(tmp_path / "theirs.mp4", W, H, frames=4),
        expect="video",
    )
    # through our workspace's slug: not found there
    assert world.owner.client.get(frame_url(theirs, 1, slug=world.workspace.slug)).status_code == 404
    # and an outsider cannot reach ours, by either slug
    assert world.outsider.client.get(frame_url(video, 1)).status_code == 404
    assert world.outsider.client.get(frame_url(video, 1, slug=world.other_workspace.slug)).status_code == 404


def test_an_image_asset_has_no_frames(world, tmp_path):
    image = create_asset(
        workspace=world.workspace, user=world.owner.user, source=make_image(tmp_path / "i.png", W, H)
    )
    assert world.owner.client.get(frame_url(image, 1)).status_code == 404
    assert (
        world.owner.client.post(save_url(image), {"mask": upload(png(canvas_like_mask()))}).status_code == 404
    )


def test_anonymous_is_sent_to_log_in(world, video):
    response = world.anonymous.client.get(frame_url(video, 1))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---- saving ---------------------------------------------------------------------------------------


def saved_mask(data: dict) -> Image.Image:
    asset = Asset.objects.get(public_id=data["asset_id"])
    assert (
        asset.kind == "image"
        and asset.format == "png"
        and asset.original_name == f"mask-frame-{data['frame']}.png"
    )
    with asset.file.open("rb") as fh:
        image = Image.open(io.BytesIO(fh.read()))
        image.load()
    return image


def test_saved_mask_is_a_binary_png_white_where_painted(world, video):
    response = world.editor.client.post(
        save_url(video), {"mask": upload(png(canvas_like_mask())), "frame": "10"}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["width"] == W and data["height"] == H and data["frame"] == 10
    assert data["white_pixels"] == 7000 + 1
    assert data["url"].endswith(f"/assets/{data['asset_id']}/")
    image = saved_mask(data)
    assert image.format == "PNG" and image.mode == "L" and image.size == (W, H)
    assert {v for v, n in enumerate(image.histogram()) if n} == {0, 255}
    assert image.getpixel((40, 30)) == image.getpixel((139, 99)) == 255
    assert image.getpixel((39, 30)) == image.getpixel((140, 99)) == 0
    assert image.getpixel((200, 150)) == 255 and image.getpixel((201, 150)) == image.getpixel((202, 150)) == 0
    assert image.histogram()[255] == data["white_pixels"]
    assert Asset.objects.get(public_id=data["asset_id"]).workspace == world.workspace


def test_a_data_url_works_too(world, video):
    grey = Image.new("L", (W, H), 0)
    ImageDraw.Draw(grey).rectangle((40, 30, 139, 99), fill=255)
    data_url = "data:image/png;base64," + base64.b64encode(png(grey)).decode()
    response = world.owner.client.post(save_url(video), {"mask": data_url, "frame": "1"})
    assert response.status_code == 200, response.content
    assert response.json()["white_pixels"] == 7000
    assert saved_mask(response.json()).getpixel((50, 50)) == 255


def test_wrong_size_is_refused_naming_both_sizes(world, video):
    response = world.editor.client.post(
        save_url(video), {"mask": upload(png(canvas_like_mask((160, 96)))), "frame": "1"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert "160x96" in error and "320x192" in error
    assert not Asset.objects.filter(kind="image").exists()


@pytest.mark.parametrize(
    "mask",
    [
        upload(b"this is not a picture", name="mask.png"),
        upload(png(canvas_like_mask())[:200], name="mask.png"),  # truncated
        upload(b"GIF89a" + b"\x00" * 40, name="mask.gif", content_type="image/gif"),
        "data:image/png;base64,@@@not base64@@@",
        "data:text/plain;base64,aGVsbG8=",
        "",
    ],
    ids=["text", "truncated", "broken-gif", "bad-base64", "not-an-image-url", "missing"],
)
def test_not_an_image_is_a_400_with_a_message(world, video, mask):
    response = world.editor.client.post(save_url(video), {"mask": mask, "frame": "1"})
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize("frame", ["0", str(FRAMES + 1), "ten"])
def test_frame_outside_the_video_is_refused(world, video, frame):
    response = world.editor.client.post(
        save_url(video), {"mask": upload(png(canvas_like_mask())), "frame": frame}
    )
    assert response.status_code == 400
    assert f"1 to {FRAMES}" in response.json()["error"]


def test_an_all_black_mask_is_refused(world, video):
    black = Image.new("L", (W, H), 0)
    response = world.editor.client.post(save_url(video), {"mask": upload(png(black)), "frame": "1"})
    assert response.status_code == 400 and "black" in response.json()["error"]


def test_viewer_is_403_and_outsider_404(world, video):
    body = {"mask": upload(png(canvas_like_mask())), "frame": "1"}
    assert world.viewer.client.post(save_url(video), body).status_code == 403
    body = {"mask": upload(png(canvas_like_mask())), "frame": "1"}
    assert world.outsider.client.post(save_url(video), body).status_code == 404
    assert not Asset.objects.filter(kind="image").exists()


def test_save_is_post_only(world, video):
    assert world.editor.client.get(save_url(video)).status_code == 405


# ---- the page -------------------------------------------------------------------------------------


def test_painter_page_for_members_only(world, video):
    url = reverse("masks:mask_page", kwargs={"slug": world.workspace.slug, "asset_id": video.public_id})
    response = world.viewer.client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-mask-painter" in html and 'data-width="320"' in html and 'data-frames="32"' in html
    assert 'name="mask_image_asset"' in html and 'name="mask_frame_id"' in html
    assert 'data-can-save="0"' in html  # a viewer may paint, not save
    assert 'data-can-save="1"' in world.editor.client.get(url).content.decode()
    assert world.outsider.client.get(url).status_code == 404
