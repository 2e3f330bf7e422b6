"""The studio's outbound HTTP clients: the one fetcher for server-side downloads (results, remote inputs),
and the pooled client the vendor adapters call their APIs with.

The address check happens when the socket opens, on the address actually connected to, so a DNS name
that resolves (or re-resolves) to an internal address cannot slip past it, and neither can a redirect.
Loopback, private, link-local (cloud metadata), shared, multicast and reserved ranges are refused unless
STUDIO_FETCH_ALLOW_PRIVATE is on (tests and emulators only). Size and time are capped and the first bytes
are sniffed, so a page of HTML is never stored as a video.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path

import certifi
import httpcore
import httpx
from django.conf import settings

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_REDIRECTS = 5


class FetchError(Exception):
    def __init__(self, message: str, *, code: str, transient: bool = False):
        super().__init__(message)
        self.code = code
        self.transient = transient


class BlockedAddress(httpcore.ConnectError):
    pass


# IPv6 ranges that carry an IPv4 address in their last 32 bits: the IPv4 address decides.
_EMBEDDING = [
    ipaddress.ip_network(n)
    for n in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0/96", "::ffff:0:0:0/96")
]


def is_public_address(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.is_site_local:
            return False
        embedded = addr.ipv4_mapped or addr.sixtofour
        if embedded is None and any(addr in net for net in _EMBEDDING):
            embedded = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
        if embedded is not None:
            addr = embedded
    return addr.is_global and not addr.is_multicast


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to addresses that pass the check."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [info[4][0] for info in infos]
        if not self.allow_private:
            blocked = [a for a in addresses if not is_public_address(a)]
            if blocked:
                raise BlockedAddress(f"{host} resolves to a non-public address ({blocked[0]}); refused")
        last: Exception | None = None
        for address in dict.fromkeys(addresses):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"cannot connect to {host}")


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, allow_private: bool):
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=20,
            network_backend=GuardedBackend(allow_private),
        )


_clients: dict[tuple[int, bool], httpx.Client] = {}
_lock = threading.Lock()


def guarded_client() -> httpx.Client:
    """One client per process (and per allow-private setting), created lazily after any fork."""
    allow = bool(settings.STUDIO_FETCH_ALLOW_PRIVATE)
    key = (os.getpid(), allow)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = httpx.Client(
                transport=GuardedTransport(allow_private=allow),
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=DEFAULT_TIMEOUT,
                headers={"User-Agent": "studio-fetcher/0.1"},
                trust_env=False,
            )
            _clients[key] = client
        return client


_api_clients: dict[int, httpx.Client] = {}


def shared_client() -> httpx.Client:
    """One pooled client per process for vendor API calls (created after fork, never shared across).

    Not guarded like ``guarded_client``: the vendors' base URLs come from settings, not from users, and
    the emulators that tests point them at listen on loopback.
    """
    pid = os.getpid()
    with _lock:
        client = _api_clients.get(pid)
        if client is None:
            client = httpx.Client(
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
                trust_env=False,
            )
            _api_clients[pid] = client
        return client


# First bytes of the kinds we accept, by what we expect.
def sniff(head: bytes) -> str | None:
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    return None


def fetch_to_file(
    url: str,
    dest: Path,
    *,
    expect: tuple[str, ...] = ("video/",),
    max_bytes: int | None = None,
    max_seconds: float = 300.0,
) -> str:
    """Download ``url`` to ``dest`` safely; return the sniffed content type. Raises FetchError."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError("Only http(s) URLs can be fetched.", code="scheme")
    limit = max_bytes or settings.STUDIO_FETCH_MAX_BYTES
    deadline = time.monotonic() + max_seconds
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, guarded_client().stream("GET", url) as response:
            if response.status_code in (401, 403, 404, 410):
                raise FetchError(
                    f"The file is gone (HTTP {response.status_code}); its link has probably expired.",
                    code="expired",
                )
            if response.status_code >= 400:
                raise FetchError(
                    f"The server answered HTTP {response.status_code}.",
                    code="http",
                    transient=response.status_code >= 500,
                )
            declared = int(response.headers.get("content-length") or 0)
            if declared > limit:
                raise FetchError(
                    f"The file is too large ({declared} bytes; the limit is {limit}).", code="too_large"
                )
            size, kind, head = 0, None, b""
            # Whatever each network read brings, so a server that drips bytes meets the deadline too.
            for chunk in response.iter_bytes():
                if time.monotonic() > deadline:
                    raise FetchError("The download took too long.", code="slow", transient=True)
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"The file is larger than the limit of {limit} bytes.", code="too_large")
                if kind is None:
                    head += chunk
                    if len(head) < 16:
                        continue
                    kind = sniff(head[:16]) or ""
                    if not kind.startswith(expect):
                        raise FetchError(f"The file is not a {' or '.join(expect)} file.", code="type")
                    chunk, head = head, b""
                out.write(chunk)
            if kind is None and head:
                kind = sniff(head[:16]) or ""
                if not kind.startswith(expect):
                    raise FetchError(f"The file is not a {' or '.join(expect)} file.", code="type")
                out.write(head)
            if not size:
                raise FetchError("The file is empty.", code="empty", transient=True)
        os.replace(tmp, dest)
        return kind or ""
    except httpx.ConnectError as exc:
        if isinstance(exc.__context__, BlockedAddress) or "non-public address" in str(exc):
            raise FetchError(f"Refused: {exc}", code="blocked") from exc
        raise FetchError(f"Could not connect: {exc}", code="connect", transient=True) from exc
    except httpx.UnsupportedProtocol as exc:  # a redirect to file://, ftp://, ...
        raise FetchError(f"Refused: {exc}", code="scheme") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"The download failed: {exc}", code="network", transient=True) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
