"""The first-frame image input's server side: what is refused (with the words the person reads), what is
measured, and exact-aspect crops checked pixel for pixel."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw

from studio.assets.crop import closest_target, crop_to_aspect, fit_box, parse_box
from studio.assets.models import Asset
from studio.assets.services import create_asset
from tests.media import make_video

SF_I2V = "siliconflow:Wan-AI/Wan2.2-I2V-A14B"


# ---------------------------------------------------------------------------------------------------------
# Files, made on the spot


def png_bytes(width: int, height: int, *, mode: str = "RGB", fmt: str = "PNG", **save) -> bytes:
    image = Image.new(mode, (width, height), (40, 120, 200) if mode == "RGB" else (40, 120, 200, 90))
    ImageDraw.Draw(image).ellipse(
        (width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(240, 200, 40)
    )
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def gradient(width: int = 1024, height: int = 768) -> Image.Image:
    """Every pixel says where it is: red = x // 4, green = y // 3, blue = 64-pixel bands."""
    image = Image.new("RGB", (width, height))
    image.putdata(
        [
            (x // 4 % 256, y // 3 % 256, 255 if (y // 64) % 2 else 60)
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = 12_000, height: int = 12_000) -> bytes:
    """A valid PNG of width x height black pixels (1 bit each): 144 M pixels in about 20 KB."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    squeeze = zlib.compressobj(9)
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def padded(content: bytes, size: int) -> bytes:
    """A valid image with junk after its end, ``size`` bytes in all (Pillow reads past nothing)."""
    return content + b"\x00" * (size - len(content))


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (64, 64), (i * 60, 30, 200 - i * 50)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def animated(fmt: str) -> bytes:
    """Three frames of different colours as an animated GIF, WebP or PNG (APNG)."""
    frames = [Image.new("RGB", (96, 54), (200 - i * 80, 40 + i * 60, 30)) for i in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def rotated_jpeg(width: int = 400, height: int = 300, orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return png_bytes(width, height, fmt="JPEG", exif=exif.tobytes())


def upload_url(world) -> str:
    return reverse("images:upload", kwargs={"slug": world.workspace.slug})


def crop_url(world) -> str:
    return reverse("images:crop", kwargs={"slug": world.workspace.slug})


def post_file(client, world, name: str, content: bytes, **extra):
    return client.post(upload_url(world), {"image": SimpleUploadedFile(name, content), **extra})


def stored(world, source: bytes | Image.Image, name: str = "photo.png") -> Asset:
    if isinstance(source, Image.Image):
        buffer = io.BytesIO()
        source.save(buffer, "PNG")
        source = buffer.getvalue()
    return create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=SimpleUploadedFile(name, source),
        expect="image",
    )


def pixels(asset: Asset) -> Image.Image:
    with asset.file.open("rb") as fh, Image.open(fh) as im:
        im.load()
        return im.copy()


# ---------------------------------------------------------------------------------------------------------
# Upload: refusals


def _video_bytes(tmp_path) -> bytes:
    return make_video(tmp_path / "clip.mp4", 64, 48, frames=4).read_bytes()


REFUSALS = [
    (
        "notes.png",
        lambda tmp: b"These are my notes, not a picture.\n" * 20,
        "“notes.png” is not an image we can read (or it is damaged).",
    ),
    (
        "bomb.png",
        lambda tmp: bomb_png(),
        "“bomb.png”: The image has far too many pixels to be handled safely; scale it down first.",
    ),
    ("empty.png", lambda tmp: b"", "“empty.png” is empty (0 bytes); choose the image again."),
    (
        "cut.png",
        lambda tmp: png_bytes(300, 200)[:400],
        "“cut.png” is not an image we can read (or it is damaged).",
    ),
    ("clip.mp4", _video_bytes, "“clip.mp4” is a video; an image is needed here."),
]


@pytest.mark.parametrize(("name", "make", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_uploads_say_why_in_json(world, tmp_path, name, make, message):
    response = post_file(world.editor.client, world, name, make(tmp_path))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": message}
    assert not Asset.objects.exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(world):
    """The body's declared length already says it is too large: the file itself is never read (413)."""
    response = post_file(world.editor.client, world, "huge.png", padded(png_bytes(64, 48), 21 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json() == {
        "error": "“huge.png” is too large: the upload is 21.0 MB; images may be up to 20 MB."
    }
    assert not Asset.objects.exists()


def test_a_file_just_over_the_limit_is_refused_by_its_size(world):
    """Within the multipart envelope's slack the body is read, and the file's own size refuses it."""
    response = post_file(
        world.editor.client, world, "big.png", padded(png_bytes(64, 48), 20 * 1024 * 1024 + 1)
    )
    assert response.status_code == 400
    assert response.json() == {"error": "“big.png” is 20.1 MB; images may be up to 20 MB."}


def test_the_bomb_is_a_valid_png_refused_from_its_header(world):
    content = bomb_png()
    assert len(content) < 100_000  # cheap to make, 144 M pixels to decode
    assert struct.unpack(">II", content[16:24]) == (12_000, 12_000)
    assert zlib.decompress(content[41:-16]) == (b"\x00" * 1501) * 12_000  # IDAT: all rows, all black
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(content))


def test_no_file_and_two_files_are_refused(world):
    response = world.editor.client.post(upload_url(world), {})
    assert response.status_code == 400 and response.json() == {"error": "Choose an image file to upload."}
    response = world.editor.client.post(
        upload_url(world),
        {
            "image": [
                SimpleUploadedFile("a.png", png_bytes(64, 64)),
                SimpleUploadedFile("b.png", png_bytes(64, 64)),
            ]
        },
    )
    assert response.status_code == 400 and response.json() == {"error": "Send one image at a time."}


# ---------------------------------------------------------------------------------------------------------
# Upload: what is measured


def test_a_4_3_image_is_measured_and_needs_a_crop(world):
    response = post_file(world.editor.client, world, "photo.png", png_bytes(1024, 768))
    assert response.status_code == 200
    data = response.json()
    asset = Asset.objects.get(public_id=data["asset_id"], workspace=world.workspace)
    assert asset.kind == "image" and asset.created_by == world.editor.user
    assert data["url"] == reverse("asset_file", kwargs={"slug": "acme", "asset_id": asset.public_id})
    assert (data["width"], data["height"], data["aspect"]) == (1024, 768, "4:3")
    assert (data["closest"], data["error_pct"]) == ("16:9", 25.0)  # a tie with 1:1 goes to landscape
    assert data["fits"] == {"16:9": None, "9:16": None, "1:1": None}
    assert data["needs_crop"] is True
    assert data["warnings"] == [
        "The image is 4:3 (1024x768); SiliconFlow's image to video wants 16:9, 9:16 or 1:1. Crop it to "
        "16:9 (1280x720), the closest."
    ]
    assert world.editor.client.get(data["url"]).status_code == 200


def test_a_near_16_9_image_fits_within_one_percent(world):
    data = post_file(world.editor.client, world, "wide.jpg", png_bytes(1280, 724, fmt="JPEG")).json()
    assert data["aspect"] == "16:9" and data["closest"] == "16:9" and data["error_pct"] == 0.6
    assert data["fits"] == {"16:9": "1280x720", "9:16": None, "1:1": None}
    assert data["needs_crop"] is False and data["warnings"] == []


def test_a_small_square_image_is_warned_about(world):
    data = post_file(world.editor.client, world, "icon.png", png_bytes(300, 300, mode="RGBA")).json()
    assert data["fits"] == {"16:9": None, "9:16": None, "1:1": "960x960"}
    assert data["warnings"] == [
        "At 300x300 it is smaller than the 960x960 video it makes at 1:1; it will be scaled up, so a larger "
        "image gives a sharper video.",
        "DashScope and VACE take images of 360 to 2000 pixels a side; this one is 300x300.",
        "It has transparency (an alpha channel); DashScope's image to video takes images without one.",
    ]


def test_exif_rotated_jpeg_reports_its_displayed_size(world):
    data = post_file(world.editor.client, world, "phone.jpg", rotated_jpeg(400, 300, orientation=6)).json()
    assert (data["width"], data["height"], data["aspect"], data["closest"]) == (300, 400, "3:4", "9:16")
    asset = Asset.objects.get(public_id=data["asset_id"])
    assert pixels(asset).size == (300, 400)  # the rotation is baked into the stored pixels


def test_warnings_follow_a_chosen_model(world):
    data = post_file(world.editor.client, world, "photo.png", png_bytes(1024, 768), model=SF_I2V).json()
    assert data["warnings"] == [
        "Wan-AI/Wan2.2-I2V-A14B needs a first frame of 16:9, 9:16 or 1:1; this image is 4:3 (1024x768). "
        "Crop it first."
    ]
    data = post_file(
        world.editor.client, world, "photo.png", png_bytes(1024, 768), model="nobody:nothing"
    ).json()
    assert data["warnings"][0].startswith("The image is 4:3")  # an unknown model: the general advice


# ---------------------------------------------------------------------------------------------------------
# Crop


def test_fit_box_rules():
    assert fit_box(1024, 768, "16:9", None) == (0, 96, 1024, 576)
    assert fit_box(1024, 768, "9:16", None) == (296, 0, 432, 768)
    assert fit_box(1024, 768, "1:1", None) == (128, 0, 768, 768)
    assert fit_box(1024, 768, "16:9", (10, 20, 640, 360)) == (10, 20, 640, 360)
    assert fit_box(1024, 768, "16:9", (10.4, 19.6, 640.2, 359.9)) == (10, 20, 640, 360)
    assert fit_box(1024, 768, "16:9", (600, 500, 640, 360)) == (384, 408, 640, 360)  # moved inside
    assert fit_box(1024, 768, "16:9", (-300, -90, 640, 360)) == (0, 0, 640, 360)
    assert fit_box(1024, 768, "16:9", (5000, 5000, 640, 360)) == (384, 408, 640, 360)
    assert fit_box(1024, 768, "16:9", (-988, -1016, 3000, 2800)) == (0, 96, 1024, 576)  # never upscaled
    assert fit_box(1024, 768, "16:9", (0, 0, 4000, 3000)) == (0, 192, 1024, 576)  # centre kept, then inside
    left, top, w, h = fit_box(1024, 768, "16:9", (100, 100, 800, 300))  # not at the aspect: area kept
    assert w * 9 == h * 16 and (w, h) == (656, 369) and 0 <= left <= 1024 - w and 0 <= top <= 768 - h
    for bad in ((0, 0, 0, 10), (0, 0, 10, -5), (float("nan"), 0, 10, 10), (0, 0, float("inf"), 10)):
        with pytest.raises(ValidationError):
            fit_box(1024, 768, "16:9", bad)
    with pytest.raises(ValidationError, match="Choose 16:9, 9:16 or 1:1"):
        fit_box(1024, 768, "4:3", None)
    assert closest_target(1024, 768) == ("16:9", 0.25)
    assert closest_target(768, 1024)[0] == "9:16"
    assert parse_box(" 1, 2.5,3 ,4") == (1.0, 2.5, 3.0, 4.0) and parse_box("") is None
    with pytest.raises(ValidationError):
        parse_box("1,2,3")


def test_crop_a_4_3_image_to_exactly_16_9_at_the_box(world):
    source = gradient()
    asset = stored(world, source, "photo.png")
    data = world.editor.client.post(
        crop_url(world), {"asset_id": asset.public_id, "aspect": "16:9", "box": "0,150,1024,576"}
    ).json()
    assert (data["width"], data["height"]) == (1024, 576)
    assert data["aspect"] == "16:9" and data["fits"]["16:9"] == "1280x720" and data["needs_crop"] is False
    assert data["source_id"] == asset.public_id and data["name"] == "photo-16x9.png"
    out = Asset.objects.get(public_id=data["asset_id"], workspace=world.workspace)
    assert out.width * 9 == out.height * 16
    assert pixels(out).convert("RGB").tobytes() == source.crop((0, 150, 1024, 726)).tobytes()
    assert Asset.objects.get(pk=asset.pk).width == 1024  # the source is kept as it was


def test_a_box_outside_the_image_is_clamped(world):
    source = gradient()
    asset = stored(world, source)
    data = world.editor.client.post(
        crop_url(world), {"asset_id": asset.public_id, "aspect": "16:9", "box": "700,600,640,360"}
    ).json()
    out = pixels(Asset.objects.get(public_id=data["asset_id"]))
    assert out.size == (640, 360)
    assert out.convert("RGB").tobytes() == source.crop((384, 408, 1024, 768)).tobytes()


def test_crop_without_a_box_is_centred_and_keeps_jpeg(world):
    asset = stored(world, png_bytes(1024, 768, fmt="JPEG"), "holiday photo.jpg")
    out = crop_to_aspect(asset, aspect="1:1", box=None, user=world.editor.user)
    assert (out.width, out.height, out.format) == (768, 768, "jpeg")
    assert out.original_name == "holiday photo-1x1.jpg"
    again = crop_to_aspect(out, aspect="1:1", box=None, user=world.editor.user)
    assert again.original_name == "holiday photo-1x1.jpg"  # no photo-1x1-1x1


def test_crop_keeps_transparency_as_png(world):
    asset = stored(world, png_bytes(800, 600, mode="RGBA", fmt="WEBP"), "cut-out.webp")
    assert asset.has_alpha
    out = crop_to_aspect(asset, aspect="16:9", box=None, user=world.editor.user)
    assert (out.format, out.has_alpha, out.width, out.height) == ("png", True, 800, 450)
    assert out.original_name == "cut-out-16x9.png"


def test_crop_of_an_exif_rotated_photo_uses_the_displayed_pixels(world):
    asset = stored(world, rotated_jpeg(800, 600, orientation=6), "phone.jpg")
    assert (asset.width, asset.height) == (600, 800)
    out = crop_to_aspect(asset, aspect="9:16", box=None, user=world.editor.user)
    assert (out.width, out.height) == (450, 800)


def test_too_small_crops_say_so(world):
    asset = stored(world, gradient())
    response = world.editor.client.post(
        crop_url(world), {"asset_id": asset.public_id, "aspect": "16:9", "box": "0,0,320,180"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "The crop would be 320x180; each side must be at least 360 pixels. Make the frame larger "
        "(this image allows up to 1024x576 at 16:9)."
    }
    small = stored(world, png_bytes(400, 300), "small.png")
    response = world.editor.client.post(crop_url(world), {"asset_id": small.public_id, "aspect": "16:9"})
    assert response.json() == {
        "error": "The image (400x300) is too small: its largest 16:9 crop is 400x225, and each side must be at "
        "least 360 pixels. Use a larger image."
    }
    # A model that states no minimum (SiliconFlow), or an explicit min_side, lets it through.
    for extra in ({"model": SF_I2V}, {"min_side": "0"}):
        data = world.editor.client.post(
            crop_url(world), {"asset_id": small.public_id, "aspect": "16:9", **extra}
        ).json()
        assert (data["width"], data["height"]) == (400, 225)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"asset_id": "", "aspect": "16:9"}, 400, "Upload an image first, then crop it."),
        (
            {"asset_id": "nope", "aspect": "16:9"},
            404,
            "That image is not in this workspace (any more); choose it again.",
        ),
        ({"aspect": "4:3"}, 400, "Choose 16:9, 9:16 or 1:1 for the crop, not “4:3”."),
        (
            {"aspect": "16:9", "box": "1,2,x,4"},
            400,
            "The crop frame must be four numbers: x, y, width and height in pixels.",
        ),
        (
            {"aspect": "16:9", "box": "0,0,0,0"},
            400,
            "The crop frame must have a width and a height above zero.",
        ),
        ({"aspect": "16:9", "min_side": "big"}, 400, "min_side must be a whole number of pixels."),
    ],
)
def test_bad_crop_requests_answer_json(world, data, status, message):
    asset = stored(world, gradient(640, 480))
    data = {"asset_id": asset.public_id, **data}  # a given asset_id ("" or "nope") wins
    response = world.editor.client.post(crop_url(world), data)
    assert response.status_code == status
    assert response.json() == {"error": message}


