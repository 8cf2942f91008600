"""The Docker SDK, called from a bounded thread pool so the event loop never blocks.

Lifecycle calls (create, start, remove, list) are short and go through the SDK in a
bounded pool of worker threads. Long ones (an image build or pull, which stream for
minutes) each get a thread of their own, so that they never hold that pool. The attach
socket that carries the runner protocol is duplicated and handed to asyncio, so a
running submission holds no thread at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker
import docker.errors

from codeexec.observe.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")

SANDBOX_LABEL = "codeexec.sandbox"
INSTANCE_LABEL = "codeexec.instance"


class DockerUnavailable(Exception):
    """The Docker engine cannot be reached."""


class DockerGateway:
    def __init__(self, threads: int, metrics: Metrics | None = None) -> None:
        # Every container is created and removed here, whoever asks (judging, the warm
        # pool, checkers, version checks): the one place they are counted.
        self._metrics = metrics or Metrics()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="docker")
        # Creates whose thread may still be making a container: the reaping at shutdown
        # waits for them, so none lands after it unknown to everyone.
        self._creating: set[asyncio.Future[Any]] = set()
        try:
            self.client = docker.from_env(max_pool_size=threads, timeout=120)
        except docker.errors.DockerException as exc:
            self._pool.shutdown(wait=False)
            raise DockerUnavailable(str(exc)) from exc

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def call_apart(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A long call (an image build or pull) on a daemon thread of its own: the pool
        that every container call goes through is not held while it streams, and a call
        still running does not hold up the process's exit."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(outcome: Callable[[], None]) -> None:
            if not future.done():  # the caller may have been cancelled
                outcome()

        def run() -> None:
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                deliver: Callable[[], None] = functools.partial(future.set_exception, exc)
            else:
                deliver = functools.partial(future.set_result, result)
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(settle, deliver)

        threading.Thread(target=run, name="docker-long", daemon=True).start()
        return await future

    async def ping(self) -> bool:
        try:
            return bool(await self.call(self.client.ping))
        except Exception:
            return False

    async def image_exists(self, tag: str) -> bool:
        try:
            await self.call(self.client.images.get, tag)
            return True
        except docker.errors.ImageNotFound:
            return False

    async def create(self, **config: Any) -> str:
        """Create a container. Cancelled meanwhile (a request or a warm start stopped at
        shutdown), the engine still makes it in its thread: it is removed once it exists,
        so nothing is left that no one knows about."""
        loop = asyncio.get_running_loop()
        creating = loop.run_in_executor(
            self._pool, functools.partial(self.client.containers.create, **config)
        )
        self._creating.add(creating)
        creating.add_done_callback(self._creating.discard)
        try:
            container = await asyncio.shield(creating)
        except asyncio.CancelledError:
            # Shielded: cancelled again meanwhile (a shutdown cancels what is left), the
            # removal still happens; and remove_strays waits for the create either way.
            await asyncio.shield(self._remove_late(creating))
            raise
        self._metrics.container_created()
        return str(container.id)

    async def _remove_late(self, creating: asyncio.Future[Any]) -> None:
        with contextlib.suppress(Exception):
            made = str((await creating).id)
            self._metrics.container_created()
            await self.remove(made)

    def reused(self) -> None:
        """A container handed to another submission (counted here with the others)."""
        self._metrics.container_reused()

    async def start(self, container_id: str) -> None:
        await self.call(self.client.api.start, container_id)

    async def update_memory(self, container_id: str, memory_mb: int) -> None:
        """A running container's memory limit, swap included (i.e. no swap)."""
        limit = f"{memory_mb}m"
        await self.call(
            self.client.api.update_container, container_id, mem_limit=limit, memswap_limit=limit
        )

    async def pause(self, container_id: str) -> None:
        """Freeze every process of the container (the cgroup freezer)."""
        await self.call(self.client.api.pause, container_id)

    async def unpause(self, container_id: str) -> None:
        await self.call(self.client.api.unpause, container_id)

    async def remove(self, container_id: str) -> None:
        if await self._remove(container_id):
            self._metrics.container_removed()

    async def _remove(self, container_id: str) -> bool:
        """Whether it was there to remove."""
        for attempt in range(3):
            try:
                await self.call(self.client.api.remove_container, container_id, force=True, v=True)
                return True
            except docker.errors.NotFound:
                return False
            except docker.errors.APIError:
                # Podman refuses a container that exits while it kills it ("could not
                # be stopped: container state improper"); a moment later it is stopped.
                if attempt == 2:
                    raise
                await asyncio.sleep(0.2)
        raise AssertionError("unreachable")

    async def inspect_state(self, container_id: str) -> dict[str, Any]:
        info = await self.call(self.client.api.inspect_container, container_id)
        return dict(info.get("State", {}))

    async def list_sandboxes(self, instance: str | None = None) -> list[str]:
        label = [f"{SANDBOX_LABEL}=1"]
        if instance is not None:
            label.append(f"{INSTANCE_LABEL}={instance}")
        found = await self.call(
            self.client.api.containers, all=True, quiet=True, filters={"label": label}
        )
        return [c["Id"] for c in found]

    async def remove_strays(self, instance: str) -> int:
        """Remove sandboxes a previous run of this instance left behind (e.g. after
        SIGKILL), or that are left at shutdown: counted as reaped, not as removed. Creates
        still in a thread are waited for first, so their containers are found too."""
        await asyncio.gather(*self._creating, return_exceptions=True)
        strays = await self.list_sandboxes(instance)
        removed = await asyncio.gather(*(self._remove(cid) for cid in strays))
        self._metrics.containers_reaped_now(sum(removed))
        return len(strays)

    async def attach(self, container_id: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Open the container's stdin/stdout/stderr as an asyncio stream."""
        raw = await self.call(
            self.client.api.attach_socket,
            container_id,
            params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1},
        )
        sock = getattr(raw, "_sock", raw)
        if not isinstance(sock, socket.socket):
            raise DockerUnavailable("attach over this DOCKER_HOST transport is not supported")
        # asyncio owns a duplicate; the SDK's response and socket are closed now.
        dup = socket.socket(sock.family, sock.type, fileno=os.dup(sock.fileno()))
        raw.close()
        sock.close()
        return await asyncio.open_connection(sock=dup, limit=1 << 20)

    def close(self) -> None:
        self.client.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
