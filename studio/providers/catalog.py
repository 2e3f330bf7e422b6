"""Every model the studio can drive, as data, plus the one function that checks a job against it.

Facts come from the vendor pages in ``shared/seeds`` through ``shared/PROVIDERS.md``. Where each fact comes
from is kept in ``source`` (on Param, MediaSlot and MediaLimits) and in ``notes``, never in ``help``, which
creators read in the job form: ``[000]``..``[004]`` name the seed, ``†`` the vendor's public docs outside the
seeds, ``‡`` a third-party republication of the vendor's parameters (likely, not confirmed). Where no source
states a limit the field is ``None`` and nothing is checked: the studio does not invent vendor limits.

This module is pure Python (no Django): forms, the ``generate``/``catalog`` commands, the engine and the
vendor adapters all read it. Callers turn :class:`CatalogError` into Django's ``ValidationError``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ASPECT_TOLERANCE",
    "CATALOG",
    "PROVIDER_LABELS",
    "TASKS",
    "TASK_LABELS",
    "CatalogError",
    "CleanJob",
    "JobRequest",
    "MediaInfo",
    "MediaLimits",
    "MediaSlot",
    "Model",
    "Param",
    "as_data",
    "aspect_label",
    "closest_aspect",
    "get_model",
    "iter_models",
    "normalise_format",
    "parse_size",
    "validate",
]

TASKS = (
    "t2v",
    "i2v",
    "flf2v",
    "image_reference",
    "video_repainting",
    "video_edit",
    "video_extension",
    "video_outpainting",
)
# What each task is called where creators choose or read it (job form, gallery filter, job summary).
TASK_LABELS = {
    "t2v": "Text to video",
    "i2v": "Image to video",
    "flf2v": "First and last frame to video",
    "image_reference": "Video from reference images",
    "video_repainting": "Repaint a video (keep its motion)",
    "video_edit": "Edit inside a mask",
    "video_extension": "Extend a video",
    "video_outpainting": "Widen the frame (outpainting)",
}
VACE_TASKS = TASKS[3:]

PARAM_TYPES = ("int", "float", "bool", "str", "choice", "list")
MEDIA_KINDS = ("image", "video", "audio")

MB = 1024 * 1024  # vendors write "MB"; read as MiB
ASPECT_TOLERANCE = 0.01  # relative; "exact" aspects may be off by about 1 %
FPS_TOLERANCE = 0.05  # absolute frames per second


# ---------------------------------------------------------------------------------------------------------
# Data shapes


@dataclass(frozen=True)
class Param:
    """An extra setting of a model, beyond prompt/size/resolution/duration/seed.

    ``requires`` names a condition under which the setting means anything: a media slot name
    (``"mask_image"``) or ``"<param>=<value>"`` (``"mask_type=tracking"``). Given without it, it is refused.
    ``required_with`` names a media slot whose presence makes the setting required.
    For ``type="list"``: ``choices`` restricts each item, ``items`` describes object items (each key a
    Param), ``max_items`` caps the count.
    ``help`` is shown to creators in the job form; ``source`` says where the facts come from (not shown).
    """

    name: str
    type: str
    default: Any = None
    choices: tuple | None = None
    min: float | int | None = None
    max: float | int | None = None
    required: bool = False
    tasks: tuple[str, ...] | None = None
    help: str = ""
    wire: str = ""
    requires: str = ""
    required_with: str = ""
    max_items: int | None = None
    items: tuple[Param, ...] | None = None
    source: str = ""

    def applies_to(self, task: str) -> bool:
        return self.tasks is None or task in self.tasks


@dataclass(frozen=True)
class MediaLimits:
    """Limits of one input. ``None`` = not stated by any source, so not checked.

    ``same_as``/``same_props``: when the slot named ``same_as`` is also given, these properties must match
    it (``"size"``, ``"fps"``, ``"duration"``, ``"format"``). ``max_total_duration`` caps the summed duration
    of every slot of the model that shares this slot's ``group``.
    """

    formats: tuple[str, ...] | None = None
    max_bytes: int | None = None
    min_side: int | None = None
    max_side: int | None = None
    max_duration: float | None = None
    min_duration: float | None = None
    min_fps: float | None = None
    max_fps: float | None = None
    aspects: tuple[str, ...] | None = None
    allow_alpha: bool = True
    allow_animated: bool = False
    max_total_duration: float | None = None
    same_as: str | None = None
    same_props: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class MediaSlot:
    """One input of a model. ``help`` is for creators; ``source`` (not shown) says where its facts come from;
    the limits' own sources are in ``limits.source``."""

    name: str
    kind: str
    required: bool = False
    tasks: tuple[str, ...] | None = None
    many: int = 1
    limits: MediaLimits = field(default_factory=MediaLimits)
    label: str = ""
    wire: str = ""
    help: str = ""
    is_list: bool = False  # the wire field is an array; CleanJob.media holds a list
    needs_public_url: bool = False
    group: str = ""
    source: str = ""

    def applies_to(self, task: str) -> bool:
        return self.tasks is None or task in self.tasks

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")


@dataclass(frozen=True)
class Model:
    provider: str
    id: str
    label: str
    tasks: tuple[str, ...]
    sizes: tuple[str, ...] = ()
    resolutions: tuple[str, ...] = ()
    durations: tuple[int, ...] = ()
    fps: int | None = None
    prompt_max_chars: int | None = None
    prompt_required: bool = True
    negative_max_chars: int | None = None
    advised_max_words: int | None = None
    seed_min: int | None = None
    seed_max: int | None = None
    audio: bool = False
    params: tuple[Param, ...] = ()
    media: tuple[MediaSlot, ...] = ()
    needs_public_urls: bool = False
    paid: bool = True
    notes: str = ""
    # --- beyond the agreed minimum
    default_size: str | None = None
    default_resolution: str | None = None
    default_duration: int | None = None
    seed_default: int | None = None
    size_tasks: tuple[str, ...] | None = None  # tasks where ``size`` applies (None = all)
    size_from_image: str | None = None  # "exact": size must match the image aspect; "closest": nearest
    negative_prompt: bool = True  # accepts a negative prompt at all
    media_rules: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = ()  # (rule, slots, tasks)
    wire: tuple[tuple[str, str], ...] = ()  # studio field -> vendor's dotted field
    size_wire_format: str = "WxH"  # "WxH", "W*H" or "width/height"
    aliases: tuple[str, ...] = ()
    region_ids: tuple[tuple[str, str], ...] = ()  # region -> model name on the wire

    # -- lookups --------------------------------------------------------------------------------------
    def params_for(self, task: str) -> dict[str, Param]:
        return {p.name: p for p in self.params if p.applies_to(task)}

    def media_for(self, task: str) -> dict[str, MediaSlot]:
        return {s.name: s for s in self.media if s.applies_to(task)}

    def param(self, name: str, task: str | None = None) -> Param | None:
        for p in self.params:
            if p.name == name and (task is None or p.applies_to(task)):
                return p
        return None

    def slot(self, name: str, task: str | None = None) -> MediaSlot | None:
        for s in self.media:
            if s.name == name and (task is None or s.applies_to(task)):
                return s
        return None

    def sizes_for(self, task: str) -> tuple[str, ...]:
        if self.size_tasks is not None and task not in self.size_tasks:
            return ()
        return self.sizes

    def wire_name(self, field_name: str) -> str:
        return dict(self.wire).get(field_name, "")

    def wire_model(self, region: str | None = None) -> str:
        """The model name to send. Some DashScope names differ per region (VACE: Beijing vs Singapore)."""
        if region:
            return dict(self.region_ids).get(region.lower(), self.id)
        return self.id

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.id}"


@dataclass
class MediaInfo:
    """What a probe found in one input file (never what the client claimed)."""

    kind: str
    format: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    frames: int | None = None
    bytes: int = 0
    has_alpha: bool = False
    animated: bool = False
    codec: str | None = None


@dataclass
class JobRequest:
    provider: str
    model: str
    task: str | None
    prompt: str
    negative_prompt: str = ""
    size: str | None = None
    resolution: str | None = None
    duration: int | str | None = None
    seed: int | str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    media: dict[str, MediaInfo | list[MediaInfo]] = field(default_factory=dict)


@dataclass
class CleanJob:
    provider: str
    model: str
    task: str
    prompt: str
    negative_prompt: str = ""
    size: str | None = None
    resolution: str | None = None
    duration: int | None = None
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    media: dict[str, MediaInfo | list[MediaInfo]] = field(default_factory=dict)
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def spec(self) -> Model:
        return get_model(self.provider, self.model)


