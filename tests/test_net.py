"""The outbound fetcher's refusals (SSRF) and limits, over real sockets on loopback.

A refusal must happen before any connection: the servers below count every connection they receive,
accepted or still waiting in the backlog, and a spy records every address the fetcher connects to.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from studio import net
from studio.net import FetchError, fetch_to_file, is_public_address

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 1200  # ~300 KB
HTML = b"<!doctype html><html><body>Please log in</body></html>" * 50


class Server(ThreadingHTTPServer):
    """A loopback HTTP server answering with ``respond(handler)``; it counts connections and requests."""

    daemon_threads = True

    def __init__(self, host: str, respond, family=socket.AF_INET):
        self.address_family = family
        self.respond = respond
        self.connections = 0
        self.requests: list[str] = []
        super().__init__((host, 0), Handler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/video.mp4", host: str | None = None) -> str:
        host = host or self.server_address[0]
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}{path}"

    def get_request(self):
        conn = super().get_request()
        self.connections += 1
        return conn

    def handle_error(self, request, client_address):
        pass  # a client that hangs up mid-answer (as a refusing fetcher does) is not the server's problem

    def stop(self) -> int:
        """Stop serving; return every connection ever made, counting any still waiting to be accepted."""
        self.shutdown()
        self.socket.setblocking(False)
        while True:
            try:
                conn, _ = self.socket.accept()
            except (BlockingIOError, OSError):
                break
            conn.close()
            self.connections += 1
        self.server_close()
        return self.connections


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.requests.append(self.path)
        self.server.respond(self)

    def log_message(self, *args):
        pass


def body(data: bytes, *, status: int = 200, content_type: str = "video/mp4", length: int | None = None):
    def respond(h: BaseHTTPRequestHandler):
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data) if length is None else length))
        h.end_headers()
        h.wfile.write(data)

    return respond


def chunked(chunks, *, content_type: str = "video/mp4"):
    def respond(h: BaseHTTPRequestHandler):
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for chunk in chunks:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client gave up, as it should

    return respond


def redirect(to: str):
    def respond(h: BaseHTTPRequestHandler):
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return respond


@pytest.fixture
def serve():
    servers: list[Server] = []

    def start(respond, host: str = "127.0.0.1", family=socket.AF_INET) -> Server:
        server = Server(host, respond, family)
        servers.append(server)
        return server

    yield start
    for server in servers:
        if server.thread.is_alive():
            server.stop()


@pytest.fixture(autouse=True)
def _fresh_clients():
    """guarded_client() keeps one client per (process, allow-private): no pooled connection between tests."""

    def clear():
        for client in net._clients.values():
            client.close()
        net._clients.clear()

    clear()
    yield
    clear()


@pytest.fixture
def connects(monkeypatch):
    """Every address the fetcher's sockets connect to."""
    seen: list[tuple[str, int]] = []
    real = socket.create_connection

    def spy(address, *args, **kwargs):
        seen.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", spy)
    return seen


@pytest.fixture
def private_off(settings):
    settings.STUDIO_FETCH_ALLOW_PRIVATE = False


@pytest.fixture
def private_on(settings):
    settings.STUDIO_FETCH_ALLOW_PRIVATE = True


def refused(url: str, dest, code: str = "blocked") -> FetchError:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_to_file(url, dest)
    assert caught.value.code == code, caught.value
    assert not caught.value.transient
    assert time.monotonic() - started < 1.0  # refused up front: no connect timeout was waited out
    assert not dest.exists() and not list(dest.parent.glob(".part-*"))
    return caught.value


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# Refusals ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("private_off")
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "0.0.0.0", "127.1", "2130706433"])
def test_loopback_is_refused_and_never_connected(host, serve, connects, tmp_path):
    server = serve(body(MP4))
    refused(server.url(host=host), tmp_path / "v.mp4")
    assert connects == []
    assert server.stop() == 0 and server.requests == []


@pytest.mark.usefixtures("private_off")
@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_loopback_is_refused_and_never_connected(serve, connects, tmp_path):
    server = serve(body(MP4), host="::1", family=socket.AF_INET6)
    refused(server.url(), tmp_path / "v.mp4")
    assert connects == []
    assert server.stop() == 0


@pytest.mark.usefixtures("private_off")
@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "10.255.255.254",
        "172.16.0.1",
        "172.31.255.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (carrier NAT)
        "100.127.255.254",
        "[fd00:ec2::254]",  # AWS metadata over IPv6 (unique local)
        "[fe80::1]",
        "[::ffff:169.254.169.254]",
        "224.0.0.1",
    ],
)
def test_private_ranges_are_refused_at_once_without_a_connection(address, connects, tmp_path):
    refused(f"http://{address}/latest/meta-data/", tmp_path / "v.mp4")
    assert connects == []


