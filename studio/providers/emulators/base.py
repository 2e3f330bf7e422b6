"""The base class of the vendor emulators: lifecycle, dispatch, tasks, result files and the control
endpoint.

Each vendor package's ``emulator`` module subclasses :class:`Emulator` and adds its routes, its validation
and its error bodies. The machinery the vendors share is split by kind:

* :mod:`.server` — a ``ThreadingHTTPServer`` on loopback (HTTP/1.1, keep-alive, one thread per connection);
* :mod:`.state` — :class:`Task`, a job whose state is a function of time: queued for the first 30 % of
  ``task_seconds``, running with progress until ``task_seconds``, then succeeded (or failed / canceled);
  and the result files, served here at a signed-looking path
  ``/_files/<token>.mp4?Expires=<unix>&Signature=<hex>`` (real MP4 bytes from :mod:`.media`);
* :mod:`.faults` — switches that make the next N requests (or all of them) misbehave;
* :mod:`.openings` — what every submit and status call meets first: the key, the vendor's rate limits and
  those faults;
* :mod:`.protocol` — requests, replies and JSON field checks; :mod:`.fetch` — inputs fetched by URL;
* here, the control endpoint ``/_emulator/...`` for tests that run in another process.

Nothing here imports Django.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import hmac
import json
import random
import re
import secrets
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from . import media
from .faults import FAULTS, Faults
from .openings import CallOpenings
from .protocol import Refusal, Reply, Request, is_number, json_reply, text_reply
from .server import Handler, Server
from .state import QUEUE_FRACTION, ResultFile, Task

Route = tuple[str, str, Callable[[Request, "re.Match[str]"], Reply]]


class Emulator(CallOpenings):
    """Base of the vendor emulators. Also the *handle* that :func:`start_emulator` returns."""

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
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._clear_state()

    def _clear_state(self) -> None:
        with self._lock:
            self._tasks: dict[str, Task] = {}
            self._files: dict[str, ResultFile] = {}
            self._submits: list[dict] = []
            self._requests: list[tuple[str, str, dict[str, str], bytes]] = []
            self._poll_count = 0
            self._calls: dict[str, collections.deque[float]] = {}
            self.throttled: dict[str, int] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self.stopping.clear()
        self._server = Server((self.host, self.port), Handler, self)
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
                "throttled": dict(self.throttled),
                "task_seconds": self.task_seconds,
            }

    # ------------------------------------------------------------------ vendor hooks
    def routes(self) -> list[Route]:
        raise NotImplementedError

    def fault_reply(self, status: int) -> Reply:
        """The vendor's own body for an injected 400 / 429 / 500 / 503."""
        raise NotImplementedError

    def not_found_reply(self, request: Request) -> Reply:
        return text_reply(404, "404 page not found")

    def method_not_allowed_reply(self, request: Request) -> Reply:
        return text_reply(405, "405 method not allowed")

    def auth_refusal(self) -> Reply:
        """The vendor's own answer to a missing or wrong key (its 401 body)."""
        raise NotImplementedError

    def invalid(self, message: str) -> Refusal:
        """The vendor's own refusal of a bad request (its invalid-parameter 400), to raise."""
        raise NotImplementedError

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

    def require_bearer(self, request: Request) -> None:
        """Refuse with the vendor's 401 unless the request carries the right bearer key."""
        if not self.bearer_ok(request):
            raise Refusal(self.auth_refusal())

    def json_object(self, request: Request) -> dict:
        """The body as a JSON object, sent as ``application/json``; otherwise the vendor's 400."""
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise self.invalid("Content-Type must be application/json")
        try:
            body = self.json_body(request)
        except ValueError:
            raise self.invalid("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise self.invalid("The request body must be a JSON object.")
        return body

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


def _oss_error(status: int, code: str, message: str) -> Reply:
    """Object-storage style error, as a signed CDN/OSS URL answers when it is expired or wrong."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error>\n  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
        f"  <RequestId>{uuid.uuid4().hex[:24].upper()}</RequestId>\n</Error>\n"
    )
    return Reply(status, body.encode(), "application/xml")