class CatalogError(Exception):
    """Validation failed. ``errors`` maps a field name ("prompt", "size", a param or media slot name, or
    "__all__") to plain messages for the creator."""

    def __init__(self, errors: dict[str, list[str]] | str):
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        for key, msgs in self.errors.items():
            for msg in msgs:
                parts.append(msg if key == "__all__" else f"{key}: {msg}")
        return "; ".join(parts)

    @property
    def messages(self) -> list[str]:
        return [m for msgs in self.errors.values() for m in msgs]


# ---------------------------------------------------------------------------------------------------------
# Helpers: sizes, aspects, formats

COMMON_ASPECTS = (
    "16:9",
    "9:16",
    "1:1",
    "4:3",
    "3:4",
    "3:2",
    "2:3",
    "21:9",
    "9:21",
    "5:4",
    "4:5",
    "2:1",
    "1:2",
)


def _ratio(label: str) -> float:
    a, b = label.split(":")
    return float(a) / float(b)


def closest_aspect(
    w: int, h: int, candidates: tuple[str, ...] | list[str] | None = None
) -> tuple[str, float]:
    """The candidate aspect ("16:9"...) nearest to w:h, and the relative error (0.01 = 1 %)."""
    if not w or not h or w <= 0 or h <= 0:
        raise ValueError(f"not a size: {w}x{h}")
    ratio = w / h
    cands = tuple(candidates) if candidates else COMMON_ASPECTS
    best = min(cands, key=lambda c: abs(math.log(ratio / _ratio(c))))
    return best, abs(ratio / _ratio(best) - 1)


def aspect_label(w: int, h: int) -> str:
    """A readable aspect: a common one within 1 % ("16:9"), else the reduced ratio, else "1.45:1"."""
    label, error = closest_aspect(w, h)
    if error <= ASPECT_TOLERANCE:
        return label
    g = math.gcd(int(w), int(h))
    a, b = int(w) // g, int(h) // g
    if a <= 32 and b <= 32:
        return f"{a}:{b}"
    return f"{w / h:.2f}:1"


_SIZE_RE = re.compile("^\\s*(\\d+)\\s*[x*\u00d7X,:]\\s*(\\d+)\\s*$")


def parse_size(value: str) -> tuple[int, int] | None:
    """ "1280x720", "1280*720", "1280 x 720" (also the multiplication sign) -> (1280, 720); else None."""
    m = _SIZE_RE.match(str(value or ""))
    if not m:
        return None
    w, h = int(m.group(1)), int(m.group(2))
    if w <= 0 or h <= 0:
        return None
    return w, h


_FORMAT_ALIASES = {
    "jpg": "jpeg",
    "jpe": "jpeg",
    "mpo": "jpeg",  # Pillow's name for multi-picture JPEGs written by many phones
    "tif": "tiff",
    "wave": "wav",
    "x-wav": "wav",
    "mpeg": "mp3",
    "mp4a": "m4a",
    "quicktime": "mov",
}


def normalise_format(fmt: str | None) -> str:
    """Lower-case short name: "JPEG"/"image/jpeg"/"jpg" -> "jpeg"; PyAV's "mov,mp4,m4a,..." -> "mp4"."""
    f = (fmt or "").strip().lower()
    if not f:
        return ""
    if "/" in f:  # a MIME type
        f = f.split("/", 1)[1].split(";", 1)[0].strip()
    if "," in f:  # PyAV demuxer lists
        names = [n.strip() for n in f.split(",")]
        if "mp4" in names:
            return "mp4"
        f = names[0]
    return _FORMAT_ALIASES.get(f, f)


def _size_str(w: int, h: int) -> str:
    return f"{w}x{h}"


def _fmt_bytes(n: int) -> str:
    if n >= MB:
        return f"{n / MB:.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def _num(x: float) -> str:
    return f"{x:g}"


def _join_or(items) -> str:
    items = [str(i) for i in items]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _article(label: str) -> str:
    return ("an " if label[:1].lower() in "aeiou" else "a ") + label


def _show_choice(c: Any) -> str:
    """A choice as creators see it: the empty one is "none" (the job form's select shows it so too)."""
    return "none" if c == "" else str(c)


# ---------------------------------------------------------------------------------------------------------
# The catalogue

PROVIDER_LABELS = {
    "local": "Local preview (offline, no AI, free)",
    "siliconflow": "SiliconFlow",
    "dashscope": "Alibaba DashScope (Model Studio)",
    "jiekou": "jiekou.ai",
}

# --- shared limits
_IMG_FORMATS_DS_I2V = ("jpeg", "png", "bmp", "webp")  # [002]
_IMG_FORMATS_VACE = ("jpeg", "png", "bmp", "tiff", "webp")  # [004]

DS_I2V_IMAGE = MediaLimits(
    formats=_IMG_FORMATS_DS_I2V,
    max_bytes=10 * MB,
    min_side=360,
    max_side=2000,
    allow_alpha=False,
    source="formats [002]; 360-2000 px, 10 MB, no alpha ‡",
)
DS_AUDIO = MediaLimits(
    formats=("wav", "mp3"),
    max_bytes=15 * MB,
    min_duration=3,
    max_duration=30,
    source="‡",
)


def _vace_limits(alpha: bool) -> dict[str, MediaLimits]:
    image = MediaLimits(
        formats=_IMG_FORMATS_VACE,
        max_bytes=10 * MB,
        min_side=360,
        max_side=2000,
        allow_alpha=alpha,
        source="[004]",
    )
    video = MediaLimits(formats=("mp4",), max_bytes=50 * MB, min_fps=16, max_duration=5, source="[004]")
    return {
        "image": image,
        "video": video,
        # extension: frames and clips must agree with the motion video's resolution (and clips its fps)
        "frame": dataclasses.replace(image, same_as="video", same_props=("size",)),
        "clip": MediaLimits(
            formats=("mp4",),
            max_bytes=50 * MB,
            min_fps=16,
            max_duration=3,
            max_total_duration=3,
            same_as="video",
            same_props=("size", "fps"),
            source="[004]",
        ),
        "mask_image": MediaLimits(
            formats=_IMG_FORMATS_VACE,
            max_bytes=10 * MB,
            allow_alpha=alpha,
            same_as="video",
            same_props=("size",),
            source="[004]",
        ),
        "mask_video": MediaLimits(
            same_as="video",
            same_props=("format", "fps", "size", "duration"),
            source="[004]",
        ),
    }


VACE_SIZES = ("1280x720", "720x1280", "960x960", "832x1088", "1088x832")  # [004]
VACE_SIZE_TASKS = ("image_reference", "video_edit")  # [004]: `size` is listed for these two functions
VACE_EXTENSION_INPUTS = ("first_frame", "last_frame", "first_clip", "last_clip")


def _vace_media(limits: dict[str, MediaLimits], public: bool) -> tuple[MediaSlot, ...]:
    def slot(
        name,
        kind,
        *,
        tasks,
        required=False,
        many=1,
        limit,
        label,
        wire,
        help="",
        is_list=False,
        group="",
        source="[004]",
    ):
        return MediaSlot(
            name,
            kind,
            required,
            tasks,
            many,
            limit,
            label=label,
            wire=wire,
            help=help,
            is_list=is_list,
            needs_public_url=public,
            group=group,
            source=source,
        )

    return (
        slot(
            "ref_images",
            "image",
            tasks=("image_reference",),
            required=True,
            many=3,
            limit=limits["image"],
            label="reference image",
            wire="input.ref_images_url",
            is_list=True,
            help="1 to 3 images: one subject per image, on a plain background. At most one of them may be "
            "a background.",
        ),
        slot(
            "ref_images",
            "image",
            tasks=("video_repainting",),
            many=1,
            limit=limits["image"],
            label="reference image",
            wire="input.ref_images_url",
            is_list=True,
            help="One subject that replaces the one in the video.",
        ),
        slot(
            "ref_images",
            "image",
            tasks=("video_edit",),
            many=1,
            limit=limits["image"],
            label="reference image",
            wire="input.ref_images_url",
            is_list=True,
            help="One subject or background to put into the edited area.",
        ),
        slot(
            "video",
            "video",
            tasks=("video_repainting", "video_edit", "video_outpainting"),
            required=True,
            limit=limits["video"],
            label="input video",
            wire="input.video_url",
            help="MP4, at least 16 fps, at most 5 s, at most 50 MB. Output above 720p is scaled down.",
        ),
        slot(
            "video",
            "video",
            tasks=("video_extension",),
            limit=limits["video"],
            label="motion reference video",
            wire="input.video_url",
            help="Optional: a video whose motion the new video follows. If you give one, also fill in the "
            "control condition setting.",
        ),
        slot(
            "mask_image",
            "image",
            tasks=("video_edit",),
            limit=limits["mask_image"],
            label="mask image",
            wire="input.mask_image_url",
            help="White marks the area to edit, black what to keep. Same resolution as the input video. "
            "Give either this or a mask video.",
        ),
        slot(
            "mask_video",
            "video",
            tasks=("video_edit",),
            limit=limits["mask_video"],
            label="mask video",
            wire="input.mask_video_url",
            help="Same format, frame rate, resolution and length as the input video. Give either this or a "
            "mask image.",
        ),
        slot(
            "first_frame",
            "image",
            tasks=("video_extension",),
            limit=limits["frame"],
            label="first frame",
            wire="input.first_frame_url",
        ),
        slot(
            "last_frame",
            "image",
            tasks=("video_extension",),
            limit=limits["frame"],
            label="last frame",
            wire="input.last_frame_url",
        ),
        slot(
            "first_clip",
            "video",
            tasks=("video_extension",),
            limit=limits["clip"],
            label="first clip",
            wire="input.first_clip_url",
            group="clips",
            help="At most 3 s; the first and last clip together at most 3 s.",
        ),
        slot(
            "last_clip",
            "video",
            tasks=("video_extension",),
            limit=limits["clip"],
            label="last clip",
            wire="input.last_clip_url",
            group="clips",
            help="At most 3 s; the first and last clip together at most 3 s.",
        ),
    )