@pytest.fixture
def fake_dns(monkeypatch):
    """Names in ``records`` resolve to the given addresses; every other name resolves for real."""
    records: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name in records:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in records[name]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return records


@pytest.mark.usefixtures("private_off")
def test_a_name_resolving_to_loopback_is_refused(fake_dns, serve, connects, tmp_path):
    server = serve(body(MP4))
    fake_dns["evil.example"] = ["127.0.0.1"]
    error = refused(server.url(host="evil.example"), tmp_path / "v.mp4")
    assert "evil.example" in str(error) and "127.0.0.1" in str(error)
    assert connects == []
    assert server.stop() == 0 and server.requests == []


@pytest.mark.usefixtures("private_off")
def test_a_name_with_one_private_address_among_public_ones_is_refused(fake_dns, serve, connects, tmp_path):
    server = serve(body(MP4))
    fake_dns["mixed.example"] = ["93.184.215.14", "127.0.0.1"]
    refused(server.url(host="mixed.example"), tmp_path / "v.mp4")
    assert connects == []
    assert server.stop() == 0


@pytest.mark.usefixtures("private_off")
@pytest.mark.parametrize("via", ["address", "name"])
def test_a_redirect_into_a_private_address_is_refused(via, fake_dns, serve, connects, tmp_path, monkeypatch):
    inside = serve(body(MP4), host="127.0.0.1")  # would hand over a perfectly good video
    fake_dns["inside.example"] = ["127.0.0.1"]
    target = inside.url(host="127.0.0.1" if via == "address" else "inside.example")
    outside = serve(redirect(target), host="127.0.0.2")
    real = is_public_address
    monkeypatch.setattr(net, "is_public_address", lambda ip: ip == "127.0.0.2" or real(ip))
    refused(outside.url(), tmp_path / "v.mp4")
    assert outside.requests == ["/video.mp4"]  # the public host was asked...
    assert connects == [("127.0.0.2", outside.port)]  # ...and nothing else was connected to
    assert inside.stop() == 0 and inside.requests == []


@pytest.mark.parametrize(
    "ip, public",
    [
        ("::ffff:127.0.0.1", False),  # IPv4-mapped IPv6
        ("::ffff:10.1.2.3", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:8.8.8.8", True),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd12:3456::1", False),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("100.64.0.1", False),
        ("198.18.0.1", False),  # benchmarking
        ("192.0.2.1", False),  # documentation
        ("255.255.255.255", False),
        ("239.1.2.3", False),  # multicast
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_is_public_address(ip, public):
    assert is_public_address(ip) is public


@pytest.mark.parametrize(
    "ip",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254: the gateway connects to the metadata service
        "64:ff9b::a00:1",  # NAT64 to 10.0.0.1
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 around 169.254.169.254
        "::7f00:1",  # IPv4-compatible ::127.0.0.1 (deprecated)
        "::ffff:0:7f00:1",  # IPv4-translated (SIIT)
        "fec0::1",  # site-local (deprecated)
    ],
)
def test_ipv6_forms_embedding_a_private_ipv4_are_not_public(ip):
    assert is_public_address(ip) is False


@pytest.mark.usefixtures("private_off")
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/v.mp4",
        "gopher://127.0.0.1:70/_GET",
        "FILE:///etc/passwd",
        "//x/v",
    ],
)
def test_other_schemes_are_refused(url, connects, tmp_path):
    refused(url, tmp_path / "v.mp4", code="scheme")
    assert connects == []


@pytest.mark.usefixtures("private_on")
def test_a_redirect_to_another_scheme_is_refused(serve, tmp_path):
    server = serve(redirect("file:///etc/passwd"))
    with pytest.raises(FetchError):
        fetch_to_file(server.url(), tmp_path / "v.mp4")
    assert not (tmp_path / "v.mp4").exists()


# Downloads when private addresses are allowed (tests, emulators) -------------------------------------


@pytest.mark.usefixtures("private_on")
def test_a_loopback_mp4_downloads_when_private_addresses_are_allowed(serve, tmp_path):
    server = serve(body(MP4))
    dest = tmp_path / "sub" / "v.mp4"
    assert fetch_to_file(server.url(), dest) == "video/mp4"
    assert dest.read_bytes() == MP4
    assert not list(dest.parent.glob(".part-*"))
    assert server.requests == ["/video.mp4"]


@pytest.mark.usefixtures("private_on")
def test_redirects_are_followed_when_allowed(serve, tmp_path):
    target = serve(body(MP4))
    hop = serve(redirect(target.url()))
    assert fetch_to_file(hop.url("/start"), tmp_path / "v.mp4") == "video/mp4"
    assert (tmp_path / "v.mp4").read_bytes() == MP4


