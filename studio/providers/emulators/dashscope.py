"""Loopback emulator of DashScope (Alibaba Model Studio) video synthesis (PROVIDERS.md §2.2, seeds 002, 004).

``base_url`` = ``http://HOST:PORT/api/v1`` (like ``https://dashscope.aliyuncs.com/api/v1``).

* ``POST /api/v1/services/aigc/video-generation/video-synthesis`` — headers ``Authorization: Bearer``,
  ``Content-Type: application/json`` and ``X-DashScope-Async: enable``; body ``{model, input, parameters}``.
  → 200 ``{"request_id", "output": {"task_id", "task_status": "PENDING"}}``; errors
  ``{"request_id", "code", "message"}`` with the HTTP codes of the sheet.
* ``GET /api/v1/tasks/{task_id}`` → ``{"request_id", "output": {...}, "usage"?}``; an unknown (or
  forgotten / expired) id → 200 with ``task_status: UNKNOWN``.
* ``POST /api/v1/tasks/{task_id}/cancel`` — cancels a PENDING task. The vendor documents that queued tasks
  can be cancelled, but the exact path was not captured by our sources (PROVIDERS.md §6); this path and
  its answers (200 ``{"request_id"}``; 400 ``UnsupportedOperation`` when not PENDING) are the emulator's.

Models: the five image-to-video models of seed 002 and ``wan2.1-vace-plus`` (Beijing name
``wanx2.1-vace-plus`` accepted too) with the five VACE functions of seed 004.

Media: ``img_url`` may be an http(s) URL or a ``data:image/...;base64,`` URI; every VACE medium and
``audio_url`` must be an http(s) URL. The emulator really downloads each URL while it handles the submit
(bad or unreachable URL → 400 ``InvalidURL``; a file it cannot decode → 400
``InvalidParameter.DataInspection``; too large → 400 ``InvalidParameter``).

Accepted first, failed later (PROVIDERS.md §7.3): some checks are made only after the task exists, and the
task then ends ``FAILED`` with ``code: InvalidParameter`` once it leaves the queue: image width/height
outside 360-2000, a mask image or mask video whose size (or fps / length) differs from the video's,
``mask_frame_id`` beyond fps x duration + 1, video fps below 16, first + last clip longer than 3 s,
a motion ``video_url`` whose size differs from the frames/clips, custom audio outside 3-30 s.

Decisions where the sources are silent: unknown fields anywhere are refused (400 ``InvalidParameter``);
``template`` accepts any lower-case identifier on any i2v model (only ``flying`` is sourced); default
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
import re
import time
import uuid
from dataclasses import dataclass

from . import media
from .base import (
    Emulator,
    FetchError,
    Refusal,
    Reply,
    Request,
    Task,
    fetch_url,
    is_bool,
    is_int,
    is_number,
    is_str,
    json_reply,
    type_name,
    vendor_time,
)

SUBMIT_PATH = r"/api/v1/services/aigc/video-generation/video-synthesis"
SEED_MAX = 2147483647
MB = 1024 * 1024


@dataclass(frozen=True)
class I2VModel:
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: tuple[int, ...]
    audio: bool = False


I2V_MODELS = {
    "wan2.5-i2v-preview": I2VModel(("480P", "720P", "1080P"), "1080P", (5, 10), audio=True),
    "wan2.2-i2v-flash": I2VModel(("480P", "720P", "1080P"), "720P", (5,)),
    "wan2.2-i2v-plus": I2VModel(("480P", "1080P"), "1080P", (5,)),
    "wanx2.1-i2v-plus": I2VModel(("720P",), "720P", (5,)),
    "wanx2.1-i2v-turbo": I2VModel(("480P", "720P"), "720P", (3, 4, 5)),
}
VACE_MODELS = ("wan2.1-vace-plus", "wanx2.1-vace-plus")
I2V_IMAGE_MIMES = ("image/jpeg", "image/png", "image/bmp", "image/webp")
I2V_IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "BMP", "WEBP")
VACE_IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "BMP", "TIFF", "WEBP")

# Resolution tiers: the usual sizes for the three common aspects; other aspects keep the tier's pixel count.
TIER_SIZES = {
    "480P": {"16:9": (832, 480), "9:16": (480, 832), "1:1": (624, 624)},
    "720P": {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (960, 960)},
    "1080P": {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1440, 1440)},
}
ASPECTS = {"16:9": 16 / 9, "9:16": 9 / 16, "1:1": 1.0}

FUNCTIONS = ("image_reference", "video_repainting", "video_edit", "video_extension", "video_outpainting")
VACE_SIZES = {
    "1280*720": (1280, 720),
    "720*1280": (720, 1280),
    "960*960": (960, 960),
    "832*1088": (832, 1088),
    "1088*832": (1088, 832),
}
COMMON_PARAMETERS = {"prompt_extend", "seed", "watermark"}
VACE_INPUT = {
    "image_reference": {"ref_images_url"},
    "video_repainting": {"video_url", "ref_images_url"},
    "video_edit": {"video_url", "ref_images_url", "mask_image_url", "mask_frame_id", "mask_video_url"},
    "video_extension": {"first_frame_url", "last_frame_url", "first_clip_url", "last_clip_url", "video_url"},
    "video_outpainting": {"video_url"},
}
VACE_PARAMETERS = {
    "image_reference": {"obj_or_bg", "size", "duration"},
    "video_repainting": {"control_condition", "strength"},
    "video_edit": {"control_condition", "mask_type", "expand_ratio", "expand_mode", "size", "duration"},
    "video_extension": {"control_condition", "duration"},
    "video_outpainting": {"top_scale", "bottom_scale", "left_scale", "right_scale", "duration"},
}
REPAINT_CONDITIONS = ("posebodyface", "posebody", "depth", "scribble")
EDIT_CONDITIONS = ("", "posebodyface", "depth")
EXTENSION_CONDITIONS = ("", *REPAINT_CONDITIONS)  # values not listed for this function: the repainting set

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


class DashScopeEmulator(Emulator):
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

    def _auth(self, request: Request) -> None:
        if not self.bearer_ok(request):
            raise Refusal(self.error(401, "InvalidApiKey", "Invalid API-key provided."))

    # -------------------------------------------------------------- submit
    def submit(self, request: Request, _match) -> Reply:
        self._auth(request)
        if (request.header("x-dashscope-async") or "").strip().lower() != "enable":
            return self.error(403, "AccessDenied", "current user api does not support synchronous calls")
        refused = self.submit_fault_before()
        if refused is not None:
            return refused
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise self.invalid("Content-Type must be application/json")
        try:
            body = self.json_body(request)
        except ValueError:
            raise self.invalid("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise self.invalid("The request body must be a JSON object.")
        unknown = sorted(set(body) - {"model", "input", "parameters"})
        if unknown:
            raise self.invalid(f"Unknown field(s) in the request body: {', '.join(unknown)}")
        model = body.get("model")
        if model in (None, ""):
            raise self.invalid("Required parameter model is missing.", "BadRequest.EmptyModel")
        if not is_str(model) or (model not in I2V_MODELS and model not in VACE_MODELS):
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
    def _i2v(self, model: str, inp: dict, params: dict) -> _Plan:
        spec = I2V_MODELS[model]
        input_keys = {"img_url", "prompt", "negative_prompt", "template"} | (
            {"audio_url"} if spec.audio else set()
        )
        param_keys = {"resolution", "duration", "prompt_extend", "watermark", "seed"} | (
            {"audio"} if spec.audio else set()
        )
        self._check_keys(inp, input_keys, "input", model)
        self._check_keys(params, param_keys, "parameters", model)
        self._text(inp, "prompt", required=False)
        self._text(inp, "negative_prompt", required=False)
        template = self._text(inp, "template", required=False)
        if template is not None and not re.fullmatch(r"[a-z][a-z0-9_]*", template):
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
        return _Plan(width, height, audio, deferred, info)

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

    # -------------------------------------------------------------- VACE
    def _vace(self, model: str, inp: dict, params: dict, body: dict) -> _Plan:
        function = inp.get("function")
        if function is None:
            raise self.invalid("input.function is required")
        if not is_str(function) or function not in FUNCTIONS:
            raise self.invalid(f"input.function must be one of {', '.join(FUNCTIONS)}")
        self._check_keys(inp, {"function", "prompt"} | VACE_INPUT[function], "input", f"{model} {function}")
        self._check_keys(
            params, COMMON_PARAMETERS | VACE_PARAMETERS[function], "parameters", f"{model} {function}"
        )
        self._text(inp, "prompt", required=True)
        self._common_parameters(params)
        if "duration" in params and (not is_int(params["duration"]) or params["duration"] != 5):
            raise self.invalid("parameters.duration is fixed at 5")
        size = params.get("size")
        if "size" in params and (not is_str(size) or size not in VACE_SIZES):
            raise self.invalid(f"parameters.size must be one of {', '.join(VACE_SIZES)}")
        refs = self._ref_images(inp, function)
        urls = {
            name: self._url_field(inp, name)
            for name in VACE_INPUT[function]
            if name.endswith("_url") and name != "ref_images_url"
        }
        checker = getattr(self, f"_check_{function}")
        checker(inp, params, body, refs, urls)

        # -- every URL is fetched now (unreachable → 400), then probed
        deferred: list[tuple[str, str]] = []
        ref_infos = [
            self._image(f"input.ref_images_url[{i}]", url, VACE_IMAGE_FORMATS)
            for i, url in enumerate(refs[:3])
        ]
        images = {
            n: self._image(f"input.{n}", urls[n], VACE_IMAGE_FORMATS)
            for n in ("first_frame_url", "last_frame_url", "mask_image_url")
            if urls.get(n)
        }
        videos = {
            n: self._video(f"input.{n}", urls[n])
            for n in ("video_url", "first_clip_url", "last_clip_url", "mask_video_url")
            if urls.get(n)
        }
        for label, info in [
            *((f"ref_images_url[{i}]", r) for i, r in enumerate(ref_infos)),
            *((n, i) for n, i in images.items() if n != "mask_image_url"),
        ]:
            if not (360 <= info.width <= 2000 and 360 <= info.height <= 2000):
                deferred.append(
                    (
                        "InvalidParameter",
                        f"input.{label}: image width and height must be between 360 and 2000 pixels",
                    )
                )
        for name, info in videos.items():
            if info.fps < 16:
                deferred.append(
                    ("InvalidParameter", f"input.{name}: the video frame rate must be at least 16 fps")
                )

        width, height = self._vace_size(function, params, images, videos)
        deferred.extend(getattr(self, f"_later_{function}", lambda *_: [])(inp, params, images, videos))
        info = self._prompt_info(inp, params)
        info.update(kind="vace", function=function)
        info["usage"] = {"video_count": 1, "video_duration": 5, "video_ratio": f"{width}*{height}"}
        return _Plan(width, height, False, deferred[0] if deferred else None, info)

    def _ref_images(self, inp: dict, function: str) -> list[str]:
        if "ref_images_url" not in inp:
            if function == "image_reference":
                raise self.invalid("input.ref_images_url is required for image_reference")
            return []
        refs = inp["ref_images_url"]
        if not isinstance(refs, list) or not refs or not all(is_str(u) and u for u in refs):
            raise self.invalid("input.ref_images_url must be a non-empty array of URL strings")
        if function != "image_reference" and len(refs) != 1:
            raise self.invalid(f"input.ref_images_url takes exactly 1 image for {function}")
        return refs

    def _check_image_reference(self, inp, params, body, refs, urls) -> None:
        if "obj_or_bg" in params:
            roles = params["obj_or_bg"]
            if not isinstance(roles, list) or not all(r in ("obj", "bg") for r in roles):
                raise self.invalid('parameters.obj_or_bg must be an array of "obj" / "bg"')
            if len(roles) != len(refs):
                raise self.invalid("parameters.obj_or_bg must have the same length as input.ref_images_url")
        elif len(refs) > 1:
            raise self.invalid(
                "parameters.obj_or_bg is required when input.ref_images_url has more than one image"
            )

    def _check_video_repainting(self, inp, params, body, refs, urls) -> None:
        if not urls.get("video_url"):
            raise self.invalid("input.video_url is required for video_repainting")
        if "parameters" not in body or not params:
            raise self.invalid("parameters is required for video_repainting", "BadRequest.EmptyParameters")
        condition = params.get("control_condition")
        if condition is None:
            raise self.invalid("parameters.control_condition is required for video_repainting")
        if condition not in REPAINT_CONDITIONS:
            raise self.invalid(f"parameters.control_condition must be one of {', '.join(REPAINT_CONDITIONS)}")
        if "strength" in params and (
            not is_number(params["strength"]) or not 0.0 <= params["strength"] <= 1.0
        ):
            raise self.invalid("parameters.strength must be a number in [0.0, 1.0]")

    def _check_video_edit(self, inp, params, body, refs, urls) -> None:
        if not urls.get("video_url"):
            raise self.invalid("input.video_url is required for video_edit")
        if bool(urls.get("mask_image_url")) == bool(urls.get("mask_video_url")):
            raise self.invalid(
                "video_edit needs exactly one of input.mask_image_url and input.mask_video_url"
            )
        if "mask_frame_id" in inp and (not is_int(inp["mask_frame_id"]) or inp["mask_frame_id"] < 1):
            raise self.invalid("input.mask_frame_id must be an integer >= 1")
        if "control_condition" in params and params["control_condition"] not in EDIT_CONDITIONS:
            raise self.invalid('parameters.control_condition must be one of "", posebodyface, depth')
        if "mask_type" in params and params["mask_type"] not in ("tracking", "fixed"):
            raise self.invalid("parameters.mask_type must be tracking or fixed")
        if "expand_ratio" in params and (
            not is_number(params["expand_ratio"]) or not 0.0 <= params["expand_ratio"] <= 1.0
        ):
            raise self.invalid("parameters.expand_ratio must be a number in [0.0, 1.0]")
        if "expand_mode" in params and params["expand_mode"] not in ("hull", "bbox", "original"):
            raise self.invalid("parameters.expand_mode must be hull, bbox or original")

    def _check_video_extension(self, inp, params, body, refs, urls) -> None:
        if not any(
            urls.get(n) for n in ("first_frame_url", "last_frame_url", "first_clip_url", "last_clip_url")
        ):
            raise self.invalid(
                "video_extension needs at least one of first_frame_url, last_frame_url, first_clip_url, last_clip_url"
            )
        condition = params.get("control_condition", "")
        if condition not in EXTENSION_CONDITIONS:
            raise self.invalid(f"parameters.control_condition must be one of {', '.join(REPAINT_CONDITIONS)}")
        if urls.get("video_url") and not condition:
            raise self.invalid("parameters.control_condition is required when input.video_url is set")

    def _check_video_outpainting(self, inp, params, body, refs, urls) -> None:
        if not urls.get("video_url"):
            raise self.invalid("input.video_url is required for video_outpainting")
        for name in ("top_scale", "bottom_scale", "left_scale", "right_scale"):
            if name in params and (not is_number(params[name]) or not 1.0 <= params[name] <= 2.0):
                raise self.invalid(f"parameters.{name} must be a number in [1.0, 2.0]")

    # checks the vendor makes after accepting (→ the task ends FAILED InvalidParameter)
    def _later_video_edit(self, inp, params, images, videos) -> list[tuple[str, str]]:
        video, found = videos["video_url"], []
        mask = images.get("mask_image_url")
        if mask is not None:
            if (mask.width, mask.height) != (video.width, video.height):
                found.append(
                    (
                        "InvalidParameter",
                        f"input.mask_image_url: the mask is {mask.width}x{mask.height} but the video is {video.width}x{video.height}",
                    )
                )
            top = round(video.fps * min(video.duration, 5.0)) + 1
            if inp.get("mask_frame_id", 1) > top:
                found.append(
                    ("InvalidParameter", f"input.mask_frame_id must be in [1, {top}] for this video")
                )
        mask_video = videos.get("mask_video_url")
        if mask_video is not None:
            same = (mask_video.width, mask_video.height) == (video.width, video.height)
            same = (
                same and abs(mask_video.fps - video.fps) < 0.01 and abs(mask_video.frames - video.frames) <= 1
            )
            if not same:
                found.append(
                    (
                        "InvalidParameter",
                        "input.mask_video_url: the mask video must have the video's resolution, frame rate and length",
                    )
                )
        return found

    def _later_video_extension(self, inp, params, images, videos) -> list[tuple[str, str]]:
        found = []
        first, last = videos.get("first_clip_url"), videos.get("last_clip_url")
        if first is not None and last is not None and first.duration + last.duration > 3.05:
            found.append(
                ("InvalidParameter", "first_clip_url and last_clip_url together must not exceed 3 seconds")
            )
        motion = videos.get("video_url")
        if motion is not None:
            sizes = {(i.width, i.height) for n, i in {**images, **videos}.items() if n != "video_url"}
            if sizes and (motion.width, motion.height) not in sizes:
                found.append(
                    ("InvalidParameter", "input.video_url: the resolution must match the frames and clips")
                )
        return found

    def _vace_size(self, function: str, params: dict, images: dict, videos: dict) -> tuple[int, int]:
        if function == "image_reference":
            return VACE_SIZES[params.get("size", "1280*720")]
        if function == "video_edit" and "size" in params:
            return VACE_SIZES[params["size"]]
        if function == "video_extension":
            for name in ("first_clip_url", "last_clip_url", "first_frame_url", "last_frame_url"):
                source = videos.get(name) or images.get(name)
                if source is not None:
                    return cap_720p(source.width, source.height)
        video = videos["video_url"]
        if function == "video_outpainting":
            w = video.width * (params.get("left_scale", 1.0) + params.get("right_scale", 1.0)) / 2
            h = video.height * (params.get("top_scale", 1.0) + params.get("bottom_scale", 1.0)) / 2
            return cap_720p(w, h)
        return cap_720p(video.width, video.height)

    # -------------------------------------------------------------- task query and cancel
    def query(self, request: Request, match) -> Reply:
        self.count_poll()
        self._auth(request)
        refused = self.poll_fault_before()
        if refused is not None:
            return refused
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
        self._auth(request)
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


@dataclass
class _Plan:
    width: int
    height: int
    audio: bool
    deferred: tuple[str, str] | None
    info: dict


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def cap_720p(width: float, height: float) -> tuple[int, int]:
    """Keep a size at or below 720p (shorter side ≤ 720), aspect kept, even numbers for H.264."""
    short = min(width, height)
    if short > 720:
        width, height = width * 720 / short, height * 720 / short
    return _even(width), _even(height)


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
