"""API keys: ``ce_<id>_<secret>`` bearer tokens, each with a role.

Only a SHA-256 of the secret is stored, so the database never holds a usable token; the
token is shown once, when the key is made. Each key also has a webhook secret that signs
its submissions' callbacks.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from codeexec.store.schema import api_keys

ROLES = ("admin", "submitter")
_PREFIX = "ce_"


def utcnow() -> datetime:
    """Naive UTC, as every timestamp in the database is."""
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    webhook_secret: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    token: str  # shown once


class KeyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, name: str, role: str) -> NewKey:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        key = ApiKey(key_id, name, role, secrets.token_hex(32), utcnow())
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(api_keys).values(
                    id=key.id,
                    name=key.name,
                    role=key.role,
                    secret_sha256=_digest(secret),
                    webhook_secret=key.webhook_secret,
                    created_at=key.created_at,
                )
            )
        return NewKey(key, f"{_PREFIX}{key_id}_{secret}")

    async def all_keys(self) -> list[ApiKey]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(api_keys).order_by(api_keys.c.created_at))).all()
        return [_key(r) for r in rows]

    async def get(self, key_id: str) -> ApiKey | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return _key(row) if row is not None else None

    async def revoke(self, key_id: str) -> ApiKey | None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
        return await self.get(key_id)

    async def authenticate(self, token: str) -> ApiKey | None:
        """The live key a token belongs to, or None."""
        if not token.startswith(_PREFIX):
            return None
        key_id, _, secret = token[len(_PREFIX) :].partition("_")
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            return None
        return _key(row)


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        role=row.role,
        webhook_secret=row.webhook_secret,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