VACE_MEDIA_RULES = (
    ("exactly_one", ("mask_image", "mask_video"), ("video_edit",)),
    ("at_least_one", VACE_EXTENSION_INPUTS, ("video_extension",)),
)


def _vace_params(*, local: bool) -> tuple[Param, ...]:
    params = [
        Param(
            "obj_or_bg",
            "list",
            choices=("obj", "bg"),
            tasks=("image_reference",),
            max_items=3,
            wire="parameters.obj_or_bg",
            help="For each reference image, in order: obj if it shows a subject, bg if it is a background. "
            "With a single image you may leave this empty (it counts as a subject). The vendor advises at "
            "most one background.",
            source="[004]",
        ),
        Param(
            "control_condition",
            "choice",
            choices=("posebodyface", "posebody", "depth", "scribble"),
            required=True,
            tasks=("video_repainting",),
            wire="parameters.control_condition",
            help="What to keep from the input video: posebodyface (face and body motion), posebody (body "
            "motion), depth (composition and motion outlines) or scribble (line drawing).",
            source="[004]",
        ),
        Param(
            "strength",
            "float",
            default=1.0,
            min=0.0,
            max=1.0,
            tasks=("video_repainting",),
            wire="parameters.strength",
            help="The higher, the closer the result stays to the input video.",
            source="[004]",
        ),
        Param(
            "control_condition",
            "choice",
            choices=("", "posebodyface", "depth"),
            default="",
            tasks=("video_edit",),
            wire="parameters.control_condition",
            help="What to take from the input video to guide the edit: none, posebodyface (face and body "
            "motion) or depth (composition and motion outlines).",
            source="[004]",
        ),
        Param(
            "mask_frame_id",
            "int",
            default=1,
            min=1,
            tasks=("video_edit",),
            requires="mask_image",
            wire="input.mask_frame_id",
            help="Which frame of the input video the mask image was drawn on: 1 is the first frame, and "
            "the last you can choose is the video's frame rate times its length in seconds, plus 1. Only "
            "with a mask image.",
            source="[004]",
        ),
        Param(
            "mask_type",
            "choice",
            choices=("tracking", "fixed"),
            default="tracking",
            tasks=("video_edit",),
            requires="mask_image",
            wire="parameters.mask_type",
            help="tracking: the edited area follows the object as it moves; fixed: the area stays where "
            "it is. Only with a mask image.",
            source="[004]",
        ),
        Param(
            "expand_ratio",
            "float",
            default=0.05,
            min=0.0,
            max=1.0,
            tasks=("video_edit",),
            requires="mask_type=tracking",
            wire="parameters.expand_ratio",
            help="How much the edited area grows around the tracked object. Only when the mask type is "
            "tracking.",
            source="[004]",
        ),
        Param(
            "expand_mode",
            "choice",
            choices=("hull", "bbox", "original"),
            default="hull",
            tasks=("video_edit",),
            requires="mask_type=tracking",
            wire="parameters.expand_mode",
            help="Shape of the edited area around the tracked object: hull (a polygon), bbox (a rectangle) "
            "or original (the object's own outline). Only when the mask type is tracking.",
            source="[004]",
        ),
        Param(
            "control_condition",
            "str",
            default="",
            tasks=("video_extension",),
            required_with="video",
            wire="parameters.control_condition",
            help="Needed when you give a motion reference video: what to take from it. The vendor lists no "
            "values for extending a video; for repainting it takes posebodyface, posebody, depth or "
            "scribble.",
            source="[004] lists no values for video_extension; the values are video_repainting's",
        ),
    ]
    towards = {"top": "upwards", "bottom": "downwards", "left": "to the left", "right": "to the right"}
    for side in ("top", "bottom", "left", "right"):
        params.append(
            Param(
                f"{side}_scale",
                "float",
                default=1.0,
                min=1.0,
                max=2.0,
                tasks=("video_outpainting",),
                wire=f"parameters.{side}_scale",
                help=f"Extend the picture {towards[side]} by this factor; 1 leaves that side unchanged. The "
                "original frame stays centred.",
                source="[004]",
            ),
        )
    if not local:
        params.append(
            Param(
                "prompt_extend",
                "bool",
                default=None,
                wire="parameters.prompt_extend",
                help="Let the provider's AI rewrite and expand your prompt. If you leave it unset, the "
                "provider's default applies (the vendor does not say whether that is on or off). The vendor "
                "advises turning it off when the prompt and the video disagree.",
                source="[004]; default not stated",
            ),
        )
    params.append(
        Param(
            "watermark",
            "bool",
            default=False,
            wire="parameters.watermark",
            help='Add an "AI-generated" mark in the lower-right corner. Off unless you turn it on.'
            if not local
            else "Draw a preview mark in the lower-right corner.",
            source="[004]; default false ‡" if not local else "studio (local renderer)",
        ),
    )
    return tuple(params)


def _ds_i2v(
    mid: str,
    label: str,
    *,
    resolutions,
    durations,
    fps,
    prompt_max,
    default_resolution=None,
    default_duration=5,
    audio=False,
    notes="",
) -> Model:
    params = [
        Param(
            "prompt_extend",
            "bool",
            default=True,
            wire="parameters.prompt_extend",
            help="Let the provider's AI rewrite and expand your prompt; the rewritten prompt is shown on "
            "the video's page. On unless you turn it off.",
            source="[002]; default true ‡; the rewritten prompt comes back as output.actual_prompt",
        ),
        Param(
            "watermark",
            "bool",
            default=False,
            wire="parameters.watermark",
            help="Add a watermark to the video. Off unless you turn it on.",
            source="[002]; default false ‡",
        ),
        Param(
            "template",
            "choice",
            choices=("flying",),
            wire="input.template",
            help="A ready-made effect: flying (the subject floats as if by magic). The vendor also names a "
            "balloon-inflation effect but not the value to ask for it, so it cannot be chosen here. Which "
            "models take effects is not stated. With an effect the prompt is ignored.",
            source='[002] gives one value, "flying" (magic float), and names a balloon-inflation effect '
            "without its value; which models accept templates is not stated; prompt ignored with a "
            "template ‡",
        ),
    ]
    media = [
        MediaSlot(
            "image",
            "image",
            True,
            ("i2v",),
            1,
            DS_I2V_IMAGE,
            label="first frame",
            wire="input.img_url",
            help="The video takes this image's shape (aspect ratio).",
            source="[002]; sent as a public URL or a data URI",
        ),
    ]
    if audio:
        params.append(
            Param(
                "audio",
                "bool",
                default=True,
                wire="parameters.audio",
                help="On (the default): the provider makes a soundtrack for the video automatically. "
                "Off: a silent video. Ignored when you give an audio file.",
                source="[002]",
            ),
        )
        media.append(
            MediaSlot(
                "audio",
                "audio",
                False,
                ("i2v",),
                1,
                DS_AUDIO,
                label="audio file",
                wire="input.audio_url",
                needs_public_url=True,
                help="WAV or MP3, 3 to 30 s, at most 15 MB. The picture follows the sound (lip movements, "
                "rhythm). Audio longer than the video is cut to the video's length. The provider fetches "
                "this file from the studio's public address.",
                source="[002]; formats, length and size ‡; longer audio cut to the video ‡; public URL only",
            ),
        )
    return Model(
        provider="dashscope",
        id=mid,
        label=label,
        tasks=("i2v",),
        resolutions=resolutions,
        durations=durations,
        fps=fps,
        prompt_max_chars=prompt_max,
        prompt_required=False,
        negative_max_chars=500,
        seed_min=0,
        seed_max=2147483647,
        audio=audio,
        params=tuple(params),
        media=tuple(media),
        default_resolution=default_resolution,
        default_duration=default_duration,
        wire=(
            ("prompt", "input.prompt"),
            ("negative_prompt", "input.negative_prompt"),
            ("resolution", "parameters.resolution"),
            ("duration", "parameters.duration"),
            ("seed", "parameters.seed"),
        ),
        notes=(
            "Output aspect follows the first frame; resolution only sets the pixel count [002]. Prompt "
            "optional ‡ and cut off beyond the limit ‡; negative prompt at most 500 ‡; seed range ‡. " + notes
        ).strip(),
    )


