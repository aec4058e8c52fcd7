"""The notebook lines grading left out, grouped for a report: one entry per reason, those that
change what the grade means first (the result file keeps every line)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grader.messages import Message
from grader.records import DroppedLine

# Reasons a student must read (grader/notebook/reasons.py IMPORTANT), in this order.
FIRST = ("notebook.needed", "notebook.augmentation", "notebook.unused_import")


@dataclass(frozen=True)
class DroppedGroup:
    """Left-out lines sharing one reason: where they are, the first one's code."""

    lines: tuple[DroppedLine, ...]

    @property
    def reason(self) -> Message | None:
        return self.lines[0].reason_message

    @property
    def reason_english(self) -> str:
        return self.lines[0].reason

    @property
    def code(self) -> str:
        """The first line's code, with ` …` when the group holds more."""
        return self.lines[0].code + (" …" if len(self.lines) > 1 else "")

    @property
    def where(self) -> Message:
        """`cell 5, line 2`, `cell 5, 6 lines` or `cells 4, 6-8, 12 lines`."""
        first, count = self.lines[0], len(self.lines)
        if count == 1:
            return Message("notebook.where_line", {"cell": first.cell, "line": first.line})
        cells = sorted({d.cell for d in self.lines})
        if len(cells) == 1:
            return Message("notebook.where_cell", {"cell": cells[0], "count": count})
        return Message("notebook.where_cells", {"cells": cell_ranges(cells), "count": count})


def group_dropped(lines: Sequence[DroppedLine]) -> list[DroppedGroup]:
    """One group per reason (id and parameters; by English text for old results)."""
    groups: dict[str, list[DroppedLine]] = {}
    for line in lines:
        message = line.reason_message
        key = repr((message.id, sorted(message.params.items()))) if message else line.reason
        groups.setdefault(key, []).append(line)
    found = [DroppedGroup(tuple(group)) for group in groups.values()]
    return sorted(found, key=lambda g: _rank(g.reason))  # stable: in the notebook's order


def augmentation_cells(lines: Sequence[DroppedLine]) -> str:
    """`4, 5`: the cells whose augmentation outside the model was left out ('' when none)."""
    cells = sorted({d.cell for d in lines if d.reason_message and d.reason_message.id == FIRST[1]})
    return cell_ranges(cells)


def cell_ranges(cells: Sequence[int]) -> str:
    """`1, 4-6, 9` for [1, 4, 5, 6, 9] (sorted, distinct)."""
    runs: list[list[int]] = []
    for cell in cells:
        if runs and cell == runs[-1][-1] + 1:
            runs[-1].append(cell)
        else:
            runs.append([cell])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _rank(reason: Message | None) -> int:
    return FIRST.index(reason.id) if reason and reason.id in FIRST else len(FIRST)
