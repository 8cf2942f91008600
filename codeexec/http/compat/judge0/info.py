"""What a Judge0 client asks about the service: languages (by Judge0's ids, from each
language.toml), statuses, version, configuration (codeexec's real limits in Judge0's
terms) and workers."""

from __future__ import annotations

import os
import platform
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from aiohttp import web

from codeexec.config import Settings
from codeexec.http.compat.judge0.schema import (
    Judge0About,
    Judge0Error,
    Judge0Info,
    Judge0Language,
    Judge0LanguageArchived,
    Judge0LanguageDetail,
    Judge0Status,
    Judge0Worker,
)
from codeexec.http.errors import json_response
from codeexec.http.keys import JOB_QUEUE, JOBS, LANGUAGES, LIFECYCLE, SETTINGS
from codeexec.http.operations import Operation, Reply, operation
from codeexec.intake import MAX_REPEAT
from codeexec.model import Language

JUDGE0_VERSION = "1.13.1"
_TAGS = ("judge0",)
_TEXT = {"type": "string"}


def _info(op_id: str, summary: str, reply: Reply, **more: Reply) -> Operation:
    """A Judge0 route that only tells (no body, no errors of its own)."""
    replies = {200: reply} | {int(k[1:]): v for k, v in more.items()}
    return Operation(op_id, summary, _TAGS, replies, access="judge0", door="judge0")


STATUSES = {
    1: "In Queue",
    2: "Processing",
    3: "Accepted",
    4: "Wrong Answer",
    5: "Time Limit Exceeded",
    6: "Compilation Error",
    7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)",
    9: "Runtime Error (SIGFPE)",
    10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)",
    12: "Runtime Error (Other)",
    13: "Internal Error",
    14: "Exec Format Error",
}


# -- what codeexec allows, in Judge0's terms ------------------------------------------


def error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return json_response({"error": message}, status, headers)


@dataclass(frozen=True)
class Config:
    """Judge0's configuration fields, from codeexec's settings (``/config_info``)."""

    settings: Settings

    def info(self) -> dict[str, Any]:
        lim, jobs = self.settings.limits, self.settings.jobs
        time_s = lim.default_time_limit_ms / 1000
        return {
            "maintenance_mode": False,
            "enable_wait_result": True,
            "enable_compiler_options": False,
            "allowed_languages_for_compile_options": [],
            "enable_command_line_arguments": True,
            "enable_submission_delete": True,
            "enable_callbacks": True,
            "callbacks_max_tries": jobs.webhook_attempts,
            "callbacks_timeout": jobs.webhook_timeout_s,
            "enable_additional_files": True,
            "max_queue_size": jobs.job_queue_size,
            "cpu_time_limit": time_s,
            "max_cpu_time_limit": lim.max_time_limit_ms / 1000,
            "cpu_extra_time": 0.0,
            "max_cpu_extra_time": 5.0,
            "wall_time_limit": lim.wall_ms(None, lim.default_time_limit_ms) / 1000,
            "max_wall_time_limit": 2 * lim.max_time_limit_ms / 1000,
            "memory_limit": lim.default_memory_limit_mb * 1024,
            "max_memory_limit": lim.max_memory_limit_mb * 1024,
            # The stack may take the whole memory limit; stack_limit is not used.
            "stack_limit": lim.default_memory_limit_mb * 1024,
            "max_stack_limit": lim.max_memory_limit_mb * 1024,
            "max_processes_and_or_threads": lim.default_process_limit,
            "max_max_processes_and_or_threads": lim.sandbox_pids,
            "enable_per_process_and_thread_time_limit": False,
            "allow_enable_per_process_and_thread_time_limit": False,
            "enable_per_process_and_thread_memory_limit": False,
            "allow_enable_per_process_and_thread_memory_limit": False,
            "max_file_size": lim.default_output_limit_kb,
            "max_max_file_size": lim.max_output_limit_kb,
            "number_of_runs": 1,
            "max_number_of_runs": MAX_REPEAT,
            "redirect_stderr_to_stdout": False,
            "max_extract_size": self.settings.http.max_source_bytes // 1024,
            "enable_batched_submissions": True,
            "max_submission_batch_size": jobs.batch_max,
            "submission_cache_duration": 0.0,
            "use_docs_as_homepage": False,
            "allow_enable_network": False,
            "enable_network": False,
        }


# -- languages --------------------------------------------------------------------------


def _version_number(line: str) -> str | None:
    found = re.search(r"\d+(?:\.\d+)+", line)
    return found.group(0) if found else None


def listed(app: web.Application) -> list[tuple[int, Language]]:
    """(Judge0 id, language) for every language usable or being prepared, by id."""
    lifecycle = app[LIFECYCLE]
    known = {**lifecycle.usable(app[LANGUAGES])}
    for language_id in lifecycle.preparing():
        if language_id in app[LANGUAGES]:
            known[language_id] = app[LANGUAGES][language_id]
    return sorted((i, lang) for lang in known.values() for i in lang.judge0_ids)


