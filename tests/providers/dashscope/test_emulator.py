"""DashScope's emulator (image to video and VACE), driven over HTTP as the adapter drives it (plain pytest,
no database).

.venv/bin/pytest tests/providers/dashscope/test_emulator.py -q
"""

from __future__ import annotations

import pytest

from studio.providers.emulators.media import mp4_bytes
from tests.emulators.helpers import (
    AUTH,
    DS_HEADERS,
    Driver,
    MediaServer,
    client,
    data_uri,
    download,
    i2v,
    png,
    probe,
    running,
    until,
    wav,
)

ds = running("dashscope")


@pytest.fixture(scope="module")
def media_urls():
    server = MediaServer()
    urls = {
        "ref": server.add("ref.png", png(640, 360), "image/png"),
        "ref2": server.add("ref2.png", png(500, 500, (200, 80, 80)), "image/png"),
        "tiny": server.add("tiny.png", png(200, 200), "image/png"),
        "video": server.add("video.mp4", mp4_bytes(640, 360), "video/mp4"),
        "slow_video": server.add("slow.mp4", mp4_bytes(640, 360, fps=8), "video/mp4"),
        "mask": server.add("mask.png", png(640, 360, (255, 255, 255)), "image/png"),
        "small_mask": server.add("mask-small.png", png(320, 180, (255, 255, 255)), "image/png"),
        "mask_video": server.add("mask.mp4", mp4_bytes(640, 360), "video/mp4"),
        "clip": server.add("clip.mp4", mp4_bytes(480, 480), "video/mp4"),
        "long_clip": server.add("long-clip.mp4", mp4_bytes(480, 480, seconds=2.0), "video/mp4"),
        "audio": server.add("voice.wav", wav(4), "audio/wav"),
        "text": server.add("not-an-image.png", b"hello, I am text", "image/png"),
        "missing": f"http://127.0.0.1:{server.server.server_address[1]}/gone.png",
    }
    yield urls
    server.close()


def ds_submit(c, body):
    return c.post("/services/aigc/video-generation/video-synthesis", json=body)


def ds_wait(c, task_id) -> list[dict]:
    terminal = ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
    return until(
        lambda: c.get(f"/tasks/{task_id}").json(),
        lambda r: r["output"]["task_status"] in terminal,
        interval=0.06,  # under the 20 task queries a second an account may make
    )


# ============================================================================ DashScope image-to-video


@pytest.mark.parametrize(
    ("model", "image_size", "parameters", "expected"),
    [
        ("wan2.2-i2v-flash", (640, 360), {"resolution": "480P"}, (832, 480, False)),
        ("wan2.2-i2v-plus", (500, 500), {}, (1440, 1440, False)),  # default 1080P, 1:1 image
        (
            "wanx2.1-i2v-plus",
            (640, 360),
            {"prompt_extend": False, "watermark": True, "seed": 7},
            (1280, 720, False),
        ),
        ("wanx2.1-i2v-turbo", (360, 640), {"resolution": "720P", "duration": 3}, (720, 1280, False)),
        ("wan2.5-i2v-preview", (640, 360), {"resolution": "720P", "duration": 10}, (1280, 720, True)),
        ("wan2.5-i2v-preview", (640, 360), {"resolution": "480P", "audio": False}, (832, 480, False)),
        ("wan2.2-i2v-flash", (800, 600), {"resolution": "720P"}, (1104, 832)),  # 4:3 keeps 720P's pixel count
    ],
)
def test_dashscope_i2v_happy_path(ds, model, image_size, parameters, expected):
    body = i2v(model, data_uri(png(*image_size)), **parameters)
    body["input"]["negative_prompt"] = "flowers"
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, body)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["request_id"] and answer["output"]["task_status"] == "PENDING"
        seen = ds_wait(c, answer["output"]["task_id"])
    statuses = [s["output"]["task_status"] for s in seen]
    assert statuses[0] == "PENDING" and "RUNNING" in statuses and statuses[-1] == "SUCCEEDED"
    out = seen[-1]["output"]
    assert out["submit_time"] and out["scheduled_time"] and out["end_time"]
    assert out["orig_prompt"] == "a cat runs on grass"
    assert ("actual_prompt" in out) == parameters.get("prompt_extend", True)
    assert seen[-1]["usage"]["video_count"] == 1
    video = download(out["video_url"])
    assert video.status_code == 200
    assert probe(video.content)[: len(expected)] == expected
    assert ds.submit_count == 1


