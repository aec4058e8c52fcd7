"""Checks, feedback, notebook drop reasons and name warnings: one entry per id, every language."""

TEXTS: dict[str, dict[str, str]] = {}
