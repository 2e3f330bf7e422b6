"""SiliconFlow's emulator, driven over HTTP as the adapter drives it (plain pytest, no database).

.venv/bin/pytest tests/providers/siliconflow/test_emulator.py -q
"""

from __future__ import annotations

import base64

import pytest

from tests.emulators.helpers import (
    KEY,
    client,
    data_uri,
    download,
    png,
    probe,
    running,
    sf_submit,
    until,
)

sf = running("siliconflow")


def sf_status(c, request_id):
    return c.post("/video/status", json={"requestId": request_id})


def sf_wait(c, request_id) -> list[dict]:
    return until(lambda: sf_status(c, request_id).json(), lambda r: r["status"] in ("Succeed", "Failed"))


@pytest.mark.parametrize(
    ("model", "size", "image"),
    [
        ("Wan-AI/Wan2.2-T2V-A14B", "1280x720", None),
        ("Wan-AI/Wan2.2-I2V-A14B", "720x1280", "data"),
        ("Wan-AI/Wan2.2-I2V-A14B", "960x960", "https://example.com/cat.png"),
    ],
)
def test_siliconflow_happy_path(sf, model, size, image):
    extra = {"negative_prompt": "blur", "seed": 123}
    if image == "data":
        extra["image"] = data_uri(png(360, 640), "image/png")
    elif image:
        extra["image"] = image
    with client(sf) as c:
        r = sf_submit(c, model=model, image_size=size, **extra)
        assert r.status_code == 200, r.text
        assert r.headers["x-siliconcloud-trace-id"]
        request_id = r.json()["requestId"]
        seen = sf_wait(c, request_id)
    statuses = [s["status"] for s in seen]
    assert statuses[0] == "InQueue" and seen[0]["position"] == 1
    assert "InProgress" in statuses and statuses[-1] == "Succeed"
    final = seen[-1]
    assert final["reason"] == "" and final["results"]["seed"] == 123
    assert final["results"]["timings"]["inference"] > 0
    video = download(final["results"]["videos"][0]["url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert int(video.headers["content-length"]) == len(video.content)
    width, height = map(int, size.split("x"))
    assert probe(video.content) == (width, height, False)
    assert sf.submit_count == 1 and sf.submits[0]["model"] == model
    assert sf.poll_count == len(seen)


@pytest.mark.parametrize(
    "body",
    [
        {"steps": 30},  # unknown field
        {"model": "Wan-AI/Wan2.2-I2V-14B-720P"},  # the name in the page's prose, not in the enum
        {"image_size": "1280*720"},
        {"image_size": "1920x1080"},
        {"seed": "123"},
        {"seed": -1},
        {"seed": True},
        {"prompt": ""},
        {"prompt": 42},
        {"negative_prompt": ["blur"]},
        {"image": "https://example.com/cat.png"},  # T2V takes no image
        {"model": "Wan-AI/Wan2.2-I2V-A14B"},  # I2V needs one
        {"model": "Wan-AI/Wan2.2-I2V-A14B", "image": "data:image/png;base64,aGVsbG8="},  # not an image
        {
            "model": "Wan-AI/Wan2.2-I2V-A14B",
            "image": "data:image/png;base64, " + base64.b64encode(png(8, 8)).decode(),
        },
        {"model": "Wan-AI/Wan2.2-I2V-A14B", "image": "ftp://example.com/cat.png"},
    ],
)
def test_siliconflow_refuses_bad_fields(sf, body):
    with client(sf) as c:
        r = sf_submit(c, **body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 20012 and r.json()["data"] is None and r.json()["message"]
    assert sf.submit_count == 0


def test_siliconflow_required_fields_and_transport(sf):
    with client(sf) as c:
        for missing in ("model", "prompt", "image_size"):
            body = {"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "a cat", "image_size": "960x960"}
            del body[missing]
            r = c.post("/video/submit", json=body)
            assert r.status_code == 400 and r.json()["code"] == 20012
        r = c.post("/video/submit", content=b'{"model": ', headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == 20012
        r = c.post(
            "/video/submit", content=b"model=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert r.status_code == 400
        assert c.get("/video/list").text == "404 page not found"
        assert c.get("/video/submit").status_code == 405
        r = sf_status(c, "no-such-id")
        assert r.status_code == 400 and r.json()["code"] == 20012
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        with client(sf, headers) as c:
            r = sf_submit(c)
            assert r.status_code == 401 and r.json() == "Invalid token"
            assert sf_status(c, "x").status_code == 401
    assert sf.submit_count == 0
