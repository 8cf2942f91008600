"""``codeexec grade``: grade source files against a problem and report it for CI (issue 17)."""
