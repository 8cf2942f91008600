"""The Piston door's mapping, without a service: version lines and ranges, file
encodings, a request's checks in Piston's order and wording, and how a run's outcome
is reported (codeexec/http/compat/piston.py)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from codeexec.config import Settings
from codeexec.http.compat.piston import (
    MAX_VERSION_CHARS,
    UNKNOWN_VERSION,
    NotReady,
    PistonError,
    configured_limits,
    decode_content,
    execute_of,
    find_runtime,
    has_compile_stage,
    outcome_of,
    response_of,
    runtimes_of,
    semver_of,
    signal_name,
    version_matches,
)
from codeexec.http.runs_view import RunSummary
from codeexec.model import Output, Result, TestReport, Verdict
from codeexec.sandbox.languages import discover_languages

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = discover_languages(ROOT / "codeexec/languages", ("python", "c", "bash"))
VERSIONS = {"python": "Python 3.11.2", "c": "gcc (Debian 12.2.0-14+deb12u1) 12.2.0"}
RUNTIMES = runtimes_of(LANGUAGES.values(), VERSIONS)
LIMITS = Settings(max_time_limit_ms=20_000, max_memory_limit_mb=2048).limits
HELLO = [{"name": "main.py", "content": "print('hi')"}]
HELLO_C = {"name": "main.c", "content": "int main(void) { return 0; }"}


def execute(**body: Any) -> Any:
    body.setdefault("language", "python")
    body.setdefault("version", "*")
    body.setdefault("files", HELLO)
    return execute_of(body, RUNTIMES, LIMITS)


def refused(**body: Any) -> str:
    with pytest.raises(PistonError) as raised:
        execute(**body)
    return str(raised.value)


# -- runtimes and versions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "version"),
    [
        ("Python 3.11.2", "3.11.2"),
        ("gcc (Debian 12.2.0-14+deb12u1) 12.2.0", "12.2.0"),
        ("go version go1.19.8 linux/amd64", "1.19.8"),
        ("GNU bash, version 5.2.15(1)-release (x86_64-pc-linux-gnu)", "5.2.15"),
        ("Mono JIT compiler version 6.8.0.105 (Debian 6.8.0.105+dfsg-3.3)", "6.8.0"),
        ('openjdk version "17.0.21.1" 2026-11-17', "17.0.21"),
        ("kotlinc-jvm 1.3-SNAPSHOT (JRE 17.0.21.1+2-1-deb12u1-Debian)", "1.3.0"),
        ("ruby 3.1.2p20 (2022-04-12 revision 4491bb740a)", "3.1.2"),
        ("v18.20.4", "18.20.4"),
        ("Lua 5.4.4  Copyright (C) 1994-2022 Lua.org, PUC-Rio", "5.4.4"),
        ("version 07.010", "7.10.0"),
        ("release 9", "9.0.0"),
        ("no number here", UNKNOWN_VERSION),
        ("", UNKNOWN_VERSION),
        (None, UNKNOWN_VERSION),
    ],
)
def test_a_version_line_becomes_semver(line: str | None, version: str) -> None:
    assert semver_of(line) == version


def test_runtimes_list_the_first_name_and_the_aliases() -> None:
    listed = {rt.name: rt.as_json() for rt in RUNTIMES}
    assert listed["python"] == {
        "language": "python",
        "version": "3.11.2",
        "aliases": ["python3", "py", "py3"],
    }
    assert listed["c"] == {"language": "c", "version": "12.2.0", "aliases": ["gcc"]}
    assert listed["bash"]["version"] == UNKNOWN_VERSION  # no version known


@pytest.mark.parametrize(
    ("wanted", "matches"),
    [
        ("*", True),
        ("x", True),
        ("3.x", True),
        ("3.X", True),
        ("3", True),
        ("3.11", True),
        ("3.11.x", True),
        ("3.11.2", True),
        ("=3.11.2", True),
        ("v3.11.2", True),
        ("^3", True),
        ("^3.10", True),
        ("~3.11", True),
        ("~3.11.0", True),
        (">=3.8 <4", True),
        ("3.8 - 3.12", True),
        ("2.x || 3.x", True),
        ("3.10.0", False),
        ("~3.10", False),
        ("<3", False),
        (">3.11.2", False),
        ("2.x", False),
        ("latest", False),
        ("3.11.2.1", False),
        ("==3.11.2", False),
        (" " * 5000 + "3", False),  # never parsed: longer than npm's limit
    ],
)
def test_version_ranges_are_read_as_npm_semver_reads_them(wanted: str, matches: bool) -> None:
    assert version_matches("3.11.2", wanted) is matches


def test_a_range_at_npms_length_limit_is_still_read() -> None:
    assert version_matches("3.11.2", "3.11.2" + " " * (MAX_VERSION_CHARS - 6))


def test_a_runtime_is_found_by_name_or_alias_and_version() -> None:
    for name in ("python", "python3", "py", "py3"):
        found = find_runtime(RUNTIMES, name, "3.x")
        assert found is not None and found.language.id == "python"
    assert find_runtime(RUNTIMES, "gcc", "12") is not None
    assert find_runtime(RUNTIMES, "python", "2.7") is None
    assert find_runtime(RUNTIMES, "Python", "*") is None  # names are exact, as in Piston


# -- files -------------------------------------------------------------------------------


def test_contents_decode_from_each_encoding() -> None:
    text = "print('é')\n"
    assert decode_content(text, "utf8", "files[0]") == text
    encoded = base64.b64encode(text.encode()).decode()
    assert decode_content(encoded, "base64", "files[0]") == text
    wrapped = encoded[:8] + "\n" + encoded[8:].rstrip("=")  # a line break, no padding
    assert decode_content(wrapped, "base64", "files[0]") == text
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff?").decode()
    assert "-" in urlsafe or "_" in urlsafe
    with pytest.raises(PistonError, match="UTF-8"):  # the bytes are fine; text they are not
        decode_content(urlsafe, "base64", "files[0]")
    assert decode_content(text.encode().hex(), "hex", "files[0]") == text
    assert decode_content(text.encode().hex().upper(), "hex", "files[0]") == text


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("not base64!", "base64", "files[0].content is not valid base64"),
        ("YWJj$", "base64", "files[0].content is not valid base64"),
        ("abc", "hex", "files[0].content is not valid hex"),
        ("zz", "hex", "files[0].content is not valid hex"),
        ("ff", "hex", "files[0].content does not decode to UTF-8 text"),
        (base64.b64encode(b"\x80").decode(), "base64", "does not decode to UTF-8"),
    ],
)
def test_bad_encodings_are_refused(content: str, encoding: str, message: str) -> None:
    with pytest.raises(PistonError, match=message.replace("[", r"\[").replace("]", r"\]")):
        decode_content(content, encoding, "files[0]")


def test_the_first_utf8_file_is_the_entry() -> None:
    data = base64.b64encode(b"VALUE = 1\n").decode()
    asked = execute(
        files=[
            {"name": "data.py", "content": data, "encoding": "base64"},
            {"name": "app.py", "content": "import data"},
            {"name": "other.py", "content": "x = 2"},
        ]
    ).run
    assert asked.entry_point == "app.py"
    assert [(f.name, f.content) for f in asked.files] == [
        ("data.py", "VALUE = 1\n"),
        ("app.py", "import data"),
        ("other.py", "x = 2"),
    ]


def test_unnamed_files_are_named_as_piston_names_them() -> None:
    asked = execute(files=[{"content": "a"}, {"name": "", "content": "b"}]).run
    assert [f.name for f in asked.files] == ["file0.code", "file1.code"]
    assert asked.entry_point == "file0.code"


def test_a_language_that_compiles_every_source_gets_its_entry_as_a_source() -> None:
    unnamed = execute(language="c", files=[{"content": "int main(){}"}]).run
    assert [f.name for f in unnamed.files] == ["main.c"] and unnamed.entry_point == "main.c"
    clash = execute(language="c", files=[{"name": "x", "content": "1"}, HELLO_C])
    assert [f.name for f in clash.run.files] == ["x.c", "main.c"]
    named = execute(language="c", files=[{"name": "prog.c", "content": "int main(){}"}])
    assert [f.name for f in named.run.files] == ["prog.c"]


def test_stdin_ends_with_a_newline_and_args_pass_through() -> None:
    assert execute().run.stdin == b"\n"
    assert execute(stdin="a").run.stdin == b"a\n"
    assert execute(stdin="a\n").run.stdin == b"a\n"
    assert execute(args=["1", "two words"]).run.args == ("1", "two words")


# -- limits ------------------------------------------------------------------------------


def test_limits_map_to_the_run_in_codeexecs_units() -> None:
    run = execute(run_timeout=1500.2, run_cpu_time=1000, run_memory_limit=100_000_000).run
    assert (run.wall_time_limit_ms, run.time_limit_ms, run.memory_limit_mb) == (1501, 1000, 96)
    defaults = execute(
        run_timeout=0, compile_timeout=None, run_memory_limit=-1, compile_memory_limit=-1
    ).run
    assert (defaults.wall_time_limit_ms, defaults.time_limit_ms, defaults.memory_limit_mb) == (
        None,
        None,
        None,
    )


def test_clients_default_compile_timeout_is_accepted_for_every_language() -> None:
    assert LANGUAGES["bash"].compile_limits.time_ms == 5000
    bash = execute(language="bash", files=[{"content": "echo hi"}], compile_timeout=10_000)
    assert bash.run.language == "bash"
    assert refused(language="bash", files=[{"content": "x"}], compile_cpu_time=10_001).startswith(
        "compile_cpu_time cannot exceed the configured limit of 10000"
    )


def test_the_configured_limits_are_the_servers_maxima_and_the_compile_limits() -> None:
    configured = configured_limits(LANGUAGES["c"], LIMITS)
    assert configured == {
        "compile_memory_limit": 512 * 1024 * 1024,
        "compile_timeout": 15_000,
        "compile_cpu_time": 15_000,
        "run_memory_limit": 2048 * 1024 * 1024,
        "run_timeout": 40_000,
        "run_cpu_time": 20_000,
    }


# -- refusals, in Piston's order and words ------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"language": None}, "language is required as a string"),
        ({"language": ""}, "language is required as a string"),
        ({"language": 3}, "language is required as a string"),
        ({"version": None}, "version is required as a string"),
        ({"version": 3.11}, "version is required as a string"),
        ({"files": None}, "files is required as an array"),
        ({"files": "print(1)"}, "files is required as an array"),
        ({"files": [{"name": "a.py"}]}, "files[0].content is required as a string"),
        ({"files": [{"content": "x"}, "y"]}, "files[1].content is required as a string"),
        ({"language": "cobol"}, "cobol-* runtime is unknown"),
        ({"version": "2.x"}, "python-2.x runtime is unknown"),
        ({"files": []}, "files must include at least one utf8 encoded file"),
        (
            {"files": [{"content": "eA==", "encoding": "base64"}]},
            "files must include at least one utf8 encoded file",
        ),
        ({"files": [{"content": "x", "encoding": "utf16"}]}, "files[0].encoding must be one of"),
        ({"files": [{"content": "x", "name": 7}]}, "files[0].name must be a string"),
        ({"run_timeout": "3000"}, "If specified, run_timeout must be a number"),
        ({"run_memory_limit": True}, "If specified, run_memory_limit must be a number"),
        (
            {"compile_timeout": 10_001},
            "compile_timeout cannot exceed the configured limit of 10000",
        ),
        ({"run_timeout": 40_001}, "run_timeout cannot exceed the configured limit of 40000"),
        ({"run_cpu_time": 20_001}, "run_cpu_time cannot exceed the configured limit of 20000"),
        (
            {"run_memory_limit": 2048 * 1024 * 1024 + 1},
            "run_memory_limit cannot exceed the configured limit of 2147483648",
        ),
        ({"run_timeout": -1}, "run_timeout must be non-negative"),
        ({"run_memory_limit": -2}, "run_memory_limit must be non-negative"),
        ({"run_memory_limit": 1_000_000}, "run_memory_limit must be at least 8388608"),
        ({"stdin": ["a"]}, "stdin must be a string"),
        ({"args": "a b"}, "args must be an array of strings"),
        ({"args": [1, 2]}, "args must be an array of strings"),
        ({"args": ["a\0b"]}, "args: an argument cannot contain a NUL character"),
    ],
)
def test_bad_requests_are_refused_with_pistons_message(body: dict[str, Any], message: str) -> None:
    assert refused(**body).startswith(message)


def test_the_first_failing_check_is_reported_as_piston_orders_them() -> None:
    both = refused(compile_memory_limit="x", run_timeout="y")  # memory limits come first
    assert both == "If specified, compile_memory_limit must be a number"
    assert refused(language="cobol", files="x") == "files is required as an array"


def test_a_body_that_is_not_an_object_has_no_language() -> None:
    with pytest.raises(PistonError, match="language is required"):
        execute_of([1, 2], RUNTIMES, LIMITS)


def test_unknown_fields_are_ignored_as_piston_ignores_them() -> None:
    assert execute(timeout=5, compile_cpu_time=100).run.language == "python"


def test_a_language_being_prepared_is_not_ready_rather_than_unknown() -> None:
    body = {"language": "rust", "version": "*", "files": HELLO}
    with pytest.raises(NotReady, match="being prepared"):
        execute_of(body, RUNTIMES, LIMITS, lambda name: "building" if name == "rust" else None)


# -- what a run did ----------------------------------------------------------------------


def test_signal_names_are_pistons() -> None:
    assert [signal_name(n) for n in (None, 1, 6, 9, 11, 15, 31)] == [
        None,
        "SIGHUP",
        "SIGABRT",
        "SIGKILL",
        "SIGSEGV",
        "SIGTERM",
        "SIGSYS",
    ]
    assert [signal_name(n) for n in (34, 35, 49, 50, 63, 64)] == [
        "SIGRTMIN",
        "SIGRTMIN+1",
        "SIGRTMIN+15",
        "SIGRTMAX-14",
        "SIGRTMAX-1",
        "SIGRTMAX",
    ]
    assert [signal_name(n) for n in (0, 32, 33, 65)] == [None, None, None, None]


def report(
    verdict: Verdict, exit_code: int | None = 0, signal: int | None = None, **kw: Any
) -> TestReport:
    values: dict[str, Any] = {
        "position": 1,
        "hidden": False,
        "verdict": verdict,
        "name": None,
        "time_ms": 12,
        "wall_ms": 30,
        "memory_kb": 2048,
        "exit_code": exit_code,
        "signal": signal,
        "shown": None,
        "output": Output(b"out\n", b"err\n"),
    }
    return TestReport(**(values | kw))


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        (report(Verdict.AC), (0, None, None, None)),
        (report(Verdict.RE, 3), (3, None, "RE", "Exited with error status 3")),
        (report(Verdict.RE, None, 6), (None, "SIGABRT", "SG", "Caught fatal signal 6")),
        (report(Verdict.TLE, None, 9), (None, "SIGKILL", "TO", "Time limit exceeded")),
        (report(Verdict.OLE, None, 9), (None, "SIGKILL", "OL", "stdout length exceeded")),
        (report(Verdict.MLE, None, 9), (None, "SIGKILL", "SG", "Memory limit exceeded")),
        (report(Verdict.MLE, None, None), (None, "SIGKILL", "SG", "Memory limit exceeded")),
        (report(Verdict.MLE, 1), (1, None, "RE", "Exited with error status 1")),
        (
            report(Verdict.IE, None),
            (None, None, "XX", "Internal error: the run could not be completed"),
        ),
    ],
)
def test_outcomes_are_worded_as_piston_words_them(
    test: TestReport, expected: tuple[Any, ...]
) -> None:
    got = outcome_of(test)
    assert (got["code"], got["signal"], got["status"], got["message"]) == expected


def summary(verdict: Verdict, compile_output: str = "", **kw: Any) -> RunSummary:
    test = report(Verdict.CE if verdict == Verdict.CE else verdict, **kw)
    return RunSummary.of(Result(1, verdict, verdict == Verdict.AC, compile_output, (test,)))


def runtime(name: str) -> Any:
    return next(rt for rt in RUNTIMES if rt.name == name)


def test_a_run_answers_in_pistons_shape() -> None:
    answer = response_of(runtime("python"), summary(Verdict.AC))
    assert answer == {
        "run": {
            "stdout": "out\n",
            "stderr": "err\n",
            "output": "out\nerr\n",
            "code": 0,
            "signal": None,
            "status": None,
            "message": None,
            "cpu_time": 12,
            "wall_time": 30,
            "memory": 2048 * 1024,
        },
        "language": "python",
        "version": "3.11.2",
    }
    compiled = response_of(runtime("c"), summary(Verdict.AC))
    assert compiled["compile"]["code"] == 0 and compiled["compile"]["output"] == ""
    assert compiled["run"]["stdout"] == "out\n"


def test_a_compile_error_is_the_compile_stage_and_the_run_stage() -> None:
    answer = response_of(runtime("c"), summary(Verdict.CE, "main.c:1: error: x"))
    assert answer["compile"]["stderr"] == answer["compile"]["output"] == "main.c:1: error: x"
    assert (answer["compile"]["code"], answer["compile"]["status"]) == (1, "RE")
    assert answer["run"] == answer["compile"]  # Piston: run = compile when run never started
    timed_out = response_of(
        runtime("c"), summary(Verdict.CE, "Compilation exceeded its time limit\nx")
    )
    assert (timed_out["compile"]["code"], timed_out["compile"]["signal"]) == (None, "SIGKILL")
    assert timed_out["compile"]["status"] == "TO"


def test_a_compile_stage_is_shown_where_pistons_package_has_one() -> None:
    assert has_compile_stage(runtime("c"))
    assert not has_compile_stage(runtime("python"))  # no compile step
    assert LANGUAGES["bash"].compile is not None  # bash -n: a check Piston does not make
    assert not has_compile_stage(runtime("bash"))
    answer = response_of(runtime("bash"), summary(Verdict.CE, "main.sh: syntax error"))
    assert "compile" not in answer and answer["run"]["stderr"] == "main.sh: syntax error"


def test_an_interpreted_languages_syntax_error_is_its_run_failing() -> None:
    answer = response_of(runtime("python"), summary(Verdict.CE, "SyntaxError: invalid syntax"))
    assert "compile" not in answer
    assert answer["run"]["stderr"] == "SyntaxError: invalid syntax"
    assert (answer["run"]["code"], answer["run"]["stdout"]) == (1, "")
