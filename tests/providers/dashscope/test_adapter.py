"""DashScope through the real engine and the loopback emulator.

``TestDashScope`` runs the shared provider contract with a case for every i2v model and every VACE
function, and checks each request body field by field. The tests after it cover what only DashScope has:
the async header, wan2.5's sound, effect templates, rewritten prompts, regions, input URLs the vendor
fetches, checks it makes after accepting, its error codes, cancelling and the poll cadence.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import time
import wave
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from django.utils import timezone

from studio.assets.services import create_asset
from studio.generations import engine, services
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.generations.services import cancel_generation, create_generation
from studio.providers.base import ErrorKind, ProviderError, RemoteState
from studio.providers.dashscope.adapter import DashScopeProvider, region_of
from studio.providers.emulators import fetch as emulator_fetch
from studio.providers.emulators import start_emulator
from studio.providers.registry import get_provider
from tests.media import make_image, make_mask, make_video
from tests.providers.contract import Case, ProviderContract

pytestmark = pytest.mark.django_db(transaction=True)
S = Generation.Status
KEY = "sk-emulated"
SUBMIT = "/api/v1/services/aigc/video-generation/video-synthesis"
VACE = "wan2.1-vace-plus"


def close_emulator_fetches() -> None:
    """The emulator fetches inputs through one keep-alive client, so live-server threads (each holding a
    database session until its HTTP connection closes) would outlive the test and block PostgreSQL's
    DROP DATABASE at the end of the run."""
    with emulator_fetch._client_lock:
        client, emulator_fetch._client = emulator_fetch._client, None
    if client is not None:
        client.close()


# ------------------------------------------------------------------------------- the shared contract


def image(width: int, height: int) -> tuple[str, int, int]:
    return ("image", width, height)


def video(width: int, height: int) -> tuple[str, int, int]:
    return ("video", width, height)


#: case id -> (input fields, parameter fields): exactly what the body must carry for that job
BODY_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "flash-defaults": ({"img_url", "prompt"}, {"duration", "prompt_extend", "watermark"}),
    "wan25-9x16-480p-10s": (
        {"img_url", "prompt"},
        {"resolution", "duration", "prompt_extend", "watermark", "audio"},
    ),
    "plus22-1x1-480p": ({"img_url", "prompt"}, {"resolution", "duration", "prompt_extend", "watermark"}),
    "plus21-720p": ({"img_url", "prompt"}, {"resolution", "duration", "prompt_extend", "watermark"}),
    "turbo21-3s-seed": (
        {"img_url", "prompt", "negative_prompt"},
        {"resolution", "duration", "prompt_extend", "watermark", "seed"},
    ),
    "turbo21-effect-inflate": ({"img_url", "prompt", "template"}, {"duration", "prompt_extend", "watermark"}),
    "vace-reference-obj-bg": (
        {"function", "prompt", "ref_images_url"},
        {"obj_or_bg", "size", "duration", "watermark"},
    ),
    "vace-repainting-depth": (
        {"function", "prompt", "video_url", "ref_images_url"},
        {"control_condition", "strength", "prompt_extend", "watermark", "seed"},  # no duration [004]
    ),
    # No size chosen: none is sent, and the output keeps the input's resolution (up to 720p) [004]
    "vace-edit-mask-image": (
        {"function", "prompt", "video_url", "mask_image_url", "mask_frame_id"},
        {"mask_type", "expand_ratio", "expand_mode", "duration", "watermark"},
    ),
    "vace-edit-chosen-size": (
        {"function", "prompt", "video_url", "mask_video_url"},
        {"size", "duration", "watermark"},
    ),
    "vace-extension-frames": (
        {"function", "prompt", "first_frame_url", "last_frame_url"},
        {"duration", "watermark"},
    ),
    "vace-outpainting-scales": (
        {"function", "prompt", "video_url"},
        {"top_scale", "bottom_scale", "left_scale", "right_scale", "duration", "watermark"},
    ),
}


class TestDashScope(ProviderContract):
    forgotten_is_documented = True  # task_status UNKNOWN: the id does not exist or has expired
    reported = frozenset({"usage", "orig_prompt", "actual_prompt"})  # [002]
    """The cases every provider passes, for DashScope: every i2v model and all five VACE functions."""

    vendor = "dashscope"
    label = "DashScope"
    documented_fields = frozenset({"model", "input", "parameters"})
    required_fields = frozenset({"model", "input", "parameters"})
    submit_path = SUBMIT
    refusal_code = "InvalidParameter"
    failure_fault: ClassVar[dict[str, Any]] = {
        "code": "DataInspectionFailed",
        "message": "Output data may contain inappropriate content.",
    }
    failure_words = "may contain inappropriate content"

    @pytest.fixture(autouse=True)
    def public_urls(self, settings, live_server):
        settings.STUDIO_PUBLIC_BASE_URL = live_server.url  # VACE inputs are fetched by the vendor
        yield
        close_emulator_fetches()

    @classmethod
    def cases(cls) -> list[Case]:
        return [
            # i2v: the output aspect follows the first frame; the resolution sets the pixel count [002]
            Case(
                "flash-defaults",
                "wan2.2-i2v-flash",
                "i2v",
                inputs={"image": (image(640, 360),)},
                expect_size=(1280, 720),
            ),
            Case(
                "wan25-9x16-480p-10s",
                "wan2.5-i2v-preview",
                "i2v",
                inputs={"image": (image(360, 640),)},
                fields={"resolution": "480P", "duration": 10},
                expect_size=(480, 832),
            ),
            Case(
                "plus22-1x1-480p",
                "wan2.2-i2v-plus",
                "i2v",
                inputs={"image": (image(480, 480),)},
                fields={"resolution": "480P"},
                expect_size=(624, 624),
            ),
            Case(
                "plus21-720p",
                "wanx2.1-i2v-plus",
                "i2v",
                inputs={"image": (image(640, 360),)},
                expect_size=(1280, 720),
            ),
            Case(
                "turbo21-3s-seed",
                "wanx2.1-i2v-turbo",
                "i2v",
                inputs={"image": (image(640, 360),)},
                fields={"resolution": "480P", "duration": 3, "seed": 7, "negative": "blurry"},
                expect_size=(832, 480),
            ),
            # VACE [004]: every input reaches the vendor as a signed public URL
            Case(
                "turbo21-effect-inflate",  # balloon inflation, one of the effects [002] names
                "wanx2.1-i2v-turbo",
                "i2v",
                inputs={"image": (image(1280, 720),)},
                fields={"params": {"template": "inflate"}},
                expect_size=(1280, 720),
            ),
            Case(
                "vace-reference-obj-bg",
                VACE,
                "image_reference",
                size="720x1280",
                inputs={"ref_images": (image(640, 640), image(1280, 720))},
                fields={"params": {"obj_or_bg": ["obj", "bg"]}},
            ),
            Case(
                "vace-repainting-depth",
                VACE,
                "video_repainting",
                inputs={"video": (video(640, 360),), "ref_images": (image(640, 640),)},
                fields={
                    "seed": 7,
                    "params": {"control_condition": "depth", "strength": 0.6, "prompt_extend": False},
                },
                expect_size=(640, 360),
            ),
            Case(
                "vace-edit-mask-image",
                VACE,
                "video_edit",
                inputs={"video": (video(640, 360),), "mask_image": (image(640, 360),)},
                fields={"params": {"mask_frame_id": 8, "expand_mode": "bbox"}},
                expect_size=(640, 360),  # as the input video: no size is sent [004]
            ),
            Case(
                "vace-edit-chosen-size",
                VACE,
                "video_edit",
                size="960x960",  # the creator chose one: it is sent and made
                inputs={"video": (video(640, 360),), "mask_video": (video(640, 360),)},
            ),
            Case(
                "vace-extension-frames",
                VACE,
                "video_extension",
                inputs={"first_frame": (image(640, 360),), "last_frame": (image(640, 360),)},
                expect_size=(640, 360),
            ),
            Case(
                "vace-outpainting-scales",
                VACE,
                "video_outpainting",
                inputs={"video": (video(640, 360),)},
                fields={"params": {"left_scale": 1.5, "right_scale": 1.5, "top_scale": 1.2}},
                expect_size=(960, 396),
            ),
        ]

    def full_case(self) -> Case:
        return Case(
            "wan25-everything",
            "wan2.5-i2v-preview",
            "i2v",
            inputs={"image": (image(1280, 720),)},
            fields={
                "negative": "blurry, captions",
                "seed": 2147483647,
                "resolution": "480P",
                "duration": 10,
                "params": {"prompt_extend": False, "watermark": True, "audio": False},
            },
            expect_size=(832, 480),
        )

    def expected_body(self, generation: Generation) -> dict[str, Any]:
        assert generation.task == "i2v", "exact bodies are compared on i2v jobs (signed URLs carry a time)"
        asset = generation.input_links.select_related("asset").get(slot="image").asset
        data = base64.b64encode(asset.file.read()).decode()
        params = generation.params
        inp = {"img_url": f"data:{asset.content_type};base64,{data}", "prompt": generation.prompt.text}
        if generation.prompt.negative:
            inp["negative_prompt"] = generation.prompt.negative
        if params.get("template"):
            inp["template"] = params["template"]
        parameters: dict[str, Any] = {"duration": generation.duration}
        if generation.resolution:
            parameters["resolution"] = generation.resolution
        parameters.update({k: params[k] for k in ("prompt_extend", "watermark", "audio") if k in params})
        if generation.seed is not None:
            parameters["seed"] = generation.seed
        return {"model": generation.model, "input": inp, "parameters": parameters}

    def refusal(self) -> tuple[dict[str, Any], str]:
        return {"duration": 10}, "parameters.duration must be one of 5 for wan2.2-i2v-flash"

    # -- every job's body, field by field
    def test_every_model_makes_a_stored_video_of_the_asked_size(self, make_job, emulator, case):
        super().test_every_model_makes_a_stored_video_of_the_asked_size(make_job, emulator, case)
        [body] = emulator.submits
        inputs, parameters = BODY_FIELDS[case.id]
        assert set(body["input"]) == inputs and set(body["parameters"]) == parameters
        assert body["model"] == case.model  # the emulator's host names no region: [004]'s name
        g = Generation.objects.get(external_id=next(iter(emulator.tasks)))
        assert g.trace_id and g.has_audio is (case.model == "wan2.5-i2v-preview")
        if case.task == "i2v":
            assert body["input"]["img_url"].startswith("data:image/png;base64,")
            return
        assert body["input"]["function"] == case.task
        for name in inputs - {"function", "prompt", "mask_frame_id"}:
            urls = body["input"][name] if name == "ref_images_url" else [body["input"][name]]
            assert all(u.startswith(f"{self.settings.STUDIO_PUBLIC_BASE_URL}/public/assets/") for u in urls)
        extra = {
            "vace-reference-obj-bg": {"obj_or_bg": ["obj", "bg"], "size": "720*1280", "duration": 5},
            "vace-repainting-depth": {"control_condition": "depth", "strength": 0.6, "seed": 7},
            "vace-edit-mask-image": {"mask_type": "tracking", "expand_ratio": 0.05, "expand_mode": "bbox"},
            "vace-outpainting-scales": {
                "left_scale": 1.5,
                "right_scale": 1.5,
                "top_scale": 1.2,
                "bottom_scale": 1.0,
            },
        }.get(case.id, {})
        assert {k: body["parameters"][k] for k in extra} == extra
        if case.id == "vace-edit-mask-image":
            assert body["input"]["mask_frame_id"] == 8

    # -- where DashScope differs from the generic expectations
    @pytest.mark.parametrize(("fault", "code"), [("submit_429", "Throttling.RateQuota")])
    def test_busy_vendor_requeues_the_submit_then_it_succeeds(self, make_job, emulator, fault, code):
        emulator.faults.set(fault)
        g = make_job()
        assert engine.submit(g.pk)
        g.refresh_from_db()
        assert g.status == S.QUEUED and g.error_kind == "transient" and g.attempts == 1
        assert g.error_code == code and g.next_poll_at is not None  # the vendor's code, not the HTTP status
        g = self.run(g)
        assert g.status == S.SUCCEEDED and g.attempts == 2 and g.error_message == ""
        assert emulator.submit_count == 1 and len(self.submit_requests(emulator)) == 2

    # Even with DashScope's own InternalError body, nothing says no task was made, and [002] warns
    # against creating tasks repeatedly: a 500 (or 503) on submit goes to a person.
    @pytest.mark.parametrize(
        ("fault", "code"), [("submit_500", "InternalError"), ("submit_503", "ServiceUnavailable")]
    )
    def test_a_dashscope_server_error_on_submit_keeps_its_code_and_goes_to_a_person(
        self, make_job, emulator, fault, code
    ):
        emulator.faults.set(fault)
        g = self.run(make_job())
        assert g.status == S.SUBMIT_UNKNOWN and g.error_kind == "unknown" and g.error_code == code
        assert g.attempts == 1 and len(self.submit_requests(emulator)) == 1


# ------------------------------------------------------------------------------ DashScope's own paths


@pytest.fixture(scope="module")
def ds_emulator():
    handle = start_emulator("dashscope", api_key=KEY, task_seconds=0.3)
    yield handle
    handle.stop()


def set_options(settings, **options):
    conf = settings.STUDIO_PROVIDERS["dashscope"]
    settings.STUDIO_PROVIDERS = {
        **settings.STUDIO_PROVIDERS,
        "dashscope": {**conf, "OPTIONS": {**conf["OPTIONS"], **options}},
    }


@pytest.fixture
def ds(ds_emulator, settings, monkeypatch):
    """The studio pointed at the emulator, with the poll cadence shrunk from seconds to hundredths."""
    ds_emulator.reset()
    set_options(settings, base_url=ds_emulator.base_url, api_key=KEY, timeout=10.0)
    settings.STUDIO_FETCH_ALLOW_PRIVATE = True
    monkeypatch.setattr(DashScopeProvider, "first_poll_delay", 0.05)
    monkeypatch.setattr(DashScopeProvider, "poll_steps", (0.05,))
    monkeypatch.setattr(DashScopeProvider, "max_poll_interval", 0.1)
    monkeypatch.setattr(services, "_nudge", lambda generation_id: None)  # no worker elsewhere gets it
    return ds_emulator


@pytest.fixture
def public(settings, live_server):
    """Inputs the vendor fetches itself are served from the studio's signed /public/assets/ URLs."""
    settings.STUDIO_PUBLIC_BASE_URL = live_server.url
    yield live_server.url
    close_emulator_fetches()


