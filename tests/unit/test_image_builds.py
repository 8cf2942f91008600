"""Image builds while the service runs (``sandbox/images.py`` through
``sandbox/docker_gateway.py``), on a fake Docker client: a build streams for minutes, so
it must not hold the bounded thread pool that judging's Docker calls go through, and a
build stopped (the service shutting down) stops reading its stream."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from codeexec.config import Settings
from codeexec.sandbox.docker_gateway import DockerGateway
from codeexec.sandbox.images import ImageManager
from codeexec.sandbox.languages import shipped_languages

PYTHON = shipped_languages()["python"]


class FakeImages:
    def get(self, tag: str) -> object:
        return object()  # every base image is there


class FakeApi:
    """``api.build``: a stream of progress lines that goes on until the test lets it end."""

    def __init__(self) -> None:
        self.streaming = threading.Event()
        self.finish = threading.Event()
        self.closed = threading.Event()

    def build(self, **kwargs: Any) -> Iterator[dict[str, str]]:
        try:
            while not self.finish.is_set():
                self.streaming.set()
                yield {"stream": "Step 2/3 : RUN apt-get install ..."}
                self.finish.wait(0.01)
        finally:
            self.closed.set()


class FakeClient:
    def __init__(self) -> None:
        self.api = FakeApi()
        self.images = FakeImages()

    def close(self) -> None:
        pass


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[DockerGateway]:
    client = FakeClient()
    monkeypatch.setattr(docker, "from_env", lambda **kwargs: client)
    gateway = DockerGateway(threads=1)
    yield gateway
    client.api.finish.set()
    gateway.close()


async def test_a_build_in_progress_leaves_the_judging_threads_free(
    gateway: DockerGateway,
) -> None:
    # Wedge: a build ran in the same bounded pool as every container call and held a
    # thread for as long as it streamed (minutes); with CODEEXEC_IMAGE_BUILDS builds at
    # once and CODEEXEC_DOCKER_THREADS no more than that, no submission of a ready
    # language could get a sandbox until the builds ended.
    api: FakeApi = gateway.client.api
    building = asyncio.create_task(ImageManager(Settings(), gateway, lambda _: None).build(PYTHON))
    assert await asyncio.to_thread(api.streaming.wait, 5)
    assert await asyncio.wait_for(gateway.call(lambda: 42), 2) == 42
    api.finish.set()
    await asyncio.wait_for(building, 5)


async def test_a_build_stopped_stops_reading_its_stream(gateway: DockerGateway) -> None:
    # Shutdown with a build in flight: its thread read the stream until the engine
    # finished the build (minutes), and the process could not exit before.
    api: FakeApi = gateway.client.api
    building = asyncio.create_task(ImageManager(Settings(), gateway, lambda _: None).build(PYTHON))
    assert await asyncio.to_thread(api.streaming.wait, 5)
    building.cancel()
    with pytest.raises(asyncio.CancelledError):
        await building
    assert await asyncio.to_thread(api.closed.wait, 5)
