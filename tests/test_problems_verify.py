"""``codeexec problems verify`` as a problem setter runs it: the real command in a
subprocess, real Docker, packages with submissions of their own (tests/data/kattis/
verify-*), and ``--server`` against a real service. The expectation rules' details are
tests/unit/test_verify_expectations.py's."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED

pytestmark = pytest.mark.docker

DATA = Path(__file__).parent / "data" / "kattis"
CODEEXEC = [sys.executable, "-m", "codeexec"]


def verify(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CODEEXEC, "problems", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | (env or {}),
    )


def copy_with(tmp_path: Path, source: str, keep: dict[str, str]) -> Path:
    """A copy of a test package with only the submissions ``keep`` (new path → its path in
    the package), so a test runs few of them."""
    package = tmp_path / source
    shutil.copytree(DATA / source, package, ignore=shutil.ignore_patterns("submissions"))
    for new, old in keep.items():
        target = package / "submissions" / new
        target.parent.mkdir(parents=True, exist_ok=True)
        original = DATA / source / "submissions" / old
        if original.is_dir():
            shutil.copytree(original, target)
        else:
            shutil.copyfile(original, target)
    return package


def test_a_legacy_package_whose_submissions_all_agree_exits_0(tmp_path: Path) -> None:
    done = verify(DATA / "verify-sum", "--json", tmp_path / "r.json", "--jobs", "3")
    assert done.returncode == 0, (done.stdout, done.stderr)
    expected = {
        "accepted/sum.py": "AC", "accepted/sum.c": "AC", "accepted/sum_cpp": "AC",
        "wrong_answer/minus.py": "WA", "wrong_answer/overflow.c": "WA",
        "time_limit_exceeded/spin.py": "TLE", "time_limit_exceeded/count.cpp": "TLE",
        "run_time_error/crash.py": "RTE", "run_time_error/null.c": "RTE",
    }  # fmt: skip
    for path, verdict in expected.items():
        line = next(line for line in done.stdout.splitlines() if f" {path} " in line)
        assert line.startswith("✓") and f"expected {verdict}" in line, line
    assert "verify-sum: 9 submissions: 9 agree" in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["exit_status"] == 0 and report["agree"] is True
    (package,) = report["packages"]
    assert package["layout"] == "legacy" and package["problem"] == "verify-sum"
    got = {s["path"]: s["got"] for s in package["submissions"]}
    assert got == {**expected, "run_time_error/crash.py": "RTE (RE)",
                   "run_time_error/null.c": "RTE (RE)"}  # fmt: skip
    overflow = next(s for s in package["submissions"] if s["path"] == "wrong_answer/overflow.c")
    assert [t["verdict"] for t in overflow["tests"]] == ["AC", "AC", "WA"]
    assert [t["name"] for t in overflow["tests"]] == ["sample/1", "secret/1", "secret/2"]


def test_a_submission_in_the_wrong_folder_exits_1_naming_it(tmp_path: Path) -> None:
    package = copy_with(
        tmp_path, "verify-sum",
        {"accepted/sum.py": "accepted/sum.py", "accepted/minus.py": "wrong_answer/minus.py",
         "run_time_error/overflow.c": "wrong_answer/overflow.c"},
    )  # fmt: skip
    done = verify(package, "--json", "-")
    assert done.returncode == 1, (done.stdout, done.stderr)
    lines = done.stderr.splitlines()  # --json -: the JSON on stdout, the lines on stderr
    minus = next(i for i, line in enumerate(lines) if " accepted/minus.py " in line)
    assert lines[minus].startswith("✗") and "expected AC" in lines[minus]
    assert "got WA" in lines[minus] and "expected the final verdict AC" in lines[minus + 1]
    assert "tests: sample/1 WA, secret/1 WA, secret/2 WA" in lines[minus + 2]
    assert any(line.startswith("✗ run_time_error/overflow.c") for line in lines)
    assert any(line.startswith("✓ accepted/sum.py") for line in lines)
    assert "2 disagree (accepted/minus.py, run_time_error/overflow.c)" in done.stderr
    report = json.loads(done.stdout)
    statuses = {s["path"]: s["status"] for s in report["packages"][0]["submissions"]}
    assert statuses == {"accepted/sum.py": "agree", "accepted/minus.py": "disagree",
                        "run_time_error/overflow.c": "disagree"}  # fmt: skip


def test_a_2025_09_package_with_submissions_yaml(tmp_path: Path) -> None:
    done = verify(DATA / "verify-groups", "--json", tmp_path / "r.json", "--jobs", "3")
    assert done.returncode == 0, (done.stdout, done.stderr)
    report = json.loads((tmp_path / "r.json").read_text())
    (package,) = report["packages"]
    assert package["layout"] == "2025-09"
    by_path = {s["path"]: s for s in package["submissions"]}
    assert {p: s["status"] for p, s in by_path.items()} == {
        "accepted/sum.py": "agree", "accepted/sum.rkt": "skipped", "rejected/minus.py": "agree",
        "wrong_answer/overflow.c": "agree", "brute_force/count.cpp": "agree",
        "run_time_error/crash.py": "agree", "time_limit_exceeded/spin.py": "agree",
        "easy_only/small.py": "agree",
    }  # fmt: skip
    assert by_path["accepted/sum.rkt"]["reasons"] == ["no language has the extension .rkt"]
    assert by_path["easy_only/small.py"]["expected"] == (
        "sample: AC + secret/easy: AC + secret/hard: some WA"
    )
    assert by_path["brute_force/count.cpp"]["tests"][-1] == {
        **by_path["brute_force/count.cpp"]["tests"][-1], "name": "secret/hard/1", "verdict": "TLE"
    }  # fmt: skip
    assert "8 submissions: 7 agree, 1 skipped" in done.stdout


def test_groups_disagree_when_a_submission_breaks_them(tmp_path: Path) -> None:
    """The same program moved where its groups' rules do not hold."""
    package = copy_with(tmp_path, "verify-groups", {"easy_only/small.py": "accepted/sum.py"})
    yaml = (DATA / "verify-groups" / "submissions" / "submissions.yaml").read_text()
    (package / "submissions" / "submissions.yaml").write_text(yaml)
    done = verify(package)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "✗ easy_only/small.py" in done.stdout
    assert "submissions.yaml easy_only, secret/hard: no test in secret/hard got WA" in done.stdout


