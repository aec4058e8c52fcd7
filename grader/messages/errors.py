"""Why a task could not be graded: one entry per message id, in every language."""

TEXTS: dict[str, dict[str, str]] = {}