def test_a_video_or_another_workspaces_image_cannot_be_cropped(world, tmp_path):
    video = create_asset(
        workspace=world.workspace,
        user=world.owner.user,
        source=make_video(tmp_path / "v.mp4", 64, 48, frames=4),
        expect="video",
    )
    theirs = create_asset(
        workspace=world.other_workspace,
        user=world.outsider.user,
        source=SimpleUploadedFile("theirs.png", png_bytes(640, 480)),
        expect="image",
    )
    for asset in (video, theirs):
        response = world.editor.client.post(crop_url(world), {"asset_id": asset.public_id, "aspect": "16:9"})
        assert response.status_code == 404 and "not in this workspace" in response.json()["error"]


# ---------------------------------------------------------------------------------------------------------
# Access and the page


def test_viewers_get_403_and_outsiders_404(world):
    asset = stored(world, gradient(640, 480))
    for persona, status in (("viewer", 403), ("outsider", 404)):
        client = world.persona(persona).client
        assert post_file(client, world, "p.png", png_bytes(640, 480)).status_code == status
        assert (
            client.post(crop_url(world), {"asset_id": asset.public_id, "aspect": "16:9"}).status_code
            == status
        )
    page = reverse("images:image_page", kwargs={"slug": world.workspace.slug})
    assert world.viewer.client.get(page).status_code == 200
    assert world.outsider.client.get(page).status_code == 404
    anonymous = world.anonymous.client.post(upload_url(world), {})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Asset.objects.count() == 1