LOCAL_SIZES = ("1280x720", "720x1280", "960x960", "832x480", "480x832")
LOCAL_IMAGE = MediaLimits(
    formats=("jpeg", "png", "bmp", "webp", "tiff"),
    max_bytes=20 * MB,
    min_side=16,
    max_side=4096,
    source="studio (local renderer)",
)
LOCAL_AUDIO = dataclasses.replace(DS_AUDIO, source="studio; mirrors wan2.5-i2v-preview ‡")
_LOCAL_COMMON = dict(
    provider="local",
    durations=tuple(range(1, 11)),
    fps=16,
    prompt_max_chars=2000,
    negative_max_chars=2000,
    seed_min=0,
    seed_max=2147483647,
    paid=False,
    default_duration=5,
)

_MODELS: list[Model] = [
    # ----------------------------------------------------------------------------------- local (offline)
    Model(
        id="preview-t2v",
        label="Preview text to video (offline, no AI)",
        tasks=("t2v",),
        sizes=LOCAL_SIZES,
        default_size="832x480",
        notes="Rendered on this machine without AI: a procedural scene. Free.",
        **_LOCAL_COMMON,
    ),
    Model(
        id="preview-i2v",
        label="Preview image to video / first-last frame (offline, no AI)",
        tasks=("i2v", "flf2v"),
        sizes=LOCAL_SIZES,
        size_from_image="closest",
        audio=True,
        params=(
            Param(
                "audio",
                "bool",
                default=False,
                help="Add a generated soundtrack (or mix in the audio file you give), so you can try videos "
                "with sound offline.",
                source="studio (local renderer)",
            ),
        ),
        media=(
            MediaSlot("image", "image", True, ("i2v", "flf2v"), 1, LOCAL_IMAGE, label="first frame"),
            MediaSlot("last_image", "image", True, ("flf2v",), 1, LOCAL_IMAGE, label="last frame"),
            MediaSlot("audio", "audio", False, ("i2v", "flf2v"), 1, LOCAL_AUDIO, label="audio file"),
        ),
        notes="Rendered on this machine without AI: camera moves over the first frame (a crossfade to the "
        "last frame for flf2v). Size defaults to the one closest to the image's aspect. Free.",
        **_LOCAL_COMMON,
    ),
    Model(
        id="preview-vace",
        label="Preview VACE editing (offline, no AI)",
        tasks=VACE_TASKS,
        sizes=(*LOCAL_SIZES, "832x1088", "1088x832"),
        default_size="1280x720",
        size_from_image="closest",  # any size on every function, since the preview renders what is asked
        negative_prompt=False,
        params=_vace_params(local=True),
        media=_vace_media(_vace_limits(alpha=True), public=False),
        media_rules=VACE_MEDIA_RULES,
        notes="The five VACE functions with wan2.1-vace-plus's fields and input limits, rendered on this "
        "machine by classical image operations (no AI). Inputs are local files. Free.",
        **_LOCAL_COMMON,
    ),
    # ------------------------------------------------------------------------------------- SiliconFlow
    Model(
        provider="siliconflow",
        id="Wan-AI/Wan2.2-T2V-A14B",
        label="Wan 2.2 T2V A14B",
        tasks=("t2v",),
        sizes=("1280x720", "720x1280", "960x960"),
        advised_max_words=200,
        wire=(
            ("prompt", "prompt"),
            ("negative_prompt", "negative_prompt"),
            ("size", "image_size"),
            ("seed", "seed"),
        ),
        notes="Sizes [001]; image_size required †, default not stated, so choose one. Prompt: keep it under "
        "200 words [000]; no hard limit stated. Duration, fps, seed range and negative-prompt limit "
        "not stated. Result URL lives 10 minutes [001].",
    ),
    Model(
        provider="siliconflow",
        id="Wan-AI/Wan2.2-I2V-A14B",
        label="Wan 2.2 I2V A14B",
        tasks=("i2v",),
        sizes=("1280x720", "720x1280", "960x960"),
        advised_max_words=200,
        size_from_image="exact",
        media=(
            MediaSlot(
                "image",
                "image",
                True,
                ("i2v",),
                1,
                MediaLimits(
                    aspects=("16:9", "9:16", "1:1"),
                    source="aspects [000]; formats, bytes and pixels not stated",
                ),
                label="first frame",
                wire="image",
                help="Must be 16:9, 9:16 or 1:1; the video's size follows it (1280x720, 720x1280 or "
                "960x960).",
                source="[001]; sent as a public URL or a data URI; aspects and sizes [000]",
            ),
        ),
        wire=(
            ("prompt", "prompt"),
            ("negative_prompt", "negative_prompt"),
            ("size", "image_size"),
            ("seed", "seed"),
        ),
        notes="Size follows the first frame: 16:9 -> 1280x720, 9:16 -> 720x1280, 1:1 -> 960x960 [000]. "
        "Prompt advice under 200 words [000]. Duration, fps, seed range and image limits not stated.",
    ),
    # --------------------------------------------------------------------------------------- DashScope
    _ds_i2v(
        "wan2.5-i2v-preview",
        "Wan 2.5 I2V preview (with sound)",
        resolutions=("480P", "720P", "1080P"),
        durations=(5, 10),
        fps=24,
        prompt_max=2000,
        default_resolution="1080P",
        audio=True,
        notes="Sound: automatic dubbing or your audio file [002]. HTTP only, no SDK [002].",
    ),
    _ds_i2v(
        "wan2.2-i2v-flash",
        "Wan 2.2 I2V Flash",
        resolutions=("480P", "720P", "1080P"),
        durations=(5,),
        fps=30,
        prompt_max=800,
        notes="Silent. About 50 % faster than 2.1 [002].",
    ),
    _ds_i2v(
        "wan2.2-i2v-plus",
        "Wan 2.2 I2V Plus",
        resolutions=("480P", "1080P"),
        durations=(5,),
        fps=30,
        prompt_max=800,
        default_resolution="1080P",
        notes="Silent [002]. Default 1080P ‡.",
    ),
    _ds_i2v(
        "wanx2.1-i2v-plus",
        "Wan 2.1 I2V Plus",
        resolutions=("720P",),
        durations=(5,),
        fps=30,
        prompt_max=800,
        default_resolution="720P",
        notes="Silent [002]. 2 submits/s and 2 running tasks †.",
    ),
    _ds_i2v(
        "wanx2.1-i2v-turbo",
        "Wan 2.1 I2V Turbo",
        resolutions=("480P", "720P"),
        durations=(3, 4, 5),
        fps=30,
        prompt_max=800,
        notes="Silent [002]. 2 submits/s and 2 running tasks †.",
    ),
    Model(
        provider="dashscope",
        id="wan2.1-vace-plus",
        label="Wan 2.1 VACE Plus (video editing)",
        tasks=VACE_TASKS,
        sizes=VACE_SIZES,
        default_size="1280x720",
        size_tasks=VACE_SIZE_TASKS,
        size_wire_format="W*H",
        durations=(5,),
        default_duration=5,
        fps=30,
        prompt_max_chars=800,
        prompt_required=True,
        negative_prompt=False,
        seed_min=0,
        seed_max=2147483647,
        params=_vace_params(local=False),
        media=_vace_media(_vace_limits(alpha=False), public=True),
        media_rules=VACE_MEDIA_RULES,
        needs_public_urls=True,
        aliases=("wanx2.1-vace-plus",),
        region_ids=(("singapore", "wan2.1-vace-plus"), ("beijing", "wanx2.1-vace-plus")),
        wire=(
            ("task", "input.function"),
            ("prompt", "input.prompt"),
            ("size", "parameters.size"),
            ("duration", "parameters.duration"),
            ("seed", "parameters.seed"),
        ),
        notes="Region-dependent wire name: wan2.1-vace-plus (Singapore, [004]), wanx2.1-vace-plus (Beijing †). "
        "Every input must be a public http(s) URL without Chinese characters [004]. Duration fixed at "
        "5 s; repainting and outpainting keep the input's length (at most 5 s); extension makes 5 s in "
        "total [004]. Inputs with video keep their resolution up to 720p. Prompt cut off beyond 800 "
        "characters [004]. No negative prompt in [004]. 30 fps, silent †. 2 submits/s, 2 running †.",
    ),
    # ------------------------------------------------------------------------------------------ jiekou
    Model(
        provider="jiekou",
        id="wan2.1-t2v",
        label="Wan 2.1 T2V 14B",
        tasks=("t2v",),
        sizes=("832x480", "480x832", "1280x720", "720x1280"),
        default_size="832x480",
        size_wire_format="width/height",
        durations=(5,),
        default_duration=5,
        fps=None,
        prompt_max_chars=2000,
        prompt_required=True,
        negative_max_chars=2000,
        seed_min=-1,
        seed_max=9999999999,
        seed_default=-1,
        params=(
            Param(
                "loras",
                "list",
                max_items=3,
                wire="loras",
                items=(
                    Param(
                        "path",
                        "str",
                        required=True,
                        help="A Hugging Face repository (e.g. Remade-AI/Cyberpunk) or a Civitai download "
                        "link, made for Wan 2.1 14B text to video.",
                        source="[003]",
                    ),
                    Param(
                        "scale",
                        "float",
                        min=0.0,
                        max=4.0,
                        required=True,
                        help="How strongly it applies, from 0 to 4.",
                        source="[003]",
                    ),
                ),
                help='Up to 3 LoRAs (add-on styles or characters), written as [{"path": ..., "scale": ...}].',
                source="[003]",
            ),
            Param(
                "steps",
                "int",
                default=30,
                min=1,
                max=40,
                wire="steps",
                help="How many steps the model takes to make the video.",
                source="[003]",
            ),
            Param(
                "guidance_scale",
                "float",
                default=5.0,
                min=0.0,
                max=10.0,
                wire="guidance_scale",
                help="How closely to follow the prompt.",
                source="[003]",
            ),
            Param(
                "flow_shift",
                "float",
                default=5.0,
                min=1.0,
                max=10.0,
                wire="flow_shift",
                help="Higher gives faster, larger motion.",
                source="[003]",
            ),
            Param(
                "enable_safety_checker",
                "bool",
                default=True,
                wire="enable_safety_checker",
                help="Filter out harmful results.",
                source="[003]",
            ),
            Param(
                "fast_mode",
                "bool",
                default=False,
                wire="fast_mode",
                help="Faster and cheaper, possibly lower quality.",
                source="[003]",
            ),
        ),
        wire=(
            ("prompt", "prompt"),
            ("negative_prompt", "negative_prompt"),
            ("size", "width/height"),
            ("seed", "seed"),
        ),
        notes="Width/height must be one of the listed pairs; if either is missing the vendor forces 832x480 "
        "[003]. Seed -1 = random and needs 64 bits. 5 s by default [003], no duration field; output "
        "fps not stated. Endpoint /v3/async/wan-t2v †.",
    ),
]

