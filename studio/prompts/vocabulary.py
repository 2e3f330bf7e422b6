"""The builder's vocabulary: what each part asks for, the suggestion chips, the negative prompt's chips and
the built-in templates. The vendor's prompt guide gives examples only, no word lists: every phrase here is
the studio's own. ``{...}`` in a template marks a blank to fill in.
"""

from __future__ import annotations

from typing import Any

# What each part asks for, in the studio's own words (the guide's first example repeats its second, so the
# builder shows its own).
HINTS: dict[str, str] = {
    "subject": "Who or what is on screen, precisely: e.g. “A young woman with short curly hair, wearing a "
    "yellow raincoat”.",
    "action": "The main action, starting with the verb: it joins the subject in the opening sentence, "
    "e.g. “runs across the square toward the camera”.",
    "details": "Movements and gestures, in the order they happen: e.g. “She first looks down at her phone, "
    "then raises her head and smiles”.",
    "scene": "Where it happens and what surrounds it: e.g. “A busy market street after rain, stalls with "
    "paper lanterns, blurred passers-by”.",
    "camera": "Shot size, angle and how the camera moves: e.g. “Medium shot at eye level, slow push in”.",
    "lighting": "The light and the colours: e.g. “Soft overcast daylight, muted greens and greys”.",
    "style": "The overall look: e.g. “Real-life footage, shallow depth of field”.",
    "changes": "Anything that changes or happens suddenly: e.g. “A gust of wind lifts her hood”.",
}

# Suggestion chips per part, grouped; each phrase is inserted as written (capitalised at a sentence start).
CHIPS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "subject": (
        (
            "Who or what",
            (
                "a young woman",
                "an elderly man",
                "a child",
                "a golden retriever",
                "a small robot",
                "a red vintage car",
                "a ceramic coffee cup",
            ),
        ),
        (
            "Appearance",
            (
                "with short curly hair",
                "with brown hair in an updo",
                "with freckles",
                "wearing a blue denim jacket",
                "wearing a white collared shirt",
                "in a long wool coat",
                "with a matte black finish",
            ),
        ),
    ),
    "action": (
        (
            "Common actions",
            (
                "walks slowly toward the camera",
                "turns to look over the shoulder",
                "speaks directly to the camera",
                "runs along the path",
                "dances freely",
                "pours coffee into a cup",
                "rotates slowly on a turntable",
                "drives along a winding road",
            ),
        ),
    ),
    "details": (
        (
            "Gestures",
            (
                "first looks down, then raises the head",
                "smiles and nods",
                "gestures with both hands while talking",
                "blinks naturally",
                "brushes hair from the face",
                "waves at someone off screen",
            ),
        ),
        (
            "Small details",
            (
                "hair moves gently in the breeze",
                "steam rises from the cup",
                "fabric ripples with each step",
                "dust floats in the light",
                "footsteps splash in shallow puddles",
            ),
        ),
    ),
    "scene": (
        (
            "Places",
            (
                "a busy city street at night",
                "a misty pine forest",
                "a minimalist white studio",
                "a cozy café interior",
                "a sunlit beach",
                "a snowy mountain ridge",
                "a neon-lit alley in the rain",
                "a quiet library",
            ),
        ),
        (
            "Background",
            (
                "the background is softly out of focus",
                "people in period clothing in the background",
                "a plain seamless backdrop",
                "city lights twinkle in the distance",
            ),
        ),
    ),
    "camera": (
        (
            "Shot size",
            (
                "extreme close-up",
                "close-up",
                "medium close-up",
                "medium shot",
                "full shot",
                "wide shot",
                "extreme wide shot",
            ),
        ),
        (
            "Angle",
            (
                "eye level",
                "low angle",
                "high angle",
                "bird's-eye view",
                "over-the-shoulder",
                "dutch angle",
            ),
        ),
        (
            "Movement",
            (
                "static camera",
                "slow push in",
                "slow pull out",
                "pan left",
                "pan right",
                "tilt up",
                "tilt down",
                "orbits around the subject",
                "tracking shot following the subject",
                "handheld, slight shake",
                "crane up",
                "aerial drone shot",
            ),
        ),
    ),
    "lighting": (
        (
            "Light",
            (
                "natural lighting",
                "soft diffused light",
                "golden hour sunlight",
                "blue hour",
                "hard midday sun",
                "backlit with a rim light",
                "neon lights",
                "candlelight",
                "overcast daylight",
                "dramatic low-key lighting",
            ),
        ),
        (
            "Colour",
            (
                "true-to-life colours",
                "warm tones",
                "cool blue tones",
                "high contrast",
                "muted pastel palette",
                "teal and orange",
                "rich saturated colours",
                "black and white",
            ),
        ),
    ),
    "style": (
        (
            "Look",
            (
                "real-life footage",
                "cinematic",
                "documentary style",
                "35mm film grain",
                "shallow depth of field",
                "anime style",
                "3D animation",
                "stop-motion claymation",
                "watercolour illustration",
                "vintage VHS look",
            ),
        ),
        ("Motion", ("slow motion", "time-lapse", "smooth, steady motion")),
    ),
    "changes": (
        (
            "Over time",
            (
                "a gust of wind blows through the scene",
                "the light slowly shifts from day to dusk",
                "clouds drift quickly across the sky",
                "rain begins to fall",
                "the street lights flicker on",
                "petals fall slowly through the frame",
                "the subject turns to face the camera",
                "the camera reveals the whole scene",
            ),
        ),
    ),
}

