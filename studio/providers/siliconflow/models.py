"""SiliconFlow's models: Wan 2.2 text to video and image to video.

Where each fact comes from is kept in ``source`` and ``notes``, never in ``help`` (see
``studio.providers.catalog``).
"""

from __future__ import annotations

from studio.providers.catalog import MediaLimits, MediaSlot, Model

LABEL = "SiliconFlow"

MODELS: list[Model] = [
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
]
