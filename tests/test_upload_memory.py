"""Images and videos are judged by their headers before anything is decoded, and decoded within a memory
budget: too-large files are refused in words that say the limit, large JPEG photos are decoded at a reduced
scale, and the painter decodes frames of videos no larger than 1080p with a bounded number of threads.

These tests check the mechanism (what was decoded, at what size, or that nothing was); the memory figures
themselves are bench/uploads.py's.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib

import av
import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageDraw, ImageFile

from studio.assets import pixels
from studio.assets.crop import crop_to_aspect
from studio.assets.models import Asset
from studio.assets.services import create_asset
from tests.media import make_video


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def flat_png(width: int, height: int, orientation: int = 1) -> bytes:
    """A valid 8-bit RGB PNG of one colour, written a row at a time (no pixel buffer is ever made)."""
    row = b"\x00" + b"\x28\x78\xc8" * width
    squeeze = zlib.compressobj(1)
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        chunks.append(_chunk(b"eXIf", exif.tobytes()[6:]))  # PNG's eXIf holds the TIFF part, no "Exif\0\0"
    chunks += [_chunk(b"IDAT", idat), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def photo_jpeg(width: int, height: int, orientation: int = 1, **save) -> bytes:
    """A JPEG whose top-left quarter is red, so a turn shows where the pixels went."""
    image = Image.new("RGB", (width, height), (40, 120, 200))
    ImageDraw.Draw(image).rectangle((0, 0, width // 2, height // 2), fill=(230, 20, 20))
    options = {"quality": 85, **save}
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


@pytest.fixture
def loads(monkeypatch):
    """Every decode Pillow does, as (format, decoded size): what was decoded and how large."""
    seen: list[tuple[str, tuple[int, int]]] = []
    real = ImageFile.ImageFile.load

    def load(self):
        if self.tile:  # a decode about to happen (an image already in memory has no tiles left)
            seen.append((self.format, self.size))
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return seen


def upload_url(world) -> str:
    return reverse("images:upload", kwargs={"slug": world.workspace.slug})


def post_image(world, name: str, content: bytes):
    return world.editor.client.post(upload_url(world), {"image": SimpleUploadedFile(name, content)})


def keep(world, name: str, content: bytes, kind: str = "image", **fields) -> Asset:
    """An asset row for ``content`` without create_asset's checks: what an older studio may have kept."""
    asset = Asset(
        workspace=world.workspace,
        created_by=world.editor.user,
        kind=kind,
        original_name=name,
        sha256="0" * 64,
        bytes=len(content),
        **fields,
    )
    asset.file.save(name, File(io.BytesIO(content)), save=False)
    asset.save()
    return asset


# ---- images: refused from the header ------------------------------------------------------------------


def test_the_audits_6300_png_is_refused_from_its_header_in_words_that_give_the_limit(world, loads):
    content = flat_png(6300, 6300)
    assert len(content) < 1_000_000  # about half a megabyte: the file size says nothing of the pixels
    response = post_image(world, "poster.png", content)
    assert response.status_code == 400
    assert response.json() == {
        "error": "“poster.png”: The image is 6300x6300 (39.7 megapixels); PNG images may be up to 6.3 "
        "megapixels (2508x2508 at this shape). Scale it down, or save it as a JPEG, and upload it again."
    }
    assert loads == []  # not one pixel was decoded
    assert not Asset.objects.exists()


def test_its_exif_turned_twin_is_refused_the_same_way(world, loads):
    response = post_image(world, "phone.png", flat_png(6300, 6300, orientation=6))
    assert response.status_code == 400 and "may be up to 6.3 megapixels" in response.json()["error"]
    assert loads == []


def test_the_limit_counts_what_each_format_costs_to_decode():
    rgb = pixels.Header("PNG", "RGB", 3000, 2000)
    grey = pixels.Header("PNG", "L", 3000, 2000)
    webp = pixels.Header("WEBP", "RGB", 3000, 2000)
    baseline = pixels.Header("JPEG", "RGB", 6000, 4000)
    progressive = pixels.Header("JPEG", "RGB", 6000, 4000, progressive=True, samples=1.5)
    # Pillow holds RGB in four bytes a pixel; a turn or a crop is a second copy.
    assert pixels.max_pixels(rgb) == pixels.BUDGET // 8
    assert pixels.max_pixels(grey) == pixels.BUDGET // 2
    assert pixels.max_pixels(webp) == pixels.BUDGET // 16  # libwebp's canvases and Pillow's copy
    assert pixels.max_pixels(baseline) >= 40_000_000  # decoded at 1/8 to check it, at 1/2 or less to turn
    assert pixels.max_pixels(progressive) < 17_000_000  # libjpeg keeps every coefficient of every scan
    assert pixels.refusal(rgb) is None and pixels.refusal(baseline) is None
    assert "progressive JPEG images may be up to" in pixels.refusal(progressive)


