"""The emulators' shared machinery (faults, the control endpoint, lifecycle, run_all), driven over HTTP on
every vendor (plain pytest, no database). Each vendor's own protocol is tested in
``tests/providers/<vendor>/test_emulator.py``.

.venv/bin/pytest tests/emulators -q
"""

from __future__ import annotations

import io
import socket
import threading
import time

import httpx
import pytest

from studio.providers.emulators import FAULTS, Faults, run_all, start_emulator
from tests.emulators.helpers import (
    AUTH,
    FAST,
    KEY,
    TLS,
    Driver,
    client,
    download,
    running,
    sf_submit,
    until,
)

sf = running("siliconflow")


@pytest.fixture(params=["siliconflow", "dashscope", "jiekou"])
def any_vendor(request):
    handle = start_emulator(request.param, task_seconds=FAST)
    yield Driver(handle)
    handle.stop()


# ============================================================================ faults, on every vendor

VENDOR_REFUSAL = {  # (status) -> a check of the vendor's own body
    "siliconflow": {
        400: lambda b: b["code"] == 20012,
        429: lambda b: "rate limit" in b["message"].lower() and "Details:" in b["message"],
        500: lambda b: "message" in b,
        503: lambda b: b["code"] == 50505,
    },
    "dashscope": {
        400: lambda b: b["code"] == "InvalidParameter",
        429: lambda b: b["code"].startswith("Throttling") and b["request_id"],
        500: lambda b: b["code"] == "InternalError",
        503: lambda b: b["code"] and b["message"],
    },
    "jiekou": {
        400: lambda b: b["code"] == 400 and b["reason"] == "INVALID_REQUEST_BODY",
        429: lambda b: b["code"] == 429 and b["reason"] == "RATE_LIMIT_EXCEEDED",
        500: lambda b: b["code"] == 500,
        503: lambda b: b["code"] == 503,
    },
}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_submit_refusals_carry_the_vendor_body_and_create_nothing(any_vendor, status):
    d = any_vendor
    d.handle.faults.set(f"submit_{status}", times=2)
    for _ in range(2):
        r = d.submit()
        assert r.status_code == status
        assert VENDOR_REFUSAL[d.handle.vendor][status](r.json())
    assert d.handle.submit_count == 0 and not d.handle.tasks
    r = d.submit()
    assert r.status_code == 200
    assert d.handle.submit_count == 1


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_have_no_vendor_body_and_may_have_created_the_task(any_vendor, status):
    d = any_vendor
    d.handle.set_faults(**{f"submit_{status}": 1})
    r = d.submit()
    assert r.status_code == status and r.headers["content-type"].startswith("text/html")
    assert d.handle.submit_count == 1 and len(d.handle.tasks) == 1  # the unknown outcome
    d.handle.set_faults(**{f"submit_{status}": {"times": 1, "accepted": False}})
    assert d.submit().status_code == status
    assert d.handle.submit_count == 1


def test_a_500_after_the_task_was_made_carries_the_vendor_body_and_the_task_exists(any_vendor):
    d = any_vendor
    d.handle.faults.set("submit_500", accepted=True)
    r = d.submit()
    assert r.status_code == 500 and VENDOR_REFUSAL[d.handle.vendor][500](r.json())
    assert d.handle.submit_count == 1 and len(d.handle.tasks) == 1  # paid, though the answer says 500
    (task_id,) = d.handle.tasks
    assert d.state(d.wait(task_id)) in ("Succeed", "SUCCEEDED", "TASK_STATUS_SUCCEED")


def test_slow_submit_creates_the_task_before_the_client_times_out(any_vendor):
    d = any_vendor
    d.handle.faults.set("submit_slow", seconds=0.6)
    with pytest.raises(httpx.ReadTimeout):
        d.submit(timeout=0.2)
    assert d.handle.submit_count == 1 and len(d.handle.tasks) == 1
    d.handle.faults.set("submit_slow", seconds=0.3)
    started = time.monotonic()
    r = d.submit()
    assert r.status_code == 200 and time.monotonic() - started >= 0.3
    assert d.handle.submit_count == 2


def test_hanging_submit_never_answers_but_the_server_stays_up(any_vendor):
    d = any_vendor
    d.handle.faults.submit_hang = 1
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        d.submit(timeout=0.4)
    assert time.monotonic() - started < 2
    assert d.handle.submit_count == 1
    (task_id,) = d.handle.tasks
    assert d.state(d.wait(task_id)) in ("Succeed", "SUCCEEDED", "TASK_STATUS_SUCCEED")


