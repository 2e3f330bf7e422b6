"""The offline preview's catalogue entries: free, 16 fps, one to ten seconds, local inputs (plain pytest, no
database)."""

from __future__ import annotations

from studio.providers.catalog import CATALOG, get_model


def test_local_facts():
    for m in CATALOG["local"].values():
        assert (
            not m.paid and m.fps == 16 and m.durations == tuple(range(1, 11)) and m.prompt_max_chars == 2000
        )
        assert not m.needs_public_urls
    assert get_model("local", "preview-i2v").tasks == ("i2v", "flf2v")
    assert get_model("local", "preview-i2v").audio
    assert set(get_model("local", "preview-vace").sizes) >= {"832x1088", "1088x832"}
    assert "832x1088" not in get_model("local", "preview-t2v").sizes
