"""`tomllib` on Python 3.11 and newer, its backport `tomli` on 3.10 (the same API)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: a student's self-check (pyproject.toml installs tomli there)
    import tomli as tomllib

__all__ = ["tomllib"]
