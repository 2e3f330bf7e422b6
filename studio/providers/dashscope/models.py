"""DashScope's models: the Wan image-to-video family and VACE.

Where each fact comes from is kept in ``source`` and ``notes``, never in ``help`` (see
``studio.providers.catalog``).
"""

from __future__ import annotations

from typing import Any

from studio.providers.catalog import MB, MediaLimits, MediaSlot, Model, Param
from studio.providers.dashscope.vace import (
    VACE_MEDIA_RULES,
    VACE_SIZE_TASKS,
    VACE_SIZES,
    VACE_TASKS,
    vace_limits,
    vace_media,
    vace_params,
)

LABEL = "Alibaba DashScope (Model Studio)"

_IMG_FORMATS_DS_I2V = ("jpeg", "png", "bmp", "webp")  # [002]

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


def check_template(check: Any) -> None:
    """With an effect template the vendor ignores the prompt ‡: say so rather than let it vanish."""
    if check.params.get("template") and check.prompt:
        check.warnings.append("With an effect template the prompt is ignored.")


#: [002]: "some models" have built-in effects, and it names two: magic float (its id, "flying", is on the page)
#: and balloon inflation (the page gives no id; "inflate" is the vendor's effect list's †). Which models: the
#: 2.1 ones, by that list †. Any other value is refused on the form, before anything is sent.
EFFECT_TEMPLATE = Param(
    "template",
    "choice",
    choices=("flying", "inflate"),
    wire="input.template",
    help="A ready-made effect instead of your prompt: flying (the subject floats as if by magic) or inflate "
    "(the subject swells like a balloon). The name inflate is not confirmed by the provider's API page, "
    "only by its list of effects. With an effect the prompt is ignored.",
    source='[002] names magic float ("flying") and balloon inflation (no value given); "inflate" and '
    "which models take effects: the vendor's effect list †; prompt ignored with a template ‡",
    check=check_template,
)


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
    effects=False,
    region_ids=(),
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
    ]
    if effects:
        params.append(EFFECT_TEMPLATE)
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
        region_ids=region_ids,
        aliases=tuple(name for _, name in region_ids if name != mid),
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


MODELS: list[Model] = [
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
        effects=True,
        region_ids=(("singapore", "wan2.1-i2v-plus"), ("beijing", "wanx2.1-i2v-plus")),
        notes="Silent [002]. 2 submits/s and 2 running tasks †. Named wanx2.1-i2v-plus in Beijing [002], "
        "wan2.1-i2v-plus on the international (Singapore) host †.",
    ),
    _ds_i2v(
        "wanx2.1-i2v-turbo",
        "Wan 2.1 I2V Turbo",
        resolutions=("480P", "720P"),
        durations=(3, 4, 5),
        fps=30,
        prompt_max=800,
        effects=True,
        region_ids=(("singapore", "wan2.1-i2v-turbo"), ("beijing", "wanx2.1-i2v-turbo")),
        notes="Silent [002]. 2 submits/s and 2 running tasks †. Named wanx2.1-i2v-turbo in Beijing [002], "
        "wan2.1-i2v-turbo on the international (Singapore) host †.",
    ),
    Model(
        provider="dashscope",
        id="wan2.1-vace-plus",
        label="Wan 2.1 VACE Plus (video editing)",
        tasks=VACE_TASKS,
        sizes=VACE_SIZES,
        default_size="1280x720",
        size_tasks=VACE_SIZE_TASKS,
        # [004]: video_edit lists `size`, yet its output keeps the input video's resolution (up to 720p):
        # the size is sent only when the creator chose one; image_reference keeps its documented default.
        input_sized_tasks=("video_edit",),
        size_wire_format="W*H",
        durations=(5,),
        default_duration=5,
        fps=30,
        prompt_max_chars=800,
        prompt_required=True,
        negative_prompt=False,
        seed_min=0,
        seed_max=2147483647,
        params=vace_params(local=False),
        # [004] states no rule on transparency; longer videos and clips, more references and longer prompts
        # are taken and trimmed by the vendor [004]: accepted with a note, not refused.
        media=vace_media(vace_limits(alpha=True, trims=True), public=True, trims=True),
        prompt_truncated=True,
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
        "total [004]. Inputs with video keep their resolution up to 720p; video_edit sends size only "
        "when one is chosen [004]. Prompt cut off beyond 800 "
        "characters [004]. No negative prompt in [004]. 30 fps, silent †. 2 submits/s, 2 running †.",
    ),
]
