"""`python -m grader doctor`: what isolation, GPUs and memory cap this machine gives the
children, whether the assignment is valid, and whether the student packages import."""

from __future__ import annotations

import argparse

from grader import __version__, sandbox
from grader.safetext import clean
from grader.sandbox import causes, memcap
from grader.spec import load_assignment

OK, FAILED = 0, 1


def lines(text: object) -> str:
    """`text` made safe for a terminal, its lines kept."""
    return "\n".join(clean(line, None) for line in str(text).splitlines())


def run(args: argparse.Namespace, minimum: str) -> int:
    """Print what this machine offers (isolation levels and their causes, GPUs, memory cap,
    the child uid), check the assignment, and import the student packages in a child.
    With `--backend ray`: the isolation check on every alive node of the cluster instead."""
    print(f"grader {__version__}")
    if args.backend == "ray":
        return _ray_nodes(args, minimum)
    found, facts = sandbox.diagnose()
    print(lines("\n".join(causes.doctor_lines(found, facts, minimum))))
    if (level := causes.strongest(found)) is None:
        return FAILED
    isolation = sandbox.detect(level)
    print(f"GPUs: {', '.join(isolation.gpus) or 'none (children train on the CPU)'}")
    cgroup = memcap.find_parent()
    where = f"v{cgroup.version} at {cgroup.path}" if cgroup else "cannot be created here"
    print(f"memory cap: {isolation.memory_cap} (memory cgroup: {where})")
    with sandbox.Sandbox(isolation) as box:
        print(f"child uid: {box.child_uid(0) or 'same as grader (grader is not root)'}")
    if level == sandbox.LANDLOCK:
        print("landlock: file access limited to the job, TCP denied; no PID/network namespace")
    elif level == sandbox.RLIMITS:
        print("fallback: resource limits + throw-away uid only; the network stays reachable")
    load_assignment(args.assignment)
    print(f"assignment {args.assignment}: valid")
    return _packages(isolation) if causes.allowed(level, minimum) else FAILED


def _ray_nodes(args: argparse.Namespace, minimum: str) -> int:
    """One line per alive node of the Ray cluster: the isolation its children get there."""
    from grader.pipeline.raybackend import node_lines

    found = node_lines(args.ray_address, minimum)
    print(lines("\n".join(line for _, line in found) or "no alive node in the Ray cluster"))
    load_assignment(args.assignment)
    print(f"assignment {args.assignment}: valid")
    return OK if found and all(ok for ok, _ in found) else FAILED


def _packages(isolation: sandbox.Isolation) -> int:
    """Import the packages students may use in a sandboxed child; FAILED if one fails."""
    from grader.pipeline.environment import package_lines, probe_packages

    report = probe_packages(isolation)
    print("student packages (imported in a sandboxed child, as a submission imports them):")
    print(lines("\n".join(package_lines(report))))  # a child's words
    return FAILED if report.failed or report.error else OK
