"""The Docker gateway against the real engine: a container create that is cancelled
(a request or pool start stopped at shutdown) leaves no container behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from codeexec.sandbox.docker_gateway import DockerGateway
from tests.conftest import sandboxes_of

pytestmark = pytest.mark.docker


async def test_a_cancelled_create_leaves_no_container(
    docker_engine: Any, instance_name: str
) -> None:
    from codeexec.sandbox.docker_gateway import INSTANCE_LABEL, SANDBOX_LABEL

    gateway = DockerGateway(threads=2)
    config = {
        "image": "local/debian:bookworm-slim",
        "command": ["true"],
        "labels": {SANDBOX_LABEL: "1", INSTANCE_LABEL: instance_name},
    }
    try:
        for _ in range(5):
            task = asyncio.create_task(gateway.create(**config))
            await asyncio.sleep(0.005)  # the engine is creating it now
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        await asyncio.sleep(1.0)  # any create still in flight in the thread pool lands
        assert sandboxes_of(docker_engine, instance_name) == []
    finally:
        for cid in sandboxes_of(docker_engine, instance_name):
            docker_engine.api.remove_container(cid, force=True)
        gateway.close()


async def test_a_create_cancelled_twice_at_shutdown_is_reaped(
    docker_engine: Any, instance_name: str
) -> None:
    """Shutdown cancels a request (its create goes on in a thread), then cancels what is
    left again and reaps: the container the thread makes afterwards must not survive
    (one "Created" sandbox was left by a fuzzed service this way)."""
    from codeexec.sandbox.docker_gateway import INSTANCE_LABEL, SANDBOX_LABEL

    gateway = DockerGateway(threads=2)
    config = {
        "image": "local/debian:bookworm-slim",
        "command": ["true"],
        "labels": {SANDBOX_LABEL: "1", INSTANCE_LABEL: instance_name},
    }
    try:
        task = asyncio.create_task(gateway.create(**config))
        await asyncio.sleep(0.005)  # the engine is creating it now
        task.cancel()
        await asyncio.sleep(0)  # the request's cancellation is being handled
        task.cancel()  # ... and cancelled again by the shutdown
        await gateway.remove_strays(instance_name)  # the shutdown's reaping
        await asyncio.sleep(1.0)  # anything still in flight lands
        assert sandboxes_of(docker_engine, instance_name) == []
    finally:
        for cid in sandboxes_of(docker_engine, instance_name):
            docker_engine.api.remove_container(cid, force=True)
        gateway.close()