def test_dashscope_i2v_with_url_image_template_and_custom_audio(ds, media_urls):
    body = i2v("wan2.5-i2v-preview", media_urls["ref"], resolution="480P", audio=False)
    body["input"]["audio_url"] = media_urls["audio"]  # a custom track wins over audio=false
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, body)
        assert r.status_code == 200, r.text
        final = ds_wait(c, r.json()["output"]["task_id"])[-1]
        assert probe(download(final["output"]["video_url"]).content) == (832, 480, True)

        effect = {"model": "wanx2.1-i2v-turbo", "input": {"img_url": media_urls["ref"], "template": "flying"}}
        r = ds_submit(c, effect)
        assert r.status_code == 200, r.text
        final = ds_wait(c, r.json()["output"]["task_id"])[-1]
        assert final["output"]["task_status"] == "SUCCEEDED" and "orig_prompt" not in final["output"]


def _ds(model="wan2.2-i2v-flash", inp=None, params=None, **top):
    body = i2v(model)
    body["input"].update(inp or {})
    body["parameters"].update(params or {})
    body.update(top)
    return body


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_ds(extra=1), "InvalidParameter"),
        (_ds(model="wan2.2-i2v-max"), "InvalidParameter"),
        (_ds(inp={"audio_url": "http://x/a.wav"}), "InvalidParameter"),  # wan2.5 only
        (_ds(params={"audio": True}), "InvalidParameter"),  # wan2.5 only
        (_ds(inp={"image_url": "http://x/a.png"}), "InvalidParameter"),
        (_ds(params={"size": "1280*720"}), "InvalidParameter"),
        (_ds("wan2.2-i2v-plus", params={"resolution": "720P"}), "InvalidParameter"),
        (_ds("wanx2.1-i2v-plus", params={"resolution": "1080P"}), "InvalidParameter"),
        (_ds(params={"resolution": "720p"}), "InvalidParameter"),
        (_ds(params={"duration": 10}), "InvalidParameter"),
        (_ds("wan2.5-i2v-preview", params={"duration": 4}), "InvalidParameter"),
        (_ds("wanx2.1-i2v-turbo", params={"duration": "5"}), "InvalidParameter"),
        (_ds(params={"seed": 2147483648}), "InvalidParameter"),
        (_ds(params={"seed": -1}), "InvalidParameter"),
        (_ds(params={"prompt_extend": "true"}), "InvalidParameter"),
        (_ds(params={"watermark": 1}), "InvalidParameter"),
        (_ds(inp={"prompt": 5}), "InvalidParameter"),
        (_ds("wanx2.1-i2v-turbo", inp={"template": "Flying Balloons"}), "InvalidParameter"),
        (_ds("wanx2.1-i2v-turbo", inp={"template": "balloon"}), "InvalidParameter"),  # not a documented id
        (_ds(inp={"template": "flying"}), "InvalidParameter"),  # wan2.2-i2v-flash takes no effects
        (_ds("wan2.5-i2v-preview", inp={"template": "flying"}), "InvalidParameter"),
        (_ds(inp={"img_url": "data:image/gif;base64,R0lGODlhAQABAAAAACw="}), "InvalidParameter"),
        (_ds(inp={"img_url": "data:image/png;base64,aGVsbG8="}), "InvalidParameter.DataInspection"),
        (_ds(inp={"img_url": "file:///home/me/cat.png"}), "InvalidURL"),
        (_ds(parameters=[]), "InvalidParameter"),
        ({"model": "wan2.2-i2v-flash", "parameters": {}}, "BadRequest.EmptyInput"),
        ({"input": {"img_url": "http://x/a.png"}}, "BadRequest.EmptyModel"),
        ({"model": "wan2.2-i2v-flash", "input": {"prompt": "a cat"}}, "InvalidParameter"),  # img_url missing
    ],
)
def test_dashscope_i2v_refuses_bad_fields(ds, body, code):
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, body)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["code"] == code and answer["message"] and answer["request_id"]
    assert "output" not in answer
    assert ds.submit_count == 0


