import pytest
from pydantic import ValidationError

from codeexec.config import Settings


def test_environment_variables_configure_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_PORT", "9000")
    monkeypatch.setenv("CODEEXEC_SCREENING_PYTHON", "eval, os.system")
    settings = Settings()
    assert settings.port == 9000
    assert settings.screening_python == ("eval", "os.system")


def test_an_empty_screening_list_allows_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_SCREENING_PYTHON", "")
    assert Settings().screening_python == ()


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_problem_limits_are_clamped_to_server_maximums() -> None:
    settings = Settings(max_time_limit_ms=5000, default_time_limit_ms=1000)
    assert settings.clamp_time_ms(None) == 1000
    assert settings.clamp_time_ms(60_000) == 5000


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEEXEC_PORT", "not-a-port")
    with pytest.raises(ValidationError):
        Settings()
