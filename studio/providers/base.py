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

import random
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import httpx

from studio.net import shared_client


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

    def __init__(self, *, api_key: str = "", base_url: str = "", timeout: float = 30.0, **options: Any):
        if not self.label:
            from studio.providers.catalog import PROVIDER_LABELS

            self.label = PROVIDER_LABELS.get(self.name, self.name)
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.options = options

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


def finished(label: str, url: Any, *, seed: int | None = None, raw: Any = None) -> Progress:
    """A vendor's "succeeded": the result's link, or a failure if the vendor sent none."""
    if not url:
        return Progress(
            RemoteState.FAILED,
            error_code="no_result",
            error_message=f"{label} reported the video as finished but sent no link to it.",
            raw=raw,
        )
    return Progress(RemoteState.SUCCEEDED, result_url=str(url), fraction=1.0, seed=seed, raw=raw)


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
    """Providers that speak JSON over HTTPS: one shared client, one place that classifies failures."""

    user_agent: ClassVar[str] = "studio/0.1"

    def __init__(self, *, client: httpx.Client | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.client = client or shared_client()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}", "User-Agent": self.user_agent}

    def vendor_error(self, response: httpx.Response, during: str) -> ProviderError | None:
        """Turn a vendor error body into a ProviderError, or None to use the generic rules."""
        return None

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
        raise self.classify(response, during)

    def classify(self, response: httpx.Response, during: str) -> ProviderError:
        status = response.status_code
        raw = body_of(response)
        vendor = self.vendor_error(response, during)
        if vendor is not None:
            return vendor
        message = message_of(raw) or f"HTTP {status} {response.reason_phrase}".strip()
        retry_after = retry_after_seconds(response)
        if status in (429, 503):
            return ProviderError(
                ErrorKind.TRANSIENT,
                f"{self.label} is busy: {message}",
                status=status,
                raw=raw,
                retry_after=retry_after,
            )
        if status in (401, 403):
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{self.label} refused the key: {message}",
                status=status,
                raw=raw,
                config=True,
            )
        if status == 408 or status >= 500:
            kind = ErrorKind.UNKNOWN_OUTCOME if during == "submit" else ErrorKind.TRANSIENT
            return ProviderError(kind, f"{self.label} had a server error: {message}", status=status, raw=raw)
        return ProviderError(
            ErrorKind.PERMANENT, f"{self.label} refused the request: {message}", status=status, raw=raw
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
    """An int from a JSON number or numeric string (seeds come back as either); None otherwise."""
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
