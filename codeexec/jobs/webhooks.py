"""Callbacks: a finished job's resource POSTed to its ``callback_url``.

Signed with HMAC-SHA256 of the exact body (``X-Codeexec-Signature: sha256=<hex>``) with
the submitting key's webhook secret (``CODEEXEC_WEBHOOK_SECRET`` for jobs submitted
without a key), retried with exponential backoff a bounded number of times, in
background tasks: delivery never holds up judging. URLs whose host resolves to a
loopback, private, link-local or otherwise non-global address are refused (at submission
and again at each delivery) unless ``CODEEXEC_WEBHOOK_ALLOW_PRIVATE`` is set.
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
from typing import Any

import aiohttp
from yarl import URL

from codeexec.config import Settings
from codeexec.store.keys import KeyStore
from codeexec.store.submissions import Submission, SubmissionStore

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Codeexec-Signature"


class WebhookRefused(ValueError):
    """The callback URL is not acceptable (the message says why)."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def check_callback_url(url: str, allow_private: bool) -> None:
    try:
        parsed = URL(url)
    except ValueError as exc:
        raise WebhookRefused(f"not a URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise WebhookRefused("callback_url must be an http(s) URL with a host")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parsed.host, parsed.port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise WebhookRefused(f"cannot resolve {parsed.host}: {exc}") from exc
    for *_, address in infos:
        ip = ipaddress.ip_address(address[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global:
            raise WebhookRefused(
                f"{parsed.host} resolves to {ip}, a loopback or private address"
                " (CODEEXEC_WEBHOOK_ALLOW_PRIVATE allows it)"
            )


class Webhooks:
    def __init__(
        self,
        settings: Settings,
        submissions: SubmissionStore,
        keys: KeyStore,
        render: Callable[[Submission], dict[str, Any]],
    ) -> None:
        self._settings = settings
        self._submissions = submissions
        self._keys = keys
        self._render = render
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def check(self, url: str) -> None:
        await check_callback_url(url, self._settings.webhook_allow_private)

    def deliver(self, sid: str) -> None:
        task = asyncio.create_task(self._deliver(sid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _secret(self, submission: Submission) -> str | None:
        if submission.owner is not None:
            key = await self._keys.get(submission.owner)
            if key is not None:
                return key.webhook_secret
        fallback = self._settings.webhook_secret
        return fallback.get_secret_value() if fallback else None

    async def _deliver(self, sid: str) -> None:
        submission = await self._submissions.get(sid)
        if submission is None or not submission.callback_url:
            return
        url = submission.callback_url
        body = json.dumps(self._render(submission), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Codeexec-Event": f"submission.{submission.status}",
            "X-Codeexec-Delivery": sid,
        }
        secret = await self._secret(submission)
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._settings.webhook_timeout_s)
            )
        s = self._settings
        for attempt in range(1, s.webhook_attempts + 1):
            try:
                await self.check(url)  # again: DNS may have changed since submission
                async with self._session.post(
                    url,
                    data=body,
                    headers=headers | {"X-Codeexec-Attempt": str(attempt)},
                    allow_redirects=False,
                ) as response:
                    if 200 <= response.status < 300:
                        await self._submissions.set_webhook_state(sid, "delivered")
                        return
                    log.warning(
                        "webhook %s answered %d (attempt %d)", url, response.status, attempt
                    )
            except WebhookRefused as exc:
                log.warning("webhook %s refused: %s", url, exc)
                break
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("webhook %s failed (attempt %d): %s", url, attempt, exc)
            if attempt < s.webhook_attempts:
                await asyncio.sleep(s.webhook_backoff_s * 2 ** (attempt - 1))
        await self._submissions.set_webhook_state(sid, "failed")

    async def close(self) -> None:
        """Let deliveries in progress end within their timeout, then close."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self._settings.webhook_timeout_s)
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()