def test_dashscope_headers(ds):
    body = i2v()
    with client(ds, AUTH) as c:  # no X-DashScope-Async
        r = ds_submit(c, body)
        assert r.status_code == 403
        assert r.json()["code"] == "AccessDenied"
        assert r.json()["message"] == "current user api does not support synchronous calls"
    for headers in (
        {"X-DashScope-Async": "enable"},
        {"X-DashScope-Async": "enable", "Authorization": "Bearer nope"},
    ):
        with client(ds, headers) as c:
            r = ds_submit(c, body)
            assert r.status_code == 401 and r.json()["code"] == "InvalidApiKey"
            assert c.get("/tasks/whatever").status_code == 401
    with client(ds, DS_HEADERS) as c:
        r = c.post(
            "/services/aigc/video-generation/video-synthesis",
            content=b"{",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400 and r.json()["code"] == "InvalidParameter"
        r = c.post(
            "/services/aigc/video-generation/video-synthesis",
            content=b"{}",
            headers={"Content-Type": "text/plain"},
        )
        assert r.status_code == 400
        assert c.get("/services/aigc/video-generation/video-synthesis").status_code == 405
        assert c.get("/no/such/path").status_code == 404
    assert ds.submit_count == 0


def test_dashscope_unknown_forgotten_and_cancel(ds):
    ds.task_seconds = 5.0
    with client(ds, DS_HEADERS) as c:
        r = c.get("/tasks/00000000-0000-0000-0000-000000000000")
        assert r.status_code == 200 and r.json()["output"]["task_status"] == "UNKNOWN"

        pending = ds_submit(c, i2v()).json()["output"]["task_id"]
        r = c.post(f"/tasks/{pending}/cancel")
        assert r.status_code == 200 and r.json()["request_id"]
        out = c.get(f"/tasks/{pending}").json()["output"]
        assert out["task_status"] == "CANCELED" and out["end_time"]
        r = c.post(f"/tasks/{pending}/cancel")
        assert r.status_code == 400 and r.json()["code"] == "UnsupportedOperation"

        ds.task_seconds = 0.0
        done = ds_submit(c, i2v()).json()["output"]["task_id"]
        assert c.get(f"/tasks/{done}").json()["output"]["task_status"] == "SUCCEEDED"
        assert c.post(f"/tasks/{done}/cancel").json()["code"] == "UnsupportedOperation"
        assert ds.forget(done)
        assert c.get(f"/tasks/{done}").json()["output"]["task_status"] == "UNKNOWN"
    assert ds.submit_count == 2


# ============================================================================ DashScope VACE


def vace(function, inp, params=None, model="wan2.1-vace-plus"):
    body = {"model": model, "input": {"function": function, "prompt": "a lion in a suit sips coffee", **inp}}
    if params is not None:
        body["parameters"] = params
    return body


VACE_CASES = {
    "image_reference": (
        lambda u: vace(
            "image_reference",
            {"ref_images_url": [u["ref"], u["ref2"]]},
            {"obj_or_bg": ["obj", "bg"], "size": "960*960"},
        ),
        (960, 960),
    ),
    "image_reference_default": (
        lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, model="wanx2.1-vace-plus"),
        (1280, 720),
    ),
    "video_repainting": (
        lambda u: vace(
            "video_repainting",
            {"video_url": u["video"], "ref_images_url": [u["ref"]]},
            {"control_condition": "depth", "strength": 0.5, "prompt_extend": False},
        ),
        (640, 360),
    ),
    "video_edit_mask_image": (
        lambda u: vace(
            "video_edit",
            {"video_url": u["video"], "mask_image_url": u["mask"], "mask_frame_id": 17},
            {"mask_type": "tracking", "expand_ratio": 0.05, "expand_mode": "bbox", "control_condition": ""},
        ),
        (640, 360),
    ),
    "video_edit_mask_video_size": (
        lambda u: vace(
            "video_edit", {"video_url": u["video"], "mask_video_url": u["mask_video"]}, {"size": "1088*832"}
        ),
        (1088, 832),
    ),
    "video_extension": (
        lambda u: vace("video_extension", {"first_clip_url": u["clip"], "last_frame_url": u["ref2"]}, {}),
        (480, 480),
    ),
    "video_extension_motion": (
        lambda u: vace(
            "video_extension",
            {"first_frame_url": u["ref"], "video_url": u["video"]},
            {"control_condition": "posebody", "duration": 5, "seed": 42},
        ),
        (640, 360),
    ),
    "video_outpainting": (
        lambda u: vace(
            "video_outpainting",
            {"video_url": u["video"]},
            {"top_scale": 1.5, "bottom_scale": 1.5, "left_scale": 1.5, "right_scale": 1.5},
        ),
        (960, 540),
    ),
}


