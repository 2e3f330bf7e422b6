"""Loopback emulator of jiekou.ai's Wan 2.1 text-to-video API ([003], its video API page).

``base_url`` = ``http://HOST:PORT`` (scheme://host:port, no path, like ``https://api.jiekou.ai``).

* ``POST /v3/async/wan-t2v`` — ``Authorization: Bearer``, ``Content-Type: application/json``; body
  ``{prompt, negative_prompt?, width?, height?, loras?, seed?, steps?, guidance_scale?, flow_shift?,
  enable_safety_checker?, fast_mode?, watermark?}`` with the seed-003 ranges → 200 ``{"task_id"}``.
* ``GET /v3/async/task-result?task_id=…`` → ``{"extra": {"seed", "debug_info"}, "task": {task_id, status,
  reason, task_type, eta, progress_percent}, "videos": [{video_url, video_url_ttl, video_type}],
  "images": [], "audios": []}``; status ``TASK_STATUS_QUEUED`` → ``TASK_STATUS_PROCESSING`` →
  ``TASK_STATUS_SUCCEED`` | ``TASK_STATUS_FAILED``.

Width/height: both must be one of the four pairs (832x480, 480x832, 1280x720, 720x1280); if either is
missing the vendor falls back to 832x480, and so does the emulator (a value that is present must still be
one of 480/720/832/1280).

Error bodies follow the Novita/PPIO family that jiekou's text matches: ``{"code": <http status>,
"reason": "<UPPER_CASE>", "message", "metadata": {}}`` — ``INVALID_REQUEST_BODY`` (400),
``FAILED_TO_AUTH`` (401), ``RATE_LIMIT_EXCEEDED`` (429) are seen in third-party clients of that family;
``TASK_NOT_FOUND`` (404), ``INTERNAL_SERVER_ERROR`` (500), ``SERVICE_UNAVAILABLE`` (503) and the
``task_type`` value ``WAN_T2V`` are the emulator's own choices. ``video_url_ttl`` is the string ``"3600"``.
"""

from __future__ import annotations

import math

from studio.providers.emulators.base import Emulator
from studio.providers.emulators.protocol import (
    Refusal,
    Reply,
    Request,
    is_bool,
    is_int,
    is_number,
    is_str,
    json_reply,
    type_name,
)
from studio.providers.emulators.state import Task

FIELDS = {
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "loras",
    "seed",
    "steps",
    "guidance_scale",
    "flow_shift",
    "enable_safety_checker",
    "fast_mode",
    "watermark",
}
DIMENSIONS = (480, 720, 832, 1280)
PAIRS = {(832, 480), (480, 832), (1280, 720), (720, 1280)}
FALLBACK = (832, 480)
SEED_RANGE = (-1, 9_999_999_999)
RANGES = {  # name -> (kind, low, high)
    "steps": ("integer", 1, 40),
    "guidance_scale": ("number", 0, 10),
    "flow_shift": ("number", 1, 10),
}
STATUS = {
    "queued": "TASK_STATUS_QUEUED",
    "running": "TASK_STATUS_PROCESSING",
    "succeeded": "TASK_STATUS_SUCCEED",
    "failed": "TASK_STATUS_FAILED",
}
REASONS = {
    400: "INVALID_REQUEST_BODY",
    401: "FAILED_TO_AUTH",
    404: "TASK_NOT_FOUND",
    429: "RATE_LIMIT_EXCEEDED",
}
VIDEO_URL_TTL = 3600