def test_a_large_jpeg_is_checked_from_a_reduced_decode(world, loads):
    response = post_image(world, "big.jpg", photo_jpeg(4000, 3000))
    assert response.status_code == 200, response.content
    assert (response.json()["width"], response.json()["height"]) == (4000, 3000)
    assert loads == [("JPEG", (500, 375))]  # the integrity check decodes at 1/8 of each side


def test_a_large_exif_turned_jpeg_is_turned_at_half_size_and_says_so(world, loads):
    response = post_image(world, "phone.jpg", photo_jpeg(4000, 3000, orientation=6))
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["width"], data["height"]) == (1500, 2000)
    assert data["warnings"][0] == (
        "It was turned upright at half size and kept at 1500x2000 (the photo is 3000x4000): turning a "
        "photo this large at full size takes more memory than one upload may use."
    )
    assert ("JPEG", (2000, 1500)) in loads and ("JPEG", (4000, 3000)) not in loads
    asset = Asset.objects.get(public_id=data["asset_id"])
    with asset.file.open("rb") as fh, Image.open(fh) as im:
        assert im.size == (1500, 2000) and im.getexif().get(0x0112, 1) == 1
        assert im.getpixel((1400, 100))[0] > 200  # orientation 6: the red top-left is now top-right


def test_a_small_exif_turned_jpeg_is_still_turned_at_full_size(world):
    data = post_image(world, "phone.jpg", photo_jpeg(800, 600, orientation=6)).json()
    assert (data["width"], data["height"]) == (600, 800)
    assert not any("half size" in w for w in data["warnings"])


def test_a_png_is_judged_by_its_decoded_size_not_its_file_size(world, monkeypatch, loads):
    monkeypatch.setattr(pixels, "BUDGET", 8 * 640 * 480)  # room for two RGB copies of 640x480
    assert post_image(world, "ok.png", flat_png(640, 480)).status_code == 200
    loads.clear()
    response = post_image(world, "big.png", flat_png(641, 480))
    assert (
        response.status_code == 400 and "PNG images may be up to 0.3 megapixels" in response.json()["error"]
    )
    assert loads == []


# ---- crops within the budget ---------------------------------------------------------------------------


def test_a_crop_of_a_large_jpeg_is_cut_from_a_reduced_decode(world, loads):
    asset = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=SimpleUploadedFile("big.jpg", photo_jpeg(4000, 3000)),
        expect="image",
    )
    loads.clear()
    out = crop_to_aspect(asset, aspect="16:9", box=None, user=world.editor.user)
    assert (out.width, out.height) == (2000, 1125) and out.width * 9 == out.height * 16
    assert ("JPEG", (2000, 1500)) in loads and ("JPEG", (4000, 3000)) not in loads
    assert out.reduced_from == (4000, 2250)  # the view turns this into a warning
    response = world.editor.client.post(
        reverse("images:crop", kwargs={"slug": world.workspace.slug}),
        {"asset_id": asset.public_id, "aspect": "16:9"},
    )
    assert response.json()["warnings"][0] == (
        "The crop was cut at half size, 2000x1125 rather than 4000x2250: cropping an image this large at "
        "full size takes more memory than one crop may use."
    )


def test_a_crop_small_enough_is_still_exact(world, loads):
    asset = create_asset(
        workspace=world.workspace,
        user=world.editor.user,
        source=SimpleUploadedFile("photo.jpg", photo_jpeg(1600, 1200)),
        expect="image",
    )
    out = crop_to_aspect(asset, aspect="16:9", box=None, user=world.editor.user)
    assert (out.width, out.height) == (1600, 900) and getattr(out, "reduced_from", None) is None


