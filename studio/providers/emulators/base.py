"""Shared machinery of the vendor emulators: server, tasks, result files, faults, control endpoint.

Each vendor module subclasses :class:`Emulator` and adds its routes, its validation and its error bodies.
Everything here is the part the three share:

* a ``ThreadingHTTPServer`` on loopback (HTTP/1.1, keep-alive, one thread per connection);
* :class:`Task` — a job whose state is a function of time: queued for the first 30 % of
  ``task_seconds``, running with progress until ``task_seconds``, then succeeded (or failed / canceled);
* result files served by the emulator itself at a signed-looking path
  ``/_files/<token>.mp4?Expires=<unix>&Signature=<hex>`` (real MP4 bytes from :mod:`.media`);
* :class:`Faults` — switches that make the next N requests (or all of them) misbehave;
* the control endpoint ``/_emulator/...`` for tests that run in another process.

Nothing here imports Django.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import random
import re
import secrets
import select
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from . import media

# ============================================================================ faults

#: Every fault switch: name -> (what it does, its parameters and their defaults).
#: Submit faults that refuse (429/500/503) create no task; 502/504 create the task first unless
#: ``accepted=False`` (a gateway error after the vendor accepted = the unknown outcome the studio must
#: not resubmit); slow/hang/drop/malformed always create the task first.
FAULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "submit_429": ("submit refused with the vendor's rate-limit body; no task", {}),
    "submit_500": ("submit refused with the vendor's 500 body; no task", {}),
    "submit_503": ("submit refused with the vendor's 503 (overloaded) body; no task", {}),
    "submit_502": (
        "gateway 502 with no vendor body; the task IS created unless accepted=False",
        {"accepted": True},
    ),
    "submit_504": (
        "gateway 504 with no vendor body; the task IS created unless accepted=False",
        {"accepted": True},
    ),
    "submit_slow": ("task created, then the answer waits `seconds` before it is sent", {"seconds": 3.0}),
    "submit_hang": (
        "task created, never answered until the client gives up (or `seconds` pass)",
        {"seconds": 600.0},
    ),
    "submit_drop": ("task created, then the connection is closed without an answer", {}),
    "submit_malformed": ("task created, then 200 with a truncated (invalid) JSON body", {}),
    "poll_429": ("status call refused with the vendor's rate-limit body", {}),
    "poll_500": ("status call answered 500 with the vendor's body", {}),
    "poll_502": ("status call answered 502 by the gateway (no vendor body)", {}),
    "poll_503": ("status call answered 503 with the vendor's body", {}),
    "poll_504": ("status call answered 504 by the gateway (no vendor body)", {}),
    "poll_slow": ("status answer waits `seconds` before it is sent", {"seconds": 3.0}),
    "poll_malformed": ("status call answered 200 with a truncated (invalid) JSON body", {}),
    "task_fail": (
        "the next accepted task ends FAILED with the vendor's failure shape "
        "(`code`/`message` on DashScope, `reason` on SiliconFlow and jiekou)",
        {"code": None, "message": None, "reason": None},
    ),
    "result_once": ("the next task's result URL works for one download; later GETs get 403", {}),
    "result_expired": ("the next task's result URL is already expired when it is handed out (403)", {}),
    "download_slow": ("the next result-file download waits `seconds` before its answer", {"seconds": 3.0}),
}

ALWAYS = "always"


class Faults:
    """Fault switches. Each applies to the next N matching requests (or tasks), or ``"always"``.

    >>> faults.set("submit_429", times=2)
    >>> faults.set("submit_slow", seconds=5)       # once
    >>> faults.set("poll_500", times="always")
    >>> faults.submit_503 = 1                      # attribute form: int, "always", True (= always), False/0/None (= off)
    >>> faults.configure(task_fail={"times": 1, "code": "DataInspectionFailed"}, poll_429=3)
    >>> faults.clear("poll_500"); faults.clear()
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_active", {})

    # -- setting
    def set(self, name: str, times: int | str | None = 1, **params: Any) -> None:
        _, defaults = _fault_spec(name)
        unknown = set(params) - set(defaults)
        if unknown:
            raise ValueError(
                f"fault {name!r} takes no parameter(s) {sorted(unknown)}; known: {sorted(defaults)}"
            )
        if times is None or times is True or times == ALWAYS:
            remaining = None
        elif isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise ValueError(f"times must be a non-negative int or 'always', not {times!r}")
        elif times == 0:
            self.clear(name)
            return
        else:
            remaining = times
        with self._lock:
            self._active[name] = {"remaining": remaining, "params": {**defaults, **params}}

    def configure(self, **spec: Any) -> None:
        """Set several switches: ``name=N | "always" | True | False | None | {"times": N, **params}``."""
        for name, value in spec.items():
            self._set_spec(name, value)

    def _set_spec(self, name: str, value: Any) -> None:
        _fault_spec(name)
        if value is None or value is False or value == 0:
            self.clear(name)
        elif isinstance(value, dict):
            params = dict(value)
            times = params.pop("times", 1)
            self.set(name, times, **params)
        else:
            self.set(name, value)

    def clear(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._active.clear()
            else:
                _fault_spec(name)
                self._active.pop(name, None)

    # -- using
    def take(self, name: str, when: Callable[[dict], bool] | None = None) -> dict | None:
        """If ``name`` is on (and ``when(params)`` holds), use up one application and return its params."""
        with self._lock:
            entry = self._active.get(name)
            if entry is None or (when is not None and not when(entry["params"])):
                return None
            if entry["remaining"] is not None:
                entry["remaining"] -= 1
                if entry["remaining"] <= 0:
                    del self._active[name]
            return dict(entry["params"])

    def active(self) -> dict[str, dict]:
        with self._lock:
            return {
                name: {"times": ALWAYS if e["remaining"] is None else e["remaining"], **e["params"]}
                for name, e in self._active.items()
            }

    # -- attribute form
    def __getattr__(self, name: str) -> Any:
        if name in FAULTS:
            with self._lock:
                entry = self._active.get(name)
            if entry is None:
                return None
            return ALWAYS if entry["remaining"] is None else entry["remaining"]
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in FAULTS:
            self._set_spec(name, value)
        else:
            raise AttributeError(f"unknown fault {name!r}; known: {sorted(FAULTS)}")

    def __repr__(self) -> str:
        return f"Faults({self.active()!r})"


def _fault_spec(name: str) -> tuple[str, dict[str, Any]]:
    try:
        return FAULTS[name]
    except KeyError:
        raise ValueError(f"unknown fault {name!r}; known: {sorted(FAULTS)}") from None


# ============================================================================ tasks and files

QUEUE_FRACTION = 0.3  # the first 30 % of a task's time is spent queued
BEIJING = timezone(timedelta(hours=8))


@dataclass
class Task:
    """One accepted job. Its state is computed from the clock, so no thread drives it."""

    id: str
    vendor: str
    model: str
    body: dict
    created: float  # time.monotonic()
    created_wall: float  # time.time()
    duration: float  # task_seconds when it was created
    width: int
    height: int
    audio: bool = False
    seed: int | None = None
    fail_code: str | None = None
    fail_message: str | None = None
    fail_after: float = 1.0  # fraction of `duration` after which a failing task shows FAILED
    deferred: bool = False  # failure is a validation the vendor does after accepting
    canceled_at: float | None = None
    file_token: str = ""
    result_once: bool = False
    result_expired: bool = False
    info: dict = field(default_factory=dict)  # vendor extras (prompts, usage, function ...)

    # -- clock
    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.created

    def phase(self, now: float | None = None) -> str:
        """``queued`` | ``running`` | ``succeeded`` | ``failed`` | ``canceled``."""
        if self.canceled_at is not None:
            return "canceled"
        elapsed = self.elapsed(now)
        if self.fail_code is not None and elapsed >= self.duration * self.fail_after:
            return "failed"
        if elapsed >= self.duration:
            return "succeeded"
        if elapsed >= self.duration * QUEUE_FRACTION:
            return "running"
        return "queued"

    def progress(self, now: float | None = None) -> int:
        phase = self.phase(now)
        if phase == "succeeded":
            return 100
        if phase in ("queued", "canceled") or self.duration <= 0:
            return 0
        run = self.duration * (1 - QUEUE_FRACTION)
        done = (self.elapsed(now) - self.duration * QUEUE_FRACTION) / run if run > 0 else 1
        return max(0, min(99, int(done * 100)))

    def remaining(self, now: float | None = None) -> float:
        return max(0.0, self.duration - self.elapsed(now))

    @property
    def scheduled_wall(self) -> float:
        return self.created_wall + self.duration * QUEUE_FRACTION

    @property
    def end_wall(self) -> float:
        if self.canceled_at is not None:
            return self.created_wall + (self.canceled_at - self.created)
        if self.fail_code is not None:
            return self.created_wall + self.duration * self.fail_after
        return self.created_wall + self.duration

    def snapshot(self) -> dict:
        return {
            "id": self.id,
            "model": self.model,
            "state": self.phase(),
            "progress": self.progress(),
            "width": self.width,
            "height": self.height,
            "audio": self.audio,
            "seed": self.seed,
            "fail_code": self.fail_code,
            "fail_message": self.fail_message,
            "deferred_failure": self.deferred,
            "result_once": self.result_once,
            "result_expired": self.result_expired,
            "info": self.info,
        }


@dataclass
class ResultFile:
    token: str
    task_id: str
    width: int
    height: int
    audio: bool
    once: bool = False
    downloads: int = 0


def vendor_time(wall: float) -> str:
    """``2025-07-27 21:15:19.582`` — DashScope's style. The zone is not stated; Beijing time is used."""
    return datetime.fromtimestamp(wall, BEIJING).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


# ============================================================================ requests and replies


@dataclass
class Request:
    method: str
    raw_path: str  # with the query string
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def query_one(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # sleep this long before answering
    action: str = "answer"  # "answer" | "hang" (never answer) | "drop" (close without answering)
    hang_seconds: float = 600.0


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status, json.dumps(obj, ensure_ascii=False).encode(), "application/json", dict(headers or {})
    )


def text_reply(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode(), content_type)


def gateway_reply(status: int) -> Reply:
    """What a load balancer in front of a vendor sends: an HTML page, no vendor JSON."""
    title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}.get(status, f"{status} Error")
    html = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    return Reply(status, html.encode(), "text/html")