def test_the_page_holds_the_input_and_shows_a_kept_image(world):
    page = reverse("images:image_page", kwargs={"slug": world.workspace.slug})
    html = world.editor.client.get(page).content.decode()
    assert 'name="image_asset"' in html and "data-image-input" in html
    assert f'data-upload-url="{upload_url(world)}"' in html and f'data-crop-url="{crop_url(world)}"' in html
    assert "image-input.js" in html and "image-input.css" in html
    asset = stored(world, gradient(640, 480))
    html = world.editor.client.get(page, {"image_asset": asset.public_id, "model": SF_I2V}).content.decode()
    assert f'name="image_asset" value="{asset.public_id}"' in html
    assert 'data-initial-width="640" data-initial-height="480"' in html
    assert "Wan-AI/Wan2.2-I2V-A14B needs a first frame of 16:9, 9:16 or 1:1" in html  # initial_info
    assert '"aspects": ["16:9", "9:16", "1:1"]' in html  # the model's limits for the browser's checks
    assert world.editor.client.post(page).status_code == 405


# ---------------------------------------------------------------------------------------------------------
# Rows for tests/test_access.py ROUTES (import these helpers there), tried here by every persona.


def image_upload_data(w) -> dict:
    return {"image": SimpleUploadedFile("frame.png", png_bytes(640, 480), content_type="image/png")}