def make_wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * i / 16000)) for i in range(int(16000 * seconds)))
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return path


@pytest.fixture
def asset(world, tmp_path):
    """asset("image", 1280, 720) / asset("video", 640, 360) / asset("mask", 640, 360) / asset("audio")."""
    counter = iter(range(1000))

    def make(kind: str, *size: int, **kw: Any):
        path = tmp_path / f"in{next(counter)}"
        if kind == "image":
            path = make_image(path.with_suffix(".png"), *size, **kw)
        elif kind == "mask":
            path = make_mask(path.with_suffix(".png"), *size, (40, 40, 200, 200))
        elif kind == "video":
            path = make_video(path.with_suffix(".mp4"), *size, **kw)
        else:
            path = make_wav(path.with_suffix(".wav"), kw.get("seconds", 4.0))
        expect = {"mask": "image"}.get(kind, kind)
        return create_asset(workspace=world.workspace, user=world.owner.user, source=path, expect=expect)

    return make


@pytest.fixture
def generate(world):
    def make(model: str, *, inputs: dict, prompt: str = "a red kite over the sea", **kw: Any) -> Generation:
        return create_generation(
            workspace=world.workspace,
            project=world.project,
            user=world.owner.user,
            recipe=Recipe(
                provider="dashscope",
                model=model,
                prompt=prompt,
                inputs={slot: v if isinstance(v, list) else [v] for slot, v in inputs.items()},
                **kw,
            ),
        )

    return make


