"""jiekou.ai's catalogue entry holds the facts its page states (plain pytest, no database)."""

from __future__ import annotations

from studio.providers.catalog import get_model


def test_jiekou_facts():
    m = get_model("jiekou", "wan2.1-t2v")
    assert m.sizes == ("832x480", "480x832", "1280x720", "720x1280") and m.default_size == "832x480"
    assert (m.seed_min, m.seed_max, m.seed_default) == (-1, 9999999999, -1)
    assert m.prompt_max_chars == 2000 and m.negative_max_chars == 2000 and m.prompt_required
    assert m.durations == (5,) and m.fps is None
    assert m.param("steps").default == 30 and (m.param("steps").min, m.param("steps").max) == (1, 40)
    assert m.param("guidance_scale").default == 5.0 and m.param("flow_shift").min == 1
    assert m.param("enable_safety_checker").default is True and m.param("fast_mode").default is False
    assert m.param("loras").max_items == 3
    assert m.param("watermark") is None  # playground only, not in the seed
