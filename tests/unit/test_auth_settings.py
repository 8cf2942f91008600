"""When authentication is required: on a non-loopback address unless turned off."""

import pytest

from codeexec.config import Settings


@pytest.mark.parametrize(
    ("host", "auth", "required"),
    [
        ("127.0.0.1", "auto", False),
        ("::1", "auto", False),
        ("0.0.0.0", "auto", True),
        ("10.1.2.3", "auto", True),
        ("0.0.0.0", "off", False),
        ("127.0.0.1", "on", True),
    ],
)
def test_auth_required(host: str, auth: str, required: bool) -> None:
    assert Settings(host=host, auth=auth).auth_required is required


def test_empty_secrets_are_unset() -> None:
    settings = Settings(admin_token="", webhook_secret="")
    assert settings.auth.admin_token is None and settings.jobs.webhook_secret is None
