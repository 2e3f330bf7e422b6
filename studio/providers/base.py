"""The provider interface and its normalised vocabulary.

Each vendor module only translates: it builds the vendor's request from a ``JobSpec`` and maps the
vendor's replies onto ``Submitted`` / ``Progress`` / ``ProviderError``. Transport failures are classified
once, here, in ``HttpProvider._call``: a vendor overrides ``vendor_error`` only for its own error bodies.

Error kinds:
- TRANSIENT: nothing reached the vendor, or it asked us to come back later. Retry the same call.
- PERMANENT: the vendor refused. Show the user; never retry.
- UNKNOWN_OUTCOME: a submit may have created a (paid) task. Never resubmit on our own.
"""

from __future__ import annotations

import base64
import mimetypes
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import httpx

from studio.net import shared_client
from studio.providers.buckets import Rate, account


class ErrorKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNKNOWN_OUTCOME = "unknown"


class ProviderError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        raw: Any = None,
        retry_after: float | None = None,
        config: bool = False,
        doubtful: bool = False,
    ):
        super().__init__(message)
        self.kind = ErrorKind(kind)
        self.message = message
        self.code = code
        self.status = status
        self.raw = raw
        self.retry_after = retry_after
        # A configuration error (wrong key, wrong region, model not enabled) is for the workspace's admin.
        self.config = config
        # A refusal no vendor page documents for a status call: it says nothing certain about the (paid)
        # task, so it is asked again with backoff and, if it persists, left for a person, never "failed".
        self.doubtful = doubtful

    def __str__(self) -> str:
        bits = [self.message]
        if self.code:
            bits.append(f"[{self.code}]")
        if self.status:
            bits.append(f"(HTTP {self.status})")
        return " ".join(bits)


class RemoteState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    LOST = "lost"  # the vendor no longer knows the task (expired id)


@dataclass(frozen=True)
class InputFile:
    """One input medium: a local file the studio keeps, plus a signed public URL when one is needed.

    ``name`` is the file's name in the studio's storage, for work that may go on in another process on
    another host (the local renderer after a crash): ``path`` is only valid in the process that built it."""

    slot: str
    path: str
    content_type: str
    url: str = ""
    name: str = ""
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None


@dataclass(frozen=True)
class JobSpec:
    generation_id: str
    provider: str
    model: str
    task: str
    prompt: str
    negative_prompt: str = ""
    size: str | None = None  # "WxH"
    resolution: str | None = None  # "720P"
    duration: int | None = None
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, list[InputFile]] = field(default_factory=dict)
    camera: str = ""  # the prompt builder's camera part, for the local renderer

    def first(self, slot: str) -> InputFile | None:
        files = self.inputs.get(slot) or []
        return files[0] if files else None


@dataclass(frozen=True)
class Submitted:
    external_id: str
    raw: Any = None
    trace_id: str = ""


@dataclass(frozen=True)
class Progress:
    state: RemoteState
    result_url: str = ""
    position: int | None = None
    fraction: float | None = None  # 0..1 when the vendor reports progress
    error_code: str = ""
    error_message: str = ""
    actual_prompt: str = ""
    seed: int | None = None
    raw: Any = None
    #: what the vendor reports about the finished job, kept with it (its usage, timings, the seed it used)
    report: dict[str, Any] = field(default_factory=dict)


