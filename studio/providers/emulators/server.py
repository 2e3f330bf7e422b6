"""The loopback HTTP server: HTTP/1.1 with keep-alive, one thread per connection, requests handed to an
:class:`~studio.providers.emulators.base.Emulator` and its replies sent back (or held, or dropped)."""

from __future__ import annotations

import contextlib
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .protocol import Reply, Request

if TYPE_CHECKING:
    from .base import Emulator


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, handler, emulator: Emulator) -> None:
        self.emulator = emulator
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # idle keep-alive connections close after this
    disable_nagle_algorithm = True  # headers and body go out in two writes: without this, +40 ms per answer
    server: Server

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
