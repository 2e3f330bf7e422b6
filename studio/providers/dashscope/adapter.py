"""Alibaba DashScope (Model Studio): Wan image-to-video and VACE editing over the async task API.

Facts: the vendor's pages [002] (image to video) and [004] (wan2.1-vace-plus).

- Submit ``POST {base}/services/aigc/video-generation/video-synthesis`` with ``X-DashScope-Async: enable``
  (HTTP calls are async only [002]); body ``{"model", "input", "parameters"}``; the answer carries
  ``output.task_id`` and a ``request_id`` we keep as the trace id.
- Poll ``GET {base}/tasks/{task_id}``; task ids and result URLs live 24 h [002].
- Which field goes where comes from the catalogue (``Model.wire``, ``Param.wire``, ``MediaSlot.wire``), so
  only the fields the model documents are ever sent, and only when they have a value.
- The i2v first frame travels as a data URI of the local file [002]. Every other medium (VACE inputs,
  wan2.5's audio) is fetched by the vendor, so it needs the studio's signed public URL (``InputFile.url``).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from studio.providers import catalog
from studio.providers.base import (
    ErrorKind,
    HttpProvider,
    InputFile,
    JobSpec,
    Progress,
    ProviderError,
    RemoteState,
    Submitted,
    body_of,
    data_uri,
    retry_after_seconds,
)
from studio.providers.buckets import Rate
from studio.providers.dashscope.vace import VACE_TASKS

log = logging.getLogger(__name__)

SUBMIT_PATH = "/services/aigc/video-generation/video-synthesis"

#: ``output.task_status`` -> our state. UNKNOWN: the id does not exist or has expired (>24 h) †.
STATES = {
    "PENDING": RemoteState.QUEUED,
    "RUNNING": RemoteState.RUNNING,
    "SUCCEEDED": RemoteState.SUCCEEDED,
    "FAILED": RemoteState.FAILED,
    "CANCELED": RemoteState.CANCELED,
    "UNKNOWN": RemoteState.LOST,
}

T, P, U = ErrorKind.TRANSIENT, ErrorKind.PERMANENT, ErrorKind.UNKNOWN_OUTCOME
#: ``code`` (exact, else the part before the first dot) -> (kind, for the admin?, what it means).
#: Codes not listed fall back to the generic HTTP rules in base.py (408 and every 5xx on submit: unknown).
ERRORS: dict[str, tuple[ErrorKind, bool, str]] = {
    "InvalidParameter": (P, False, "DashScope refused a parameter"),
    "InvalidURL": (P, False, "DashScope could not fetch an input URL"),
    "DataInspectionFailed": (P, False, "DashScope's content moderation rejected the input or the output"),
    "IPInfringementSuspect": (P, False, "DashScope suspects an intellectual-property infringement"),
    "BadRequest": (P, False, "DashScope could not read the request"),
    "UnsupportedOperation": (P, False, "DashScope does not support this operation"),
    "InvalidApiKey": (P, True, "DashScope refused the API key (a key works on its own region's host only)"),
    "AccessDenied": (P, True, "DashScope denied access (is the model activated for this key?)"),
    "Arrearage": (P, True, "DashScope says the account is overdue"),
    "Throttling": (T, False, "DashScope is rate-limiting this account"),
    # Nothing says a 500 on submit made no task, and [002] warns against creating tasks repeatedly: on a
    # submit it is an unknown outcome (a person decides), on a poll "ask again". In a FAILED task the old
    # task is over: a person may retry it as a new job.
    "InternalError": (U, False, "DashScope had an internal error"),
}
#: The account's quota is used up: a long pause, and a word for the admin.
ALLOCATION_QUOTA_RETRY = 300.0

#: VACE functions whose docs list ``parameters.duration`` (fixed at 5) [004]; repainting does not.
VACE_DURATION_FUNCTIONS = ("image_reference", "video_edit", "video_extension", "video_outpainting")
I2V_MIMES = ("image/jpeg", "image/png", "image/bmp", "image/webp")  # [002]


def region_of(base_url: str) -> str | None:
    """The DashScope region a base URL belongs to, or None for a host we don't recognise (a proxy)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host.startswith("dashscope-intl.") or ".ap-southeast-1." in host:
        return "singapore"
    if host == "dashscope.aliyuncs.com" or ".cn-beijing." in host:
        return "beijing"
    if host.startswith("dashscope-us."):
        return "virginia"
    return None