class JiekouEmulator(Emulator):
    vendor = "jiekou"
    base_path = ""
    result_ttl = float(VIDEO_URL_TTL)
    server_header = "nginx"

    def routes(self):
        return [
            ("POST", r"/v3/async/wan-t2v", self.submit),
            ("GET", r"/v3/async/task-result", self.result),
        ]

    # -------------------------------------------------------------- vendor shapes
    @staticmethod
    def error(status: int, message: str, reason: str | None = None) -> Reply:
        reason = reason or REASONS.get(status, "ERROR")
        return json_reply(status, {"code": status, "reason": reason, "message": message, "metadata": {}})

    def invalid(self, message: str) -> Refusal:
        return Refusal(self.error(400, message))

    def fault_reply(self, status: int) -> Reply:
        if status == 400:
            return self.error(400, "invalid request")
        if status == 429:
            return self.error(429, "Too many requests, RPM limit exceeded; try again later.")
        if status == 503:
            return self.error(503, "Server overloaded, try again later.", "SERVICE_UNAVAILABLE")
        return self.error(500, "Internal server error.", "INTERNAL_SERVER_ERROR")

    def not_found_reply(self, request: Request) -> Reply:
        return self.error(404, f"no route for {request.path}", "NOT_FOUND")

    def method_not_allowed_reply(self, request: Request) -> Reply:
        return self.error(405, f"{request.method} is not allowed on {request.path}", "METHOD_NOT_ALLOWED")

    def default_failure(self) -> tuple[str, str]:
        return "FAILED", "video generation failed"

    def auth_refusal(self) -> Reply:
        return self.error(401, "invalid or missing API key")

    # -------------------------------------------------------------- submit
    def submit(self, request: Request, _match) -> Reply:
        body = self.submit_opening(request)
        width, height, seed = self._validate(body)
        if seed == -1:
            seed = self.random_seed(2**32 - 1)
        task = self.create_task(body=body, model="wan-t2v", width=width, height=height, seed=seed)
        return self.submit_fault_after(json_reply(200, {"task_id": task.id}))

    def _validate(self, body: dict) -> tuple[int, int, int]:
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise self.invalid(f"unknown field(s): {', '.join(unknown)}")
        if "prompt" not in body:
            raise self.invalid("prompt is required")
        for name, low in (("prompt", 1), ("negative_prompt", 0)):
            if name in body:
                value = body[name]
                if not is_str(value):
                    raise self.invalid(f"{name} must be a string, not {type_name(value)}")
                if not low <= len(value) <= 2000:
                    raise self.invalid(f"{name} length must be in [{low}, 2000]")
        for name in ("width", "height"):
            if name in body and (not is_int(body[name]) or body[name] not in DIMENSIONS):
                raise self.invalid(f"{name} must be one of {', '.join(map(str, DIMENSIONS))}")
        if "width" in body and "height" in body:
            width, height = body["width"], body["height"]
            if (width, height) not in PAIRS:
                raise self.invalid(f"width {width} and height {height} are not a supported pair")
        else:
            width, height = FALLBACK
        self._check_loras(body.get("loras"))
        seed = body.get("seed", -1)
        if not is_int(seed) or not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
            raise self.invalid(f"seed must be an integer in [{SEED_RANGE[0]}, {SEED_RANGE[1]}]")
        for name, (kind, low, high) in RANGES.items():
            if name in body:
                value = body[name]
                ok_type = is_int(value) if kind == "integer" else is_number(value)
                if not ok_type or not low <= value <= high:
                    raise self.invalid(f"{name} must be an {kind} in [{low}, {high}]")
        for name in ("enable_safety_checker", "fast_mode", "watermark"):
            if name in body and not is_bool(body[name]):
                raise self.invalid(f"{name} must be a boolean, not {type_name(body[name])}")
        return width, height, seed

    def _check_loras(self, loras: object) -> None:
        if loras is None:
            return
        if not isinstance(loras, list) or len(loras) > 3:
            raise self.invalid("loras must be an array of at most 3 items")
        for index, lora in enumerate(loras):
            if not isinstance(lora, dict) or set(lora) != {"path", "scale"}:
                raise self.invalid(f"loras[{index}] must be an object with exactly path and scale")
            if not is_str(lora["path"]) or not lora["path"].strip():
                raise self.invalid(f"loras[{index}].path must be a non-empty string")
            if not is_number(lora["scale"]) or not 0 <= lora["scale"] <= 4.0:
                raise self.invalid(f"loras[{index}].scale must be a number in [0, 4.0]")

    # -------------------------------------------------------------- result
    def result(self, request: Request, _match) -> Reply:
        self.poll_opening(request)
        task_id = request.query_one("task_id")
        if not task_id:
            raise self.invalid("task_id is required")
        task = self.get_task(task_id)
        if task is None:
            return self.error(404, f"task {task_id} not found")
        return self.poll_fault_after(json_reply(200, self._result_body(task)))

    def _result_body(self, task: Task) -> dict:
        phase = task.phase()
        submit_ms = int(task.created_wall * 1000)
        debug = {
            "request_info": "",
            "submit_time_ms": str(submit_ms),
            "execute_time_ms": "",
            "complete_time_ms": "",
        }
        if phase != "queued":
            debug["execute_time_ms"] = str(int(task.scheduled_wall * 1000))
        if phase in ("succeeded", "failed"):
            debug["complete_time_ms"] = str(int(task.end_wall * 1000))
        body = {
            "extra": {"seed": str(task.seed), "debug_info": debug},
            "task": {
                "task_id": task.id,
                "status": STATUS[phase],
                "reason": (task.fail_message or "failed") if phase == "failed" else "",
                "task_type": "WAN_T2V",
                "eta": math.ceil(task.remaining()) if phase in ("queued", "running") else 0,
                "progress_percent": task.progress(),
            },
            "videos": [],
            "images": [],
            "audios": [],
        }
        if phase == "succeeded":
            body["videos"] = [
                {"video_url": self.result_url(task), "video_url_ttl": str(VIDEO_URL_TTL), "video_type": "mp4"}
            ]
        return body