CATALOG: dict[str, dict[str, Model]] = {p: {} for p in PROVIDER_LABELS}
for _m in _MODELS:
    CATALOG[_m.provider][_m.id] = _m
del _m


def iter_models():
    for models in CATALOG.values():
        yield from models.values()


def get_model(provider: str, model: str) -> Model:
    """The Model, or CatalogError naming what exists. Also accepts a model's region alias."""
    p = (provider or "").strip().lower()
    mid = (model or "").strip()
    if p not in CATALOG:
        raise CatalogError({"provider": [f"There is no provider {provider!r}. Choose {_join_or(CATALOG)}."]})
    models = CATALOG[p]
    if mid in models:
        return models[mid]
    for m in models.values():
        if mid in m.aliases:
            return m
    lowered = {k.lower(): v for k, v in models.items()}
    if mid.lower() in lowered:
        return lowered[mid.lower()]
    raise CatalogError(
        {"model": [f"{PROVIDER_LABELS[p]} has no model {model!r}. Its models: {', '.join(models)}."]}
    )


def _model_data(m: Model) -> dict:
    data = dataclasses.asdict(m)
    data["provider_label"] = PROVIDER_LABELS[m.provider]
    data["wire"] = dict(m.wire)
    data["region_ids"] = dict(m.region_ids)
    data["media_rules"] = [{"rule": r, "slots": list(s), "tasks": list(t)} for r, s, t in m.media_rules]
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def as_data() -> dict:
    """The whole catalogue as plain JSON types (for ``manage.py catalog --json``)."""
    return _jsonable(
        {
            "tasks": {t: TASK_LABELS[t] for t in TASKS},
            "providers": {
                p: {"label": PROVIDER_LABELS[p], "models": {mid: _model_data(m) for mid, m in models.items()}}
                for p, models in CATALOG.items()
            },
        }
    )


# ---------------------------------------------------------------------------------------------------------
# Validation

_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f"}


def _coerce_scalar(ptype: str, value: Any, label: str) -> tuple[Any, str | None]:
    if ptype == "bool":
        if isinstance(value, bool):
            return value, None
        if isinstance(value, int) and value in (0, 1):
            return bool(value), None
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE, None
        return None, f"{label} must be true or false; you gave {value!r}."
    if ptype == "int":
        if isinstance(value, bool):
            return None, f"{label} must be a whole number; you gave {value!r}."
        if isinstance(value, int):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value), None
        return None, f"{label} must be a whole number; you gave {value!r}."
    if ptype == "float":
        if isinstance(value, bool):
            return None, f"{label} must be a number; you gave {value!r}."
        try:
            f = float(value)
        except (TypeError, ValueError):
            return None, f"{label} must be a number; you gave {value!r}."
        if not math.isfinite(f):
            return None, f"{label} must be a finite number; you gave {value!r}."
        return f, None
    if ptype in ("str", "choice"):
        if isinstance(value, (dict, list, tuple, set)):
            return None, f"{label} must be text; you gave {value!r}."
        return str(value).strip(), None
    raise ValueError(ptype)


def _check_range(p: Param, value: Any, label: str) -> str | None:
    lo, hi = p.min, p.max
    if lo is not None and hi is not None and not (lo <= value <= hi):
        return f"{label} must be between {_num(lo)} and {_num(hi)}; you gave {_num(value)}."
    if lo is not None and value < lo:
        return f"{label} must be at least {_num(lo)}; you gave {_num(value)}."
    if hi is not None and value > hi:
        return f"{label} must be at most {_num(hi)}; you gave {_num(value)}."
    return None


def _coerce_param(p: Param, value: Any, label: str | None = None) -> tuple[Any, list[str]]:
    label = label or p.name
    if p.type == "list":
        items = value
        if isinstance(items, str):
            text = items.strip()
            if text.startswith("[") or text.startswith("{"):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError as exc:
                    return None, [f"{label} is not valid JSON ({exc.msg})."]
                if isinstance(items, dict):
                    items = [items]
            elif p.items:
                return None, [f'{label} must be a JSON list, e.g. [{{"path": "...", "scale": 1.0}}].']
            else:
                items = [s.strip() for s in text.split(",") if s.strip()]
        if isinstance(items, tuple):
            items = list(items)
        if not isinstance(items, list):
            return None, [f"{label} must be a list; you gave {value!r}."]
        errs: list[str] = []
        if p.max_items is not None and len(items) > p.max_items:
            errs.append(f"{label} takes at most {p.max_items} entries; you gave {len(items)}.")
        out = []
        for i, item in enumerate(items, 1):
            ilabel = f"{label} entry {i}"
            if p.items:
                if not isinstance(item, dict):
                    errs.append(f"{ilabel} must be an object with {', '.join(q.name for q in p.items)}.")
                    continue
                known = {q.name: q for q in p.items}
                for k in item:
                    if k not in known:
                        errs.append(f"{ilabel} has an unknown key {k!r}; allowed: {', '.join(known)}.")
                obj = {}
                for q in p.items:
                    if item.get(q.name) in (None, ""):
                        if q.required:
                            errs.append(f"{ilabel} needs {q.name}.")
                        continue
                    v, e = _coerce_param(q, item[q.name], f"{ilabel} {q.name}")
                    errs.extend(e)
                    if not e:
                        obj[q.name] = v
                out.append(obj)
            else:
                v, e = _coerce_scalar("str", item, ilabel)
                if e:
                    errs.append(e)
                    continue
                if p.choices is not None and v not in p.choices:
                    errs.append(
                        f"{ilabel} must be {_join_or(_show_choice(c) for c in p.choices)}; you gave {v!r}."
                    )
                    continue
                out.append(v)
        return (out if not errs else None), errs
    v, e = _coerce_scalar(p.type, value, label)
    if e:
        return None, [e]
    if p.type == "choice" and p.choices is not None:
        choices = p.choices
        if v not in choices:
            lowered = {str(c).lower(): c for c in choices}
            if str(v).lower() in lowered:
                v = lowered[str(v).lower()]
            else:
                return None, [
                    f"{label} must be one of {', '.join(_show_choice(c) for c in choices)}; you gave {v!r}."
                ]
    if p.type in ("int", "float"):
        msg = _check_range(p, v, label)
        if msg:
            return None, [msg]
    return v, []