def test_dropped_and_malformed_submits_still_create_the_task(any_vendor):
    d = any_vendor
    d.handle.faults.set("submit_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        d.submit()
    d.handle.faults.set("submit_malformed")
    r = d.submit()
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    assert d.handle.submit_count == 2 and len(d.handle.tasks) == 2


@pytest.mark.parametrize("status", [400, 429, 500, 502, 503, 504])
def test_poll_faults(any_vendor, status):
    d = any_vendor
    task_id = d.task_id(d.submit())
    d.handle.faults.set(f"poll_{status}", times=2)
    answers = [d.poll(task_id) for _ in range(3)]
    assert [r.status_code for r in answers] == [status, status, 200]
    if status in (502, 504):
        assert answers[0].headers["content-type"].startswith("text/html")
    else:
        assert VENDOR_REFUSAL[d.handle.vendor][status](answers[0].json())
    assert d.handle.poll_count == 3


def test_poll_malformed_slow_and_always(any_vendor):
    d = any_vendor
    task_id = d.task_id(d.submit())
    d.handle.faults.set("poll_malformed")
    r = d.poll(task_id)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    d.handle.faults.set("poll_slow", seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        d.poll(task_id, timeout=0.2)
    d.handle.faults.poll_503 = "always"
    assert {d.poll(task_id).status_code for _ in range(4)} == {503}
    assert d.handle.faults.poll_503 == "always"
    d.handle.faults.clear("poll_503")
    assert d.poll(task_id).status_code == 200


FAILURE = {
    "siliconflow": (
        {"reason": "NSFW content detected"},
        lambda b: b["status"] == "Failed" and b["reason"] == "NSFW content detected",
    ),
    "dashscope": (
        {"code": "DataInspectionFailed"},
        lambda b: (
            b["output"]["task_status"] == "FAILED"
            and b["output"]["code"] == "DataInspectionFailed"
            and b["output"]["message"]
        ),
    ),
    "jiekou": (
        {"reason": "safety checker"},
        lambda b: b["task"]["status"] == "TASK_STATUS_FAILED" and b["task"]["reason"] == "safety checker",
    ),
}


def test_task_fail_uses_the_vendor_failure_shape(any_vendor):
    d = any_vendor
    params, check = FAILURE[d.handle.vendor]
    d.handle.faults.set("task_fail", **params)
    final = d.wait(d.task_id(d.submit()))
    assert check(final), final
    default = d.wait(d.task_id(d.submit()))  # the switch was for one task only
    assert d.state(default) in ("Succeed", "SUCCEEDED", "TASK_STATUS_SUCCEED")


def test_result_url_once_and_expired(any_vendor):
    d = any_vendor
    d.handle.faults.set("result_once")
    url = d.url(d.wait(d.task_id(d.submit())))
    assert httpx.head(url, verify=TLS).status_code == 200  # a HEAD is not a download
    first = download(url)
    assert first.status_code == 200 and first.content
    second = download(url)
    assert second.status_code == 403 and b"expired" in second.content

    d.handle.faults.set("result_expired")
    url = d.url(d.wait(d.task_id(d.submit())))
    assert download(url).status_code == 403

    url = d.url(d.wait(d.task_id(d.submit())))
    assert download(url).status_code == 200 and download(url).status_code == 200
    assert download(url.replace("Signature=", "Signature=0")).status_code == 403
    assert download(url.split("?")[0]).status_code == 403
    token_url = url.replace("/_files/", "/_files/x")
    assert download(token_url).status_code == 404


def test_slow_download_delays_one_answer(any_vendor):
    d = any_vendor
    url = d.url(d.wait(d.task_id(d.submit())))
    d.handle.faults.set("download_slow", seconds=0.5)
    started = time.monotonic()
    assert download(url).status_code == 200
    slow = time.monotonic() - started
    started = time.monotonic()
    assert download(url).status_code == 200
    assert slow >= 0.5 > time.monotonic() - started


def test_task_seconds_and_intermediate_states(any_vendor):
    d = any_vendor
    d.handle.task_seconds = 0.6
    task_id = d.task_id(d.submit())
    states = []
    for _ in range(100):
        body = d.poll(task_id).json()
        states.append(d.state(body))
        if states[-1] in ("Succeed", "SUCCEEDED", "TASK_STATUS_SUCCEED"):
            break
        time.sleep(0.04)
    assert len(set(states)) == 3, states  # queued, running, done
    assert 0.6 <= d.handle.tasks[task_id].elapsed() < 3
    assert d.handle.tasks[task_id].duration == 0.6


# ============================================================================ the Faults object itself


def test_faults_api():
    faults = Faults()
    faults.set("submit_429", times=2)
    faults.submit_500 = "always"
    faults.configure(task_fail={"times": 3, "code": "InternalError"}, poll_502=True)
    assert faults.submit_429 == 2 and faults.submit_500 == "always" and faults.poll_502 == "always"
    assert faults.active()["task_fail"] == {
        "times": 3,
        "code": "InternalError",
        "message": None,
        "reason": None,
    }
    assert faults.take("submit_429") == {}
    assert faults.take("submit_429") == {}
    assert faults.take("submit_429") is None and faults.submit_429 is None
    faults.submit_500 = False
    assert faults.submit_500 is None
    faults.set("poll_502", times=0)
    assert faults.poll_502 is None
    with pytest.raises(ValueError):
        faults.set("submit_418")
    with pytest.raises(AttributeError):
        faults.submit_418 = 1
    with pytest.raises(ValueError):
        faults.set("submit_slow", minutes=1)
    with pytest.raises(ValueError):
        faults.set("submit_slow", times=-1)
    faults.clear()
    assert faults.active() == {}
    assert {
        "submit_429",
        "submit_hang",
        "poll_malformed",
        "task_fail",
        "result_once",
        "result_expired",
    } <= set(FAULTS)


# ============================================================================ control endpoint, lifecycle, run_all


def test_control_endpoint(any_vendor):
    d = any_vendor
    origin = d.handle.base_url.removesuffix(d.handle.base_path)
    with httpx.Client(base_url=origin, verify=TLS) as control:
        r = control.post("/_emulator/faults", json={"submit_429": 1, "task_seconds": 0.1})
        assert r.status_code == 200 and r.json()["faults"]["submit_429"]["times"] == 1
        assert d.submit().status_code == 429
        task_id = d.task_id(d.submit())
        d.wait(task_id)
        stats = control.get("/_emulator/stats").json()
        assert stats["submits"] == 1 and stats["polls"] >= 1
        assert stats["tasks"][task_id]["state"] == "succeeded"
        assert stats["task_seconds"] == 0.1 and stats["faults"] == {}
        assert control.get("/_emulator/submits").json()["submits"] == d.handle.submits
        assert control.post("/_emulator/faults", json={"submit_4xx": 1}).status_code == 400
        assert control.post("/_emulator/faults", json=[1]).status_code == 400
        control.post("/_emulator/faults", json={"poll_500": "always"})
        control.post("/_emulator/faults", json={"clear": True, "poll_429": 1})
        assert control.get("/_emulator/faults").json()["faults"] == {"poll_429": {"times": 1}}
        assert control.post("/_emulator/forget", json={"task_id": task_id}).json() == {"forgotten": True}
        assert control.post("/_emulator/reset").json() == {"ok": True}
        stats = control.get("/_emulator/stats").json()
        assert stats["submits"] == stats["polls"] == stats["requests"] == 0 and stats["tasks"] == {}
        assert stats["faults"] == {} and stats["task_seconds"] == FAST
    assert d.handle.requests == []


def test_requests_are_recorded(sf):
    with client(sf) as c:
        sf_submit(c, prompt="recorded")
    ((method, path, headers, body),) = sf.requests
    assert (method, path) == ("POST", "/v1/video/submit")
    assert headers["authorization"] == f"Bearer {KEY}" and b"recorded" in body


def test_stop_frees_the_port():
    handle = start_emulator("jiekou", port=0)
    port = handle.port
    with httpx.Client(verify=TLS) as c:  # a keep-alive connection stays open until stop()
        assert c.get(f"{handle.base_url}/v3/async/task-result").status_code == 401
        handle.stop()
        with pytest.raises(httpx.TransportError):
            c.get(f"{handle.base_url}/v3/async/task-result")
    with socket.socket() as sock:  # a server (SO_REUSEADDR, as every server sets) can bind it again
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1)
    again = start_emulator("dashscope", port=port)  # the same port can be served again
    try:
        assert again.base_url == f"http://127.0.0.1:{port}/api/v1"
        assert (
            httpx.get(f"{again.base_url}/tasks/x", headers=AUTH, verify=TLS).json()["output"]["task_status"]
            == "UNKNOWN"
        )
    finally:
        again.stop()
    handle.stop()  # stopping twice is harmless


def test_unknown_vendor():
    with pytest.raises(ValueError):
        start_emulator("runway")


def _three_free_ports() -> int:
    for _ in range(50):
        with socket.socket() as probe_sock:
            probe_sock.bind(("127.0.0.1", 0))
            base = probe_sock.getsockname()[1]
        if base > 65530:
            continue
        socks = []
        try:
            for offset in range(3):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no three consecutive free ports")


def test_run_all_serves_the_three_on_consecutive_ports():
    port = _three_free_ports()
    stop = threading.Event()
    out = io.StringIO()
    thread = threading.Thread(
        target=run_all,
        kwargs={
            "port": port,
            "api_key": None,
            "task_seconds": 0.1,
            "stop": stop,
            "out": out,
            "verbose": False,
        },
    )
    thread.start()
    try:
        until(lambda: out.getvalue(), lambda text: "Ctrl-C" in text, timeout=5)
        text = out.getvalue()
        assert f"SILICONFLOW_BASE_URL=http://127.0.0.1:{port}/v1" in text
        assert f"DASHSCOPE_BASE_URL=http://127.0.0.1:{port + 1}/api/v1" in text
        assert f"JIEKOU_BASE_URL=http://127.0.0.1:{port + 2}\n" in text
        any_key = {"Authorization": "Bearer whatever"}  # api_key=None accepts any token
        r = httpx.get(
            f"http://127.0.0.1:{port + 2}/v3/async/task-result",
            params={"task_id": "x"},
            headers=any_key,
            verify=TLS,
        )
        assert r.status_code == 404
        for offset in range(3):
            assert (
                httpx.get(f"http://127.0.0.1:{port + offset}/_emulator/stats", verify=TLS).status_code == 200
            )
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/_emulator/stats", verify=TLS)