class Provider:
    """What every provider does. Subclasses implement ``submit`` and ``poll``; the rest has defaults.

    ``submit`` returns ``Submitted`` or raises ``ProviderError`` with the right kind: anything that may
    have created a task must be UNKNOWN_OUTCOME. ``poll`` is idempotent: transport trouble there is only
    TRANSIENT. ``download`` stores the finished result at ``dest``.
    """

    name: ClassVar[str] = ""
    #: the vendor's name as people write it, for messages ("SiliconFlow", not "siliconflow")
    label: ClassVar[str] = ""
    #: seconds after submit before the first poll, then the cadence, capped at ``max_poll_interval``
    first_poll_delay: ClassVar[float] = 5.0
    poll_steps: ClassVar[tuple[float, ...]] = (2, 4, 6, 8, 10)
    max_poll_interval: ClassVar[float] = 10.0
    #: how long the vendor keeps a task id; past this a job still running is failed as expired
    task_ttl_seconds: ClassVar[float] = 24 * 3600
    #: a resubmit costs nothing (the offline renderer): a crash mid-submit may simply queue again
    free_to_resubmit: ClassVar[bool] = False
    #: model id -> how many tasks the vendor runs at once per account; more wait in our queue, not in 429s
    max_running: ClassVar[dict[str, int]] = {}
    #: the vendor's limit on status calls per account, shared by every worker (``buckets.py``)
    poll_rate: ClassVar[Rate | None] = None
    #: model id -> the vendor's limit on submits of that model per account
    submit_rates: ClassVar[dict[str, Rate]] = {}

    def __init__(self, *, api_key: str = "", base_url: str = "", timeout: float = 30.0, **options: Any):
        if not self.label:
            from studio.providers.catalog import PROVIDER_LABELS

            self.label = PROVIDER_LABELS.get(self.name, self.name)
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.options = options

    def bucket_key(self, call: str) -> str:
        """The shared bucket of one limited call (``"poll"``, ``"submit:<model>"``) for this key's account."""
        return f"{self.name}:{call}:{account(self.name, self.api_key)}"

    def submit(self, spec: JobSpec) -> Submitted:
        raise NotImplementedError

    def poll(self, external_id: str) -> Progress:
        raise NotImplementedError

    def cancel(self, external_id: str) -> bool:
        """Ask the vendor to cancel; True if it did. Default: the vendor has no cancel."""
        return False

    def check_key(self) -> None:
        """Make one cheap authenticated call; raise ProviderError(config=True) if the key is refused."""
        raise ProviderError(ErrorKind.PERMANENT, f"{self.label} has no key check.")

    def download(self, url: str, dest: Path) -> None:
        from studio.net import fetch_to_file

        fetch_to_file(url, dest)

    def next_poll_delay(self, polls_done: int) -> float:
        """Seconds until the next poll after ``polls_done`` polls, with a little jitter."""
        steps = self.poll_steps
        base = steps[polls_done] if polls_done < len(steps) else self.max_poll_interval
        base = min(base, self.max_poll_interval)
        return base * random.uniform(0.9, 1.1)


def finished(
    label: str, url: Any, *, seed: int | None = None, raw: Any = None, report: dict | None = None
) -> Progress:
    """A vendor's "succeeded": the result's link, or a failure if the vendor sent none."""
    if not url:
        return Progress(
            RemoteState.FAILED,
            error_code="no_result",
            error_message=f"{label} reported the video as finished but sent no link to it.",
            raw=raw,
        )
    return Progress(
        RemoteState.SUCCEEDED, result_url=str(url), fraction=1.0, seed=seed, raw=raw, report=report or {}
    )


