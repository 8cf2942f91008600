import os
import re
import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from codeexec.config import GROUPS, OWNERS, ProcessSettings, Settings


def test_environment_variables_configure_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_PORT", "9000")
    monkeypatch.setenv("CODEEXEC_SCREENING_PYTHON", "eval, os.system")
    settings = Settings()
    assert settings.http.port == 9000
    assert settings.screening.screening_python == ("eval", "os.system")


def test_an_empty_screening_list_allows_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_SCREENING_PYTHON", "")
    assert Settings().screening.screening_python == ()


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.http.port = 1  # type: ignore[misc]


def test_problem_limits_are_clamped_to_server_maximums() -> None:
    settings = Settings(max_time_limit_ms=5000, default_time_limit_ms=1000)
    assert settings.limits.clamp_time_ms(None) == 1000
    assert settings.limits.clamp_time_ms(60_000) == 5000


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_PORT", "not-a-port")
    with pytest.raises(ValidationError):
        Settings()


def test_flat_names_go_to_their_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_POOL_SIZE", "5")
    monkeypatch.setenv("CODEEXEC_AUTH", "on")
    monkeypatch.setenv("CODEEXEC_INSTANCE_NAME", "from-env")
    settings = Settings(port=9001, languages="python, c", job_workers=3, log_level="DEBUG")
    assert settings.http.port == 9001 and settings.sandbox.languages == ("python", "c")
    assert settings.sandbox.pool_size == 5 and settings.auth.auth == "on"
    assert settings.workers == 3 and settings.jobs.job_workers == 3
    assert settings.instance_name == "from-env" and settings.log_level == "DEBUG"
    assert Settings(pool_size=0).sandbox.pool_size == 0  # a keyword wins over the variable


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(TypeError, match="pool_sise"):
        Settings(pool_sise=0)
    with pytest.raises(TypeError, match="'http'"):  # groups are not settings
        Settings(http={"port": 1})


def test_every_invalid_value_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_PORT", "not-a-port")
    with pytest.raises(ValidationError) as raised:
        Settings(pool_size=-1, batch_max=0)
    assert {e["loc"] for e in raised.value.errors()} == {("port",), ("pool_size",), ("batch_max",)}


def test_groups_and_settings_agree() -> None:
    groups = {group for group in GROUPS if group is not None}
    assert set(Settings.model_fields) == groups | set(ProcessSettings.model_fields)
    assert len(OWNERS) == 80  # one name each, from CODEEXEC_<NAME>


def _documented() -> dict[str, set[str]]:
    """README.md's configuration: each group's heading and the variables it lists
    (``CODEEXEC_A_B`` / ``_C``: the second is the setting named ``A_C`` or ``C``)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names = {f"CODEEXEC_{name.upper()}" for name in OWNERS}
    found: dict[str, set[str]] = {}
    for part in section.split("\n### ")[1:]:
        heading, _, table = part.partition("\n")
        group = re.fullmatch(r".* \(`settings(?:\.(\w+))?`\)", heading)
        assert group is not None, heading
        listed = found.setdefault(group[1] or "", set())
        for row in re.findall(r"^\| (`CODEEXEC_.*?) \|", table, re.M):
            first, *more = re.findall(r"`(\w+)`", row)
            listed.add(first)
            for suffix in more:
                cut = [first[: i + 1] + suffix[1:] for i, c in enumerate(first) if c == "_"]
                (name,) = names.intersection(cut)
                listed.add(name)
    return found


def test_the_readme_lists_every_setting_under_its_group() -> None:
    expected = {
        group or "": {f"CODEEXEC_{name.upper()}" for name in cls.model_fields}
        for group, cls in GROUPS.items()
    }
    documented = _documented()
    assert list(documented) == list(expected)  # in the same order
    assert documented == expected


def test_a_worker_is_named_by_its_host_and_process_unless_named() -> None:
    assert Settings().worker == f"{socket.gethostname()}:{os.getpid()}"
    assert Settings(worker_name="").worker == f"{socket.gethostname()}:{os.getpid()}"
    assert Settings(worker_name="rack-2").worker == "rack-2"
