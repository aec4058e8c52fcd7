# Everything a person types. `make grade` sets up a fresh machine and grades submissions/.
# Python: the distribution's python3 when it is 3.11-3.13, else a python3.1x it has or can
# install (scripts/install-system-deps.sh); or name one: make PYTHON_SYSTEM=/usr/bin/python3.12
PYTHON_SYSTEM ?=
# TensorFlow: the GPU build where nvidia-smi sees a GPU, else the CPU one (TF=cpu or TF=gpu).
TF ?= $(if $(shell nvidia-smi -L 2>/dev/null),gpu,cpu)
VENV := .venv
PY := $(VENV)/bin/python
# Data: DATA=dir, else $GRADER_DATA_DIR, else ../shared/data when it is there, else download.
DATA ?= $(or $(GRADER_DATA_DIR),$(if $(wildcard ../shared/data/cifar10.zip),../shared/data))
DATA_FLAG := $(if $(DATA),--data $(DATA))
OUT ?= build
ASSIGNMENT ?= assignments/transfer-learning
# An assignment's own examples when it ships some (assignments/X/submissions/), else ./submissions.
SUBMISSIONS ?= $(if $(wildcard $(ASSIGNMENT)/submissions),$(ASSIGNMENT)/submissions,submissions)

.PHONY: setup grade report test test-fast test-pythons bench bench-class lint doctor check clean handout-tables handout-check \
	spec-reference handout

$(VENV)/.installed: pyproject.toml scripts/install-system-deps.sh
	python=$$(./scripts/install-system-deps.sh $(PYTHON_SYSTEM)) && \
	  { test -x $(PY) || $$python -m venv $(VENV); }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[grade,$(TF),dev,ray]"
	touch $@

setup: $(VENV)/.installed

grade: setup
	$(PY) -m grader grade --assignment $(ASSIGNMENT) --submissions $(SUBMISSIONS) --out $(OUT) $(DATA_FLAG) $(ARGS)

report: setup
	$(PY) -m grader report --assignment $(ASSIGNMENT) --out $(OUT)

check: setup
	$(PY) -m grader check $(SUBMISSION) --assignment $(ASSIGNMENT) --out $(OUT) $(DATA_FLAG) $(ARGS)

test: setup
	$(PY) -m pytest $(ARGS)

test-fast: setup
	$(PY) -m pytest -m "not slow" $(ARGS)

# The fast suite on every other Python 3.10-3.13 found on PATH, each in a venv of its own.
test-pythons: setup
	./scripts/test-pythons.sh $(ARGS)

bench: setup
	$(PY) -m benchmarks.bench --out $(OUT)/bench $(DATA_FLAG)
	$(PY) -m benchmarks.reports
	$(PY) -m benchmarks.hostile_memory $(DATA_FLAG)

# A class of 8 (short and long): students per hour, locally and on local Ray clusters (~2 h).
bench-class: setup
	$(PY) -m benchmarks.bench_class --out $(OUT)/bench-class $(DATA_FLAG) $(ARGS)

# All three run, every problem is shown; the target fails when any of them did.
lint: setup
	@status=0; \
	$(PY) -m ruff check grader tests benchmarks || status=1; \
	$(PY) -m ruff format --check grader tests benchmarks || status=1; \
	$(PY) -m mypy grader || status=1; \
	exit $$status

# The handout's calibration table, from the results of `make grade` (never typed by hand).
handout-tables: setup
	$(PY) -m grader.report.calibration --results $(OUT)/$(notdir $(ASSIGNMENT))/results --handout $(ASSIGNMENT)/README.md

handout-check: setup
	$(PY) -m grader.report.calibration --results $(OUT)/$(notdir $(ASSIGNMENT))/results --handout $(ASSIGNMENT)/README.md --check

# Written from the spec (never typed by hand): the assignment.toml reference, and the
# handout's requirements table. `python -m grader ... --check` says whether they are current.
spec-reference: setup
	$(PY) -m grader spec-reference --output docs/assignment-reference.md

handout: setup
	$(PY) -m grader handout --assignment $(ASSIGNMENT)

doctor: setup
	$(PY) -m grader doctor --assignment $(ASSIGNMENT)

clean:
	rm -rf $(OUT) .pytest_cache
