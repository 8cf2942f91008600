"""The service's deadline for a runner's answer, which does not run while the sandbox
is frozen (a paused job: its runner cannot answer) nor, up to the answer's own time in
all, while the run's output sink holds the output back (the other party of a
conversation not reading yet)."""

from __future__ import annotations

import asyncio


class Deadline:
    def __init__(self, timeout: asyncio.Timeout, within: float, frozen: bool = False) -> None:
        self._timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._within = within
        self._due = self._loop.time() + within  # moved on by each freeze's length
        self._held_s = 0.0
        self._holding_since: float | None = None
        self._frozen_since: float | None = self._loop.time() if frozen else None
        self._apply()

    def _apply(self) -> None:
        if self._timeout.expired():
            return  # too late: the wait is being ended
        if self._frozen_since is not None:
            self._timeout.reschedule(None)  # thawed, it runs on from where it was
        elif self._holding_since is not None:
            self._timeout.reschedule(self._due + self._within)  # held: ``within`` at most
        else:
            self._timeout.reschedule(self._due + self._held_s)

    def freeze(self) -> None:
        if self._frozen_since is None:
            self._frozen_since = self._loop.time()
            self._apply()

    def thaw(self) -> None:
        if self._frozen_since is not None:
            self._due += self._loop.time() - self._frozen_since
            self._frozen_since = None
            self._apply()

    def hold(self) -> None:
        """The output sink holds the run back from now."""
        self._holding_since = self._loop.time()
        self._apply()

    def release(self) -> None:
        if self._holding_since is not None:
            self._held_s += self._loop.time() - self._holding_since
            self._holding_since = None
            self._apply()
