"""The runner as the one source ``python3 -I -c`` takes (the container has no copy of
this package): each module's text, in an order where every module comes after the
ones it imports, loaded under the package name ``runner`` so that their relative
imports resolve; then ``serve.main()``. Only the host imports this module."""

from pathlib import Path

_HERE = Path(__file__).parent
# Dependencies first (a test checks the order against the modules' imports).
MODULES = (
    "channel",
    "seccomp",
    "kernel",
    "accounting",
    "cleanup",
    "files",
    "spawn",
    "measure",
    "watch",
    "collect",
    "serve",
)

_LOADER = """import sys, types
runner = types.ModuleType("runner")
runner.__path__ = []
sys.modules["runner"] = runner
def load(name, text):
    module = types.ModuleType("runner." + name)
    module.__package__ = "runner"
    sys.modules[module.__name__] = module
    exec(compile(text, "runner/" + name + ".py", "exec"), module.__dict__)
    setattr(runner, name, module)
"""


def runner_source() -> str:
    """Each module's text is kept verbatim in a raw string, so what runs in the
    container is byte for byte the package's code (and tracebacks name its files)."""
    parts = [_LOADER]
    for name in MODULES:
        text = (_HERE / f"{name}.py").read_text(encoding="utf-8")
        if "'''" in text or text.endswith("\\"):
            raise ValueError(f"runner/{name}.py cannot be embedded in a raw string")
        parts.append(f"load({name!r}, r'''{text}''')\n")
    parts.append("runner.serve.main()\n")
    return "".join(parts)


RUNNER_SOURCE = runner_source()
