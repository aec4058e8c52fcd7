"""Every error the grader knows: one exception hierarchy, and the closed set of error kinds.

Instructor-side problems (a broken spec, missing data, a base model that does not train)
are `GraderError`s and stop a run. Problems with one submission are data: a task record
carries an `ErrorKind` (whose fault it is, which self-check step it belongs to) and a
message id with parameters (`grader/messages/`), rendered in the report's language.
Pure: imported by the workers too, so nothing here may import the rest of the grader.
"""

from __future__ import annotations

from enum import Enum
from typing import Any


class GraderError(Exception):
    """Base of every error the grader raises on purpose."""


class SpecError(GraderError, ValueError):
    """An assignment spec is invalid; the message names file, key, value and the fix."""


class DataError(GraderError, RuntimeError):
    """The data set is missing or malformed; the message says where it was looked for."""


class GradingError(GraderError, RuntimeError):
    """An instructor-side problem (spec, data, base model, options): the whole run stops."""


class ChildOutputError(GraderError, ValueError):
    """A file a child left behind is missing, oversized, a link, or malformed."""


class RecordError(GraderError, ValueError):
    """A stored result file is too old, too new or malformed; the message says which."""


class Fault(Enum):
    """Whose problem an error is: it decides the wording and who is asked to act."""

    STUDENT = "student"
    GRADER = "grader"  # a bug in the grader: reported as such, never as the student's crash
    ENVIRONMENT = "environment"  # the machine (disk, memory of the host, a missing file)


class Step(Enum):
    """The self-check's steps, in the order a worker takes them."""

    IMPORTS = "imports"
    TRAINING_CONFIG = "training_config"
    RETURNS_MODEL = "returns_model"
    INPUT_SHAPE = "input_shape"
    OUTPUT_SHAPE = "output_shape"
    PARAMS = "params"
    SAVES = "saves"
    LOSS = "loss"
    TRAINS = "trains"
    SCORES = "scores"


class ErrorKind(Enum):
    """Every way a task can fail: stored by value in result files (a closed set)."""

    # staging the submission
    MISSING_FILE = ("missing_file", Fault.STUDENT, Step.IMPORTS)
    BAD_SUBMISSION = ("bad_submission", Fault.STUDENT, Step.IMPORTS)
    BAD_NOTEBOOK = ("bad_notebook", Fault.STUDENT, Step.IMPORTS)
    # the training worker, in the order it works
    SYNTAX_ERROR = ("syntax_error", Fault.STUDENT, Step.IMPORTS)
    IMPORT_ERROR = ("import_error", Fault.STUDENT, Step.IMPORTS)
    MISSING_FUNCTION = ("missing_function", Fault.STUDENT, Step.IMPORTS)
    BAD_SIGNATURE = ("bad_signature", Fault.STUDENT, Step.IMPORTS)
    TRAINING_CONFIG = ("training_config", Fault.STUDENT, Step.TRAINING_CONFIG)
    BUILD_ERROR = ("build_error", Fault.STUDENT, Step.RETURNS_MODEL)
    NOT_A_MODEL = ("not_a_model", Fault.STUDENT, Step.RETURNS_MODEL)
    WRONG_INPUT_SHAPE = ("wrong_input_shape", Fault.STUDENT, Step.INPUT_SHAPE)
    WRONG_OUTPUT_SHAPE = ("wrong_output_shape", Fault.STUDENT, Step.OUTPUT_SHAPE)
    TOO_MANY_PARAMS = ("too_many_params", Fault.STUDENT, Step.PARAMS)
    SAVE_ERROR = ("save_error", Fault.STUDENT, Step.SAVES)
    UNSUPPORTED_LOSS = ("unsupported_loss", Fault.STUDENT, Step.LOSS)
    NAN_LOSS = ("nan_loss", Fault.STUDENT, Step.TRAINS)
    TRAINING_ERROR = ("training_error", Fault.STUDENT, Step.TRAINS)
    # how the training child ended
    CRASH = ("crash", Fault.STUDENT, Step.TRAINS)
    TIMEOUT = ("timeout", Fault.STUDENT, Step.TRAINS)
    DISK_LIMIT = ("disk_limit", Fault.STUDENT, Step.TRAINS)
    BAD_OUTPUT = ("bad_output", Fault.STUDENT, Step.TRAINS)
    # scoring
    CUSTOM_OBJECTS = ("custom_objects", Fault.STUDENT, Step.SCORES)
    BAD_MODEL_FILE = ("bad_model_file", Fault.STUDENT, Step.SCORES)
    BAD_PREDICTIONS = ("bad_predictions", Fault.STUDENT, Step.SCORES)
    EVALUATION_FAILED = ("evaluation_failed", Fault.ENVIRONMENT, Step.SCORES)
    # the grader's own bug: a traceback in the log, never blamed on the student
    GRADER_ERROR = ("grader_error", Fault.GRADER, Step.SCORES)

    def __init__(self, code: str, fault: Fault, step: Step) -> None:
        self.code, self.fault, self.step = code, fault, step

    @classmethod
    def parse(cls, value: Any) -> ErrorKind:
        """The kind stored as `value`; anything unknown (a child's invention) is a grader error.

        A child that ran student code may report any string: only the closed set passes.
        """
        for kind in cls:
            if kind.code == value:
                return kind
        return cls.GRADER_ERROR


class StudentError(Exception):
    """A problem with a submission, found inside a worker: a kind, a message id, parameters.

    The message itself is rendered by the host, in the report's language.
    """

    def __init__(self, kind: ErrorKind, message_id: str, **params: Any) -> None:
        super().__init__(f"{kind.code}: {message_id} {params}")
        self.kind, self.message_id, self.params = kind, message_id, params
