"""The warm pool's logic (``codeexec/sandbox/pool.py``) on in-memory sandboxes
(``codeexec.sandbox.fake``): what it starts, hands out, keeps, throws away and recovers
from, without Docker. ``tests/test_exec_api.py`` proves the pool against real containers."""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from codeexec.logs import REQUEST_ID, SUBMISSION_ID, JsonFormatter
from codeexec.model import Language, RunLimits
from codeexec.sandbox.api import SandboxError
from codeexec.sandbox.fake import FakeBox, FakeSandboxes, outcome
from codeexec.sandbox.languages import discover_languages
from codeexec.sandbox.pool import WarmPool

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python", "c"))
PY, C = LANGUAGES["python"], LANGUAGES["c"]
TTL_S = 300.0

Pools = Callable[..., tuple[WarmPool[FakeBox], FakeSandboxes]]


@pytest.fixture
async def pools() -> AsyncIterator[Pools]:
    """Makes pools on fresh fakes (no retry delay unless asked); closes them all after."""
    made: list[tuple[WarmPool[FakeBox], FakeSandboxes]] = []

    def make(
        size: int = 2,
        parallel_starts: int = 2,
        ttl_s: float = TTL_S,
        retry_delay_s: float = 0.0,
        fake: FakeSandboxes | None = None,
    ) -> tuple[WarmPool[FakeBox], FakeSandboxes]:
        fake = fake or FakeSandboxes(lambda run: outcome())
        pool = WarmPool(fake, size, ttl_s, parallel_starts, retry_delay_s=retry_delay_s)
        made.append((pool, fake))
        return pool, fake

    yield make
    for pool, fake in made:
        fake.discard_gate = None
        if fake.start_gate is not None:
            fake.start_gate.set()
        await asyncio.wait_for(pool.close(), 5)


async def filled(pool: WarmPool[FakeBox], language: Language = PY) -> None:
    pool.replenish(language)
    await pool.settled()