class Refusal(Exception):
    """Raised by validation code: answer with ``reply`` and stop (nothing is created or counted)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


# ============================================================================ field checks


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_str(value: Any) -> bool:
    return isinstance(value, str)


def type_name(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), "null" if value is None else type(value).__name__)


# ============================================================================ fetching media the request points at


class FetchError(Exception):
    """The URL could not be fetched. ``kind``: ``url`` (malformed), ``unreachable``, ``status``, ``too_large``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


_ASCII_URL = re.compile(r"^[\x21-\x7e]+$")


def fetch_url(url: str, *, max_bytes: int, timeout: float = 10.0) -> bytes:
    """GET a public http(s) URL as the vendor would. Raises :class:`FetchError`."""
    if not isinstance(url, str) or not url:
        raise FetchError("url", "the URL must be a non-empty string")
    if not _ASCII_URL.match(url):
        raise FetchError("url", "the URL must be plain ASCII without spaces (no Chinese characters)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FetchError("url", "the URL must be http or https")
    try:
        with _fetch_client().stream("GET", url, timeout=timeout) as response:
            if response.status_code != 200:
                raise FetchError("status", f"downloading the URL returned HTTP {response.status_code}")
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError("too_large", f"the file is larger than {max_bytes} bytes")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError("too_large", f"the file is larger than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as exc:
        raise FetchError(
            "unreachable", f"the URL could not be downloaded ({exc.__class__.__name__})"
        ) from exc


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _fetch_client() -> httpx.Client:
    """One shared client (thread-safe; building one costs ~20 ms of TLS setup)."""
    global _client
    with _client_lock:
        if _client is None:
            # No keep-alive: a pooled connection would hold a test server's thread (and its database
            # session) open after the test, and PostgreSQL could not drop the test database.
            _client = httpx.Client(
                follow_redirects=True,
                max_redirects=5,
                headers={"Connection": "close"},
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        return _client


# ============================================================================ the server


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, emulator: Emulator) -> None:
        self.emulator = emulator
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections close after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, +40 ms per answer
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.sockets_lock:
                self.server.open_sockets.discard(self.connection)

    @property
    def server_version(self) -> str:  # type: ignore[override]
        return self.server.emulator.server_header

    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            sys.stderr.write(f"[{self.server.emulator.vendor}] {format % args}\n")

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            raw_path=self.path,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        reply = emulator.handle(request)
        if reply.action == "drop":
            self.close_connection = True
            self._abort()
            return
        if reply.action == "hang":
            self._hang(reply.hang_seconds)
            self.close_connection = True
            self._abort()
            return
        if reply.delay > 0 and emulator.stopping.wait(reply.delay):
            self.close_connection = True
            return
        self._send(reply, head_only=self.command == "HEAD")

    def _send(self, reply: Reply, *, head_only: bool) -> None:
        try:
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if not head_only and reply.body:
                self.wfile.write(reply.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _hang(self, seconds: float) -> None:
        """Wait without answering until the peer closes, the emulator stops, or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        stopping = self.server.emulator.stopping
        while not stopping.is_set() and time.monotonic() < deadline:
            try:
                readable, _, _ = select.select([self.connection], [], [], 0.05)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    return  # the client gave up and closed its end
            except (OSError, ValueError):
                return

    def _abort(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


# ============================================================================ the emulator base class

Route = tuple[str, str, Callable[[Request, "re.Match[str]"], Reply]]


class Emulator:
    """Base of the three vendor emulators. Also the *handle* that :func:`start_emulator` returns."""

    vendor = "base"
    base_path = ""  # appended to the origin to make base_url
    result_ttl = 600.0  # seconds a result URL stays valid
    server_header = "emulator"
    #: where the result files are served
    FILE_ROUTE = re.compile(r"^/_files/(?P<token>[A-Za-z0-9_-]+)\.mp4$")

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = "test-key",
        task_seconds: float = 2.0,
        *,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.initial_task_seconds = float(task_seconds)
        self.task_seconds = float(task_seconds)
        self.verbose = verbose
        self.faults = Faults()
        self.stopping = threading.Event()
        self._lock = threading.RLock()
        self._secret = secrets.token_bytes(16)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._clear_state()

    def _clear_state(self) -> None:
        with self._lock:
            self._tasks: dict[str, Task] = {}
            self._files: dict[str, ResultFile] = {}
            self._submits: list[dict] = []
            self._requests: list[tuple[str, str, dict[str, str], bytes]] = []
            self._poll_count = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self.stopping.clear()
        self._server = _Server((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},  # stop() wakes it at once
            name=f"emulator-{self.vendor}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (idle keep-alive and hanging connections are closed too)."""
        server, self._server = self._server, None
        if server is None:
            return
        self.stopping.set()
        stopper = threading.Thread(target=server.shutdown, daemon=True)
        stopper.start()
        # serve_forever() notices the request only when its select() wakes; a connection wakes it now
        with contextlib.suppress(OSError):
            socket.create_connection(server.server_address[:2], timeout=0.5).close()
        stopper.join()
        server.server_close()
        with server.sockets_lock:
            open_sockets = list(server.open_sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def origin(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104 - only a display choice
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}{self.base_path}"

    # ------------------------------------------------------------------ what tests read
    @property
    def submits(self) -> list[dict]:
        """Accepted submit bodies (each one is a paid submit), oldest first."""
        with self._lock:
            return list(self._submits)

    @property
    def submit_count(self) -> int:
        with self._lock:
            return len(self._submits)

    @property
    def poll_count(self) -> int:
        """Every request that reached the status route (answered, refused or faulted)."""
        with self._lock:
            return self._poll_count

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        """(method, path with query, headers with lower-cased names, body) of every request except /_emulator/."""
        with self._lock:
            return list(self._requests)

    @property
    def tasks(self) -> dict[str, Task]:
        with self._lock:
            return dict(self._tasks)

    def set_faults(self, **spec: Any) -> None:
        """``set_faults(submit_429=2, poll_500="always", task_fail={"code": "DataInspectionFailed"})``."""
        self.faults.configure(**spec)

    def reset(self) -> None:
        """Forget tasks, files, counts, requests and faults; task_seconds returns to its start value."""
        self.faults.clear()
        self.task_seconds = self.initial_task_seconds
        self._clear_state()

    def forget(self, task_id: str) -> bool:
        """Drop a task as if its id had expired (DashScope: 24 h). Returns whether it existed."""
        with self._lock:
            task = self._tasks.pop(task_id, None)
            if task is not None:
                self._files.pop(task.file_token, None)
            return task is not None

    def stats(self) -> dict:
        with self._lock:
            tasks = {tid: t.snapshot() for tid, t in self._tasks.items()}
            return {
                "vendor": self.vendor,
                "base_url": self.base_url,
                "submits": len(self._submits),
                "polls": self._poll_count,
                "requests": len(self._requests),
                "tasks": tasks,
                "faults": self.faults.active(),
                "task_seconds": self.task_seconds,
            }

    # ------------------------------------------------------------------ vendor hooks
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def fault_reply(self, status: int) -> Reply:
        """The vendor's own body for an injected 429 / 500 / 503."""
        raise NotImplementedError

    def not_found_reply(self, request: Request) -> Reply:
        return text_reply(404, "404 page not found")

    def method_not_allowed_reply(self, request: Request) -> Reply:
        return text_reply(405, "405 method not allowed")

    def default_failure(self) -> tuple[str, str]:
        """(code, message) of a task failed by the ``task_fail`` fault without parameters."""
        return "InternalError", "the emulator was told to fail this task"

    def failure_message(self, code: str) -> str:
        """The message of a task failed by ``task_fail`` with no ``message``/``reason`` given."""
        return self.default_failure()[1]

    def new_task_id(self) -> str:
        return str(uuid.uuid4())

    # ------------------------------------------------------------------ dispatch
    def handle(self, request: Request) -> Reply:
        try:
            if request.path.startswith("/_emulator/"):
                reply = self._control(request)
            else:
                with self._lock:
                    self._requests.append((request.method, request.raw_path, request.headers, request.body))
                match = self.FILE_ROUTE.match(request.path)
                if match and request.method in ("GET", "HEAD"):
                    reply = self._serve_file(request, match["token"])
                else:
                    reply = self._route(request)
        except Refusal as refusal:
            reply = refusal.reply
        except Exception:  # a bug in the emulator: say so loudly, never pretend to be the vendor
            traceback.print_exc()
            reply = text_reply(500, "emulator error (see its stderr)\n")
        if self.verbose and reply.action != "answer":
            sys.stderr.write(f"[{self.vendor}] {request.method} {request.path} -> {reply.action}\n")
        return reply

    def _route(self, request: Request) -> Reply:
        path_matched = False
        for method, pattern, handler in self.routes():
            match = re.fullmatch(pattern, request.path)
            if match is None:
                continue
            path_matched = True
            if request.method == method:
                return handler(request, match)
        if path_matched:
            return self.method_not_allowed_reply(request)
        return self.not_found_reply(request)

    # ------------------------------------------------------------------ helpers for vendor code
    def bearer_ok(self, request: Request) -> bool:
        value = request.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        if scheme != "Bearer" or not token.strip():
            return False
        return self.api_key is None or hmac.compare_digest(token.strip(), self.api_key)

    def json_body(self, request: Request) -> Any:
        """The parsed body, or raises :class:`ValueError`."""
        if not request.body:
            raise ValueError("empty body")
        return json.loads(request.body.decode("utf-8"))

    def count_poll(self) -> None:
        with self._lock:
            self._poll_count += 1

    def get_task(self, task_id: str | None) -> Task | None:
        if not task_id:
            return None
        with self._lock:
            return self._tasks.get(task_id)

    # -- faults around submits and polls
    def submit_fault_before(self) -> Reply | None:
        """Faults that refuse the submit before anything is created (none of them counts as a submit)."""
        for status in (429, 500, 503):
            if self.faults.take(f"submit_{status}") is not None:
                return self.fault_reply(status)
        for status in (502, 504):
            if self.faults.take(f"submit_{status}", when=lambda p: not p["accepted"]) is not None:
                return gateway_reply(status)
        return None

    def submit_fault_after(self, reply: Reply) -> Reply:
        """Faults that act once the task exists: the answer is lost, late, broken or never comes."""
        for status in (502, 504):
            if self.faults.take(f"submit_{status}", when=lambda p: bool(p["accepted"])) is not None:
                return gateway_reply(status)
        if self.faults.take("submit_drop") is not None:
            return Reply(0, action="drop")
        params = self.faults.take("submit_hang")
        if params is not None:
            return Reply(0, action="hang", hang_seconds=float(params["seconds"]))
        if self.faults.take("submit_malformed") is not None:
            return _malformed(reply)
        params = self.faults.take("submit_slow")
        if params is not None:
            reply.delay = float(params["seconds"])
        return reply

    def poll_fault_before(self) -> Reply | None:
        for status in (429, 500, 503):
            if self.faults.take(f"poll_{status}") is not None:
                return self.fault_reply(status)
        for status in (502, 504):
            if self.faults.take(f"poll_{status}") is not None:
                return gateway_reply(status)
        return None

    def poll_fault_after(self, reply: Reply) -> Reply:
        if self.faults.take("poll_malformed") is not None:
            return _malformed(reply)
        params = self.faults.take("poll_slow")
        if params is not None:
            reply.delay = float(params["seconds"])
        return reply

    # -- tasks
    def create_task(
        self,
        *,
        body: dict,
        model: str,
        width: int,
        height: int,
        audio: bool = False,
        seed: int | None = None,
        deferred_failure: tuple[str, str] | None = None,
        info: dict | None = None,
    ) -> Task:
        """Accept a job: it counts as a paid submit from here on.

        ``deferred_failure`` is a (code, message) the vendor finds only after accepting the job (the task
        shows FAILED once it leaves the queue). Otherwise the ``task_fail`` fault may fail it at the end.
        """
        task = Task(
            id=self.new_task_id(),
            vendor=self.vendor,
            model=model,
            body=body,
            created=time.monotonic(),
            created_wall=time.time(),
            duration=max(0.0, float(self.task_seconds)),
            width=int(width),
            height=int(height),
            audio=bool(audio),
            seed=seed,
            file_token=secrets.token_urlsafe(18),
            info=dict(info or {}),
        )
        if deferred_failure is not None:
            task.fail_code, task.fail_message = deferred_failure
            task.fail_after, task.deferred = QUEUE_FRACTION, True
        else:
            params = self.faults.take("task_fail")
            if params is not None:
                task.fail_code = params.get("code") or self.default_failure()[0]
                task.fail_message = (
                    params.get("message") or params.get("reason") or self.failure_message(task.fail_code)
                )
        task.result_once = self.faults.take("result_once") is not None
        task.result_expired = self.faults.take("result_expired") is not None
        with self._lock:
            self._tasks[task.id] = task
            self._files[task.file_token] = ResultFile(
                task.file_token, task.id, task.width, task.height, task.audio, once=task.result_once
            )
            self._submits.append(body)
        return task

    def random_seed(self, top: int = 2147483647) -> int:
        return random.randint(0, top)

    # -- result files
    def result_url(self, task: Task) -> str:
        """The signed URL of a succeeded task's file (already past its Expires with ``result_expired``)."""
        expires = int(task.end_wall) - 1 if task.result_expired else int(task.end_wall + self.result_ttl)
        return f"{self.origin}/_files/{task.file_token}.mp4?Expires={expires}&Signature={self._sign(task.file_token, expires)}"

    def _sign(self, token: str, expires: int) -> str:
        return hmac.new(self._secret, f"{token}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def _serve_file(self, request: Request, token: str) -> Reply:
        expires_text = request.query_one("Expires") or ""
        signature = request.query_one("Signature") or ""
        with self._lock:
            entry = self._files.get(token)
            task = self._tasks.get(entry.task_id) if entry else None
        if entry is None or task is None or task.phase() != "succeeded":
            return _oss_error(404, "NoSuchKey", "The specified key does not exist.")
        if not expires_text.isdigit() or not hmac.compare_digest(
            signature, self._sign(token, int(expires_text))
        ):
            return _oss_error(403, "SignatureDoesNotMatch", "The request signature does not match.")
        if int(expires_text) < time.time():
            return _oss_error(403, "AccessDenied", "Request has expired.")
        if request.method == "GET":
            with self._lock:
                if entry.once and entry.downloads >= 1:
                    return _oss_error(403, "AccessDenied", "Request has expired.")
                entry.downloads += 1
        data = media.mp4_bytes(entry.width, entry.height, audio=entry.audio)
        slow = self.faults.take("download_slow") if request.method == "GET" else None
        return Reply(
            200,
            data,
            "video/mp4",
            {
                "Content-Length": str(len(data)),
                "Accept-Ranges": "none",
                "Cache-Control": "private, max-age=0",
            },
            delay=float(slow["seconds"]) if slow else 0.0,
        )

    # ------------------------------------------------------------------ control endpoint
    def _control(self, request: Request) -> Reply:
        path = request.path
        if path == "/_emulator/stats" and request.method == "GET":
            return json_reply(200, self.stats())
        if path == "/_emulator/submits" and request.method == "GET":
            return json_reply(200, {"submits": self.submits})
        if path == "/_emulator/faults" and request.method == "GET":
            return json_reply(
                200, {"faults": self.faults.active(), "known": {k: v[0] for k, v in FAULTS.items()}}
            )
        if path == "/_emulator/faults" and request.method == "POST":
            try:
                spec = json.loads(request.body or b"{}")
                if not isinstance(spec, dict):
                    raise ValueError("the body must be a JSON object")
                if spec.pop("clear", False):
                    self.faults.clear()
                if "task_seconds" in spec:
                    seconds = spec.pop("task_seconds")
                    if not is_number(seconds) or seconds < 0:
                        raise ValueError("task_seconds must be a number >= 0")
                    self.task_seconds = float(seconds)
                self.faults.configure(**spec)
            except ValueError as exc:  # includes JSONDecodeError
                return json_reply(400, {"error": str(exc)})
            return json_reply(200, {"faults": self.faults.active(), "task_seconds": self.task_seconds})
        if path == "/_emulator/reset" and request.method == "POST":
            self.reset()
            return json_reply(200, {"ok": True})
        if path == "/_emulator/forget" and request.method == "POST":
            try:
                task_id = json.loads(request.body or b"{}").get("task_id")
            except (ValueError, AttributeError):
                task_id = None
            return json_reply(200, {"forgotten": bool(task_id) and self.forget(task_id)})
        return json_reply(404, {"error": f"no control route {request.method} {path}"})


def _malformed(reply: Reply) -> Reply:
    body = reply.body or b'{"status": "'
    cut = body[: max(1, len(body) // 2)]
    return Reply(
        200, cut, "application/json", {k: v for k, v in reply.headers.items() if k != "Content-Length"}
    )


def _oss_error(status: int, code: str, message: str) -> Reply:
    """Object-storage style error, as a signed CDN/OSS URL answers when it is expired or wrong."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error>\n  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
        f"  <RequestId>{uuid.uuid4().hex[:24].upper()}</RequestId>\n</Error>\n"
    )
    return Reply(status, body.encode(), "application/xml")
