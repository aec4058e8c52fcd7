"""Why an isolation level cannot run here, and the fix; and which level a run may use.

Each level's probe (`levels`) says only what failed ("Permission denied", "No permissions
to create new namespace"). The functions here turn that, with the facts read once by
`read_facts` (sysctls, bubblewrap, Landlock's ABI, the folder a child uid cannot pass),
into the cause and its fix. Everything but `read_facts` is pure: tests hand in the facts.
A run never falls to a level below its allowed minimum (`choose`): it stops and says why.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GradingError
from grader.messages import text
from grader.sandbox import reach

BUBBLEWRAP, LANDLOCK, RLIMITS = "bubblewrap", "landlock", "rlimits"
ORDER = (BUBBLEWRAP, LANDLOCK, RLIMITS)  # strongest first, as `levels.LEVELS`
DEFAULT_MINIMUM = LANDLOCK  # rlimits leaves the network reachable: allowed only when asked
LANDLOCK_NET_ABI = 4  # Landlock denies TCP from this ABI on (Linux 6.7)
# Sysctls that stop an unprivileged process (a child uid running bwrap) making namespaces,
# with the value that allows it.
USERNS_SWITCHES = {"kernel.unprivileged_userns_clone": "1", "user.max_user_namespaces": "15000"}
APPARMOR_USERNS = "kernel.apparmor_restrict_unprivileged_userns"  # Ubuntu 23.10 and later
SYSCTLS = (*USERNS_SWITCHES, APPARMOR_USERNS)
BWRAP_PERMISSION = "Can't find source path"  # bwrap cannot see a folder it must bind


@dataclass(frozen=True)
class Blocked:
    """A path a child uid needs, and the folder on its way the uid may not pass."""

    path: Path
    folder: Path
    mode: int  # the folder's permission bits, e.g. 0o700


@dataclass(frozen=True)
class Facts:
    """What the causes depend on, read once from the machine (`read_facts`)."""

    uid: int | None  # the children's uid (None: the grader's own)
    bwrap: str | None = "/usr/bin/bwrap"  # where bwrap is, None when not installed
    sysctls: Mapping[str, str] = field(default_factory=dict)  # name -> value, those present
    landlock_abi: int = LANDLOCK_NET_ABI
    kernel: str = ""  # the kernel release
    blocked: Blocked | None = None


def read_facts(uid: int | None, needed: Iterable[Path]) -> Facts:
    """The facts of this machine, for a child running as `uid` that needs `needed`."""
    from grader.sandbox import landlock  # ctypes and the syscall: only when asked

    return Facts(
        uid=uid,
        bwrap=shutil.which("bwrap"),
        sysctls=read_sysctls(),
        landlock_abi=landlock.abi_version(),
        kernel=os.uname().release,
        blocked=find_blocked(uid, needed),
    )


def read_sysctls(root: Path = Path("/proc/sys")) -> dict[str, str]:
    """The values of SYSCTLS that exist here (a kernel without one has no such file)."""
    values = {}
    for name in SYSCTLS:
        try:
            values[name] = (root / name.replace(".", "/")).read_text().strip()
        except OSError:
            continue
    return values


def find_blocked(uid: int | None, needed: Iterable[Path]) -> Blocked | None:
    """The first needed path `uid` cannot reach (symlinks followed too), with its folder."""
    if uid is None:
        return None
    found = reach.unreachable(uid, [q for p in needed for q in (p, p.resolve())])
    if found is None:
        return None
    path, folder = found
    return Blocked(path, folder, stat.S_IMODE(folder.lstat().st_mode))


def explain(level: str, problem: str, facts: Facts) -> str:
    """The cause of `level` failing with `problem` (its probe's last words), and the fix."""
    if level == BUBBLEWRAP and facts.bwrap is None:
        return text("isolation.bwrap_missing", "en")
    if facts.blocked is not None:
        return unreachable(facts.uid, facts.blocked)
    if level == BUBBLEWRAP:
        return userns(facts.sysctls, problem) or _failed(level, problem, facts.uid)
    if level == LANDLOCK and facts.landlock_abi < 1:
        return text("isolation.landlock_absent", "en", kernel=facts.kernel)
    return _failed(level, problem, facts.uid)


def unreachable(uid: int | None, blocked: Blocked) -> str:
    """A child uid cannot pass a folder on the way to the interpreter or the grader."""
    return text(
        "isolation.unreachable", "en", uid=str(uid), path=str(blocked.path),
        folder=str(blocked.folder), mode=f"{blocked.mode:o}",
    )  # fmt: skip


def userns(sysctls: Mapping[str, str], problem: str) -> str | None:
    """The sysctl that keeps an unprivileged bwrap from making its namespaces, if one does."""
    for name, allowing in USERNS_SWITCHES.items():
        if sysctls.get(name) == "0":
            return text(
                "isolation.userns_disabled", "en", sysctl=name, allowing=allowing, said=problem
            )
    if sysctls.get(APPARMOR_USERNS) == "1":
        return text("isolation.userns_apparmor", "en", sysctl=APPARMOR_USERNS, said=problem)
    return None


def landlock_note(abi: int, kernel: str) -> str | None:
    """What Landlock cannot do on this kernel although it confines files, if anything."""
    if 1 <= abi < LANDLOCK_NET_ABI:
        return text("isolation.landlock_old", "en", abi=str(abi), kernel=kernel)
    return None


def _failed(level: str, problem: str, uid: int | None) -> str:
    who = "the grader's own uid" if uid is None else f"uid {uid}"
    return text("isolation.level_failed", "en", level=level, who=who, said=problem)


def allowed(level: str, minimum: str | None) -> bool:
    """Whether `level` is at least as strong as `minimum` (None: any level is allowed)."""
    return minimum is None or ORDER.index(level) <= ORDER.index(minimum)


def choose(tried: Mapping[str, str | None], minimum: str | None, facts: Facts) -> str:
    """The first level of `tried` (strongest first; value None: it works) if allowed.

    Raises:
        GradingError: none works, or the one that does is below `minimum`; the message
            names each stronger level's cause and fix, and how to allow a weaker level.
    """
    found = strongest(tried)
    failing = {name: p for name, p in tried.items() if p is not None}
    causes = "\n".join(f"- {name}: {explain(name, p, facts)}" for name, p in failing.items())
    if found is None:
        raise GradingError(text("isolation.none_works", "en", causes=causes))
    if not allowed(found, minimum):
        raise GradingError(
            text("isolation.below_minimum", "en", found=found, minimum=minimum, causes=causes)
        )
    return found


def check_forced(level: str, minimum: str | None) -> None:
    """Stop when a level forced on the command line is below the allowed minimum."""
    if not allowed(level, minimum):
        raise GradingError(text("isolation.forced_below", "en", level=level, minimum=minimum))


def strongest(found: Mapping[str, str | None]) -> str | None:
    """The first level of `found` (strongest first) without a problem, if any."""
    return next((name for name, problem in found.items() if problem is None), None)


def doctor_lines(found: Mapping[str, str | None], facts: Facts, minimum: str) -> list[str]:
    """What `doctor` says of the levels: each works, or its cause and fix; then the one a
    run would use, or why grading would refuse to start."""
    lines = [f"{name}: {'works' if cause is None else cause}" for name, cause in found.items()]
    note = landlock_note(facts.landlock_abi, facts.kernel)
    if note and found.get(LANDLOCK, "") is None:
        lines.append(f"  note: {note}")
    level = strongest(found)
    if level is None:
        return [*lines, "isolation level: none works here; nothing is graded until one does"]
    refused = (
        f" (below min_isolation {minimum}: grading refuses it without --min-isolation {level})"
    )
    return [*lines, f"isolation level: {level}{'' if allowed(level, minimum) else refused}"]
