"""Checking uploaded media: the memory each upload, crop and painter frame costs the web process, and how
long the server takes to accept a ~10 MB image or refuse a decompression bomb.

The parent process builds a fresh temporary data directory (SQLite database, media) and the files, then runs
every case in a fresh child process of its own, so one case's peak never hides another's. A child sets
Django up, warms up (imports, Pillow and PyAV plugins, URL resolving, the session, the first INSERT with a
small file of the same kind), then resets its peak RSS (``/proc/self/clear_refs``), reads its RSS, runs
the case once and reads its peak (``VmHWM`` in ``/proc/self/status``: the high-water mark of the child's own
address space; ``ru_maxrss`` would not do, as Linux carries the parent's peak into a child across fork and
exec). The growth printed is that peak minus the RSS just before the case.
``retained`` is the RSS after the case (and a ``gc.collect()``) minus the RSS before: what the process
keeps once the answer is sent.

Uploads go through Django's WSGI handler and the CSRF middleware, as in production, their bodies streamed
from disk: a test client would build each body in memory, in the very process being measured.

Cases, each against its goal (``ok`` or ``OVER``):

- ``png_6300``: a 6300 x 6300 RGB PNG of about 0.1 MB posted to the image input's upload view;
- ``png_6300_exif6``: its twin with EXIF orientation 6 (a phone held upright);
- ``png_6300_x4``: four of them posted at once from four threads (goal: four times one upload's);
- ``crop_6300``: a 16:9 crop of the 6300 x 6300 image, kept as an older studio kept it, through the crop
  view;
- ``video_8k_upload``: a 7680 x 4320 H.264 MP4 of about 1 MB posted to the job form's upload view;
- ``video_8k_frame``: the mask painter's frame 1 of that video, already kept (as it would be from before
  the studio refused such videos);
- ``video_1080p_frame``: the painter's frame 140 of a 1080p video, the largest the studio takes;
- ``body_200mb``: a 200 MB multipart body posted to the image upload view through the real WSGI stack
  (CSRF checked by the middleware, as in production): how much of the body was read before the answer;
- ``png_limit_exif6``, ``crop_png_limit``, ``jpeg_40mp_exif6``, ``crop_jpeg_40mp``,
  ``jpeg_16mp_progressive``: the largest images of each kind the studio takes, turned or cropped (the goal
  holds "at any accepted size").

Then, in one more child, the timing figures: ``check_10mb_*`` (``create_asset`` on a ~10 MB file, median of
``--repeat`` runs), ``upload_10mb_jpeg_http`` and ``refuse_bomb_*`` (a valid 12,000 x 12,000 PNG bomb).

    .venv/bin/python bench/uploads.py [--repeat 5] [--case NAME ...]
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import logging
import os
import platform
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
SIDE = 12_000  # the bomb
BIG = 6300  # the audit's PNG
IMAGE_GOAL_MB = 64
FRAME_GOAL_MB = 128
CSRF = "benchcsrftokenbenchcsrftoken0123"  # 32 characters: a bare secret, as the cookie holds it

CASES = {
    # name: (goal in MB, what is measured)
    "png_6300": (IMAGE_GOAL_MB, "one 6300x6300 PNG upload"),
    "png_6300_exif6": (IMAGE_GOAL_MB, "its EXIF-6 twin"),
    "png_6300_x4": (4 * IMAGE_GOAL_MB, "four 6300x6300 PNG uploads at once (threads)"),
    "crop_6300": (IMAGE_GOAL_MB, "a 16:9 crop of the 6300x6300 image"),
    "video_8k_upload": (FRAME_GOAL_MB, "a 7680x4320 H.264 upload"),
    "video_8k_frame": (FRAME_GOAL_MB, "the painter's frame 1 of a kept 7680x4320 video"),
    "video_1080p_frame": (FRAME_GOAL_MB, "the painter's frame 140 of a 1920x1080 video, the largest taken"),
    "body_200mb": (IMAGE_GOAL_MB, "a 200 MB body posted to the image upload"),
    # The largest of what is accepted: each must stay within the goal too.
    "png_limit_exif6": (IMAGE_GOAL_MB, "a 3072x2048 PNG with EXIF 6, the largest PNG taken, turned"),
    "crop_png_limit": (IMAGE_GOAL_MB, "a 9:16 crop of that PNG"),
    "jpeg_40mp_exif6": (IMAGE_GOAL_MB, "a 7680x5200 JPEG with EXIF 6, turned"),
    "crop_jpeg_40mp": (IMAGE_GOAL_MB, "a 16:9 crop of a 7680x5200 JPEG"),
    "jpeg_16mp_progressive": (IMAGE_GOAL_MB, "a 4608x3456 progressive JPEG, near its limit"),
}


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (MB if sys.platform == "darwin" else 1024)  # bytes on macOS, kilobytes on Linux


def rss_mb() -> float:
    return _status_mb("VmRSS") or maxrss_mb()


def reset_peak() -> str:
    """Start this process's peak afresh, and say how it will be read.

    ru_maxrss alone would not do in a child: Linux carries the parent's high-water mark across fork and
    exec, so every child would report the parent's peak. VmHWM belongs to the child's own address space,
    and writing 5 to clear_refs resets it to the RSS now, so the warm-up's peak is not counted either.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return "VmHWM reset before the case"
    except OSError:
        return "VmHWM" if _status_mb("VmHWM") is not None else "ru_maxrss"


