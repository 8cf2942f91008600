"""Judge0 CE 1.13.1's bodies, for the OpenAPI document. The door checks requests by
hand, as Judge0 does (Rails-style 422 messages, numbers given as strings accepted), so
``Judge0SubmissionIn`` describes what Judge0 takes rather than validating it; the answers are
checked against these models by the tests (tests/test_openapi.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from codeexec.http.answers import Answer

Number = float | str  # Judge0 takes numbers or numeric strings
# A flag: any value, cast as Rails casts a boolean (null and "" are absent).
Flag = Annotated[Any, Field(description='any value: false, 0, "0", "f", "false", "off" are false')]


class _Judge0In(BaseModel):
    model_config = ConfigDict(extra="allow")


class Judge0SubmissionIn(_Judge0In):
    """A submission: text fields in base64 with ``?base64_encoded=true``."""

    source_code: str
    language_id: int | str = Field(description="Judge0's language id (GET /languages)")
    stdin: str | None = None
    expected_output: str | None = None
    cpu_time_limit: Number | None = None
    cpu_extra_time: Number | None = None
    wall_time_limit: Number | None = None
    memory_limit: Number | None = None
    stack_limit: Number | None = None
    max_processes_and_or_threads: Number | None = None
    enable_per_process_and_thread_time_limit: Flag = None
    enable_per_process_and_thread_memory_limit: Flag = None
    max_file_size: Number | None = None
    number_of_runs: Number | None = None
    redirect_stderr_to_stdout: Flag = None
    command_line_arguments: str | None = None
    compiler_options: Any = Field(
        None, description="not allowed: any value Rails finds present is a 422"
    )
    callback_url: str | None = None
    additional_files: str | None = Field(None, description="a base64 zip")
    enable_network: Flag = None


class Judge0BatchIn(_Judge0In):
    submissions: list[Judge0SubmissionIn] = Field(min_length=1)


class Judge0Status(Answer):
    id: int
    description: str


class Judge0Language(Answer):
    id: int
    name: str


class Judge0Submission(Answer):
    """A submission: the fields ``?fields=`` asks for (default: token, time, memory,
    stdout, stderr, compile_output, message, status)."""

    model_config = ConfigDict(extra="forbid", strict=False)

    source_code: str | None = None
    language_id: int | None = None
    stdin: str | None = None
    expected_output: str | None = None
    stdout: str | None = None
    status_id: int | None = None
    created_at: str | None = None
    finished_at: str | None = None
    time: str | None = None
    memory: int | None = None
    stderr: str | None = None
    token: str | None = None
    number_of_runs: int | None = None
    cpu_time_limit: str | None = None
    cpu_extra_time: str | None = None
    wall_time_limit: str | None = None
    memory_limit: int | None = None
    stack_limit: int | None = None
    max_processes_and_or_threads: int | None = None
    enable_per_process_and_thread_time_limit: bool | None = None
    enable_per_process_and_thread_memory_limit: bool | None = None
    max_file_size: int | None = None
    compile_output: str | None = None
    exit_code: int | None = None
    exit_signal: int | None = None
    message: str | None = None
    wall_time: str | None = None
    compiler_options: str | None = None
    command_line_arguments: str | None = None
    redirect_stderr_to_stdout: bool | None = None
    callback_url: str | None = None
    additional_files: str | None = None
    enable_network: bool | None = None
    status: Judge0Status | None = None
    language: Judge0Language | None = None
    error: str | None = Field(None, description="with ?wait=true: output that is not UTF-8")


class Judge0Token(Answer):
    token: str


class Judge0Meta(Answer):
    current_page: int
    next_page: int | None
    prev_page: int | None
    total_pages: int
    total_count: int


class Judge0SubmissionPage(Answer):
    submissions: list[Judge0Submission]
    meta: Judge0Meta


class Judge0BatchItem(RootModel[dict[str, Any]]):
    """``{"token": ...}``, or the item's errors ``{field: [messages]}``."""


class Judge0BatchRead(Answer):
    submissions: list[Judge0Submission | None]


class Judge0LanguageArchived(Judge0Language):
    is_archived: bool


class Judge0LanguageDetail(Judge0LanguageArchived):
    source_file: str
    compile_cmd: str | None
    run_cmd: str


class Judge0About(Answer):
    version: str
    homepage: str
    source_code: str
    maintainer: str
    codeexec_version: str


class Judge0Worker(Answer):
    queue: str
    size: int
    available: int
    idle: int
    working: int
    paused: int
    failed: int


class Judge0Error(Answer):
    error: str


class Judge0Errors(RootModel[dict[str, list[str]]]):
    """422: each invalid field with its messages, as Rails words them."""


class Judge0Info(RootModel[dict[str, Any]]):
    """An object whose fields Judge0 defines (/config_info, /system_info)."""
