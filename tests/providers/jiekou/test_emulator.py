"""jiekou.ai's emulator, driven over HTTP as the adapter drives it (plain pytest, no database).

.venv/bin/pytest tests/providers/jiekou/test_emulator.py -q
"""

from __future__ import annotations

import pytest

from tests.emulators.helpers import (
    client,
    download,
    probe,
    running,
    until,
)

jk = running("jiekou")


def jk_submit(c, **body):
    return c.post("/v3/async/wan-t2v", json={"prompt": "a cat", **body})


def jk_wait(c, task_id) -> list[dict]:
    terminal = ("TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")
    return until(
        lambda: c.get("/v3/async/task-result", params={"task_id": task_id}).json(),
        lambda r: r["task"]["status"] in terminal,
    )


# ============================================================================ jiekou


@pytest.mark.parametrize(
    ("extra", "size"),
    [
        ({}, (832, 480)),
        ({"width": 720, "height": 1280}, (720, 1280)),
        ({"width": 480, "height": 832, "seed": 9_999_999_999}, (480, 832)),
        ({"width": 1280}, (832, 480)),  # one side missing: the vendor falls back to 832x480
        (
            {
                "width": 1280,
                "height": 720,
                "negative_prompt": "",
                "loras": [
                    {"path": "Remade-AI/Cyberpunk", "scale": 1.0},
                    {"path": "https://civitai.com/api/download/models/1", "scale": 4},
                ],
                "steps": 40,
                "guidance_scale": 0,
                "flow_shift": 10,
                "enable_safety_checker": False,
                "fast_mode": True,
                "watermark": False,
            },
            (1280, 720),
        ),
    ],
)
def test_jiekou_happy_path(jk, extra, size):
    with client(jk) as c:
        r = jk_submit(c, **extra)
        assert r.status_code == 200, r.text
        task_id = r.json()["task_id"]
        seen = jk_wait(c, task_id)
    statuses = [s["task"]["status"] for s in seen]
    assert statuses[0] == "TASK_STATUS_QUEUED" and "TASK_STATUS_PROCESSING" in statuses
    processing = [s["task"] for s in seen if s["task"]["status"] == "TASK_STATUS_PROCESSING"]
    assert all(0 <= t["progress_percent"] < 100 for t in processing)
    final = seen[-1]
    assert final["task"]["status"] == "TASK_STATUS_SUCCEED" and final["task"]["task_id"] == task_id
    assert final["task"]["progress_percent"] == 100 and final["task"]["reason"] == ""
    assert isinstance(final["extra"]["seed"], str) and final["extra"]["debug_info"]["submit_time_ms"]
    if "seed" in extra:
        assert final["extra"]["seed"] == str(extra["seed"])
    assert final["images"] == [] and final["audios"] == []
    (video,) = final["videos"]
    assert video["video_url_ttl"] == "3600" and video["video_type"] == "mp4"
    assert probe(download(video["video_url"]).content) == (*size, False)
    assert jk.submit_count == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"model_name": "wan2.1-t2v"},
        {"prompt": ""},
        {"prompt": "x" * 2001},
        {"negative_prompt": "x" * 2001},
        {"width": 1280, "height": 480},
        {"width": 1000, "height": 480},
        {"width": "1280", "height": "720"},
        {"width": 1000},  # a present value must still be one of the four
        {"loras": [{"path": "a", "scale": 1}] * 4},
        {"loras": [{"path": "a", "scale": 4.5}]},
        {"loras": [{"path": "a"}]},
        {"loras": [{"path": "a", "scale": 1, "weight": 1}]},
        {"loras": {"path": "a", "scale": 1}},
        {"seed": 10_000_000_000},
        {"seed": -2},
        {"seed": 1.5},
        {"steps": 0},
        {"steps": 41},
        {"steps": 30.5},
        {"guidance_scale": 10.5},
        {"flow_shift": 0.5},
        {"fast_mode": "yes"},
        {"enable_safety_checker": 1},
    ],
)
def test_jiekou_refuses_bad_fields(jk, extra):
    with client(jk) as c:
        r = jk_submit(c, **extra)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 400 and r.json()["reason"] == "INVALID_REQUEST_BODY" and r.json()["message"]
    assert jk.submit_count == 0


def test_jiekou_transport(jk):
    with client(jk) as c:
        r = c.post("/v3/async/wan-t2v", json={"negative_prompt": "x"})
        assert r.status_code == 400  # prompt is required
        r = c.post(
            "/v3/async/wan-t2v", content=b'{"prompt": "a cat"}', headers={"Content-Type": "text/plain"}
        )
        assert r.status_code == 400
        r = c.get("/v3/async/task-result", params={"task_id": "nope"})
        assert r.status_code == 404 and r.json()["reason"] == "TASK_NOT_FOUND"
        assert c.get("/v3/async/task-result").status_code == 400
        assert c.get("/v3/async/wan-t2v").status_code == 405
    with client(jk, {"Authorization": "Bearer wrong"}) as c:
        r = jk_submit(c)
        assert r.status_code == 401 and r.json()["reason"] == "FAILED_TO_AUTH"
    assert jk.submit_count == 0
