"""Callbacks: a finished job's resource POSTed to its ``callback_url`` (or sent as the
door it came in by sends it: Judge0's is a PUT of its own fields). A job of the jobs API
paused or resumed through it is also sent then, as a notice (``submission.paused``,
``submission.resumed``): attempted like the final callback, but its delivery state is
the final callback's only.

Signed with HMAC-SHA256 of the exact body (``X-Codeexec-Signature: sha256=<hex>``) with
the submitting key's webhook secret (``CODEEXEC_WEBHOOK_SECRET`` for jobs submitted
without a key), retried with exponential backoff a bounded number of times, in
background tasks: delivery never holds up judging.

The target is checked where it is dialled. At submission and at each attempt the host
is resolved once and refused unless every address is global (loopback, private,
link-local, and those carried inside IPv4-mapped, 6to4 or NAT64 addresses are not;
``CODEEXEC_WEBHOOK_ALLOW_PRIVATE`` allows them); the attempt then connects to exactly
those addresses, because its connector's resolver knows nothing else: a second answer
(DNS rebinding) is never asked for, while TLS SNI and the Host header keep the URL's
name. Redirects are not followed, proxies from the environment are not used, the
target's response body is never read, and resolving plus posting take at most
``CODEEXEC_WEBHOOK_TIMEOUT_S``. URLs must be http(s) with a host and port, without
credentials, at most ``MAX_URL_LENGTH`` characters.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from codeexec.config import Settings
from codeexec.logs import event
from codeexec.model import Submission
from codeexec.observe.metrics import Metrics
from codeexec.store.keys import KeyStore
from codeexec.store.outbox import WebhookOutbox
from codeexec.store.submissions import SubmissionStore

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Codeexec-Signature"
MAX_URL_LENGTH = 2000  # as the submissions API's callback_url field
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def shown_url(url: str) -> str:
    """``url`` as logged: its origin only. Receivers carry their tokens in the query
    (``?token=``) and as often in the path (Slack's and Discord's hooks); the
    submission id in the same line tells which callback it was."""
    try:
        return str(URL(url).origin())
    except ValueError:
        return "(not a URL)"


class WebhookRefused(ValueError):
    """The callback URL is not acceptable (the message says why)."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_public(address: str) -> bool:
    """A global address; for IPv4 carried inside IPv6, the IPv4 address must be too."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.is_global
        inner = ip.sixtofour
        if ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None and not inner.is_global:
            return False
    return ip.is_global


@dataclass(frozen=True)
class Target:
    """A callback URL and the addresses its host had when it was checked."""

    url: URL
    addresses: tuple[ResolveResult, ...]


def _parse(url: str) -> URL:
    if len(url) > MAX_URL_LENGTH:
        raise WebhookRefused(f"callback_url is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = URL(url)
        port = parsed.port
    except ValueError as exc:
        raise WebhookRefused(f"not a URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.raw_host:
        raise WebhookRefused("callback_url must be an http(s) URL with a host")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise WebhookRefused("callback_url must not carry credentials (bodies are signed)")
    if not port:
        raise WebhookRefused("callback_url has no usable port")
    return parsed


async def resolve_target(url: str, allow_private: bool, resolver: AbstractResolver) -> Target:
    """Parse ``url``, resolve its host once and check every address."""
    parsed = _parse(url)
    host, port = parsed.raw_host or "", parsed.port or 0
    try:
        ipaddress.ip_address(host)
    except ValueError:  # a name; numeric forms such as 127.1 resolve as names: checked
        try:
            addresses = await resolver.resolve(host, port, family=socket.AF_UNSPEC)
        except OSError as exc:
            raise WebhookRefused(f"cannot resolve {host}: {exc}") from exc
    else:  # a literal address, which aiohttp dials without asking a resolver
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        addresses = [
            ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)
        ]
    if not addresses:
        raise WebhookRefused(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address["host"]):
                raise WebhookRefused(
                    f"{host} resolves to {address['host']}, a loopback or private address"
                    " (CODEEXEC_WEBHOOK_ALLOW_PRIVATE allows it)"
                )
    return Target(parsed, tuple(addresses))


class _Pinned(AbstractResolver):
    """A resolver that knows one host: the addresses checked for it, and nothing else."""

    def __init__(self, target: Target) -> None:
        self._host = target.url.raw_host
        self._addresses = target.addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"{host} was not checked")
        return [
            ResolveResult(**(address | {"port": port}))
            for address in self._addresses
            if family in (socket.AF_UNSPEC, address["family"])
        ]

    async def close(self) -> None:
        return None


async def send(
    target: Target, body: bytes, headers: dict[str, str], timeout_s: float, method: str = "POST"
) -> int:
    """Send ``body`` to the checked addresses only and return the status; the response
    body is never read (the connection is closed instead)."""
    connector = aiohttp.TCPConnector(
        resolver=_Pinned(target), use_dns_cache=False, force_close=True
    )
    async with (
        aiohttp.ClientSession(
            connector=connector,
            trust_env=False,  # no proxy from the environment: it would dial for us
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        ) as session,
        session.request(
            method, target.url, data=body, headers=headers, allow_redirects=False
        ) as response,
    ):
        return response.status


class Webhooks:
    def __init__(
        self,
        settings: Settings,
        submissions: SubmissionStore,
        outbox: WebhookOutbox,
        keys: KeyStore,
        render: Callable[[Submission], tuple[str, dict[str, Any]]],  # method and body
        resolver: AbstractResolver | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._jobs = settings.jobs
        self._submissions = submissions
        self._outbox = outbox
        self._keys = keys
        self._render = render
        self._resolver = resolver or aiohttp.ThreadedResolver()
        self._tasks: set[asyncio.Task[None]] = set()
        self._metrics = metrics or Metrics()

    async def _resolve(self, url: str) -> Target:
        allow_private = self._jobs.webhook_allow_private
        try:
            async with asyncio.timeout(self._jobs.webhook_timeout_s):
                return await resolve_target(url, allow_private, self._resolver)
        except TimeoutError as exc:
            raise WebhookRefused(f"cannot resolve the host of {url} in time") from exc

    async def check(self, url: str) -> None:
        """At submission: refuse a URL that could not be delivered to now."""
        await self._resolve(url)

    def deliver(self, sid: str, notice: str | None = None) -> None:
        """Send the job's callback (its outcome), or with ``notice`` the job as it is
        now (e.g. "paused"), which leaves the callback's delivery state alone."""
        task = asyncio.create_task(self._deliver(sid, notice))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _secret(self, submission: Submission) -> str | None:
        if submission.owner is not None:
            key = await self._keys.get(submission.owner)
            if key is not None:
                return key.webhook_secret
        fallback = self._jobs.webhook_secret
        return fallback.get_secret_value() if fallback else None

    async def _deliver(self, sid: str, notice: str | None = None) -> None:
        submission = await self._submissions.get(sid)
        if submission is None or not submission.callback_url:
            return
        final = notice is None
        url = submission.callback_url
        method, rendered = self._render(submission)
        body = json.dumps(rendered, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Codeexec-Event": f"submission.{notice or submission.status}",
            "X-Codeexec-Delivery": sid,
        }
        secret = await self._secret(submission)
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        s = self._jobs
        outcome = "failed"
        fields: dict[str, Any] = {"submission_id": sid, "url": shown_url(url)}
        if notice is not None:
            fields["notice"] = notice
        for attempt in range(1, s.webhook_attempts + 1):
            try:
                async with asyncio.timeout(s.webhook_timeout_s):
                    # Resolved and checked again at each attempt (DNS may have changed),
                    # then dialled exactly as checked.
                    target = await resolve_target(url, s.webhook_allow_private, self._resolver)
                    attempt_headers = headers | {"X-Codeexec-Attempt": str(attempt)}
                    status = await send(target, body, attempt_headers, s.webhook_timeout_s, method)
                if 200 <= status < 300:
                    if final:
                        await self._outbox.set_webhook_state(sid, "delivered")
                        self._metrics.webhook("delivered")
                    event(log, "webhook.delivered", attempt=attempt, status=status, **fields)
                    return
                event(
                    log, "webhook.attempt_failed", logging.WARNING,
                    attempt=attempt, status=status, **fields,
                )  # fmt: skip
            except WebhookRefused as exc:
                event(log, "webhook.refused", logging.WARNING, error=str(exc), **fields)
                outcome = "refused"
                break
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                event(
                    log, "webhook.attempt_failed", logging.WARNING,
                    attempt=attempt, error=repr(exc), **fields,
                )  # fmt: skip
            if attempt < s.webhook_attempts:
                await asyncio.sleep(s.webhook_backoff_s * 2 ** (attempt - 1))
        if final:
            await self._outbox.set_webhook_state(sid, "failed")
            self._metrics.webhook(outcome)
        event(log, "webhook.failed", logging.WARNING, **fields)

    async def close(self) -> None:
        """Let deliveries in progress end within their timeout, then close."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self._jobs.webhook_timeout_s)
        for task in list(self._tasks):
            task.cancel()
        await self._resolver.close()