def peak_mb() -> float:
    return _status_mb("VmHWM") or maxrss_mb()


# --- files -------------------------------------------------------------------------------------------


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


def big_png(path: Path, orientation: int = 1) -> None:
    """A 6300 x 6300 RGB PNG of flat shapes (about 0.1 MB), optionally with an EXIF orientation."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (BIG, BIG), (40, 120, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((BIG // 4, BIG // 4, 3 * BIG // 4, 3 * BIG // 4), fill=(240, 200, 40))
    draw.rectangle((0, 0, BIG // 3, BIG // 8), fill=(200, 40, 60))
    options = {"compress_level": 9}
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    image.save(path, "PNG", **options)


def video_8k(path: Path, frames: int = 8, fps: int = 8) -> None:
    import av
    from PIL import Image, ImageDraw

    width, height = 7680, 4320
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "40"}
        for i in range(frames):
            image = Image.new("RGB", (width, height), (i * 20 % 255, 80, 160))
            ImageDraw.Draw(image).rectangle((i * 200, 400, i * 200 + 1600, 2000), fill=(255, 255, 255))
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())


def video_1080p(path: Path, frames: int = 150, fps: int = 30) -> None:
    """Five seconds of 1080p H.264 as an encoder makes them by default (a key frame every 250, B-frames):
    a late frame means decoding forward from the first."""
    import av
    from PIL import Image, ImageDraw

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"preset": "veryfast"}
        grain = Image.effect_noise((480, 270), 40).convert("RGB").resize((1920, 1080))
        for i in range(frames):
            image = grain.copy()
            ImageDraw.Draw(image).rectangle((i * 10, 100, i * 10 + 300, 500), fill=(255, 255, 255))
            container.mux(stream.encode(av.VideoFrame.from_image(image)))
        container.mux(stream.encode())


def photo(size: tuple[int, int]):
    """Photo-like: gradients, a fractal, shapes, blur and grain (grain is what makes photos large)."""
    from PIL import Image, ImageDraw, ImageFilter

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


def about_10mb(image, fmt: str, **options) -> bytes:
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


# --- Django ------------------------------------------------------------------------------------------


def django_up(work: Path) -> None:
    os.environ["STUDIO_DATA_DIR"] = str(work)
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver"]
    logging.getLogger("django.request").setLevel(logging.ERROR)  # the refusals are 400s on purpose
    logging.getLogger("django.security").setLevel(logging.CRITICAL)


def client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    c = Client()
    c.force_login(get_user_model().objects.get(username="bench"))
    return c


def workspace_and_user():
    from django.contrib.auth import get_user_model

    from studio.workspaces.models import Workspace

    return Workspace.objects.get(slug="bench"), get_user_model().objects.get(username="bench")


def keep_unchecked(path: Path, kind: str = "video"):
    """An Asset row for ``path`` without create_asset's checks: what an older studio may have kept."""
    from django.core.files import File
    from PIL import Image

    from studio.assets.models import Asset
    from studio.assets.probe import probe_av

    if kind == "image":
        with Image.open(path) as im:
            fields = {"format": im.format.lower(), "content_type": f"image/{im.format.lower()}"}
            fields.update(width=im.width, height=im.height)
    else:
        probe = probe_av(path)
        fields = {
            "format": probe.format,
            "content_type": probe.content_type,
            "width": probe.width,
            "height": probe.height,
            "duration": probe.duration,
            "fps": probe.fps,
            "frames": probe.frames,
            "codec": probe.codec,
        }
    ws, user = workspace_and_user()
    asset = Asset(
        workspace=ws,
        created_by=user,
        kind=kind,
        original_name=path.name,
        sha256="0" * 64,
        bytes=path.stat().st_size,
        **fields,
    )
    with open(path, "rb") as fh:
        asset.file.save(path.name, File(fh), save=False)
    asset.save()
    return asset


