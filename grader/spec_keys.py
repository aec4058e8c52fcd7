"""Every key an `assignment.toml` may hold, in one catalogue: its table, type, default, allowed
values and meaning. `grader.spec_reference` writes the instructors' reference from it, and
`tests/test_spec_reference.py` holds it to the reader (key sets, defaults and bounds).

Allowed values are taken from the reader's own constants, so a new optimizer or check kind
shows up here by itself; a new key does not, and the tests fail until it is described.
"""

from __future__ import annotations

from grader import checks, floor, spec_checks
from grader.assignment import (
    DEFAULT_MIN_ISOLATION,
    ISOLATION_LEVELS,
    LANGUAGES,
    ON_TIMEOUT,
    OPTIMIZERS,
    PIXEL_RANGES,
    RESIZE_METHODS,
    SOURCES,
)
from grader.spec_data import MAX_SIDE
from grader.spec_policy import VISIBILITIES
from grader.spec_schema import REQUIRED, Derived, Key, Range, Table

MAX_COUNT = 1_000_000  # images per class a split may ask for (`spec_data.read_amount`)


POSITIVE = (Range(1),)
SHARE = Range(0, 1, low_open=True, integer=False)


def _training(role: str, epochs: str = "") -> tuple[Key, ...]:
    """The keys of a training table: a task's defaults, or the base model's training."""
    return (
        Key("epochs", "integer", REQUIRED, f"Epochs {role}.", ranges=POSITIVE, allowed=epochs),
        Key("batch_size", "integer", 32, "Images per training step.", ranges=POSITIVE),
        Key("optimizer", "string", "adam", "Optimizer an uncompiled model is compiled with "
            "(with `sparse_categorical_crossentropy`); a compiled model keeps its own.",
            choices=OPTIMIZERS),
        Key("learning_rate", "number", 0.001, "The optimizer's learning rate, for an "
            "uncompiled model.", ranges=(Range(0, 10, True, True, integer=False),)),
        Key("early_stopping_patience", "integer", 0, "Epochs without a lower validation loss "
            "before training stops, best weights restored; 0: no early stopping.",
            ranges=(Range(0),)),
    )  # fmt: skip


TOP = Table("", "Top level", "Keys written before any table header.", (
    Key("id", "string", Derived("the assignment folder's name"), "Names the output folder "
        "(`build/<id>/`) and the assignment in results.", allowed="letters, digits and dashes"),
    Key("title", "string", Derived("the assignment folder's name"), "Shown on every report."),
    Key("language", "string", "en", "Language of the reports, messages and generated handout "
        "tables.", choices=LANGUAGES),
    Key("seed", "integer", REQUIRED, "Fixes the split and every training's random state: the "
        "same seed, the same grade.", ranges=(Range(0, 2**32, high_open=True),)),
    Key("allow_custom_objects", "boolean", False, "`false`: a model with `Lambda` layers or "
        "custom layer classes is refused; `true`: it is scored in the student's sandbox and "
        "flagged (loading it runs the student's code)."),
    Key("borderline", "string", "flag", "What a check whose threshold lies inside the "
        "measurement's 95 % interval earns: `flag` as measured (flagged for review), `pass` "
        "full points, `half` at least half.", choices=checks.BORDERLINE_POLICIES),
    Key("learning_floor", "number", floor.DEFAULT_SHARE, "Share of the way from chance to a "
        "perfect score below which a task's checks that do not measure learning earn nothing "
        "(never above its `min_test_accuracy` threshold); 0 turns it off.",
        ranges=(Range(0, 1, high_open=True, integer=False),)),
    Key("min_isolation", "string", DEFAULT_MIN_ISOLATION, "The weakest sandbox grading may "
        "fall back to: a machine that offers only weaker levels refuses to grade and says why "
        "(`python -m grader doctor`). `rlimits` leaves the network reachable to submissions. "
        "`--min-isolation` on the command line overrides it.", choices=ISOLATION_LEVELS),
    Key("data", "table", Derived("CIFAR-10 at 32×32, pixels in [0, 1]"), "Where the images "
        "come from and what models are handed: `[data]`."),
    Key("splits", "table of tables", REQUIRED, "The data splits, at least one: "
        "`[splits.<name>]`."),
    Key("tasks", "table of tables", REQUIRED, "The models students build, at least one: "
        "`[tasks.<id>]`."),
    Key("base_model", "table", None, "The pre-trained model handed to tasks with `uses_base`: "
        "`[base_model]`; required when a task uses it."),
    Key("reference", "table", None, "The instructor's solution: `[reference]`; required when "
        "a threshold is relative to it."),
    Key("late", "table", None, "The due date and late penalty: `[late]`; absent, work is "
        "never late."),
    Key("gradescope", "table", Derived("every check visible, hidden-test checks "
        "`after_published`"), "What Gradescope's autograder shows students: `[gradescope]`."),
))  # fmt: skip

