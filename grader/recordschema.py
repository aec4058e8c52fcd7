"""Result files' schema: its number, and the upgrades that bring an older file to it.

`SCHEMA` is written in every result and checked on read: an older file is upgraded one step
at a time (each step a function in `UPGRADES`); a newer or unknown one is refused with a
message saying what to do.
"""

from __future__ import annotations

from typing import Any

from grader.errors import RecordError

SCHEMA = 6

# What a schema-1 comparing check compared with: graders then knew one assignment, whose
# specs could leave `compare_to` out of this kind only (schema 2 stores it on every check).
SCHEMA1_COMPARED = {"beats_scratch": "scratch"}


def _upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 2 added message ids beside the English texts and each comparing check's
    `compare_to`; 1 has the texts only, and compared as `SCHEMA1_COMPARED` says."""
    checks = [
        {"compare_to": SCHEMA1_COMPARED.get(str(c.get("kind"))), **c}
        if isinstance(c, dict) else c
        for c in data.get("checks", [])
    ]  # fmt: skip
    provenance = {**data.get("provenance", {}), "schema": 2}
    return {**data, "checks": checks, "schema": 2, "provenance": provenance}


def _upgrade_2_to_3(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 3 added intervals, image counts, `test_correct`, and per check `interval`,
    `borderline` and notes; a 2 file lacks them, and the defaults (None, False, none) say so."""
    return {**data, "schema": 3, "provenance": {**data.get("provenance", {}), "schema": 3}}


def _upgrade_3_to_4(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 4 added a check's `reference` (a threshold relative to the instructor's reference
    solution) and `provenance.reference_hash`; a 3 file has neither: both read as null."""
    return {**data, "schema": 4, "provenance": {**data.get("provenance", {}), "schema": 4}}


def _upgrade_4_to_5(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 5 added per task `planned_epochs`, `cpu_seconds`, `stopped_by` and the limit's
    note (training limited by CPU time); a 4 file has none: they read as null (not measured)."""
    return {**data, "schema": 5, "provenance": {**data.get("provenance", {}), "schema": 5}}


def _upgrade_5_to_6(data: dict[str, Any]) -> dict[str, Any]:
    """Schema 6 added `adjustments` (late penalty, overrides) and `final_score`; a 5 file has
    none: no adjustment, and the score is the grade."""
    return {**data, "schema": 6, "provenance": {**data.get("provenance", {}), "schema": 6}}


UPGRADES = {
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
    3: _upgrade_3_to_4,
    4: _upgrade_4_to_5,
    5: _upgrade_5_to_6,
}


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored result's JSON to `SCHEMA`, one step at a time.

    Raises:
        RecordError: the schema is missing, unknown, or newer than this grader reads.
    """
    version = data.get("schema")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordError(f"no valid schema number ({version!r:.20}): not a grader result file")
    if version > SCHEMA:
        raise RecordError(
            f"written by a newer grader (result schema {version}; this grader reads up to "
            f"{SCHEMA}). Upgrade the grader, or regrade with --force."
        )
    while version < SCHEMA:
        data = UPGRADES[version](data)
        version = data["schema"]
    return data
