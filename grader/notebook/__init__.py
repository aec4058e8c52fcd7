"""Jupyter notebook -> submission module: keep definitions, drop top-level training and plots.

`cells` reads the JSON and blanks IPython-only lines, `statements` decides which top-level
statements are kept (imports, definitions, constants), `usage` looks at the whole notebook
(names kept code needs from left-out lines, unused imports, augmentation outside the model),
`convert` lays the module out so every line leads back to its cell (grader/worker/linemap.py),
`reasons` names why a line was left out, and `limits` caps what is converted at all.
"""

from grader.notebook.convert import ConvertedNotebook, notebook_json_to_module, notebook_to_module
from grader.notebook.limits import NotebookTooLarge
from grader.notebook.reasons import (
    AUGMENTATION,
    BLOCK,
    CALL,
    CELL_MAGIC,
    HELP,
    IMPORTANT,
    MAGIC,
    MAIN_BLOCK,
    NEEDED,
    NOT_CONSTANT,
    REASONS,
    SHELL,
    STATEMENT,
    UNUSED_IMPORT,
    WHOLE_CELL_MAGIC,
    NotebookError,
    dropped_line,
)

__all__ = [
    "AUGMENTATION",
    "BLOCK",
    "CALL",
    "CELL_MAGIC",
    "HELP",
    "IMPORTANT",
    "MAGIC",
    "MAIN_BLOCK",
    "NEEDED",
    "NOT_CONSTANT",
    "REASONS",
    "SHELL",
    "STATEMENT",
    "UNUSED_IMPORT",
    "WHOLE_CELL_MAGIC",
    "ConvertedNotebook",
    "NotebookError",
    "NotebookTooLarge",
    "dropped_line",
    "notebook_json_to_module",
    "notebook_to_module",
]