def limit_png(path: Path, orientation: int = 1) -> None:
    """An RGB PNG of 3072 x 2048, the most pixels the studio takes in a PNG (two RGB copies in 48 MB)."""
    image = photo((3072, 2048))
    image.save(path, "PNG", compress_level=1, **({"exif": _exif(orientation)} if orientation != 1 else {}))


def large_jpeg(path: Path, size: tuple[int, int], orientation: int = 1, **options) -> None:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (40, 120, 200))
    ImageDraw.Draw(image).ellipse(
        (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill=(240, 200, 40)
    )
    if orientation != 1:
        options["exif"] = _exif(orientation)
    image.save(path, "JPEG", quality=90, **options)


def prepare(work: Path) -> dict:
    """Database, user, workspace, the files, and the kept assets the crop and painter cases start from."""
    django_up(work)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from studio.assets.services import create_asset
    from studio.workspaces.models import Membership, Workspace

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="bench-password-1")
    ws = Workspace.objects.create(slug="bench", name="Bench")
    Membership.objects.create(workspace=ws, user=user, role="owner")
    files = work / "files"
    files.mkdir()
    big_png(files / "big.png")
    big_png(files / "big-exif6.png", orientation=6)
    photo((640, 480)).save(files / "small.png")
    photo((640, 480)).save(files / "small-exif6.png", exif=_exif(6))
    video_8k(files / "8k.mp4")
    from tests.media import make_video

    make_video(files / "small.mp4", 320, 192, frames=16, fps=16)
    video_1080p(files / "1080p.mp4")
    # The largest images the studio takes, of each kind that costs differently.
    limit_png(files / "limit-exif6.png", orientation=6)
    large_jpeg(files / "40mp-exif6.jpg", (7680, 5200), orientation=6)
    large_jpeg(files / "40mp.jpg", (7680, 5200))
    large_jpeg(files / "16mp-progressive.jpg", (4608, 3456), progressive=True)
    # The crop's sources: the 6300 x 6300 PNG as an older studio kept it (this one refuses it at upload),
    # and the largest PNG and JPEG kept the usual way.
    legacy = keep_unchecked(files / "big.png", kind="image")
    crops = {}
    for key, name in (("crop_png_limit", "limit-exif6.png"), ("crop_jpeg_40mp", "40mp.jpg")):
        try:
            crops[key] = create_asset(workspace=ws, user=user, source=files / name, expect="image").public_id
        except Exception as exc:  # a studio that refuses it has no crop to measure
            crops[key] = f"refused: {exc}"
    small_image = create_asset(workspace=ws, user=user, source=files / "small.png", expect="image")
    video = keep_unchecked(files / "8k.mp4")
    small_video = keep_unchecked(files / "small.mp4")
    full_hd = create_asset(workspace=ws, user=user, source=files / "1080p.mp4", expect="video")
    return {
        "video_1080p": full_hd.public_id,
        "crop_source": legacy.public_id,
        **crops,
        "small_image": small_image.public_id,
        "video_8k": video.public_id,
        "small_video": small_video.public_id,
        "png_bytes": (files / "big.png").stat().st_size,
        "video_bytes": (files / "8k.mp4").stat().st_size,
    }


