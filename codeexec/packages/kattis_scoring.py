"""A Kattis scoring problem's test groups and their settings (``model.Scoring``).

- **legacy** (``type: scoring``, or ``validation: custom score``): every directory of
  ``data/`` is a group (the root is ``data``); each group's ``testdata.yaml`` settings
  (``on_reject``, ``grading``, ``grader_flags``, ``accept_score``, ``reject_score``,
  ``range``) are inherited by its subgroups; ``problem.yaml``'s ``grading``
  ``accept_score``/``reject_score``/``range``/``on_reject`` apply everywhere
  (problemtools' rule). score.txt counts only with ``validation: custom score``.
- **2023-07 / 2025-09** (``type: scoring`` or a list holding it): ``data/secret`` is the
  root; a directory under it is a group when it holds a ``test_group.yaml`` (or the
  drafts' ``testdata.yaml``), and every directory directly in it is one when it holds no
  test itself; ``max_score`` (or ``scoring.score``/``scoring.max_score``),
  ``score_aggregation`` (or ``scoring.aggregation``) and ``require_pass`` are read per
  group, not inherited (the format's rule); a group without a maximum under a bounded
  parent gets an equal share of what its siblings leave (the 2023-07 drafts' rule).

Refused by name: custom graders (``grading: custom``), static validation, ``objective:
min``. Groups nest at most ``MAX_GROUP_DEPTH`` deep under ``secret``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from codeexec.model import ScoreGroup, Scoring, TestCase
from codeexec.packages.archive import PackageError

MAX_GROUP_DEPTH = 8  # group levels under secret
ReadYaml = Callable[[str], dict[str, Any]]  # a package file as a mapping ({} if absent)

_SCORE_FLAGS = {"sum": "sum", "avg": "avg", "min": "min", "max": "max"}
_VERDICT_FLAGS = {
    "worst_error": "worst_error",
    "no_errors": "worst_error",  # the older default grader's name
    "first_error": "first_error",
    "always_accept": "always_accept",
}
_MODERN_AGGREGATIONS = ("pass-fail", "sum", "min")


def read_scoring(
    config: dict[str, Any],
    layout: str,
    tests: Sequence[TestCase],
    read_yaml: ReadYaml,
    names: Collection[str],
) -> tuple[Scoring, list[TestCase]]:
    """The problem's scoring, and its tests each marked with its innermost group
    (``names``: the package's files)."""
    dirs = sorted({_directory(t) for t in tests}, key=lambda d: PurePosixPath(d).parts)
    for d in dirs:
        if len(PurePosixPath(d).parts) - 1 > MAX_GROUP_DEPTH:
            raise PackageError(
                f"data/{d}: test groups nest more than {MAX_GROUP_DEPTH} deep under secret"
            )
    if layout == "legacy":
        return _legacy(config, tests, dirs, read_yaml)
    return _modern(tests, dirs, read_yaml, set(names))


def _directory(test: TestCase) -> str:
    assert test.name is not None  # a package's tests are named by their path
    return str(PurePosixPath(test.name).parent)


def _ancestors(directory: str) -> list[str]:
    """``secret/a/b`` → ``secret``, ``secret/a``, ``secret/a/b``."""
    parts = PurePosixPath(directory).parts
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _number(value: Any, where: str) -> float:
    """A finite number (or numeric text)."""
    number = math.nan
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with contextlib.suppress(ValueError, OverflowError):
            number = float(value)
    if not math.isfinite(number):
        raise PackageError(f"{where} must be a finite number, not {value!r}"[:300])
    return number


def _choice(value: Any, where: str, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise PackageError(f"{where} must be one of {list(allowed)}, not {value!r}"[:300])
    return value


# --- legacy ---------------------------------------------------------------------------

_LEGACY_DEFAULTS: dict[str, Any] = {
    "on_reject": "break",
    "grading": "default",
    "grader_flags": "",
    "accept_score": 1,
    "reject_score": 0,
    "range": "-inf +inf",
}


@dataclass(frozen=True)
class _Flags:
    aggregation: str = "sum"
    verdict_mode: str = "worst_error"
    accept_if_any: bool = False
    ignore_sample: bool = False


def _grader_flags(value: Any, where: str) -> _Flags:
    if not isinstance(value, str):
        raise PackageError(f"{where} must be a string of flags, not {value!r}"[:300])
    flags = _Flags()
    for flag in value.split():  # the last of conflicting modes wins
        if flag in _SCORE_FLAGS:
            flags = replace(flags, aggregation=_SCORE_FLAGS[flag])
        elif flag in _VERDICT_FLAGS:
            flags = replace(flags, verdict_mode=_VERDICT_FLAGS[flag])
        elif flag == "accept_if_any_accepted":
            flags = replace(flags, accept_if_any=True)
        elif flag == "ignore_sample":
            flags = replace(flags, ignore_sample=True)
        else:
            raise PackageError(f"{where}: unknown grader flag {flag!r}"[:300])
    return flags


def _range(value: Any, where: str) -> tuple[float | None, float | None]:
    parts = value.split() if isinstance(value, str) else []
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise PackageError(f"{where} must be two numbers 'A B', not {value!r}"[:300]) from None
    if math.isnan(low) or math.isnan(high) or low > high:
        raise PackageError(f"{where} must be two numbers A <= B, not {value!r}"[:300])
    return (low if math.isfinite(low) else None, high if math.isfinite(high) else None)


def _legacy(
    config: dict[str, Any], tests: Sequence[TestCase], dirs: list[str], read_yaml: ReadYaml
) -> tuple[Scoring, list[TestCase]]:
    grading = config.get("grading") or {}
    if not isinstance(grading, dict):
        raise PackageError("problem.yaml: grading must be a mapping")
    if grading.get("objective", "max") != "max":
        raise PackageError("problem.yaml: grading.objective min is not supported")
    overrides = {k: grading[k] for k in ("accept_score", "reject_score", "range") if k in grading}
    on_reject = {"first_error": "break", "grade": "continue"}.get(grading.get("on_reject", ""))
    if on_reject is not None:
        overrides["on_reject"] = on_reject
    validation = config.get("validation", "default")
    scores = isinstance(validation, str) and "score" in validation.split()
    names = ["data", *sorted({a for d in dirs for a in _ancestors(d)}, key=_path_key)]
    settings: dict[str, dict[str, Any]] = {}
    groups: list[ScoreGroup] = []
    for name in names:
        parent = None if name == "data" else str(PurePosixPath(name).parent)
        parent = "data" if parent == "." else parent
        path = "data/testdata.yaml" if name == "data" else f"data/{name}/testdata.yaml"
        own = read_yaml(path)
        merged = {**(settings[parent] if parent else _LEGACY_DEFAULTS), **own}
        settings[name] = merged
        if parent is not None and "ignore_sample" in str(own.get("grader_flags", "")).split():
            raise PackageError(f"{path}: grader_flags ignore_sample is only allowed in data/")
        groups.append(_legacy_group(name, parent, {**merged, **overrides}, path))
    marked = [replace(t, group=_directory(t)) for t in tests]
    return Scoring("legacy", tuple(groups), validator_scores=scores), marked


def _path_key(name: str) -> tuple[str, ...]:
    return PurePosixPath(name).parts


def _legacy_group(name: str, parent: str | None, s: dict[str, Any], path: str) -> ScoreGroup:
    if _choice(s["grading"], f"{path}: grading", ("default", "custom")) == "custom":
        raise PackageError(f"{path}: custom graders (grading: custom) are not supported")
    flags = _grader_flags(s["grader_flags"], f"{path}: grader_flags")
    low, high = _range(s["range"], f"{path}: range")
    return ScoreGroup(
        name=name,
        parent=parent,
        aggregation=flags.aggregation,
        max_score=high,
        min_score=low,
        test_score=_number(s["accept_score"], f"{path}: accept_score"),
        reject_score=_number(s["reject_score"], f"{path}: reject_score"),
        on_reject=_choice(s["on_reject"], f"{path}: on_reject", ("break", "continue")),
        verdict_mode=flags.verdict_mode,
        accept_if_any=flags.accept_if_any,
        ignore_sample=flags.ignore_sample and parent is None,  # inherited: no meaning
    )


# --- 2023-07 / 2025-09 ----------------------------------------------------------------


@dataclass
class _Modern:
    name: str
    parent: str | None
    path: str  # its configuration file, for messages
    aggregation: str
    max_score: float | None  # None: unbounded
    explicit: bool  # max_score given
    require_pass: tuple[str, ...]
    tests: int = 0  # its own (not its subgroups')
    test_score: float | None = None  # an accepted test's most (bounded sum/min groups)


def _config_file(directory: str, names: set[str]) -> str | None:
    """The group configuration file in ``directory`` (an empty one still makes it a
    group)."""
    for file in ("test_group.yaml", "testdata.yaml"):
        if f"data/{directory}/{file}" in names:
            return f"data/{directory}/{file}"
    return None


def _modern(
    tests: Sequence[TestCase], dirs: list[str], read_yaml: ReadYaml, names: set[str]
) -> tuple[Scoring, list[TestCase]]:
    under = sorted(
        {a for d in dirs if d.startswith("secret") for a in _ancestors(d)}, key=_path_key
    )
    direct_tests = any(_directory(t) == "secret" for t in tests)
    groups: dict[str, _Modern] = {}
    for directory in under:
        path = _config_file(directory, names)
        top = PurePosixPath(directory).parent == PurePosixPath("secret")
        if directory != "secret" and path is None and (direct_tests or not top):
            continue  # a plain directory: its tests are its group's
        parent = _innermost(directory, groups, strict=True)
        groups[directory] = _modern_group(directory, parent, path, read_yaml)
    marked = []
    for test in tests:
        directory = _directory(test)
        group = _innermost(directory, groups) if directory.startswith("secret") else "sample"
        if group in groups:
            groups[group].tests += 1
        marked.append(replace(test, group=group))
    if "secret" not in groups:
        raise PackageError("a scoring problem needs tests in data/secret")
    _infer_maxima(groups)
    for g in groups.values():
        for required in g.require_pass:
            if required != "sample" and (required not in groups or required >= g.name):
                raise PackageError(
                    f"{g.path}: require_pass names {required!r}, not an earlier group"[:300]
                )
            if required in groups and groups[required].aggregation != "pass-fail":
                raise PackageError(f"{g.path}: require_pass group {required!r} is not pass-fail")
    scoring = Scoring("2025-09", tuple(_score_group(g) for g in groups.values()))
    return scoring, marked


def _innermost(directory: str, groups: dict[str, _Modern], strict: bool = False) -> str:
    """The innermost group ``directory`` is in (``strict``: strictly above it)."""
    chain = _ancestors(directory)
    if strict:
        chain = chain[:-1]
    return next((d for d in reversed(chain) if d in groups), "secret")


def _modern_group(
    directory: str, parent: str | None, path: str | None, read_yaml: ReadYaml
) -> _Modern:
    where = path or f"data/{directory}"
    raw = read_yaml(path) if path else {}
    for key in ("static_validation", "static_validation_score"):
        if key in raw:
            raise PackageError(f"{where}: {key}: static validation is not supported")
    nested = raw.get("scoring")
    if nested is None and isinstance(raw.get("grading"), dict):  # the first 2023-07 draft
        nested = raw["grading"]
    if nested is not None and not isinstance(nested, dict):
        raise PackageError(f"{where}: scoring must be a mapping")
    nested = nested or {}
    is_root = directory == "secret"
    score = raw.get("max_score", nested.get("max_score", nested.get("score")))
    aggregation = raw.get("score_aggregation", nested.get("aggregation"))
    aggregation = "sum" if aggregation is None and is_root else aggregation or "pass-fail"
    aggregation = _choice(aggregation, f"{where}: score_aggregation", _MODERN_AGGREGATIONS)
    if score is None:
        max_score: float | None = 100.0 if is_root else None
    elif score == "unbounded":
        max_score = None
    else:
        max_score = _number(score, f"{where}: max_score")
        if max_score < 0:
            raise PackageError(f"{where}: max_score must not be negative, not {score!r}")
    required = raw.get("require_pass", nested.get("require_pass", nested.get("require-pass", [])))
    if isinstance(required, str):
        required = [required]
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise PackageError(f"{where}: require_pass must be a string or a list of strings")
    return _Modern(
        name=directory,
        parent=None if is_root else parent,
        path=where,
        aggregation=aggregation,
        max_score=max_score,
        explicit=score is not None or is_root,
        require_pass=tuple(required),
    )


def _infer_maxima(groups: dict[str, _Modern]) -> None:
    """Top down: a group without a maximum gets its parent's share (``(M - S) / (A +
    T)`` under ``sum``, ``M`` under ``min``; unbounded under an unbounded parent)."""
    for g in groups.values():  # parents come first
        children = [c for c in groups.values() if c.parent == g.name]
        if g.max_score is None:
            for c in children:
                if not c.explicit:
                    c.max_score = None
            if g.aggregation == "pass-fail":
                raise PackageError(f"{g.path}: a pass-fail group needs a bounded max_score")
            continue
        for c in children:
            if c.explicit and c.max_score is None:
                raise PackageError(f"{c.path}: max_score unbounded under a bounded group")
        share = _share(g, children)
        g.test_score = share
        for c in children:
            if not c.explicit:
                c.max_score = share
                c.explicit = True


def _share(g: _Modern, children: list[_Modern]) -> float:
    assert g.max_score is not None
    if g.aggregation == "min":
        return g.max_score
    given = math.fsum(c.max_score or 0.0 for c in children if c.explicit)
    if given > g.max_score * (1 + 1e-9):
        raise PackageError(f"{g.path}: its groups' max_score add up to more than its own")
    shares = sum(not c.explicit for c in children) + g.tests
    return (g.max_score - given) / shares if shares else 0.0


def _score_group(g: _Modern) -> ScoreGroup:
    return ScoreGroup(
        name=g.name,
        parent=g.parent,
        aggregation=g.aggregation,
        max_score=g.max_score,
        test_score=g.test_score,
        reject_score=0.0,
        on_reject="continue",
        require_pass=g.require_pass,
    )
