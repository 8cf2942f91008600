"""Piston v2's bodies, for the OpenAPI document. The door checks a request by hand, in
Piston's order with Piston's messages, so ``PistonExecuteIn`` describes what Piston takes;
the answers are checked against these models by the tests (tests/test_openapi.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from codeexec.http.answers import Answer


class PistonFileIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str | None = None
    content: str
    encoding: Literal["utf8", "base64", "hex"] | None = None


# A limit: a number, or any value JavaScript finds false (Piston's default then).
Limit = Annotated[
    float | Literal[False, ""] | None, Field(description="a falsy value: the default")
]


class PistonExecuteIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    language: str = Field(description="a runtime's language or alias")
    version: str = Field(description="a semver range ('*' for any)")
    files: list[PistonFileIn] = Field(min_length=1)
    stdin: str | None = None
    args: list[str] | None = None
    compile_timeout: Limit = None
    run_timeout: Limit = None
    compile_cpu_time: Limit = None
    run_cpu_time: Limit = None
    compile_memory_limit: Limit = None
    run_memory_limit: Limit = None


class PistonRuntime(Answer):
    language: str
    version: str
    aliases: list[str]


class PistonStage(Answer):
    stdout: str
    stderr: str
    output: str
    code: int | None
    signal: str | None
    status: str | None = Field(description="TO, OL, SG, RE, XX or null")
    message: str | None
    cpu_time: int | None
    wall_time: int | None
    memory: int | None


class PistonExecuteOut(Answer):
    compile: PistonStage | None = None
    run: PistonStage
    language: str
    version: str


class PistonError(Answer):
    message: str