def name_of(app: web.Application, language: Language) -> str:
    number = _version_number(app[LIFECYCLE].versions.get(language.id, ""))
    return f"{language.name} ({number})" if number else language.name


def language_of(app: web.Application, judge0_id: int) -> Language | None:
    return next((lang for i, lang in listed(app) if i == judge0_id), None)


@operation(
    _info(
        "judge0ListLanguages",
        "Languages usable now, by Judge0 id",
        Reply("the languages", Judge0Language, many=True),
    )
)
async def list_languages(request: web.Request) -> web.Response:
    items = [{"id": i, "name": name_of(request.app, lang)} for i, lang in listed(request.app)]
    return json_response(sorted(items, key=lambda item: (item["name"], item["id"])))


@operation(
    _info(
        "judge0AllLanguages",
        "Every language, by Judge0 id",
        Reply("the languages", Judge0LanguageArchived, many=True),
    )
)
async def all_languages(request: web.Request) -> web.Response:
    items = [
        {"id": i, "name": name_of(request.app, lang), "is_archived": False}
        for i, lang in listed(request.app)
    ]
    return json_response(sorted(items, key=lambda item: (item["name"], item["id"])))


@operation(
    _info(
        "judge0GetLanguage",
        "A language by Judge0 id",
        Reply("the language", Judge0LanguageDetail),
        e404=Reply("no such language", Judge0Error),
    )
)
async def get_language(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    number = raw.isascii() and raw.isdigit() and len(raw) <= 10
    language = language_of(request.app, int(raw)) if number else None
    if language is None:
        return error(404, f"Couldn't find Language with 'id'={raw[:20]}")
    compile_cmd = " ".join(language.compile_command([language.source_file]) or ()) or None
    return json_response(
        {
            "id": int(raw),
            "name": name_of(request.app, language),
            "is_archived": False,
            "source_file": language.source_file,
            "compile_cmd": compile_cmd,
            "run_cmd": " ".join(language.run),
        }
    )


@operation(
    _info("judge0ListStatuses", "Judge0's statuses", Reply("the statuses", Judge0Status, many=True))
)
async def list_statuses(request: web.Request) -> web.Response:
    return json_response([{"id": i, "description": d} for i, d in STATUSES.items()])


# -- about the service ---------------------------------------------------------------


def _codeexec_version() -> str:
    try:
        return metadata.version("codeexec")
    except metadata.PackageNotFoundError:
        return "unknown"


@operation(_info("judge0About", "What this is (Judge0 1.13.1's API)", Reply("about", Judge0About)))
async def about(request: web.Request) -> web.Response:
    return json_response(
        {
            "version": JUDGE0_VERSION,  # the API this is compatible with; clients check it
            "homepage": "https://github.com/codeexec/codeexec",
            "source_code": "https://github.com/codeexec/codeexec",
            "maintainer": "codeexec",
            "codeexec_version": _codeexec_version(),
        }
    )


@operation(
    _info(
        "judge0Version",
        "The Judge0 version it speaks",
        Reply("1.13.1", media_type="text/plain", schema=_TEXT),
    )
)
async def version(request: web.Request) -> web.Response:
    return web.Response(text=JUDGE0_VERSION)


@operation(
    _info(
        "judge0ConfigInfo", "Its limits, in Judge0's terms", Reply("the configuration", Judge0Info)
    )
)
async def config_info(request: web.Request) -> web.Response:
    return json_response(Config(request.app[SETTINGS]).info())


@operation(
    _info(
        "judge0Isolate",
        "What isolates programs",
        Reply("text", media_type="text/plain", schema=_TEXT),
    )
)
async def isolate(request: web.Request) -> web.Response:
    return web.Response(text="codeexec sandbox: Docker containers, not isolate\n")


@operation(
    _info("judge0License", "The license", Reply("text", media_type="text/plain", schema=_TEXT))
)
async def license_text(request: web.Request) -> web.Response:
    return web.Response(
        text="codeexec serves Judge0 CE 1.13.1's API; it is not Judge0 and includes none"
        " of its code. See codeexec's own license.\n"
    )


@operation(_info("judge0SystemInfo", "The machine", Reply("the machine", Judge0Info)))
async def system_info(request: web.Request) -> web.Response:
    return json_response(
        {
            "Architecture": platform.machine(),
            "CPU(s)": os.cpu_count(),
            "Model name": platform.processor() or platform.machine(),
            "Kernel": platform.release(),
        }
    )


@operation(_info("judge0Workers", "The job workers", Reply("the workers", Judge0Worker, many=True)))
async def workers(request: web.Request) -> web.Response:
    app = request.app
    stats = app[JOBS].stats()
    queued = await app[JOB_QUEUE].count_queued()
    running = stats["running_here"]
    return json_response(
        [
            {
                "queue": JUDGE0_VERSION,
                "size": queued,
                "available": stats["workers"],
                "idle": stats["workers"] - running,
                "working": running,
                "paused": 0,
                "failed": 0,
            }
        ]
    )