def image_crop_data(w) -> dict:
    asset = create_asset(
        workspace=w.workspace,
        user=w.owner.user,
        source=SimpleUploadedFile("frame.png", png_bytes(640, 480)),
        expect="image",
    )
    return {"asset_id": asset.public_id, "aspect": "16:9"}


def access_rows() -> dict:
    from tests.test_access import Route, ws

    return {
        "images:image_page": Route("GET", ws, "read"),
        "images:upload": Route("POST", ws, "write", image_upload_data),
        "images:crop": Route("POST", ws, "write", image_crop_data),
    }


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "outsider", "anonymous"])
@pytest.mark.parametrize("name", ["images:image_page", "images:upload", "images:crop"])
def test_access_rows(world, name, persona):
    from tests.test_access import EXPECT

    route = access_rows()[name]
    url = reverse(name, kwargs=route.kwargs(world))
    client = world.persona(persona).client
    response = client.post(url, route.data(world)) if route.method == "POST" else client.get(url)
    expected = EXPECT[route.kind][persona]
    if expected == "ok":
        assert response.status_code < 400, (name, persona, response.status_code, response.content[:200])
    elif expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected, (name, persona, response.status_code)


def test_a_polyglot_is_kept_as_a_picture_and_never_served_as_a_page(world):
    """A real PNG with a web page appended, named .html: it reads as an image, so it is accepted, but it
    is stored and served as the image it is (its own type, nosniff, no inline HTML) and never as HTML."""
    payload = b"<html><script>alert(document.cookie)</script></html>"
    response = post_file(world.editor.client, world, "invoice.html", png_bytes(64, 36) + payload)
    assert response.status_code == 200, response.content
    asset = Asset.objects.get()
    assert asset.content_type == "image/png" and not asset.file.name.endswith((".html", ".htm"))
    served = world.editor.client.get(
        reverse("asset_file", kwargs={"slug": world.workspace.slug, "asset_id": asset.public_id})
    )
    body = b"".join(served.streaming_content) if served.streaming else served.content
    assert served["Content-Type"] == "image/png" and served["X-Content-Type-Options"] == "nosniff"
    assert "html" not in served.get("Content-Disposition", "")
    assert body.startswith(b"\x89PNG")


