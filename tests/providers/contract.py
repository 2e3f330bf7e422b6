"""The contract every cloud provider adapter passes: the real engine, driving the real adapter, against the
vendor's loopback emulator over HTTP.

A vendor's test module subclasses :class:`ProviderContract` (as ``Test<Vendor>``), names its emulator and
fills the hooks at the top of the class: the jobs to make for every model and task in the catalog, the
fields the vendor documents, the exact body it expects, and a job the vendor refuses. Every test here then
runs for that vendor. The jobs are created with the same service as the web form
(``create_generation``) and driven to their end with ``engine.drive`` / ``engine.sweep``, exactly as the
worker does.

Speed: the emulator finishes a task in ``task_seconds``; the provider's poll cadence and the engine's
retry backoff are shrunk for the tests (the real values are checked by each vendor module on its own).
"""

from __future__ import annotations

import copy
import errno
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import httpx
import pytest
from django.core.files.storage import FileSystemStorage

from studio.assets.services import create_asset
from studio.generations import engine, services
from studio.generations.models import Generation
from studio.generations.recipe import Recipe
from studio.generations.services import create_generation
from studio.providers.base import ErrorKind, ProviderError
from studio.providers.catalog import CATALOG, parse_size
from studio.providers.emulators import Emulator, start_emulator
from studio.providers.registry import get_provider, provider_class
from tests.media import make_image, make_video, probe

S = Generation.Status
KEY = "contract-key"


@dataclass(frozen=True)
class Case:
    """One job: what to ask for, the input files to make (slot -> ((kind, width, height), ...)), any other
    ``create_generation`` fields (negative, seed, params), and the video size that must come back
    (``None``: the asked ``size``)."""

    id: str
    model: str
    task: str
    size: str | None = None
    inputs: dict[str, tuple[tuple[str, int, int], ...]] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    expect_size: tuple[int, int] | None = None

    @property
    def expected_size(self) -> tuple[int, int]:
        size = self.expect_size or parse_size(self.size or "")
        assert size, f"case {self.id} says neither size nor expect_size"
        return size