async def test_verify_against_a_server_that_has_the_problem(
    service: Callable[..., Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    package = copy_with(
        tmp_path, "verify-groups",
        {"accepted/sum.py": "accepted/sum.py", "rejected/minus.py": "rejected/minus.py",
         "easy_only/small.py": "easy_only/small.py"},
    )  # fmt: skip
    (package / "submissions" / "submissions.yaml").write_text(
        (DATA / "verify-groups" / "submissions" / "submissions.yaml").read_text()
    )
    imported = await asyncio.to_thread(
        subprocess.run,
        [*CODEEXEC, "problems", "import", str(package), "--id", "sums"],
        capture_output=True, text=True, timeout=120,
        env=os.environ | {"CODEEXEC_DATABASE_URL": database_url},
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    client = await service(
        database_url=database_url, admin_token="verify-admin", host="127.0.0.1",
        seed_demo_problems=False,
    )  # fmt: skip
    url = f"http://127.0.0.1:{client.server.port}"
    # The service runs on this test's event loop: the command runs in a thread beside it.
    admin = await asyncio.to_thread(
        verify, package, "--server", url, "--token", "verify-admin", "--id", "sums"
    )
    assert admin.returncode == 0, (admin.stdout, admin.stderr)
    assert "3 submissions: 3 agree" in admin.stdout
    made = await client.post(
        "/api/v1/keys", json={"name": "ci", "role": "submitter"},
        headers={"Authorization": "Bearer verify-admin"},
    )  # fmt: skip
    token = (await made.json())["token"]
    # A submitter's key: verdicts, but no hidden test's name, so group rules are unchecked.
    submitter = await asyncio.to_thread(
        verify, package, "--server", url, "--id", "sums", env={"CODEEXEC_TOKEN": token}
    )
    assert submitter.returncode == 0, (submitter.stdout, submitter.stderr)
    assert "- easy_only/small.py" in submitter.stdout and "admin" in submitter.stdout
    assert "3 submissions: 2 agree, 1 skipped" in submitter.stdout
    missing = await asyncio.to_thread(verify, package, "--server", url, "--token", token)
    assert missing.returncode == 2 and "no problem 'verify-groups'" in missing.stdout


@pytest.mark.parametrize("name", ["hello", "different"])
def test_a_package_without_submissions_exits_2(name: str) -> None:
    done = verify(SHARED / "testdata" / "kattis" / name)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert f"{name}: not verified: no submissions: nothing to verify" in done.stdout


def test_skipped_submissions_fail_only_when_strict(tmp_path: Path) -> None:
    """Nothing here runs (--filter leaves the one that would out), so no sandbox starts."""
    package = copy_with(
        tmp_path, "verify-groups",
        {"accepted/sum.rkt": "accepted/sum.rkt", "rejected/minus.py": "rejected/minus.py"},
    )  # fmt: skip
    lenient = verify(package, "--filter", r"\.rkt$")
    strict = verify(package, "--filter", r"\.rkt$", "--strict")
    assert lenient.returncode == 0 and strict.returncode == 1, (lenient, strict)
    assert "- accepted/sum.rkt" in lenient.stdout and "skipped: no language" in lenient.stdout
    assert "minus.py" not in lenient.stdout and "starting sandboxes" not in lenient.stdout
    assert "1 submission: 0 agree, 1 skipped" in lenient.stdout


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["--jobs", "0"], "--jobs must be at least 1", 2),
        (["--id", "x"], "--id goes with --server", 2),
        (["--server", "ftp://x"], "an http(s) URL", 2),
        (["--filter", "zzz"], "no submission's path matches --filter 'zzz'", 2),
        (["--filter", "("], "not a regular expression", 2),
        (["--server", "http://127.0.0.1:9"], "127.0.0.1:9", 3),
    ],
)
def test_usage_and_unreachable_servers(args: list[str], message: str, status: int) -> None:
    done = verify(DATA / "verify-sum", *args)
    assert done.returncode == status, (done.stdout, done.stderr)
    assert message in done.stdout + done.stderr