@pytest.mark.usefixtures("private_on")
def test_the_client_is_cached_per_setting(settings):
    allowing = net.guarded_client()
    assert net.guarded_client() is allowing
    settings.STUDIO_FETCH_ALLOW_PRIVATE = False
    refusing = net.guarded_client()
    assert refusing is not allowing
    assert refusing._transport._pool._network_backend.allow_private is False


# Limits ----------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("private_on")
def test_a_declared_length_over_the_limit_is_refused_before_the_body(serve, settings, tmp_path):
    settings.STUDIO_FETCH_MAX_BYTES = 100_000
    server = serve(body(MP4))  # ~300 KB, declared
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4")
    assert caught.value.code == "too_large" and "100000" in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a partial one


@pytest.mark.usefixtures("private_on")
def test_a_chunked_body_growing_past_the_limit_is_cut_off_and_removed(serve, settings, tmp_path):
    settings.STUDIO_FETCH_MAX_BYTES = 100_000
    pieces = [MP4[:16]] + [b"\x00" * 8192] * 200  # 1.6 MB, no Content-Length
    server = serve(chunked(pieces))
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4")
    assert caught.value.code == "too_large"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("private_on")
def test_max_bytes_argument_overrides_the_setting(serve, settings, tmp_path):
    settings.STUDIO_FETCH_MAX_BYTES = 10 * len(MP4)
    server = serve(body(MP4))
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4", max_bytes=1000)
    assert caught.value.code == "too_large"


@pytest.mark.usefixtures("private_on")
def test_a_body_exactly_at_the_limit_is_accepted(serve, settings, tmp_path):
    settings.STUDIO_FETCH_MAX_BYTES = len(MP4)
    server = serve(chunked([MP4[i : i + 7000] for i in range(0, len(MP4), 7000)]))
    assert fetch_to_file(server.url(), tmp_path / "v.mp4") == "video/mp4"
    assert (tmp_path / "v.mp4").read_bytes() == MP4


@pytest.mark.usefixtures("private_on")
@pytest.mark.parametrize("content_type", ["video/mp4", "text/html"])
def test_html_is_never_stored_as_a_video(content_type, serve, tmp_path):
    server = serve(body(HTML, content_type=content_type))
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4")
    assert caught.value.code == "type"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("private_on")
def test_an_image_is_accepted_only_where_images_are_expected(serve, tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
    server = serve(body(png, content_type="image/png"))
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url("/a.png"), tmp_path / "a.png")  # expects a video by default
    assert caught.value.code == "type"
    assert fetch_to_file(server.url("/a.png"), tmp_path / "a.png", expect=("image/",)) == "image/png"


@pytest.mark.usefixtures("private_on")
@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_an_expired_link_is_reported_as_expired(status, serve, tmp_path):
    server = serve(
        body(b"<Error><Code>AccessDenied</Code></Error>", status=status, content_type="application/xml")
    )
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4")
    assert caught.value.code == "expired" and not caught.value.transient
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("private_on")
@pytest.mark.parametrize("status, transient", [(500, True), (503, True), (400, False)])
def test_other_errors_say_whether_to_retry(status, transient, serve, tmp_path):
    server = serve(body(b"oops", status=status, content_type="text/plain"))
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4")
    assert caught.value.code == "http" and caught.value.transient is transient


@pytest.mark.usefixtures("private_on")
def test_an_empty_body_is_an_error(serve, tmp_path):
    server = serve(body(b""))
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4")
    assert caught.value.code == "empty"


@pytest.mark.usefixtures("private_on")
def test_a_closed_port_is_a_transient_connect_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: the connection is refused
        with pytest.raises(FetchError) as caught:
            fetch_to_file(f"http://127.0.0.1:{port}/v.mp4", tmp_path / "v.mp4")
    assert caught.value.code == "connect" and caught.value.transient


@pytest.mark.usefixtures("private_on")
def test_a_slow_drip_is_cut_off_at_max_seconds(serve, tmp_path):
    """A server sending a byte at a time never fills a 64 KiB chunk: the deadline must still hold."""

    def drip(h: BaseHTTPRequestHandler):
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", "video/mp4")
        h.send_header("Content-Length", "100000")
        h.end_headers()
        h.wfile.write(MP4[:16])
        try:
            for _ in range(40):  # 4 s at most, then hang up, so a failing test ends
                time.sleep(0.1)
                h.wfile.write(b"\x00")
        except OSError:
            pass

    server = serve(drip)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch_to_file(server.url(), tmp_path / "v.mp4", max_seconds=1.0)
    assert caught.value.code == "slow"
    assert time.monotonic() - started < 3.0
