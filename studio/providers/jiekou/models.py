"""jiekou.ai's models: Wan 2.1 text to video (14B).

Where each fact comes from is kept in ``source`` and ``notes``, never in ``help`` (see
``studio.providers.catalog``).
"""

from __future__ import annotations

from studio.providers.catalog import Model, Param

LABEL = "jiekou.ai"

MODELS: list[Model] = [
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
