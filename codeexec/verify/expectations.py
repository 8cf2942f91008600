"""What a package's example submission is expected to get, and whether a job got it.

Two rules, by the package's format:

- **legacy** (``problem_format_version`` absent or ``legacy``): the folder names the final
  verdict, as Kattis' ``verifyproblem`` checks it: ``accepted`` every test AC;
  ``wrong_answer``, ``time_limit_exceeded``, ``run_time_error``: the first test that is
  not AC got WA, TLE, RTE; ``partially_accepted`` (scoring problems): the final verdict
  is AC (that the score is below the maximum is not checked).
- **2023-07 / 2025-09**: requirements on the tests' verdicts (spec "Example
  submissions"): ``permitted`` (every test's verdict is one of them) and ``required``
  (at least one test's is), optionally on a test group only, plus ``score`` and
  ``message``. The default folders (``accepted``, ``rejected``, ``wrong_answer``,
  ``time_limit_exceeded``, ``run_time_error``, ``brute_force``) carry the spec's
  defaults; ``submissions/submissions.yaml`` adds rules by glob (and overrides a default
  folder's keys under its exact name). ``use_for_time_limit: lower`` / ``upper`` count
  as the constraints the spec equates them with (``permitted: [AC, WA, RTE]`` /
  ``required: [TLE]``); deriving a time limit from them is not done.

codeexec's verdicts map onto the format's four: AC, WA, TLE as themselves; RE, MLE and
OLE are RTE (a crash or a resource limit). A compile error satisfies no expectation;
an internal error (IE) is the judge's failure, never the program's (the caller's to
report).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from codeexec.packages.archive import PackageError
from codeexec.verify.globs import GlobError, expand_braces, matches

KATTIS_VERDICTS = ("AC", "WA", "TLE", "RTE")
# codeexec's verdict → the format's (CE and IE have none: see check()).
TO_KATTIS = {"AC": "AC", "WA": "WA", "TLE": "TLE", "RE": "RTE", "MLE": "RTE", "OLE": "RTE"}

LEGACY_FOLDERS = {
    "accepted": "AC",
    "wrong_answer": "WA",
    "time_limit_exceeded": "TLE",
    "run_time_error": "RTE",
    "partially_accepted": "AC",
}

# The 2025-09 spec's "Default directories", verbatim.
DEFAULT_FOLDERS: dict[str, dict[str, Any]] = {
    "accepted": {"permitted": ["AC"]},
    "rejected": {"required": ["RTE", "TLE", "WA"]},
    "wrong_answer": {"permitted": ["AC", "WA"], "required": ["WA"]},
    "time_limit_exceeded": {"permitted": ["AC", "TLE"], "required": ["TLE"]},
    "run_time_error": {"permitted": ["AC", "RTE"], "required": ["RTE"]},
    "brute_force": {"permitted": ["AC", "RTE", "TLE"], "required": ["RTE", "TLE"]},
}

# Keys of a submissions.yaml entry that are not test groups.
_SUBMISSION_KEYS = frozenset(
    {
        "language", "entrypoint", "authors", "model_solution",
        "permitted", "required", "score", "message", "use_for_time_limit",
    }
)  # fmt: skip
_GROUP_KEYS = frozenset({"permitted", "required", "score", "message", "use_for_time_limit"})


@dataclass(frozen=True)
class Requirement:
    """One rule on the verdicts of a set of tests (every test, or a group's)."""

    source: str  # where it comes from, as a reason names it
    group: str | None = None  # a test group glob (relative to data/); None: every test
    permitted: frozenset[str] | None = None
    required: frozenset[str] | None = None
    score: tuple[float, float] | None = None
    message: str | None = None


@dataclass(frozen=True)
class Expectation:
    label: str  # short, for a report line: "AC", "WA", "rejected", "permitted AC|TLE"...
    final: str | None = None  # legacy: the final verdict this must be
    requirements: tuple[Requirement, ...] = ()
    language: str | None = None  # submissions.yaml's language key
    entrypoint: str | None = None
    notes: tuple[str, ...] = ()  # what of the expectation is not checked


@dataclass(frozen=True)
class Check:
    agrees: bool
    got: str  # the final verdict in the format's terms, e.g. "WA" or "RTE (MLE)"
    reasons: tuple[str, ...] = ()  # why it does not agree
    unchecked: tuple[str, ...] = ()  # parts of the expectation that could not be checked
    # Requirements on test groups that could not be checked at all: the server names no
    # hidden test to this key. Agreeing on the rest is then no verdict either way.
    blind: tuple[str, ...] = ()


# -- reading submissions.yaml -------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """The rules of a 2023-07/2025-09 package: the default folders' (with their overrides)
    and submissions.yaml's entries, each a glob and its entry."""

    entries: tuple[tuple[str, str, Mapping[str, Any]], ...]  # (glob, source, entry)


def read_rules(data: Mapping[str, Any] | None) -> Rules:
    """The rules given ``submissions.yaml``'s mapping (None: the file is absent). Raises
    PackageError for an entry the format does not allow."""
    data = data or {}
    entries: list[tuple[str, str, Mapping[str, Any]]] = []
    for folder, default in DEFAULT_FOLDERS.items():
        override = data.get(folder)
        if override is not None and not isinstance(override, Mapping):
            raise PackageError(f"submissions.yaml: {folder} must be a mapping")
        source = f"{folder} (default)" if override is None else f"{folder} (submissions.yaml)"
        entries.append((folder, source, {**default, **(override or {})}))
    for glob, entry in data.items():
        if not isinstance(glob, str) or not isinstance(entry, Mapping):
            raise PackageError(f"submissions.yaml: {glob!r} must map to a mapping")
        try:
            expand_braces(glob)
        except GlobError as exc:
            raise PackageError(f"submissions.yaml: {exc}") from exc
        if glob not in DEFAULT_FOLDERS:
            entries.append((glob, f"submissions.yaml {glob}", entry))
    for _glob, source, entry in entries:
        _requirements(entry, source)  # refused now rather than when a submission matches
    return Rules(tuple(entries))


def _verdicts(value: Any, where: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise PackageError(f"{where} must be a list of verdicts")
    unknown = sorted(set(items) - set(KATTIS_VERDICTS))
    if unknown:
        raise PackageError(f"{where}: unknown verdicts {unknown}; the format has AC, WA, TLE, RTE")
    return frozenset(items)


def _score(value: Any, where: str) -> tuple[float, float]:
    def number(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise PackageError(f"{where} must be a number or a list of two numbers")
        return float(v)

    if isinstance(value, list):
        if len(value) != 2:
            raise PackageError(f"{where} must be a number or a list of two numbers")
        low, high = number(value[0]), number(value[1])
        if low > high:
            raise PackageError(f"{where}: [{low:g}, {high:g}] is an empty range")
        return low, high
    return number(value), number(value)


def _one(entry: Mapping[str, Any], source: str, group: str | None) -> Requirement | None:
    where = f"submissions.yaml: {source}" + (f" {group}" if group else "")
    permitted = required = None
    if "permitted" in entry:
        permitted = _verdicts(entry["permitted"], f"{where}: permitted")
    if "required" in entry:
        required = _verdicts(entry["required"], f"{where}: required")
    # The spec: "lower" is a permitted [AC, WA, RTE] constraint, "upper" a required [TLE].
    use = entry.get("use_for_time_limit")
    if use is not None and not isinstance(use, bool) and use not in ("lower", "upper"):
        raise PackageError(f"{where}: use_for_time_limit must be true, false, lower or upper")
    if use == "lower":
        permitted = (permitted or frozenset(KATTIS_VERDICTS)) & {"AC", "WA", "RTE"}
    elif use == "upper":
        required = frozenset({"TLE"}) if required is None else required & {"TLE"}
    score = _score(entry["score"], f"{where}: score") if "score" in entry else None
    message = entry.get("message")
    if message is not None and not isinstance(message, str):
        raise PackageError(f"{where}: message must be text")
    if permitted is None and required is None and score is None and not message:
        return None
    shown = f"{source}, {group}" if group else source
    return Requirement(shown, group, permitted, required, score, message or None)


def _requirements(entry: Mapping[str, Any], source: str) -> list[Requirement]:
    found = []
    own = _one(entry, source, None)
    if own is not None:
        found.append(own)
    for key, value in entry.items():
        if not isinstance(key, str):
            raise PackageError(f"submissions.yaml: {source}: key {key!r} is not text")
        if key in _SUBMISSION_KEYS:
            continue
        if not isinstance(value, Mapping):
            raise PackageError(
                f"submissions.yaml: {source}: unknown key {key!r} (a test group maps to a mapping)"
            )
        unknown = sorted(str(k) for k in value if k not in _GROUP_KEYS)
        if unknown:
            raise PackageError(f"submissions.yaml: {source} {key}: unknown keys {unknown}")
        try:
            expand_braces(key)
        except GlobError as exc:
            raise PackageError(f"submissions.yaml: {source}: {exc}") from exc
        group = _one(value, source, key)
        if group is not None:
            found.append(group)
    return found


def _text_key(entries: Sequence[Mapping[str, Any]], key: str, path: str) -> str | None:
    values = {entry[key] for entry in entries if entry.get(key) is not None}
    if any(not isinstance(v, str) for v in values):
        raise PackageError(f"submissions.yaml: {key} of {path} must be text")
    if len(values) > 1:
        raise PackageError(f"submissions.yaml: {path} matches different {key}s {sorted(values)}")
    return next(iter(values), None)


def expectation(path: str, layout: str, rules: Rules | None) -> Expectation | None:
    """What the submission at ``path`` (relative to ``submissions/``) must get; None if
    nothing is expected of it (a folder the format does not know, no glob matches)."""
    if layout == "legacy":
        verdict = LEGACY_FOLDERS.get(path.split("/", 1)[0])
        if verdict is None:
            return None
        notes: tuple[str, ...] = ()
        if path.startswith("partially_accepted/"):
            notes = ("partially_accepted: that the score is below the maximum is not checked",)
        label = "AC (partial)" if notes else verdict
        return Expectation(label, final=verdict, notes=notes)
    assert rules is not None
    matched = [(source, entry) for glob, source, entry in rules.entries if matches(glob, path)]
    if not matched:
        return None
    requirements = tuple(r for source, entry in matched for r in _requirements(entry, source))
    entries = [entry for _, entry in matched]
    language = _text_key(entries, "language", path)
    entrypoint = _text_key(entries, "entrypoint", path)
    if not requirements:
        return Expectation("anything", None, (), language, entrypoint)
    notes = tuple(
        f"{r.source}: a group's score is not checked" for r in requirements if r.score and r.group
    )
    label = " + ".join(describe(r) for r in requirements)
    return Expectation(label, None, requirements, language, entrypoint, notes)


_NAMED = {
    (frozenset({"AC"}), None): "AC",
    (frozenset({"AC", "WA"}), frozenset({"WA"})): "WA",
    (frozenset({"AC", "TLE"}), frozenset({"TLE"})): "TLE",
    (frozenset({"AC", "RTE"}), frozenset({"RTE"})): "RTE",
    (None, frozenset({"RTE", "TLE", "WA"})): "rejected",
    (frozenset({"AC", "RTE", "TLE"}), frozenset({"RTE", "TLE"})): "brute force",
}


def _order(verdicts: frozenset[str]) -> str:
    return "|".join(v for v in KATTIS_VERDICTS if v in verdicts)


def describe(r: Requirement) -> str:
    """A requirement in a few words: the default folders' by their verdict."""
    text = _NAMED.get((r.permitted, r.required))
    if text is None:
        parts = []
        if r.permitted is not None:
            parts.append(f"only {_order(r.permitted)}")
        if r.required is not None:
            parts.append(f"some {_order(r.required)}")
        text = ", ".join(parts)
    extra = [f"score {_range(r.score)}"] if r.score else []
    extra += [f"message {r.message!r}"] if r.message else []
    text = ", ".join(p for p in (text, *extra) if p)
    return f"{r.group}: {text}" if r.group else text


def _range(score: tuple[float, float]) -> str:
    low, high = score
    return f"{low:g}" if low == high else f"[{low:g}, {high:g}]"


# -- checking a job against it --------------------------------------------------------------


def kattis_verdict(verdict: str) -> str:
    """The format's verdict for codeexec's (CE and IE stay as they are)."""
    return TO_KATTIS.get(verdict, verdict)


def final_verdict(job: Mapping[str, Any]) -> str:
    """The job's verdict as the format names it, with codeexec's own when they differ:
    ``RTE (MLE)``."""
    ours = str(job.get("verdict", "IE"))
    theirs = kattis_verdict(ours)
    return theirs if theirs == ours else f"{theirs} ({ours})"


def _in_group(test: Mapping[str, Any], group: str) -> bool | None:
    """Whether a test (named ``sample/1``, ``secret/g1/03``) is in the group glob; None when
    the job does not name it (a hidden test seen without an admin key)."""
    name = test.get("name")
    return matches(group, str(name)) if isinstance(name, str) and name else None


def _name(test: Mapping[str, Any]) -> str:
    return str(test.get("name") or f"test {test.get('position', '?')}")


def check(expected: Expectation, job: Mapping[str, Any]) -> Check:
    """Whether a finished job (as ``GET /api/v1/submissions/{id}`` returns it) is what was
    expected. The caller has set apart jobs the judge failed (IE, not finished)."""
    got = final_verdict(job)
    tests = [t for t in job.get("results") or () if isinstance(t, Mapping)]
    if job.get("verdict") == "CE":
        return Check(False, got, ("it did not compile",), expected.notes)
    if expected.final is not None:
        final = kattis_verdict(str(job.get("verdict")))
        if final == expected.final:
            return Check(True, got, (), expected.notes)
        return Check(False, got, (f"expected the final verdict {expected.final}",), expected.notes)
    reasons: list[str] = []
    unchecked = list(expected.notes)
    blind: list[str] = []
    for r in expected.requirements:
        _requirement(r, tests, job, reasons, unchecked, blind)
    return Check(not reasons, got, tuple(reasons), tuple(unchecked), tuple(blind))


def _requirement(
    r: Requirement,
    tests: list[Mapping[str, Any]],
    job: Mapping[str, Any],
    reasons: list[str],
    unchecked: list[str],
    blind: list[str],
) -> None:
    scope = tests
    if r.group is not None:
        inside = [(t, _in_group(t, r.group)) for t in tests]
        if any(found is None for _, found in inside):
            blind.append(
                f"{r.source}: the server names no hidden test to this key (an admin's does)"
            )
            return
        scope = [t for t, found in inside if found]
        if not scope:
            reasons.append(f"{r.source}: no test is in {r.group}")
            return
    verdicts = [kattis_verdict(str(t.get("verdict"))) for t in scope]
    if r.permitted is not None:
        bad = [(t, v) for t, v in zip(scope, verdicts, strict=True) if v not in r.permitted]
        if bad:
            test, verdict = bad[0]
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            allowed = _order(r.permitted)
            reasons.append(f"{r.source}: {verdict} on {_name(test)}{more}; permitted: {allowed}")
    if r.required is not None and not any(v in r.required for v in verdicts):
        where = f" in {r.group}" if r.group else ""
        reasons.append(f"{r.source}: no test{where} got {_order(r.required)}")
    if r.score is not None and r.group is None:
        score = job.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float):
            unchecked.append(f"{r.source}: the judge gives this problem no score")
        elif not r.score[0] <= score <= r.score[1]:
            reasons.append(f"{r.source}: score {score:g}, expected {_range(r.score)}")
    if r.message is not None:
        feedback = [str(t.get("feedback") or "") for t in scope]
        if any(r.message in text for text in feedback):
            return
        if any(t.get("hidden") is not False for t in scope):
            unchecked.append(
                f"{r.source}: message {r.message!r} not among the sample tests' checker"
                " messages (codeexec keeps no message of a hidden test)"
            )
        else:
            reasons.append(f"{r.source}: no checker message holds {r.message!r}")
