"""One frozen settings object, built once from ``CODEEXEC_*`` environment variables.

Everything configurable lives here and is passed down explicitly; no module keeps
mutable global state.

The settings are grouped by concern, one frozen class per group (``settings.http.port``,
``settings.sandbox.pool_size``, ...), with the process-wide ``instance_name``,
``log_level`` and ``log_format`` on ``Settings`` itself. Groups do not show in names:
field ``foo_bar`` of any group is read from ``CODEEXEC_FOO_BAR`` and set by
``Settings(foo_bar=...)``, so a name belongs to exactly one group (checked when this
module is imported).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_PACKAGE = Path(__file__).resolve().parent


def _empty_is_unset(value: object) -> object:
    return None if value == "" else value


def _split_names(value: object) -> object:
    # A comma-separated environment variable; an empty string means "allow all".
    if isinstance(value, str):
        return tuple(name.strip() for name in value.split(",") if name.strip())
    return value


def _build_mode(value: object) -> object:
    # Before the modes, this was a switch: on built missing images at start-up.
    if isinstance(value, bool) or (
        isinstance(value, str) and value.lower() in ("true", "false", "1", "0")
    ):
        return "startup" if str(value).lower() in ("true", "1") else "off"
    return value


_Secret = Annotated[SecretStr | None, BeforeValidator(_empty_is_unset)]
# When missing or outdated images are built: "background" (behind the running service,
# a requested language first), "on-demand" (when a request first asks for the
# language), "startup" (before the service is ready), or "off" (never: unavailable).
BuildMode = Literal["background", "on-demand", "startup", "off"]
_Names = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split_names)]
# "auto": JSON lines unless stderr is a terminal; "json" or "console" always.
LogFormat = Literal["auto", "json", "console"]


class _Group(BaseSettings):
    """Field ``foo_bar`` is read from ``CODEEXEC_FOO_BAR``."""

    model_config = SettingsConfigDict(env_prefix="CODEEXEC_", frozen=True, extra="forbid")


class ProcessSettings(_Group):
    """What names this process; its fields are read as ``settings.instance_name``,
    ``settings.worker_name``, ``settings.log_level`` and ``settings.log_format``."""

    # Labels this process's containers (strays with it are removed at start-up) and
    # owns the jobs it runs (requeued when it restarts).
    instance_name: str = "default"
    # Names this process on the jobs it judges (a job's ``worker``); unset: host name
    # and process id. Only shown: leases and restarts go by the instance name.
    worker_name: Annotated[str | None, BeforeValidator(_empty_is_unset)] = Field(
        None, max_length=128
    )
    log_level: str = "INFO"
    log_format: LogFormat = "auto"


class HttpSettings(_Group):
    """Listening, and the bounds on what a request may carry (issue 12, class 4). The
    other limits on requests are constants in codeexec/http/body.py and the request
    models; docs/api.md lists them all."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    drain_timeout_s: float = Field(30.0, ge=0)
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    max_source_bytes: int = Field(1024 * 1024, ge=16)
    body_idle_timeout_s: float = Field(30.0, gt=0)  # 408 when a body stops arriving
    max_tests: int = Field(1000, ge=1, le=1_000_000)  # tests per problem
    max_problem_body_mb: int = Field(256, ge=1)  # JSON create/replace bodies
    max_package_mb: int = Field(512, ge=1)  # Kattis package uploads and imports
    max_package_files: int = Field(20_000, ge=1)
    # Where Judge0 CE 1.13.1's API is served ("" mounts it at the root).
    judge0_prefix: str = Field("/judge0", pattern=r"^(/[A-Za-z0-9._-]+)*$")
    # Where the Piston v2 API is served: {prefix}/api/v2/...; "" serves it at the root.
    piston_prefix: str = Field("/piston", pattern=r"^(/[A-Za-z0-9._~-]+)*$")


class StoreSettings(_Group):
    """The database and the test-data cache in front of it."""

    database_url: str = "sqlite:///codeexec.sqlite3"
    seed_demo_problems: bool = True
    test_cache_bytes: int = Field(256 * 1024 * 1024, ge=0)
    database_connect_timeout_s: float = Field(60.0, ge=0)


class AdmissionSettings(_Group):
    """How many submissions are judged at once (``/exec`` and job workers alike), how
    many may wait, and what a refused request is told."""

    concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    queue_size: int = Field(64, ge=0)
    retry_after_s: int = Field(2, ge=1)


