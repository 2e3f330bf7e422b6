"""The vendor emulators, driven over HTTP as the studio's adapters drive them (plain pytest, no Django).

.venv/bin/python -m pytest tests/emulators -p no:django -q
"""

from __future__ import annotations

import base64
import io
import math
import socket
import ssl
import struct
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import av
import httpx
import pytest
from PIL import Image

from studio.providers.emulators import FAULTS, Faults, run_all, start_emulator
from studio.providers.emulators.media import mp4_bytes

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
DS_HEADERS = {**AUTH, "X-DashScope-Async": "enable"}
FAST = 0.2  # task_seconds in these tests
TLS = ssl.create_default_context()  # shared: building one per httpx client costs ~20 ms


# ============================================================================ fixtures and helpers


@pytest.fixture
def sf():
    handle = start_emulator("siliconflow", task_seconds=FAST)
    yield handle
    handle.stop()


@pytest.fixture
def ds():
    handle = start_emulator("dashscope", task_seconds=FAST)
    yield handle
    handle.stop()


@pytest.fixture
def jk():
    handle = start_emulator("jiekou", task_seconds=FAST)
    yield handle
    handle.stop()


class MediaServer:
    """Stands in for the studio's signed media URLs: serves in-memory files on loopback."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                entry = files.get(self.path.split("?")[0])
                if entry is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, content_type = entry
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def add(self, name: str, data: bytes, content_type: str) -> str:
        self.files[f"/{name}"] = (data, content_type)
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}?sig=abc&exp=9999999999"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def png(width: int, height: int, color=(40, 120, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def wav(seconds: float) -> bytes:
    rate = 16000
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 330 * i / rate)))
            for i in range(int(rate * seconds))
        )
        out.writeframes(frames)
    return buf.getvalue()


@pytest.fixture(scope="module")
def media_urls():
    server = MediaServer()
    urls = {
        "ref": server.add("ref.png", png(640, 360), "image/png"),
        "ref2": server.add("ref2.png", png(500, 500, (200, 80, 80)), "image/png"),
        "tiny": server.add("tiny.png", png(200, 200), "image/png"),
        "video": server.add("video.mp4", mp4_bytes(640, 360), "video/mp4"),
        "slow_video": server.add("slow.mp4", mp4_bytes(640, 360, fps=8), "video/mp4"),
        "mask": server.add("mask.png", png(640, 360, (255, 255, 255)), "image/png"),
        "small_mask": server.add("mask-small.png", png(320, 180, (255, 255, 255)), "image/png"),
        "mask_video": server.add("mask.mp4", mp4_bytes(640, 360), "video/mp4"),
        "clip": server.add("clip.mp4", mp4_bytes(480, 480), "video/mp4"),
        "long_clip": server.add("long-clip.mp4", mp4_bytes(480, 480, seconds=2.0), "video/mp4"),
        "audio": server.add("voice.wav", wav(4), "audio/wav"),
        "text": server.add("not-an-image.png", b"hello, I am text", "image/png"),
        "missing": f"http://127.0.0.1:{server.server.server_address[1]}/gone.png",
    }
    yield urls
    server.close()


def client(handle, headers=None, timeout=10.0) -> httpx.Client:
    return httpx.Client(
        base_url=handle.base_url, headers=AUTH if headers is None else headers, timeout=timeout, verify=TLS
    )


def probe(data: bytes) -> tuple[int, int, bool]:
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        assert frames > 0
        return video.codec_context.width, video.codec_context.height, bool(container.streams.audio)


def download(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10, verify=TLS)


def until(fetch, done, timeout: float = 10.0, interval: float = 0.03) -> list:
    """Call ``fetch()`` until ``done(result)``; return every result seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = fetch()
        seen.append(result)
        if done(result):
            return seen
        time.sleep(interval)
    raise AssertionError(f"not done after {timeout}s: last {seen[-1]!r}")