async def until(condition: Callable[[], bool]) -> None:
    """Let the other tasks run until ``condition`` holds (never sleeps)."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


def default_processes(fake: FakeSandboxes, language: Language = PY) -> int:
    return fake.default_shape(language)[1]


async def test_a_take_on_an_empty_pool_misses(pools: Pools) -> None:
    pool, fake = pools()
    assert pool.take(PY, default_processes(fake)) is None
    assert pool.stats()["misses"] == 1 and pool.stats()["hits"] == 0
    assert fake.start_calls == 0  # a take does not start anything itself


async def test_replenish_starts_what_is_missing_and_no_more_while_starts_are_in_flight(
    pools: Pools,
) -> None:
    pool, fake = pools(size=3, parallel_starts=3)
    fake.start_gate = asyncio.Event()
    pool.replenish(PY)
    pool.replenish(PY)
    await until(lambda: fake.starting == 3)
    pool.replenish(PY)  # three under way: nothing more to start
    await asyncio.sleep(0)
    assert fake.start_calls == 3
    assert pool.stats()["starting"] == {"python": 3}
    fake.start_gate.set()
    await pool.settled()
    assert pool.idle_ids() == {b.container_id for b in fake.started} and len(fake.started) == 3
    assert pool.stats()["starting"] == {}
    pool.replenish(PY)  # full
    await pool.settled()
    assert fake.start_calls == 3
    # One taken: exactly one replacement, however often replenish is asked.
    assert pool.take(PY, default_processes(fake)) is not None
    fake.start_gate = asyncio.Event()
    for _ in range(3):
        pool.replenish(PY)
    await until(lambda: fake.starting == 1)
    assert fake.start_calls == 4 and pool.stats()["starting"] == {"python": 1}
    fake.start_gate.set()
    await pool.settled()
    assert len(pool.idle_ids()) == 3 and fake.start_calls == 4


async def test_at_most_parallel_starts_run_at_once(pools: Pools) -> None:
    pool, fake = pools(size=5, parallel_starts=2)
    fake.start_gate = asyncio.Event()
    pool.replenish(PY)
    await until(lambda: fake.starting == 2)
    for _ in range(20):
        await asyncio.sleep(0)
    assert fake.starting == 2 and pool.stats()["starting"] == {"python": 5}
    fake.start_gate.set()
    await pool.settled()
    assert fake.most_starting == 2
    assert len(pool.idle_ids()) == 5 and pool.stats()["starting"] == {}


async def test_the_pool_starts_boxes_of_the_default_shape(pools: Pools) -> None:
    pool, fake = pools(size=2)
    await filled(pool)
    memory_mb, processes = fake.default_shape(PY)
    assert [(b.language, b.memory_mb, b.processes) for b in fake.started] == [
        (PY, memory_mb, processes)
    ] * 2


async def test_a_take_with_the_default_shape_hits_and_leaves_the_pool(pools: Pools) -> None:
    pool, fake = pools(size=2)
    await filled(pool)
    box = pool.take(PY, default_processes(fake))
    assert box is fake.started[0]  # the oldest first
    assert box.container_id not in pool.idle_ids() and len(pool.idle_ids()) == 1
    assert pool.stats()["hits"] == 1 and pool.stats()["misses"] == 0
    assert box.alive and fake.discarded == []
    second = pool.take(PY, default_processes(fake))
    assert second is fake.started[1] and pool.idle_ids() == set()
    assert pool.take(PY, default_processes(fake)) is None  # empty until replenished
    assert pool.stats()["hits"] == 2 and pool.stats()["misses"] == 1


async def test_a_box_with_another_process_limit_is_kept_not_handed_out(pools: Pools) -> None:
    pool, fake = pools(size=2)
    await filled(pool)
    idle = pool.idle_ids()
    assert pool.take(PY, default_processes(fake) + 1) is None
    assert pool.idle_ids() == idle and fake.discarded == []
    assert pool.stats()["misses"] == 1 and pool.stats()["hits"] == 0
    assert pool.take(PY, default_processes(fake)) is fake.started[0]  # still there


async def test_a_take_for_another_language_misses(pools: Pools) -> None:
    pool, fake = pools(size=1)
    await filled(pool)
    assert pool.take(C, default_processes(fake, C)) is None
    assert len(pool.idle_ids()) == 1 and pool.stats()["misses"] == 1


async def test_dead_and_expired_boxes_are_discarded_not_handed_out_and_replaced(
    pools: Pools,
) -> None:
    pool, fake = pools(size=3, parallel_starts=3)
    await filled(pool)
    dead, old, fresh = fake.started
    dead.alive = False
    old.started_at = time.monotonic() - TTL_S - 1
    assert pool.take(PY, default_processes(fake)) is fresh
    await pool.settled()
    assert fake.discarded == [dead, old] and dead.closed and old.closed
    assert pool.idle_ids() == set()
    pool.replenish(PY)  # what the factory does once the submission is done
    await pool.settled()
    assert len(fake.started) == 6 and pool.idle_ids() == {b.container_id for b in fake.started[3:]}


async def test_a_take_of_only_stale_boxes_misses(pools: Pools) -> None:
    pool, fake = pools(size=2)
    await filled(pool)
    for box in fake.started:
        box.started_at -= TTL_S + 1
    assert pool.take(PY, default_processes(fake)) is None
    await pool.settled()
    assert fake.discarded == fake.started and pool.idle_ids() == set()
    assert pool.stats()["misses"] == 1 and pool.stats()["hits"] == 0


async def test_recycle_replaces_stale_boxes_and_keeps_fresh_ones(pools: Pools) -> None:
    pool, fake = pools(size=3, parallel_starts=3)
    await filled(pool)
    dead, old, fresh = fake.started
    dead.alive = False
    old.started_at = time.monotonic() - TTL_S - 1
    await pool.recycle_once([PY])
    assert fake.discarded == [dead, old]
    await pool.settled()
    assert len(fake.started) == 5
    assert pool.idle_ids() == {fresh.container_id} | {b.container_id for b in fake.started[3:]}
    assert pool.stats()["hits"] == pool.stats()["misses"] == 0  # recycling is not a take


async def test_recycle_with_a_tiny_ttl_replaces_every_box(pools: Pools) -> None:
    pool, fake = pools(size=2, ttl_s=1e-9)
    await filled(pool)
    first = list(fake.started)
    await until(lambda: time.monotonic() - max(b.started_at for b in first) > 1e-9)
    await pool.recycle_once([PY])
    assert fake.discarded == first
    await pool.settled()
    assert len(fake.started) == 4 and pool.idle_ids() == {b.container_id for b in fake.started[2:]}


async def test_recycle_survives_a_take_of_the_boxes_it_is_discarding(pools: Pools) -> None:
    """A take while recycle waits for a removal pops (and discards) a stale box recycle
    had listed; recycle must not trip over it (it raised ValueError, ending the
    recycler for good)."""
    pool, fake = pools(size=2)
    await filled(pool)
    first, second = fake.started
    for box in fake.started:
        box.started_at -= TTL_S + 1
    fake.discard_gate = asyncio.Event()
    recycling = asyncio.create_task(pool.recycle_once([PY]))
    await until(lambda: fake.discarded == [first])  # recycle is removing the first
    assert pool.take(PY, default_processes(fake)) is None
    fake.discard_gate.set()
    await recycling
    await pool.settled()
    assert fake.discarded == [first, second]  # each once
    assert len(fake.started) == 4 and pool.idle_ids() == {b.container_id for b in fake.started[2:]}


async def test_a_failing_start_is_logged_and_the_pool_recovers(
    pools: Pools, caplog: pytest.LogCaptureFixture
) -> None:
    pool, fake = pools(size=2)
    fake.start_error = SandboxError("engine down")
    with caplog.at_level(logging.ERROR, logger="codeexec.sandbox.pool"):
        pool.replenish(PY)
        await pool.settled()
    failures = [r for r in caplog.records if "could not start a warm python sandbox" in r.message]
    assert len(failures) == 2 and all(r.exc_info for r in failures)
    assert pool.stats()["starting"] == {} and pool.idle_ids() == set()
    assert fake.starting == 0 and fake.started == []
    fake.start_error = None  # the engine is back
    pool.replenish(PY)
    await pool.settled()
    assert len(pool.idle_ids()) == 2 and pool.stats()["starting"] == {}


async def test_a_failed_start_backs_off_before_the_pool_tries_again(pools: Pools) -> None:
    pool, fake = pools(size=1, retry_delay_s=3600)
    fake.start_error = SandboxError("engine down")
    pool.replenish(PY)
    await until(lambda: fake.start_calls == 1 and fake.starting == 0)
    for _ in range(3):  # during the backoff the failed start still counts as starting
        pool.replenish(PY)
        await asyncio.sleep(0)
    assert fake.start_calls == 1 and pool.stats()["starting"] == {"python": 1}
    await pool.close()  # a backoff does not hold up shutdown
    assert pool.stats()["starting"] == {}


async def test_close_discards_idle_boxes_and_cancels_starts_in_flight(pools: Pools) -> None:
    pool, fake = pools(size=2)
    await filled(pool)
    taken = pool.take(PY, default_processes(fake))
    idle = [b for b in fake.started if b is not taken]
    fake.start_gate = asyncio.Event()
    pool.replenish(PY)
    await until(lambda: fake.starting == 1)
    await pool.close()
    assert fake.discarded == idle and pool.idle_ids() == set()
    assert fake.starting == 0 and pool.stats()["starting"] == {}
    assert taken is not None and taken not in fake.discarded  # its submission's to remove
    fake.start_gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(fake.started) == 2  # the cancelled start never finished


async def test_replenish_after_close_does_nothing(pools: Pools) -> None:
    pool, fake = pools(size=2)
    await pool.close()
    pool.replenish(PY)
    await pool.settled()
    assert fake.start_calls == 0 and pool.stats()["starting"] == {} and pool.idle_ids() == set()
    assert pool.take(PY, default_processes(fake)) is None


async def test_starts_cancelled_before_they_began_do_not_stay_counted(pools: Pools) -> None:
    """close() right after replenish cancels tasks that never ran a step; the starting
    count was only counted down in the coroutine, so it stayed up for ever."""
    pool, fake = pools(size=3)
    pool.replenish(PY)
    await pool.close()
    assert fake.start_calls == 0
    assert pool.stats()["starting"] == {}


async def test_close_waits_for_waiting_starts_without_starting_them(pools: Pools) -> None:
    pool, fake = pools(size=4, parallel_starts=1)
    fake.start_gate = asyncio.Event()
    pool.replenish(PY)
    await until(lambda: fake.starting == 1)
    await pool.close()
    fake.start_gate.set()
    await pool.settled()
    assert fake.start_calls == 1 and fake.started == [] and pool.stats()["starting"] == {}


class ShieldedStarts(FakeSandboxes):
    """Starts that finish even when cancelled, as a container the engine goes on
    creating in its thread would."""

    async def start(self, language: Language, memory_mb: int, processes: int) -> FakeBox:
        starting = asyncio.ensure_future(super().start(language, memory_mb, processes))
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            return await starting


async def test_a_start_that_finishes_after_close_is_discarded(pools: Pools) -> None:
    pool, fake = pools(size=1, fake=ShieldedStarts(lambda run: outcome()))
    fake.start_gate = asyncio.Event()
    pool.replenish(PY)
    await until(lambda: fake.starting == 1)
    closing = asyncio.create_task(pool.close())
    await until(lambda: pool.stats()["starting"] == {"python": 1} and fake.starting == 1)
    assert not closing.done()
    fake.start_gate.set()
    await closing
    assert len(fake.started) == 1 and fake.discarded == fake.started
    assert pool.idle_ids() == set() and pool.stats()["starting"] == {}


async def test_close_finishes_discards_already_under_way(pools: Pools) -> None:
    """A take discards a dead box in a task; close() right after cancelled that task
    before it ran, so the box was never closed nor removed."""
    pool, fake = pools(size=2)
    await filled(pool)
    dead, fresh = fake.started
    dead.alive = False
    assert pool.take(PY, default_processes(fake)) is fresh
    await pool.close()
    assert fake.discarded == [dead] and dead.closed


async def test_stats_report_hits_misses_and_idle(pools: Pools) -> None:
    pool, fake = pools(size=2)
    assert pool.stats() == {
        "size": 2,
        "idle": {},
        "tainted": {},
        "starting": {},
        "hits": 0,
        "misses": 0,
        "reused": 0,
    }
    await filled(pool)
    await filled(pool, C)
    assert pool.take(PY, default_processes(fake)) is not None
    assert pool.take(PY, default_processes(fake) + 1) is None
    assert pool.take(C, default_processes(fake, C)) is not None
    assert pool.take(C, default_processes(fake, C)) is not None
    assert pool.take(C, default_processes(fake, C)) is None
    assert pool.stats() == {
        "size": 2,
        "idle": {"python": 1, "c": 0},
        "tainted": {},
        "starting": {},
        "hits": 3,
        "misses": 2,
        "reused": 0,
    }


async def test_warm_starts_do_not_log_as_the_request_that_used_the_pool(pools: Pools) -> None:
    """A request that takes a warm sandbox refills the pool; the containers started
    are for later callers, so a failed start is not that request's (nor its job's)."""
    pool, fake = pools(size=1)
    fake.start_error = SandboxError("engine down")
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("codeexec.sandbox.pool")
    logger.addHandler(handler)
    try:

        def in_a_request() -> None:
            REQUEST_ID.set("req-of-client-a")
            SUBMISSION_ID.set("sub-of-client-a")
            pool.replenish(PY)

        contextvars.copy_context().run(in_a_request)
        await pool.settled()
    finally:
        logger.removeHandler(handler)
    events = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [e["message"] for e in events] == ["could not start a warm python sandbox"]
    assert "request_id" not in events[0] and "submission_id" not in events[0]


# --- containers given back after a submission (CODEEXEC_SANDBOX_USES) ------------------


async def given_back(pool: WarmPool[FakeBox], box: FakeBox, language: Language = PY) -> None:
    box.uses += 1  # as the factory counts it when the submission's block ends
    pool.give_back(box, language)
    await pool.settled()


async def test_a_container_given_back_is_reset_and_serves_the_next_submission(
    pools: Pools,
) -> None:
    pool, fake = pools(size=1)
    await filled(pool)
    box = pool.take(PY, default_processes(fake))
    assert box is not None
    box.files = {"main.py": b"print('secret')"}
    await given_back(pool, box)
    assert box.resets == 1 and box.files == {}  # reset before anyone can take it
    again = pool.take(PY, default_processes(fake))
    assert again is box and pool.stats()["reused"] == 1
    assert fake.discarded == []


async def test_a_tainted_container_never_serves_shown_work(pools: Pools) -> None:
    pool, fake = pools(size=1)
    await filled(pool)
    box = pool.take(PY, default_processes(fake))
    assert box is not None
    box.tainted = True  # a hidden test ran in it
    await given_back(pool, box)
    assert pool.stats()["tainted"] == {"python": 1}
    clean = pool.take(PY, default_processes(fake), shown=True)
    assert clean is not box  # a clean one (the replacement started meanwhile), or none
    assert clean is None or not clean.tainted
    assert pool.take(PY, default_processes(fake), shown=False) is box  # hidden work: yes


async def test_hidden_work_takes_a_clean_container_when_no_tainted_one_is_idle(
    pools: Pools,
) -> None:
    pool, fake = pools(size=1)
    await filled(pool)
    box = pool.take(PY, default_processes(fake), shown=False)
    assert box is not None and not box.tainted


async def test_a_container_that_cannot_be_reset_is_removed(pools: Pools) -> None:
    pool, fake = pools(size=1)
    await filled(pool)
    box = pool.take(PY, default_processes(fake))
    assert box is not None
    box.alive = False  # its runner fell out of step: the reset fails
    await given_back(pool, box)
    assert box.resets == 1 and box in fake.discarded
    assert box.container_id not in pool.idle_ids()


async def test_no_more_of_a_kind_are_kept_idle_than_the_pool_may_keep(pools: Pools) -> None:
    pool, fake = pools(size=1)
    boxes = [await fake.start(PY, 256, default_processes(fake)) for _ in range(3)]
    for box in boxes:
        box.tainted = True
        await given_back(pool, box)
    assert pool.stats()["tainted"] == {"python": 1}  # keep = max(size, keep=0) = 1
    assert fake.discarded == boxes[1:]


async def test_a_container_given_back_to_a_closed_pool_is_removed(pools: Pools) -> None:
    pool, fake = pools(size=1)
    await filled(pool)
    box = pool.take(PY, default_processes(fake))
    assert box is not None
    await pool.close()
    await given_back(pool, box)
    assert box in fake.discarded


async def test_a_container_being_reset_counts_as_coming_back(pools: Pools) -> None:
    pool, fake = pools(size=1)
    await filled(pool)
    box = pool.take(PY, default_processes(fake))
    assert box is not None
    box.uses += 1
    pool.give_back(box, PY)
    pool.replenish(PY)  # the box on its way back fills the pool: nothing new starts
    await pool.settled()
    assert fake.start_calls == 1
    assert pool.take(PY, default_processes(fake)) is box


async def test_a_take_prefers_a_container_of_the_size_asked_for(pools: Pools) -> None:
    """A compile step's container keeps the compiler's size and the tests' keep theirs:
    each is handed out again for the same work, with no resize (engine work)."""
    pool, fake = pools(size=1)
    processes = default_processes(fake, C)
    compiling = await fake.start(C, 512, processes)
    running = await fake.start(C, 256, processes)
    await given_back(pool, compiling, C)
    await given_back(pool, running, C)  # both kept: one of each size
    assert pool.take(C, processes, memory_mb=256) is running
    assert pool.take(C, processes, memory_mb=512) is compiling
    assert fake.discarded == []


async def test_work_promised_an_unused_container_never_gets_one_given_back(
    pools: Pools,
) -> None:
    # "test" isolation, self-tests: a container that served a submission carries its
    # kernel counters (and a tainted one its hidden tests').
    pool, fake = pools(size=1)
    await filled(pool)
    processes = default_processes(fake)
    clean, tainted = pool.take(PY, processes), await fake.start(PY, 256, processes)
    assert clean is not None
    tainted.tainted = True
    await given_back(pool, clean)
    await given_back(pool, tainted)
    assert pool.take(PY, processes, used=False) is None
    assert pool.take(PY, processes, shown=False, used=False) is None
    assert pool.take(PY, processes, shown=False) is tainted  # work that may reuse: yes


async def test_containers_of_many_sizes_given_back_are_not_all_kept(pools: Pools) -> None:
    # Ad-hoc runs choose their memory limit: one of each size kept idle would let a
    # caller make the service hold a container (a runner, a shim) per megabyte value.
    pool, fake = pools(size=1)
    processes = default_processes(fake)
    boxes = [await fake.start(PY, 64 + n, processes) for n in range(6)]
    for box in boxes:
        await given_back(pool, box)
    assert pool.stats()["idle"]["python"] == 2  # a compile step's size and the tests'
    assert fake.discarded == boxes[:4]  # the latest given back are kept


async def test_a_container_whose_runner_pinned_a_smaller_stack_serves_only_smaller_work(
    pools: Pools,
) -> None:
    # A program's stack limit is its memory limit, pinned on the runner and never
    # raised again: a container that ran a 64 MB program gives no later one more.
    pool, fake = pools(size=1)
    processes = default_processes(fake)
    box = await fake.start(PY, 64, processes)
    await box.run(("python3",), b"", RunLimits(1000, 2000, 64, 1 << 20, 1 << 16, 1 << 20))
    assert box.stack_mb == 64
    await given_back(pool, box)
    assert pool.take(PY, processes, memory_mb=512) is None
    assert pool.take(PY, processes, memory_mb=64) is box


async def test_containers_of_an_odd_shape_make_room_for_everyday_ones(pools: Pools) -> None:
    # Ad-hoc runs choose their process limit too: two containers of a shape nobody else
    # asks for must not hold the idle places while everyday ones given back are removed.
    pool, fake = pools(size=1)
    processes = default_processes(fake)
    odd = [await fake.start(PY, 64 + n, processes + 3) for n in range(2)]
    for box in odd:
        await given_back(pool, box)
    everyday = await fake.start(PY, 256, processes)
    await given_back(pool, everyday)
    assert pool.take(PY, processes, memory_mb=256) is everyday
    assert fake.discarded == odd[:1]