class SandboxSettings(_Group):
    """Languages, their images, and the containers programs run in."""

    languages_dir: Path = _PACKAGE / "languages"  # shipped inside the package
    # Which of the discovered languages to offer (comma-separated ids); empty: all.
    languages: _Names = ()
    image_prefix: str = "codeexec-sandbox"
    sandbox_base: str = "debian:bookworm-slim"
    offline_base_tag: str = "local/debian:bookworm-slim"
    build_images: Annotated[BuildMode, BeforeValidator(_build_mode)] = "background"
    image_builds: int = Field(3, ge=1)  # images built at the same time
    # An image built while the service runs (build, self-test) that is not ready by then
    # is stopped and its language unavailable: a hung build would keep it "preparing".
    image_build_timeout_s: float = Field(1800.0, gt=0)
    docker_threads: int = Field(8, ge=1)
    pool_size: int = Field(2, ge=0)  # warm containers per language; 0 turns the pool off
    pool_ttl_s: float = Field(300.0, gt=0)
    pool_parallel_starts: int = Field(2, ge=1)
    runtime: str | None = None  # e.g. "runsc" for gVisor
    sandbox_user: str = "65534:65534"  # uid:gid when CODEEXEC_SANDBOX_UIDS is 0
    # Sandboxes run as distinct uids taken in turn from SANDBOX_UID_BASE (gid: the
    # sandbox user's), so per-uid kernel quotas (pending signals, pipe pages, ...) are
    # not shared between submissions. 0: every sandbox is CODEEXEC_SANDBOX_USER.
    sandbox_uids: int = Field(1000, ge=0)
    sandbox_uid_base: int = Field(200_000, ge=1000)
    sandbox_cpus: float = Field(1.0, gt=0)
    sandbox_scratch_mb: int = Field(64, ge=1)
    sandbox_memory_overhead_mb: int = Field(32, ge=16)  # the runner, above a limit
    # Submissions one container serves, reset and checked clean between two (needs the
    # pool); 1: a fresh container for every submission (sandbox/pool.py says why not).
    sandbox_uses: int = Field(50, ge=1)


class LimitSettings(_Group):
    """What a problem gets when it sets nothing, the ceilings no problem may exceed,
    and how much of a run's output is kept."""

    default_time_limit_ms: int = Field(2000, ge=1)
    default_memory_limit_mb: int = Field(256, ge=8)
    default_output_limit_kb: int = Field(16 * 1024, ge=1)
    default_process_limit: int = Field(32, ge=1)
    default_isolation: Literal["submission", "test"] = "submission"
    max_time_limit_ms: int = Field(20_000, ge=1)
    max_memory_limit_mb: int = Field(2048, ge=8)
    max_output_limit_kb: int = Field(64 * 1024, ge=1)
    sandbox_pids: int = Field(64, ge=4)  # the most processes any problem may allow
    stderr_limit_kb: int = Field(64, ge=1)
    # How much of a shown test's output responses carry (`got`); checking uses all of it.
    shown_output_limit_kb: int = Field(64, ge=1)
    # How much of an ad-hoc run's stdout (and stderr) is kept and answered; the rest is
    # counted against its output limit and marked truncated.
    run_output_kept_kb: int = Field(1024, ge=1)

    def clamp_time_ms(self, value: int | None) -> int:
        return min(value or self.default_time_limit_ms, self.max_time_limit_ms)

    def wall_ms(self, value: int | None, time_ms: int) -> int:
        """A problem's wall-clock limit, or the backstop derived from its CPU limit."""
        return min(value or max(2 * time_ms, time_ms + 1000), 2 * self.max_time_limit_ms)

    def clamp_processes(self, value: int | None) -> int:
        return min(value or self.default_process_limit, self.sandbox_pids)

    def clamp_memory_mb(self, value: int | None) -> int:
        return min(value or self.default_memory_limit_mb, self.max_memory_limit_mb)

    def clamp_output_kb(self, value: int | None) -> int:
        return min(value or self.default_output_limit_kb, self.max_output_limit_kb)


class CheckerSettings(_Group):
    """Custom checker programs (a problem setter's code, in a sandbox of its own)."""

    checker_time_limit_ms: int = Field(10_000, ge=1)
    checker_memory_limit_mb: int = Field(512, ge=8)
    # Output spooled in memory before going to a file on its way to a custom checker.
    checker_spool_kb: int = Field(1024, ge=0)


class JobSettings(_Group):
    """Asynchronous submissions (jobs), batches and their callbacks (webhooks)."""

    job_workers: int | None = Field(None, ge=1)  # default: CODEEXEC_CONCURRENCY
    job_queue_size: int = Field(1000, ge=0)  # queued jobs; beyond, 503 + Retry-After
    job_lease_s: float = Field(30.0, gt=0)  # a running job's lease, renewed while it runs
    job_poll_s: float = Field(0.5, gt=0)  # how often idle workers look for jobs
    max_wait_s: float = Field(60.0, ge=0)  # the longest ?wait=true holds a request
    max_pause_s: float = Field(3600.0, gt=0)  # a job paused longer is cancelled
    batch_max: int = Field(50, ge=1, le=1000)
    webhook_attempts: int = Field(5, ge=1)
    webhook_backoff_s: float = Field(1.0, ge=0)  # doubles after each failed attempt
    webhook_timeout_s: float = Field(10.0, gt=0)
    webhook_allow_private: bool = False  # allow callbacks to loopback/private addresses
    webhook_secret: _Secret = None  # signs callbacks of unauthenticated jobs