def failed(label: str, reason: Any, *, raw: Any = None) -> Progress:
    """A vendor's "failed", with its free-text reason."""
    text = str(reason or "").strip() or "it gave no reason"
    return Progress(
        RemoteState.FAILED,
        error_code="failed",
        error_message=f"{label} could not make this video: {text}",
        raw=raw,
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class HttpProvider(Provider):
    """Providers that speak JSON over HTTPS: one shared client, one place that classifies failures.

    What the HTTP vendors share lives here: the key check before anything is sent, the transport and
    status-code rules (401/403 for the admin, 404 a wrong base URL, 429 busy, 408/5xx on submit an
    unknown outcome, on a poll only "ask again later"), ``submit_json`` (a 200 without the task's id is an unknown outcome too), the key
    check by a made-up id, and ``data_uri`` for inputs the vendor takes inline. A subclass sets the
    class attributes below and overrides ``vendor_error`` only for its own error bodies.
    """

    user_agent: ClassVar[str] = "studio/0.1"
    #: how a 403 is explained to the admin, after "refused access"; the vendor's usual reason
    forbidden_hint: ClassVar[str] = ""
    #: (method, path, request kwargs) of a status call about an id that cannot exist, for ``check_key``
    key_check_call: ClassVar[tuple[str, str, dict[str, Any]] | None] = None
    #: statuses the key check may get back for that id when the key itself is fine
    key_check_statuses: ClassVar[tuple[int, ...]] = ()
    #: every generic error keeps ``vendor_code`` (else only a refused key does; the status speaks for the rest)
    keep_vendor_code: ClassVar[bool] = False

    def __init__(self, *, client: httpx.Client | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = client or shared_client()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "User-Agent": self.user_agent}

    def vendor_error(self, response: httpx.Response, during: str) -> ProviderError | None:
        """Turn a vendor error body into a ProviderError, or None to use the generic rules."""
        return None

    def vendor_code(self, raw: Any) -> str:
        """The vendor's own error code in an error body ("" if it has none), kept for the detail page."""
        return ""

    def _call(self, method: str, path: str, *, during: str, **kwargs: Any) -> httpx.Response:
        """Send one request; return the 2xx response or raise a classified ProviderError."""
        if not self.api_key:
            raise ProviderError(
                ErrorKind.PERMANENT,
                f"No {self.label} API key: add one in the workspace's provider settings "
                f"or set {self.name.upper()}_API_KEY.",
                code="no_key",
                config=True,
            )
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        try:
            response = self.client.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ProviderError(
                ErrorKind.TRANSIENT, f"Could not reach {self.label}: {exc}", code="connect"
            ) from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            # The request may have arrived: for a submit the task may exist, so we must not send it again.
            kind = ErrorKind.UNKNOWN_OUTCOME if during == "submit" else ErrorKind.TRANSIENT
            raise ProviderError(
                kind, f"{self.label} did not answer in time ({type(exc).__name__}).", code="timeout"
            ) from exc
        if response.is_success:
            return response
        error = self.classify(response, during)
        if during == "poll" and error.kind == ErrorKind.PERMANENT and not error.config:
            # No page documents a refusal of a status call (an unknown id included): the task may well
            # exist and be paid for, so this is not its end.
            error.kind, error.doubtful = ErrorKind.TRANSIENT, True
        raise error

    def classify(self, response: httpx.Response, during: str) -> ProviderError:
        status = response.status_code
        raw = body_of(response)
        vendor = self.vendor_error(response, during)
        if vendor is not None:
            return vendor
        message = message_of(raw) or f"HTTP {status} {response.reason_phrase}".strip()
        vendor_code = self.vendor_code(raw)
        code = vendor_code if self.keep_vendor_code else ""
        retry_after = retry_after_seconds(response)
        env = self.name.upper()
        if status == 429 or (status == 503 and during != "submit"):
            return ProviderError(
                ErrorKind.TRANSIENT,
                f"{self.label} is busy: {message}",
                code=code,
                status=status,
                raw=raw,
                retry_after=retry_after,
            )
        if status == 401:
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{self.label} refused the API key ({message}). A workspace admin should check the "
                f"{self.label} key in the workspace's provider settings (or {env}_API_KEY).",
                code=vendor_code or "auth",
                status=status,
                raw=raw,
                config=True,
            )
        if status == 403:
            hint = f" {self.forbidden_hint}" if self.forbidden_hint else ""
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{self.label} refused access ({message}); a workspace admin should check the {self.label} "
                f"key in the workspace's provider settings (or {env}_API_KEY).{hint}",
                code=vendor_code or "forbidden",
                status=status,
                raw=raw,
                config=True,
            )
        if status == 404:
            # A wrong base URL, not a refused job: an admin can fix it, and a paid task must not be failed.
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{self.label} has no {response.request.url.path}: check {env}_BASE_URL ({self.base_url}).",
                code="not_found",
                status=status,
                raw=raw,
                config=True,
            )
        if status == 408 or status >= 500:
            # On a submit only a 429 (or a refusal of the request or the key) proves no task was made: a
            # 500 or a 503 with the vendor's own body, or a gateway's 502/504, says nothing of the kind.
            kind = ErrorKind.UNKNOWN_OUTCOME if during == "submit" else ErrorKind.TRANSIENT
            return ProviderError(
                kind, f"{self.label} had a server error: {message}", code=code, status=status, raw=raw
            )
        return ProviderError(
            ErrorKind.PERMANENT,
            f"{self.label} refused the request: {message}",
            code=code,
            status=status,
            raw=raw,
        )

    def json(self, response: httpx.Response, during: str) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            kind = ErrorKind.UNKNOWN_OUTCOME if during == "submit" else ErrorKind.TRANSIENT
            raise ProviderError(
                kind,
                f"{self.label} sent a reply that is not JSON.",
                code="malformed",
                status=response.status_code,
                raw=response.text[:500],
            ) from exc

    def submit_json(
        self,
        path: str,
        body: dict[str, Any],
        task_id: Callable[[Any], Any],
        *,
        trace_id: Callable[[httpx.Response, Any], str] | None = None,
        **kwargs: Any,
    ) -> Submitted:
        """POST a paid submit once and return the vendor's id for it. Every answer that does not prove
        the vendor made no task (a timeout, a server error, a reply we cannot read, a 200 without an id)
        raises UNKNOWN_OUTCOME: the job goes to a person, never back to the vendor on our own."""
        response = self._call("POST", path, during="submit", json=body, **kwargs)
        reply = self.json(response, "submit")
        found = task_id(reply) if isinstance(reply, dict) else None
        if found is None or isinstance(found, bool) or str(found) == "":
            raise ProviderError(
                ErrorKind.UNKNOWN_OUTCOME,
                f"{self.label} answered the submit without a task id.",
                code="malformed",
                status=response.status_code,
                raw=reply,
            )
        return Submitted(str(found), raw=reply, trace_id=trace_id(response, reply) if trace_id else "")

    def check_key(self) -> None:
        """Ask about an id that cannot exist: a refused key (401/403) or a wrong base URL (404) raises
        ProviderError(config=True); an unreachable host stays TRANSIENT; the vendor's "no such id" passes."""
        if self.key_check_call is None:
            super().check_key()
            return
        method, path, kwargs = self.key_check_call
        try:
            self._call(method, path, during="check", **kwargs)
        except ProviderError as exc:
            if exc.status in self.key_check_statuses and not exc.config:
                return  # the key was accepted; only the made-up id was refused
            raise


