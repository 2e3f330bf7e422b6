"""What the emulator tests share: running an emulator for one test, clients, media to send, and a driver
that speaks each vendor's protocol for the tests that run on every vendor."""

from __future__ import annotations

import base64
import io
import math
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

from studio.providers.emulators import start_emulator

KEY = "test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
DS_HEADERS = {**AUTH, "X-DashScope-Async": "enable"}
FAST = 0.2  # task_seconds in these tests
TLS = ssl.create_default_context()  # shared: building one per httpx client costs ~20 ms


def running(vendor: str):
    """A fixture that starts ``vendor``'s emulator (tasks take ``FAST`` seconds) and stops it after the test:
    ``sf = running("siliconflow")`` in a test module gives its tests an ``sf`` argument."""

    @pytest.fixture
    def handle():
        emulator = start_emulator(vendor, task_seconds=FAST)
        yield emulator
        emulator.stop()

    return handle


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


def until(fetch, done, timeout: float = 60.0, interval: float = 0.03) -> list:
    """Call ``fetch()`` until ``done(result)``; return every result seen. The deadline is generous: an
    emulator renders real media, and a busy machine (CI) may take many seconds for a 10 s 720p clip."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = fetch()
        seen.append(result)
        if done(result):
            return seen
        time.sleep(interval)
    raise AssertionError(f"not done after {timeout}s: last {seen[-1]!r}")


# -- the requests the driver and more than one test file send
def sf_submit(c, **body):
    return c.post(
        "/video/submit",
        json={"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "a cat", "image_size": "1280x720", **body},
    )


def i2v(model="wan2.2-i2v-flash", image=None, **parameters):
    return {
        "model": model,
        "input": {"img_url": image or data_uri(png(640, 360)), "prompt": "a cat runs on grass"},
        "parameters": parameters,
    }


# -- one generic driver per vendor, for the tests that run on every vendor
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
        # Every 60 ms: under DashScope's 20 task queries a second, as a well-behaved client stays.
        return until(lambda: self.poll(task_id).json(), lambda b: self.state(b) in terminal, interval=0.06)[
            -1
        ]

    def url(self, body) -> str:
        if self.handle.vendor == "siliconflow":
            return body["results"]["videos"][0]["url"]
        if self.handle.vendor == "dashscope":
            return body["output"]["video_url"]
        return body["videos"][0]["video_url"]
