"""The Gradescope autograder bundle: one zip an instructor uploads as the assignment's
autograder, holding everything a run needs offline.

```
setup.sh            run once by Gradescope as root: system packages, a venv with the grader
run_autograder      run for every submission: `python -m grader gradescope-run --root ROOT`
assignment/         a copy of the assignment folder (spec, base model, reference, photos)
data/               CIFAR-10 assignments: cifar10.zip (or cifar10/) as given with --data
out/cache/          the instructor's split arrays, trained base model and graded reference
wheels/             the grader as a wheel; setup.sh installs it with its pinned extras
bundle.json         what the bundle was made from
```

The cache comes from a grading run opened on the bundle's own assignment and data; it is
keyed on content (data, spec, grader code), never on paths, so the container reuses it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import grader
from grader import __version__
from grader.atomic import write_atomic
from grader.errors import GradingError
from grader.pipeline.provenance import decides_results, grader_hash
from grader.pipeline.run import Progress, RunConfig, open_run
from grader.spec import Assignment, load_assignment

ASSIGNMENT, DATA, OUT, WHEELS, MANIFEST = "assignment", "data", "out", "wheels", "bundle.json"
VENV = "/opt/grader-venv"  # outside /root: the sandbox's throw-away uids run its python
NEEDED_IN_WHEEL = ("grader/lms/gradescope.py", "grader/pipeline/gradescope.py")
STORED = (".zip", ".npy", ".npz", ".keras", ".whl", ".jpg", ".jpeg", ".png")  # compressed
SETUP_SH = """\
#!/usr/bin/env bash
# Run once by Gradescope, as root, when it builds the autograder's image (grader {version}).
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
# bubblewrap isolates student code; Pango and a font because the report module loads
# WeasyPrint (the bundle renders HTML reports only, so no other fonts are needed).
packages=(bubblewrap ca-certificates libpango-1.0-0 libpangoft2-1.0-0 fontconfig
          fonts-dejavu-core)
