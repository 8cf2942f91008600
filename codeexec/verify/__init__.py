"""``codeexec problems verify``: check a Kattis package's example submissions (issue 20)."""
