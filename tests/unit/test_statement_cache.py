"""HtmlCache: each statement converted once (failures too), few at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from codeexec.packages.statement_cache import ConversionError, HtmlCache


def test_callers_share_one_conversion_and_a_failure_is_kept() -> None:
    cache = HtmlCache(max_bytes=1 << 20, at_once=2)
    calls: list[str] = []
    running = 0
    most = 0

    def converter(key: str, fails: bool = False) -> Callable[[], Awaitable[str]]:
        async def convert() -> str:
            nonlocal running, most
            calls.append(key)
            running += 1
            most = max(most, running)
            await asyncio.sleep(0.05)
            running -= 1
            if fails:
                raise ConversionError(f"{key} never ends")
            return f"<p>{key}</p>"

        return convert

    async def main() -> None:
        keys = ["a", "b", "c", "d", "e"]
        for _ in range(2):
            results = await asyncio.gather(
                *(cache.get(k, converter(k, fails=k == "e")) for k in keys * 4),
                return_exceptions=True,
            )
            assert results[:4] == [f"<p>{k}</p>" for k in keys[:4]]
            assert str(results[4]) == "e never ends" and isinstance(results[4], ConversionError)
        assert sorted(calls) == keys  # once each, the failure too
        assert most == 2
        # A caller that leaves does not stop the conversion, nor make it start over.
        waiting = asyncio.ensure_future(cache.get("f", converter("f")))
        await asyncio.sleep(0.01)
        waiting.cancel()
        assert await cache.get("f", converter("f")) == "<p>f</p>"
        assert calls.count("f") == 1

    asyncio.run(main())


def test_it_works_from_one_event_loop_to_the_next() -> None:
    cache = HtmlCache(max_bytes=1 << 20, at_once=1)

    async def convert() -> str:
        await asyncio.sleep(0.01)
        return "x"

    async def main(key: str) -> list[str]:
        return await asyncio.gather(*(cache.get(f"{key}{i}", convert) for i in range(3)))

    assert asyncio.run(main("a")) == ["x"] * 3
    assert asyncio.run(main("b")) == ["x"] * 3  # the semaphore of the first loop is not used


def test_what_is_kept_is_bounded() -> None:
    cache = HtmlCache(max_bytes=4096, at_once=1)
    calls = 0

    async def convert() -> str:
        nonlocal calls
        calls += 1
        return "x" * 1000

    async def main() -> None:
        for key in ("a", "b", "c", "d", "e", "a"):
            await cache.get(key, convert)

    asyncio.run(main())
    assert calls == 6  # "a" was pushed out by the others
    with pytest.raises(ConversionError):

        async def failing() -> str:
            raise ConversionError("no")

        asyncio.run(cache.get("z", failing))
