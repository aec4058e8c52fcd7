"""Which characters of a text no installed font can draw (asked of fontconfig, as Pango does).

WeasyPrint draws each character with the first font of the report's CSS stack that has it,
else with any font fontconfig finds; a character no installed font has prints as an empty
box. `fc-list :charset=<hex>` lists the fonts holding one character from fontconfig's
cache, so checking a name costs a few milliseconds per distinct non-ASCII character.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import unicodedata

NOT_DRAWN = {"Cc", "Cf", "Zs", "Zl", "Zp"}  # controls, joiners and spaces: no glyph needed
MAX_CHECKED = 64  # distinct characters asked about per text (a name is clipped to 200)


def missing_glyphs(text: str) -> tuple[str, ...]:
    """The characters of `text` that no installed font has, each once, in order.

    ASCII is taken as drawn (every font stack has it). Without fontconfig's `fc-list`
    nothing can be said, and nothing is reported missing.
    """
    if shutil.which("fc-list") is None:
        return ()
    wanted = dict.fromkeys(c for c in text if not c.isascii())
    asked = [c for c in wanted if unicodedata.category(c) not in NOT_DRAWN][:MAX_CHECKED]
    return tuple(c for c in asked if not has_font(c))


@functools.cache
def has_font(char: str) -> bool:
    """Some installed font holds a glyph for `char` (an unanswered question counts as yes)."""
    try:
        found = subprocess.run(
            ["fc-list", f":charset={ord(char):x}", "family"],
            capture_output=True,
            text=True,
            timeout=20,  # a first call after fonts were added may rebuild fontconfig's cache
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return True
    return bool(found.stdout.strip())


def describe(chars: tuple[str, ...]) -> str:
    """`🧿 (U+1F9FF), ...`: each character with its code point, for a message."""
    return ", ".join(f"{c} (U+{ord(c):04X})" for c in chars)
