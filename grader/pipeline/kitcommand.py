"""What the command line adds for student kits: the `kit` sub-command, and the one line a
`check --kit` prints. Imported by `grader.cli` at start-up: the heavy modules load on use."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.safetext import clean

OK = 0


def add_parser(commands: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """`kit`, with the options every command that prepares a run takes (`common`)."""
    kit = commands.add_parser("kit", help="write a student kit: spec, base model, public splits")
    common(kit)
    kit.add_argument("--output", type=Path, default=Path("kit.zip"), help="the zip to write")


def run(args: argparse.Namespace, isolation: dict[str, str], data_dir: Path | None) -> int:
    """Write the kit (a builder's base model is trained, sandboxed, unless cached)."""
    from grader.console import ProgressDisplay
    from grader.pipeline.kit import build_kit

    with ProgressDisplay() as progress:
        kit = build_kit(
            args.assignment, args.output, args.out, data_dir, progress=progress, **isolation
        )
    print(f"student kit: {clean(kit.describe(), None)}")
    return OK


def unsandboxed(args: argparse.Namespace) -> dict[str, str]:
    """A kit check runs the student's own code as plain processes, and says so in one line.
    Returns the isolation options as given: the self-check refuses any with a kit."""
    from grader.sandbox.unconfined import NOTICE

    print(NOTICE, file=sys.stderr)
    return {"isolation": args.isolation, "memory_cap": args.memory_cap}