def _as_list(value) -> list[MediaInfo]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for v in value if v is not None]
    return [value]


def _resolve_task(
    model: Model, task: str | None, media: dict[str, list[MediaInfo]], errs: _Check
) -> str | None:
    t = (task or "").strip().lower()
    if t:
        if t not in TASKS:
            errs.add("task", f"There is no task {task!r}. Tasks: {', '.join(TASKS)}.")
            return None
        if t not in model.tasks:
            errs.add(
                "task",
                f"{model.id} does not do {t} (“{TASK_LABELS[t]}”). It does: {', '.join(model.tasks)}.",
            )
            return None
        return t
    if len(model.tasks) == 1:
        return model.tasks[0]
    if set(model.tasks) == {"i2v", "flf2v"}:
        return "flf2v" if media.get("last_image") else "i2v"
    errs.add("task", f"Choose what {model.id} should do: {', '.join(model.tasks)}.")
    return None


def _item_name(slot: MediaSlot, index: int, count: int) -> str:
    if count > 1:
        return f"{slot.title[:1].upper()}{slot.title[1:]} {index}"
    return f"The {slot.title}"


def _check_media_item(model: Model, slot: MediaSlot, info: MediaInfo, name: str) -> list[str]:
    """Messages for one input against its slot's limits (format, bytes, pixels, duration, fps, alpha...)."""
    out: list[str] = []
    lim = slot.limits
    if info.kind != slot.kind:
        return [
            f"{name} must be {_article(slot.kind)}; this file is {_article(info.kind or 'unknown file')}."
        ]
    fmt = normalise_format(info.format)
    if lim.formats is not None and fmt not in lim.formats:
        shown = (fmt or "an unknown format").upper()
        out.append(
            f"{name} is {shown}; {model.id} takes {_join_or(f.upper() for f in lim.formats)}. "
            f"Convert it first."
        )
    if lim.max_bytes is not None and info.bytes and info.bytes > lim.max_bytes:
        out.append(
            f"{name} is {_fmt_bytes(info.bytes)}; {model.id} takes at most {_fmt_bytes(lim.max_bytes)}."
        )
    if info.kind == "image" and info.animated and not lim.allow_animated:
        out.append(f"{name} is animated; use a still image.")
    if info.kind == "image" and info.has_alpha and not lim.allow_alpha:
        out.append(
            f"{name} has transparency (an alpha channel); {PROVIDER_LABELS[model.provider]} takes "
            f"images without one. Flatten it onto a solid background first."
        )
    w, h = info.width, info.height
    if w and h:
        lo, hi = lim.min_side, lim.max_side
        if (lo is not None and min(w, h) < lo) or (hi is not None and max(w, h) > hi):
            if lo is not None and hi is not None:
                rule = f"each side must be between {lo} and {hi} pixels"
            elif lo is not None:
                rule = f"each side must be at least {lo} pixels"
            else:
                rule = f"each side must be at most {hi} pixels"
            out.append(f"{name} is {w}x{h}; {rule}. Resize it first.")
        if lim.aspects:
            label, error = closest_aspect(w, h, lim.aspects)
            if error > ASPECT_TOLERANCE:
                actual = aspect_label(w, h)
                near = "" if actual in COMMON_ASPECTS else f", closest to {label}"
                out.append(
                    f"{model.id} needs {_article(slot.title)} of {_join_or(lim.aspects)}; this "
                    f"{info.kind} is {actual} ({w}x{h}){near}. Crop it first."
                )
    elif lim.min_side or lim.max_side or lim.aspects:
        out.append(f"{name}: its width and height could not be read.")
    if info.kind in ("video", "audio"):
        d = info.duration
        if d is None and (lim.max_duration or lim.min_duration):
            out.append(f"{name}: its duration could not be read.")
        elif d is not None:
            slack = _slack(info.fps)
            if lim.max_duration is not None and d > lim.max_duration + slack:
                out.append(
                    f"{name} lasts {d:.1f} s; at most {_num(lim.max_duration)} s is allowed (the vendor "
                    f"would use only the first {_num(lim.max_duration)} s). Trim it first."
                )
            if lim.min_duration is not None and d < lim.min_duration - 0.05:
                out.append(f"{name} lasts {d:.1f} s; it must last at least {_num(lim.min_duration)} s.")
    if info.kind == "video":
        if info.fps is None and (lim.min_fps or lim.max_fps):
            out.append(f"{name}: its frame rate could not be read.")
        elif info.fps is not None:
            if lim.min_fps is not None and info.fps < lim.min_fps - FPS_TOLERANCE:
                out.append(f"{name} runs at {info.fps:g} fps; at least {_num(lim.min_fps)} fps is needed.")
            if lim.max_fps is not None and info.fps > lim.max_fps + FPS_TOLERANCE:
                out.append(f"{name} runs at {info.fps:g} fps; at most {_num(lim.max_fps)} fps is allowed.")
    return out


def _compare(prop: str, a: MediaInfo, b: MediaInfo) -> bool:
    if prop == "size":
        if not (a.width and a.height and b.width and b.height):
            return True
        return (a.width, a.height) == (b.width, b.height)
    if prop == "fps":
        if a.fps is None or b.fps is None:
            return True
        return abs(a.fps - b.fps) <= FPS_TOLERANCE
    if prop == "duration":
        if a.duration is None or b.duration is None:
            return True
        fps = a.fps or b.fps
        return abs(a.duration - b.duration) <= _slack(fps)
    if prop == "format":
        return normalise_format(a.format) == normalise_format(b.format)
    raise ValueError(prop)


def _describe(prop: str, info: MediaInfo) -> str:
    if prop == "size":
        return f"{info.width}x{info.height}"
    if prop == "fps":
        return f"{info.fps:g} fps"
    if prop == "duration":
        return f"{info.duration:.2f} s"
    return (normalise_format(info.format) or "?").upper()


_PROP_WORD = {"size": "resolution", "fps": "frame rate", "duration": "length", "format": "format"}


def _requirement_met(
    req: str, params: dict[str, Any], media: dict[str, list[MediaInfo]], defs: dict[str, Param]
) -> tuple[bool, str]:
    """(met, why-not) for a Param.requires expression."""
    if not req:
        return True, ""
    if "=" in req:
        name, want = req.split("=", 1)
        have = params.get(name)
        if have == want:
            return True, ""
        if have is None and name in defs:
            ok, why = _requirement_met(defs[name].requires, params, media, defs)
            if not ok:
                return False, why
        if have is None:
            return False, f"it works only with {name} {want}"
        return False, f"it works only with {name} {want}, and {name} is {have}"
    if media.get(req):
        return True, ""
    return False, f"it works only with {_article(req.replace('_', ' '))}"


