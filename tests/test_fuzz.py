"""Every URL of the table (tests/test_access.py), as owner, editor, viewer and outsider, with fuzzed query
parameters, form fields and headers: never a 500; and the job form, refused, keeps what was typed.

The fields tried are the ones the views read (request.GET / POST / headers, every form's fields) plus
the URL's own test data; values are drawn from the kinds that broke before (digits that are not ASCII,
numbers of thousands of digits, impossible dates, deep brackets, Range forms) and from arbitrary text.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.generations.forms import GenerationForm
from tests.test_access import ROUTES

PERSONAS = ["owner", "editor", "viewer", "outsider"]
# What the views read from requests, beyond their forms' fields.
READ = [
    "q", "status", "provider", "model", "task", "author", "since", "until", "before", "after", "project",
    "remix", "template", "ids", "download", "frame", "mask", "from", "slot", "stars", "favorite", "asset_id",
    "aspect", "box", "min_side", "expires_in", "include_recipe", "archived", "name", "role", "key", "next",
    "template_name", "template_description", "parts_json", "prompt", "negative", "size", "resolution",
    "duration", "seed", "params", "monthly_budget", "max_jobs_in_flight",
]  # fmt: skip
FIELDS = sorted(set(READ) | set(GenerationForm.base_fields))
NASTY = st.sampled_from(
    [
        "²", "\uff14\uff12", "9" * 5000, "-1", "0", str(2**64), "1e309", "NaN", "[" * 5000, "{" * 3000,
        '{"a":' * 200, "2026-13-45T00:00:00~1", "2026-02-30", "~" * 300, "\x00", "\ud800", "../../etc/passwd",
        "local:preview-t2v", "dashscope:wan2.1-vace-plus", "video_edit", "1280x720", "99999x99999", "a" * 20_000,
        "<script>alert(1)</script>", " ", "true", "null", "[]", "{}",
    ]
)  # fmt: skip
VALUES = st.one_of(NASTY, st.text(max_size=40), st.integers(min_value=-(2**70), max_value=2**70).map(str))
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "Range": st.one_of(
            st.sampled_from(["bytes=0-", "bytes=-0", "bytes=5-1", f"bytes={'9' * 4400}-", "bytes=0-1,2-3"]),
            st.text(max_size=30).map(lambda t: "bytes=" + t),
        ),
        "HX-Request": st.sampled_from(["true", "1", ""]),
        "HX-Target": st.sampled_from(["gallery-results", "template-list", "x" * 200]),
        "If-None-Match": st.text(max_size=40),
    },
)
tried = {"requests": 0}


def clean(value: str) -> str:
    # The test client cannot send lone surrogates or NUL in a form; the server never sees them either.
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    line = f"fuzz: {tried['requests']} requests across {len(ROUTES)} URLs and the job form, none answered 500"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown in CI's output, not captured with the tests' own
        print(f"\n{line}")


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_no_input_gets_a_500(world, name):
    route = ROUTES[name]
    url = reverse(name, kwargs=route.kwargs(world))
    base = route.data(world)
    clients = {p: world.persona(p).client for p in PERSONAS}
    for client in clients.values():
        client.raise_request_exception = False  # a 500 is an answer to look at, not a crash of the test

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        persona=st.sampled_from(PERSONAS),
        fields=st.dictionaries(st.sampled_from(FIELDS), VALUES.map(clean), max_size=6),
        headers=HEADERS,
    )
    def check(persona, fields, headers):
        client: Client = clients[persona]
        tried["requests"] += 1
        if route.method == "POST":
            # A file in the URL's own data is read by each request: make the data afresh then.
            own = route.data(world) if any(hasattr(v, "read") for v in base.values()) else base
            response = client.post(url, {**own, **fields}, headers=headers)
        else:
            response = client.get(url, fields, headers=headers)
        assert response.status_code < 500, (name, persona, fields, headers, response.status_code)

    check()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prompt=st.text(min_size=1, max_size=60).filter(lambda t: t.strip() and "\x00" not in t).map(clean),
    extra=st.dictionaries(st.sampled_from(sorted(GenerationForm.base_fields)), VALUES.map(clean), max_size=4),
)
def test_a_refused_job_form_keeps_the_prompt(world, prompt, extra):
    for kept in ("prompt", "model", "duration"):  # the refusal itself: 999 s on a model of up to 10 s
        extra.pop(kept, None)
    url = reverse("generations:create", kwargs={"slug": "acme", "project_id": world.project.public_id})
    data = {"model": "local:preview-t2v", "prompt": prompt, "duration": "999", **extra}  # 999 s: refused
    world.editor.client.raise_request_exception = False
    response = world.editor.client.post(url, data)
    tried["requests"] += 1
    assert response.status_code == 200, (data, response.status_code)
    from django.utils.html import escape

    assert escape(prompt.strip()) in response.content.decode()
