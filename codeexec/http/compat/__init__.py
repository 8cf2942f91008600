"""Doors that speak other code-execution services' APIs, mapped onto codeexec's own runs."""
