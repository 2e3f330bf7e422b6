"""Fetching the media a request points at, as a vendor that takes inputs by URL does."""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

import httpx


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
