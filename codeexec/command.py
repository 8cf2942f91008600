"""The ``codeexec`` command's entry point, deliberately free of imports.

Screening workers are started with "spawn", which runs the parent's main script again
in each new process. For the ``codeexec`` console script that script is
``from codeexec.command import main``: were it ``codeexec.cli``, every worker would load
the whole service (about 50 MB more each) before screening anything.
"""

from __future__ import annotations


def main() -> int:
    from codeexec.cli import main as run

    return run()
