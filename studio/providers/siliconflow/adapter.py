"""SiliconFlow's Wan 2.2 video API ([001], its video API page).

    POST {base}/video/submit  {model, prompt, negative_prompt?, image_size "WxH", image?, seed?} -> {"requestId"}
    POST {base}/video/status  {"requestId"} -> {status, reason, position?, results: {videos: [{url}], seed}}

Error bodies: 400 ``{"code": 20012, "message"}`` (invalid parameter), 401 ``"Invalid token"``, 403 ``"Forbidden"``,
404 ``404 page not found``, 429 rate limit, 503 ``{"code": 50505}`` (overloaded), 504 gateway. Only the ones the
generic rules in base.py get wrong are translated here.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from pathlib import Path
from typing import Any

import httpx

from studio.providers.base import (
    ErrorKind,
    HttpProvider,
    InputFile,
    JobSpec,
    Progress,
    ProviderError,
    RemoteState,
    Submitted,
    as_int,
    body_of,
    failed,
    finished,
    first_dict,
    message_of,
)

log = logging.getLogger(__name__)

LABEL = "SiliconFlow"
INVALID_PARAMETER = 20012
TRACE_HEADER = "x-siliconcloud-trace-id"
KEY_CHECK_ID = "studio-key-check"  # a requestId that cannot exist

#: The vendor's status words (case-sensitive). Anything else is logged and polled again.
STATES: dict[str, RemoteState] = {
    "InQueue": RemoteState.QUEUED,
    "InProgress": RemoteState.RUNNING,
    "Succeed": RemoteState.SUCCEEDED,
    "Failed": RemoteState.FAILED,
}


class SiliconFlowProvider(HttpProvider):
    name = "siliconflow"
    # §7.5: first poll after ~5 s, then back off to a 10 s cap, because the result URL lives only
    # 10 minutes [001] and a job must be seen as done (and downloaded) well inside that window.
    first_poll_delay = 5.0
    poll_steps = (2, 4, 6, 8, 10)
    max_poll_interval = 10.0

    # ------------------------------------------------------------------------------------ submit
    def submit(self, spec: JobSpec) -> Submitted:
        body = self.request_body(spec)  # refuses locally (nothing sent) if the job cannot be expressed
        response = self._call("POST", "/video/submit", during="submit", json=body)
        reply = self.json(response, "submit")
        request_id = reply.get("requestId") if isinstance(reply, dict) else None
        if not isinstance(request_id, str) or not request_id:
            # A 200 without an id: the task may well exist, so this is not safe to send again.
            raise ProviderError(
                ErrorKind.UNKNOWN_OUTCOME,
                f"{LABEL} answered the submit without a request id.",
                code="malformed",
                status=response.status_code,
                raw=reply,
            )
        return Submitted(request_id, raw=reply, trace_id=response.headers.get(TRACE_HEADER, ""))

    def request_body(self, spec: JobSpec) -> dict[str, Any]:
        """Exactly the documented fields; optional ones only when set (the vendor's defaults are unstated)."""
        if not spec.size:
            raise ProviderError(
                ErrorKind.PERMANENT,
                f"{LABEL} needs a video size (1280x720, 720x1280 or 960x960).",
                code="no_size",
            )
        body: dict[str, Any] = {
            "model": spec.model,
            "prompt": spec.prompt,
            "image_size": spec.size.lower(),  # "1280x720": lower-case x, unlike DashScope's "*"
        }
        if spec.negative_prompt:
            body["negative_prompt"] = spec.negative_prompt
        image = spec.first("image")
        if image is not None:
            body["image"] = data_uri(image)  # no public URL needed: the vendor takes the bytes inline
        if spec.seed is not None:
            body["seed"] = spec.seed
        return body

    # -------------------------------------------------------------------------------------- poll
    def poll(self, external_id: str) -> Progress:
        try:
            response = self._call("POST", "/video/status", during="poll", json={"requestId": external_id})
        except ProviderError as exc:
            if exc.status == 400:
                # Unknown or expired requestId (the docs say nothing more): the task is gone for good.
                return Progress(
                    RemoteState.LOST,
                    error_code="lost",
                    error_message=f"{LABEL} no longer knows this job ({message_of(exc.raw)}).",
                    raw=exc.raw,
                )
            raise
        reply = self.json(response, "poll")
        if not isinstance(reply, dict):
            raise ProviderError(
                ErrorKind.TRANSIENT,
                f"{LABEL} sent a status that is not an object.",
                code="malformed",
                raw=reply,
            )
        status = reply.get("status")
        state = STATES.get(status) if isinstance(status, str) else None
        if state is None:
            log.warning("siliconflow: unknown status %r for %s; polling again", status, external_id)
            return Progress(RemoteState.QUEUED, raw=reply)
        results = reply.get("results") if isinstance(reply.get("results"), dict) else {}
        seed = as_int(results.get("seed"))
        if state == RemoteState.SUCCEEDED:
            return finished(LABEL, first_dict(results.get("videos")).get("url"), seed=seed, raw=reply)
        if state == RemoteState.FAILED:
            return failed(LABEL, reply.get("reason"), raw=reply)
        return Progress(state, position=as_int(reply.get("position")), seed=seed, raw=reply)

    # ---------------------------------------------------------------------------------- key check
    def check_key(self) -> None:
        """Ask for the status of an id that cannot exist: a good key gets 400 (unknown id), a bad one 401/403."""
        try:
            self._call("POST", "/video/status", during="check", json={"requestId": KEY_CHECK_ID})
        except ProviderError as exc:
            if exc.status == 400 and not exc.config:
                return  # the key was accepted; only the made-up id was refused
            raise

    # ------------------------------------------------------------------------------ error bodies
    def vendor_error(self, response: httpx.Response, during: str) -> ProviderError | None:
        status, raw = response.status_code, body_of(response)
        message = message_of(raw)
        if status == 400 and isinstance(raw, dict) and raw.get("code") == INVALID_PARAMETER:
            # Generic rules would drop the vendor's code; keep it for the detail page.
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{LABEL} refused the request: {message}",
                code=str(INVALID_PARAMETER),
                status=status,
                raw=raw,
            )
        if status == 401:
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{LABEL} refused the API key ({message or 'Invalid token'}). A workspace admin should check "
                f"the {LABEL} key in the workspace's provider settings (or SILICONFLOW_API_KEY).",
                code="auth",
                status=status,
                raw=raw,
                config=True,
            )
        if status == 403:
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{LABEL} refused access ({message or 'Forbidden'}). The account behind the {LABEL} key may "
                "not be allowed to use this model; it often needs real-name verification first.",
                code="forbidden",
                status=status,
                raw=raw,
                config=True,
            )
        if status == 404:
            # A wrong base URL, not a refused job: an admin can fix it, and a paid task must not be failed.
            return ProviderError(
                ErrorKind.PERMANENT,
                f"{LABEL} has no {response.request.url.path}: check SILICONFLOW_BASE_URL ({self.base_url}).",
                code="not_found",
                status=status,
                raw=raw,
                config=True,
            )
        return None


def data_uri(image: InputFile) -> str:
    """``data:image/<type>;base64,<data>`` from the studio's local copy (no space after the comma)."""
    mime = image.content_type if image.content_type.startswith("image/") else ""
    mime = mime or mimetypes.guess_type(image.path)[0] or "image/png"
    try:
        data = Path(image.path).read_bytes()
    except OSError as exc:  # before anything is sent: a plain refusal, not an unknown outcome
        raise ProviderError(
            ErrorKind.PERMANENT, f"The first frame could not be read: {exc}", code="input"
        ) from exc
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