# -- per-vendor submit and poll
def sf_submit(c, **body):
    return c.post(
        "/video/submit",
        json={"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "a cat", "image_size": "1280x720", **body},
    )


def sf_status(c, request_id):
    return c.post("/video/status", json={"requestId": request_id})


def sf_wait(c, request_id) -> list[dict]:
    return until(lambda: sf_status(c, request_id).json(), lambda r: r["status"] in ("Succeed", "Failed"))


def ds_submit(c, body):
    return c.post("/services/aigc/video-generation/video-synthesis", json=body)


def ds_wait(c, task_id) -> list[dict]:
    terminal = ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
    return until(lambda: c.get(f"/tasks/{task_id}").json(), lambda r: r["output"]["task_status"] in terminal)


def i2v(model="wan2.2-i2v-flash", image=None, **parameters):
    return {
        "model": model,
        "input": {"img_url": image or data_uri(png(640, 360)), "prompt": "a cat runs on grass"},
        "parameters": parameters,
    }


def jk_submit(c, **body):
    return c.post("/v3/async/wan-t2v", json={"prompt": "a cat", **body})


def jk_wait(c, task_id) -> list[dict]:
    terminal = ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")
    return until(
        lambda: c.get("/v3/async/task-result", params={"task_id": task_id}).json(),
        lambda r: r["task"]["status"] in terminal,
    )


# -- one generic driver per vendor, for the fault tests
class Driver:
    def __init__(self, handle):
        self.handle = handle
        self.c = client(handle, DS_HEADERS if handle.vendor == "dashscope" else AUTH)

    def submit(self, timeout=None) -> httpx.Response:
        kw = {} if timeout is None else {"timeout": timeout}
        if self.handle.vendor == "siliconflow":
            return self.c.post(
                "/video/submit",
                json={"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "a cat", "image_size": "960x960"},
                **kw,
            )
        if self.handle.vendor == "dashscope":
            return self.c.post("/services/aigc/video-generation/video-synthesis", json=i2v(), **kw)
        return self.c.post("/v3/async/wan-t2v", json={"prompt": "a cat", "width": 1280, "height": 720}, **kw)

    @staticmethod
    def task_id(response) -> str:
        body = response.json()
        return body.get("requestId") or body.get("task_id") or body["output"]["task_id"]

    def poll(self, task_id, timeout=None) -> httpx.Response:
        kw = {} if timeout is None else {"timeout": timeout}
        if self.handle.vendor == "siliconflow":
            return self.c.post("/video/status", json={"requestId": task_id}, **kw)
        if self.handle.vendor == "dashscope":
            return self.c.get(f"/tasks/{task_id}", **kw)
        return self.c.get("/v3/async/task-result", params={"task_id": task_id}, **kw)

    def state(self, body) -> str:
        if self.handle.vendor == "siliconflow":
            return body["status"]
        if self.handle.vendor == "dashscope":
            return body["output"]["task_status"]
        return body["task"]["status"]

    def wait(self, task_id) -> dict:
        terminal = {"Succeed", "Failed", "SUCCEEDED", "FAILED", "TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED"}
        return until(lambda: self.poll(task_id).json(), lambda b: self.state(b) in terminal)[-1]

    def url(self, body) -> str:
        if self.handle.vendor == "siliconflow":
            return body["results"]["videos"][0]["url"]
        if self.handle.vendor == "dashscope":
            return body["output"]["video_url"]
        return body["videos"][0]["video_url"]


@pytest.fixture(params=["siliconflow", "dashscope", "jiekou"])
def any_vendor(request):
    handle = start_emulator(request.param, task_seconds=FAST)
    yield Driver(handle)
    handle.stop()


# ============================================================================ SiliconFlow


@pytest.mark.parametrize(
    ("model", "size", "image"),
    [
        ("Wan-AI/Wan2.2-T2V-A14B", "1280x720", None),
        ("Wan-AI/Wan2.2-I2V-A14B", "720x1280", "data"),
        ("Wan-AI/Wan2.2-I2V-A14B", "960x960", "https://example.com/cat.png"),
    ],
)
def test_siliconflow_happy_path(sf, model, size, image):
    extra = {"negative_prompt": "blur", "seed": 123}
    if image == "data":
        extra["image"] = data_uri(png(360, 640), "image/png")
    elif image:
        extra["image"] = image
    with client(sf) as c:
        r = sf_submit(c, model=model, image_size=size, **extra)
        assert r.status_code == 200, r.text
        assert r.headers["x-siliconcloud-trace-id"]
        request_id = r.json()["requestId"]
        seen = sf_wait(c, request_id)
    statuses = [s["status"] for s in seen]
    assert statuses[0] == "InQueue" and seen[0]["position"] == 1
    assert "InProgress" in statuses and statuses[-1] == "Succeed"
    final = seen[-1]
    assert final["reason"] == "" and final["results"]["seed"] == 123
    assert final["results"]["timings"]["inference"] > 0
    video = download(final["results"]["videos"][0]["url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content)
    width, height = map(int, size.split("x"))
    assert probe(video.content) == (width, height, False)
    assert sf.submit_count == 1 and sf.submits[0]["model"] == model
    assert sf.poll_count == len(seen)


@pytest.mark.parametrize(
    "body",
    [
        {"steps": 30},  # unknown field
        {"model": "Wan-AI/Wan2.2-I2V-14B-720P"},  # the name in the page's prose, not in the enum
        {"image_size": "1280*720"},
        {"image_size": "1920x1080"},
        {"seed": "123"},
        {"seed": -1},
        {"seed": True},
        {"prompt": ""},
        {"prompt": 42},
        {"negative_prompt": ["blur"]},
        {"image": "https://example.com/cat.png"},  # T2V takes no image
        {"model": "Wan-AI/Wan2.2-I2V-A14B"},  # I2V needs one
        {"model": "Wan-AI/Wan2.2-I2V-A14B", "image": "data:image/png;base64,aGVsbG8="},  # not an image
        {
            "model": "Wan-AI/Wan2.2-I2V-A14B",
            "image": "data:image/png;base64, " + base64.b64encode(png(8, 8)).decode(),
        },
        {"model": "Wan-AI/Wan2.2-I2V-A14B", "image": "ftp://example.com/cat.png"},
    ],
)
def test_siliconflow_refuses_bad_fields(sf, body):
    with client(sf) as c:
        r = sf_submit(c, **body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 20012 and r.json()["data"] is None and r.json()["message"]
    assert sf.submit_count == 0


def test_siliconflow_required_fields_and_transport(sf):
    with client(sf) as c:
        for missing in ("model", "prompt", "image_size"):
            body = {"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "a cat", "image_size": "960x960"}
            del body[missing]
            r = c.post("/video/submit", json=body)
            assert r.status_code == 400 and r.json()["code"] == 20012
        r = c.post("/video/submit", content=b'{"model": ', headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == 20012
        r = c.post(
            "/video/submit", content=b"model=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert r.status_code == 400
        assert c.get("/video/list").text == "404 page not found"
        assert c.get("/video/submit").status_code == 405
        r = sf_status(c, "no-such-id")
        assert r.status_code == 400 and r.json()["code"] == 20012
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        with client(sf, headers) as c:
            r = sf_submit(c)
            assert r.status_code == 401 and r.json() == "Invalid token"
            assert sf_status(c, "x").status_code == 401
    assert sf.submit_count == 0


# ============================================================================ DashScope image-to-video


@pytest.mark.parametrize(
    ("model", "image_size", "parameters", "expected"),
    [
        ("wan2.2-i2v-flash", (640, 360), {"resolution": "480P"}, (832, 480, False)),
        ("wan2.2-i2v-plus", (500, 500), {}, (1440, 1440, False)),  # default 1080P, 1:1 image
        (
            "wanx2.1-i2v-plus",
            (640, 360),
            {"prompt_extend": False, "watermark": True, "seed": 7},
            (1280, 720, False),
        ),
        ("wanx2.1-i2v-turbo", (360, 640), {"resolution": "720P", "duration": 3}, (720, 1280, False)),
        ("wan2.5-i2v-preview", (640, 360), {"resolution": "720P", "duration": 10}, (1280, 720, True)),
        ("wan2.5-i2v-preview", (640, 360), {"resolution": "480P", "audio": False}, (832, 480, False)),
        ("wan2.2-i2v-flash", (800, 600), {"resolution": "720P"}, (1104, 832)),  # 4:3 keeps 720P's pixel count
    ],
)
def test_dashscope_i2v_happy_path(ds, model, image_size, parameters, expected):
    body = i2v(model, data_uri(png(*image_size)), **parameters)
    body["input"]["negative_prompt"] = "flowers"
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["request_id"] and answer["output"]["task_status"] == "PENDING"
        seen = ds_wait(c, answer["output"]["task_id"])
    statuses = [s["output"]["task_status"] for s in seen]
    assert statuses[0] == "PENDING" and "RUNNING" in statuses and statuses[-1] == "SUCCEEDED"
    out = seen[-1]["output"]
    assert out["submit_time"] and out["scheduled_time"] and out["end_time"]
    assert out["orig_prompt"] == "a cat runs on grass"
    assert ("actual_prompt" in out) == parameters.get("prompt_extend", True)
    assert seen[-1]["usage"]["video_count"] == 1
    video = download(out["video_url"])
    assert video.status_code == 200
    assert probe(video.content)[: len(expected)] == expected
    assert ds.submit_count == 1


def test_dashscope_i2v_with_url_image_template_and_custom_audio(ds, media_urls):
    body = i2v("wan2.5-i2v-preview", media_urls["ref"], resolution="480P", audio=False)
    body["input"]["audio_url"] = media_urls["audio"]  # a custom track wins over audio=false
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, body)
        assert r.status_code == 200, r.text
        final = ds_wait(c, r.json()["output"]["task_id"])[-1]
        assert probe(download(final["output"]["video_url"]).content) == (832, 480, True)

        effect = {"model": "wanx2.1-i2v-turbo", "input": {"img_url": media_urls["ref"], "template": "flying"}}
        r = ds_submit(c, effect)
        assert r.status_code == 200, r.text
        final = ds_wait(c, r.json()["output"]["task_id"])[-1]
        assert final["output"]["task_status"] == "SUCCEEDED" and "orig_prompt" not in final["output"]


def _ds(model="wan2.2-i2v-flash", inp=None, params=None, **top):
    body = i2v(model)
    body["input"].update(inp or {})
    body["parameters"].update(params or {})
    body.update(top)
    return body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_ds(extra=1), "InvalidParameter"),
        (_ds(model="wan2.2-i2v-max"), "InvalidParameter"),
        (_ds(inp={"audio_url": "http://x/a.wav"}), "InvalidParameter"),  # wan2.5 only
        (_ds(params={"audio": True}), "InvalidParameter"),  # wan2.5 only
        (_ds(inp={"image_url": "http://x/a.png"}), "InvalidParameter"),
        (_ds(params={"size": "1280*720"}), "InvalidParameter"),
        (_ds("wan2.2-i2v-plus", params={"resolution": "720P"}), "InvalidParameter"),
        (_ds("wanx2.1-i2v-plus", params={"resolution": "1080P"}), "InvalidParameter"),
        (_ds(params={"resolution": "720p"}), "InvalidParameter"),
        (_ds(params={"duration": 10}), "InvalidParameter"),
        (_ds("wan2.5-i2v-preview", params={"duration": 4}), "InvalidParameter"),
        (_ds("wanx2.1-i2v-turbo", params={"duration": "5"}), "InvalidParameter"),
        (_ds(params={"seed": 2147483648}), "InvalidParameter"),
        (_ds(params={"seed": -1}), "InvalidParameter"),
        (_ds(params={"prompt_extend": "true"}), "InvalidParameter"),
        (_ds(params={"watermark": 1}), "InvalidParameter"),
        (_ds(inp={"prompt": 5}), "InvalidParameter"),
        (_ds(inp={"template": "Flying Balloons"}), "InvalidParameter"),
        (_ds(inp={"img_url": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}), "InvalidParameter"),
        (_ds(inp={"img_url": "data:image/png;base64,aGVsbG8="}), "InvalidParameter.DataInspection"),
        (_ds(inp={"img_url": "file:///home/me/cat.png"}), "InvalidURL"),
        (_ds(parameters=[]), "InvalidParameter"),
        ({"model": "wan2.2-i2v-flash", "parameters": {}}, "BadRequest.EmptyInput"),
        ({"input": {"img_url": "http://x/a.png"}}, "BadRequest.EmptyModel"),
        ({"model": "wan2.2-i2v-flash", "input": {"prompt": "a cat"}}, "InvalidParameter"),  # img_url missing
    ],
)
def test_dashscope_i2v_refuses_bad_fields(ds, body, code):
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, body)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["code"] == code and answer["message"] and answer["request_id"]
    assert "output" not in answer
    assert ds.submit_count == 0


def test_dashscope_headers(ds):
    body = i2v()
    with client(ds, AUTH) as c:  # no X-DashScope-Async
        r = ds_submit(c, body)
        assert r.status_code == 403
        assert r.json()["code"] == "AccessDenied"
        assert r.json()["message"] == "current user api does not support synchronous calls"
    for headers in (
        {"X-DashScope-Async": "enable"},
        {"X-DashScope-Async": "enable", "Authorization": "Bearer nope"},
    ):
        with client(ds, headers) as c:
            r = ds_submit(c, body)
            assert r.status_code == 401 and r.json()["code"] == "InvalidApiKey"
            assert c.get("/tasks/whatever").status_code == 401
    with client(ds, DS_HEADERS) as c:
        r = c.post(
            "/services/aigc/video-generation/video-synthesis",
            content=b"{",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400 and r.json()["code"] == "InvalidParameter"
        r = c.post(
            "/services/aigc/video-generation/video-synthesis",
            content=b"{}",
            headers={"Content-Type": "text/plain"},
        )
        assert r.status_code == 400
        assert c.get("/services/aigc/video-generation/video-synthesis").status_code == 405
        assert c.get("/no/such/path").status_code == 404
    assert ds.submit_count == 0


def test_dashscope_unknown_forgotten_and_cancel(ds):
    ds.task_seconds = 5.0
    with client(ds, DS_HEADERS) as c:
        r = c.get("/tasks/00000000-0000-0000-0000-000000000000")
        assert r.status_code == 200 and r.json()["output"]["task_status"] == "UNKNOWN"

        pending = ds_submit(c, i2v()).json()["output"]["task_id"]
        r = c.post(f"/tasks/{pending}/cancel")
        assert r.status_code == 200 and r.json()["request_id"]
        out = c.get(f"/tasks/{pending}").json()["output"]
        assert out["task_status"] == "CANCELED" and out["end_time"]
        r = c.post(f"/tasks/{pending}/cancel")
        assert r.status_code == 400 and r.json()["code"] == "UnsupportedOperation"

        ds.task_seconds = 0.0
        done = ds_submit(c, i2v()).json()["output"]["task_id"]
        assert c.get(f"/tasks/{done}").json()["output"]["task_status"] == "SUCCEEDED"
        assert c.post(f"/tasks/{done}/cancel").json()["code"] == "UnsupportedOperation"
        assert ds.forget(done)
        assert c.get(f"/tasks/{done}").json()["output"]["task_status"] == "UNKNOWN"
    assert ds.submit_count == 2


# ============================================================================ DashScope VACE


def vace(function, inp, params=None, model="wan2.1-vace-plus"):
    body = {"model": model, "input": {"function": function, "prompt": "a lion in a suit sips coffee", **inp}}
    if params is not None:
        body["parameters"] = params
    return body


VACE_CASES = {
    "image_reference": (
        lambda u: vace(
            "image_reference",
            {"ref_images_url": [u["ref"], u["ref2"]]},
            {"obj_or_bg": ["obj", "bg"], "size": "960*960"},
        ),
        (960, 960),
    ),
    "image_reference_default": (
        lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, model="wanx2.1-vace-plus"),
        (1280, 720),
    ),
    "video_repainting": (
        lambda u: vace(
            "video_repainting",
            {"video_url": u["video"], "ref_images_url": [u["ref"]]},
            {"control_condition": "depth", "strength": 0.5, "prompt_extend": False},
        ),
        (640, 360),
    ),
    "video_edit_mask_image": (
        lambda u: vace(
            "video_edit",
            {"video_url": u["video"], "mask_image_url": u["mask"], "mask_frame_id": 17},
            {"mask_type": "tracking", "expand_ratio": 0.05, "expand_mode": "bbox", "control_condition": ""},
        ),
        (640, 360),
    ),
    "video_edit_mask_video_size": (
        lambda u: vace(
            "video_edit", {"video_url": u["video"], "mask_video_url": u["mask_video"]}, {"size": "1088*832"}
        ),
        (1088, 832),
    ),
    "video_extension": (
        lambda u: vace("video_extension", {"first_clip_url": u["clip"], "last_frame_url": u["ref2"]}, {}),
        (480, 480),
    ),
    "video_extension_motion": (
        lambda u: vace(
            "video_extension",
            {"first_frame_url": u["ref"], "video_url": u["video"]},
            {"control_condition": "posebody", "duration": 5, "seed": 42},
        ),
        (640, 360),
    ),
    "video_outpainting": (
        lambda u: vace(
            "video_outpainting",
            {"video_url": u["video"]},
            {"top_scale": 1.5, "bottom_scale": 1.5, "left_scale": 1.5, "right_scale": 1.5},
        ),
        (960, 540),
    ),
}


@pytest.mark.parametrize("case", list(VACE_CASES))
def test_dashscope_vace_happy_path(ds, media_urls, case):
    make, size = VACE_CASES[case]
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, make(media_urls))
        assert r.status_code == 200, r.text
        seen = ds_wait(c, r.json()["output"]["task_id"])
    final = seen[-1]
    assert final["output"]["task_status"] == "SUCCEEDED", final
    assert final["usage"]["video_duration"] == 5
    assert probe(download(final["output"]["video_url"]).content) == (*size, False)
    assert ds.submit_count == 1


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda u: vace("video_swap", {"video_url": u["video"]}), "InvalidParameter"),
        (
            lambda u: {"model": "wan2.1-vace-plus", "input": {"prompt": "x", "video_url": u["video"]}},
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"size": "1280x720"}),
            "InvalidParameter",
        ),
        (lambda u: vace("image_reference", {"ref_images_url": []}), "InvalidParameter"),
        (lambda u: vace("image_reference", {"ref_images_url": u["ref"]}), "InvalidParameter"),
        (lambda u: vace("image_reference", {"ref_images_url": [u["ref"], u["ref2"]]}), "InvalidParameter"),
        (
            lambda u: vace(
                "image_reference", {"ref_images_url": [u["ref"], u["ref2"]]}, {"obj_or_bg": ["obj"]}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"obj_or_bg": ["thing"]}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"duration": 4}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"strength": 0.5}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]], "video_url": u["video"]}),
            "InvalidParameter",
        ),
        (lambda u: vace("image_reference", {"ref_images_url": [u["ref"]], "prompt": ""}), "InvalidParameter"),
        (lambda u: vace("video_repainting", {"video_url": u["video"]}), "BadRequest.EmptyParameters"),
        (
            lambda u: vace("video_repainting", {"video_url": u["video"]}, {"strength": 0.5}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_repainting", {"video_url": u["video"]}, {"control_condition": "canny"}),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_repainting", {"video_url": u["video"]}, {"control_condition": "depth", "strength": 1.5}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_repainting", {"video_url": u["video"]}, {"control_condition": "depth", "duration": 5}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_repainting",
                {"video_url": u["video"], "ref_images_url": [u["ref"], u["ref2"]]},
                {"control_condition": "depth"},
            ),
            "InvalidParameter",
        ),
        (lambda u: vace("video_edit", {"video_url": u["video"]}), "InvalidParameter"),  # no mask
        (
            lambda u: vace(
                "video_edit",
                {"video_url": u["video"], "mask_image_url": u["mask"], "mask_video_url": u["mask_video"]},
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"], "mask_frame_id": 0}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"]}, {"mask_type": "moving"}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"]}, {"expand_ratio": 2}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit",
                {"video_url": u["video"], "mask_image_url": u["mask"]},
                {"expand_mode": "circle"},
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit",
                {"video_url": u["video"], "mask_image_url": u["mask"]},
                {"control_condition": "scribble"},
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_extension", {"video_url": u["video"]}, {"control_condition": "depth"}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_extension", {"first_clip_url": u["clip"], "video_url": u["video"]}, {}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_outpainting", {"video_url": u["video"]}, {"top_scale": 2.5}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_outpainting", {"video_url": u["video"]}, {"left_scale": 0.9}),
            "InvalidParameter",
        ),
        (lambda u: vace("video_outpainting", {}), "InvalidParameter"),
        # the media are really fetched
        (lambda u: vace("video_outpainting", {"video_url": u["missing"]}), "InvalidURL"),
        (lambda u: vace("video_outpainting", {"video_url": "http://127.0.0.1:9/x.mp4"}), "InvalidURL"),
        (lambda u: vace("video_outpainting", {"video_url": "http://example.com/视频.mp4"}), "InvalidURL"),
        (lambda u: vace("image_reference", {"ref_images_url": [data_uri(png(400, 400))]}), "InvalidURL"),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["text"]]}),
            "InvalidParameter.DataInspection",
        ),
        (lambda u: vace("video_outpainting", {"video_url": u["ref"]}), "InvalidParameter.DataInspection"),
    ],
)
def test_dashscope_vace_refuses_bad_requests(ds, media_urls, make, code):
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, make(media_urls))
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code, r.json()
    assert ds.submit_count == 0