def test_a_kept_png_too_large_to_crop_is_refused_before_decoding(world, loads):
    asset = keep(world, "poster.png", flat_png(6300, 6300), width=6300, height=6300, format="png")
    with pytest.raises(ValidationError) as refused:
        crop_to_aspect(asset, aspect="16:9", box=None, user=world.editor.user)
    assert refused.value.messages == [
        "The image (6300x6300) is too large to crop here: PNG images may be up to 6.3 megapixels. Upload a "
        "smaller copy and crop that."
    ]
    assert loads == []


# ---- videos ------------------------------------------------------------------------------------------


def test_a_video_larger_than_1080p_is_refused_at_upload(world, tmp_path):
    path = make_video(tmp_path / "qhd.mp4", 2560, 1440, frames=2)
    with pytest.raises(ValidationError) as refused:
        create_asset(workspace=world.workspace, user=world.editor.user, source=path, expect="video")
    assert refused.value.messages == [
        "“qhd.mp4” is 2560x1440; videos may be up to 1920x1080 (1080p). Scale it down and upload it again."
    ]
    portrait = make_video(tmp_path / "tall.mp4", 1080, 1920, frames=2)
    asset = create_asset(workspace=world.workspace, user=world.editor.user, source=portrait, expect="video")
    assert (asset.width, asset.height) == (1080, 1920)


def test_the_probe_reads_a_videos_size_without_decoding_frames(tmp_path, monkeypatch):
    from studio.assets import probe

    path = make_video(tmp_path / "clip.mp4", 320, 192, frames=4)
    opened = []
    real = av.open

    def spy(*args, **kwargs):
        opened.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(probe.av, "open", spy)
    found = probe.probe_file(path)
    assert (found.width, found.height, found.frames) == (320, 192, 4)
    assert opened and all(k.get("options", {}).get("skip_frame") == "all" for k in opened)


def frame_url(asset: Asset, frame: int = 1) -> str:
    return reverse(
        "masks:mask_frame", kwargs={"slug": asset.workspace.slug, "asset_id": asset.public_id, "frame": frame}
    )


def test_the_painter_refuses_a_kept_video_larger_than_1080p_without_decoding_it(world, tmp_path, monkeypatch):
    content = make_video(tmp_path / "qhd.mp4", 2560, 1440, frames=2).read_bytes()
    video = keep(
        world, "qhd.mp4", content, kind="video", width=2560, height=1440, fps=16, frames=2, format="mp4"
    )
    monkeypatch.setattr(
        "studio.assets.mask_views._open_video", lambda asset: pytest.fail("the video was opened")
    )
    response = world.editor.client.get(frame_url(video))
    assert response.status_code == 404
    assert response.content.decode() == (
        "This video is 2560x1440; the painter shows videos up to 1920x1080 (1080p). Upload a smaller copy."
    )
    mask = Image.new("L", (2560, 1440), 255)
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    response = world.editor.client.post(
        reverse("masks:mask_save", kwargs={"slug": world.workspace.slug, "asset_id": video.public_id}),
        {"mask": SimpleUploadedFile("mask.png", buffer.getvalue(), content_type="image/png"), "frame": "1"},
    )
    assert response.status_code == 400 and "up to 1920x1080" in response.json()["error"]


def test_the_painter_decodes_with_a_bounded_number_of_threads(world, tmp_path, monkeypatch):
    from studio.assets import mask_views

    path = make_video(tmp_path / "clip.mp4", 320, 192, frames=8)
    video = create_asset(workspace=world.workspace, user=world.editor.user, source=path, expect="video")
    counts = []
    real = mask_views._open_video

    class Spy:
        """The container, with every decode's thread settings written down."""

        def __init__(self, container):
            self.container = container

        def __enter__(self):
            self.container.__enter__()
            return self

        def __exit__(self, *exc):
            return self.container.__exit__(*exc)

        def __getattr__(self, name):
            return getattr(self.container, name)

        def decode(self, stream, *args):
            counts.append((stream.thread_type, stream.thread_count))
            return self.container.decode(stream, *args)

    def spy(asset):
        return Spy(real(asset))

    monkeypatch.setattr(mask_views, "_open_video", spy)
    assert world.editor.client.get(frame_url(video, 5)).status_code == 200
    # Frame threads each hold frames of their own: their number, not the machine's cores, bounds memory.
    assert counts and all(count == mask_views.DECODE_THREADS for _, count in counts)
    assert mask_views.DECODE_THREADS <= 2
