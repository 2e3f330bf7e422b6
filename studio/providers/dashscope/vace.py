"""VACE, DashScope's video-editing model family: its five functions' inputs, limits and settings.

Factories rather than constants, because the offline preview (``studio.providers.local``) offers the same
functions with the same fields: it takes images with transparency, reads its inputs from local files instead
of public URLs, and has no prompt rewriting.

Where each fact comes from is kept in ``source`` and ``notes``, never in ``help`` (see
``studio.providers.catalog``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from studio.providers.catalog import MB, TASKS, MediaLimits, MediaSlot, Param

VACE_TASKS = TASKS[3:]
_IMG_FORMATS_VACE = ("jpeg", "png", "bmp", "tiff", "webp")  # [004]


def vace_limits(alpha: bool, *, trims: bool = False) -> dict[str, MediaLimits]:
    """The inputs' limits. ``trims``: as the vendor, take longer videos and clips and use their start
    (5 s of a video, 3 s of a clip [004]); without it (the offline preview) they are refused."""
    image = MediaLimits(
        formats=_IMG_FORMATS_VACE,
        max_bytes=10 * MB,
        min_side=360,
        max_side=2000,
        allow_alpha=alpha,
        source="[004]",
    )
    video = MediaLimits(
        formats=("mp4",),
        max_bytes=50 * MB,
        min_fps=16,
        max_duration=None if trims else 5,
        uses_first=5 if trims else None,
        source="[004]: only the first 5 s are used",
    )
    return {
        "image": image,
        "video": video,
        # extension: frames and clips must agree with the motion video's resolution (and clips its fps)
        "frame": dataclasses.replace(image, same_as="video", same_props=("size",)),
        "clip": MediaLimits(
            formats=("mp4",),
            max_bytes=50 * MB,
            min_fps=16,
            max_duration=None if trims else 3,
            uses_first=3 if trims else None,
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


def vace_media(limits: dict[str, MediaLimits], public: bool, *, trims: bool = False) -> tuple[MediaSlot, ...]:
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
        shapes_output=False,
        keeps_first=False,
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
            shapes_output=shapes_output,
            keeps_first=keeps_first,
            source=source,
        )

    return (
        slot(
            "ref_images",
            "image",
            tasks=("image_reference",),
            required=True,
            many=3,
            keeps_first=trims,  # [004]: more than 3 are taken; only the first 3 are used
            limit=limits["image"],
            label="reference image",
            wire="input.ref_images_url",
            is_list=True,
            help="1 to 3 images: one subject per image, on a plain background. At most one of them may be "
            "a background." + (" If you give more, only the first 3 are used." if trims else ""),
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
            shapes_output=True,
            help=(
                "MP4, at least 16 fps, at most 50 MB; only its first 5 s are used. Output above 720p is scaled "
                "down."
                if trims
                else "MP4, at least 16 fps, at most 5 s, at most 50 MB. Output above 720p is scaled down."
            ),
        ),
        slot(
            "video",
            "video",
            tasks=("video_extension",),
            limit=limits["video"],
            label="motion reference video",
            wire="input.video_url",
            shapes_output=True,
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
            shapes_output=True,
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
            shapes_output=True,
            group="clips",
            help=CLIP_HELP[trims],
        ),
        slot(
            "last_clip",
            "video",
            tasks=("video_extension",),
            limit=limits["clip"],
            label="last clip",
            wire="input.last_clip_url",
            group="clips",
            help=CLIP_HELP[trims],
        ),
    )


CLIP_HELP = {
    True: "Only its first 3 s are used; the first and last clip together at most 3 s.",
    False: "At most 3 s; the first and last clip together at most 3 s.",
}

VACE_MEDIA_RULES = (
    ("exactly_one", ("mask_image", "mask_video"), ("video_edit",)),
    ("at_least_one", VACE_EXTENSION_INPUTS, ("video_extension",)),
)


def check_obj_or_bg(check: Any) -> None:
    """image_reference: one obj/bg entry per reference image; it may be left out with one image [004]."""
    if "obj_or_bg" in check.errors:
        return
    refs, roles = check.media.get("ref_images", []), check.params.get("obj_or_bg")
    if roles is None:
        if len(refs) == 1:
            check.params["obj_or_bg"] = ["obj"]
        elif len(refs) > 1:
            example = ",".join(["obj"] * (len(refs) - 1) + ["bg"])
            check.add(
                "obj_or_bg",
                f"With {len(refs)} reference images, say for each whether it is a subject (obj) or a "
                f"background (bg), e.g. {example}.",
            )
    elif refs and len(roles) != len(refs):
        plural = "s" if len(refs) != 1 else ""
        check.add(
            "obj_or_bg",
            f"obj_or_bg needs one entry per reference image: you gave {len(roles)} for {len(refs)} "
            f"image{plural}.",
        )
    if roles and roles.count("bg") > 1:
        check.warnings.append(
            "More than one reference image is marked bg; the vendor advises at most one background."
        )


def check_mask_frame_id(check: Any) -> None:
    """mask_frame_id within [1, fps x duration + 1] of the input video, of which only 5 s are used [004]."""
    video = check.first("video")
    if "mask_frame_id" not in check.params or "mask_frame_id" in check.errors or video is None:
        return
    if not (video.fps and video.duration):
        check.warnings.append(
            "The input video's frame rate or duration is unknown, so mask_frame_id was not checked."
        )
        return
    used = video.duration
    vslot = check.slots.get("video")
    cap = vslot and (vslot.limits.uses_first or vslot.limits.max_duration)
    if cap:
        used = min(used, cap)
    max_id = math.floor(video.fps * used + 1e-6) + 1
    if check.params["mask_frame_id"] > max_id:
        check.add(
            "mask_frame_id",
            f"mask_frame_id must be between 1 and {max_id} for this video ({video.fps:g} fps x {used:g} s "
            f"+ 1); you gave {check.params['mask_frame_id']}.",
        )


def vace_params(*, local: bool) -> tuple[Param, ...]:
    params = [
        Param(
            "obj_or_bg",
            "list",
            choices=("obj", "bg"),
            tasks=("image_reference",),
            max_items=3 if local else None,  # the vendor: one entry per image given [004]
            wire="parameters.obj_or_bg",
            check=check_obj_or_bg,
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
            check=check_mask_frame_id,
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
