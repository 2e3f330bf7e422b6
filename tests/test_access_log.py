"""The terminal stays readable: one line for what a person did or what went wrong, none for the pollers."""

import logging

import pytest

from tests.factories import make_generation


@pytest.fixture
def access(caplog):
    caplog.set_level(logging.INFO, logger="studio.access")
    caplog.set_level(logging.INFO, logger="django.request")
    return caplog


def lines(caplog, logger="studio.access"):
    return [r for r in caplog.records if r.name == logger]


def test_a_live_card_poll_writes_no_line(world, access):
    g = make_generation(world.workspace, status="running")
    response = world.owner.client.get(f"/w/acme/g/{g.public_id}/card/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert lines(access) == []


def test_a_page_a_person_opens_writes_one_line(world, access):
    world.owner.client.get(f"/w/acme/p/{world.project.public_id}/")
    (record,) = lines(access)
    assert record.getMessage().startswith(f"GET /w/acme/p/{world.project.public_id}/ 200 ")


def test_a_post_writes_one_line(world, access):
    world.owner.client.post("/w/acme/p/new/", {"name": "Teaser"})
    (record,) = lines(access)
    assert record.getMessage().startswith("POST /w/acme/p/new/ 302 ")


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("outsider", 404)])
def test_an_expected_refusal_is_one_line_without_a_traceback(world, access, persona, status):
    response = world.persona(persona).client.post("/w/acme/p/new/", {"name": "Nope"})
    assert response.status_code == status
    (record,) = lines(access)
    assert f" {status} " in record.getMessage() and record.exc_info is None
    assert lines(access, "django.request") == []  # Django's own line (with its traceback) is dropped


def test_a_server_error_keeps_its_traceback(rf):
    from studio.logs import QuietClientErrors

    record = logging.LogRecord("django.request", logging.ERROR, "", 0, "boom", (), None)
    record.status_code = 500
    assert QuietClientErrors().filter(record)
    record.status_code = 404
    assert not QuietClientErrors().filter(record)


def test_the_job_forms_summary_asked_in_the_background_writes_no_line(world, access):
    url = f"/w/acme/g/new/{world.project.public_id}/preview/"
    response = world.owner.client.post(
        url, {"model": "local:preview-t2v", "prompt": "a kite", "duration": "2"}
    )
    assert response.status_code == 200 and "Makes" in response.content.decode()
    assert lines(access) == []