@pytest.mark.parametrize(
    "make",
    [
        # the vendor accepts these, then fails the task (PROVIDERS.md §7.3)
        lambda u: vace("video_edit", {"video_url": u["video"], "mask_image_url": u["small_mask"]}),
        lambda u: vace(
            "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"], "mask_frame_id": 18}
        ),
        lambda u: vace("video_edit", {"video_url": u["video"], "mask_video_url": u["clip"]}),
        lambda u: vace("video_repainting", {"video_url": u["slow_video"]}, {"control_condition": "depth"}),
        lambda u: vace("image_reference", {"ref_images_url": [u["tiny"]]}),
        lambda u: vace(
            "video_extension",
            {"first_clip_url": u["clip"], "video_url": u["video"]},
            {"control_condition": "depth"},
        ),
        lambda u: vace(
            "video_extension", {"first_clip_url": u["long_clip"], "last_clip_url": u["long_clip"]}
        ),
        lambda u: i2v("wan2.2-i2v-flash", u["tiny"]),
    ],
)
def test_dashscope_deferred_validation_fails_the_task(ds, media_urls, make):
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, make(media_urls))
        assert r.status_code == 200, r.text
        seen = ds_wait(c, r.json()["output"]["task_id"])
    out = seen[-1]["output"]
    assert out["task_status"] == "FAILED"
    assert out["code"] == "InvalidParameter" and out["message"]
    assert "video_url" not in out and "usage" not in seen[-1]
    assert ds.submit_count == 1  # it was accepted: a paid submit