def _lookup(code: str) -> tuple[ErrorKind, bool, str] | None:
    return ERRORS.get(code) or ERRORS.get(code.split(".", 1)[0])


def _explain(code: str, message: str) -> str:
    found = _lookup(code) if code else None
    if found is None:
        return f"DashScope reported {code or 'an error'}: {message or 'no details'}."
    return f"{found[2]}: {message}" if message else f"{found[2]}."


def _task_id(reply: dict) -> Any:
    output = reply.get("output")
    return output.get("task_id") if isinstance(output, dict) else None


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


class DashScopeProvider(HttpProvider):
    name = "dashscope"
    label = "DashScope"
    user_agent = "studio/0.1 (dashscope)"
    # Tasks take 1-5 min, the vendor advises ~15 s between queries, and one account
    # has 20 queries/s for all its jobs: first poll at 10 s, then 5 s and 10 s later, then every 15 s.
    first_poll_delay = 10.0
    poll_steps: ClassVar[tuple[float, ...]] = (5.0, 10.0)
    max_poll_interval = 15.0
    task_ttl_seconds = 24 * 3600.0  # [002]
    # These models run at most 2 tasks at once per account; more only earns 429s.
    max_running: ClassVar[dict[str, int]] = {
        "wan2.1-vace-plus": 2,
        "wanx2.1-i2v-plus": 2,
        "wanx2.1-i2v-turbo": 2,
    }
    # Task queries: 20 a second per account; the same models take 2 submits a second (the vendor's
    # public rate-limit pages, not the seeds: our fact sheet marks them †).
    poll_rate: ClassVar[Rate | None] = Rate.at_most(20)
    submit_rates: ClassVar[dict[str, Rate]] = {model: Rate.at_most(2) for model in max_running}

    keep_vendor_code = True  # an unlisted DashScope code is kept for the detail page

    # ------------------------------------------------------------------------------------ errors
    def vendor_code(self, raw: Any) -> str:
        return str(raw.get("code") or "") if isinstance(raw, dict) else ""

    def vendor_error(self, response: httpx.Response, during: str) -> ProviderError | None:
        body = body_of(response)
        code = str(body.get("code") or "") if isinstance(body, dict) else ""
        found = _lookup(code) if code else None
        if found is None:
            return None
        kind, config, _ = found
        if kind == U and during != "submit":
            kind = T  # polling is idempotent: a server error there only means "ask again later"
        message = _explain(code, str(body.get("message") or ""))
        retry_after = retry_after_seconds(response)
        if code == "Throttling.AllocationQuota":
            message += " The account's quota is used up; the workspace admin may need to raise it."
            retry_after = max(retry_after or 0.0, ALLOCATION_QUOTA_RETRY)
        return ProviderError(
            kind,
            message,
            code=code,
            status=response.status_code,
            raw=body,
            retry_after=retry_after,
            config=config,
        )

    # ------------------------------------------------------------------------------------ submit
    def region(self) -> str | None:
        return self.options.get("region") or region_of(self.base_url)

    def build_body(self, spec: JobSpec) -> dict[str, Any]:
        """The request body: exactly the documented fields of this model and function that have a value."""
        model = catalog.get_model("dashscope", spec.model)
        task = spec.task
        body: dict[str, Any] = {"model": model.wire_model(self.region()), "input": {}, "parameters": {}}

        def put(path: str, value: Any) -> None:
            if path and not _blank(value):
                section, key = path.split(".", 1)
                body[section][key] = value

        size = catalog.parse_size(spec.size) if spec.size and model.sizes_for(task) else None
        fields = {
            "task": task,
            "prompt": spec.prompt.strip(),
            "negative_prompt": spec.negative_prompt.strip(),
            "size": f"{size[0]}*{size[1]}" if size else None,
            "resolution": spec.resolution,
            "duration": spec.duration,
            "seed": spec.seed,
        }
        if task in VACE_TASKS and task not in VACE_DURATION_FUNCTIONS:
            fields["duration"] = None
        for name, path in model.wire:
            put(path, fields.get(name))
        for name, param in model.params_for(task).items():
            put(param.wire, spec.params.get(name))
        for name, slot in model.media_for(task).items():
            files = spec.inputs.get(name) or []
            if not files:
                continue
            if slot.wire == "input.img_url":
                put(slot.wire, data_uri(files[0], label="DashScope", allowed=I2V_MIMES))
                continue
            urls = [self._public_url(f, slot) for f in files]
            put(slot.wire, urls if slot.is_list else urls[0])
        if "audio_url" in body["input"]:
            body["parameters"].pop("audio", None)  # ignored when a file is given [002]
        return body

    def _public_url(self, file: InputFile, slot: catalog.MediaSlot) -> str:
        if file.url:
            return file.url
        raise ProviderError(
            P,
            f"DashScope fetches the {slot.title} itself, so it needs a public URL, and this job has none: "
            "the studio signs input URLs only for models marked needs_public_urls, under "
            "STUDIO_PUBLIC_BASE_URL. Nothing was sent.",
            code="no_public_url",
            config=True,
        )

    def submit(self, spec: JobSpec) -> Submitted:
        try:
            body = self.build_body(spec)
        except (catalog.CatalogError, OSError) as exc:  # nothing was sent: not an unknown outcome
            raise ProviderError(
                P, f"The job could not be prepared for DashScope: {exc}", code="setup"
            ) from exc
        return self.submit_json(
            SUBMIT_PATH,
            body,
            _task_id,
            trace_id=lambda response, reply: str(reply.get("request_id") or ""),
            headers={"Content-Type": "application/json", "X-DashScope-Async": "enable"},
        )

    # -------------------------------------------------------------------------------------- poll
    def poll(self, external_id: str) -> Progress:
        response = self._call("GET", f"/tasks/{quote(external_id, safe='')}", during="poll")
        reply = self.json(response, "poll")
        output = reply.get("output") if isinstance(reply, dict) else None
        if not isinstance(output, dict):
            raise ProviderError(
                T, "DashScope's task reply has no output.", code="malformed", status=200, raw=reply
            )
        status = str(output.get("task_status") or "")
        state = STATES.get(status)
        if state is None:  # a status we have never seen: keep asking until the id's lifetime ends
            log.warning("DashScope task %s has an unknown status %r", external_id, status)
            return Progress(RemoteState.QUEUED, raw=reply)
        url, code, message = str(output.get("video_url") or ""), "", ""
        if state == RemoteState.SUCCEEDED and not url:
            state, code, message = (
                RemoteState.FAILED,
                "no_result",
                "DashScope finished but gave no video URL.",
            )
        elif state == RemoteState.FAILED:  # terminal, InternalError too: a retry is a new job
            code = str(output.get("code") or "")
            message = _explain(code, str(output.get("message") or ""))
        elif state == RemoteState.LOST:  # the engine records it as "lost"
            message = "DashScope no longer knows this task (task ids live 24 hours)."
        # [002]: usage (counted for successful tasks only) and, with prompt_extend, the prompt it used
        report = {k: output[k] for k in ("orig_prompt", "actual_prompt") if output.get(k)}
        if state == RemoteState.SUCCEEDED and isinstance(reply.get("usage"), dict):
            report["usage"] = reply["usage"]
        return Progress(
            state,
            result_url=url if state == RemoteState.SUCCEEDED else "",
            error_code=code,
            error_message=message,
            actual_prompt=str(output.get("actual_prompt") or ""),
            raw=reply,
            report=report if state == RemoteState.SUCCEEDED else {},
        )

    # ------------------------------------------------------------------------------- cancel, key
    def cancel(self, external_id: str) -> bool:
        # The vendor documents cancelling tasks that are still queued, but our sources
        # did not capture the path: this one is the emulator's (POST /tasks/{id}/cancel).
        try:
            self._call("POST", f"/tasks/{quote(external_id, safe='')}/cancel", during="cancel")
        except ProviderError as exc:
            if exc.kind == P and not exc.config:
                return False  # e.g. UnsupportedOperation: the task already left the queue
            raise
        return True

    key_check_call = ("GET", "/tasks/studio-key-check", {})  # answered 200 UNKNOWN when the key works