def run(g: Generation, timeout: float = 20.0) -> Generation:
    return engine.drive(g.pk, timeout=timeout, tick=0.05)


def submitted_body(emulator) -> dict:
    posts = [r for r in emulator.requests if r[0] == "POST" and r[1] == SUBMIT]
    return json.loads(posts[-1][3])


def submit_posts(emulator) -> int:
    return sum(1 for r in emulator.requests if r[0] == "POST" and r[1] == SUBMIT)


def test_submit_carries_the_async_header_and_polls_do_not(ds, asset, generate):
    g = run(generate("wan2.2-i2v-flash", inputs={"image": asset("image", 1280, 720)}))
    assert g.status == S.SUCCEEDED
    submits = [r for r in ds.requests if r[1] == SUBMIT]
    polls = [r for r in ds.requests if r[1].startswith("/api/v1/tasks/")]
    assert len(submits) == 1 and polls
    headers = submits[0][2]
    assert headers["x-dashscope-async"] == "enable"
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["content-type"] == "application/json"
    assert all(r[0] == "GET" and r[1] == f"/api/v1/tasks/{g.external_id}" for r in polls)
    assert all("x-dashscope-async" not in r[2] for r in polls)


def test_wan25_with_automatic_sound_and_with_sound_off(ds, asset, generate):
    image = asset("image", 1280, 720)
    on = run(generate("wan2.5-i2v-preview", inputs={"image": image}, resolution="480P"))
    assert on.status == S.SUCCEEDED and on.has_audio is True
    assert submitted_body(ds)["parameters"]["audio"] is True
    off = run(
        generate("wan2.5-i2v-preview", inputs={"image": image}, resolution="480P", params={"audio": False})
    )
    assert off.status == S.SUCCEEDED and off.has_audio is False
    assert submitted_body(ds)["parameters"]["audio"] is False


