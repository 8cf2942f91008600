"""docker-compose.yml: the default stack is the database and one service that judges;
the ``workers`` profile adds an API that judges nothing and two job workers, each with
an instance name of its own (they share one Docker engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def test_the_default_stack_is_the_database_and_one_judging_service() -> None:
    default = {name for name, s in services().items() if not s.get("profiles")}
    assert default == {"mysql", "codeexec"}
    assert "command" not in services()["codeexec"]  # the image's: codeexec serve


def test_the_workers_profile_is_one_api_and_two_workers() -> None:
    profile = {name: s for name, s in services().items() if "workers" in s.get("profiles", [])}
    assert set(profile) == {"api", "worker-1", "worker-2"}
    assert profile["api"]["command"] == ["codeexec", "serve", "--no-workers"]
    instances = set()
    for name in ("worker-1", "worker-2"):
        worker = profile[name]
        assert worker["command"][:2] == ["codeexec", "worker"]
        assert "/var/run/docker.sock:/var/run/docker.sock" in worker["volumes"]
        assert (
            worker["environment"]["CODEEXEC_DATABASE_URL"]
            == (profile["api"]["environment"]["CODEEXEC_DATABASE_URL"])
        )
        instances.add(worker["environment"]["CODEEXEC_INSTANCE_NAME"])
    assert len(instances) == 2  # each removes only its own stray containers
    assert "docker.sock" not in str(profile["api"].get("volumes", []))  # no Docker
