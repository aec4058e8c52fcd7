"""Why a notebook line was left out: reason ids (texts in grader/messages), and the record."""

from __future__ import annotations

from typing import Any

from grader.messages import Message, render
from grader.records import DroppedLine

# Message ids (grader/messages/grading.py); `BLOCK` takes `keyword`.
CALL, NOT_CONSTANT, STATEMENT = "notebook.call", "notebook.not_constant", "notebook.statement"
BLOCK, MAIN_BLOCK = "notebook.block", "notebook.main_block"
WHOLE_CELL_MAGIC, CELL_MAGIC = "notebook.whole_cell_magic", "notebook.cell_magic"
MAGIC, SHELL, HELP = "notebook.magic", "notebook.shell", "notebook.help"
# Found by looking at the whole notebook (grader/messages/notebooks.py): a line kept code
# needs (`names`, `users`), augmentation outside the model, an unused import of a module
# grading does not have (`module`).
NEEDED, AUGMENTATION = "notebook.needed", "notebook.augmentation"
UNUSED_IMPORT = "notebook.unused_import"
# Shown first in reports (they change what the grade means), each reason in a group.
IMPORTANT = (NEEDED, AUGMENTATION, UNUSED_IMPORT)
REASONS = (WHOLE_CELL_MAGIC, CELL_MAGIC, MAGIC, SHELL, HELP, MAIN_BLOCK, BLOCK, CALL,
           NOT_CONSTANT, STATEMENT, *IMPORTANT)  # fmt: skip


class NotebookError(ValueError):
    """The notebook cannot be turned into a module; the message says how to fix it."""

    def __init__(self, message_id: str, **params: Any) -> None:
        self.message = Message(message_id, params)
        super().__init__(render(self.message, "en"))


def dropped_line(cell: int, line: int, code: str, reason: str, **params: Any) -> DroppedLine:
    """A left-out line, with its reason by id and in English."""
    message = Message(reason, params)
    return DroppedLine(cell, line, short(code), render(message, "en"), message)


def short(line: str) -> str:
    """One line of code as a report shows it: stripped, at most 80 characters."""
    line = line.strip()
    return line if len(line) <= 80 else line[:79] + "…"
