"""Loopback emulator of DashScope (Alibaba Model Studio) video synthesis ([002] and [004], its video API pages).

``base_url`` = ``http://HOST:PORT/api/v1`` (like ``https://dashscope.aliyuncs.com/api/v1``).

* ``POST /api/v1/services/aigc/video-generation/video-synthesis`` — headers ``Authorization: Bearer``,
  ``Content-Type: application/json`` and ``X-DashScope-Async: enable``; body ``{model, input, parameters}``.
  → 200 ``{"request_id", "output": {"task_id", "task_status": "PENDING"}}``; errors
  ``{"request_id", "code", "message"}`` with the HTTP codes of the sheet.
* ``GET /api/v1/tasks/{task_id}`` → ``{"request_id", "output": {...}, "usage"?}``; an unknown (or
  forgotten / expired) id → 200 with ``task_status: UNKNOWN``.
* ``POST /api/v1/tasks/{task_id}/cancel`` — cancels a PENDING task. The vendor documents that queued tasks
  can be cancelled, but the exact path was not captured by our sources; this path and
  its answers (200 ``{"request_id"}``; 400 ``UnsupportedOperation`` when not PENDING) are the emulator's.

Models: the five image-to-video models of page [002] and ``wan2.1-vace-plus`` with the five VACE functions
of page [004]. The 2.1 models are named per region: ``wan2.1-i2v-plus``, ``wan2.1-i2v-turbo`` and
``wan2.1-vace-plus`` in Singapore, ``wanx2.1-...`` in Beijing. ``DashScopeEmulator(region="singapore")`` (or
``"beijing"``) refuses the other region's names with ``Model not exist.``; without a region (a host that
names none) both are taken.

Media: ``img_url`` may be an http(s) URL or a ``data:image/...;base64,`` URI; every VACE medium and
``audio_url`` must be an http(s) URL. The emulator really downloads each URL while it handles the submit
(bad or unreachable URL → 400 ``InvalidURL``; a file it cannot decode → 400
``InvalidParameter.DataInspection``; too large → 400 ``InvalidParameter``).

Accepted first, failed later: some checks are made only after the task exists, and the
task then ends ``FAILED`` with ``code: InvalidParameter`` once it leaves the queue: image width/height
outside 360-2000, a mask image or mask video whose size (or fps / length) differs from the video's,
``mask_frame_id`` beyond fps x duration + 1, video fps below 16, first + last clip longer than 3 s,
a motion ``video_url`` whose size differs from the frames/clips, custom audio outside 3-30 s.

Decisions where the sources are silent: unknown fields anywhere are refused (400 ``InvalidParameter``);
``template`` is taken by the two 2.1 models only (the vendor's effect list †; [002] says only some models
take effects) and only with the values of ``TEMPLATES``; default
resolution is 1080P for wan2.5 and wan2.2-plus, 720P for the others; the output size follows the
resolution tier's pixel count and the first frame's aspect (16:9, 9:16 and 1:1 use the usual tier sizes);
VACE ``video_edit`` follows the input video's size unless ``size`` is given; outpainting makes the canvas
``w*(left+right)/2 x h*(top+bottom)/2``; every video-derived size is scaled down to ≤720p; the i2v
``prompt`` / ``negative_prompt`` / VACE ``prompt`` beyond their limits are accepted (the vendor cuts them);
``parameters.duration`` for VACE must be 5 where listed and is refused for video_repainting (not listed).
A 503 fault answers code ``ServiceUnavailable`` (not in the sources).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from studio.providers.dashscope.emulator_vace import Plan, VaceRequests
from studio.providers.emulators import media
from studio.providers.emulators.base import Emulator
from studio.providers.emulators.fetch import FetchError, fetch_url
from studio.providers.emulators.protocol import (
    Refusal,
    Reply,
    Request,
    is_bool,
    is_int,
    is_str,
    json_reply,
    type_name,
)
from studio.providers.emulators.state import Task

SUBMIT_PATH = r"/api/v1/services/aigc/video-generation/video-synthesis"
SEED_MAX = 2147483647
MB = 1024 * 1024


@dataclass(frozen=True)
class I2VModel:
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: tuple[int, ...]
    audio: bool = False
    templates: bool = False  # takes input.template (an effect): [002] says only some models do


I2V_MODELS = {
    "wan2.5-i2v-preview": I2VModel(("480P", "720P", "1080P"), "1080P", (5, 10), audio=True),
    "wan2.2-i2v-flash": I2VModel(("480P", "720P", "1080P"), "720P", (5,)),
    "wan2.2-i2v-plus": I2VModel(("480P", "1080P"), "1080P", (5,)),
    "wanx2.1-i2v-plus": I2VModel(("720P",), "720P", (5,), templates=True),
    "wanx2.1-i2v-turbo": I2VModel(("480P", "720P"), "720P", (3, 4, 5), templates=True),
}
#: The effects [002] names: "flying" (magic float, its id on the page) and balloon inflation, whose id the
#: page does not give ("inflate" is the vendor's effect list's †). Any other value is refused.
TEMPLATES = ("flying", "inflate")
VACE_MODELS = ("wan2.1-vace-plus", "wanx2.1-vace-plus")
#: The 2.1 models are named per region: ``wan2.1-...`` on the international (Singapore) host, ``wanx2.1-...``
#: in Beijing ([002] is Beijing's page; [004] Singapore's). Each regional emulator takes only its own names;
#: one without a region (a host that names none, like a proxy) takes both.
REGION_NAMES = {  # the other region's name -> the name in I2V_MODELS / VACE_MODELS
    "singapore": {"wan2.1-i2v-plus": "wanx2.1-i2v-plus", "wan2.1-i2v-turbo": "wanx2.1-i2v-turbo"},
    "beijing": {},
}
NOT_IN_REGION = {
    "singapore": {"wanx2.1-i2v-plus", "wanx2.1-i2v-turbo", "wanx2.1-vace-plus"},
    "beijing": {"wan2.1-i2v-plus", "wan2.1-i2v-turbo", "wan2.1-vace-plus"},
}
I2V_IMAGE_MIMES = ("image/jpeg", "image/png", "image/bmp", "image/webp")
I2V_IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "BMP", "WEBP")

# Resolution tiers: the usual sizes for the three common aspects; other aspects keep the tier's pixel count.
TIER_SIZES = {
    "480P": {"16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624)},
    "720P": {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)},
    "1080P": {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1440, 1440)},
}
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}

STATUS = {
    "queued": "PENDING",
    "running": "RUNNING",
    "succeeded": "SUCCEEDED",
    "failed": "FAILED",
    "canceled": "CANCELED",
}
FAILURE_MESSAGES = {
    "InternalError": "An internal error occurred while generating the video; try again later.",
    "InternalError.Algo": "The algorithm failed while generating the video.",
    "DataInspectionFailed": "Input or output data may contain inappropriate content.",
    "IPInfringementSuspect": "Input or output data is suspected of infringing intellectual property.",
    "InvalidParameter": "A parameter is invalid.",
}


BEIJING = timezone(timedelta(hours=8))


def vendor_time(wall: float) -> str:
    """``2025-07-27 21:15:19.582``. The zone is not stated; Beijing time is used."""
    return datetime.fromtimestamp(wall, BEIJING).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class DashScopeEmulator(VaceRequests, Emulator):
    vendor = "dashscope"
    base_path = "/api/v1"
    result_ttl = 24 * 3600.0  # [002]: video_url is kept 24 h
    server_header = "istio-envoy"

    def routes(self):
        return [
            ("POST", SUBMIT_PATH, self.submit),
            ("GET", r"/api/v1/tasks/(?P<task_id>[^/]+)", self.query),
            ("POST", r"/api/v1/tasks/(?P<task_id>[^/]+)/cancel", self.cancel),
        ]

    # -------------------------------------------------------------- vendor shapes
    @staticmethod
    def error(status: int, code: str, message: str) -> Reply:
        return json_reply(status, {"request_id": str(uuid.uuid4()), "code": code, "message": message})

    def invalid(self, message: str, code: str = "InvalidParameter") -> Refusal:
        return Refusal(self.error(400, code, message))

    def fault_reply(self, status: int) -> Reply:
        if status == 400:
            return self.error(400, "InvalidParameter", "A parameter is invalid.")
        if status == 429:
            return self.error(
                429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later."
            )
        if status == 503:
            return self.error(
                503, "ServiceUnavailable", "The service is temporarily unavailable, try again later."
            )
        return self.error(500, "InternalError", "An internal error occurred, please try again later.")

    def not_found_reply(self, request: Request) -> Reply:
        return self.error(404, "NotFound", f"Not found: {request.path}")

    def method_not_allowed_reply(self, request: Request) -> Reply:
        return self.error(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.path}")

    def default_failure(self) -> tuple[str, str]:
        return "InternalError", FAILURE_MESSAGES["InternalError"]

    # Per key: 20 task queries a second; 2 submits a second of the models that run 2 at once (†).
    RATE_LIMITS = {
        "query": 20,
        **{f"submit:{model}": 2 for model in (*VACE_MODELS, "wanx2.1-i2v-plus", "wanx2.1-i2v-turbo")},
    }

    def __init__(self, *args, region: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial_region = self.region = region

    def reset(self) -> None:
        super().reset()
        self.region = self.initial_region

    def model_named(self, name: object) -> str | None:
        """The model a name asks for on this region's host (``None``: no such model here)."""
        if not is_str(name):
            return None
        if self.region is not None and name in NOT_IN_REGION[self.region]:
            return None
        name = {**REGION_NAMES["singapore"], **REGION_NAMES["beijing"]}.get(name, name)
        return name if name in I2V_MODELS or name in VACE_MODELS else None

    def auth_refusal(self) -> Reply:
        return self.error(401, "InvalidApiKey", "Invalid API-key provided.")

    # -------------------------------------------------------------- submit
    def submit(self, request: Request, _match) -> Reply:
        if (
            self.bearer_ok(request)
            and (request.header("x-dashscope-async") or "").strip().lower() != "enable"
        ):
            return self.error(403, "AccessDenied", "current user api does not support synchronous calls")
        body = self.submit_opening(request)
        unknown = sorted(set(body) - {"model", "input", "parameters"})
        if unknown:
            raise self.invalid(f"Unknown field(s) in the request body: {', '.join(unknown)}")
        model = body.get("model")
        if model in (None, ""):
            raise self.invalid("Required parameter model is missing.", "BadRequest.EmptyModel")
        model = self.model_named(model)
        if model is None:
            raise self.invalid("Model not exist.")
        inp = body.get("input")
        if inp is None or inp == {}:
            raise self.invalid("Required parameter input is missing.", "BadRequest.EmptyInput")
        if not isinstance(inp, dict):
            raise self.invalid(f"input must be an object, not {type_name(inp)}")
        params = body.get("parameters", {})
        if not isinstance(params, dict):
            raise self.invalid(f"parameters must be an object, not {type_name(params)}")

        plan = self._i2v(model, inp, params) if model in I2V_MODELS else self._vace(model, inp, params, body)
        if self.over_rate(f"submit:{model}"):
            return self.fault_reply(429)  # a well-formed request over the model's rate: no task is made
        task = self.create_task(
            body=body,
            model=model,
            width=plan.width,
            height=plan.height,
            audio=plan.audio,
            seed=params.get("seed", self.random_seed(SEED_MAX)),
            deferred_failure=plan.deferred,
            info=plan.info,
        )
        reply = json_reply(
            200, {"request_id": str(uuid.uuid4()), "output": {"task_id": task.id, "task_status": "PENDING"}}
        )
        return self.submit_fault_after(reply)

    # -------------------------------------------------------------- shared field checks
    def _check_keys(self, obj: dict, allowed: set[str], where: str, model: str) -> None:
        unknown = sorted(set(obj) - allowed)
        if unknown:
            raise self.invalid(f"{where}.{unknown[0]} is not a supported parameter of {model}")

    def _common_parameters(self, params: dict) -> None:
        for name in ("prompt_extend", "watermark", "audio"):
            if name in params and not is_bool(params[name]):
                raise self.invalid(f"parameters.{name} must be a boolean, not {type_name(params[name])}")
        if "seed" in params and (not is_int(params["seed"]) or not 0 <= params["seed"] <= SEED_MAX):
            raise self.invalid(f"parameters.seed must be an integer in [0, {SEED_MAX}]")

    def _text(self, obj: dict, name: str, *, required: bool) -> str | None:
        if name not in obj:
            if required:
                raise self.invalid(f"input.{name} is required")
            return None
        value = obj[name]
        if not is_str(value):
            raise self.invalid(f"input.{name} must be a string, not {type_name(value)}")
        if required and not value.strip():
            raise self.invalid(f"input.{name} must not be empty")
        return value

    def _url_field(self, obj: dict, name: str) -> str | None:
        if name not in obj:
            return None
        value = obj[name]
        if not is_str(value) or not value:
            raise self.invalid(f"input.{name} must be a non-empty URL string")
        return value

    def _download(self, name: str, url: str, max_bytes: int) -> bytes:
        try:
            return fetch_url(url, max_bytes=max_bytes)
        except FetchError as exc:
            if exc.kind == "too_large":
                raise self.invalid(f"{name}: {exc.message}") from None
            raise self.invalid(f"{name}: {exc.message}", "InvalidURL") from None

    def _image(self, name: str, url: str, formats: tuple[str, ...]) -> media.ImageInfo:
        data = self._download(name, url, 10 * MB)
        try:
            info = media.probe_image(data)
        except media.MediaError as exc:
            raise self.invalid(f"{name}: {exc}", "InvalidParameter.DataInspection") from None
        if info.format not in formats:
            raise self.invalid(
                f"{name}: image format {info.format} is not supported", "InvalidParameter.DataInspection"
            )
        return info

    def _video(self, name: str, url: str) -> media.VideoInfo:
        data = self._download(name, url, 50 * MB)
        try:
            info = media.probe_video(data)
        except media.MediaError as exc:
            raise self.invalid(f"{name}: {exc}", "InvalidParameter.DataInspection") from None
        if not info.is_mp4:
            raise self.invalid(f"{name}: the video must be an MP4 file", "InvalidParameter.DataInspection")
        return info

    @staticmethod
    def _prompt_info(inp: dict, params: dict) -> dict:
        info: dict = {}
        prompt = inp.get("prompt")
        if prompt:
            info["orig_prompt"] = prompt
            if params.get("prompt_extend", True):
                info["actual_prompt"] = (
                    f"{prompt} The shot is steady and cinematic, with natural light and rich detail."
                )
        return info

    # -------------------------------------------------------------- image to video
    def _i2v(self, model: str, inp: dict, params: dict) -> Plan:
        spec = I2V_MODELS[model]
        input_keys = {"img_url", "prompt", "negative_prompt"} | ({"audio_url"} if spec.audio else set())
        input_keys |= {"template"} if spec.templates else set()
        param_keys = {"resolution", "duration", "prompt_extend", "watermark", "seed"} | (
            {"audio"} if spec.audio else set()
        )
        self._check_keys(inp, input_keys, "input", model)
        self._check_keys(params, param_keys, "parameters", model)
        self._text(inp, "prompt", required=False)
        self._text(inp, "negative_prompt", required=False)
        template = self._text(inp, "template", required=False)
        if template is not None and template not in TEMPLATES:
            raise self.invalid(f"input.template {template!r} is not a known effect template")
        img_url = self._url_field(inp, "img_url")
        if img_url is None:
            raise self.invalid("input.img_url is required")
        audio_url = self._url_field(inp, "audio_url")
        resolution = params.get("resolution", spec.default_resolution)
        if not is_str(resolution) or resolution not in spec.resolutions:
            raise self.invalid(
                f"parameters.resolution must be one of {', '.join(spec.resolutions)} for {model}"
            )
        duration = params.get("duration", 5)
        if not is_int(duration) or duration not in spec.durations:
            raise self.invalid(
                f"parameters.duration must be one of {', '.join(map(str, spec.durations))} for {model}"
            )
        self._common_parameters(params)

        image = self._i2v_image(img_url)
        deferred = None
        if not (360 <= image.width <= 2000 and 360 <= image.height <= 2000):
            deferred = (
                "InvalidParameter",
                "input.img_url: image width and height must be between 360 and 2000 pixels",
            )
        audio = False
        if spec.audio:
            audio = True if audio_url else bool(params.get("audio", True))
            if audio_url:
                sound = self._audio(audio_url)
                if deferred is None and not 3.0 <= sound.duration <= 30.0:
                    deferred = ("InvalidParameter", "input.audio_url: the audio must last 3 to 30 seconds")
        width, height = tier_size(resolution, image.width, image.height)
        info = self._prompt_info(inp, params)
        info.update(kind="i2v", resolution=resolution, duration=duration, template=template)
        info["usage"] = {
            "video_count": 1,
            "video_duration": duration,
            "video_ratio": "standard",
            "duration": duration,
            "SR": int(resolution[:-1]),
        }
        return Plan(width, height, audio, deferred, info)

    def _i2v_image(self, img_url: str) -> media.ImageInfo:
        if img_url.startswith("data:"):
            try:
                mime, data = media.decode_data_uri(img_url)
            except media.MediaError as exc:
                raise self.invalid(f"input.img_url: {exc}") from None
            if mime not in I2V_IMAGE_MIMES:
                raise self.invalid(
                    f"input.img_url: MIME type {mime} is not one of {', '.join(I2V_IMAGE_MIMES)}"
                )
            if len(data) > 10 * MB:
                raise self.invalid("input.img_url: the image is larger than 10 MB")
            try:
                info = media.probe_image(data)
            except media.MediaError as exc:
                raise self.invalid(f"input.img_url: {exc}", "InvalidParameter.DataInspection") from None
            if info.format not in I2V_IMAGE_FORMATS:
                raise self.invalid(
                    f"input.img_url: image format {info.format} is not supported",
                    "InvalidParameter.DataInspection",
                )
            return info
        return self._image("input.img_url", img_url, I2V_IMAGE_FORMATS)

    def _audio(self, url: str) -> media.AudioInfo:
        data = self._download("input.audio_url", url, 15 * MB)
        try:
            info = media.probe_audio(data)
        except media.MediaError as exc:
            raise self.invalid(f"input.audio_url: {exc}", "InvalidParameter.DataInspection") from None
        if not {"wav", "mp3"} & set(info.format.split(",")):
            raise self.invalid(
                "input.audio_url: the audio must be wav or mp3", "InvalidParameter.DataInspection"
            )
        return info

    # -------------------------------------------------------------- task query and cancel
    def query(self, request: Request, match) -> Reply:
        self.poll_opening(request)
        if self.over_rate("query"):
            return self.fault_reply(429)
        task_id = match["task_id"]
        task = self.get_task(task_id)
        if task is None:
            body = {"request_id": str(uuid.uuid4()), "output": {"task_id": task_id, "task_status": "UNKNOWN"}}
        else:
            body = self._task_body(task)
        return self.poll_fault_after(json_reply(200, body))

    def _task_body(self, task: Task) -> dict:
        phase = task.phase()
        output: dict = {
            "task_id": task.id,
            "task_status": STATUS[phase],
            "submit_time": vendor_time(task.created_wall),
        }
        if phase in ("running", "succeeded", "failed"):
            output["scheduled_time"] = vendor_time(task.scheduled_wall)
        if phase in ("succeeded", "failed", "canceled"):
            output["end_time"] = vendor_time(task.end_wall)
        body: dict = {"request_id": str(uuid.uuid4()), "output": output}
        if phase == "succeeded":
            output["video_url"] = self.result_url(task)
            for key in ("orig_prompt", "actual_prompt"):
                if key in task.info:
                    output[key] = task.info[key]
            body["usage"] = task.info.get("usage", {"video_count": 1})
        elif phase == "failed":
            output["code"] = task.fail_code
            output["message"] = task.fail_message or FAILURE_MESSAGES.get(
                task.fail_code or "", "The task failed."
            )
        elif "orig_prompt" in task.info:
            output["orig_prompt"] = task.info["orig_prompt"]
        return body

    def cancel(self, request: Request, match) -> Reply:
        self.require_bearer(request)
        task = self.get_task(match["task_id"])
        if task is None:
            return self.error(400, "InvalidParameter", "The task does not exist or has expired.")
        with self._lock:
            if task.phase() != "queued":
                return self.error(
                    400, "UnsupportedOperation", "Only a task in PENDING status can be canceled."
                )
            task.canceled_at = time.monotonic()
        return json_reply(200, {"request_id": str(uuid.uuid4())})

    def failure_message(self, code: str) -> str:
        return FAILURE_MESSAGES.get(code, "The task failed.")


def tier_size(resolution: str, image_width: int, image_height: int) -> tuple[int, int]:
    """Output size of an i2v job: the tier's pixel count at the first frame's aspect."""
    ratio = image_width / image_height
    for name, aspect in ASPECTS.items():
        if abs(ratio / aspect - 1) <= 0.03:
            return TIER_SIZES[resolution][name]
    area = TIER_SIZES[resolution]["16:9"][0] * TIER_SIZES[resolution]["16:9"][1]
    width = math.sqrt(area * ratio)
    height = width / ratio
    return max(16, round(width / 16) * 16), max(16, round(height / 16) * 16)