class AuthSettings(_Group):
    """Authentication and rate limits."""

    # Problem and key management; unset: only admin API keys can manage.
    admin_token: _Secret = None
    # "auto": required when listening on a non-loopback address; "on": always; "off":
    # never (anonymous requests may submit and read).
    auth: Literal["auto", "on", "off"] = "auto"
    # Where none is needed: host names (besides IP addresses and localhost) by which a
    # caller without a key may reach the service; "*": any (DNS rebinding, cross_origin.py).
    allowed_hosts: _Names = ()
    rate_limit_per_s: float = Field(20.0, ge=0)  # per key (or client address); 0: off
    # /metrics without a token (a scraper on a trusted network); else admins only.
    metrics_public: bool = False
    rate_limit_burst: int = Field(40, ge=1)


class ScreeningSettings(_Group):
    """Screening: programs parsed for disallowed names before they run."""

    # Python's default policy (CODEEXEC_SCREENING_PYTHON, comma-separated; empty: none),
    # instead of the one in codeexec/languages/python/language.toml; unset: that one.
    screening_python: Annotated[tuple[str, ...] | None, NoDecode, BeforeValidator(_split_names)] = (
        None
    )
    # A program's parse-time budget, counted from when a worker takes it.
    screening_timeout_s: float = Field(5.0, gt=0)
    # Parsing processes (default: the CPU count, 2 to 8); a program that overruns its
    # budget ends only its own worker.
    screening_workers: int = Field(
        default_factory=lambda: max(2, min(os.cpu_count() or 2, 8)), ge=1
    )
    screening_queue_size: int = Field(64, ge=0)  # programs waiting for a worker; beyond, 503

    def screening_defaults(self) -> dict[str, tuple[str, ...]]:
        """Default policies set here, each replacing its language's ``[screening]
        disallowed`` (language id -> names)."""
        return {} if self.screening_python is None else {"python": self.screening_python}


# Settings' attribute for each group, in the order the configuration is documented
# (README.md); None: ProcessSettings, whose fields are Settings' own.
GROUPS: dict[str | None, type[BaseSettings]] = {
    None: ProcessSettings,
    "http": HttpSettings,
    "store": StoreSettings,
    "admission": AdmissionSettings,
    "sandbox": SandboxSettings,
    "limits": LimitSettings,
    "checker": CheckerSettings,
    "jobs": JobSettings,
    "auth": AuthSettings,
    "screening": ScreeningSettings,
}
# The group of each setting, by its name.
OWNERS: dict[str, str | None] = {
    name: group for group, cls in GROUPS.items() for name in cls.model_fields
}
if len(OWNERS) != sum(len(cls.model_fields) for cls in GROUPS.values()):
    raise TypeError("a setting's name is in two groups: it could not be told apart")


class Settings(BaseModel):
    """Service configuration: one frozen object of frozen groups, built from the
    environment. ``Settings(pool_size=0, ...)`` overrides settings by their flat names
    (each goes to its group); an unknown name raises TypeError."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    http: HttpSettings
    store: StoreSettings
    admission: AdmissionSettings
    sandbox: SandboxSettings
    limits: LimitSettings
    checker: CheckerSettings
    jobs: JobSettings
    auth: AuthSettings
    screening: ScreeningSettings
    instance_name: str
    worker_name: str | None
    log_level: str
    log_format: LogFormat

    def __init__(self, **values: Any) -> None:
        routed: dict[str | None, dict[str, Any]] = {group: {} for group in GROUPS}
        for name, value in values.items():
            if name not in OWNERS:
                raise TypeError(f"Settings() got an unexpected keyword argument {name!r}")
            routed[OWNERS[name]][name] = value
        fields: dict[str, Any] = {}
        errors: list[Any] = []  # every group's, reported together
        for group, cls in GROUPS.items():
            try:
                made = cls(**routed[group])  # the environment, then these values
            except ValidationError as exc:
                errors += exc.errors(include_url=False)
            else:
                fields |= made.model_dump() if group is None else {group: made}
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        super().__init__(**fields)

    @property
    def workers(self) -> int:
        """Job workers in this process."""
        return self.jobs.job_workers or self.admission.concurrency

    @property
    def worker(self) -> str:
        """How the jobs this process judges name it: ``CODEEXEC_WORKER_NAME``, else
        host name and process id."""
        return self.worker_name or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def auth_required(self) -> bool:
        if self.auth.auth == "auto":
            return self.http.host not in ("127.0.0.1", "::1", "localhost")
        return self.auth.auth == "on"
