"""The engine against a scripted provider: every answer a vendor can give, and what the job becomes."""

import threading
from datetime import timedelta

import psycopg
import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from studio.generations import engine
from studio.generations.models import Generation
from studio.providers.base import ErrorKind, Progress, ProviderError, RemoteState, Submitted
from tests.factories import make_generation
from tests.fakes import ScriptedProvider
from tests.processes import database_url

S = Generation.Status
# The sweeper works rows from a thread pool, each thread with its own connection: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake(settings, sample_mp4):
    settings.STUDIO_PROVIDERS = {
        **settings.STUDIO_PROVIDERS,
        "fake": {"BACKEND": "tests.fakes.ScriptedProvider", "OPTIONS": {}},
    }

    def use(*script):
        ScriptedProvider.reset(script, result_file=sample_mp4)
        return ScriptedProvider

    return use


def refreshed(g):
    g.refresh_from_db()
    return g


def test_happy_path_submit_poll_download(world, fake):
    provider = fake(
        Submitted("ext-1"),
        Progress(RemoteState.QUEUED, position=3),
        Progress(RemoteState.RUNNING, fraction=0.5),
        Progress(
            RemoteState.SUCCEEDED, result_url="https://vendor.example/v.mp4", seed=42, actual_prompt="longer"
        ),
    )
    g = make_generation(world.workspace)
    assert engine.submit(g.pk)
    assert refreshed(g).status == S.SUBMITTED and g.external_id == "ext-1" and g.submitted_at
    assert engine.poll(g.pk) and refreshed(g).status == S.SUBMITTED and g.queue_position == 3
    assert engine.poll(g.pk) and refreshed(g).status == S.RUNNING and g.progress == 0.5
    assert engine.poll(g.pk)
    g = refreshed(g)
    assert g.status == S.SUCCEEDED
    assert (g.width, g.height, g.frames) == (320, 192, 16)
    assert g.video.name.endswith(".mp4") and g.poster.name.endswith(".jpg")
    assert g.result_seed == 42 and g.actual_prompt == "longer"
    assert g.remote_url == "" and g.provider_done_at and g.finished_at
    assert [c[0] for c in provider.calls] == ["submit", "poll", "poll", "poll", "download"]


def test_a_second_submit_of_the_same_row_does_nothing(world, fake):
    provider = fake(Submitted("ext-1"))
    g = make_generation(world.workspace)
    assert engine.submit(g.pk) is True
    assert engine.submit(g.pk) is False
    assert [c[0] for c in provider.calls] == ["submit"]


def test_rate_limited_submit_goes_back_to_the_queue_with_backoff(world, fake):
    fake(ProviderError(ErrorKind.TRANSIENT, "slow down", status=429, retry_after=30))
    g = make_generation(world.workspace)
    engine.submit(g.pk)
    g = refreshed(g)
    assert g.status == S.QUEUED and g.attempts == 1 and g.error_kind == "transient"
    assert g.next_poll_at >= timezone.now() + timedelta(seconds=25)
    assert engine.submit(g.pk) is False  # not due yet


@pytest.mark.parametrize(
    "error",
    [
        ProviderError(ErrorKind.UNKNOWN_OUTCOME, "read timeout", code="timeout"),
        RuntimeError("a bug in the adapter"),
    ],
)
def test_a_submit_that_may_have_happened_is_never_sent_again(world, fake, error):
    provider = fake(error)
    g = make_generation(world.workspace)
    engine.submit(g.pk)
    assert refreshed(g).status == S.SUBMIT_UNKNOWN and g.error_kind == "unknown"
    report = engine.sweep()
    assert report.submitted == 0 and [c[0] for c in provider.calls] == ["submit"]


def test_refused_submit_fails_with_the_vendors_words(world, fake):
    fake(
        ProviderError(
            ErrorKind.PERMANENT, "image_size is not one of the allowed values", code="20012", status=400
        )
    )
    g = make_generation(world.workspace)
    engine.submit(g.pk)
    g = refreshed(g)
    assert g.status == S.FAILED and g.error_code == "20012" and "image_size" in g.error_message


