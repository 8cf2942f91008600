"""What the HTTP doors ask of this process's job workers, and the stand-in for a process
that has none (``codeexec serve --no-workers``): its jobs are judged by ``codeexec
worker`` processes on the same database, which notice new jobs by polling and cancel
(and pause) requests at their next lease renewal."""

from __future__ import annotations

from typing import Protocol


class JobWorkers(Protocol):
    def wake(self) -> None: ...

    def remember_request(self, sid: str, request_id: str | None) -> None: ...

    def cancel_here(self, sid: str) -> bool: ...

    async def pause_here(self, sid: str, paused: bool) -> bool: ...

    def stats(self) -> dict[str, int]: ...

    def workers_alive(self) -> int: ...


class NoWorkers:
    """No job is judged here: nothing to wake, to remember or to cancel now."""

    def wake(self) -> None:
        pass

    def remember_request(self, sid: str, request_id: str | None) -> None:
        pass

    def cancel_here(self, sid: str) -> bool:
        return False

    async def pause_here(self, sid: str, paused: bool) -> bool:
        return False  # the worker running it notices at its next poll

    def stats(self) -> dict[str, int]:
        return {"workers": 0, "running_here": 0}

    def workers_alive(self) -> int:
        return 0