version_of() {{ "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }}
python=""
for candidate in python3 python3.13 python3.12 python3.11; do  # TensorFlow 2.21: 3.11-3.13
  path=$(command -v "$candidate" || true)
  case $([[ -n $path ]] && version_of "$path") in 3.11 | 3.12 | 3.13) python=$path; break ;; esac
done
apt-get update -qq
if [[ -z $python ]]; then  # Ubuntu 22.04's python3 is 3.10; its archive has python3.11
  packages+=(python3.11 python3.11-venv)
  python=/usr/bin/python3.11
else
  packages+=("python$(version_of "$python")-venv")
fi
apt-get install -y -qq --no-install-recommends "${{packages[@]}}"
"$python" -m venv {venv}
{venv}/bin/python -m pip install -q --upgrade pip
{venv}/bin/python -m pip install -q "$SOURCE/{wheels}/{wheel}[grade,cpu]"
chmod -R a+rX {venv}
# The isolation this container allows, in the image build's log.
{venv}/bin/python -m grader doctor --assignment "$SOURCE/{assignment}" || true
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Run by Gradescope for every submission (it copies this file to /autograder/run_autograder).
# GRADESCOPE_ROOT and GRADER_PYTHON let a test run it on a folder laid out like Gradescope's.
set -uo pipefail
ROOT="${{GRADESCOPE_ROOT:-/autograder}}"
PYTHON="${{GRADER_PYTHON:-}}"
if [[ -z $PYTHON ]]; then
  if [[ -x {venv}/bin/python ]]; then PYTHON={venv}/bin/python; else PYTHON=python3; fi
fi
cd "$ROOT" || exit 1
"$PYTHON" -m grader gradescope-run --root "$ROOT"
status=$?
if [[ ! -s "$ROOT/results/results.json" ]]; then  # the grader could not even start
  mkdir -p "$ROOT/results"
  message="The autograder could not start, so this submission was not graded."
  message+=" Please tell your instructor (the autograder log has the cause)."
  printf '{{"score": 0.0, "output": "%s", "tests": []}}\n' "$message" \
    > "$ROOT/results/results.json.tmp"
  mv "$ROOT/results/results.json.tmp" "$ROOT/results/results.json"
fi
echo "grader exit status: $status (the grade, or why there is none, is in results.json)"
exit 0  # results.json holds the outcome either way
"""


@dataclass(frozen=True)
class Bundle:
    """What a bundle holds, for the instructor's terminal."""

    path: Path
    assignment: str
    wheel: str
    cache: tuple[str, ...]  # the cache folders it carries (splits, base, reference)
    bytes: int
    warning: str | None = None  # why the container will not reuse the cache, if it will not

    def describe(self) -> str:
        size = f"{self.bytes / 2**20:.1f} MB"
        return (f"{self.path} ({size}) for assignment {self.assignment}: {self.wheel}, cache "
                f"{', '.join(self.cache) or 'empty'}. Upload it as the assignment's autograder "
                "on Gradescope (Configure Autograder > Zip file)."
                + (f"\nwarning: {self.warning}" if self.warning else ""))  # fmt: skip


def build_bundle(
    assignment_dir: Path,
    output: Path,
    data_dir: Path | None,
    *,
    isolation: str | None = None,
    memory_cap: str | None = None,
    progress: Progress | None = None,
    checkout: Path | None = None,
    wheel: Path | None = None,
) -> Bundle:
    """Write the autograder zip to `output` (atomically). `checkout`: the grader's source to
    build the wheel from (default: this grader's); `wheel`: a wheel already built, as it is.

    Raises:
        SpecError, DataError, GradingError: the assignment, its data or the grader's source
            cannot make a bundle; the message says which and how to fix it.
    """
    spec = load_assignment(assignment_dir)
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as tmp:
        stage = Path(tmp) / "bundle"
        wheel_path = _wheel(stage / WHEELS, checkout, wheel)  # first: it fails fastest
        _copy_assignment(spec, stage / ASSIGNMENT)
        bundled_data = _copy_data(spec, data_dir, stage / DATA)
        cache = _warm_cache(stage, bundled_data, isolation, memory_cap, progress)
        write_atomic(stage / "setup.sh", SETUP_SH.format(
            version=__version__, venv=VENV, wheels=WHEELS, wheel=wheel_path.name,
            assignment=ASSIGNMENT))  # fmt: skip
        write_atomic(stage / "run_autograder", RUN_AUTOGRADER.format(venv=VENV))
        manifest = {"grader_version": __version__, "grader_hash": grader_hash(),
                    "assignment": spec.id, "spec_hash": spec.spec_hash,
                    "wheel": wheel_path.name, "cache": list(cache)}  # fmt: skip
        write_atomic(stage / MANIFEST, json.dumps(manifest, indent=1))
        size, warning = _zip(stage, output), _reuse_warning(wheel_path)
    return Bundle(output, spec.id, wheel_path.name, cache, size, warning)


def _copy_assignment(spec: Assignment, target: Path) -> None:
    """The assignment folder as it is (caches and VCS folders left out). An image-folder
    assignment's photos must be inside it: the bundle holds nothing from elsewhere."""
    folder = spec.directory.resolve()
    if spec.data.source == "folder" and spec.data.path is not None:
        photos = (folder / spec.data.path).resolve()
        if not photos.is_relative_to(folder):
            raise GradingError(
                f"The photos {photos} are outside the assignment folder {folder}: move them "
                "inside it and name them relative to it in assignment.toml, so the Gradescope "
                "bundle can carry them."
            )
    ignore = shutil.ignore_patterns("__pycache__", ".git", ".*_cache", "*.pyc")
    shutil.copytree(folder, target, ignore=ignore)


def _copy_data(spec: Assignment, data_dir: Path | None, target: Path) -> Path | None:
    """CIFAR-10 as given (`cifar10.zip` or `cifar10/`): Gradescope's container must not
    download it. None for an image-folder assignment (its photos came with its folder)."""
    if spec.data.source == "folder":
        return None
    data_dir = Path(data_dir) if data_dir is not None else None
    if data_dir is None or not any((data_dir / n).exists() for n in ("cifar10.zip", "cifar10")):
        raise GradingError(
            f"No CIFAR-10 data {f'in {data_dir}' if data_dir else 'given'}: a Gradescope bundle "
            "carries the data its container grades with. Pass --data DIR (or set "
            "GRADER_DATA_DIR) naming the folder that holds cifar10.zip or cifar10/."
        )
    target.mkdir(parents=True)
    if (data_dir / "cifar10.zip").is_file():
        shutil.copy2(data_dir / "cifar10.zip", target / "cifar10.zip")
    else:
        shutil.copytree(data_dir / "cifar10", target / "cifar10")
    return target


def _warm_cache(
    stage: Path,
    data_dir: Path | None,
    isolation: str | None,
    memory_cap: str | None,
    progress: Progress | None,
) -> tuple[str, ...]:
    """Open a grading run on the bundle's own assignment and data, into a scratch output
    folder, and keep its `cache/`: split arrays, trained base model, graded reference."""
    scratch = stage.parent / "out"
    config = RunConfig(stage / ASSIGNMENT, scratch, data_dir, isolation, memory_cap,
                       progress=progress)  # fmt: skip
    with open_run(config) as run:
        cache = run.layout.cache
    shutil.copytree(cache, stage / OUT / "cache")
    return tuple(sorted(p.name for p in cache.iterdir() if p.is_dir()))


def _wheel(target: Path, checkout: Path | None, given: Path | None) -> Path:
    """The grader's wheel in `target`: `given`, else built (offline, no dependencies) from a
    copy of `checkout`, so that the checkout itself gets no build folders."""
    target.mkdir(parents=True)
    if given is not None:
        return _checked(Path(shutil.copy2(given, target / Path(given).name)))
    source = checkout or Path(grader.__file__).resolve().parent.parent
    if not (source / "pyproject.toml").is_file():
        raise GradingError(
            f"{source} is not a checkout of the grader (no pyproject.toml), so its wheel "
            "cannot be built here: pass --wheel with the grader's .whl file."
        )
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        copy = Path(tmp) / "src"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
        for name in ("grader", "templates", "assignments"):
            shutil.copytree(source / name, copy / name, ignore=ignore)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (source / name).is_file():
                shutil.copy2(source / name, copy / name)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                   "--no-index", "-q", "-w", str(target), str(copy)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = sorted(target.glob("grader-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise GradingError(
                f"Could not build the grader's wheel from {source}: {done.stderr.strip()[-600:]} "
                "Install setuptools and wheel in this environment, or pass --wheel FILE."
            )
    return _checked(wheels[0])


def _checked(wheel: Path) -> Path:
    """`wheel`, once checked to hold the modules a Gradescope run imports."""
    with zipfile.ZipFile(wheel) as archive:
        missing = [n for n in NEEDED_IN_WHEEL if n not in archive.namelist()]
    if missing:
        raise GradingError(
            f"The grader's wheel {wheel.name} lacks {missing}: its package list in "
            "pyproject.toml ([tool.setuptools] packages) misses a subpackage (grader.lms?). "
            "Add it, or pass --wheel with a complete wheel."
        )
    return wheel


def wheel_code_hash(wheel: Path) -> str:
    """`provenance.grader_hash` of the grader a wheel installs (the same files, in the same
    order), which keys the cached base model and reference the container looks up."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(wheel) as archive:
        names = [Path(n) for n in archive.namelist() if n.startswith("grader/")]
        for path in sorted(p for p in names if p.suffix == ".py"):
            relative = path.relative_to("grader")
            if decides_results(relative):
                content = archive.read(path.as_posix())
                digest.update(relative.as_posix().encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:16]


def _reuse_warning(wheel: Path) -> str | None:
    """Why the container would train the base model (and grade the reference) again for
    every submission: the wheel's code is not the code that made the cache."""
    installed, running = wheel_code_hash(wheel), grader_hash()
    if installed == running:
        return None
    return (
        f"the wheel's code (hash {installed}) is not this grader's ({running}), and the "
        "cache is keyed on it: Gradescope will train the base model again for every "
        "submission. Build the bundle with the grader the wheel is made from (a checkout "
        "whose grader/ holds only the package's code), or pass that grader's --wheel."
    )


def _zip(stage: Path, output: Path) -> int:
    """Zip `stage`'s contents at the archive's root (Gradescope looks for setup.sh there);
    the scripts executable, compressed files stored as they are."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in stage.rglob("*") if p.is_file()):
            name = path.relative_to(stage).as_posix()
            info = zipfile.ZipInfo.from_file(path, name)
            info.external_attr = (0o755 if name in ("setup.sh", "run_autograder") else 0o644) << 16
            stored = path.suffix.lower() in STORED
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            with path.open("rb") as source, archive.open(info, "w") as member:
                shutil.copyfileobj(source, member, 2**20)
    partial.replace(output)
    return output.stat().st_size