class _Check:
    """One validation run: the stages share the model, the task, the inputs and what was found so far."""

    def __init__(self, model: Model, req: JobRequest):
        self.model = model
        self.req = req
        self.errors: dict[str, list[str]] = {}
        self.warnings: list[str] = []
        media = {k: _as_list(v) for k, v in (req.media or {}).items()}
        self.media: dict[str, list[MediaInfo]] = {k: v for k, v in media.items() if v}
        self.raw_params = {k: v for k, v in dict(req.params or {}).items() if v is not None}
        self.task = ""
        self.slots: dict[str, MediaSlot] = {}
        self.defs: dict[str, Param] = {}
        self.prompt = self.negative = ""
        self.size: str | None = None
        self.resolution: str | None = None
        self.duration: int | None = None
        self.seed: int | None = None
        self.given_params: dict[str, Any] = {}
        self.params: dict[str, Any] = {}

    def add(self, key: str, msg: str) -> None:
        self.errors.setdefault(key, []).append(msg)

    def first(self, slot: str) -> MediaInfo | None:
        return (self.media.get(slot) or [None])[0]

    # -- stages ---------------------------------------------------------------------------------------
    def check_prompt(self) -> None:
        m, prompt = self.model, (self.req.prompt or "").strip()
        if not prompt and m.prompt_required:
            self.add("prompt", f"{m.id} needs a prompt: describe the video you want.")
        if m.prompt_max_chars is not None and len(prompt) > m.prompt_max_chars:
            self.add(
                "prompt",
                f"The prompt is {len(prompt)} characters; {m.id} takes at most {m.prompt_max_chars}. "
                f"Shorten it by {len(prompt) - m.prompt_max_chars}.",
            )
        if m.advised_max_words is not None and len(prompt.split()) > m.advised_max_words:
            self.warnings.append(
                f"The prompt has {len(prompt.split())} words; {PROVIDER_LABELS[m.provider]} advises at most "
                f"{m.advised_max_words} for {m.id}."
            )
        negative = (self.req.negative_prompt or "").strip()
        if negative and not m.negative_prompt:
            self.add(
                "negative_prompt", f"{m.id} takes no negative prompt; leave it empty or say it in the prompt."
            )
        elif m.negative_max_chars is not None and len(negative) > m.negative_max_chars:
            self.add(
                "negative_prompt",
                f"The negative prompt is {len(negative)} characters; {m.id} takes at most {m.negative_max_chars}.",
            )
        self.prompt, self.negative = prompt, negative

    def check_size(self) -> None:
        m, task = self.model, self.task
        given = (self.req.size or "").strip() if isinstance(self.req.size, str) else self.req.size
        if m.size_wire_format == "width/height" and (
            "width" in self.raw_params or "height" in self.raw_params
        ):
            w_raw, h_raw = self.raw_params.pop("width", None), self.raw_params.pop("height", None)
            if w_raw in (None, "") or h_raw in (None, ""):
                self.add(
                    "size", f"Give both width and height (the vendor would otherwise use {m.default_size})."
                )
            elif given:
                self.add("size", "Give either a size or width and height, not both.")
            else:
                given = f"{w_raw}x{h_raw}"
        if not given:
            return
        sizes, parsed = m.sizes_for(task), parse_size(str(given))
        if not m.sizes:
            hint = " Choose a resolution instead." if m.resolutions else ""
            self.add("size", f"{m.id} has no size setting.{hint}")
        elif not sizes:
            self.add("size", f"{task} takes no size on {m.id}: the output follows the input video.")
        elif parsed is None:
            self.add("size", f"{given!r} is not a size like 1280x720.")
        elif _size_str(*parsed) not in sizes:
            self.add("size", f"{m.id} makes {', '.join(sizes)}; {_size_str(*parsed)} is not one of them.")
        else:
            self.size = _size_str(*parsed)

    def check_resolution(self) -> None:
        m, given = self.model, self.req.resolution
        if given in (None, ""):
            self.resolution = m.default_resolution  # None: leave it to the vendor
            return
        r = str(given).strip().upper()
        if not m.resolutions:
            hint = " Choose a size instead." if m.sizes else ""
            self.add("resolution", f"{m.id} has no resolution setting.{hint}")
        elif r not in m.resolutions:
            self.add("resolution", f"{m.id} offers {_join_or(m.resolutions)}; {given} is not one of them.")
        else:
            self.resolution = r

    def check_duration(self) -> None:
        m, given = self.model, self.req.duration
        if given in (None, ""):
            self.duration = m.default_duration
            return
        d, e = _coerce_scalar("int", given, "duration")
        if e:
            self.add("duration", f"The duration must be a whole number of seconds; you gave {given!r}.")
        elif not m.durations:
            self.add(
                "duration", f"{m.id} has no duration setting (the vendor documents none); leave it empty."
            )
        elif d not in m.durations:
            if len(m.durations) == 1:
                self.add("duration", f"{m.id} makes {m.durations[0]} s videos only; you asked for {d} s.")
                return
            lo, hi = m.durations[0], m.durations[-1]
            contiguous = len(m.durations) > 2 and list(m.durations) == list(range(lo, hi + 1))
            allowed = f"{lo} to {hi}" if contiguous else _join_or(m.durations)
            self.add("duration", f"{m.id} makes videos of {allowed} s; you asked for {d} s.")
        else:
            self.duration = d

    def check_seed(self) -> None:
        m, given = self.model, self.req.seed
        if given in (None, ""):
            self.seed = m.seed_default
            return
        s, e = _coerce_scalar("int", given, "seed")
        if e:
            self.add("seed", f"The seed must be a whole number; you gave {given!r}.")
        elif (m.seed_min is not None and s < m.seed_min) or (m.seed_max is not None and s > m.seed_max):
            lo = m.seed_min if m.seed_min is not None else "-inf"
            hi = m.seed_max if m.seed_max is not None else "inf"
            self.add("seed", f"The seed for {m.id} must be between {lo} and {hi}; you gave {s}.")
        else:
            self.seed = s

    def check_media(self) -> None:
        m, task, media, slots = self.model, self.task, self.media, self.slots
        for name in media:
            if name not in slots:
                other = m.slot(name)
                if other is not None:
                    self.add(name, f"{task} on {m.id} takes no {other.title}.")
                else:
                    self.add(name, f"{m.id} takes no input called {name!r}.")
        for slot in slots.values():
            items = media.get(slot.name, [])
            if not items:
                if slot.required:
                    self.add(slot.name, f"{m.id} needs {_article(slot.title)} for {task}.")
                continue
            if len(items) > slot.many:
                extra = f" (the vendor would use only the first {slot.many})" if slot.many > 1 else ""
                plural = "s" if slot.many > 1 else ""
                self.add(
                    slot.name,
                    f"{task} takes at most {slot.many} {slot.title}{plural}; you gave {len(items)}{extra}.",
                )
            for i, info in enumerate(items, 1):
                for msg in _check_media_item(m, slot, info, _item_name(slot, i, len(items))):
                    self.add(slot.name, msg)
            self._check_same_as(slot, items)
        self._check_groups()
        self._check_media_rules()

    def _check_same_as(self, slot: MediaSlot, items: list[MediaInfo]) -> None:
        """Inputs that must agree with another (mask = video size; clips = motion video fps and size...)."""
        lim = slot.limits
        if not (lim.same_as and self.media.get(lim.same_as) and lim.same_as in self.slots):
            return
        ref, ref_title = self.media[lim.same_as][0], self.slots[lim.same_as].title
        for info in items:
            for prop in lim.same_props:
                if not _compare(prop, info, ref):
                    self.add(
                        slot.name,
                        f"The {slot.title}'s {_PROP_WORD[prop]} ({_describe(prop, info)}) must equal the "
                        f"{ref_title}'s ({_describe(prop, ref)}).",
                    )

    def _check_groups(self) -> None:
        """Summed durations per slot group (VACE: first and last clip together at most 3 s)."""
        groups: dict[str, list[MediaSlot]] = {}
        for slot in self.slots.values():
            if slot.group:
                groups.setdefault(slot.group, []).append(slot)
        for group_slots in groups.values():
            cap = next(
                (s.limits.max_total_duration for s in group_slots if s.limits.max_total_duration), None
            )
            present = [s for s in group_slots if self.media.get(s.name)]
            if cap is None or len(present) < 2:
                continue
            infos = [i for s in present for i in self.media[s.name]]
            total = sum(i.duration or 0.0 for i in infos)
            fps = next((i.fps for i in infos if i.fps), None)
            if total > cap + _slack(fps):
                names = " and ".join(s.title for s in present)
                self.add(
                    present[-1].name,
                    f"The {names} last {total:.1f} s together; at most {_num(cap)} s is allowed. Trim them first.",
                )
            if len({round(i.fps, 2) for i in infos if i.fps}) > 1:
                self.warnings.append(
                    "The clips have different frame rates; the vendor advises using the same one."
                )

    def _check_media_rules(self) -> None:
        for rule, rule_slots, rule_tasks in self.model.media_rules:
            if self.task not in rule_tasks:
                continue
            given = [s for s in rule_slots if self.media.get(s)]
            titles = [self.slots[s].title if s in self.slots else s for s in rule_slots]
            if rule == "exactly_one" and len(given) > 1:
                self.add(
                    given[-1], f"{self.task} takes either {_join_or(_article(t) for t in titles)}, not both."
                )
            elif rule == "exactly_one" and not given:
                self.add(
                    rule_slots[0],
                    f"{self.task} needs {_join_or(_article(t) for t in titles)} to mark the area to edit.",
                )
            elif rule == "at_least_one" and not given:
                self.add(rule_slots[0], f"{self.task} needs at least one of: {', '.join(titles)}.")

    def check_params(self) -> None:
        task, defs = self.task, self.defs
        for name, value in self.raw_params.items():
            p = defs.get(name)
            if p is None:
                self._unknown_param(name)
                continue
            if _blank(p, value):
                continue  # an empty form field means "not given"
            v, errs = _coerce_param(p, value)
            for msg in errs:
                self.add(name, msg)
            if not errs:
                self.given_params[name] = v
        # defaults and conditions, in declaration order (mask_type before expand_*)
        for name, p in defs.items():
            ok, why = _requirement_met(p.requires, self.params, self.media, defs)
            if name in self.given_params:
                if not ok:
                    self.add(name, f"{name} does not apply here: {why}.")
                    continue
                self.params[name] = self.given_params[name]
            elif ok and p.default is not None:
                self.params[name] = p.default
            missing = self.params.get(name) in (None, "", []) and name not in self.errors
            if p.required and missing:
                choices = f": one of {', '.join(_show_choice(c) for c in p.choices)}" if p.choices else ""
                self.add(name, f"{task} needs {name}{choices}.")
            elif p.required_with and self.media.get(p.required_with) and missing:
                slot = self.slots.get(p.required_with)
                self.add(
                    name,
                    f"{name} is required when you give {_article(slot.title if slot else p.required_with)}.",
                )

    def _unknown_param(self, name: str) -> None:
        m = self.model
        other = [p for p in m.params if p.name == name]
        by_wire = {w.split(".")[-1]: f for f, w in m.wire if w}
        if other:
            tasks = sorted({t for p in other for t in (p.tasks or m.tasks)})
            self.add(name, f"{name} is for {', '.join(tasks)} only, not {self.task}.")
        elif by_wire.get(name, name) != name:
            self.add(name, f"Set {name} through the {by_wire[name]} field, not as an extra setting.")
        else:
            known = ", ".join(self.defs) or "none"
            self.add(name, f"{m.id} has no setting {name!r}. Its settings for {self.task}: {known}.")

    def resolve_size(self) -> None:
        """Size from the first frame (SiliconFlow I2V: the exact aspect; local preview: the closest), else the
        model's default, else ask for one."""
        m, sizes, image = self.model, self.model.sizes_for(self.task), self.first("image")
        if image is None and m.size_from_image == "closest":
            # The offline preview follows an input video (or first frame of an extension) when no size is given.
            image = self.first("video") or self.first("first_frame") or self.first("first_clip")
        usable = image is not None and image.width and image.height and "image" not in self.errors
        if m.size_from_image and sizes and usable:
            img_aspect = aspect_label(image.width, image.height)
            if m.size_from_image == "exact":
                by_aspect = {aspect_label(*parse_size(s)): s for s in sizes}
                label, error = closest_aspect(image.width, image.height, tuple(by_aspect))
                wanted = by_aspect[label] if error <= ASPECT_TOLERANCE else None
                if self.size is None and wanted is not None and "size" not in self.errors:
                    self.size = wanted
                elif self.size is not None and wanted is not None and self.size != wanted:
                    self.add(
                        "size",
                        f"The first frame is {img_aspect} ({image.width}x{image.height}) but {self.size} is "
                        f"{aspect_label(*parse_size(self.size))}; {m.id} matches the size to the image. "
                        f"Choose {wanted} or leave the size empty.",
                    )
            else:
                ratio = image.width / image.height
                if self.size is None and "size" not in self.errors:
                    self.size = min(sizes, key=lambda s: abs(math.log(ratio / _size_ratio(s))))
                if self.size is not None and abs(ratio / _size_ratio(self.size) - 1) > ASPECT_TOLERANCE:
                    self.warnings.append(
                        f"The first frame is {img_aspect} ({image.width}x{image.height}); the preview crops it "
                        f"to {self.size}."
                    )
        if self.size is None and sizes and "size" not in self.errors:
            if m.default_size:
                self.size = m.default_size
            elif not (m.size_from_image and not usable):
                self.add("size", f"{m.id} needs a size: {_join_or(sizes)}.")

    def cross_rules(self) -> None:
        self._last_frame_aspect()
        self._obj_or_bg()
        self._mask_frame_id()
        self._sound()

    def _last_frame_aspect(self) -> None:
        image, last = self.first("image"), self.first("last_image")
        if not (image and last and image.width and image.height and last.width and last.height):
            return
        if abs((image.width / image.height) / (last.width / last.height) - 1) > ASPECT_TOLERANCE:
            self.warnings.append(
                f"The last frame is {aspect_label(last.width, last.height)} but the first frame is "
                f"{aspect_label(image.width, image.height)}; the last frame will be cropped to fit."
            )

    def _obj_or_bg(self) -> None:
        """VACE image_reference: one obj/bg entry per reference image; may be left out with one image."""
        if "obj_or_bg" not in self.defs or "obj_or_bg" in self.errors:
            return
        refs, roles = self.media.get("ref_images", []), self.params.get("obj_or_bg")
        if roles is None:
            if len(refs) == 1:
                self.params["obj_or_bg"] = ["obj"]
            elif len(refs) > 1:
                example = ",".join(["obj"] * (len(refs) - 1) + ["bg"])
                self.add(
                    "obj_or_bg",
                    f"With {len(refs)} reference images, say for each whether it is a subject (obj) or a "
                    f"background (bg), e.g. {example}.",
                )
        elif refs and len(roles) != len(refs):
            plural = "s" if len(refs) != 1 else ""
            self.add(
                "obj_or_bg",
                f"obj_or_bg needs one entry per reference image: you gave {len(roles)} for {len(refs)} "
                f"image{plural}.",
            )
        if roles and roles.count("bg") > 1:
            self.warnings.append(
                "More than one reference image is marked bg; the vendor advises at most one background."
            )

    def _mask_frame_id(self) -> None:
        """mask_frame_id within [1, fps x duration + 1] of the input video (only its first 5 s are used)."""
        video = self.first("video")
        if "mask_frame_id" not in self.params or "mask_frame_id" in self.errors or video is None:
            return
        if not (video.fps and video.duration):
            self.warnings.append(
                "The input video's frame rate or duration is unknown, so mask_frame_id was not checked."
            )
            return
        used = video.duration
        vslot = self.slots.get("video")
        if vslot and vslot.limits.max_duration:
            used = min(used, vslot.limits.max_duration)
        max_id = math.floor(video.fps * used + 1e-6) + 1
        if self.params["mask_frame_id"] > max_id:
            self.add(
                "mask_frame_id",
                f"mask_frame_id must be between 1 and {max_id} for this video ({video.fps:g} fps x {used:g} s "
                f"+ 1); you gave {self.params['mask_frame_id']}.",
            )

    def _sound(self) -> None:
        audio, duration = self.first("audio"), self.duration
        if audio is not None and "audio" in self.defs:
            if self.given_params.get("audio") is False:
                self.warnings.append(
                    "An audio file is given, so audio=false is ignored: the video follows the file."
                )
            if audio.duration and duration and audio.duration > duration + 0.05:
                self.warnings.append(
                    f"The audio lasts {audio.duration:.1f} s; only the first {duration} s are used."
                )
            elif audio.duration and duration and audio.duration < duration - 0.05:
                self.warnings.append(
                    f"The audio lasts {audio.duration:.1f} s; the rest of the {duration} s video will be silent."
                )
        if self.params.get("template") and self.prompt:
            self.warnings.append("With an effect template the prompt is ignored.")

    def result(self) -> CleanJob:
        media: dict[str, MediaInfo | list[MediaInfo]] = {}
        for name, items in self.media.items():
            slot = self.slots[name]
            media[name] = list(items) if (slot.is_list or slot.many > 1) else items[0]
        width, height = parse_size(self.size) if self.size else (None, None)
        return CleanJob(
            provider=self.model.provider,
            model=self.model.id,
            task=self.task,
            prompt=self.prompt,
            negative_prompt=self.negative,
            size=self.size,
            resolution=self.resolution,
            duration=self.duration,
            seed=self.seed,
            params=self.params,
            media=media,
            width=width,
            height=height,
            fps=self.model.fps,
            warnings=self.warnings,
        )