def test_wan25_with_an_uploaded_audio_file_sends_its_signed_url(ds, public, asset, generate):
    # wan2.5 takes its first frame inline but fetches its audio by URL: only that slot is signed.
    g = generate(
        "wan2.5-i2v-preview",
        inputs={"image": asset("image", 1280, 720), "audio": asset("audio", seconds=4.0)},
        resolution="480P",
    )
    g = run(g)
    assert g.status == S.SUCCEEDED, g.error_message
    assert g.has_audio is True
    body = submitted_body(ds)
    assert body["input"]["audio_url"].startswith(f"{public}/public/assets/")
    assert body["input"]["img_url"].startswith("data:image/png;base64,")  # the image still goes inline
    assert "audio" not in body["parameters"]  # ignored when a file is given [002]


def test_wan25_audio_file_without_a_public_url_is_refused_before_anything_is_saved(ds, asset, generate):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="STUDIO_PUBLIC_BASE_URL") as refused:
        generate(
            "wan2.5-i2v-preview",
            inputs={"image": asset("image", 1280, 720), "audio": asset("audio", seconds=4.0)},
            resolution="480P",
        )
    assert "audio" in str(refused.value)
    assert submit_posts(ds) == 0 and not Generation.objects.exists()


def test_effect_template_flying_without_a_prompt(ds, asset, generate):
    g = run(
        generate(
            "wanx2.1-i2v-turbo",
            inputs={"image": asset("image", 1280, 720)},
            prompt="",
            params={"template": "flying"},
        )
    )
    assert g.status == S.SUCCEEDED, g.error_message
    body = submitted_body(ds)
    assert body["input"]["template"] == "flying" and "prompt" not in body["input"]


