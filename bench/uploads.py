"""Checking uploaded images: how long the server takes to accept a ~10 MB image, and how little memory it
uses to refuse a 12,000 x 12,000 decompression bomb.

Runs on a Django of its own (fresh temporary data directory and SQLite database). Prints a header line
stating the conditions, then ``name value unit`` lines:

- ``check_10mb_*``: ``create_asset`` on a ~10 MB file (copy, Pillow probe and decode, EXIF orientation baked
  in, SHA-256, storage, database row), median of ``--repeat`` runs;
- ``upload_10mb_jpeg_http``: the same JPEG posted to the image input's upload view through the full Django
  stack (multipart parsing to a temporary file, frame count, create_asset, the JSON answer);
- ``refuse_bomb_*``: a valid 12,000 x 12,000 RGB PNG (one solid colour, so its IDAT compresses to about
  0.4 MB; decoded it would take 432 MB) posted to the upload view: the time to answer 400, the growth of the
  process's peak RSS (ru_maxrss, measured before anything else large happened in this process), and the
  peak of Python allocations (tracemalloc).

    .venv/bin/python bench/uploads.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import platform
import resource
import statistics
import struct
import sys
import tempfile
import time
import tracemalloc
import types
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--repeat", type=int, default=5)
ARGS = parser.parse_args()

WORK = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
os.environ["STUDIO_DATA_DIR"] = str(WORK)
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

import django  # noqa: E402

django.setup()

import PIL  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import URLResolver, clear_url_caches, include, path  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from studio.assets.models import Asset  # noqa: E402
from studio.assets.services import create_asset  # noqa: E402
from studio.workspaces.models import Membership, Workspace  # noqa: E402

MB = 1024 * 1024
SIDE = 12_000


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def reset_peak() -> tuple[float, str]:
    """The RSS now, and how the peak will be read: Linux can reset the peak (VmHWM) to the current RSS,
    so the growth measured is this operation's own; elsewhere ru_maxrss (growth past the earlier peak)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        rss = _status_mb("VmRSS")
        if rss is not None:
            return rss, "VmHWM"
    except OSError:
        pass
    return maxrss_mb(), "ru_maxrss"