DATA = Table("data", "`[data]`", "Absent: CIFAR-10 at 32×32 with pixels in [0, 1].", (
    Key("source", "string", "cifar10", "`cifar10`: CIFAR-10 (train and test parts); `folder`: "
        "an instructor's photos by class.", choices=SOURCES),
    Key("path", "string", None, "With `source = \"folder\"` (then required): a folder or .zip, "
        "relative to the assignment, holding `train/<class>/` images and optionally "
        "`test/<class>/`.", allowed="unset unless `source = \"folder\"`; must exist"),
    Key("image_size", "[height, width]", [32, 32], "The size of every image models take.",
        ranges=(Range(8, MAX_SIDE, per_item=True),)),
    Key("resize", "string", "stretch", "How images of another size are fitted: `stretch` to "
        "the size, or `crop` the centre to its aspect ratio and scale.", choices=RESIZE_METHODS),
    Key("pixel_range", "[low, high]", [0, 1], "Pixel values models are handed (float32).",
        choices=tuple(list(r) for r in PIXEL_RANGES)),
))  # fmt: skip

_AMOUNT = (
    "Images per class in the {} subset: a count (shared among a relabelled class's "
    "sources), or a share of each source class's images (a number in (0, 1])."
)
SPLIT = Table("splits.<name>", "`[splits.<name>]`", "A set of classes with disjoint train, "
              "validation and hidden-test images; splits draw in the order written. Train and "
              "validation come from the source's training images, the hidden test from its "
              "test images (a folder without `test/`: from `train/`).", (
    Key("classes", "list of strings", Derived("every class of the source, in order"),
        "The split's classes, in label order.", allowed="at least two distinct names: the "
        "source's classes, or names given a `relabel` entry (then `classes` is required)"),
    Key("relabel", "table", Derived("none: each class is its own source"), "New classes drawn "
        "from several source classes: `[splits.<name>.relabel]`."),
    *(Key(f"{s}_per_class", "integer or number", REQUIRED, _AMOUNT.format(w),
          ranges=(Range(0, MAX_COUNT), SHARE))
      for s, w in (("train", "training"), ("val", "validation"), ("test", "hidden-test"))),
))  # fmt: skip

RELABEL = Table("splits.<name>.relabel", "`[splits.<name>.relabel]`", "Only names listed in "
                "the split's `classes`.", (
    Key("<class>", "list of strings", Derived("[<class>]"), "The source classes this class is "
        "drawn from.", allowed="source classes, each used once in the split"),
))  # fmt: skip

BASE_BUILDER = Table("base_model", "`[base_model]`: a builder the grader trains (.py)",
                     "Trained once on a split with the spec's seed, cached, and handed whole "
                     "with every layer frozen. `input_shape` and `pixel_range` must be unset.", (
    Key("file", "string", "base_model.py", "The builder, inside the assignment folder.",
        allowed="ends in `.py`"),
    Key("function", "string", "build_base_model", "Called as `function(input_shape)`; returns "
        "an uncompiled or compiled Keras model."),
    Key("split", "string", REQUIRED, "The split it is trained on (any number of classes).",
        allowed="a name of `[splits.<name>]`"),
    Key("training", "table", REQUIRED, "How it is trained: `[base_model.training]`."),
))  # fmt: skip

