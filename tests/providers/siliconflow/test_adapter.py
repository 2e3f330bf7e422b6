"""SiliconFlow: the provider contract against its emulator, plus what only SiliconFlow does (I2V data URIs,
the trace id, queue positions, its error bodies)."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest

from studio.generations import engine
from studio.generations.models import Generation
from studio.providers.base import ErrorKind, JobSpec, ProviderError, RemoteState
from studio.providers.siliconflow.adapter import SiliconFlowProvider
from tests.providers.contract import Case, ProviderContract

S = Generation.Status

T2V, I2V = "Wan-AI/Wan2.2-T2V-A14B", "Wan-AI/Wan2.2-I2V-A14B"
IMAGES = {"16x9": (640, 360, (1280, 720)), "9x16": (360, 640, (720, 1280)), "1x1": (480, 480, (960, 960))}


class TestSiliconFlow(ProviderContract):
    reported = frozenset({"timings", "seed"})  # results.timings and results.seed

    def test_an_unconfirmed_job_asked_again_finishes_without_a_second_submit(self, make_job, emulator, world):
        from django.urls import reverse

        emulator.faults.set("poll_400", times=engine.MAX_DOUBTFUL_POLLS)
        g = self.run(make_job())
        assert g.status == S.SUBMIT_UNKNOWN and g.error_code == "unconfirmed" and g.external_id
        detail = reverse("generations:detail", args=[world.workspace.slug, g.public_id])
        assert "Ask the provider again" in world.owner.client.get(detail).content.decode()
        retry = reverse("generations:retry", args=[world.workspace.slug, g.public_id])
        assert world.owner.client.post(retry, {"check": "1"}).status_code == 302
        g = self.run(g)
        assert g.status == S.SUCCEEDED, (g.status, g.error_message)
        assert emulator.submit_count == 1 and Generation.objects.count() == 1

    def test_run_again_can_reuse_the_seed_the_vendor_used(self, make_job, emulator, world):
        from django.urls import reverse

        g = self.run(make_job())  # no seed asked: the vendor picks one and reports it
        assert g.status == S.SUCCEEDED and g.seed is None and g.result_seed is not None
        detail = reverse("generations:detail", args=[world.workspace.slug, g.public_id])
        text = world.owner.client.get(detail).content.decode()
        assert f"seed {g.result_seed}" in text and "Run again with this seed" in text
        retry = reverse("generations:retry", args=[world.workspace.slug, g.public_id])
        assert world.owner.client.post(retry, {"seed": "result"}).status_code == 302
        again = Generation.objects.exclude(pk=g.pk).get()
        assert again.seed == g.result_seed and again.recipe.get("seed") == g.result_seed

    # The engine's sweep thread pool needs committed rows; the unit tests below need no database.
    pytestmark = [pytest.mark.django_db(transaction=True)]
    vendor = "siliconflow"
    label = "SiliconFlow"
    documented_fields = frozenset({"model", "prompt", "negative_prompt", "image_size", "image", "seed"})
    required_fields = frozenset({"model", "prompt", "image_size"})
    submit_path = "/v1/video/submit"
    refusal_code = "20012"

    @classmethod
    def cases(cls) -> list[Case]:
        t2v = [Case(f"t2v-{s}", T2V, "t2v", size=s) for s in ("1280x720", "720x1280", "960x960")]
        i2v = [
            Case(f"i2v-{name}", I2V, "i2v", inputs={"image": (("image", w, h),)}, expect_size=out)
            for name, (w, h, out) in IMAGES.items()
        ]
        return t2v + i2v

    def full_case(self) -> Case:
        return Case(
            "i2v-full",
            I2V,
            "i2v",
            inputs={"image": (("image", 360, 640),)},
            fields={"negative": "blurry, captions", "seed": 9_000_000_000},
            expect_size=(720, 1280),
        )

    def expected_body(self, generation: Generation) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": generation.model,
            "prompt": generation.prompt.text,
            "image_size": generation.size,
        }
        if generation.prompt.negative:
            body["negative_prompt"] = generation.prompt.negative
        link = generation.input_links.filter(slot="image").select_related("asset").first()
        if link is not None:
            data = base64.b64encode(link.asset.file.read()).decode()
            body["image"] = f"data:{link.asset.content_type};base64,{data}"
        if generation.seed is not None:
            body["seed"] = generation.seed
        return body

    def refusal(self) -> tuple[dict[str, Any], str]:
        return {"size": "1024x576"}, "image_size must be one of 1280x720, 720x1280, 960x960"

    # ------------------------------------------------------------------------------ SiliconFlow only
    def test_i2v_sends_the_uploaded_image_inline_and_the_size_follows_its_aspect(self, make_job, emulator):
        g = self.run(make_job(self.full_case()))
        assert g.status == "succeeded" and g.size == "720x1280" and (g.width, g.height) == (720, 1280)
        body = emulator.submits[0]
        assert body["image_size"] == "720x1280"
        head, _, data = body["image"].partition(",")
        assert head == "data:image/png;base64" and not data.startswith(" ")
        link = g.input_links.get(slot="image")
        assert base64.b64decode(data) == link.asset.file.read()

    def test_trace_id_and_vendor_seed_are_kept(self, make_job, emulator):
        g = self.run(make_job(seed=42))
        assert g.status == "succeeded"
        assert len(g.trace_id) == 32 and g.result_seed == 42

    def test_queue_position_is_shown_while_waiting(self, make_job, emulator):
        emulator.task_seconds = 30  # stays InQueue for 9 s
        g = make_job()
        assert engine.submit(g.pk)
        Generation.objects.filter(pk=g.pk).update(next_poll_at=g.created_at)
        assert engine.poll(g.pk)
        g.refresh_from_db()
        assert g.status == "submitted" and g.queue_position == 1


# ---------------------------------------------------------------------------- error bodies, without a server


def provider_answering(status: int, body: Any, *, text: bool = False) -> SiliconFlowProvider:
    def reply(request: httpx.Request) -> httpx.Response:
        if text:
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body, headers={"x-siliconcloud-trace-id": "t-1"})

    client = httpx.Client(transport=httpx.MockTransport(reply))
    return SiliconFlowProvider(base_url="https://sf.test/v1", api_key="k", client=client)


SPEC = JobSpec(generation_id="g1", provider="siliconflow", model=T2V, task="t2v", prompt="p", size="1280x720")


@pytest.mark.parametrize(
    ("status", "body", "text", "submit_kind", "config", "code"),
    [
        (400, {"code": 20012, "message": "bad image_size", "data": None}, False, "permanent", False, "20012"),
        (401, "Invalid token", False, "permanent", True, "auth"),
        (403, "Forbidden", False, "permanent", True, "forbidden"),
        (404, "404 page not found", True, "permanent", True, "not_found"),
        (429, {"message": "Details:TPM limit reached.", "data": None}, False, "transient", False, ""),
        # "overloaded" is no proof that nothing was made: on a submit it goes to a person
        (503, {"code": 50505, "message": "Model service overloaded."}, False, "unknown", False, ""),
        (500, {"code": 50000, "message": "boom"}, False, "unknown", False, ""),
        (504, "string", False, "unknown", False, ""),
    ],
)
def test_error_bodies_are_classified_as_the_sheet_says(status, body, text, submit_kind, config, code):
    with pytest.raises(ProviderError) as err:
        provider_answering(status, body, text=text).submit(SPEC)
    assert (err.value.kind, err.value.config, err.value.code) == (ErrorKind(submit_kind), config, code)
    assert err.value.status == status
    if status in (400, 401, 403, 404):
        assert err.value.message.startswith("SiliconFlow")
    if status in (500, 503, 504):  # on a poll the same answers only mean "ask again later"
        with pytest.raises(ProviderError) as poll_err:
            provider_answering(status, body, text=text).poll("r1")
        assert poll_err.value.kind == ErrorKind.TRANSIENT


def test_unknown_status_is_logged_and_polled_again(caplog):
    with caplog.at_level(logging.WARNING, logger="studio.providers.siliconflow.adapter"):
        progress = provider_answering(200, {"status": "Paused", "reason": ""}).poll("r1")
    assert progress.state == RemoteState.QUEUED and "Paused" in caplog.text


def test_finished_without_a_link_fails_plainly():
    progress = provider_answering(200, {"status": "Succeed", "results": {"videos": []}}).poll("r1")
    assert progress.state == RemoteState.FAILED and progress.error_code == "no_result"


def test_submit_without_a_request_id_is_an_unknown_outcome():
    with pytest.raises(ProviderError) as err:
        provider_answering(200, {"id": "x"}).submit(SPEC)
    assert err.value.kind == ErrorKind.UNKNOWN_OUTCOME


def test_unreadable_first_frame_is_refused_before_sending():
    from studio.providers.base import InputFile

    spec = JobSpec(
        generation_id="g1",
        provider="siliconflow",
        model=I2V,
        task="i2v",
        prompt="p",
        size="1280x720",
        inputs={"image": [InputFile(slot="image", path="/nonexistent.png", content_type="image/png")]},
    )
    calls = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(200)))
    with pytest.raises(ProviderError) as err:
        SiliconFlowProvider(base_url="https://sf.test/v1", api_key="k", client=client).submit(spec)
    assert err.value.kind == ErrorKind.PERMANENT and calls == []


def test_cadence_first_poll_after_5_s_then_back_off_to_a_10_s_cap():
    provider = SiliconFlowProvider(base_url="https://sf.test/v1", api_key="k")
    assert provider.first_poll_delay == 5.0 and provider.max_poll_interval == 10.0
    delays = [provider.next_poll_delay(n) for n in range(1, 12)]
    assert all(d <= 11.0 for d in delays) and delays[-1] >= 9.0
    assert json.dumps(provider.request_body(SPEC)) == (
        '{"model": "Wan-AI/Wan2.2-T2V-A14B", "prompt": "p", "image_size": "1280x720"}'
    )