# ---------------------------------------------------------------------------------------------------------
# Animated images: never sent as a first frame; kept as a still of their first frame, with a note


@pytest.mark.parametrize(
    ("fmt", "name", "said"),
    [("GIF", "spin.gif", "GIF"), ("WEBP", "spin.webp", "WebP"), ("PNG", "spin.png", "PNG")],
)
def test_an_animated_image_is_kept_as_its_first_frame_with_a_note(world, fmt, name, said):
    content = animated(fmt)
    with Image.open(io.BytesIO(content)) as im:
        assert im.is_animated
    response = post_file(world.editor.client, world, name, content)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["flattened"] is True and data["format"] == "png"
    assert data["warnings"][0] == (
        f"“{name}” is an animated {said}: no provider takes an animation as a first frame, so the studio kept "
        "its first frame only, as a still PNG."
    )
    asset = Asset.objects.get(public_id=data["asset_id"])
    with asset.file.open("rb") as fh, Image.open(fh) as im:
        assert not getattr(im, "is_animated", False) and im.format == "PNG" and im.size == (96, 54)
        r, g, _b = im.convert("RGB").getpixel((10, 10))[:3]
        assert abs(r - 200) <= 8 and abs(g - 40) <= 8  # the first frame's colour, not a later one


def test_an_animated_image_posted_without_javascript_is_flattened_too(world, tmp_path):
    path = tmp_path / "spin.gif"
    path.write_bytes(animated("GIF"))
    asset = create_asset(workspace=world.workspace, user=world.owner.user, source=path, expect="image")
    assert (asset.format, asset.flattened_from) == ("png", "GIF")
    with asset.file.open("rb") as fh, Image.open(fh) as im:
        assert getattr(im, "n_frames", 1) == 1


def test_an_animated_image_too_large_for_memory_is_refused_before_decoding(world, monkeypatch):
    from studio.assets import pixels

    monkeypatch.setattr(pixels, "BUDGET", 10_000)  # far under one 96x54 frame and its copy
    response = post_file(world.editor.client, world, "spin.gif", animated("GIF"))
    assert response.status_code == 400 and "megapixels" in response.json()["error"]
    assert not Asset.objects.exists()


def test_the_job_forms_other_image_fields_keep_an_animation_as_its_first_frame_and_say_so(world):
    url = reverse("asset_upload", kwargs={"slug": world.workspace.slug})
    response = world.editor.client.post(
        url, {"slot": "last_image", "file": SimpleUploadedFile("spin.webp", animated("WEBP"))}
    )
    assert response.status_code == 200, response.content
    assert response.json()["description"].endswith("the first frame of an animated WebP, kept as a still")
    assert Asset.objects.get().format == "png"
