"""Outbound webhooks connect to the address that was checked (issue 12, class 6).

Each attack is a test. Name resolution is faked at the event loop's ``getaddrinfo``
(what both the check and aiohttp's resolver use), and a network guard at the loop's
``sock_connect`` records every connection attempt and lets only loopback through: no
test ever connects beyond this machine, and each shows where a delivery went.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from codeexec.config import Settings
from codeexec.jobs.webhooks import SIGNATURE_HEADER, WebhookRefused, Webhooks
from codeexec.observe.metrics import Metrics
from tests.scrape import scrape, total

PUBLIC = "93.184.215.14"  # any global address: the guard never lets a test reach it
SECRET = "s3cret"


class Received:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[tuple[TestServer, Received]]:
    """A local webhook target answering 200 (or what /status/<n> asks for)."""
    got = Received()

    async def hook(request: web.Request) -> web.StreamResponse:
        got.requests.append((request.path, dict(request.headers), await request.read()))
        if request.path.startswith("/redirect"):
            raise web.HTTPTemporaryRedirect(request.query["to"])
        if request.path == "/slow":
            await asyncio.sleep(30)
        if request.path == "/endless":  # a body that never ends
            response = web.StreamResponse(status=200)
            await response.prepare(request)
            while True:
                await response.write(b"x" * 65536)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, got
    finally:
        await server.close()


class FakeDNS:
    """Answers per host, one list per successive lookup (the last one repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]], delay_s: float = 0.0) -> None:
        self.answers = answers
        self.delay_s = delay_s
        self.lookups: list[str] = []

    async def getaddrinfo(self, host: Any, port: Any, **_: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.lookups.append(name)
        await asyncio.sleep(self.delay_s)
        if name not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        rounds = self.answers[name]
        seen = self.lookups.count(name)
        port = int(port or 0)
        result = []
        for ip in rounds[min(seen, len(rounds)) - 1]:
            if ipaddress.ip_address(ip).version == 6:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return result


@pytest_asyncio.fixture
async def connects(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """Every address a connection was attempted to; only loopback is let through."""
    attempts: list[str] = []
    loop = asyncio.get_running_loop()
    original = loop.sock_connect

    async def guarded(sock: socket.socket, address: Any) -> None:
        attempts.append(address[0])
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise ConnectionRefusedError(f"test network: {address[0]} is not reachable")
        await original(sock, address)

    monkeypatch.setattr(loop, "sock_connect", guarded)
    yield attempts


def use_dns(monkeypatch: pytest.MonkeyPatch, dns: FakeDNS) -> FakeDNS:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", dns.getaddrinfo)
    return dns


class FakeSubmissions:
    def __init__(self, url: str) -> None:
        self.submission = SimpleNamespace(id="s1", callback_url=url, status="finished", owner=None)
        self.states: list[str] = []

    async def get(self, sid: str) -> Any:
        return self.submission

    async def set_webhook_state(self, sid: str, state: str) -> None:
        self.states.append(state)


class NoKeys:
    async def get(self, key_id: str) -> None:
        return None


async def deliver(url: str, metrics: Metrics | None = None, **settings: Any) -> list[str]:
    """Deliver one job's callback; the webhook states it went through."""
    values: dict[str, Any] = {
        "webhook_secret": SECRET,
        "webhook_attempts": 1,
        "webhook_timeout_s": 2.0,
        "webhook_backoff_s": 0.0,
    }
    submissions = FakeSubmissions(url)
    hooks = Webhooks(
        Settings(**(values | settings)),
        submissions,  # type: ignore[arg-type]
        submissions,  # type: ignore[arg-type]
        NoKeys(),  # type: ignore[arg-type]
        lambda s: ("POST", {"id": s.id, "verdict": "AC"}),
        metrics=metrics,
    )
    hooks.deliver("s1")
    await asyncio.sleep(0)
    await asyncio.wait_for(hooks.close(), 30)
    return submissions.states


async def check(url: str, allow_private: bool = False) -> None:
    submissions = FakeSubmissions(url)
    hooks = Webhooks(
        Settings(webhook_allow_private=allow_private),
        submissions,  # type: ignore[arg-type]
        submissions,  # type: ignore[arg-type]
        NoKeys(),  # type: ignore[arg-type]
        lambda s: ("POST", {}),
    )
    try:
        await hooks.check(url)
    finally:
        await hooks.close()


# -- the attacks -----------------------------------------------------------------------


async def test_dns_rebinding_cannot_turn_a_checked_delivery_to_loopback(
    monkeypatch: pytest.MonkeyPatch,
    receiver: tuple[TestServer, Received],
    connects: list[str],
) -> None:
    server, got = receiver
    dns = use_dns(monkeypatch, FakeDNS({"hooks.example": [[PUBLIC], ["127.0.0.1"]]}))
    states = await deliver(f"http://hooks.example:{server.port}/hook")
    assert got.requests == []  # the local server was never reached
    assert connects == [PUBLIC]  # only the address that was checked was dialled
    assert dns.lookups == ["hooks.example"]  # resolved once
    assert states == ["failed"]


async def test_each_retry_resolves_and_checks_again(
    monkeypatch: pytest.MonkeyPatch,
    receiver: tuple[TestServer, Received],
    connects: list[str],
) -> None:
    server, got = receiver
    dns = use_dns(monkeypatch, FakeDNS({"hooks.example": [[PUBLIC], ["127.0.0.1"]]}))
    states = await deliver(f"http://hooks.example:{server.port}/hook", webhook_attempts=3)
    assert got.requests == [] and connects == [PUBLIC]
    assert dns.lookups == ["hooks.example", "hooks.example"]  # refused at the 2nd: stops
    assert states == ["failed"]


@pytest.mark.parametrize(
    "answer",
    [
        [PUBLIC, "127.0.0.1"],  # mixed public and private: refused
        ["::ffff:127.0.0.1"],  # IPv4-mapped IPv6 loopback
        ["::ffff:10.0.0.1"],
        ["::1"],
        ["fe80::1"],
        ["169.254.169.254"],  # cloud metadata
        ["0.0.0.0"],
        ["100.64.0.1"],  # carrier-grade NAT
        ["2002:7f00:1::"],  # 6to4 around 127.0.0.1
        ["64:ff9b::a00:1"],  # NAT64 around 10.0.0.1
        [],
    ],
)
async def test_a_host_resolving_to_any_non_global_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
    receiver: tuple[TestServer, Received],
    connects: list[str],
    answer: list[str],
) -> None:
    server, got = receiver
    use_dns(monkeypatch, FakeDNS({"hooks.example": [answer]}))
    url = f"http://hooks.example:{server.port}/hook"
    with pytest.raises(WebhookRefused):
        await check(url)
    assert await deliver(url) == ["failed"]
    assert got.requests == [] and connects == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "0.0.0.0",
        "127.1",  # legacy numeric forms that resolve to loopback
        "2130706433",
        "0x7f000001",
        "localhost",
        "LOCALHOST.",
    ],
)
async def test_literal_and_numeric_loopback_urls_are_refused(
    receiver: tuple[TestServer, Received], connects: list[str], host: str
) -> None:
    server, got = receiver
    url = f"http://{host}:{server.port}/hook"
    with pytest.raises(WebhookRefused):
        await check(url)
    assert await deliver(url) == ["failed"]
    assert got.requests == [] and connects == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example/",
        "file:///etc/passwd",
        "gopher://hooks.example/",
        "javascript:alert(1)",
        "http:///path-only",
        "http://user:password@hooks.example/",  # credentials: refused, not sent
        "http://hooks.example@127.0.0.1/",
        "http://hooks.example:0/",
        "http://hooks.example/" + "a" * 3000,  # too long
        "not a url",
    ],
)
async def test_malformed_schemes_userinfo_ports_and_long_urls_are_refused(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    use_dns(monkeypatch, FakeDNS({"hooks.example": [[PUBLIC]]}))
    with pytest.raises(WebhookRefused):
        await check(url)


async def test_resolution_counts_against_the_timeout(
    monkeypatch: pytest.MonkeyPatch, connects: list[str]
) -> None:
    use_dns(monkeypatch, FakeDNS({"hooks.example": [[PUBLIC]]}, delay_s=3600))
    started = time.monotonic()
    assert await deliver("http://hooks.example/hook", webhook_timeout_s=0.5) == ["failed"]
    assert time.monotonic() - started < 5
    with pytest.raises(WebhookRefused, match="resolve"):
        await asyncio.wait_for(check("http://hooks.example/hook"), 30)


# -- what must still work ------------------------------------------------------------


async def test_an_allowed_private_delivery_reaches_a_local_server_signed_with_its_host(
    receiver: tuple[TestServer, Received], connects: list[str]
) -> None:
    server, got = receiver
    url = f"http://localhost:{server.port}/hook"
    await check(url, allow_private=True)
    assert await deliver(url, webhook_allow_private=True) == ["delivered"]
    [(path, headers, body)] = got.requests
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert headers["Host"] == f"localhost:{server.port}"  # the name, not the address
    assert path == "/hook" and b'"verdict": "AC"' in body


async def test_a_pinned_delivery_keeps_the_host_name_in_the_host_header(
    monkeypatch: pytest.MonkeyPatch,
    receiver: tuple[TestServer, Received],
    connects: list[str],
) -> None:
    server, got = receiver
    use_dns(monkeypatch, FakeDNS({"hooks.example": [["127.0.0.1"], [PUBLIC]]}))
    url = f"http://hooks.example:{server.port}/hook"
    assert await deliver(url, webhook_allow_private=True) == ["delivered"]
    assert got.requests[0][1]["Host"] == f"hooks.example:{server.port}"
    assert connects == ["127.0.0.1"]


async def test_redirects_are_not_followed(
    receiver: tuple[TestServer, Received], connects: list[str]
) -> None:
    server, got = receiver
    target = f"http://127.0.0.1:{server.port}/stolen"
    url = f"http://127.0.0.1:{server.port}/redirect?to={target}"
    assert await deliver(url, webhook_allow_private=True) == ["failed"]
    assert [path for path, _, _ in got.requests] == ["/redirect"]


async def test_proxies_from_the_environment_are_not_used(
    monkeypatch: pytest.MonkeyPatch, receiver: tuple[TestServer, Received], connects: list[str]
) -> None:
    server, got = receiver
    proxy_hits: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        proxy_hits.append(str(request.url))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    proxy_server = TestServer(app, host="127.0.0.1")
    await proxy_server.start_server()
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy_server.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        url = f"http://localhost:{server.port}/hook"
        assert await deliver(url, webhook_allow_private=True) == ["delivered"]
        assert proxy_hits == [] and len(got.requests) == 1
    finally:
        await proxy_server.close()


async def test_the_targets_response_body_is_never_read(
    receiver: tuple[TestServer, Received], connects: list[str]
) -> None:
    server, _ = receiver
    started = time.monotonic()
    url = f"http://127.0.0.1:{server.port}/endless"
    assert await deliver(url, webhook_allow_private=True, webhook_timeout_s=5) == ["delivered"]
    assert time.monotonic() - started < 4


async def test_a_slow_target_times_out(
    receiver: tuple[TestServer, Received], connects: list[str]
) -> None:
    server, _ = receiver
    started = time.monotonic()
    url = f"http://127.0.0.1:{server.port}/slow"
    assert await deliver(url, webhook_allow_private=True, webhook_timeout_s=0.5) == ["failed"]
    assert time.monotonic() - started < 5


@pytest.fixture
def tls_server_context(tmp_path: Path) -> ssl.SSLContext:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=codeexec-test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_tls_keeps_the_host_name_for_sni_while_connecting_to_the_checked_address(
    monkeypatch: pytest.MonkeyPatch, connects: list[str], tls_server_context: ssl.SSLContext
) -> None:
    server_names: list[str | None] = []

    def sni(sock: Any, name: str | None, context: ssl.SSLContext) -> None:
        server_names.append(name)

    tls_server_context.sni_callback = sni
    server = await asyncio.start_server(
        lambda r, w: w.close(), "127.0.0.1", 0, ssl=tls_server_context
    )
    port = server.sockets[0].getsockname()[1]
    try:
        use_dns(monkeypatch, FakeDNS({"hooks.example": [["127.0.0.1"], [PUBLIC]]}))
        url = f"https://hooks.example:{port}/hook"
        # The certificate is self-signed: the handshake fails, after the SNI was sent.
        assert await deliver(url, webhook_allow_private=True) == ["failed"]
        assert server_names == ["hooks.example"] and connects == ["127.0.0.1"]
    finally:
        server.close()
        await server.wait_closed()


async def test_each_delivery_is_counted_once_by_its_final_outcome(
    receiver: tuple[TestServer, Received], connects: list[str]
) -> None:
    server, _ = receiver
    metrics = Metrics()
    base = f"http://127.0.0.1:{server.port}"
    assert await deliver(f"{base}/hook", metrics, webhook_allow_private=True) == ["delivered"]
    redirected = f"{base}/redirect?to=/elsewhere"  # 307, never followed: two failed attempts
    failed = await deliver(redirected, metrics, webhook_allow_private=True, webhook_attempts=2)
    assert failed == ["failed"]
    assert await deliver(f"{base}/hook", metrics) == ["failed"]  # loopback: refused
    samples = scrape(metrics)
    for outcome in ("delivered", "failed", "refused"):
        assert total(samples, "codeexec_webhook_deliveries_total", outcome=outcome) == 1