def _blank(p: Param, value: Any) -> bool:
    """An empty string is a value only for text settings (and choices that list "")."""
    if not (isinstance(value, str) and not value.strip()):
        return False
    return p.type not in ("str", "choice") or (p.type == "choice" and "" not in (p.choices or ()))


def _slack(fps: float | None) -> float:
    """Duration tolerance: one frame (a 5 s clip of 81 frames at 16 fps lasts 5.06 s), at least 0.05 s."""
    return max(0.05, (1.0 / fps) if fps else 0.0) + 1e-6


def _size_ratio(size: str) -> float:
    w, h = parse_size(size)
    return w / h


def validate(req: JobRequest) -> CleanJob:
    """Check a job against the catalogue before any money is spent; fill defaults and coerce types.

    Raises CatalogError with every problem found (field -> messages; "__all__" for general ones). Advice
    (e.g. SiliconFlow's 200-word prompt guidance) goes to ``CleanJob.warnings`` instead.
    """
    model = get_model(req.provider, req.model)
    check = _Check(model, req)
    task = _resolve_task(model, req.task, check.media, check)
    if task is None:
        raise CatalogError(check.errors)
    check.task = task
    check.slots = model.media_for(task)
    check.defs = model.params_for(task)
    check.check_prompt()
    check.check_size()
    check.check_resolution()
    check.check_duration()
    check.check_seed()
    check.check_media()
    check.check_params()
    check.resolve_size()
    check.cross_rules()
    if check.errors:
        raise CatalogError(check.errors)
    return check.result()
