"""The shapes the catalogue is written in: tasks, settings (Param), inputs (MediaSlot, MediaLimits), models,
what a probe found in a file (MediaInfo), a job as asked (JobRequest) and as checked (CleanJob).

Every vendor package writes its models in these shapes; nothing here knows any vendor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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

PARAM_TYPES = ("int", "float", "bool", "str", "choice", "list")
MEDIA_KINDS = ("image", "video", "audio")


@dataclass(frozen=True)
class Param:
    """An extra setting of a model, beyond prompt/size/resolution/duration/seed.

    ``requires`` names a condition under which the setting means anything: a media slot name
    (``"mask_image"``) or ``"<param>=<value>"`` (``"mask_type=tracking"``). Given without it, it is refused.
    ``required_with`` names a media slot whose presence makes the setting required.
    For ``type="list"``: ``choices`` restricts each item, ``items`` describes object items (each key a
    Param), ``max_items`` caps the count.
    ``help`` is shown to creators in the job form; ``source`` says where the facts come from (not shown).
    ``check`` is the setting's own rule against the rest of the job (its inputs, the other settings), kept in
    the vendor's package: it gets the validation run and may ``add`` errors or append ``warnings``.
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
    check: Callable[[Any], None] | None = field(default=None, compare=False)

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
    #: the vendor uses only the first N s of a longer medium: accepted, with a note for the creator
    uses_first: float | None = None
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
    #: a model whose size follows its input ("closest") takes it from the first of these slots given
    shapes_output: bool = False
    #: more than ``many`` are accepted, with a note: the vendor uses only the first ``many``
    keeps_first: bool = False

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
    #: a longer prompt is cut by the vendor, not refused: accepted, with a note for the creator
    prompt_truncated: bool = False
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
    #: tasks whose output keeps the input's size unless a size is chosen: no default size is filled in
    input_sized_tasks: tuple[str, ...] = ()
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

    def wire_model(self, region: str | None = None) -> str:
        """The model name to send: a vendor may name the same model differently in each region."""
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
    # Image slots the person chose to send uncropped. Only a model that matches its output to the image
    # itself (``size_from_image="exact"``) takes an image off its aspects so; elsewhere this is ignored.
    as_is: tuple[str, ...] = ()


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
        from studio.providers.catalog.vendors import get_model

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
