"""The offline preview's models: rendered on this machine, no AI, free.

They mirror real vendors' fields so a job can be tried offline first: the VACE preview takes VACE's
functions and limits from DashScope's package, and the audio file follows wan2.5's limits.
"""

from __future__ import annotations

import dataclasses

from studio.providers.catalog import MB, MediaLimits, MediaSlot, Model, Param
from studio.providers.dashscope.models import DS_AUDIO
from studio.providers.dashscope.vace import VACE_MEDIA_RULES, VACE_TASKS, vace_limits, vace_media, vace_params

LABEL = "Local preview (offline, no AI, free)"

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

MODELS: list[Model] = [
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
        params=vace_params(local=True),
        media=vace_media(vace_limits(alpha=True), public=False),
        media_rules=VACE_MEDIA_RULES,
        notes="The five VACE functions with wan2.1-vace-plus's fields and input limits, rendered on this "
        "machine by classical image operations (no AI). Inputs are local files. Free.",
        **_LOCAL_COMMON,
    ),
]