# ============================================================================ jiekou


@pytest.mark.parametrize(
    ("extra", "size"),
    [
        ({}, (832, 480)),
        ({"width": 720, "height": 1280}, (720, 1280)),
        ({"width": 480, "height": 832, "seed": 9_999_999_999}, (480, 832)),
        ({"width": 1280}, (832, 480)),  # one side missing: the vendor falls back to 832x480
        (
            {
                "width": 1280,
                "height": 720,
                "negative_prompt": "",
                "loras": [
                    {"path": "Remade-AI/Cyberpunk", "scale": 1.0},
                    {"path": "https://civitai.com/api/download/models/1", "scale": 4},
                ],
                "steps": 40,
                "guidance_scale": 0,
                "flow_shift": 10,
                "enable_safety_checker": False,
                "fast_mode": True,
                "watermark": False,
            },
            (1280, 720),
        ),
    ],
)
def test_jiekou_happy_path(jk, extra, size):
    with client(jk) as c:
        r = jk_submit(c, **extra)
        assert r.status_code == 200, r.text
        task_id = r.json()["task_id"]
        seen = jk_wait(c, task_id)
    statuses = [s["task"]["status"] for s in seen]
    assert statuses[0] == "TASK_STATUS_QUEUED" and "TASK_STATUS_PROCESSING" in statuses
    processing = [s["task"] for s in seen if s["task"]["status"] == "TASK_STATUS_PROCESSING"]
    assert all(0 <= t["progress_percent"] < 100 for t in processing)
    final = seen[-1]
    assert final["task"]["status"] == "TASK_STATUS_SUCCEED" and final["task"]["task_id"] == task_id
    assert final["task"]["progress_percent"] == 100 and final["task"]["reason"] == ""
    assert isinstance(final["extra"]["seed"], str) and final["extra"]["debug_info"]["submit_time_ms"]
    if "seed" in extra:
        assert final["extra"]["seed"] == str(extra["seed"])
    assert final["images"] == [] and final["audios"] == []
    (video,) = final["videos"]
    assert video["video_url_ttl"] == "3600" and video["video_type"] == "mp4"
    assert probe(download(video["video_url"]).content) == (*size, False)
    assert jk.submit_count == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"model_name": "wan2.1-t2v"},
        {"prompt": ""},
        {"prompt": "x" * 2001},
        {"negative_prompt": "x" * 2001},
        {"width": 1280, "height": 480},
        {"width": 1000, "height": 480},
        {"width": "1280", "height": "720"},
        {"width": 1000},  # a present value must still be one of the four
        {"loras": [{"path": "a", "scale": 1}] * 4},
        {"loras": [{"path": "a", "scale": 4.5}]},
        {"loras": [{"path": "a"}]},
        {"loras": [{"path": "a", "scale": 1, "weight": 1}]},
        {"loras": {"path": "a", "scale": 1}},
        {"seed": 10_000_000_000},
        {"seed": -2},
        {"seed": 1.5},
        {"steps": 0},
        {"steps": 41},
        {"steps": 30.5},
        {"guidance_scale": 10.5},
        {"flow_shift": 0.5},
        {"fast_mode": "yes"},
        {"enable_safety_checker": 1},
    ],
)
def test_jiekou_refuses_bad_fields(jk, extra):
    with client(jk) as c:
        r = jk_submit(c, **extra)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 400 and r.json()["reason"] == "INVALID_REQUEST_BODY" and r.json()["message"]
    assert jk.submit_count == 0