def test_prompt_extend_stores_the_vendors_rewritten_prompt(ds, asset, generate):
    image = asset("image", 1280, 720)
    g = run(generate("wan2.2-i2v-flash", inputs={"image": image}, prompt="a kite"))
    assert g.status == S.SUCCEEDED and g.actual_prompt.startswith("a kite ") and len(g.actual_prompt) > 10
    assert submitted_body(ds)["parameters"]["prompt_extend"] is True
    g = run(
        generate(
            "wan2.2-i2v-flash", inputs={"image": image}, prompt="a kite", params={"prompt_extend": False}
        )
    )
    assert g.status == S.SUCCEEDED and g.actual_prompt == ""
    assert submitted_body(ds)["parameters"]["prompt_extend"] is False


def vace(generate, task: str, inputs: dict, **kw: Any) -> Generation:
    return run(generate(VACE, task=task, inputs=inputs, **kw), timeout=30)


def test_vace_edit_with_a_mask_video(ds, public, asset, generate):
    inputs = {"video": asset("video", 640, 360), "mask_video": asset("video", 640, 360)}
    g = vace(generate, "video_edit", inputs, params={"control_condition": "depth"})
    assert g.status == S.SUCCEEDED, g.error_message
    body = submitted_body(ds)
    assert set(body["input"]) == {"function", "prompt", "video_url", "mask_video_url"}
    # no mask_frame_id / mask_type / expand_*: they act with a mask image only [004]
    # and no size: none was chosen, so the output keeps the input video's (640x360) [004]
    assert set(body["parameters"]) == {"control_condition", "duration", "watermark"}
    assert (g.width, g.height) == (640, 360)


def test_vace_extension_from_a_first_and_a_last_clip(ds, public, asset, generate):
    inputs = {"first_clip": asset("video", 640, 360), "last_clip": asset("video", 640, 360)}
    g = vace(generate, "video_extension", inputs)
    assert g.status == S.SUCCEEDED, g.error_message
    assert (g.width, g.height) == (640, 360)
    body = submitted_body(ds)
    assert set(body["input"]) == {"function", "prompt", "first_clip_url", "last_clip_url"}
    assert set(body["parameters"]) == {"duration", "watermark"}


@pytest.mark.parametrize(
    ("region", "wire"), [("beijing", "wanx2.1-vace-plus"), ("singapore", "wan2.1-vace-plus")]
)
def test_vace_model_name_follows_the_region(ds, ds_emulator, public, settings, asset, generate, region, wire):
    set_options(settings, region=region)  # what a Beijing or Singapore base URL implies
    ds_emulator.region = region  # that region's host knows only its own names
    g = vace(generate, "image_reference", {"ref_images": asset("image", 640, 640)})
    assert g.status == S.SUCCEEDED, g.error_message
    assert submitted_body(ds)["model"] == wire


@pytest.mark.parametrize(
    ("region", "model", "wire"),
    [
        ("singapore", "wanx2.1-i2v-plus", "wan2.1-i2v-plus"),
        ("singapore", "wanx2.1-i2v-turbo", "wan2.1-i2v-turbo"),
        ("beijing", "wanx2.1-i2v-plus", "wanx2.1-i2v-plus"),
        ("beijing", "wanx2.1-i2v-turbo", "wanx2.1-i2v-turbo"),
    ],
)
def test_21_i2v_model_names_follow_the_region(
    ds, ds_emulator, settings, asset, generate, region, model, wire
):
    """The international (Singapore) host names the 2.1 i2v models wan2.1-..., Beijing wanx2.1-... ."""
    set_options(settings, region=region)
    ds_emulator.region = region
    g = run(generate(model, inputs={"image": asset("image", 1280, 720)}))
    assert g.status == S.SUCCEEDED, g.error_message
    assert submitted_body(ds)["model"] == wire and ds.submit_count == 1