BASE_FILE = Table("base_model", "`[base_model]`: a saved model (.keras)", "Saved with its "
                  "weights by Keras 3; read (never trained) and checked before grading. "
                  "`function`, `split` and `training` must be unset.", (
    Key("file", "string", REQUIRED, "The saved model, inside the assignment folder.",
        allowed="ends in `.keras`"),
    Key("input_shape", "[height, width, 3]", REQUIRED, "The input shape the file was saved "
        "with.", allowed="`[data]` `image_size` + `[3]`"),
    Key("pixel_range", "[low, high]", REQUIRED, "The pixel range the file expects.",
        choices=tuple(list(r) for r in PIXEL_RANGES), allowed="`[data]` `pixel_range`"),
))  # fmt: skip

BASE_TRAINING = Table(
    "base_model.training",
    "`[base_model.training]`",
    "For a builder only.",
    _training("the base model is trained for"),
)

TASK = Table("tasks.<id>", "`[tasks.<id>]`", "One model a student builds; `<id>` names it in "
             "`TRAINING`, reports and results.", (
    Key("title", "string", Derived("the task id"), "Shown on reports."),
    Key("function", "string", REQUIRED, "The student's function: `function(input_shape, "
        "num_classes)`, or `function(base_model, num_classes)` with `uses_base`.",
        allowed="a Python identifier"),
    Key("split", "string", REQUIRED, "The split it is trained and tested on.",
        allowed="a name of `[splits.<name>]`"),
    Key("uses_base", "boolean", False, "Hand the function the base model instead of the "
        "input shape (needs `[base_model]`)."),
    Key("defaults", "table", REQUIRED, "Training settings: `[tasks.<id>.defaults]`."),
    Key("limits", "table", REQUIRED, "Hard limits: `[tasks.<id>.limits]`."),
    Key("checks", "array of tables", [], "What is graded: `[[tasks.<id>.checks]]`."),
))  # fmt: skip

DEFAULTS = Table(
    "tasks.<id>.defaults",
    "`[tasks.<id>.defaults]`",
    "Used unless the "
    "submission's `TRAINING[<id>]` sets `epochs`, `batch_size` or "
    "`early_stopping_patience` (within the limits).",
    _training("a model is trained for"),
)

LIMITS = Table("tasks.<id>.limits", "`[tasks.<id>.limits]`", "Over a limit the task gets an "
               "error, not points; time is the exception (`on_timeout`).", (
    Key("max_epochs", "integer", REQUIRED, "Most epochs `TRAINING` may ask for.",
        ranges=POSITIVE),
    Key("max_params", "integer", REQUIRED, "Most parameters a model may have.",
        ranges=POSITIVE),
    Key("max_seconds", "integer", REQUIRED, "Training time in seconds of a training that keeps "
        "its compute threads busy: a CPU budget of `max_seconds` × the threads, in CPU-seconds.",
        ranges=POSITIVE),
    Key("max_batch_size", "integer", 512, "Largest batch size `TRAINING` may ask for.",
        ranges=POSITIVE),
    Key("memory_gb", "number", 6.0, "Memory of the training child, in GiB.",
        ranges=(Range(3, integer=False),)),
    Key("startup_seconds", "integer", 90, "Allowance for importing TensorFlow and building, "
        "on top of `max_seconds`.", ranges=(Range(10),)),
    Key("on_timeout", "string", "score", "A training stopped at its CPU budget: `score` the "
        "model of the last completed epoch (flagged), or `zero`.", choices=ON_TIMEOUT),
))  # fmt: skip

CHECK = Table("tasks.<id>.checks", "`[[tasks.<id>.checks]]`", "One graded requirement; the "
              "keys it takes and its threshold's bounds depend on its kind (below).", (
    Key("kind", "string", REQUIRED, "What is checked.", choices=tuple(checks.KINDS)),
    Key("threshold", "number or table", REQUIRED, "The pass mark, or `{ reference = offset }`: "
        "the reference solution's value plus `offset` (measured kinds only).",
        allowed="the kind's bounds"),
    Key("points", "number", REQUIRED, "Points for passing.", ranges=(Range(0, integer=False),)),
    Key("compare_to", "string", Derived("required by kinds that compare"), "The other task "
        "a comparing kind measures against.", allowed="another task id; comparing kinds only"),
    Key("partial_from", "number or table", None, "Start of a partial-credit ramp: points grow "
        "linearly from here to the threshold.", allowed="the kind's bounds, on the failing "
        "side of the threshold; kinds that ramp only"),
))  # fmt: skip

