"""``python -m benchmarks.screening``: screening time against source size.

For every screened language it generates sources of 1 KB, 10 KB, 100 KB and 1 MB in
several shapes (flat statements, repeated nesting at the parser's depth limits, one nest
as deep as the size allows, long identifiers, many imports and aliases, long strings,
one long call chain) and times the screener on each with the language's default policy,
inside a worker process with a time cap (a super-linear screener shows as a timeout
instead of hanging the run). Time is measured in the worker around the check alone, as
the service's workers run it; the best of three runs (two at 1 MB).

Linear time shows as a flat "µs/KB" and a "1M/100K" ratio near 10. The table is printed
in Markdown (docs/benchmarks.md, "Screening") and saved as JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from pebble import ProcessPool

from codeexec.config import Settings
from codeexec.sandbox.languages import discover_languages
from codeexec.screening.service import Check, ScreeningResult, _ready, _run, screeners

SIZES = (1_000, 10_000, 100_000, 1_000_000)
RESULTS = Path(__file__).parent / "results" / "screening.json"
NEST = 150  # below every parser's nesting limit (Python: 200 parentheses)

Unit = Callable[[int], str]  # the i-th repetition of a shape's unit


@dataclass(frozen=True)
class Grammar:
    """How to write each shape in one language: units repeated to fill the size."""

    wrap: Callable[[str, str], str]  # (head, body) -> program
    flat: Unit
    nest: tuple[str, str, str]  # open, innermost statement, close
    deepest: tuple[str, str, str]
    identifier: Callable[[str, str, int], str]  # (long name a, long name b, i)
    head_import: Unit | None  # an import that must stand at the top (Java, Go, Rust)
    import_use: Unit
    string: Callable[[str, int], str]
    chain: tuple[str, Unit, str]  # start, link, end


def _braces(statement: str) -> tuple[str, str, str]:
    return ("{", statement, "}")


GRAMMARS: dict[str, Grammar] = {
    "python": Grammar(
        wrap=lambda head, body: head + body,
        flat=lambda i: f"x{i} = f(x{i - 1}, {i}) + {i}\n",
        nest=("(", "x", ")"),  # as "x = (((x)))"
        deepest=("-", "1", ""),  # "x = ----...1": too deep for CPython's parser (a CE)
        identifier=lambda a, b, i: f"{a}{i} = os.{b}\n",
        head_import=None,
        import_use=lambda i: f"from m{i} import *\nimport p{i} as q{i}\nq{i}.r(n{i})\n",
        string=lambda s, i: f"s{i} = '{s}'\n",
        chain=("x = a", lambda i: f".m{i}(y)", "\n"),
    ),
    "c": Grammar(
        wrap=lambda head, body: head + "int main(void) {\n" + body + "return 0;\n}\n",
        flat=lambda i: f"x{i} = f(x{i - 1}, {i}) + {i};\n",
        nest=_braces("x = 1;"),
        deepest=_braces(""),
        identifier=lambda a, b, i: f"int {a}{i} = {b};\n",
        head_import=None,
        import_use=lambda i: f'#include "h{i}.h"\nf{i}(x);\n',
        string=lambda s, i: f'puts("{s}");\n',
        chain=("x = a", lambda i: f".m{i}(y)", ";\n"),
    ),
    "cpp": Grammar(
        wrap=lambda head, body: head + "int main() {\n" + body + "return 0;\n}\n",
        flat=lambda i: f"x{i} = f(x{i - 1}, {i}) + {i};\n",
        nest=_braces("x = 1;"),
        deepest=_braces(""),
        identifier=lambda a, b, i: f"int {a}{i} = std::{b};\n",
        head_import=lambda i: f"using n{i}::f{i};\n",
        import_use=lambda i: f"f{i}(x);\nstd::g{i}(x);\n",
        string=lambda s, i: f'puts("{s}");\n',
        chain=("x = a", lambda i: f".m{i}(y)", ";\n"),
    ),
    "java": Grammar(
        wrap=lambda head, body: head + "class Main {\nvoid f() {\n" + body + "}\n}\n",
        flat=lambda i: f"int x{i} = f(x{i - 1}, {i}) + {i};\n",
        nest=_braces("x = 1;"),
        deepest=_braces(""),
        identifier=lambda a, b, i: f"int {a}{i} = {b};\n",
        head_import=lambda i: f"import p{i}.C{i};\n",
        import_use=lambda i: f"C{i}.run();\n",
        string=lambda s, i: f'String s{i} = "{s}";\n',
        chain=("x = a", lambda i: f".m{i}(y)", ";\n"),
    ),
    "javascript": Grammar(
        wrap=lambda head, body: head + body,
        flat=lambda i: f"let x{i} = f(x{i - 1}, {i}) + {i};\n",
        nest=_braces("x = 1;"),
        deepest=_braces(""),
        identifier=lambda a, b, i: f"let {a}{i} = {b};\n",
        head_import=None,
        import_use=lambda i: f'const m{i} = require("mod{i}");\nm{i}.run();\n',
        string=lambda s, i: f'let s{i} = "{s}";\n',
        chain=("x = a", lambda i: f".m{i}(y)", ";\n"),
    ),
    "go": Grammar(
        wrap=lambda head, body: "package main\n" + head + "func main() {\n" + body + "}\n",
        flat=lambda i: f"x{i} := f(x{i - 1}, {i}) + {i}\n",
        nest=("{", "x = 1\n", "}\n"),
        deepest=("{", "", "}"),
        identifier=lambda a, b, i: f"{a}{i} := {b}\n",
        head_import=lambda i: f'import m{i} "example.com/p{i}"\n',
        import_use=lambda i: f"m{i}.Run()\n",
        string=lambda s, i: f'x{i} := "{s}"\n',
        chain=("x = a", lambda i: f".M{i}(y)", "\n"),
    ),
    "rust": Grammar(
        wrap=lambda head, body: head + "fn main() {\n" + body + "}\n",
        flat=lambda i: f"let x{i} = f(x{i - 1}, {i}) + {i};\n",
        nest=_braces("x = 1;"),
        deepest=_braces(""),
        identifier=lambda a, b, i: f"let {a}{i} = {b};\n",
        head_import=lambda i: f"use p{i}::q as r{i};\n",
        import_use=lambda i: f"r{i}::run();\n",
        string=lambda s, i: f'let s{i} = "{s}";\n',
        chain=("let x = a", lambda i: f".m{i}(y)", ";\n"),
    ),
    "bash": Grammar(
        wrap=lambda head, body: head + body,
        flat=lambda i: f"x{i}=$((x{i - 1} + {i}))\necho $x{i}\n",
        nest=("if true; then\n", "echo 1\n", "fi\n"),
        deepest=("(", "true", ")"),
        identifier=lambda a, b, i: f"{a}{i}={b}\n{a} $x{i}\n",
        head_import=None,
        import_use=lambda i: f"source lib{i}.sh\nalias a{i}=f{i}\nf{i} x\n",
        string=lambda s, i: f"echo '{s}'\n",
        chain=("a", lambda i: f" | b{i} y", "\n"),
    ),
}
SHAPES = ("flat", "nesting", "deepest", "identifiers", "imports", "strings", "chain")


def _repeat(unit: Unit, size: int) -> str:
    parts: list[str] = []
    length = 0
    i = 1
    while length < size:
        part = unit(i)
        parts.append(part)
        length += len(part)
        i += 1
    return "".join(parts)


def generate(language: str, shape: str, size: int) -> str:
    """A program of about ``size`` bytes in ``shape``."""
    g = GRAMMARS[language]
    head, body = "", ""
    if shape == "flat":
        body = _repeat(g.flat, size)
    elif shape == "nesting":
        opening, inner, closing = g.nest
        if language == "python":
            body = _repeat(lambda i: "x = " + opening * NEST + inner + closing * NEST + "\n", size)
        else:
            body = _repeat(lambda i: opening * NEST + inner + closing * NEST + "\n", size)
    elif shape == "deepest":
        opening, inner, closing = g.deepest
        depth = max(1, size // max(1, len(opening) + len(closing)))
        body = opening * depth + inner + closing * depth + "\n"
        body = ("x = " + body) if language == "python" else body
    elif shape == "identifiers":  # four names, each an eighth of the size
        a, b = "a" * (size // 8), "b" * (size // 8)
        body = "".join(g.identifier(a, b, i) for i in range(2))
    elif shape == "imports":
        if g.head_import is not None:
            head = _repeat(g.head_import, size // 2)
            body = "".join(g.import_use(i) for i in range(1, head.count("\n") + 1))
        else:
            body = _repeat(g.import_use, size)
    elif shape == "strings":  # four strings, each a quarter of the size
        body = "".join(g.string("x" * (size // 4), i) for i in range(4))
    elif shape == "chain":
        start, link, end = g.chain
        body = start + _repeat(link, size) + end
    else:
        raise ValueError(shape)
    return g.wrap(head, body)


def _timed(check: Check, source: str, patterns: tuple[str, ...]) -> tuple[float, str]:
    """In the worker: seconds spent screening (as the service's workers do it), and
    what the screener answered."""
    started = time.perf_counter()
    result: ScreeningResult = _run(check, source, "main", patterns)
    elapsed = time.perf_counter() - started
    if result.compile_error:
        outcome = "CE"
    elif result.disallowed:
        outcome = f"{len(result.disallowed)} names"
    else:
        outcome = "ok"
    return elapsed, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=",".join(GRAMMARS))
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--cap-s", type=float, default=60.0, help="time cap per run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    languages = args.languages.split(",")
    shapes = args.shapes.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]

    settings = Settings()
    known = discover_languages(settings.sandbox.languages_dir)
    checks = screeners(known)
    policies = {lang_id: lang.disallowed for lang_id, lang in known.items()}
    policies.update(settings.screening.screening_defaults())
    rows: list[dict[str, object]] = []
    spawn = multiprocessing.get_context("spawn")
    header = "| language | shape | " + " | ".join(_label(s) for s in sizes)
    print(header + " | µs/KB (largest) | last/previous | answer |")
    print("|" + " --- |" * (len(sizes) + 5))
    with ProcessPool(max_workers=1, context=spawn) as pool:
        pool.schedule(_timed, args=(_ready, "", ())).result()  # warm the worker
        for language in languages:
            for shape in shapes:
                times: list[float | None] = []
                outcome = ""
                for size in sizes:
                    source = generate(language, shape, size)
                    best: float | None = None
                    for _ in range(3 if size < 1_000_000 else 2):
                        future = pool.schedule(
                            _timed,
                            args=(checks[language], source, policies[language]),
                            timeout=args.cap_s,
                        )
                        try:
                            elapsed, outcome = future.result()
                        except FutureTimeout:
                            best, outcome = None, f"> {args.cap_s:.0f} s"
                            break
                        best = elapsed if best is None else min(best, elapsed)
                    times.append(best)
                    if best is None:
                        times += [None] * (len(sizes) - len(times))
                        break
                rows.append(_row(language, shape, sizes, times, outcome))
                print(_markdown(rows[-1], sizes), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")


def _label(size: int) -> str:
    return f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1000} KB"


def _row(
    language: str, shape: str, sizes: list[int], times: list[float | None], outcome: str
) -> dict[str, object]:
    last, previous = times[-1], times[-2] if len(times) > 1 else None
    return {
        "language": language,
        "shape": shape,
        "seconds": dict(zip((str(s) for s in sizes), times, strict=True)),
        "us_per_kb": None if last is None else last * 1e6 / (sizes[-1] / 1000),
        "growth": None if last is None or not previous else last / previous,
        "answer": outcome,
    }


def _markdown(row: dict[str, object], sizes: list[int]) -> str:
    ms = row["seconds"]
    assert isinstance(ms, dict)
    cells = ["timeout" if ms[str(s)] is None else f"{ms[str(s)] * 1000:.1f} ms" for s in sizes]
    per_kb, growth = row["us_per_kb"], row["growth"]
    per_kb_cell = "" if per_kb is None else f"{per_kb:.0f}"
    growth_cell = "" if growth is None else f"{growth:.1f}"
    return (
        f"| {row['language']} | {row['shape']} | " + " | ".join(cells)
        + f" | {per_kb_cell} | {growth_cell} | {row['answer']} |"
    )  # fmt: skip


if __name__ == "__main__":
    main()
