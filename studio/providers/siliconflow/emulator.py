"""Loopback emulator of SiliconFlow's video API ([001], its video API page).

``base_url`` = ``http://HOST:PORT/v1`` (like ``https://api.siliconflow.cn/v1``).

* ``POST /v1/video/submit`` — JSON ``{model, prompt, negative_prompt?, image_size, image?, seed?}``,
  ``Authorization: Bearer <key>``, ``Content-Type: application/json`` → 200 ``{"requestId"}`` with the
  ``x-siliconcloud-trace-id`` header.
* ``POST /v1/video/status`` — JSON ``{"requestId"}`` → ``{status, reason, position?, results}``; status
  ``InQueue`` → ``InProgress`` → ``Succeed`` | ``Failed``.

Errors: 401 with the JSON string ``"Invalid token"``; bad input 400 ``{"code": 20012, "message", "data": null}``;
rate limit 429 ``{"message": "...Details:RPM limit reached.", "data": null}``; overload 503
``{"code": 50505, ...}``; unknown path 404 ``404 page not found`` (text). The body of a 500 is not documented;
the emulator sends ``{"code": 50000, "message", "data": null}`` (its own choice).

Decisions where the sources are silent: ``image`` is required for the I2V model and refused for T2V;
``seed`` must be an integer in [0, 2^63-1]; an unknown ``requestId`` is a 400 (code 20012); only
``requestId`` is accepted in the status body. The output is exactly ``image_size`` (the I2V model is not
told to follow the image's aspect).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from studio.providers.emulators import media
from studio.providers.emulators.base import Emulator
from studio.providers.emulators.protocol import Refusal, Reply, Request, is_int, is_str, json_reply, type_name
from studio.providers.emulators.state import QUEUE_FRACTION, Task

T2V = "Wan-AI/Wan2.2-T2V-A14B"
I2V = "Wan-AI/Wan2.2-I2V-A14B"
MODELS = (T2V, I2V)
IMAGE_SIZES = {"1280x720": (1280, 720), "720x1280": (720, 1280), "960x960": (960, 960)}
SUBMIT_FIELDS = {"model", "prompt", "negative_prompt", "image_size", "image", "seed"}
SEED_MAX = 2**63 - 1
INVALID_PARAMETER = 20012

STATUS = {"queued": "InQueue", "running": "InProgress", "succeeded": "Succeed", "failed": "Failed"}


class SiliconFlowEmulator(Emulator):
    vendor = "siliconflow"
    base_path = "/v1"
    result_ttl = 600.0  # [001]: the result lives 10 minutes
    server_header = "nginx"

    def routes(self):
        return [
            ("POST", r"/v1/video/submit", self.submit),
            ("POST", r"/v1/video/status", self.status),
        ]

    # -------------------------------------------------------------- vendor shapes
    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)
        if request.path.startswith("/v1/"):
            reply.headers.setdefault("x-siliconcloud-trace-id", uuid.uuid4().hex)
        return reply

    def fault_reply(self, status: int) -> Reply:
        if status == 400:
            return json_reply(400, {"code": INVALID_PARAMETER, "message": "invalid parameter", "data": None})
        if status == 429:
            return json_reply(
                429,
                {"message": "Request rejected by rate limiting. Details:RPM limit reached.", "data": None},
            )
        if status == 503:
            return json_reply(
                503, {"code": 50505, "message": "Model service overloaded, try again later.", "data": None}
            )
        return json_reply(status, {"code": 50000, "message": "Internal server error.", "data": None})

    def default_failure(self) -> tuple[str, str]:
        return "Failed", "video generation failed inside the model service"

    def invalid(self, message: str) -> Refusal:
        return Refusal(json_reply(400, {"code": INVALID_PARAMETER, "message": message, "data": None}))

    def auth_refusal(self) -> Reply:
        return json_reply(401, "Invalid token")

    # -------------------------------------------------------------- submit
    def submit(self, request: Request, _match) -> Reply:
        body = self.submit_opening(request)
        width, height, seed = self._validate(body)
        task = self.create_task(
            body=body,
            model=body["model"],
            width=width,
            height=height,
            seed=seed if seed is not None else self.random_seed(),
        )
        return self.submit_fault_after(json_reply(200, {"requestId": task.id}))

    def new_task_id(self) -> str:
        return uuid.uuid4().hex

    def _validate(self, body: dict) -> tuple[int, int, int | None]:
        unknown = sorted(set(body) - SUBMIT_FIELDS)
        if unknown:
            raise self.invalid(f"unknown field(s): {', '.join(unknown)}")
        for name in ("model", "prompt", "image_size"):
            if name not in body:
                raise self.invalid(f"{name} is required")
        model = body["model"]
        if not is_str(model) or model not in MODELS:
            raise self.invalid(f"model must be one of {', '.join(MODELS)}")
        prompt = body["prompt"]
        if not is_str(prompt) or not prompt.strip():
            raise self.invalid("prompt must be a non-empty string")
        if "negative_prompt" in body and not is_str(body["negative_prompt"]):
            raise self.invalid(f"negative_prompt must be a string, not {type_name(body['negative_prompt'])}")
        size = body["image_size"]
        if not is_str(size) or size not in IMAGE_SIZES:
            raise self.invalid(f"image_size must be one of {', '.join(IMAGE_SIZES)}")
        seed = body.get("seed")
        if "seed" in body and (not is_int(seed) or not 0 <= seed <= SEED_MAX):
            raise self.invalid("seed must be an integer in [0, 9223372036854775807]")
        if model == I2V:
            if "image" not in body:
                raise self.invalid(f"image is required for {I2V}")
            self._check_image(body["image"])
        elif "image" in body:
            raise self.invalid(f"image is not accepted by {T2V}")
        width, height = IMAGE_SIZES[size]
        return width, height, seed

    def _check_image(self, value: object) -> None:
        if not is_str(value) or not value:
            raise self.invalid("image must be an image URL or a data:image/...;base64 URI")
        if value.startswith("data:"):
            try:
                mime, data = media.decode_data_uri(value)
            except media.MediaError as exc:
                raise self.invalid(f"image: {exc}") from None
            if not mime.startswith("image/"):
                raise self.invalid("image: the data URI must be data:image/<type>;base64,<data>")
            try:
                media.probe_image(data)
            except media.MediaError as exc:
                raise self.invalid(f"image: {exc}") from None
            return
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or not value.isascii() or " " in value:
            raise self.invalid("image must be an http(s) URL or a data:image/...;base64 URI")

    # -------------------------------------------------------------- status
    def status(self, request: Request, _match) -> Reply:
        self.poll_opening(request)
        body = self.json_object(request)
        unknown = sorted(set(body) - {"requestId"})
        if unknown:
            raise self.invalid(f"unknown field(s): {', '.join(unknown)}")
        request_id = body.get("requestId")
        if not is_str(request_id) or not request_id:
            raise self.invalid("requestId is required")
        task = self.get_task(request_id)
        if task is None:
            raise self.invalid("requestId not found")
        return self.poll_fault_after(json_reply(200, self._status_body(task)))

    def _status_body(self, task: Task) -> dict:
        phase = task.phase()
        out: dict = {"status": STATUS[phase], "reason": "", "results": None}
        if phase == "queued":
            out["position"] = self._queue_position(task)
        elif phase == "failed":
            out["reason"] = task.fail_message or "failed"
        elif phase == "succeeded":
            out["results"] = {
                "videos": [{"url": self.result_url(task)}],
                "timings": {"inference": round(task.duration * (1 - QUEUE_FRACTION), 3)},
                "seed": task.seed,
            }
        return out

    def _queue_position(self, task: Task) -> int:
        ahead = [t for t in self.tasks.values() if t.created < task.created and t.phase() == "queued"]
        return len(ahead) + 1
