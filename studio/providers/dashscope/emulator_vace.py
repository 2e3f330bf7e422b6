"""The DashScope emulator's checks of VACE requests (page [004]): the five functions' fields, the media they
fetch, what the vendor finds only after accepting, and the output size.

A mixin of :class:`~studio.providers.dashscope.emulator.DashScopeEmulator`: it uses that class's field and
media helpers (``invalid``, ``_check_keys``, ``_text``, ``_url_field``, ``_image``, ``_video``...).
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.providers.emulators.protocol import is_int, is_number, is_str

VACE_IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "BMP", "TIFF", "WEBP")

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


@dataclass
class Plan:
    """What a submit will make, worked out while its request is checked."""

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


class VaceRequests:
    def _vace(self, model: str, inp: dict, params: dict, body: dict) -> Plan:
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
        # [004]: repainting and outpainting keep the input's length, up to 5 s; the others make 5 s
        seconds = 5
        if function in ("video_repainting", "video_outpainting") and videos["video_url"].duration:
            seconds = max(1, min(5, round(videos["video_url"].duration)))
        info["usage"] = {"video_count": 1, "video_duration": seconds, "video_ratio": f"{width}*{height}"}
        return Plan(width, height, False, deferred[0] if deferred else None, info)

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
