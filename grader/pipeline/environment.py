"""What a submission can import where it is graded: the student packages, probed in a real
sandboxed child (the isolation grading uses), for `grader doctor` and the tests."""

from __future__ import annotations

from grader import codec
from grader.errors import ChildOutputError
from grader.sandbox import Isolation, Sandbox, jobs
from grader.sandbox.childio import read_child_json
from grader.worker.packages import PACKAGES, ProbeReport, installed_version

PROBE_SECONDS = 180  # importing TensorFlow and the scientific stack on a busy machine
PROBE_MEMORY_GB = 6.0  # the tasks' default memory limit


def probe_packages(isolation: Isolation) -> ProbeReport:
    """Import every student package in one child confined as a graded submission is.

    A child that leaves no report fails every package, with the end of its log as the reason.
    """
    work = jobs.make_work_root()
    try:
        with Sandbox(isolation) as box:
            job = jobs.new_job(work, "packages", box, 0)
            request = {"out": job.inside(job.outputs)}
            outcome = jobs.run_job(
                job, "grader.worker.packages", request,
                wall_seconds=PROBE_SECONDS, memory_gb=PROBE_MEMORY_GB,
            )  # fmt: skip
            try:
                return codec.from_json(ProbeReport, read_child_json(job.outputs / "packages.json"))
            except (ChildOutputError, codec.DecodeError) as exc:
                why = jobs.log_tail(outcome, 5) or str(exc)
        return ProbeReport({}, {name: f"the probe child failed: {why}" for name in PACKAGES})
    finally:
        jobs.remove_work_root(work)


def package_lines(report: ProbeReport) -> list[str]:
    """One line per package for `doctor`: its version, or why a sandboxed child cannot import it."""
    lines = []
    for name, dist in PACKAGES.items():
        label = name if name == dist else f"{name} ({dist})"
        if name in report.imported:
            lines.append(f"  {label} {report.imported[name]}: importable in the sandbox")
        else:
            installed = installed_version(name) or "not installed"
            lines.append(f"  {label} {installed}: NOT importable: {report.failed.get(name, '?')}")
    return lines