def test_an_unreachable_input_url_is_refused(ds, settings, asset, generate):
    settings.STUDIO_PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    g = vace(generate, "image_reference", {"ref_images": asset("image", 640, 640)})
    assert g.status == S.FAILED and g.error_code == "InvalidURL" and g.error_message.startswith("DashScope")
    assert ds.submit_count == 0


def test_a_check_the_vendor_makes_after_accepting_fails_the_task_later(ds, public, asset, generate):
    inputs = {"video": asset("video", 640, 360), "mask_image": asset("mask", 640, 360)}
    g = generate(VACE, task="video_edit", inputs=inputs)
    # Past the catalogue (which checks it), as a vendor-side rule we do not know yet would be.
    Generation.objects.filter(pk=g.pk).update(params={**g.params, "mask_frame_id": 500})
    g = run(g, timeout=30)
    assert g.status == S.FAILED and g.error_code == "InvalidParameter" and g.external_id
    assert "mask_frame_id" in g.error_message and g.error_kind == "permanent"
    engine.sweep()
    assert ds.submit_count == 1


@pytest.mark.parametrize(
    ("code", "words"),
    [("IPInfringementSuspect", "intellectual-property"), ("InternalError", "internal error")],
)
def test_a_failed_task_is_final_and_says_why(ds, asset, generate, code, words):
    ds.faults.set("task_fail", code=code)
    g = run(generate("wan2.2-i2v-flash", inputs={"image": asset("image", 1280, 720)}))
    assert g.status == S.FAILED and g.error_code == code and words in g.error_message
    engine.sweep()
    assert ds.submit_count == 1  # even an internal error: a person retries it as a new job


def test_cancel_while_queued(ds, asset, generate):
    ds.task_seconds = 30.0
    g = generate("wan2.2-i2v-flash", inputs={"image": asset("image", 1280, 720)})
    engine.submit(g.pk)
    g.refresh_from_db()
    assert cancel_generation(generation=g)
    assert ds.tasks[g.external_id].phase() == "canceled"
    assert get_provider("dashscope").poll(g.external_id).state == RemoteState.CANCELED
    assert get_provider("dashscope").cancel(g.external_id) is False  # no longer PENDING


def test_allocation_quota_requeues_the_job_for_minutes(settings, world, tmp_path, generate, monkeypatch):
    monkeypatch.setattr(services, "_nudge", lambda generation_id: None)
    answer = {"request_id": "r-1", "code": "Throttling.AllocationQuota", "message": "Quota exceeded."}
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(429, json=answer)))
    set_options(settings, base_url="https://dashscope-intl.aliyuncs.com/api/v1", api_key=KEY, client=client)
    image = make_image(tmp_path / "a.png", 1280, 720)
    image = create_asset(workspace=world.workspace, user=world.owner.user, source=image, expect="image")
    g = generate("wan2.2-i2v-flash", inputs={"image": image})
    engine.submit(g.pk)
    g.refresh_from_db()
    assert g.status == S.QUEUED and g.error_code == "Throttling.AllocationQuota"
    assert g.next_poll_at >= timezone.now() + timedelta(seconds=290)


# -------------------------------------------- translation only: no engine, no emulator (so no flush)


def provider_answering(status: int, body: dict | str) -> DashScopeProvider:
    def reply(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"content-type": "text/html"})
        return httpx.Response(status, json=body)

    client = httpx.Client(transport=httpx.MockTransport(reply))
    return DashScopeProvider(
        base_url="https://dashscope-intl.aliyuncs.com/api/v1", api_key="k", client=client
    )


def error_from(provider: DashScopeProvider, during: str) -> ProviderError:
    method, path = ("POST", "/services/aigc/video-generation/video-synthesis")
    if during != "submit":
        method, path = ("GET", "/tasks/t-1")
    with pytest.raises(ProviderError) as caught:
        provider._call(method, path, during=during)
    return caught.value


def vendor(code: str, message: str = "what went wrong") -> dict:
    return {"request_id": "r-1", "code": code, "message": message}