def test_jiekou_transport(jk):
    with client(jk) as c:
        r = c.post("/v3/async/wan-t2v", json={"negative_prompt": "x"})
        assert r.status_code == 400  # prompt is required
        r = c.post(
            "/v3/async/wan-t2v", content=b'{"prompt": "a cat"}', headers={"Content-Type": "text/plain"}
        )
        assert r.status_code == 400
        r = c.get("/v3/async/task-result", params={"task_id": "nope"})
        assert r.status_code == 404 and r.json()["reason"] == "TASK_NOT_FOUND"
        assert c.get("/v3/async/task-result").status_code == 400
        assert c.get("/v3/async/wan-t2v").status_code == 405
    with client(jk, {"Authorization": "Bearer wrong"}) as c:
        r = jk_submit(c)
        assert r.status_code == 401 and r.json()["reason"] == "FAILED_TO_AUTH"
    assert jk.submit_count == 0


# ============================================================================ faults, on every vendor

VENDOR_REFUSAL = {  # (status) -> a check of the vendor's own body
    "siliconflow": {
        429: lambda b: "rate limit" in b["message"].lower() and "Details:" in b["message"],
        500: lambda b: "message" in b,
        503: lambda b: b["code"] == 50505,
    },
    "dashscope": {
        429: lambda b: b["code"].startswith("Throttling") and b["request_id"],
        500: lambda b: b["code"] == "InternalError",
        503: lambda b: b["code"] and b["message"],
    },
    "jiekou": {
        429: lambda b: b["code"] == 429 and b["reason"] == "RATE_LIMIT_EXCEEDED",
        500: lambda b: b["code"] == 500,
        503: lambda b: b["code"] == 503,
    },
}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_submit_refusals_carry_the_vendor_body_and_create_nothing(any_vendor, status):
    d = any_vendor
    d.handle.faults.set(f"submit_{status}", times=2)
    for _ in range(2):
        r = d.submit()
        assert r.status_code == status
        assert VENDOR_REFUSAL[d.handle.vendor][status](r.json())
    assert d.handle.submit_count == 0 and not d.handle.tasks
    r = d.submit()
    assert r.status_code == 200
    assert d.handle.submit_count == 1


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_have_no_vendor_body_and_may_have_created_the_task(any_vendor, status):
    d = any_vendor
    d.handle.set_faults(**{f"submit_{status}": 1})
    r = d.submit()
    assert r.status_code == status and r.headers["content-type"].startswith("text/html")
    assert d.handle.submit_count == 1 and len(d.handle.tasks) == 1  # the unknown outcome
    d.handle.set_faults(**{f"submit_{status}": {"times": 1, "accepted": False}})
    assert d.submit().status_code == status
    assert d.handle.submit_count == 1