@pytest.mark.django_db(transaction=True)  # the sweeper's thread pool needs committed rows
class ProviderContract:
    # ---------------------------------------------------------------------------------- hooks
    #: the provider's name in STUDIO_PROVIDERS, the catalog and the emulators
    vendor: ClassVar[str] = ""
    #: how messages for creators name the vendor
    label: ClassVar[str] = ""
    #: every field the vendor documents for a submit, and those that must always be sent
    documented_fields: ClassVar[frozenset[str]] = frozenset()
    required_fields: ClassVar[frozenset[str]] = frozenset()
    #: the submit route on the emulator (path without query), to count submit attempts
    submit_path: ClassVar[str] = ""
    #: the code a refused request (``refusal``) leaves in ``Generation.error_code``
    refusal_code: ClassVar[str] = ""
    #: ``task_fail`` fault parameters, and the words of it the creator must see
    failure_fault: ClassVar[dict[str, Any]] = {"reason": "content moderation rejected the output"}
    failure_words: ClassVar[str] = "content moderation rejected the output"
    task_seconds: ClassVar[float] = 0.3
    #: the vendor documents an answer for a task it no longer knows (DashScope's UNKNOWN): a lost task.
    #: Otherwise whatever it answers is undocumented, and the job goes to a person, never to "failed".
    forgotten_is_documented: ClassVar[bool] = False
    #: what the vendor reports about a finished job that the studio keeps (``Generation.vendor_report``)
    reported: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def cases(cls) -> list[Case]:
        """A happy job for every model and task the vendor has in the catalog (more are welcome)."""
        raise NotImplementedError

    def minimal_case(self) -> Case:
        """The cheapest happy job: optional fields left out."""
        return self.cases()[0]

    def full_case(self) -> Case:
        """A job that sets every optional field the vendor documents."""
        raise NotImplementedError

    def expected_body(self, generation: Generation) -> dict[str, Any]:
        """The exact JSON the vendor must receive for ``generation``."""
        raise NotImplementedError

    def refusal(self) -> tuple[dict[str, Any], str]:
        """(fields to force on a saved job, words of the vendor's refusal): a job the catalog no longer
        matches (the vendor changed an enum), so the vendor itself refuses it with its invalid-input error."""
        raise NotImplementedError

    # ---------------------------------------------------------------------------------- plumbing
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "case" in metafunc.fixturenames:
            cases = self.cases()
            metafunc.parametrize("case", cases, ids=[c.id for c in cases])

    @pytest.fixture
    def emulator(self) -> Emulator:
        handle = start_emulator(self.vendor, api_key=KEY, task_seconds=self.task_seconds)
        yield handle
        handle.stop()

    @pytest.fixture(autouse=True)
    def wired(self, settings, emulator, monkeypatch) -> None:
        self.settings = settings
        self.use_options(base_url=emulator.base_url, api_key=KEY)
        settings.STUDIO_FETCH_ALLOW_PRIVATE = True  # results live on 127.0.0.1
        settings.STUDIO_PROVIDER_TIMEOUT = 5.0
        cls = provider_class(self.vendor)
        monkeypatch.setattr(cls, "first_poll_delay", 0.02)
        monkeypatch.setattr(cls, "poll_steps", (0.05,))
        monkeypatch.setattr(cls, "max_poll_interval", 0.05)
        monkeypatch.setattr(
            engine.rules, "backoff", lambda attempt, retry_after=None: timedelta(seconds=0.05)
        )
        # The broker only nudges, and a worker elsewhere may be listening on it: keep tests to themselves.
        monkeypatch.setattr(services, "_nudge", lambda generation_id: None)

    def use_options(self, **options: Any) -> None:
        providers = copy.deepcopy(self.settings.STUDIO_PROVIDERS)
        providers[self.vendor]["OPTIONS"].update(options)
        self.settings.STUDIO_PROVIDERS = providers

    @pytest.fixture
    def make_job(self, world, tmp_path):
        def make(case: Case | None = None, **fields: Any) -> Generation:
            case = case or self.minimal_case()
            inputs = {
                slot: [self.make_asset(world, tmp_path, slot, i, *spec) for i, spec in enumerate(specs)]
                for slot, specs in case.inputs.items()
            }
            kwargs = {"prompt": f"{case.id}: a red fox trots through fresh snow at dawn", "size": case.size}
            return create_generation(
                workspace=world.workspace,
                project=world.project,
                user=world.owner.user,
                recipe=Recipe(
                    provider=self.vendor,
                    model=case.model,
                    task=case.task,
                    inputs=inputs,
                    **{**kwargs, **case.fields, **fields},
                ),
            )

        return make

    def make_asset(self, world, tmp_path, slot: str, index: int, kind: str, width: int, height: int):
        path = tmp_path / f"{slot}-{index}-{width}x{height}"
        if kind == "image":
            path = make_image(path.with_suffix(".png"), width, height)
        else:
            path = make_video(path.with_suffix(".mp4"), width, height)
        return create_asset(workspace=world.workspace, user=world.owner.user, source=path, expect=kind)

    @staticmethod
    def run(generation: Generation, timeout: float = 20.0) -> Generation:
        return engine.drive(generation.pk, timeout=timeout, tick=0.02)

    def submit_requests(self, emulator: Emulator) -> list[tuple[str, str, dict[str, str], bytes]]:
        return [r for r in emulator.requests if r[1].split("?")[0] == self.submit_path]

    @staticmethod
    def file_downloads(emulator: Emulator) -> int:
        return sum(1 for method, path, _, _ in emulator.requests if path.startswith("/_files/"))

    @staticmethod
    def sweep_a_few_times(n: int = 3) -> None:
        for _ in range(n):
            engine.sweep()
            time.sleep(0.05)

    # ---------------------------------------------------------------------------------- happy paths
    def test_cases_cover_every_model_and_task_in_the_catalog(self):
        wanted = {(m.id, t) for m in CATALOG[self.vendor].values() for t in m.tasks}
        assert wanted and wanted <= {(c.model, c.task) for c in self.cases()}

    def test_every_model_makes_a_stored_video_of_the_asked_size(self, make_job, emulator, case):
        g = self.run(make_job(case))
        assert g.status == S.SUCCEEDED, (g.error_code, g.error_message)
        facts = probe(g.video.path)
        assert (facts["width"], facts["height"]) == case.expected_size == (g.width, g.height)
        assert facts["frames"] > 0 and g.poster.name.endswith(".jpg")
        assert g.external_id and g.progress == 1.0 and g.remote_url == "" and g.error_message == ""
        assert emulator.submit_count == 1 and len(self.submit_requests(emulator)) == 1

    def test_submit_sends_exactly_the_documented_fields(self, make_job, emulator):
        for case in (self.minimal_case(), self.full_case()):
            emulator.reset()
            g = self.run(make_job(case))
            assert g.status == S.SUCCEEDED, (case.id, g.error_message)
            [(method, _, headers, raw)] = self.submit_requests(emulator)
            body = json.loads(raw)
            assert method == "POST" and headers["authorization"] == f"Bearer {KEY}"
            assert headers["content-type"].split(";")[0] == "application/json"
            assert set(body) <= self.documented_fields, set(body) - self.documented_fields
            assert self.required_fields <= set(body)
            assert body == self.expected_body(g), case.id

    def test_check_key_accepts_the_right_key_and_refuses_a_wrong_one(self, emulator):
        assert get_provider(self.vendor).check_key() is None
        wrong = provider_class(self.vendor)(base_url=emulator.base_url, api_key="wrong-key")
        with pytest.raises(ProviderError) as refused:
            wrong.check_key()
        assert refused.value.config and refused.value.kind == ErrorKind.PERMANENT
        assert self.label in refused.value.message
        emulator.stop()  # an unreachable vendor says nothing about the key
        with pytest.raises(ProviderError) as unreachable:
            get_provider(self.vendor).check_key()
        assert unreachable.value.kind == ErrorKind.TRANSIENT and not unreachable.value.config
        assert emulator.submit_count == 0

    # ---------------------------------------------------------------------------------- refusals
    def test_refused_request_fails_with_the_vendors_words(self, make_job, emulator):
        g = make_job()
        fields, words = self.refusal()
        Generation.objects.filter(pk=g.pk).update(**fields)
        g = self.run(g)
        assert g.status == S.FAILED and g.error_kind == "permanent"
        assert words in g.error_message and g.error_message.startswith(self.label)
        assert g.error_code == self.refusal_code
        assert g.attempts == 1 and emulator.submit_count == 0

    def test_wrong_key_fails_fast_with_a_config_message_naming_the_provider(self, make_job, emulator):
        self.use_options(api_key="wrong-key")
        g = self.run(make_job())
        assert g.status == S.FAILED and g.error_kind == "permanent"
        assert self.label in g.error_message and "key" in g.error_message
        assert g.attempts == 1 and g.polls == 0 and emulator.submit_count == 0

    def test_missing_key_fails_before_anything_is_sent(self, make_job, emulator):
        self.use_options(api_key="")
        g = self.run(make_job())
        assert g.status == S.FAILED and g.error_code == "no_key"
        assert emulator.requests == []

    def test_wrong_base_url_is_reported_as_configuration(self, make_job, emulator):
        self.use_options(base_url=emulator.base_url + "/nope")
        g = self.run(make_job())
        assert g.status == S.FAILED and g.error_code == "not_found"
        assert self.label in g.error_message and "BASE_URL" in g.error_message
        assert emulator.submit_count == 0

    # ---------------------------------------------------------------------------------- busy vendor
    @pytest.mark.parametrize("fault", ["submit_429"])
    def test_busy_vendor_requeues_the_submit_then_it_succeeds(self, make_job, emulator, fault):
        emulator.faults.set(fault)
        g = make_job()
        assert engine.submit(g.pk)
        g.refresh_from_db()
        assert g.status == S.QUEUED and g.error_kind == "transient" and g.attempts == 1
        assert g.error_code == fault[-3:] and g.next_poll_at is not None
        g = self.run(g)
        assert g.status == S.SUCCEEDED and g.attempts == 2 and g.error_message == ""
        assert emulator.submit_count == 1 and len(self.submit_requests(emulator)) == 2

    # ---------------------------------------------------------------------------------- unknown outcomes
    # Only a 429 (or a refusal of the request or the key) proves no task was made. A 500 or a 503 with the
    # vendor's own body says nothing of the kind, so they go to a person too.
    @pytest.mark.parametrize(
        "fault", ["submit_500", "submit_503", "submit_502", "submit_504", "submit_drop", "submit_malformed"]
    )
    def test_submit_that_may_have_happened_is_never_sent_again(self, make_job, emulator, fault):
        emulator.faults.set(fault)
        g = self.run(make_job())
        assert g.status == S.SUBMIT_UNKNOWN and g.error_kind == "unknown", (g.status, g.error_message)
        self.sweep_a_few_times()
        g.refresh_from_db()
        assert g.status == S.SUBMIT_UNKNOWN and g.attempts == 1
        assert len(self.submit_requests(emulator)) == 1
        # 500 and 503 are refused here before a task exists; the others lose the answer of an accepted task.
        assert emulator.submit_count == (0 if fault in ("submit_500", "submit_503") else 1)

    def test_a_500_after_the_task_was_made_never_makes_a_second_task(self, make_job, emulator):
        emulator.faults.set("submit_500", accepted=True)
        g = self.run(make_job())
        assert g.status == S.SUBMIT_UNKNOWN and g.error_kind == "unknown", (g.status, g.error_message)
        assert g.error_message.startswith(self.label)
        self.sweep_a_few_times()
        g.refresh_from_db()
        assert g.status == S.SUBMIT_UNKNOWN and g.attempts == 1
        assert emulator.submit_count == 1 and len(self.submit_requests(emulator)) == 1  # no duplicate task

    def test_submit_that_hangs_past_the_timeout_is_unknown_and_sent_once(self, make_job, emulator):
        self.settings.STUDIO_PROVIDER_TIMEOUT = 0.5
        emulator.faults.set("submit_hang", seconds=30)
        started = time.monotonic()
        g = self.run(make_job())
        assert time.monotonic() - started < 10
        assert g.status == S.SUBMIT_UNKNOWN and g.error_code == "timeout" and self.label in g.error_message
        self.sweep_a_few_times()
        g.refresh_from_db()
        assert g.status == S.SUBMIT_UNKNOWN and g.external_id == ""
        assert emulator.submit_count == 1 and len(self.submit_requests(emulator)) == 1

    # ---------------------------------------------------------------------------------- poll trouble
    @pytest.mark.parametrize(
        "fault", ["poll_429", "poll_500", "poll_502", "poll_503", "poll_504", "poll_malformed", "poll_slow"]
    )
    def test_poll_trouble_only_delays_the_job(self, make_job, emulator, fault):
        if fault == "poll_slow":
            self.settings.STUDIO_PROVIDER_TIMEOUT = 0.3
            emulator.faults.set(fault, times=2, seconds=1.0)
        else:
            emulator.faults.set(fault, times=2)
        g = self.run(make_job())
        assert g.status == S.SUCCEEDED, (g.error_code, g.error_message)
        assert emulator.submit_count == 1 and emulator.poll_count >= 3
        assert emulator.faults.active() == {}

    # ---------------------------------------------------------------------------------- vendor verdicts
    def test_failed_task_fails_the_job_with_the_vendors_reason(self, make_job, emulator):
        emulator.faults.set("task_fail", **self.failure_fault)
        g = self.run(make_job())
        assert g.status == S.FAILED and g.error_kind == "permanent"
        assert self.failure_words in g.error_message and g.error_message.startswith(self.label)
        assert emulator.submit_count == 1 and self.file_downloads(emulator) == 0

    def test_task_the_vendor_forgot_fails_as_lost_or_goes_to_a_person(self, make_job, emulator):
        g = make_job()
        assert engine.submit(g.pk)
        g.refresh_from_db()
        assert emulator.forget(g.external_id)
        g = self.run(g)
        if self.forgotten_is_documented:
            assert g.status == S.FAILED and g.error_code == "lost"
        else:  # backed off and asked again, then left for a person: a paid result is never dropped on it
            assert g.status == S.SUBMIT_UNKNOWN and g.error_code == "unconfirmed", (g.status, g.error_message)
            assert g.external_id and g.polls >= engine.MAX_DOUBTFUL_POLLS
        assert self.label in g.error_message and emulator.submit_count == 1

    def test_an_undocumented_400_on_a_poll_only_delays_the_job(self, make_job, emulator):
        emulator.faults.set("poll_400", times=2)
        g = self.run(make_job())
        assert g.status == S.SUCCEEDED, (g.status, g.error_code, g.error_message)
        assert emulator.submit_count == 1 and emulator.faults.active() == {}

    # ---------------------------------------------------------------------------------- results
    def test_what_the_vendor_reports_is_kept_with_the_seed_it_used(self, make_job, emulator):
        g = self.run(make_job())
        assert g.status == S.SUCCEEDED, g.error_message
        assert self.reported and self.reported <= set(g.vendor_report), g.vendor_report
        seed = emulator.tasks[g.external_id].seed
        if "seed" in self.reported:
            assert g.result_seed == seed and int(g.vendor_report["seed"]) == seed

    def test_result_url_that_works_once_still_leaves_a_playable_video(self, make_job, emulator):
        emulator.faults.set("result_once")
        g = self.run(make_job())
        assert g.status == S.SUCCEEDED, g.error_message
        url = emulator.result_url(emulator.tasks[g.external_id])
        assert httpx.get(url, timeout=5).status_code == 403  # the vendor's copy is gone ...
        facts = probe(g.video.path)  # ... ours plays
        assert (facts["width"], facts["height"]) == self.minimal_case().expected_size and facts["frames"] > 0
        assert self.file_downloads(emulator) == 2  # ours, then the check above

    def test_a_failed_save_keeps_the_fetched_result_for_the_next_try(self, make_job, emulator, monkeypatch):
        """Storage refuses the first save (a full disk) and the vendor's URL works once: the result was
        staged on our side, so the next try stores it without going back to the vendor."""
        emulator.faults.set("result_once")
        job, real_save, refused = make_job(), FileSystemStorage._save, []

        def full_disk(storage, name, content):
            if not refused:
                refused.append(name)
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_save(storage, name, content)

        monkeypatch.setattr(FileSystemStorage, "_save", full_disk)
        g = self.run(job)
        assert refused and g.status == S.SUCCEEDED, g.error_message
        assert probe(g.video.path)["frames"] > 0 and not engine.staged_result(g).exists()
        assert self.file_downloads(emulator) == 1 and emulator.submit_count == 1

    def test_expired_result_url_fails_plainly_and_is_not_fetched_again(self, make_job, emulator):
        emulator.faults.set("result_expired")
        g = self.run(make_job())
        assert g.status == S.FAILED and g.error_code == "expired"
        assert "expired" in g.error_message and "<" not in g.error_message
        self.sweep_a_few_times()
        assert self.file_downloads(emulator) == 1 and emulator.submit_count == 1