RELATIVE = Table("tasks.<id>.checks.threshold", "`threshold = { reference = offset }`",
                 "Also `partial_from`. Needs a `[reference]` table; resolved when the "
                 "reference solution is graded.", (
    Key("reference", "number", REQUIRED, "Offset from the reference solution's value.",
        ranges=(Range(spec_checks.OFFSET.low, spec_checks.OFFSET.high, integer=False),)),
))  # fmt: skip

REFERENCE = Table("reference", "`[reference]`", "The instructor's solution, graded like a "
                  "submission and never shown to students.", (
    Key("path", "string", REQUIRED, "A .py, a .ipynb or a submission folder.",
        allowed="relative, inside the assignment folder; must exist (a student's copy may "
        "lack it)"),
))  # fmt: skip

SHARE_OF_MAX = (Range(0, 1, integer=False),)

LATE = Table("late", "`[late]`", "Late work loses points; the penalty and its reason are shown "
             "in the student's report, `summary.csv` and the exports, without retraining "
             "(editing this table re-scores). When a submission was handed in comes from its "
             "`student.toml` (`grader import` writes it). Days late are counted up from the due "
             "date plus the grace minutes, 24 hours each: a minute late is one day late. "
             "Instructors excuse a student in `overrides.toml` (`excuse_late = true`).", (
    Key("due", "date-time", REQUIRED, "The due date, with its UTC offset.",
        allowed="a TOML date-time with an offset, e.g. `2026-12-01T23:59:00+01:00`"),
    Key("per_day", "number", 0.0, "Share of the maximum score deducted per day late.",
        ranges=SHARE_OF_MAX),
    Key("max_penalty", "number", 1.0, "The per-day deduction never exceeds this share of the "
        "maximum score.", ranges=SHARE_OF_MAX),
    Key("cap", "number", 1.0, "Late work earns at most this share of the maximum score: the "
        "penalty grows to reach it (`1`: no cap).", ranges=SHARE_OF_MAX),
    Key("grace_minutes", "integer", 0, "A submission this close after `due` is on time.",
        ranges=(Range(0),)),
    Key("unknown_time_days", "integer", 1, "Days late of work the LMS marked late without its "
        "time (`0`: no penalty).", ranges=(Range(0),)),
))  # fmt: skip

GRADESCOPE = Table("gradescope", "`[gradescope]`", "What Gradescope's autograder "
                   "(`python -m grader gradescope`) shows: each check is one test, with this "
                   "visibility (Gradescope's values).", (
    Key("visibility", "string", "visible", "Checks on the validation split, limits and "
        "errors.", choices=VISIBILITIES),
    Key("hidden_visibility", "string", "after_published", "Checks that measure the hidden test "
        "split: students see them once the grades are published.", choices=VISIBILITIES),
))  # fmt: skip

TABLES = (TOP, DATA, SPLIT, RELABEL, BASE_BUILDER, BASE_FILE, BASE_TRAINING, TASK, DEFAULTS,
          LIMITS, CHECK, RELATIVE, REFERENCE, LATE, GRADESCOPE)  # fmt: skip

KIND_MEANINGS = {
    "min_test_accuracy": "Accuracy on the hidden test split, at least the threshold.",
    "min_val_accuracy": "Accuracy on the validation split, at least the threshold.",
    "max_gap": "Training minus validation accuracy (overfitting), at most the threshold.",
    "max_params": "The model's parameter count, at most the threshold (exact).",
    "reuses_base": "Layers of the base model the built model holds with their pre-trained "
    "weights unchanged, at least the threshold (exact).",
    "beats_scratch": "Test accuracy minus that of the task `compare_to` names (on the same "
    "test images), at least the threshold.",
}
