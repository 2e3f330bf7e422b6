"""DashScope's catalogue entries (image to video and VACE) hold the facts its pages state (plain pytest, no
database)."""

from __future__ import annotations

from studio.providers.catalog import MB, get_model


def test_dashscope_i2v_facts():
    expect = {
        "wan2.5-i2v-preview": (("480P", "720P", "1080P"), (5, 10), 24, 2000, "1080P", True),
        "wan2.2-i2v-flash": (("480P", "720P", "1080P"), (5,), 30, 800, None, False),
        "wan2.2-i2v-plus": (("480P", "1080P"), (5,), 30, 800, "1080P", False),
        "wanx2.1-i2v-plus": (("720P",), (5,), 30, 800, "720P", False),
        "wanx2.1-i2v-turbo": (("480P", "720P"), (3, 4, 5), 30, 800, None, False),
    }
    for mid, (res, durs, fps, pmax, default_res, audio) in expect.items():
        m = get_model("dashscope", mid)
        assert m.tasks == ("i2v",)  # page [002] documents no first-and-last-frame path
        assert (m.resolutions, m.durations, m.fps, m.prompt_max_chars) == (res, durs, fps, pmax), mid
        assert m.default_resolution == default_res
        assert m.audio is audio and (m.param("audio") is not None) is audio
        assert (m.slot("audio") is not None) is audio
        assert m.negative_max_chars == 500
        assert (m.seed_min, m.seed_max) == (0, 2147483647)
        assert m.sizes == ()
        assert m.param("prompt_extend").default is True
        assert m.param("watermark").default is False
        takes_effects = mid in ("wanx2.1-i2v-plus", "wanx2.1-i2v-turbo")
        assert (m.param("template") is not None) is takes_effects, mid
        if takes_effects:
            assert m.param("template").choices == ("flying", "inflate")
        image = m.slot("image").limits
        assert image.formats == ("jpeg", "png", "bmp", "webp")
        assert (image.min_side, image.max_side, image.max_bytes) == (360, 2000, 10 * MB)
        assert image.allow_alpha is False and image.aspects is None
    audio = get_model("dashscope", "wan2.5-i2v-preview").slot("audio")
    assert audio.limits.formats == ("wav", "mp3") and audio.limits.max_bytes == 15 * MB
    assert (audio.limits.min_duration, audio.limits.max_duration) == (3, 30)
    assert audio.needs_public_url


def test_vace_facts():
    m = get_model("dashscope", "wan2.1-vace-plus")
    assert m.tasks == (
        "image_reference",
        "video_repainting",
        "video_edit",
        "video_extension",
        "video_outpainting",
    )
    assert m.sizes == ("1280x720", "720x1280", "960x960", "832x1088", "1088x832")
    assert m.default_size == "1280x720" and m.size_wire_format == "W*H"
    assert m.durations == (5,) and m.prompt_max_chars == 800 and m.prompt_required
    assert m.needs_public_urls and all(s.needs_public_url for s in m.media)
    assert m.wire_model("beijing") == "wanx2.1-vace-plus"
    assert m.wire_model("singapore") == m.wire_model() == "wan2.1-vace-plus"
    assert get_model("dashscope", "wanx2.1-vace-plus") is m
    assert "wanx2.1-vace-plus" in m.notes
    assert m.param("control_condition", "video_repainting").choices == (
        "posebodyface",
        "posebody",
        "depth",
        "scribble",
    )
    assert m.param("control_condition", "video_repainting").required
    assert m.param("control_condition", "video_edit").choices == ("", "posebodyface", "depth")
    assert m.param("control_condition", "video_extension").choices is None  # values not listed
    assert (
        m.param("mask_type").choices == ("tracking", "fixed") and m.param("mask_type").default == "tracking"
    )
    assert m.param("expand_ratio").default == 0.05
    assert m.param("expand_mode").choices == ("hull", "bbox", "original")
    assert m.param("strength").default == 1.0 and m.param("strength").max == 1.0
    assert m.param("prompt_extend").default is None  # not stated for VACE
    for side in ("top", "bottom", "left", "right"):
        p = m.param(f"{side}_scale")
        assert (p.min, p.max, p.default) == (1.0, 2.0, 1.0)
    assert m.slot("ref_images", "image_reference").many == 3
    assert m.slot("ref_images", "video_edit").many == 1
    video = m.slot("video", "video_edit").limits
    # [004]: longer inputs are taken and only their start used; more than 3 references, only the first 3
    assert (video.formats, video.min_fps, video.uses_first, video.max_bytes) == (("mp4",), 16, 5, 50 * MB)
    assert video.max_duration is None and m.slot("ref_images", "image_reference").keeps_first
    assert m.slot("first_clip").limits.uses_first == 3 and m.slot("last_clip").limits.max_total_duration == 3
    assert m.prompt_truncated and m.slot("ref_images", "image_reference").limits.allow_alpha
    assert m.slot("ref_images", "image_reference").limits.formats == ("jpeg", "png", "bmp", "tiff", "webp")


def test_21_i2v_models_are_named_per_region():
    for beijing, singapore in (
        ("wanx2.1-i2v-plus", "wan2.1-i2v-plus"),
        ("wanx2.1-i2v-turbo", "wan2.1-i2v-turbo"),
    ):
        m = get_model("dashscope", beijing)
        assert m.wire_model("beijing") == beijing and m.wire_model("singapore") == singapore
        assert get_model("dashscope", singapore) is m