def test_late_answer_after_the_sweeper_gave_up_still_records_the_task(world, fake):
    g = make_generation(world.workspace)

    def slow_submit(_):
        # While the vendor is thinking, our lease runs out and the sweeper declares the submit unconfirmed.
        Generation.objects.filter(pk=g.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        assert engine.recover_abandoned() == 1
        return Submitted("late-1")

    fake(slow_submit)
    engine.submit(g.pk)
    g = refreshed(g)
    assert g.status == S.SUBMITTED and g.external_id == "late-1"


def test_a_database_connection_dropped_after_the_vendor_accepted_still_records_the_task(world, fake):
    if connection.vendor != "postgresql":
        pytest.skip("killing one database session from another needs PostgreSQL")
    g = make_generation(world.workspace)

    def submit_then_lose_the_connection(_):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        with psycopg.connect(database_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        return Submitted("accepted-1")

    fake(submit_then_lose_the_connection)
    assert engine.submit(g.pk)
    g = refreshed(g)
    assert g.status == S.SUBMITTED and g.external_id == "accepted-1"


def test_a_database_error_before_the_vendor_call_queues_the_job_again(world, fake, monkeypatch):
    provider = fake(Submitted("never"))
    g = make_generation(world.workspace)

    def lost_connection(generation):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine.submitting, "build_spec", lost_connection)
    assert engine.submit(g.pk)
    g = refreshed(g)
    assert g.status == S.QUEUED and g.attempts == 0 and g.lease_until is None
    assert provider.calls == []


def test_a_crashed_step_on_a_submitting_row_leaves_it_to_recovery(world, fake, monkeypatch):
    fake()
    g = make_generation(world.workspace)

    def crash(generation_id):
        Generation.objects.filter(pk=generation_id).update(
            status=S.SUBMITTING, lease_until=timezone.now() + timedelta(minutes=3)
        )
        raise RuntimeError("bug after the claim")

    engine.pools.guarded(crash, g.pk)
    assert refreshed(g).lease_until > timezone.now()  # its lease stands: not stranded without one
    Generation.objects.filter(pk=g.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert engine.recover_abandoned() == 1 and refreshed(g).status == S.SUBMIT_UNKNOWN


def test_worker_death_mid_submit_is_unconfirmed_not_resent(world, fake):
    provider = fake()
    g = make_generation(
        world.workspace, status=S.SUBMITTING, lease_until=timezone.now() - timedelta(seconds=1)
    )
    engine.sweep()
    assert refreshed(g).status == S.SUBMIT_UNKNOWN and g.error_code == "worker_lost"
    assert provider.calls == []


def test_worker_death_mid_submit_on_the_free_local_renderer_just_queues_again(world):
    g = make_generation(
        world.workspace,
        provider="local",
        status=S.SUBMITTING,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert engine.recover_abandoned() == 1
    assert refreshed(g).status == S.QUEUED


def test_poll_trouble_only_delays_the_next_poll(world, fake):
    fake(ProviderError(ErrorKind.TRANSIENT, "503", status=503), Progress(RemoteState.RUNNING))
    g = make_generation(world.workspace, status=S.SUBMITTED, external_id="x")
    engine.poll(g.pk)
    g = refreshed(g)
    assert g.status == S.SUBMITTED and g.next_poll_at > timezone.now() and g.lease_until is None
    Generation.objects.filter(pk=g.pk).update(next_poll_at=timezone.now())
    engine.poll(g.pk)
    assert refreshed(g).status == S.RUNNING and g.error_message == ""


def test_a_refused_key_while_polling_keeps_the_paid_job(world, fake):
    fake(ProviderError(ErrorKind.PERMANENT, "Invalid token", status=401, config=True))
    g = make_generation(world.workspace, status=S.RUNNING, external_id="x", submitted_at=timezone.now())
    engine.poll(g.pk)
    g = refreshed(g)
    assert g.status == S.RUNNING and "Invalid token" in g.error_message
    assert g.next_poll_at >= timezone.now() + timedelta(seconds=50)


@pytest.mark.parametrize(
    ("progress", "code"),
    [
        (
            Progress(RemoteState.FAILED, error_code="DataInspectionFailed", error_message="content flagged"),
            "DataInspectionFailed",
        ),
        (Progress(RemoteState.LOST), "lost"),
    ],
)
def test_vendor_failure_fails_the_job_with_its_code(world, fake, progress, code):
    fake(progress)
    g = make_generation(world.workspace, status=S.RUNNING, external_id="x")
    engine.poll(g.pk)
    g = refreshed(g)
    assert g.status == S.FAILED and g.error_code == code and g.error_message


def test_a_job_past_the_vendors_lifetime_is_failed_as_expired(world, fake):
    fake(Progress(RemoteState.RUNNING))
    g = make_generation(
        world.workspace, status=S.RUNNING, external_id="x", submitted_at=timezone.now() - timedelta(days=2)
    )
    engine.poll(g.pk)
    assert refreshed(g).status == S.FAILED and g.error_code == "expired"


def test_transient_download_trouble_keeps_the_result_for_another_try(world, fake):
    provider = fake(
        Progress(RemoteState.SUCCEEDED, result_url="error:connect-transient"),
        Progress(RemoteState.SUCCEEDED, result_url="https://vendor.example/v.mp4"),
    )
    g = make_generation(world.workspace, status=S.RUNNING, external_id="x")
    engine.poll(g.pk)
    assert refreshed(g).status == S.DOWNLOADING and g.remote_url.startswith("error:")
    Generation.objects.filter(pk=g.pk).update(next_poll_at=timezone.now())
    engine.sweep()
    engine.wait_for_downloads()
    assert refreshed(g).status == S.SUCCEEDED and g.video
    assert [c[0] for c in provider.calls] == ["poll", "download", "poll", "download"]


def test_an_expired_result_url_fails_the_job_plainly(world, fake):
    fake(Progress(RemoteState.SUCCEEDED, result_url="error:expired"))
    g = make_generation(world.workspace, status=S.RUNNING, external_id="x")
    engine.poll(g.pk)
    g = refreshed(g)
    assert g.status == S.FAILED and g.error_code == "expired" and "could not be saved" in g.error_message


def test_a_worker_killed_while_downloading_is_picked_up_after_the_lease(world, fake):
    fake(Progress(RemoteState.SUCCEEDED, result_url="https://vendor.example/v.mp4"))
    g = make_generation(
        world.workspace,
        status=S.DOWNLOADING,
        external_id="x",
        remote_url="https://vendor.example/old.mp4",
        lease_until=timezone.now() - timedelta(seconds=1),
        next_poll_at=timezone.now(),
    )
    engine.sweep()
    engine.wait_for_downloads()
    assert refreshed(g).status == S.SUCCEEDED


def test_a_leased_row_is_left_alone(world, fake):
    provider = fake()
    g = make_generation(
        world.workspace, status=S.RUNNING, external_id="x", lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert engine.poll(g.pk) is False
    assert provider.calls == []


def test_a_poison_row_does_not_wedge_the_sweep(world, fake):
    def answer(external_id):
        if external_id == "bad":
            raise RuntimeError("boom")
        return Progress(RemoteState.RUNNING)

    fake(answer, answer)
    bad = make_generation(world.workspace, status=S.RUNNING, external_id="bad")
    good = make_generation(world.workspace, status=S.RUNNING, external_id="good")
    report = engine.sweep()
    assert len(report.errors) == 1
    assert refreshed(bad).next_poll_at > timezone.now() + timedelta(seconds=20)
    assert refreshed(good).status == S.RUNNING


def test_a_model_with_a_running_limit_per_account_waits_its_turn_in_our_queue(world, fake, monkeypatch):
    provider = fake(Submitted("ext-a"), Submitted("ext-b"), Submitted("ext-c"))
    monkeypatch.setattr(ScriptedProvider, "max_running", {"m": 2})
    jobs = [make_generation(world.workspace) for _ in range(3)]
    for g in jobs:
        engine.submit(g.pk)
    states = sorted(refreshed(g).status for g in jobs)
    assert states == [S.QUEUED, S.SUBMITTED, S.SUBMITTED]
    assert [c[0] for c in provider.calls] == ["submit", "submit"]
    waiting = next(g for g in jobs if g.status == S.QUEUED)
    assert waiting.next_poll_at > timezone.now()
    # The limit is the account's: another workspace on the same (instance-wide) key waits too...
    shared = make_generation(world.other_workspace)
    assert engine.submit(shared.pk) is False and refreshed(shared).status == S.QUEUED
    # ...and one with a key of its own has its own allowance.
    from studio.providers.models import ProviderCredential

    credential = ProviderCredential(workspace=world.other_workspace, provider="fake")
    credential.set_key("sk-its-own")
    credential.save()
    own = make_generation(world.other_workspace)
    assert engine.submit(own.pk) is True and refreshed(own).status == S.SUBMITTED


def test_a_sweep_does_not_wait_for_the_downloads_it_starts(world, fake, monkeypatch):
    fake(Progress(RemoteState.SUCCEEDED, result_url="https://vendor.example/v.mp4"))
    release = threading.Event()
    real = ScriptedProvider.download

    def held(self, url, dest):
        assert release.wait(30), "the test never released the download"
        real(self, url, dest)

    monkeypatch.setattr(ScriptedProvider, "download", held)
    g = make_generation(world.workspace, status=S.RUNNING, external_id="x", next_poll_at=timezone.now())
    try:
        report = engine.sweep()  # would block here while the download is held, if the sweep waited
        assert report.polled == 1
        assert refreshed(g).status == S.DOWNLOADING and g.lease_until > timezone.now()
    finally:
        release.set()
    engine.wait_for_downloads()
    assert refreshed(g).status == S.SUCCEEDED and g.lease_until is None


def test_a_download_whose_lease_another_worker_took_is_not_fetched_again(world, fake):
    provider = fake()
    ours = timezone.now() + timedelta(seconds=5)
    theirs = timezone.now() + timedelta(minutes=5)
    g = make_generation(
        world.workspace,
        status=S.DOWNLOADING,
        external_id="x",
        remote_url="https://v/x.mp4",
        lease_until=theirs,
    )
    engine.downloads.start(g.pk, provider=provider(), url="https://v/x.mp4", lease=ours)
    engine.wait_for_downloads()
    assert provider.calls == []
    assert refreshed(g).status == S.DOWNLOADING and g.lease_until == theirs


def test_on_postgresql_concurrent_sweeps_claim_disjoint_shares_of_the_due_rows(world):
    if connection.vendor != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    from studio.generations.engine.polling import claim_due_polls

    past = timezone.now() - timedelta(seconds=1)
    rows = [
        make_generation(world.workspace, status=S.RUNNING, external_id=f"t{i}", next_poll_at=past).pk
        for i in range(60)
    ]
    held = threading.Event()
    release = threading.Event()
    shares: dict[str, list[int]] = {}

    def slow_claim():
        """A sweep that has claimed its share and not yet committed (its rows locked)."""
        from django.db import transaction

        try:
            with transaction.atomic():
                pks = list(
                    Generation.objects.select_for_update()
                    .filter(pk__in=rows[:25])
                    .values_list("pk", flat=True)
                )
                shares["held"] = pks
                held.set()
                release.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=slow_claim)
    other.start()
    assert held.wait(10)
    try:
        pks, lease = claim_due_polls(500)  # skips the 25 locked rows instead of waiting on them
    finally:
        release.set()
        other.join()
    assert sorted(pks) == sorted(rows[25:])
    assert set(Generation.objects.filter(pk__in=pks).values_list("lease_until", flat=True)) == {lease}
    assert all(p == 1 for p in Generation.objects.filter(pk__in=pks).values_list("polls", flat=True))
    second, _ = claim_due_polls(500)  # the next sweep: the claimed rows are leased now
    assert sorted(second) == sorted(rows[:25])


def test_a_bulk_claimed_row_whose_lease_was_taken_since_is_not_polled(world, fake):
    if connection.vendor != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's")
    from studio.generations.engine.polling import claim_due_polls, poll_claimed

    provider = fake(Progress(RemoteState.RUNNING, fraction=0.5))
    g = make_generation(
        world.workspace, provider="fake", status=S.RUNNING, external_id="t1", next_poll_at=timezone.now()
    )
    (pk,), lease = claim_due_polls(10)
    Generation.objects.filter(pk=pk).update(lease_until=lease + timedelta(seconds=1))  # another worker's
    assert poll_claimed(pk, lease) is False
    assert provider.calls == [] and refreshed(g).progress != 0.5
