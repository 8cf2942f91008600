"""JUnit XML, as GitLab, Jenkins and GitHub's test-report actions read it.

One ``<testsuite>`` per source and problem (``"<problem>: <source>"``), one ``<testcase>``
per test in the problem's order. A test the program failed (WA, TLE, MLE, OLE, RE) has a
``<failure>``; CE and IE are ``<error>``s: a compile error once, on the first test, the
others ``<skipped>`` (they did not run); a source that could not be graded at all is one
``<testcase>`` named ``grading`` with an ``<error>`` saying why. A shown test's failure
carries an excerpt of its input, expected and actual output; a hidden test's, its verdict
only (``graded.reportable``).

The document is valid against both schemas Jenkins readers use (vendored and checked in
tests/unit/test_grade_formats.py): windyroad's ``JUnit.xsd`` (Apache Ant's format, the
strict one: every suite has ``properties``, ``system-out``, ``system-err``, a timestamp
without a zone, a hostname, ``package`` and ``id``; the root has no attributes; a
testcase has at most one child) and the Jenkins xUnit plugin's ``junit-10.xsd`` (times
with at most three decimals).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from codeexec.grade.graded import (
    ERRORS,
    PASSED,
    Graded,
    clean,
    details,
    excerpt,
    group_text,
    name_of,
    summary,
    time_s,
    verdict_of,
)
from codeexec.model.verdict import Verdict

NOT_RUN = "not run: compilation failed"
SKIPPED = "not run: its group stopped at an earlier rejection (on_reject: break)"
_COMPILE_LINES, _COMPILE_CHARS = 40, 4000  # of a compiler's message


def junit_xml(
    graded: Sequence[Graded], *, hostname: str = "localhost", now: datetime | None = None
) -> bytes:
    """The report, UTF-8 with an XML declaration. ``hostname``: where the tests ran (the
    schema's default is ``localhost``); ``now``: the timestamp of a suite whose job has
    no start time (default: the current time)."""
    root = ET.Element("testsuites")
    for index, one in enumerate(graded):
        root.append(_suite(index, one, hostname, now))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _suite(index: int, g: Graded, hostname: str, now: datetime | None) -> ET.Element:
    classname = f"{_dotless(g.problem)}.{_dotless(g.source)}"
    cases = _cases(g, classname)
    kinds = [case[0].tag if len(case) else "" for case in cases]
    suite = ET.Element(
        "testsuite",
        {
            "name": clean(f"{g.problem}: {g.source}"),
            "timestamp": _timestamp(g, now),
            "hostname": clean(hostname) or "localhost",
            "tests": str(len(cases)),
            "failures": str(kinds.count("failure")),
            "errors": str(kinds.count("error")),
            "skipped": str(kinds.count("skipped")),
            "time": _seconds(g.duration_s),
            "package": clean(g.problem) or "problem",
            "id": str(index),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(g):
        ET.SubElement(properties, "property", {"name": name, "value": clean(value)})
    suite.extend(cases)
    ET.SubElement(suite, "system-out").text = _summary_line(g)
    ET.SubElement(suite, "system-err").text = clean(g.error or "")
    return suite


def _cases(g: Graded, classname: str) -> list[ET.Element]:
    if not g.judged:
        case = _case("grading", classname, 0.0)
        ET.SubElement(case, "error", {"type": g.outcome, "message": clean(g.why_not)})
        return [case]
    assert g.job is not None
    tests = g.results
    compile_failed = g.job.get("verdict") == Verdict.CE.value
    if compile_failed and not tests:  # a problem without tests: the compile step alone
        tests = [{"position": 1, "hidden": False, "verdict": Verdict.CE.value, "name": "compile"}]
    cases = []
    for number, test in enumerate(tests):
        case = _case(name_of(test), classname, time_s(test))
        verdict = verdict_of(test)
        if verdict == Verdict.CE.value and (compile_failed and number > 0):
            ET.SubElement(case, "skipped", {"message": NOT_RUN})
        elif verdict == Verdict.SK.value:
            ET.SubElement(case, "skipped", {"message": SKIPPED})
        elif verdict == Verdict.CE.value:
            compiler = str(g.job.get("compile_output") or "")
            error = ET.SubElement(case, "error", {"type": verdict, "message": summary(test)})
            error.text = excerpt(compiler, _COMPILE_LINES, _COMPILE_CHARS)
        elif verdict not in PASSED:
            kind = "error" if verdict in ERRORS else "failure"
            element = ET.SubElement(case, kind, {"type": verdict, "message": clean(summary(test))})
            element.text = details(test) or None
        cases.append(case)
    return cases


def _case(name: str, classname: str, seconds: float) -> ET.Element:
    return ET.Element(
        "testcase", {"name": name, "classname": clean(classname), "time": _seconds(seconds)}
    )


def _properties(g: Graded) -> list[tuple[str, str]]:
    out = [("problem", g.problem), ("source", g.source), ("language", g.language)]
    if g.job is not None:
        out += [
            (key, str(g.job[key]))
            for key in ("id", "problem_version", "status", "verdict", "score", "max_score")
            if g.job.get(key) is not None
        ]
        # a scoring problem's groups: "group secret/g1" = "30/30 AC"
        out += [
            (f"group {group['name']}", group_text(group)) for group in g.job.get("groups") or []
        ]
    return out


def _summary_line(g: Graded) -> str:
    if not g.judged:
        return clean(f"{g.outcome}: {g.why_not}")
    assert g.job is not None
    tests = g.results
    passed = sum(1 for t in tests if verdict_of(t) in PASSED)
    return clean(f"{g.job.get('verdict')}: {passed} of {len(tests)} tests passed")


def _timestamp(g: Graded, now: datetime | None) -> str:
    """When its job started (else was created, else ``now``), UTC, without a zone: the
    schema's ``YYYY-MM-DDTHH:MM:SS``."""
    for key in ("started_at", "created_at"):
        raw = g.job.get(key) if g.job is not None else None
        if isinstance(raw, str):
            try:
                when = datetime.fromisoformat(raw)
            except ValueError:
                continue
            if when.tzinfo is not None:
                when = when.astimezone(UTC)
            return when.strftime("%Y-%m-%dT%H:%M:%S")
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _dotless(text: str) -> str:
    """Readers split a classname at its last dot (package.Class): ``<problem>.<source>``
    keeps the source's dots out of the way."""
    return text.replace(".", "_")