def peak(how: str) -> float:
    return (_status_mb("VmHWM") if how == "VmHWM" else None) or maxrss_mb()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(path: Path, side: int = SIDE, colour: bytes = b"\x30\x80\xc8") -> None:
    """A valid side x side RGB PNG of one colour, its IDAT streamed through zlib a row at a time."""
    row = b"\x00" + colour * side  # filter byte 0, then the pixels
    squeeze = zlib.compressobj(9)
    parts = [squeeze.compress(row) for _ in range(side)]
    idat = b"".join(parts) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def photo(size: tuple[int, int]) -> Image.Image:
    """Photo-like: gradients, a fractal, shapes, blur and grain (grain is what makes photos large)."""
    w, h = size
    base = Image.effect_mandelbrot(size, (-2.2, -1.2, 1.0, 1.2), 120).convert("RGB")
    grad = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.linear_gradient("L").resize(size),
            Image.new("L", size, 140),
        ),
    )
    image = Image.blend(grad, base, 0.45)
    draw = ImageDraw.Draw(image)
    for i in range(14):
        x, y = (i * 211) % w, (i * 137) % h
        draw.ellipse((x, y, x + w // 7, y + h // 5), fill=((i * 47) % 256, (i * 89) % 256, (i * 23) % 256))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    return Image.blend(image, Image.effect_noise(size, 64).convert("RGB"), 0.25)


def about_10mb(image: Image.Image, fmt: str, **options) -> bytes:
    """Encode ``image``, scaling it until the file is 9.5-10.5 MB."""
    size = image.size
    for _ in range(8):
        buffer = io.BytesIO()
        image.resize(size).save(buffer, fmt, **options)
        n = buffer.tell()
        if 9.5 * MB <= n <= 10.5 * MB:
            return buffer.getvalue()
        scale = (10 * MB / n) ** 0.5
        size = (round(size[0] * scale), round(size[1] * scale))
    return buffer.getvalue()


def setup() -> tuple[Client, Workspace, object]:
    call_command("migrate", verbosity=0)
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    # The image input's URLs, whether or not studio/urls.py includes them yet.
    from studio.urls import urlpatterns as studio_urlpatterns

    urls = types.ModuleType("bench_upload_urls")
    urls.urlpatterns = list(studio_urlpatterns)
    if not any(isinstance(p, URLResolver) and p.namespace == "images" for p in studio_urlpatterns):
        urls.urlpatterns.append(path("w/<slug:slug>/images/", include("studio.assets.image_urls")))
    sys.modules[urls.__name__] = urls
    settings.ROOT_URLCONF = urls.__name__
    clear_url_caches()
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    ws = Workspace.objects.create(slug="bench", name="Bench")
    Membership.objects.create(workspace=ws, user=user, role="owner")
    client = Client()
    client.login(username="bench", password="bench-password-1")
    return client, ws, user


def post(client: Client, file_path: Path):
    with open(file_path, "rb") as fh:
        return client.post("/w/bench/images/upload/", {"image": fh})


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the refusals are 400s on purpose
    client, ws, user = setup()
    files = WORK / "files"
    files.mkdir()
    bomb = files / "bomb.png"
    bomb_png(bomb)
    small = files / "small.png"
    photo((640, 480)).save(small)
    # Warm up: imports, Pillow plugins, URL resolving, the session, the first INSERT.
    assert post(client, small).status_code == 200
    assert post(client, bomb).status_code == 400

    # The bomb first, before anything large has raised the process's peak RSS.
    rss_before, how = reset_peak()
    tracemalloc.start()
    start = time.perf_counter()
    response = post(client, bomb)
    bomb_ms = (time.perf_counter() - start) * 1000
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = peak(how) - rss_before
    assert response.status_code == 400, response.content
    message = response.json()["error"]
    bomb_times = [timed(lambda: post(client, bomb)) for _ in range(ARGS.repeat)]

    big = photo((4000, 3000))
    jpeg = files / "photo.jpg"
    jpeg.write_bytes(about_10mb(big, "JPEG", quality=95))
    exif = Image.Exif()
    exif[0x0112] = 6  # a phone held upright: the server turns the pixels and encodes them again
    rotated = files / "phone.jpg"
    rotated.write_bytes(about_10mb(big, "JPEG", quality=95, exif=exif.tobytes()))
    png = files / "photo.png"
    png.write_bytes(about_10mb(big, "PNG", compress_level=6))

    def check(source: Path) -> float:
        return timed(lambda: create_asset(workspace=ws, user=user, source=source, expect="image"))

    results = {}
    for name, source in (
        ("check_10mb_jpeg", jpeg),
        ("check_10mb_jpeg_exif_rotated", rotated),
        ("check_10mb_png", png),
    ):
        check(source)  # warm the page cache
        results[name] = (statistics.median(check(source) for _ in range(ARGS.repeat)), source)
    http = [timed(lambda: post(client, jpeg)) for _ in range(ARGS.repeat)]

    with Image.open(jpeg) as im:
        jpeg_size = im.size
    with Image.open(png) as im:
        png_size = im.size
    print(
        f"# in-process, median of {ARGS.repeat} runs after a warm-up, SQLite and local storage in a fresh temp dir; "
        f"python {sys.version.split()[0]}, Pillow {PIL.__version__}, {platform.machine()}, {os.cpu_count()} cores; "
        f"JPEG {jpeg_size[0]}x{jpeg_size[1]} q95, PNG {png_size[0]}x{png_size[1]}; "
        f"bomb {SIDE}x{SIDE} RGB PNG of {bomb.stat().st_size / 1e6:.2f} MB (432 MB decoded)"
    )
    for name, (ms, source) in results.items():
        print(f"{name} {ms:.0f} ms")
        print(f"{name}_size {source.stat().st_size / MB:.1f} MB")
    print(f"upload_10mb_jpeg_http {statistics.median(http):.0f} ms")
    print(f"refuse_bomb_http {statistics.median(bomb_times):.1f} ms")
    print(f"refuse_bomb_first_http {bomb_ms:.1f} ms")
    print(f"refuse_bomb_peak_rss_growth {rss_growth:.2f} MB")
    print(f"# peak RSS read from {how}; the whole process peaked at {maxrss_mb():.0f} MB (the 10 MB images)")
    print(f"refuse_bomb_python_peak {py_peak / 1024:.0f} KB")
    print(f"# the bomb's answer: {message}")
    print(f"# assets kept: {Asset.objects.count()} (the bombs: none)")


if __name__ == "__main__":
    main()