def test_slow_submit_creates_the_task_before_the_client_times_out(any_vendor):
    d = any_vendor
    d.handle.faults.set("submit_slow", seconds=0.6)
    with pytest.raises(httpx.ReadTimeout):
        d.submit(timeout=0.2)
    assert d.handle.submit_count == 1 and len(d.handle.tasks) == 1
    d.handle.faults.set("submit_slow", seconds=0.3)
    started = time.monotonic()
    r = d.submit()
    assert r.status_code == 200 and time.monotonic() - started >= 0.3
    assert d.handle.submit_count == 2


def test_hanging_submit_never_answers_but_the_server_stays_up(any_vendor):
    d = any_vendor
    d.handle.faults.submit_hang = 1
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        d.submit(timeout=0.4)
    assert time.monotonic() - started < 2
    assert d.handle.submit_count == 1
    (task_id,) = d.handle.tasks
    assert d.state(d.wait(task_id)) in ("Succeed", "SUCCEEDED", "TASK_STATUS_SUCCEED")


def test_dropped_and_malformed_submits_still_create_the_task(any_vendor):
    d = any_vendor
    d.handle.faults.set("submit_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        d.submit()
    d.handle.faults.set("submit_malformed")
    r = d.submit()
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert d.handle.submit_count == 2 and len(d.handle.tasks) == 2


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_poll_faults(any_vendor, status):
    d = any_vendor
    task_id = d.task_id(d.submit())
    d.handle.faults.set(f"poll_{status}", times=2)
    answers = [d.poll(task_id) for _ in range(3)]
    assert [r.status_code for r in answers] == [status, status, 200]
    if status in (502, 504):
        assert answers[0].headers["content-type"].startswith("text/html")
    else:
        assert VENDOR_REFUSAL[d.handle.vendor][status](answers[0].json())
    assert d.handle.poll_count == 3


def test_poll_malformed_slow_and_always(any_vendor):
    d = any_vendor
    task_id = d.task_id(d.submit())
    d.handle.faults.set("poll_malformed")
    r = d.poll(task_id)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    d.handle.faults.set("poll_slow", seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        d.poll(task_id, timeout=0.2)
    d.handle.faults.poll_503 = "always"
    assert {d.poll(task_id).status_code for _ in range(4)} == {503}
    assert d.handle.faults.poll_503 == "always"
    d.handle.faults.clear("poll_503")
    assert d.poll(task_id).status_code == 200


FAILURE = {
    "siliconflow": (
        {"reason": "NSFW content detected"},
        lambda b: b["status"] == "Failed" and b["reason"] == "NSFW content detected",
    ),
    "dashscope": (
        {"code": "DataInspectionFailed"},
        lambda b: (
            b["output"]["task_status"] == "FAILED"
            and b["output"]["code"] == "DataInspectionFailed"
            and b["output"]["message"]
        ),
    ),
    "jiekou": (
        {"reason": "safety checker"},
        lambda b: b["task"]["status"] == "TASK_STATUS_FAILED" and b["task"]["reason"] == "safety checker",
    ),
}


def test_task_fail_uses_the_vendor_failure_shape(any_vendor):
    d = any_vendor
    params, check = FAILURE[d.handle.vendor]
    d.handle.faults.set("task_fail", **params)
    final = d.wait(d.task_id(d.submit()))
    assert check(final), final
    default = d.wait(d.task_id(d.submit()))  # the switch was for one task only
    assert d.state(default) in ("Succeed", "SUCCEEDED", "TASK_STATUS_SUCCEED")


def test_task_fail_default_dashscope_is_internal_error(ds):
    ds.set_faults(task_fail=True)  # True = always
    d = Driver(ds)
    for _ in range(2):
        out = d.wait(d.task_id(d.submit()))["output"]
        assert out["task_status"] == "FAILED" and out["code"] == "InternalError"


def test_result_url_once_and_expired(any_vendor):
    d = any_vendor
    d.handle.faults.set("result_once")
    url = d.url(d.wait(d.task_id(d.submit())))
    assert httpx.head(url, verify=TLS).status_code == 200  # a HEAD is not a download
    first = download(url)
    assert first.status_code == 200 and first.content
    second = download(url)
    assert second.status_code == 403 and b"expired" in second.content

    d.handle.faults.set("result_expired")
    url = d.url(d.wait(d.task_id(d.submit())))
    assert download(url).status_code == 403

    url = d.url(d.wait(d.task_id(d.submit())))
    assert download(url).status_code == 200 and download(url).status_code == 200
    assert download(url.replace("Signature=", "Signature=0")).status_code == 403
    assert download(url.split("?")[0]).status_code == 403
    token_url = url.replace("/_files/", "/_files/x")
    assert download(token_url).status_code == 404


def test_slow_download_delays_one_answer(any_vendor):
    d = any_vendor
    url = d.url(d.wait(d.task_id(d.submit())))
    d.handle.faults.set("download_slow", seconds=0.5)
    started = time.monotonic()
    assert download(url).status_code == 200
    slow = time.monotonic() - started
    started = time.monotonic()
    assert download(url).status_code == 200
    assert slow >= 0.5 > time.monotonic() - started


def test_task_seconds_and_intermediate_states(any_vendor):
    d = any_vendor
    d.handle.task_seconds = 0.6
    task_id = d.task_id(d.submit())
    states = []
    for _ in range(100):
        body = d.poll(task_id).json()
        states.append(d.state(body))
        if states[-1] in ("Succeed", "SUCCEEDED", "TASK_STATUS_SUCCEED"):
            break
        time.sleep(0.04)
    assert len(set(states)) == 3, states  # queued, running, done
    assert 0.6 <= d.handle.tasks[task_id].elapsed() < 3
    assert d.handle.tasks[task_id].duration == 0.6


# ============================================================================ the Faults object itself


def test_faults_api():
    faults = Faults()
    faults.set("submit_429", times=2)
    faults.submit_500 = "always"
    faults.configure(task_fail={"times": 3, "code": "InternalError"}, poll_502=True)
    assert faults.submit_429 == 2 and faults.submit_500 == "always" and faults.poll_502 == "always"
    assert faults.active()["task_fail"] == {
        "times": 3,
        "code": "InternalError",
        "message": None,
        "reason": None,
    }
    assert faults.take("submit_429") == {}
    assert faults.take("submit_429") == {}
    assert faults.take("submit_429") is None and faults.submit_429 is None
    faults.submit_500 = False
    assert faults.submit_500 is None
    faults.set("poll_502", times=0)
    assert faults.poll_502 is None
    with pytest.raises(ValueError):
        faults.set("submit_418")
    with pytest.raises(AttributeError):
        faults.submit_418 = 1
    with pytest.raises(ValueError):
        faults.set("submit_slow", minutes=1)
    with pytest.raises(ValueError):
        faults.set("submit_slow", times=-1)
    faults.clear()
    assert faults.active() == {}
    assert {
        "submit_429",
        "submit_hang",
        "poll_malformed",
        "task_fail",
        "result_once",
        "result_expired",
    } <= set(FAULTS)


# ============================================================================ control endpoint, lifecycle, run_all


def test_control_endpoint(any_vendor):
    d = any_vendor
    origin = d.handle.base_url.removesuffix(d.handle.base_path)
    with httpx.Client(base_url=origin, verify=TLS) as control:
        r = control.post("/_emulator/faults", json={"submit_429": 1, "task_seconds": 0.1})
        assert r.status_code == 200 and r.json()["faults"]["submit_429"]["times"] == 1
        assert d.submit().status_code == 429
        task_id = d.task_id(d.submit())
        d.wait(task_id)
        stats = control.get("/_emulator/stats").json()
        assert stats["submits"] == 1 and stats["polls"] >= 1
        assert stats["tasks"][task_id]["state"] == "succeeded"
        assert stats["task_seconds"] == 0.1 and stats["faults"] == {}
        assert control.get("/_emulator/submits").json()["submits"] == d.handle.submits
        assert control.post("/_emulator/faults", json={"submit_4xx": 1}).status_code == 400
        assert control.post("/_emulator/faults", json=[1]).status_code == 400
        control.post("/_emulator/faults", json={"poll_500": "always"})
        control.post("/_emulator/faults", json={"clear": True, "poll_429": 1})
        assert control.get("/_emulator/faults").json()["faults"] == {"poll_429": {"times": 1}}
        assert control.post("/_emulator/forget", json={"task_id": task_id}).json() == {"forgotten": True}
        assert control.post("/_emulator/reset").json() == {"ok": True}
        stats = control.get("/_emulator/stats").json()
        assert stats["submits"] == stats["polls"] == stats["requests"] == 0 and stats["tasks"] == {}
        assert stats["faults"] == {} and stats["task_seconds"] == FAST
    assert d.handle.requests == []


def test_requests_are_recorded(sf):
    with client(sf) as c:
        sf_submit(c, prompt="recorded")
    ((method, path, headers, body),) = sf.requests
    assert (method, path) == ("POST", "/v1/video/submit")
    assert headers["authorization"] == f"Bearer {KEY}" and b"recorded" in body


def test_stop_frees_the_port():
    handle = start_emulator("jiekou", port=0)
    port = handle.port
    with httpx.Client(verify=TLS) as c:  # a keep-alive connection stays open until stop()
        assert c.get(f"{handle.base_url}/v3/async/task-result").status_code == 401
        handle.stop()
        with pytest.raises(httpx.TransportError):
            c.get(f"{handle.base_url}/v3/async/task-result")
    with socket.socket() as sock:  # a server (SO_REUSEADDR, as every server sets) can bind it again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1)
    again = start_emulator("dashscope", port=port)  # the same port can be served again
    try:
        assert again.base_url == f"http://127.0.0.1:{port}/api/v1"
        assert (
            httpx.get(f"{again.base_url}/tasks/x", headers=AUTH, verify=TLS).json()["output"]["task_status"]
            == "UNKNOWN"
        )
    finally:
        again.stop()
    handle.stop()  # stopping twice is harmless


def test_unknown_vendor():
    with pytest.raises(ValueError):
        start_emulator("runway")


def _three_free_ports() -> int:
    for _ in range(50):
        with socket.socket() as probe_sock:
            probe_sock.bind(("127.0.0.1", 0))
            base = probe_sock.getsockname()[1]
        if base > 65530:
            continue
        socks = []
        try:
            for offset in range(3):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no three consecutive free ports")


def test_run_all_serves_the_three_on_consecutive_ports():
    port = _three_free_ports()
    stop = threading.Event()
    out = io.StringIO()
    thread = threading.Thread(
        target=run_all,
        kwargs={
            "port": port,
            "api_key": None,
            "task_seconds": 0.1,
            "stop": stop,
            "out": out,
            "verbose": False,
        },
    )
    thread.start()
    try:
        until(lambda: out.getvalue(), lambda text: "Ctrl-C" in text, timeout=5)
        text = out.getvalue()
        assert f"SILICONFLOW_BASE_URL=http://127.0.0.1:{port}/v1" in text
        assert f"DASHSCOPE_BASE_URL=http://127.0.0.1:{port + 1}/api/v1" in text
        assert f"JIEKOU_BASE_URL=http://127.0.0.1:{port + 2}\n" in text
        any_key = {"Authorization": "Bearer whatever"}  # api_key=None accepts any token
        r = httpx.get(
            f"http://127.0.0.1:{port + 2}/v3/async/task-result",
            params={"task_id": "x"},
            headers=any_key,
            verify=TLS,
        )
        assert r.status_code == 404
        for offset in range(3):
            assert (
                httpx.get(f"http://127.0.0.1:{port + offset}/_emulator/stats", verify=TLS).status_code == 200
            )
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", verify=TLS)
