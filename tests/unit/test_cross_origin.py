"""Which requests count as sent for another site's page, and which Host names may be
used without a key (codeexec/http/cross_origin.py)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from codeexec.http.cross_origin import host_allowed, is_cross_origin


@pytest.mark.parametrize(
    ("headers", "cross"),
    [
        ({}, False),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example"}, False),
        ({"Sec-Fetch-Site": "none"}, False),
        ({"Sec-Fetch-Site": "cross-site"}, True),
        ({"Sec-Fetch-Site": "same-site"}, True),
        ({"Origin": "http://127.0.0.1:8080", "Host": "127.0.0.1:8080"}, False),
        ({"Origin": "http://127.0.0.1:8080", "Host": "127.0.0.1:9090"}, True),
        ({"Origin": "http://evil.example", "Host": "127.0.0.1:8080"}, True),
        ({"Origin": "null", "Host": "127.0.0.1:8080"}, True),
        ({"Origin": "http://127.0.0.1:8080"}, True),  # no Host to compare with
    ],
)
def test_cross_origin(headers: dict[str, str], cross: bool) -> None:
    assert is_cross_origin(make_mocked_request("POST", "/exec", headers=headers)) is cross


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("127.0.0.1:8080", (), True),
        ("[::1]:8080", (), True),
        ("[::1]", (), True),
        ("192.168.1.5", (), True),
        ("localhost:8080", (), True),
        ("LocalHost.", (), True),
        ("rebind.example:8080", (), False),
        ("localhost.rebind.example", (), False),
        ("127.0.0.1.nip.io", (), False),
        ("judge.lan:8080", ("judge.lan",), True),
        ("JUDGE.LAN", ("judge.lan.",), True),
        ("rebind.example", ("*",), True),
        ("[::1", (), False),
    ],
)
def test_host_allowed(host: str, allowed: tuple[str, ...], ok: bool) -> None:
    request = make_mocked_request("GET", "/api/v1/problems", headers={"Host": host})
    assert host_allowed(request, allowed) is ok


def test_no_host_header_is_no_browser() -> None:
    assert host_allowed(make_mocked_request("GET", "/", headers={}), ())