def test_a_broken_submissions_yaml_exits_2(tmp_path: Path) -> None:
    package = copy_with(tmp_path, "verify-groups", {"accepted/sum.py": "accepted/sum.py"})
    (package / "submissions" / "submissions.yaml").write_text("accepted:\n  permitted: [OK]\n")
    done = verify(package, tmp_path / "nope")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "unknown verdicts ['OK']" in done.stdout
    assert "nope: not verified: no such package" in done.stdout


def test_an_archive_of_interactive_and_scoring_problems_verifies_whole(tmp_path: Path) -> None:
    """Issue 20's test of done: a contest's archive (a folder of packages: an interactive
    problem with a Python interactor, one with a C++ interactor, a scoring problem) —
    every example submission gets what its folder says."""
    contest = tmp_path / "contest"
    for name in ("guess", "guess-legacy", "scoring-triangle"):
        shutil.copytree(DATA / name, contest / name)
    done = verify(contest, "--json", tmp_path / "r.json", "--jobs", "3")
    assert done.returncode == 0, (done.stdout, done.stderr)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["agree"] is True
    counts = {Path(p["package"]).name: len(p["submissions"]) for p in report["packages"]}
    assert counts == {"guess": 6, "guess-legacy": 4, "scoring-triangle": counts["scoring-triangle"]}
    assert counts["scoring-triangle"] >= 3
    assert all(p["exit_status"] == 0 for p in report["packages"])