@pytest.mark.parametrize("case", list(VACE_CASES))
def test_dashscope_vace_happy_path(ds, media_urls, case):
    make, size = VACE_CASES[case]
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, make(media_urls))
        assert r.status_code == 200, r.text
        seen = ds_wait(c, r.json()["output"]["task_id"])
    final = seen[-1]
    assert final["output"]["task_status"] == "SUCCEEDED", final
    # repainting and outpainting keep the input's length (the 1 s test video), the others make 5 s [004]
    assert final["usage"]["video_duration"] == (1 if case in ("video_repainting", "video_outpainting") else 5)
    assert probe(download(final["output"]["video_url"]).content) == (*size, False)
    assert ds.submit_count == 1


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda u: vace("video_swap", {"video_url": u["video"]}), "InvalidParameter"),
        (
            lambda u: {"model": "wan2.1-vace-plus", "input": {"prompt": "x", "video_url": u["video"]}},
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"size": "1280x720"}),
            "InvalidParameter",
        ),
        (lambda u: vace("image_reference", {"ref_images_url": []}), "InvalidParameter"),
        (lambda u: vace("image_reference", {"ref_images_url": u["ref"]}), "InvalidParameter"),
        (lambda u: vace("image_reference", {"ref_images_url": [u["ref"], u["ref2"]]}), "InvalidParameter"),
        (
            lambda u: vace(
                "image_reference", {"ref_images_url": [u["ref"], u["ref2"]]}, {"obj_or_bg": ["obj"]}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"obj_or_bg": ["thing"]}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"duration": 4}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]]}, {"strength": 0.5}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["ref"]], "video_url": u["video"]}),
            "InvalidParameter",
        ),
        (lambda u: vace("image_reference", {"ref_images_url": [u["ref"]], "prompt": ""}), "InvalidParameter"),
        (lambda u: vace("video_repainting", {"video_url": u["video"]}), "BadRequest.EmptyParameters"),
        (
            lambda u: vace("video_repainting", {"video_url": u["video"]}, {"strength": 0.5}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_repainting", {"video_url": u["video"]}, {"control_condition": "canny"}),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_repainting", {"video_url": u["video"]}, {"control_condition": "depth", "strength": 1.5}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_repainting", {"video_url": u["video"]}, {"control_condition": "depth", "duration": 5}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_repainting",
                {"video_url": u["video"], "ref_images_url": [u["ref"], u["ref2"]]},
                {"control_condition": "depth"},
            ),
            "InvalidParameter",
        ),
        (lambda u: vace("video_edit", {"video_url": u["video"]}), "InvalidParameter"),  # no mask
        (
            lambda u: vace(
                "video_edit",
                {"video_url": u["video"], "mask_image_url": u["mask"], "mask_video_url": u["mask_video"]},
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"], "mask_frame_id": 0}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"]}, {"mask_type": "moving"}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"]}, {"expand_ratio": 2}
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit",
                {"video_url": u["video"], "mask_image_url": u["mask"]},
                {"expand_mode": "circle"},
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace(
                "video_edit",
                {"video_url": u["video"], "mask_image_url": u["mask"]},
                {"control_condition": "scribble"},
            ),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_extension", {"video_url": u["video"]}, {"control_condition": "depth"}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_extension", {"first_clip_url": u["clip"], "video_url": u["video"]}, {}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_outpainting", {"video_url": u["video"]}, {"top_scale": 2.5}),
            "InvalidParameter",
        ),
        (
            lambda u: vace("video_outpainting", {"video_url": u["video"]}, {"left_scale": 0.9}),
            "InvalidParameter",
        ),
        (lambda u: vace("video_outpainting", {}), "InvalidParameter"),
        # the media are really fetched
        (lambda u: vace("video_outpainting", {"video_url": u["missing"]}), "InvalidURL"),
        (lambda u: vace("video_outpainting", {"video_url": "http://127.0.0.1:9/x.mp4"}), "InvalidURL"),
        (lambda u: vace("video_outpainting", {"video_url": "http://example.com/视频.mp4"}), "InvalidURL"),
        (lambda u: vace("image_reference", {"ref_images_url": [data_uri(png(400, 400))]}), "InvalidURL"),
        (
            lambda u: vace("image_reference", {"ref_images_url": [u["text"]]}),
            "InvalidParameter.DataInspection",
        ),
        (lambda u: vace("video_outpainting", {"video_url": u["ref"]}), "InvalidParameter.DataInspection"),
    ],
)
def test_dashscope_vace_refuses_bad_requests(ds, media_urls, make, code):
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, make(media_urls))
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code, r.json()
    assert ds.submit_count == 0