NEGATIVE_CHIPS: tuple[str, ...] = (
    "blurry",
    "low quality",
    "flicker",
    "jitter",
    "distorted face",
    "extra fingers",
    "deformed hands",
    "text",
    "watermark",
    "oversaturated",
    "static frame",
)


BUILTIN_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "Product turntable",
        "description": "A product turning slowly on a seamless backdrop, for shop pages and ads.",
        "parts": {
            "subject": "A {product} with a {finish} finish",
            "action": "rotates slowly and smoothly through a full turn on a hidden turntable",
            "details": "Small highlights glide across its crisp edges and sharp logo details as it turns, "
            "revealing every side",
            "scene": "A seamless {backdrop colour} studio backdrop with a soft reflection on a glossy base, "
            "nothing else in frame",
            "camera": "Medium close-up at eye level, static camera, the product centred in frame",
            "lighting": "Soft diffused key light with a gentle rim light, clean neutral colours",
            "style": "Commercial product video, sharp focus, shallow depth of field",
            "changes": "As the front comes around again the key light brightens slightly",
        },
        "negative": "blurry, warped shape, flickering reflections, extra objects, text, watermark",
    },
    {
        "name": "Talking head",
        "description": "One person speaking to the camera: intros, explainers, interviews.",
        "parts": {
            "subject": "A {person} with {hair} in {clothing}",
            "action": "looks straight into the lens and speaks with a warm, confident expression",
            "details": "They blink naturally, nod now and then and make relaxed hand gestures at chest "
            "height as they talk",
            "scene": "{setting} in the background, softly out of focus",
            "camera": "Medium close-up at eye level, the camera stays still on their face",
            "lighting": "Soft window light from one side, natural skin tones, true-to-life colours",
            "style": "Real-life footage, interview look, shallow depth of field",
            "changes": "Halfway through they smile and lean slightly toward the camera",
        },
        "negative": "distorted face, extra fingers, jitter, unnatural mouth movement, text, watermark",
    },
    {
        "name": "Landscape time-lapse",
        "description": "Clouds and light racing over a wide landscape, from golden hour into dusk.",
        "parts": {
            "subject": "Clouds over {landscape}",
            "action": "race across a wide open sky in a time-lapse while their shadows sweep over the land",
            "details": "Grass and treetops sway in fast motion, mist drifts through the valleys",
            "scene": "{foreground} in the foreground, layered hills fading toward a distant horizon",
            "camera": "Extreme wide shot from a high vantage point, the camera pans slowly right",
            "lighting": "Golden hour sunlight turning into blue hour, warm tones cooling over time",
            "style": "Cinematic nature time-lapse, crisp detail, high dynamic range",
            "changes": "The sun sinks below the horizon and the first stars appear",
        },
        "negative": "flicker, blurry, people, text, watermark",
    },
    {
        "name": "Action tracking shot",
        "description": "A fast subject followed from the side by a moving camera.",
        "parts": {
            "subject": "A {athlete} in {outfit}",
            "action": "sprints along {path}, leaping over obstacles without slowing down",
            "details": "Arms pump hard, feet kick up dust and clothing ripples with the speed",
            "scene": "{location}, the background streaking past with motion blur",
            "camera": "Tracking shot following the subject from the side at running speed, wide shot, "
            "low angle",
            "lighting": "Hard late-afternoon sunlight, high contrast, rich saturated colours",
            "style": "Cinematic sports footage, natural motion blur, energetic pace",
            "changes": "At the end the runner slows down, turns and looks back toward the camera",
        },
        "negative": "distorted limbs, extra legs, frozen motion, blurry face, text, watermark",
    },
    {
        "name": "Cozy interior",
        "description": "A calm, warm room on a rainy day: ambient loops and mood shots.",
        "parts": {
            "subject": "Rain on the window of a {room} with {furniture} and a steaming mug on a wooden table",
            "action": "streaks down the glass while a candle flame flickers gently",
            "details": "Steam curls up from the mug and the curtain stirs in a faint draft",
            "scene": "Bookshelves, houseplants and a soft rug, a grey rainy street outside the window",
            "camera": "Wide shot at eye level, the camera slowly pushes in toward the table",
            "lighting": "Warm lamplight and candlelight against cool blue daylight from the window",
            "style": "Cinematic, calm atmosphere, shallow depth of field, soft film grain",
            "changes": "A lamp switches on and the room glows warmer",
        },
        "negative": "people, clutter, flicker, distorted objects, text, watermark",
    },
    {
        "name": "Anime-style scene",
        "description": "A hand-drawn anime moment: a character, wind and a big sky.",
        "parts": {
            "subject": "An anime {character} with {hair} and large expressive eyes in {outfit}",
            "action": "stands on a rooftop and turns into the wind as cherry blossom petals swirl past",
            "details": "Hair and clothes flutter in the breeze, the eyes catch the light, a small "
            "determined smile",
            "scene": "{city} at sunset, rows of rooftops and power lines under a vast sky of pink clouds",
            "camera": "Medium shot, low angle, the camera slowly orbits around the character",
            "lighting": "Warm sunset backlight with a soft glow, pastel pink and orange palette",
            "style": "2D anime style, clean line art, cel shading, hand-drawn look",
            "changes": "A sudden gust lifts a storm of petals across the frame",
        },
        "negative": "3D render, photorealistic, extra fingers, deformed face, blurry, text, watermark",
    },
)