def data_uri(
    image: InputFile, *, label: str, allowed: tuple[str, ...] | None = None, fallback: str = ""
) -> str:
    """``data:{mime};base64,{data}`` of a local input (no space after the comma), for vendors that take
    an image inline. ``allowed`` limits the MIME types (refused before anything is sent); a file that cannot
    be read is a plain refusal too, never an unknown outcome."""
    mime = (image.content_type or "").lower()
    if not mime.startswith("image/"):
        mime = (mimetypes.guess_type(image.path)[0] or fallback).lower()
    mime = {"image/jpg": "image/jpeg", "image/x-ms-bmp": "image/bmp"}.get(mime, mime)
    if allowed is not None and mime not in allowed:
        names = ", ".join(m.split("/")[1].upper() for m in allowed)
        raise ProviderError(
            ErrorKind.PERMANENT, f"{label} takes {names} images, not {mime or 'this file'}.", code="format"
        )
    try:
        data = Path(image.path).read_bytes()
    except OSError as exc:
        raise ProviderError(
            ErrorKind.PERMANENT, f"The {image.slot or 'input'} could not be read: {exc}", code="input"
        ) from exc
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def body_of(response: httpx.Response) -> Any:
    """The reply's JSON, or the start of its text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text[:500]


def first_dict(items: Any) -> dict:
    """The first element of a JSON list if it is an object, else {} (vendors' ``videos[0]``)."""
    return items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}


def as_int(value: Any) -> int | None:
    """An int from a JSON number or numeric string (a seed comes back as either); None otherwise."""
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def message_of(raw: Any) -> str:
    """A short human message from an error body; "" for HTML (a gateway's error page is no message)."""
    if isinstance(raw, dict):
        return str(raw.get("message") or raw.get("msg") or raw.get("error") or raw)[:300]
    text = str(raw or "").strip()
    return "" if text.startswith("<") else text[:300]