@pytest.mark.parametrize(
    "make",
    [
        # the vendor accepts these, then fails the task
        lambda u: vace("video_edit", {"video_url": u["video"], "mask_image_url": u["small_mask"]}),
        lambda u: vace(
            "video_edit", {"video_url": u["video"], "mask_image_url": u["mask"], "mask_frame_id": 18}
        ),
        lambda u: vace("video_edit", {"video_url": u["video"], "mask_video_url": u["clip"]}),
        lambda u: vace("video_repainting", {"video_url": u["slow_video"]}, {"control_condition": "depth"}),
        lambda u: vace("image_reference", {"ref_images_url": [u["tiny"]]}),
        lambda u: vace(
            "video_extension",
            {"first_clip_url": u["clip"], "video_url": u["video"]},
            {"control_condition": "depth"},
        ),
        lambda u: vace(
            "video_extension", {"first_clip_url": u["long_clip"], "last_clip_url": u["long_clip"]}
        ),
        lambda u: i2v("wan2.2-i2v-flash", u["tiny"]),
    ],
)
def test_dashscope_deferred_validation_fails_the_task(ds, media_urls, make):
    with client(ds, DS_HEADERS) as c:
        r = ds_submit(c, make(media_urls))
        assert r.status_code == 200, r.text
        seen = ds_wait(c, r.json()["output"]["task_id"])
    out = seen[-1]["output"]
    assert out["task_status"] == "FAILED"
    assert out["code"] == "InvalidParameter" and out["message"]
    assert "video_url" not in out and "usage" not in seen[-1]
    assert ds.submit_count == 1  # it was accepted: a paid submit


def test_task_fail_default_dashscope_is_internal_error(ds):
    ds.set_faults(task_fail=True)  # True = always
    d = Driver(ds)
    for _ in range(2):
        out = d.wait(d.task_id(d.submit()))["output"]
        assert out["task_status"] == "FAILED" and out["code"] == "InternalError"


@pytest.mark.parametrize(
    ("region", "own", "other"),
    [
        ("singapore", ("wan2.1-i2v-plus", "wan2.1-i2v-turbo"), ("wanx2.1-i2v-plus", "wanx2.1-i2v-turbo")),
        ("beijing", ("wanx2.1-i2v-plus", "wanx2.1-i2v-turbo"), ("wan2.1-i2v-plus", "wan2.1-i2v-turbo")),
    ],
)
def test_each_region_takes_only_its_own_21_model_names(region, own, other):
    from studio.providers.emulators import emulator_class

    handle = emulator_class("dashscope")(api_key="test-key", task_seconds=0.2, region=region).start()
    try:
        with client(handle, DS_HEADERS) as c:
            for name in (*own, "wan2.2-i2v-flash"):
                r = ds_submit(c, i2v(name))
                assert r.status_code == 200, (name, r.text)
            for name in other:
                r = ds_submit(c, i2v(name))
                assert r.status_code == 400 and r.json()["message"] == "Model not exist.", name
        assert handle.submit_count == len(own) + 1
    finally:
        handle.stop()


def test_vace_repainting_reports_the_input_length_it_kept(ds, media_urls):
    """[004]: repainting keeps the input's length (up to 5 s); usage says how long the video made is."""
    from tests.emulators.helpers import MediaServer

    server = MediaServer()
    try:
        url = server.add("three.mp4", mp4_bytes(640, 360, seconds=3.0), "video/mp4")
        body = {
            "model": "wan2.1-vace-plus",
            "input": {"function": "video_repainting", "prompt": "a fox in snow", "video_url": url},
            "parameters": {"control_condition": "depth"},
        }
        with client(ds, DS_HEADERS) as c:
            r = ds_submit(c, body)
            assert r.status_code == 200, r.text
            final = ds_wait(c, r.json()["output"]["task_id"])[-1]
        assert final["output"]["task_status"] == "SUCCEEDED" and final["usage"]["video_duration"] == 3
    finally:
        server.close()


def test_dashscope_takes_20_task_queries_a_second_per_key_and_throttles_the_rest(ds):
    with client(ds, DS_HEADERS) as c:
        task_id = ds_submit(c, i2v()).json()["output"]["task_id"]
        answers = [c.get(f"/tasks/{task_id}") for _ in range(25)]  # well inside one second
    throttled = [r for r in answers if r.status_code == 429]
    assert [r.status_code for r in answers[:20]] == [200] * 20 and throttled
    assert {r.json()["code"] for r in throttled} == {"Throttling.RateQuota"}
    assert ds.throttled == {"query": len(throttled)}


def test_dashscope_takes_2_submits_a_second_of_the_models_that_run_2_at_once(ds):
    with client(ds, DS_HEADERS) as c:
        plus = [ds_submit(c, i2v("wanx2.1-i2v-plus", resolution="720P")) for _ in range(3)]
        flash = [ds_submit(c, i2v()) for _ in range(3)]  # no such limit
    assert [r.status_code for r in plus] == [200, 200, 429]
    assert plus[2].json()["code"] == "Throttling.RateQuota" and "output" not in plus[2].json()
    assert [r.status_code for r in flash] == [200] * 3
    assert ds.submit_count == 5 and ds.throttled == {"submit:wanx2.1-i2v-plus": 1}