def _exif(orientation: int) -> bytes:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


# --- the cases, each run in a child --------------------------------------------------------------------


class Answer:
    """What the WSGI handler answered, read like a test client's response."""

    def __init__(self, status: int, content: bytes, read: int):
        self.status_code, self.content, self.read = status, content, read

    def json(self):
        return json.loads(self.content)


class StreamBody(io.RawIOBase):
    """A multipart body of ``fields`` and one file, made as it is read: the file's bytes come from disk
    (or are zeros, ``size`` of them, for ``source=None``), so the bench never holds a body in memory and the
    process's peak is the server's own."""

    def __init__(self, boundary: str, field: str, name: str, source: Path | None, size: int = 0, fields=None):
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
            for key, value in (fields or {}).items()
        ]
        self.head = (
            "".join(parts)
            + f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{boundary}--\r\n".encode()
        self.source = open(source, "rb") if source else None  # noqa: SIM115 - closed with the body
        self.size = source.stat().st_size if source else size
        self.total = len(self.head) + self.size + len(self.tail)
        self.pos = 0
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self.source:
            self.source.close()
        super().close()

    def readinto(self, buffer) -> int:
        view = memoryview(buffer)
        n = min(len(view), self.total - self.pos)
        done = 0
        while done < n:
            p = self.pos + done
            if p < len(self.head):
                piece = self.head[p : p + n - done]
            elif p < len(self.head) + self.size:
                want = min(n - done, len(self.head) + self.size - p)
                piece = self.source.read(want) if self.source else bytes(want)
            else:
                offset = p - len(self.head) - self.size
                piece = self.tail[offset : offset + n - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
        self.pos += n
        self.read_bytes += n
        return n


_SESSION: list[str] = []


def post_wsgi(path: str, field: str, source: Path | None, *, size: int = 0, name: str = "", fields=None):
    """POST one file through Django's WSGI handler, CSRF middleware and all, as a browser's script does."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client

    if not _SESSION:
        c = Client()
        c.force_login(get_user_model().objects.get(username="bench"))
        _SESSION.append(c.cookies[settings.SESSION_COOKIE_NAME].value)
    boundary = "benchboundary"
    body = StreamBody(boundary, field, name or (source.name if source else "huge.png"), source, size, fields)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(body.total),
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={_SESSION[0]}; {settings.CSRF_COOKIE_NAME}={CSRF}",
        "HTTP_X_CSRFTOKEN": CSRF,
        "HTTP_ACCEPT": "application/json",
        "wsgi.input": io.BufferedReader(body, 64 * 1024),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    status = []
    try:
        result = WSGIHandler()(environ, lambda s, h, exc_info=None: status.append(s))
        content = b"".join(result)
        if hasattr(result, "close"):
            result.close()
    finally:
        body.close()
    return Answer(int(status[0].split()[0]), content, body.read_bytes)


def post_image(path: Path):
    return post_wsgi("/w/bench/images/upload/", "image", path)


def post_video(path: Path):
    return post_wsgi("/w/bench/assets/upload/", "file", path, fields={"slot": "video"})


def answer(response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"{response.status_code} {response.content[:120]!r}"
    if "error" in data:
        return f"{response.status_code} refused: {data['error']}"
    reduced = [w for w in data.get("warnings", []) if w.startswith(("It was turned", "The crop was cut"))]
    note = f" ({reduced[0].split(':')[0]})" if reduced else ""
    return f"{response.status_code} kept {data.get('width')}x{data.get('height')}{note}"


def post_streamed(size: int) -> tuple[int, str, int]:
    """POST a file of ``size`` zero bytes to the image upload; (status, answer, bytes of the body read)."""
    response = post_wsgi("/w/bench/images/upload/", "image", None, size=size, name="huge.png")
    try:
        text = response.json().get("error", "") or "kept"
    except ValueError:
        text = response.content[:120].decode(errors="replace")
    return response.status_code, text, response.read


def run_case(name: str, work: Path, state: dict) -> dict:
    django_up(work)
    files = work / "files"
    c = client()
    # Warm-up: the same code paths with small files, so the figure is the case's own cost.
    if name.startswith(("png", "jpeg")) or name == "body_200mb":
        post_image(files / "small.png")
        post_image(files / "small-exif6.png")
    if name == "body_200mb":
        post_streamed(1024)
    if name.startswith("crop"):
        c.post("/w/bench/images/crop/", {"asset_id": state["small_image"], "aspect": "16:9"})
    if name == "video_8k_upload":
        post_video(files / "small.mp4")
    if name.endswith("_frame"):
        c.get(f"/w/bench/masks/{state['small_video']}/frames/1.jpg")

    def at_once(fn, n: int = 4) -> list[str]:
        results: list[str] = []
        threads = [threading.Thread(target=lambda: results.append(fn())) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    if name == "png_6300_x4":  # each thread has its own allocator arena: warm those too
        at_once(lambda: answer(post_image(files / "small.png")))
    gc.collect()
    how = reset_peak()
    before, started = rss_mb(), time.perf_counter()
    note = ""
    if name == "png_6300":
        note = answer(post_image(files / "big.png"))
    elif name == "png_6300_exif6":
        note = answer(post_image(files / "big-exif6.png"))
    elif name == "png_6300_x4":
        note = "; ".join(sorted(set(at_once(lambda: answer(post_image(files / "big.png"))))))
    elif name == "crop_6300":
        if state["crop_source"].startswith("refused"):
            note = f"no source: {state['crop_source']}"
        else:
            note = answer(
                c.post("/w/bench/images/crop/", {"asset_id": state["crop_source"], "aspect": "16:9"})
            )
    elif name == "png_limit_exif6":
        note = answer(post_image(files / "limit-exif6.png"))
    elif name == "jpeg_40mp_exif6":
        note = answer(post_image(files / "40mp-exif6.jpg"))
    elif name == "jpeg_16mp_progressive":
        note = answer(post_image(files / "16mp-progressive.jpg"))
    elif name in ("crop_png_limit", "crop_jpeg_40mp"):
        aspect = "9:16" if name == "crop_png_limit" else "16:9"
        if state[name].startswith("refused"):
            note = f"no source: {state[name]}"
        else:
            note = answer(c.post("/w/bench/images/crop/", {"asset_id": state[name], "aspect": aspect}))
    elif name == "video_8k_upload":
        note = answer(post_video(files / "8k.mp4"))
    elif name.endswith("_frame"):
        video, frame = (state["video_8k"], 1) if name == "video_8k_frame" else (state["video_1080p"], 140)
        response = c.get(f"/w/bench/masks/{video}/frames/{frame}.jpg")
        if response.status_code == 200:
            from PIL import Image

            with Image.open(io.BytesIO(response.content)) as im:
                note = f"200 JPEG {im.width}x{im.height}"
        else:
            note = f"{response.status_code} {response.content[:160].decode(errors='replace')}"
    elif name == "body_200mb":
        status, text, read = post_streamed(200 * MB)
        note = f"{status} {text} ({read / MB:.2f} MB of the body read)"
    seconds = time.perf_counter() - started
    peak = peak_mb()
    gc.collect()
    return {
        "how": how,
        "growth": peak - before,
        "retained": rss_mb() - before,
        "before": before,
        "seconds": seconds,
        "note": note,
    }


def timings(work: Path, repeat: int) -> list[str]:
    """The older figures: 10 MB checks and the bomb, measured in a child of their own."""
    django_up(work)
    import PIL
    from PIL import Image

    from studio.assets.models import Asset
    from studio.assets.services import create_asset

    ws, user = workspace_and_user()
    files = work / "files"
    bomb = files / "bomb.png"
    bomb_png(bomb)
    small = files / "small.png"
    assert post_image(small).status_code == 200
    assert post_image(bomb).status_code == 400
    gc.collect()
    how = reset_peak()
    before = rss_mb()
    tracemalloc.start()
    start = time.perf_counter()
    response = post_image(bomb)
    bomb_ms = (time.perf_counter() - start) * 1000
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_growth = peak_mb() - before
    assert response.status_code == 400, response.content
    message = response.json()["error"]
    bomb_times = [timed(lambda: post_image(bomb)) for _ in range(repeat)]

    big = photo((4000, 3000))
    jpeg = files / "photo.jpg"
    jpeg.write_bytes(about_10mb(big, "JPEG", quality=95))
    rotated = files / "phone.jpg"
    rotated.write_bytes(about_10mb(big, "JPEG", quality=95, exif=_exif(6)))
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
        results[name] = (statistics.median(check(source) for _ in range(repeat)), source)
    http = [timed(lambda: post_image(jpeg)) for _ in range(repeat)]
    with Image.open(jpeg) as im:
        jpeg_size = im.size
    with Image.open(png) as im:
        png_size = im.size
    lines = [
        f"# timings: in one child, median of {repeat} runs after a warm-up; Pillow {PIL.__version__}; "
        f"JPEG {jpeg_size[0]}x{jpeg_size[1]} q95, PNG {png_size[0]}x{png_size[1]}; "
        f"bomb {SIDE}x{SIDE} RGB PNG of {bomb.stat().st_size / 1e6:.2f} MB (432 MB decoded)"
    ]
    for name, (ms, source) in results.items():
        lines.append(f"{name} {ms:.0f} ms")
        lines.append(f"{name}_size {source.stat().st_size / MB:.1f} MB")
    lines.append(f"upload_10mb_jpeg_http {statistics.median(http):.0f} ms")
    lines.append(f"refuse_bomb_http {statistics.median(bomb_times):.1f} ms")
    lines.append(f"refuse_bomb_first_http {bomb_ms:.1f} ms")
    lines.append(f"refuse_bomb_peak_rss_growth {max(rss_growth, 0):.2f} MB ({how})")
    lines.append(f"refuse_bomb_python_peak {py_peak / 1024:.0f} KB")
    lines.append(f"# the bomb's answer: {message}")
    lines.append(f"# assets kept: {Asset.objects.count()}")
    return lines


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


# --- the parent -------------------------------------------------------------------------------------


def child(args: list[str]) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the child {' '.join(args)} failed")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--case", action="append", choices=[*CASES, "timings"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        work = Path(args.work)
        state = json.loads((work / "state.json").read_text())
        if args.child == "timings":
            print("\n".join(timings(work, args.repeat)))
        else:
            print(json.dumps(run_case(args.child, work, state)))
        return

    work = Path(tempfile.mkdtemp(prefix="bench-uploads-"))
    try:
        state = prepare(work)
        (work / "state.json").write_text(json.dumps(state))
        import av
        import PIL

        print(
            f"# each case in a fresh child process; peak RSS growth = the child's peak (VmHWM, reset just before "
            f"the case, after a warm-up with small files) minus its RSS then; SQLite and local storage in a fresh temp dir; "
            f"python {sys.version.split()[0]}, Pillow {PIL.__version__}, PyAV {av.__version__}, "
            f"{platform.machine()}, {os.cpu_count()} cores; PNG {BIG}x{BIG} of {state['png_bytes'] / 1e3:.0f} KB, "
            f"H.264 7680x4320 of {state['video_bytes'] / 1e3:.0f} KB"
        )
        wanted = args.case or [*CASES, "timings"]
        for name in wanted:
            if name == "timings":
                continue
            goal, what = CASES[name]
            result = json.loads(child(["--child", name, "--work", str(work)]).strip().splitlines()[-1])
            verdict = "ok" if result["growth"] <= goal else "OVER"
            print(
                f"{name}_peak_rss_growth {result['growth']:.0f} MB (goal <= {goal} MB: {verdict}); "
                f"retained {result['retained']:.0f} MB; {result['seconds']:.2f} s; {what}: {result['note']}"
                + ("" if result["how"].startswith("VmHWM reset") else f" [peak read from {result['how']}]")
            )
        if "timings" in wanted:
            print(child(["--child", "timings", "--work", str(work), "--repeat", str(args.repeat)]).rstrip())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
