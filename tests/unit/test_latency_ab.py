"""``python -m benchmarks ab``'s logic: the alternating order, warm-ups left out of the
figures, options, and the table (the real run is in tests/test_throughput_smoke.py)."""

from __future__ import annotations

import pytest

from benchmarks.latency_ab import interleaved, parse, summary, table


async def test_sides_alternate_which_goes_first_and_warm_ups_are_not_counted() -> None:
    calls: list[str] = []

    async def submit(url: str) -> float:
        calls.append(url)
        return len(calls) / 1000

    got = await interleaved({"a": "A", "b": "B"}, submit, 3, pause_s=0)
    assert calls == ["A", "B", "A", "B", "B", "A", "A", "B"]
    # Each side's latencies are its own calls' after the warm-ups (the 3rd call onwards).
    assert got == {"a": [0.003, 0.006, 0.007], "b": [0.004, 0.005, 0.008]}


def test_summary_is_quartiles_in_milliseconds() -> None:
    assert summary([0.1, 0.2, 0.3, 0.4, 0.5]) == {"p25_ms": 200, "p50_ms": 300, "p75_ms": 400}


def test_options_settings_per_side_and_bad_ones_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["--a", "CODEEXEC_SANDBOX_USES=1", "--b", "X=y=z", "--language", "c"])
    assert (args.a, args.b, args.language) == ({"CODEEXEC_SANDBOX_USES": "1"}, {"X": "y=z"}, ["c"])
    for bad in (["--a", "NOEQUALS"], ["--submissions", "0"], ["--language", "cobol"]):
        with pytest.raises(SystemExit) as exit_:
            parse(bad)
        assert exit_.value.code == 2
    assert "--a wants NAME=VALUE, got 'NOEQUALS'" in capsys.readouterr().err


def test_table_has_a_row_per_language_and_side() -> None:
    figures = {"p25_ms": 1.0, "p50_ms": 2.4, "p75_ms": 3.6}
    rows = table({"python": {"a": figures, "b": figures}}).splitlines()
    assert rows[2:] == ["| python | a | 1 | 2 | 4 |", "| python | b | 1 | 2 | 4 |"]