@pytest.mark.django_db  # the module's transactional mark would flush every table after each of these
class TestTranslation:
    @pytest.mark.parametrize(
        ("status", "code", "submit_kind", "poll_kind", "config"),
        [
            (400, "InvalidParameter", "permanent", "transient", False),
            (400, "InvalidParameter.DataInspection", "permanent", "transient", False),
            (400, "DataInspectionFailed", "permanent", "transient", False),
            (400, "IPInfringementSuspect", "permanent", "transient", False),
            (400, "InvalidURL", "permanent", "transient", False),
            (400, "BadRequest.EmptyInput", "permanent", "transient", False),
            (413, "BadRequest.TooLarge", "permanent", "transient", False),
            (400, "Arrearage", "permanent", "permanent", True),
            (401, "InvalidApiKey", "permanent", "permanent", True),
            (403, "AccessDenied", "permanent", "permanent", True),
            (403, "AccessDenied.Unpurchased", "permanent", "permanent", True),
            (429, "Throttling", "transient", "transient", False),
            (429, "Throttling.RateQuota", "transient", "transient", False),
            (429, "Throttling.AllocationQuota", "transient", "transient", False),
            (500, "InternalError", "unknown", "transient", False),
            (500, "InternalError.Algo", "unknown", "transient", False),
            (408, "RequestTimeOut", "unknown", "transient", False),
            (503, "ServiceUnavailable", "unknown", "transient", False),
        ],
    )
    # On a status call no page documents a refusal: a 4xx there is asked again, then left for a person.
    def test_error_table(self, status, code, submit_kind, poll_kind, config):
        provider = provider_answering(status, vendor(code))
        for during, kind in (("submit", submit_kind), ("poll", poll_kind)):
            error = error_from(provider, during)
            assert (error.kind.value, error.code, error.config) == (kind, code, config), during
            assert "what went wrong" in error.message and error.raw["request_id"] == "r-1"

    def test_allocation_quota_waits_long_and_asks_the_admin(self):
        error = error_from(provider_answering(429, vendor("Throttling.AllocationQuota")), "submit")
        assert error.retry_after >= 300 and "admin" in error.message

    @pytest.mark.parametrize("status", [502, 504])
    def test_a_gateway_error_without_a_dashscope_body_is_unknown_on_submit(self, status):
        provider = provider_answering(status, "<html><h1>Bad Gateway</h1></html>")
        assert error_from(provider, "submit").kind == ErrorKind.UNKNOWN_OUTCOME
        assert error_from(provider, "poll").kind == ErrorKind.TRANSIENT

    @pytest.mark.parametrize(
        ("status", "state", "code"),
        [
            ("PENDING", RemoteState.QUEUED, ""),
            ("RUNNING", RemoteState.RUNNING, ""),
            ("SUCCEEDED", RemoteState.SUCCEEDED, ""),
            ("FAILED", RemoteState.FAILED, "InternalError"),
            ("CANCELED", RemoteState.CANCELED, ""),
            ("UNKNOWN", RemoteState.LOST, ""),
            ("SUSPENDED", RemoteState.QUEUED, ""),  # never seen: keep asking until the id expires
        ],
    )
    def test_status_table(self, status, state, code):
        output = {"task_id": "t-1", "task_status": status, "video_url": "https://oss.example/v.mp4"}
        if status == "FAILED":
            output.update(code="InternalError", message="try again")
        provider = provider_answering(200, {"request_id": "r-2", "output": output})
        progress = provider.poll("t-1")
        assert (progress.state, progress.error_code) == (state, code)
        assert progress.result_url == ("https://oss.example/v.mp4" if state == RemoteState.SUCCEEDED else "")

    @pytest.mark.parametrize(
        ("base_url", "region"),
        [
            ("https://dashscope.aliyuncs.com/api/v1", "beijing"),
            ("https://dashscope-intl.aliyuncs.com/api/v1", "singapore"),
            ("https://dashscope-us.aliyuncs.com/api/v1", "virginia"),
            ("https://ws-1.cn-beijing.maas.aliyuncs.com/api/v1", "beijing"),
            ("https://ws-1.ap-southeast-1.maas.aliyuncs.com/api/v1", "singapore"),
            ("http://127.0.0.1:8700/api/v1", None),
        ],
    )
    def test_region_comes_from_the_host(self, base_url, region):
        assert region_of(base_url) == region

    def test_cadence_for_a_one_minute_job(self, monkeypatch):
        """First poll at 10 s, then 5, 10 and 15 s apart: a 60 s task is seen done by the 6th poll."""
        monkeypatch.setattr("studio.providers.base.random.uniform", lambda a, b: 1.0)
        provider = DashScopeProvider(api_key="k", base_url="https://dashscope.aliyuncs.com/api/v1")
        at, polls = provider.first_poll_delay, 1
        while at < 60:
            at += provider.next_poll_delay(polls - 1)  # as the engine asks after its n-th poll
            polls += 1
        assert (polls, at) == (6, 70.0)
        assert provider.task_ttl_seconds == 24 * 3600


