"""SiliconFlow's catalogue entries hold the facts its pages state, and invent none (plain pytest, no database)."""

from __future__ import annotations

from studio.providers.catalog import get_model


def test_siliconflow_facts():
    t2v, i2v = (
        get_model("siliconflow", "Wan-AI/Wan2.2-T2V-A14B"),
        get_model("siliconflow", "Wan-AI/Wan2.2-I2V-A14B"),
    )
    for m in (t2v, i2v):
        assert m.sizes == ("1280x720", "720x1280", "960x960")
        assert m.advised_max_words == 200
        assert m.prompt_max_chars is None  # not stated
        assert m.negative_max_chars is None and m.seed_min is None and m.seed_max is None
        assert m.durations == () and m.fps is None
        assert m.default_size is None  # not stated
        assert dict(m.wire)["size"] == "image_size"
    assert i2v.slot("image").required and i2v.slot("image").limits.aspects == ("16:9", "9:16", "1:1")
    assert t2v.media == ()
