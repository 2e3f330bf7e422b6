"""The catalogue as data, and every validation rule; each vendor's own facts are checked in
``tests/providers/<vendor>/test_models.py``. Plain pytest, no database.

Run: .venv/bin/pytest tests/providers/test_catalog.py -q
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from studio.providers import catalog as C
from studio.providers.catalog import (
    CATALOG,
    PROVIDER_LABELS,
    TASKS,
    CatalogError,
    JobRequest,
    MediaInfo,
    as_data,
    aspect_label,
    closest_aspect,
    get_model,
    validate,
)

MB = 1024 * 1024

# --------------------------------------------------------------------------------------------- helpers


def img(w=1280, h=720, fmt="png", size=200_000, **kw) -> MediaInfo:
    return MediaInfo(kind="image", format=fmt, width=w, height=h, bytes=size, **kw)


def vid(w=1280, h=720, d=5.0, fps=16.0, fmt="mov,mp4,m4a,3gp,3g2,mj2", size=5 * MB, **kw) -> MediaInfo:
    return MediaInfo(kind="video", format=fmt, width=w, height=h, duration=d, fps=fps, bytes=size, **kw)


def aud(d=5.0, fmt="mp3", size=MB) -> MediaInfo:
    return MediaInfo(kind="audio", format=fmt, duration=d, bytes=size)


def req(provider, model, task=None, prompt="A red fox trots through fresh snow at dawn.", **kw) -> JobRequest:
    return JobRequest(provider=provider, model=model, task=task, prompt=prompt, **kw)


def errors_of(request: JobRequest) -> dict[str, list[str]]:
    with pytest.raises(CatalogError) as info:
        validate(request)
    return info.value.errors


def assert_error(request: JobRequest, key: str, *fragments: str) -> str:
    errors = errors_of(request)
    assert key in errors, f"expected an error on {key!r}, got {errors}"
    text = " ".join(errors[key])
    for fragment in fragments:
        assert fragment.lower() in text.lower(), f"{fragment!r} not in {text!r}"
    return text


# A request that must pass, for every (provider, model, task) of the catalogue.
HAPPY = {
    ("local", "preview-t2v", "t2v"): dict(size="1280x720", duration=3),
    ("local", "preview-i2v", "i2v"): dict(
        media={"image": img(1024, 768)}, params={"audio": "true"}, duration=10
    ),
    ("local", "preview-i2v", "flf2v"): dict(media={"image": img(), "last_image": img()}),
    ("local", "preview-vace", "image_reference"): dict(
        media={"ref_images": [img(), img(800, 800)]}, params={"obj_or_bg": "obj,bg"}, size="832x1088"
    ),
    ("local", "preview-vace", "video_repainting"): dict(
        media={"video": vid()}, params={"control_condition": "depth"}
    ),
    ("local", "preview-vace", "video_edit"): dict(media={"video": vid(), "mask_image": img()}),
    ("local", "preview-vace", "video_extension"): dict(media={"first_clip": vid(d=2.0)}),
    ("local", "preview-vace", "video_outpainting"): dict(
        media={"video": vid()}, params={"left_scale": "1.5"}
    ),
    ("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", "t2v"): dict(
        size="960x960", seed=123, negative_prompt="blurry"
    ),
    ("siliconflow", "Wan-AI/Wan2.2-I2V-A14B", "i2v"): dict(media={"image": img(1920, 1080, fmt="jpeg")}),
    ("dashscope", "wan2.5-i2v-preview", "i2v"): dict(
        media={"image": img(), "audio": aud(5)}, duration=10, resolution="720P"
    ),
    ("dashscope", "wan2.2-i2v-flash", "i2v"): dict(media={"image": img(fmt="webp")}, resolution="480p"),
    ("dashscope", "wan2.2-i2v-plus", "i2v"): dict(media={"image": img(fmt="bmp")}, seed=2147483647),
    ("dashscope", "wanx2.1-i2v-plus", "i2v"): dict(media={"image": img(fmt="JPEG")}, duration=5),
    ("dashscope", "wanx2.1-i2v-turbo", "i2v"): dict(media={"image": img(400, 1800)}, duration=3),
    ("dashscope", "wan2.1-vace-plus", "image_reference"): dict(
        media={"ref_images": [img(), img(), img()]}, params={"obj_or_bg": ["obj", "obj", "bg"]}
    ),
    ("dashscope", "wan2.1-vace-plus", "video_repainting"): dict(
        media={"video": vid(), "ref_images": img()},
        params={"control_condition": "posebodyface", "strength": 0.4},
    ),
    ("dashscope", "wan2.1-vace-plus", "video_edit"): dict(
        media={"video": vid(), "mask_image": img()}, params={"mask_frame_id": 40, "expand_mode": "bbox"}
    ),
    ("dashscope", "wan2.1-vace-plus", "video_extension"): dict(
        media={"first_frame": img(), "last_frame": img(), "video": vid()},
        params={"control_condition": "depth"},
    ),
    ("dashscope", "wan2.1-vace-plus", "video_outpainting"): dict(
        media={"video": vid(d=3.0)}, params={"top_scale": 2.0, "bottom_scale": "1.0"}
    ),
    ("jiekou", "wan2.1-t2v", "t2v"): dict(
        size="720x1280", seed=9999999999, params={"loras": '[{"path": "Remade-AI/Cyberpunk", "scale": 1.2}]'}
    ),
}


# --------------------------------------------------------------------------------------------- data


def test_catalogue_lists_the_four_providers_and_every_seed_model():
    assert set(CATALOG) == {"local", "siliconflow", "dashscope", "jiekou"}
    assert set(PROVIDER_LABELS) == set(CATALOG)
    assert set(CATALOG["siliconflow"]) == {"Wan-AI/Wan2.2-T2V-A14B", "Wan-AI/Wan2.2-I2V-A14B"}
    assert set(CATALOG["dashscope"]) == {
        "wan2.5-i2v-preview",
        "wan2.2-i2v-flash",
        "wan2.2-i2v-plus",
        "wanx2.1-i2v-plus",
        "wanx2.1-i2v-turbo",
        "wan2.1-vace-plus",
    }
    assert set(CATALOG["jiekou"]) == {"wan2.1-t2v"}
    assert set(CATALOG["local"]) == {"preview-t2v", "preview-i2v", "preview-vace"}


def test_happy_cases_cover_every_model_and_task():
    pairs = {(m.provider, m.id, t) for m in C.iter_models() for t in m.tasks}
    assert pairs == set(HAPPY)


@pytest.mark.parametrize("model", list(C.iter_models()), ids=lambda m: m.key)
def test_model_data_is_consistent(model):
    assert model.label and model.tasks
    assert set(model.tasks) <= set(TASKS)
    assert model.paid is (model.provider != "local")
    if model.default_size is not None:
        assert model.default_size in model.sizes
    if model.default_resolution is not None:
        assert model.default_resolution in model.resolutions
    if model.default_duration is not None:
        assert model.default_duration in model.durations
    for size in model.sizes:
        assert C.parse_size(size) is not None and "x" in size
    for p in model.params:
        assert p.type in C.PARAM_TYPES
        assert p.tasks is None or set(p.tasks) <= set(model.tasks)
        if p.choices is not None and p.default is not None:
            assert p.default in p.choices
        if p.default is not None and p.min is not None:
            assert p.min <= p.default
        if p.default is not None and p.max is not None:
            assert p.default <= p.max
    for s in model.media:
        assert s.kind in C.MEDIA_KINDS
        assert s.tasks is None or set(s.tasks) <= set(model.tasks)
        assert s.many >= 1
        if s.limits.formats is not None:
            assert all(f == f.lower() for f in s.limits.formats)
    # no two params or slots of the same name may apply to the same task
    for t in model.tasks:
        names = [p.name for p in model.params if p.applies_to(t)]
        assert len(names) == len(set(names)), (t, names)
        slots = [s.name for s in model.media if s.applies_to(t)]
        assert len(slots) == len(set(slots)), (t, slots)


# Where a fact comes from, as the catalogue writes it: a seed number, or the dagger/double dagger marks.
SOURCE_MARK = re.compile("\\[\\d{3}\\]|\u2020|\u2021")


def _params_and_slots():
    for m in C.iter_models():
        for p in m.params:
            yield m, p
            yield from ((m, q) for q in p.items or ())
        yield from ((m, s) for s in m.media)


def test_help_texts_are_for_creators_and_the_sources_are_kept_apart():
    with_source = 0
    for m, item in _params_and_slots():
        where = f"{m.key} {item.name}"
        assert not SOURCE_MARK.search(item.help), where
        assert '""' not in item.help and "default not stated" not in item.help, where
        # no dotted field names (input.img_url) and no setting names as code (control_condition)
        assert not re.search(r"\b[a-z_]+\.[a-z_]{2,}\b", item.help), where
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", item.help), where
        if item.help:
            assert (
                item.help[0].isupper()
                or item.help[0].isdigit()
                or item.help.split(":")[0] in (item.choices or ())
            ), where
            assert item.help.endswith("."), where
        with_source += bool(item.source)
        if m.provider != "local":
            assert item.source, f"{where} says where its facts come from"
    assert with_source > 30
    vace = get_model("dashscope", "wan2.1-vace-plus")
    assert vace.param("obj_or_bg").source == "[004]"
    assert vace.param("watermark").source == "[004]; default false \u2021"
    assert "[002]" in get_model("dashscope", "wan2.2-i2v-flash").slot("image").source


def test_help_texts_keep_the_facts():
    vace = get_model("dashscope", "wan2.1-vace-plus")
    edit = vace.param("control_condition", "video_edit").help
    assert "none, posebodyface (face and body motion) or depth" in edit
    assert "frame rate times its length in seconds, plus 1" in vace.param("mask_frame_id").help
    assert "does not say whether that is on or off" in vace.param("prompt_extend").help
    assert vace.param("top_scale").help.startswith("Extend the picture upwards by this factor")
    assert vace.param("left_scale").help.startswith("Extend the picture to the left by this factor")
    sound = get_model("dashscope", "wan2.5-i2v-preview")
    assert "On unless you turn it off" in sound.param("prompt_extend").help
    assert "WAV or MP3, 3 to 30 s, at most 15 MB" in sound.slot("audio").help
    assert "16:9, 9:16 or 1:1" in get_model("siliconflow", "Wan-AI/Wan2.2-I2V-A14B").slot("image").help


def test_empty_choice_shows_as_none():
    assert C._show_choice("") == "none"
    assert C._show_choice("depth") == "depth"


def test_task_labels_are_short_sentence_case_and_name_no_provider():
    assert set(C.TASK_LABELS) == set(TASKS)
    assert C.TASK_LABELS["t2v"] == "Text to video"
    assert C.TASK_LABELS["video_edit"] == "Edit inside a mask"
    for task, label in C.TASK_LABELS.items():
        assert label[0].isupper() and label[1:] == label[1:].lower(), task
        assert len(label) <= 40 and "local" not in label.lower(), task
    assert len(set(C.TASK_LABELS.values())) == len(TASKS)


def test_as_data_round_trips_through_json():
    data = as_data()
    again = json.loads(json.dumps(data))
    assert again == data
    assert set(again["tasks"]) == set(TASKS)
    vace = again["providers"]["dashscope"]["models"]["wan2.1-vace-plus"]
    assert vace["region_ids"]["beijing"] == "wanx2.1-vace-plus"
    assert vace["sizes"][0] == "1280x720"
    assert {p["name"] for p in vace["params"]} >= {"obj_or_bg", "mask_frame_id", "expand_mode"}
    assert again["providers"]["jiekou"]["models"]["wan2.1-t2v"]["seed_max"] == 9999999999
    assert again["tasks"]["video_edit"] == "Edit inside a mask"
    # Where the facts come from is part of the data, apart from the help shown to creators.
    obj_or_bg = next(p for p in vace["params"] if p["name"] == "obj_or_bg")
    assert obj_or_bg["source"] == "[004]" and "[004]" not in obj_or_bg["help"]
    assert next(s for s in vace["media"] if s["name"] == "mask_image")["source"] == "[004]"
    assert sum(len(p["models"]) for p in again["providers"].values()) == len(list(C.iter_models()))


def test_get_model_errors_list_what_exists():
    with pytest.raises(CatalogError) as info:
        get_model("runway", "gen3")
    assert "provider" in info.value.errors and "siliconflow" in str(info.value)
    with pytest.raises(CatalogError) as info:
        get_model("dashscope", "wan9-i2v")
    assert "model" in info.value.errors and "wan2.2-i2v-flash" in str(info.value)


# --------------------------------------------------------------------------------------------- helpers API


def test_aspect_helpers():
    assert aspect_label(1920, 1080) == "16:9"
    assert aspect_label(1080, 1920) == "9:16"
    assert aspect_label(1024, 768) == "4:3"
    assert aspect_label(1290, 720) == "16:9"  # within 1 %
    assert aspect_label(1450, 1000) == "29:20"
    assert aspect_label(1001, 997).endswith(":1") or aspect_label(1001, 997) == "1:1"
    label, error = closest_aspect(1024, 768, ("16:9", "9:16", "1:1"))
    assert label in ("16:9", "1:1") and error > 0.2
    assert closest_aspect(1280, 720) == ("16:9", 0.0)


def test_parse_size_and_formats():
    assert C.parse_size("1280*720") == (1280, 720)
    assert C.parse_size("1280 x 720") == (1280, 720)
    assert C.parse_size("1280\u00d7720") == (1280, 720)
    assert C.parse_size("big") is None and C.parse_size("0x5") is None
    assert C.normalise_format("JPG") == "jpeg"
    assert C.normalise_format("MPO") == "jpeg"
    assert C.normalise_format("image/png") == "png"
    assert C.normalise_format("mov,mp4,m4a,3gp,3g2,mj2") == "mp4"


def test_catalog_error_str_joins_messages():
    e = CatalogError({"prompt": ["too long"], "__all__": ["bad"]})
    assert str(e) == "prompt: too long; bad"
    assert CatalogError("plain").errors == {"__all__": ["plain"]}


# --------------------------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("key", list(HAPPY), ids=lambda k: f"{k[0]}:{k[1]}:{k[2]}")
def test_every_model_validates_a_happy_request(key):
    provider, model, task = key
    clean = validate(req(provider, model, task, **HAPPY[key]))
    assert (clean.provider, clean.task) == (provider, task)
    assert clean.model == model
    spec = get_model(provider, model)
    if spec.sizes_for(task) and task in spec.input_sized_tasks:
        assert clean.size is None  # the output keeps the input's size
    elif spec.sizes_for(task):
        assert clean.size in spec.sizes and (clean.width, clean.height) == C.parse_size(clean.size)
    assert isinstance(clean.params, dict)
    for name in clean.params:
        assert spec.param(name, task) is not None


def test_defaults_are_filled_and_types_coerced():
    clean = validate(req("dashscope", "wan2.2-i2v-plus", media={"image": img()}))
    assert clean.resolution == "1080P" and clean.duration == 5 and clean.seed is None
    assert clean.params == {"prompt_extend": True, "watermark": False}
    clean = validate(
        req(
            "dashscope",
            "wan2.2-i2v-flash",
            media={"image": img()},
            params={"prompt_extend": "false", "watermark": "1"},
        )
    )
    assert clean.resolution is None  # default not confirmed: let the vendor choose
    assert clean.params == {"prompt_extend": False, "watermark": True}
    clean = validate(req("jiekou", "wan2.1-t2v", seed="42", params={"steps": "12", "fast_mode": "yes"}))
    assert (clean.width, clean.height, clean.size) == (832, 480, "832x480")
    assert clean.seed == 42 and clean.params["steps"] == 12 and clean.params["fast_mode"] is True
    assert clean.params["guidance_scale"] == 5.0 and clean.params["enable_safety_checker"] is True
    assert validate(req("jiekou", "wan2.1-t2v")).seed == -1
    clean = validate(req("dashscope", "wan2.5-i2v-preview", media={"image": img()}))
    assert clean.params["audio"] is True and clean.resolution == "1080P" and clean.fps == 24


def test_prompt_is_stripped_before_counting():
    padded = "  " + "x" * 800 + "\n\n"
    clean = validate(req("dashscope", "wan2.2-i2v-flash", prompt=padded, media={"image": img()}))
    assert clean.prompt == "x" * 800


# --------------------------------------------------------------------------------------------- task, sizes


def test_task_must_be_supported():
    assert_error(
        req("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", "i2v", size="1280x720"), "task", "does not do i2v"
    )
    assert_error(req("jiekou", "wan2.1-t2v", "dance"), "task", "no task")
    assert_error(req("dashscope", "wan2.1-vace-plus", None), "task", "choose")


def test_task_is_inferred_for_single_task_models_and_first_last_frame():
    assert validate(req("jiekou", "wan2.1-t2v")).task == "t2v"
    clean = validate(req("local", "preview-i2v", media={"image": img(), "last_image": img()}))
    assert clean.task == "flf2v"
    assert validate(req("local", "preview-i2v", media={"image": img()})).task == "i2v"


def test_size_must_be_in_the_models_set():
    assert_error(req("jiekou", "wan2.1-t2v", size="1920x1080"), "size", "832x480", "1920x1080")
    assert_error(req("jiekou", "wan2.1-t2v", size="huge"), "size", "not a size")
    assert_error(
        req("dashscope", "wan2.2-i2v-flash", size="1280x720", media={"image": img()}),
        "size",
        "resolution instead",
    )
    clean = validate(
        req(
            "dashscope", "wan2.1-vace-plus", "image_reference", size="1088*832", media={"ref_images": [img()]}
        )
    )
    assert clean.size == "1088x832"


def test_siliconflow_t2v_needs_a_size_because_no_default_is_stated():
    assert_error(req("siliconflow", "Wan-AI/Wan2.2-T2V-A14B"), "size", "needs a size", "960x960")


def test_vace_size_only_where_the_vendor_lists_it():
    assert_error(
        req(
            "dashscope",
            "wan2.1-vace-plus",
            "video_repainting",
            size="1280x720",
            media={"video": vid()},
            params={"control_condition": "depth"},
        ),
        "size",
        "follows the input video",
    )
    clean = validate(req("dashscope", "wan2.1-vace-plus", "video_outpainting", media={"video": vid()}))
    assert clean.size is None and clean.width is None


def test_resolution_must_be_in_the_models_set():
    assert_error(
        req("dashscope", "wan2.2-i2v-plus", resolution="720P", media={"image": img()}),
        "resolution",
        "480P or 1080P",
    )
    assert_error(req("jiekou", "wan2.1-t2v", resolution="720P"), "resolution", "no resolution")
    assert (
        validate(req("dashscope", "wanx2.1-i2v-turbo", resolution="720p", media={"image": img()})).resolution
        == "720P"
    )


@pytest.mark.parametrize(
    ("model", "ok", "bad"),
    [
        ("wan2.5-i2v-preview", (5, 10), (3, 8)),
        ("wan2.2-i2v-flash", (5,), (10, 3)),
        ("wanx2.1-i2v-turbo", (3, 4, 5), (2, 10)),
    ],
)
def test_duration_must_be_in_the_models_set(model, ok, bad):
    for d in ok:
        assert validate(req("dashscope", model, duration=str(d), media={"image": img()})).duration == d
    for d in bad:
        assert_error(req("dashscope", model, duration=d, media={"image": img()}), "duration", f"{d} s")


def test_duration_refusals():
    assert_error(
        req("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", size="1280x720", duration=5),
        "duration",
        "no duration setting",
    )
    assert_error(req("local", "preview-t2v", duration=11), "duration", "1 to 10")
    assert_error(req("local", "preview-t2v", duration="2.5"), "duration", "whole number")
    assert_error(
        req("dashscope", "wan2.1-vace-plus", "image_reference", duration=10, media={"ref_images": [img()]}),
        "duration",
        "5 s videos only",
    )


# --------------------------------------------------------------------------------------------- prompt


def test_prompt_required_and_limits():
    assert_error(req("jiekou", "wan2.1-t2v", prompt="   "), "prompt", "needs a prompt")
    assert_error(
        req("dashscope", "wan2.1-vace-plus", "video_outpainting", prompt="", media={"video": vid()}),
        "prompt",
        "needs a prompt",
    )
    assert_error(
        req("dashscope", "wan2.2-i2v-flash", prompt="y" * 801, media={"image": img()}),
        "prompt",
        "801 characters",
        "at most 800",
    )
    assert validate(req("dashscope", "wan2.5-i2v-preview", prompt="y" * 2000, media={"image": img()}))
    assert_error(
        req("dashscope", "wan2.5-i2v-preview", prompt="y" * 2001, media={"image": img()}), "prompt", "2000"
    )
    assert_error(req("jiekou", "wan2.1-t2v", prompt="z" * 2001), "prompt", "2001")
    # VACE cuts a longer prompt itself [004]: accepted with a note (see the trims below), on the preview refused
    assert_error(
        req("local", "preview-vace", "video_outpainting", prompt="v" * 2001, media={"video": vid()}),
        "prompt",
        "2000",
    )
    # DashScope i2v: the prompt itself is optional (an effect template may stand in for it)
    assert validate(req("dashscope", "wanx2.1-i2v-plus", prompt="", media={"image": img()})).prompt == ""


def test_siliconflow_word_advice_is_a_warning_not_an_error():
    long_prompt = " ".join(["word"] * 201)
    clean = validate(req("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", prompt=long_prompt, size="1280x720"))
    assert any("201 words" in w and "200" in w for w in clean.warnings)
    short = validate(req("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", size="1280x720"))
    assert short.warnings == []


def test_negative_prompt_limits():
    assert_error(
        req("dashscope", "wan2.2-i2v-flash", negative_prompt="n" * 501, media={"image": img()}),
        "negative_prompt",
        "501",
        "500",
    )
    assert validate(req("dashscope", "wan2.2-i2v-flash", negative_prompt="n" * 500, media={"image": img()}))
    assert_error(req("jiekou", "wan2.1-t2v", negative_prompt="n" * 2001), "negative_prompt", "2000")
    assert_error(
        req(
            "dashscope",
            "wan2.1-vace-plus",
            "video_outpainting",
            negative_prompt="blurry",
            media={"video": vid()},
        ),
        "negative_prompt",
        "no negative prompt",
    )


# --------------------------------------------------------------------------------------------- seed


def test_dashscope_seed_range():
    ok = req("dashscope", "wan2.2-i2v-flash", seed=2147483647, media={"image": img()})
    assert validate(ok).seed == 2147483647
    assert validate(req("dashscope", "wan2.2-i2v-flash", seed=0, media={"image": img()})).seed == 0
    for bad in (2147483648, -1):
        assert_error(
            req("dashscope", "wan2.2-i2v-flash", seed=bad, media={"image": img()}),
            "seed",
            "between 0 and 2147483647",
        )


def test_jiekou_seed_range_is_64_bit():
    for ok in (-1, 0, 2**31, 9999999999):
        assert validate(req("jiekou", "wan2.1-t2v", seed=str(ok))).seed == ok
    for bad in (-2, 10000000000):
        assert_error(req("jiekou", "wan2.1-t2v", seed=bad), "seed", "between -1 and 9999999999")
    assert_error(req("jiekou", "wan2.1-t2v", seed="lucky"), "seed", "whole number")


def test_siliconflow_seed_range_is_not_invented():
    clean = validate(req("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", size="1280x720", seed=2**40))
    assert clean.seed == 2**40


# --------------------------------------------------------------------------------------------- params


def test_unknown_params_are_refused():
    assert_error(req("jiekou", "wan2.1-t2v", params={"cfg": 3}), "cfg", "no setting", "steps")
    assert_error(
        req("siliconflow", "Wan-AI/Wan2.2-T2V-A14B", size="1280x720", params={"image_size": "960x960"}),
        "image_size",
        "size field",
    )
    # a VACE setting of another function names where it belongs
    assert_error(
        req(
            "dashscope",
            "wan2.1-vace-plus",
            "video_outpainting",
            media={"video": vid()},
            params={"strength": 0.5},
        ),
        "strength",
        "video_repainting",
    )
    # watermark is on jiekou's playground only, not in the seed
    assert_error(req("jiekou", "wan2.1-t2v", params={"watermark": True}), "watermark")


def test_param_types_and_ranges():
    assert_error(req("jiekou", "wan2.1-t2v", params={"steps": "many"}), "steps", "whole number")
    assert_error(req("jiekou", "wan2.1-t2v", params={"steps": 41}), "steps", "between 1 and 40", "41")
    assert_error(req("jiekou", "wan2.1-t2v", params={"steps": 0}), "steps", "between 1 and 40")
    assert_error(
        req("jiekou", "wan2.1-t2v", params={"guidance_scale": "10.5"}), "guidance_scale", "between 0 and 10"
    )
    assert_error(req("jiekou", "wan2.1-t2v", params={"flow_shift": 0.5}), "flow_shift", "between 1 and 10")
    assert_error(req("jiekou", "wan2.1-t2v", params={"fast_mode": "maybe"}), "fast_mode", "true or false")
    assert_error(req("jiekou", "wan2.1-t2v", params={"guidance_scale": "nan"}), "guidance_scale", "finite")
    assert_error(
        req(
            "dashscope",
            "wan2.1-vace-plus",
            "video_repainting",
            media={"video": vid()},
            params={"control_condition": "depth", "strength": 1.5},
        ),
        "strength",
        "between 0 and 1",
    )
    assert_error(
        req(
            "dashscope",
            "wan2.1-vace-plus",
            "video_outpainting",
            media={"video": vid()},
            params={"left_scale": 0.5},
        ),
        "left_scale",
        "between 1 and 2",
    )
    assert_error(
        req(
            "dashscope",
            "wan2.1-vace-plus",
            "video_outpainting",
            media={"video": vid()},
            params={"right_scale": 2.5},
        ),
        "right_scale",
        "between 1 and 2",
    )


def test_choices_are_enforced():
    assert_error(
        req("dashscope", "wanx2.1-i2v-turbo", media={"image": img()}, params={"template": "balloon"}),
        "template",
        "flying",
    )
    for template in ("flying", "inflate"):  # magic float and balloon inflation, the effects [002] names
        clean = validate(
            req(
                "dashscope",
                "wanx2.1-i2v-turbo",
                prompt="",
                media={"image": img()},
                params={"template": template},
            )
        )
        assert clean.params["template"] == template


@pytest.mark.parametrize("model", ["wan2.5-i2v-preview", "wan2.2-i2v-flash", "wan2.2-i2v-plus"])
def test_only_the_models_that_take_effects_offer_them(model):
    """[002]: only some models have effect templates; an effect asked of another is refused on the form."""
    assert get_model("dashscope", model).param("template") is None
    assert_error(req("dashscope", model, media={"image": img()}, params={"template": "flying"}), "template")


def test_an_effect_id_the_vendor_page_does_not_give_says_so():
    help_text = get_model("dashscope", "wanx2.1-i2v-plus").param("template").help
    assert "inflate" in help_text and "not confirmed" in help_text


def test_template_with_prompt_warns_that_the_prompt_is_ignored():
    clean = validate(
        req("dashscope", "wanx2.1-i2v-plus", media={"image": img()}, params={"template": "flying"})
    )
    assert any("template" in w for w in clean.warnings)


def test_loras():
    clean = validate(req("jiekou", "wan2.1-t2v", params={"loras": [{"path": "a/b", "scale": "4"}]}))
    assert clean.params["loras"] == [{"path": "a/b", "scale": 4.0}]
    four = json.dumps([{"path": f"a/{i}", "scale": 1} for i in range(4)])
    assert_error(req("jiekou", "wan2.1-t2v", params={"loras": four}), "loras", "at most 3")
    assert_error(
        req("jiekou", "wan2.1-t2v", params={"loras": [{"path": "a/b", "scale": 4.5}]}),
        "loras",
        "between 0 and 4",
    )
    assert_error(req("jiekou", "wan2.1-t2v", params={"loras": [{"scale": 1}]}), "loras", "needs path")
    assert_error(
        req("jiekou", "wan2.1-t2v", params={"loras": [{"path": "a", "scale": 1, "weight": 2}]}),
        "loras",
        "unknown key",
    )
    assert_error(req("jiekou", "wan2.1-t2v", params={"loras": "[not json"}), "loras", "JSON")


def test_jiekou_width_and_height_params_become_the_size():
    clean = validate(req("jiekou", "wan2.1-t2v", params={"width": "480", "height": "832"}))
    assert (clean.size, clean.width, clean.height) == ("480x832", 480, 832)
    assert "width" not in clean.params
    assert_error(req("jiekou", "wan2.1-t2v", params={"width": 1280}), "size", "both width and height")
    assert_error(req("jiekou", "wan2.1-t2v", params={"width": 1280, "height": 480}), "size", "1280x480")


# --------------------------------------------------------------------------------------------- media


def test_required_media_and_unexpected_media():
    assert_error(req("dashscope", "wan2.2-i2v-flash"), "image", "needs a first frame")
    assert_error(req("siliconflow", "Wan-AI/Wan2.2-I2V-A14B"), "image", "needs a first frame")
    assert_error(req("jiekou", "wan2.1-t2v", media={"image": img()}), "image", "no input")
    assert_error(req("dashscope", "wan2.2-i2v-flash", media={"image": img(), "audio": aud()}), "audio")
    assert_error(
        req(
            "dashscope", "wan2.1-vace-plus", "video_outpainting", media={"video": vid(), "mask_image": img()}
        ),
        "mask_image",
        "takes no mask image",
    )
    assert_error(req("dashscope", "wan2.1-vace-plus", "image_reference"), "ref_images", "reference image")


def test_media_kind_must_match_the_slot():
    assert_error(req("dashscope", "wan2.2-i2v-flash", media={"image": vid()}), "image", "must be an image")


def test_media_counts():
    assert_error(
        req(
            "local",
            "preview-vace",
            "image_reference",
            media={"ref_images": [img()] * 4},
            params={"obj_or_bg": "obj,obj,obj,obj"},
        ),
        "ref_images",
        "at most 3",
        "you gave 4",
    )
    assert_error(
        req(
            "dashscope",
            "wan2.1-vace-plus",
            "video_edit",
            media={"video": vid(), "mask_image": img(), "ref_images": [img(), img()]},
        ),
        "ref_images",
        "at most 1",
    )


def test_image_formats_bytes_and_sides():
    ds = ("dashscope", "wan2.2-i2v-flash")
    assert_error(req(*ds, media={"image": img(fmt="gif")}), "image", "GIF", "JPEG, PNG, BMP or WEBP")
    assert_error(req(*ds, media={"image": img(fmt="tiff")}), "image", "TIFF")
    assert_error(req(*ds, media={"image": img(size=11 * MB)}), "image", "11 MB", "10 MB")
    assert_error(req(*ds, media={"image": img(3000, 1500)}), "image", "3000x1500", "between 360 and 2000")
    assert_error(req(*ds, media={"image": img(359, 640)}), "image", "359x640")
    assert validate(req(*ds, media={"image": img(360, 2000)}))
    # VACE accepts TIFF, DashScope i2v does not
    assert validate(
        req("dashscope", "wan2.1-vace-plus", "image_reference", media={"ref_images": [img(fmt="TIFF")]})
    )


def test_alpha_is_refused_for_dashscope_but_fine_locally():
    assert_error(
        req("dashscope", "wan2.2-i2v-flash", media={"image": img(has_alpha=True)}), "image", "transparency"
    )
    # VACE: no page refuses transparency, so neither does the studio
    assert validate(
        req("dashscope", "wan2.1-vace-plus", "image_reference", media={"ref_images": [img(has_alpha=True)]})
    )
    assert validate(req("local", "preview-i2v", media={"image": img(has_alpha=True)}))
    assert validate(req("siliconflow", "Wan-AI/Wan2.2-I2V-A14B", media={"image": img(has_alpha=True)}))


def test_animated_images_are_refused():
    for provider, model in (
        ("dashscope", "wan2.2-i2v-flash"),
        ("siliconflow", "Wan-AI/Wan2.2-I2V-A14B"),
        ("local", "preview-i2v"),
    ):
        assert_error(
            req(provider, model, media={"image": img(fmt="webp", animated=True)}), "image", "animated"
        )


def test_video_limits():
    vace = ("dashscope", "wan2.1-vace-plus", "video_outpainting")
    assert_error(
        req("local", "preview-vace", "video_outpainting", media={"video": vid(d=6.2)}), "video", "6.2 s"
    )
    longer = validate(req(*vace, media={"video": vid(d=6.2)}))  # the vendor uses the first 5 s [004]
    assert any("6.2 s; only the first 5 s are used" in w for w in longer.warnings)
    assert not validate(req(*vace, media={"video": vid(d=81 / 16)})).warnings
    assert validate(req(*vace, media={"video": vid(d=81 / 16)}))  # 81 frames at 16 fps is a 5 s clip
    assert_error(req(*vace, media={"video": vid(fps=12)}), "video", "12 fps", "at least 16")
    assert validate(req(*vace, media={"video": vid(fps=30)}))
    assert_error(req(*vace, media={"video": vid(size=51 * MB)}), "video", "51 MB", "50 MB")
    assert_error(req(*vace, media={"video": vid(fmt="matroska,webm")}), "video", "MP4")
    assert_error(req(*vace, media={"video": vid(d=None)}), "video", "duration could not be read")


def test_audio_limits():
    m = ("dashscope", "wan2.5-i2v-preview")
    assert_error(req(*m, media={"image": img(), "audio": aud(2.0)}), "audio", "2.0 s", "at least 3 s")
    assert_error(req(*m, media={"image": img(), "audio": aud(31.0)}), "audio", "31.0 s", "at most 30 s")
    assert_error(req(*m, media={"image": img(), "audio": aud(size=16 * MB)}), "audio", "15 MB")
    assert_error(req(*m, media={"image": img(), "audio": aud(fmt="ogg")}), "audio", "WAV or MP3")
    assert validate(req(*m, media={"image": img(), "audio": aud(fmt="WAVE")}))


def test_audio_warnings():
    m = ("dashscope", "wan2.5-i2v-preview")
    clean = validate(req(*m, media={"image": img(), "audio": aud(20)}, params={"audio": False}, duration=10))
    assert any("audio=false is ignored" in w for w in clean.warnings)
    assert any("only the first 10 s" in w for w in clean.warnings)
    clean = validate(req(*m, media={"image": img(), "audio": aud(3.5)}, duration=5))
    assert any("silent" in w for w in clean.warnings)


# --------------------------------------------------------------------------------------------- aspects


def test_siliconflow_i2v_size_follows_the_image():
    m = ("siliconflow", "Wan-AI/Wan2.2-I2V-A14B")
    for (w, h), size in {
        (1920, 1080): "1280x720",
        (1080, 1920): "720x1280",
        (1024, 1024): "960x960",
        (1290, 720): "1280x720",
    }.items():
        clean = validate(req(*m, media={"image": img(w, h)}))
        assert clean.size == size and (clean.width, clean.height) == C.parse_size(size)
    assert validate(req(*m, size="1280x720", media={"image": img(1600, 900)})).size == "1280x720"


def test_siliconflow_i2v_refuses_other_aspects_and_names_the_closest():
    m = ("siliconflow", "Wan-AI/Wan2.2-I2V-A14B")
    text = assert_error(
        req(*m, media={"image": img(1024, 768)}),
        "image",
        "16:9, 9:16 or 1:1",
        "4:3",
        "1024x768",
        "Crop it first",
    )
    assert text.startswith(
        "Wan-AI/Wan2.2-I2V-A14B needs a first frame of 16:9, 9:16 or 1:1; this image is 4:3"
    )
    assert_error(req(*m, media={"image": img(1450, 1000)}), "image", "closest to 16:9")
    assert_error(req(*m, media={"image": img(1300, 720)}), "image", "16:9")  # 1.6 % off: beyond tolerance
    errors = errors_of(req(*m, media={"image": img(1024, 768)}))
    assert "size" not in errors  # one message, on the image


def test_siliconflow_i2v_size_must_match_the_image():
    text = assert_error(
        req("siliconflow", "Wan-AI/Wan2.2-I2V-A14B", size="1280x720", media={"image": img(720, 1280)}),
        "size",
        "9:16",
        "720x1280",
    )
    assert "leave the size empty" in text


def test_dashscope_i2v_takes_any_aspect():
    clean = validate(req("dashscope", "wan2.2-i2v-flash", media={"image": img(1024, 768)}))
    assert clean.size is None and clean.warnings == []


def test_local_i2v_picks_the_closest_size_and_warns_about_cropping():
    clean = validate(req("local", "preview-i2v", media={"image": img(1080, 1920)}))
    assert clean.size == "720x1280" and clean.warnings == []
    clean = validate(req("local", "preview-i2v", media={"image": img(1024, 768)}))
    assert clean.size in get_model("local", "preview-i2v").sizes
    assert any("crops" in w for w in clean.warnings)
    clean = validate(req("local", "preview-i2v", media={"image": img(), "last_image": img(800, 800)}))
    assert any("last frame" in w for w in clean.warnings)


# --------------------------------------------------------------------------------------------- VACE rules


def edit(**kw):
    media = kw.pop("media", {"video": vid(), "mask_image": img()})
    return req("dashscope", "wan2.1-vace-plus", "video_edit", media=media, **kw)


def test_mask_image_must_have_the_video_size():
    assert_error(
        edit(media={"video": vid(832, 480), "mask_image": img(1280, 720)}),
        "mask_image",
        "1280x720",
        "832x480",
    )


def test_mask_video_must_match_the_input_video():
    assert_error(edit(media={"video": vid(), "mask_video": vid(fps=30)}), "mask_video", "frame rate")
    assert_error(edit(media={"video": vid(), "mask_video": vid(d=3.0)}), "mask_video", "length")
    assert_error(edit(media={"video": vid(), "mask_video": vid(640, 360)}), "mask_video", "640x360")
    clean = validate(edit(media={"video": vid(), "mask_video": vid()}))
    assert "mask_type" not in clean.params and "mask_frame_id" not in clean.params


def test_exactly_one_mask_for_video_edit():
    assert_error(
        edit(media={"video": vid(), "mask_image": img(), "mask_video": vid()}), "mask_video", "not both"
    )
    assert_error(edit(media={"video": vid()}), "mask_image", "mask image or a mask video")


def test_mask_frame_id_range_comes_from_the_video():
    assert validate(edit(params={"mask_frame_id": 81})).params["mask_frame_id"] == 81
    assert_error(edit(params={"mask_frame_id": 82}), "mask_frame_id", "between 1 and 81", "16 fps")
    short = {"video": vid(d=3.0, fps=24), "mask_image": img()}
    assert validate(edit(media=short, params={"mask_frame_id": 73}))
    assert_error(edit(media=short, params={"mask_frame_id": 74}), "mask_frame_id", "between 1 and 73")
    assert_error(edit(params={"mask_frame_id": 0}), "mask_frame_id", "at least 1")
    clean = validate(edit())
    assert clean.params["mask_frame_id"] == 1 and clean.params["mask_type"] == "tracking"


def test_tracking_only_params_are_refused_with_fixed():
    for name, value in (("expand_ratio", 0.2), ("expand_mode", "bbox")):
        assert_error(edit(params={"mask_type": "fixed", name: value}), name, "mask_type tracking", "fixed")
    clean = validate(edit(params={"mask_type": "fixed"}))
    assert "expand_ratio" not in clean.params and "expand_mode" not in clean.params
    clean = validate(edit(params={"expand_ratio": "0.3"}))
    assert clean.params["expand_ratio"] == 0.3 and clean.params["expand_mode"] == "hull"


def test_mask_image_only_params_are_refused_with_a_mask_video():
    media = {"video": vid(), "mask_video": vid()}
    assert_error(edit(media=media, params={"mask_type": "tracking"}), "mask_type", "mask image")
    assert_error(edit(media=media, params={"mask_frame_id": 2}), "mask_frame_id", "mask image")
    assert_error(edit(media=media, params={"expand_ratio": 0.1}), "expand_ratio", "mask image")
    assert_error(edit(params={"mask_type": "wobbly"}), "mask_type", "tracking, fixed")


def test_obj_or_bg_pairs_with_reference_images():
    ref = ("dashscope", "wan2.1-vace-plus", "image_reference")
    assert validate(req(*ref, media={"ref_images": img()})).params["obj_or_bg"] == ["obj"]
    assert_error(req(*ref, media={"ref_images": [img(), img()]}), "obj_or_bg", "2 reference images")
    assert_error(
        req(*ref, media={"ref_images": [img(), img()]}, params={"obj_or_bg": "obj"}),
        "obj_or_bg",
        "1 for 2 images",
    )
    assert_error(
        req(*ref, media={"ref_images": [img()]}, params={"obj_or_bg": ["obj", "sky"]}),
        "obj_or_bg",
        "obj or bg",
    )
    clean = validate(req(*ref, media={"ref_images": [img(), img()]}, params={"obj_or_bg": '["bg", "bg"]'}))
    assert clean.params["obj_or_bg"] == ["bg", "bg"]
    assert isinstance(clean.media["ref_images"], list)
    assert any("at most one background" in w for w in clean.warnings)


def test_control_condition_rules():
    vace = ("dashscope", "wan2.1-vace-plus")
    assert_error(
        req(*vace, "video_repainting", media={"video": vid()}),
        "control_condition",
        "needs control_condition",
        "posebodyface, posebody, depth, scribble",
    )
    assert_error(
        req(
            *vace,
            "video_edit",
            media={"video": vid(), "mask_image": img()},
            params={"control_condition": "scribble"},
        ),
        "control_condition",
        "must be one of none, posebodyface, depth; you gave 'scribble'",
    )
    assert (
        validate(
            req(
                *vace,
                "video_edit",
                media={"video": vid(), "mask_image": img()},
                params={"control_condition": ""},
            )
        ).params["control_condition"]
        == ""
    )
    assert_error(
        req(*vace, "video_extension", media={"first_clip": vid(d=2.0), "video": vid()}),
        "control_condition",
        "motion reference video",
    )
    assert validate(req(*vace, "video_extension", media={"first_clip": vid(d=2.0)}))


def test_video_extension_needs_something_to_extend():
    assert_error(
        req("dashscope", "wan2.1-vace-plus", "video_extension"),
        "first_frame",
        "first frame, last frame, first clip, last clip",
    )


def test_first_and_last_clip_together_at_most_three_seconds():
    ext = ("dashscope", "wan2.1-vace-plus", "video_extension")
    assert validate(req(*ext, media={"first_clip": vid(d=1.5), "last_clip": vid(d=1.5)}))
    assert_error(
        req(*ext, media={"first_clip": vid(d=2.0), "last_clip": vid(d=2.0)}),
        "last_clip",
        "4.0 s together",
        "at most 3 s",
    )
    assert any(
        "only the first 3 s" in w for w in validate(req(*ext, media={"first_clip": vid(d=3.5)})).warnings
    )
    clean = validate(req(*ext, media={"first_clip": vid(d=1.0, fps=16), "last_clip": vid(d=1.0, fps=24)}))
    assert any("frame rates" in w for w in clean.warnings)


def test_extension_inputs_must_agree_with_the_motion_video():
    ext = ("dashscope", "wan2.1-vace-plus", "video_extension")
    assert_error(
        req(
            *ext, media={"first_frame": img(960, 960), "video": vid()}, params={"control_condition": "depth"}
        ),
        "first_frame",
        "960x960",
        "1280x720",
    )
    assert_error(
        req(
            *ext,
            media={"first_clip": vid(d=2, fps=24), "video": vid(fps=16)},
            params={"control_condition": "depth"},
        ),
        "first_clip",
        "frame rate",
    )


def test_local_vace_mirrors_the_rules_without_public_urls():
    m = get_model("local", "preview-vace")
    assert not any(s.needs_public_url for s in m.media)
    assert_error(
        req(
            "local",
            "preview-vace",
            "video_edit",
            media={"video": vid(832, 480), "mask_image": img(1280, 720)},
        ),
        "mask_image",
        "832x480",
    )
    assert_error(
        req("local", "preview-vace", "video_repainting", media={"video": vid()}), "control_condition"
    )
    assert validate(
        req("local", "preview-vace", "image_reference", media={"ref_images": img(has_alpha=True)})
    )


def test_clean_job_is_a_plain_dataclass():
    clean = validate(req("local", "preview-t2v"))
    assert clean.size == "832x480" and clean.duration == 5 and clean.fps == 16
    assert dataclasses.asdict(clean)["provider"] == "local"
    assert clean.spec is get_model("local", "preview-t2v")


def test_all_errors_are_reported_together():
    errors = errors_of(req("jiekou", "wan2.1-t2v", prompt="", seed=-5, size="1x1", params={"steps": 99}))
    assert {"prompt", "seed", "size", "steps"} <= set(errors)


def test_video_edit_keeps_the_input_size_unless_one_is_chosen():
    """[004]: video_edit's output keeps the input video's resolution (up to 720p); its ``size`` is sent only
    when the creator chose one. image_reference has no input video: its documented default stays."""
    assert validate(edit(media={"video": vid(640, 360), "mask_image": img(640, 360)})).size is None
    chosen = validate(edit(size="960x960", media={"video": vid(640, 360), "mask_image": img(640, 360)}))
    assert chosen.size == "960x960"
    reference = req("dashscope", "wan2.1-vace-plus", "image_reference", media={"ref_images": [img()]})
    assert validate(reference).size == "1280x720"
    assert get_model("dashscope", "wan2.1-vace-plus").input_sized_tasks == ("video_edit",)


# ------------------------------------------------------------------ what VACE trims is accepted with a note [004]


def vace_req(task, media, **kw):
    return req("dashscope", "wan2.1-vace-plus", task, media=media, **kw)


def test_a_video_longer_than_5_s_is_accepted_with_a_note_that_only_5_s_are_used():
    clean = validate(
        vace_req("video_repainting", {"video": vid(d=8.0)}, params={"control_condition": "depth"})
    )
    assert any("only the first 5 s are used" in w for w in clean.warnings), clean.warnings


def test_a_clip_longer_than_3_s_is_accepted_with_a_note_but_two_clips_over_3_s_together_are_refused():
    clean = validate(vace_req("video_extension", {"first_clip": vid(d=4.0)}))
    assert any("only the first 3 s are used" in w for w in clean.warnings), clean.warnings
    assert_error(
        vace_req("video_extension", {"first_clip": vid(d=2.0), "last_clip": vid(d=2.0)}), "last_clip", "3 s"
    )


def test_more_than_3_references_are_accepted_with_a_note_that_only_the_first_3_are_used():
    refs = [img(), img(), img(), img()]
    clean = validate(
        vace_req("image_reference", {"ref_images": refs}, params={"obj_or_bg": "obj,obj,obj,bg"})
    )
    assert any("only the first 3" in w for w in clean.warnings), clean.warnings


def test_a_long_vace_prompt_is_accepted_with_a_note_that_the_vendor_cuts_it():
    clean = validate(vace_req("image_reference", {"ref_images": [img()]}, prompt="a fox " * 200))
    assert any("only the first 800 characters are used" in w for w in clean.warnings), clean.warnings


def test_a_transparent_vace_image_is_not_refused_no_page_says_so():
    validate(vace_req("image_reference", {"ref_images": [img(has_alpha=True)]}))