def test_what_vace_trims_is_sent_and_the_creator_is_told(ds, public, asset, generate):
    """[004]: a video longer than 5 s is taken (its first 5 s used), so is a fourth reference image (the
    first 3 used) and a prompt past 800 characters (cut): the job is made, with a note for each."""
    long_video = asset("video", 640, 360, frames=16 * 7)  # 7 s
    g = vace(generate, "video_repainting", {"video": long_video}, params={"control_condition": "depth"})
    assert g.status == S.SUCCEEDED, g.error_message
    assert any("only the first 5 s are used" in w for w in g.warnings), g.warnings
    refs = [asset("image", 640, 640) for _ in range(4)]
    g = vace(
        generate,
        "image_reference",
        {"ref_images": refs},
        prompt="a red kite over the sea " * 40,
        params={"obj_or_bg": "obj,obj,obj,bg"},
    )
    assert g.status == S.SUCCEEDED, g.error_message
    body = submitted_body(ds)
    assert len(body["input"]["ref_images_url"]) == 4 and body["parameters"]["obj_or_bg"] == [
        "obj",
        "obj",
        "obj",
        "bg",
    ]
    assert any("only the first 3" in w for w in g.warnings) and any("800 characters" in w for w in g.warnings)


def test_spend_uses_the_length_the_vendor_reports(ds, public, asset, generate, settings):
    """Repainting a 3 s video makes 3 s ([004]); the vendor's usage says so, and the spend follows it
    rather than the 5 s estimate made before the job was sent."""
    settings.STUDIO_PRICES = ["dashscope:wan2.1-vace-plus=0.10/s"]
    g = vace(
        generate,
        "video_repainting",
        {"video": asset("video", 640, 360, frames=48)},
        params={"control_condition": "depth"},
    )
    assert g.status == S.SUCCEEDED, g.error_message
    assert g.vendor_report["usage"]["video_duration"] == 3
    assert str(g.cost_estimate) == "0.30"


def test_the_detail_page_shows_the_prompt_the_vendor_rewrote(ds, world, asset, generate):
    from django.urls import reverse

    g = run(generate("wan2.2-i2v-flash", inputs={"image": asset("image", 1280, 720)}))
    assert g.status == S.SUCCEEDED and g.actual_prompt
    assert (
        g.vendor_report["orig_prompt"] == g.prompt.text
        and g.vendor_report["actual_prompt"] == g.actual_prompt
    )
    page = world.owner.client.get(reverse("generations:detail", args=[world.workspace.slug, g.public_id]))
    assert g.actual_prompt in page.content.decode()


def sweep_until_done(generations: list[Generation], timeout: float = 60.0) -> list[Generation]:
    """The worker's loop: a sweep, then the next tick, until every job has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        engine.sweep()
        rows = list(Generation.objects.filter(pk__in=[g.pk for g in generations]))
        if all(g.is_finished for g in rows):
            return rows
        time.sleep(0.05)
    engine.wait_for_downloads()
    return list(Generation.objects.filter(pk__in=[g.pk for g in generations]))


@pytest.mark.django_db(transaction=True)
def test_forty_jobs_polled_at_once_stay_under_the_accounts_20_queries_a_second(ds, asset, generate):
    """Every job wants a poll every 50 ms here (the fixture's cadence), 800 a second in all: the shared
    bucket keeps the account's task queries under 20 a second, so DashScope never throttles one."""
    ds.task_seconds = 2.0
    image = asset("image", 1280, 720)
    jobs = [generate("wan2.2-i2v-flash", inputs={"image": image}) for _ in range(40)]
    done = sweep_until_done(jobs)
    assert [g.status for g in done] == [S.SUCCEEDED] * 40
    assert ds.throttled == {} and ds.submit_count == 40


@pytest.mark.django_db(transaction=True)
def test_submits_of_a_two_a_second_model_are_spaced_not_throttled(ds, asset, generate, monkeypatch):
    monkeypatch.setattr(DashScopeProvider, "max_running", {})  # only the submit rate spaces them here
    ds.task_seconds = 0.2
    image = asset("image", 1280, 720)
    jobs = [generate("wanx2.1-i2v-plus", inputs={"image": image}, resolution="720P") for _ in range(6)]
    done = sweep_until_done(jobs)
    assert [g.status for g in done] == [S.SUCCEEDED] * 6
    assert ds.throttled == {} and ds.submit_count == 6
    assert all(g.attempts == 1 for g in done)  # waited in our queue, never refused
