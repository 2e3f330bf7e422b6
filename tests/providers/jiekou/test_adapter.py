"""jiekou.ai: the provider contract against its emulator, plus what only jiekou does (integer width/height,
LoRAs and sampler settings passed through, 64-bit seed values, progress percentages, its error bodies)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest

from studio.generations import engine
from studio.generations.models import Generation
from studio.providers.base import ErrorKind, JobSpec, ProviderError, RemoteState
from studio.providers.catalog import parse_size
from studio.providers.jiekou.adapter import JiekouProvider
from tests.providers.contract import Case, ProviderContract

MODEL = "wan2.1-t2v"
DOCUMENTED = frozenset(
    {
        "prompt",
        "negative_prompt",
        "width",
        "height",
        "loras",
        "seed",
        "steps",
        "guidance_scale",
        "flow_shift",
        "enable_safety_checker",
        "fast_mode",
    }
)
# The catalog's clean names are the vendor's names; studio "size" becomes width/height.
EXTRAS = ("loras", "steps", "guidance_scale", "flow_shift", "enable_safety_checker", "fast_mode")
FULL_PARAMS = {
    "loras": [{"path": "Remade-AI/Cyberpunk", "scale": 1.5}, {"path": "https://civitai.com/x", "scale": 0.5}],
    "steps": 12,
    "guidance_scale": 7.5,
    "flow_shift": 3,
    "enable_safety_checker": False,
    "fast_mode": True,
}


class TestJiekou(ProviderContract):
    reported = frozenset({"seed"})  # extra.seed, a string on the wire
    # The engine's sweep thread pool needs committed rows; the unit tests below need no database.
    pytestmark = [pytest.mark.django_db(transaction=True)]
    vendor = "jiekou"
    label = "jiekou.ai"
    documented_fields = DOCUMENTED  # the playground's `watermark` is deliberately not among them
    required_fields = frozenset({"prompt", "width", "height"})
    submit_path = "/v3/async/wan-t2v"
    refusal_code = "INVALID_REQUEST_BODY"

    @classmethod
    def cases(cls) -> list[Case]:
        return [
            Case(f"t2v-{s}", MODEL, "t2v", size=s) for s in ("832x480", "480x832", "1280x720", "720x1280")
        ]

    def full_case(self) -> Case:
        return Case(
            "t2v-full",
            MODEL,
            "t2v",
            size="480x832",
            fields={"negative": "blurry, captions", "seed": 9_999_999_999, "params": FULL_PARAMS},
        )

    def expected_body(self, generation: Generation) -> dict[str, Any]:
        width, height = parse_size(generation.size)
        body: dict[str, Any] = {"prompt": generation.prompt.text, "width": width, "height": height}
        if generation.prompt.negative:
            body["negative_prompt"] = generation.prompt.negative
        if generation.seed is not None:
            body["seed"] = generation.seed
        body.update({k: generation.params[k] for k in EXTRAS if k in generation.params})
        return body

    def refusal(self) -> tuple[dict[str, Any], str]:
        return {"size": "640x640"}, "width must be one of 480, 720, 832, 1280"

    # ------------------------------------------------------------------------------ jiekou only
    def test_loras_settings_and_a_64_bit_seed_pass_through_as_json_numbers(self, make_job, emulator):
        g = self.run(make_job(self.full_case()))
        assert g.status == "succeeded" and (g.width, g.height) == (480, 832)
        [(_, _, _, raw)] = self.submit_requests(emulator)
        text = raw.decode()
        assert '"seed": 9999999999' in text or '"seed":9999999999' in text
        body = json.loads(text)
        assert body["width"] == 480 and body["height"] == 832 and isinstance(body["width"], int)
        assert body["loras"] == FULL_PARAMS["loras"] and body["steps"] == 12
        assert body["guidance_scale"] == 7.5 and body["flow_shift"] == 3.0
        assert body["enable_safety_checker"] is False and body["fast_mode"] is True
        assert "watermark" not in body
        assert g.result_seed == 9_999_999_999  # extra.seed comes back as a string

    def test_catalog_defaults_are_sent_and_a_random_seed_comes_back(self, make_job, emulator):
        g = self.run(make_job())
        body = emulator.submits[0]
        assert body["seed"] == -1 and body["steps"] == 30 and body["guidance_scale"] == 5.0
        assert "loras" not in body and "negative_prompt" not in body
        assert g.result_seed is not None and g.result_seed >= 0

    def test_progress_percent_becomes_the_jobs_progress(self, make_job, emulator):
        emulator.task_seconds = 2  # queued for 0.6 s, then running
        g = make_job()
        assert engine.submit(g.pk)
        time.sleep(0.9)
        Generation.objects.filter(pk=g.pk).update(next_poll_at=g.created_at)
        assert engine.poll(g.pk)
        g.refresh_from_db()
        assert g.status == "running" and 0 < g.progress < 1


# ---------------------------------------------------------------------------- error bodies, without a server


def provider_answering(status: int, body: Any) -> JiekouProvider:
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body)))
    return JiekouProvider(base_url="https://jk.test", api_key="k", client=client)


def error(status: int, reason: str, message: str = "m") -> dict:
    return {"code": status, "reason": reason, "message": message, "metadata": {}}


SPEC = JobSpec(generation_id="g1", provider="jiekou", model=MODEL, task="t2v", prompt="p", size="832x480")


@pytest.mark.parametrize(
    ("status", "body", "submit_kind", "config", "code"),
    [
        (
            400,
            error(400, "INVALID_REQUEST_BODY", "steps must be an integer"),
            "permanent",
            False,
            "INVALID_REQUEST_BODY",
        ),
        (401, error(401, "FAILED_TO_AUTH"), "permanent", True, "FAILED_TO_AUTH"),
        (403, error(403, "FORBIDDEN"), "permanent", True, "FORBIDDEN"),
        (404, error(404, "NOT_FOUND"), "permanent", True, "not_found"),
        (429, error(429, "RATE_LIMIT_EXCEEDED"), "transient", False, ""),
        (503, error(503, "SERVICE_UNAVAILABLE"), "unknown", False, ""),
        (500, error(500, "INTERNAL_SERVER_ERROR"), "unknown", False, ""),
        (504, "gateway timeout", "unknown", False, ""),
    ],
)
def test_error_bodies_are_classified_as_the_sheet_says(status, body, submit_kind, config, code):
    with pytest.raises(ProviderError) as err:
        provider_answering(status, body).submit(SPEC)
    assert (err.value.kind, err.value.config, err.value.code) == (ErrorKind(submit_kind), config, code)
    if status in (400, 401, 403, 404):
        assert err.value.message.startswith("jiekou.ai")
    if status in (500, 503, 504):
        with pytest.raises(ProviderError) as poll_err:
            provider_answering(status, body).poll("t1")
        assert poll_err.value.kind == ErrorKind.TRANSIENT


def test_task_not_found_on_poll_is_doubtful_not_lost_and_not_a_configuration_error():
    """No page documents TASK_NOT_FOUND: the paid task may exist, so it is asked again, then a person decides."""
    with pytest.raises(ProviderError) as caught:
        provider_answering(404, error(404, "TASK_NOT_FOUND", "task t1 not found")).poll("t1")
    found = caught.value
    assert found.kind == ErrorKind.TRANSIENT and found.doubtful and not found.config
    assert found.code == "TASK_NOT_FOUND" and "jiekou.ai" in found.message


def test_unknown_status_is_logged_and_polled_again(caplog):
    body = {"task": {"status": "TASK_STATUS_PAUSED"}, "extra": {}, "videos": []}
    with caplog.at_level(logging.WARNING, logger="studio.providers.jiekou.adapter"):
        progress = provider_answering(200, body).poll("t1")
    assert progress.state == RemoteState.QUEUED and "TASK_STATUS_PAUSED" in caplog.text


@pytest.mark.parametrize(("percent", "fraction"), [(0, 0.0), (37, 0.37), ("55", 0.55), (None, None)])
def test_progress_percent_is_read_leniently(percent, fraction):
    body = {"task": {"status": "TASK_STATUS_PROCESSING", "progress_percent": percent}, "extra": {"seed": "7"}}
    progress = provider_answering(200, body).poll("t1")
    assert progress.state == RemoteState.RUNNING and progress.fraction == fraction and progress.seed == 7


def test_size_is_required_rather_than_left_to_the_vendors_fallback():
    spec = JobSpec(generation_id="g1", provider="jiekou", model=MODEL, task="t2v", prompt="p")
    with pytest.raises(ProviderError) as err:
        provider_answering(200, {"task_id": "t"}).submit(spec)
    assert err.value.kind == ErrorKind.PERMANENT and err.value.code == "no_size"


def test_cadence_first_poll_after_5_s_then_back_off_to_a_10_s_cap():
    provider = JiekouProvider(base_url="https://jk.test", api_key="k")
    assert provider.first_poll_delay == 5.0 and provider.max_poll_interval == 10.0
    assert all(provider.next_poll_delay(n) <= 11.0 for n in range(20))
