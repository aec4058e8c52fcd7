"""Calling the student's function, and checking what it returned against the task."""

from __future__ import annotations

import inspect
from typing import Any

from grader.errors import ErrorKind, StudentError
from grader.protocol import TrainRequest
from grader.worker.diagnose import private_model, student_error
from grader.worker.runtime import describe, signature
from grader.worker.subclass import functional_twin, student_subclass

EXPECTED = {  # how each kind of call reads in a message
    "shape": "(input_shape, num_classes)",
    "base": "(base_model, num_classes)",
    "base_model": "(input_shape)",
}


def build(module: Any, request: TrainRequest, base: Any) -> Any:
    """Call the task's function with the arguments its kind of call takes.

    Raises:
        StudentError: the function is missing, takes other parameters, or raised.
    """
    name, expected = request.function, EXPECTED[request.call]
    shape, n = tuple(request.input_shape), request.num_classes
    fn = getattr(module, name, None)
    if not callable(fn):
        raise StudentError(
            ErrorKind.MISSING_FUNCTION, "missing_function", function=name, expected=expected
        )
    args = {"shape": (shape, n), "base": (base, n), "base_model": (shape,)}[request.call]
    _check_signature(fn, name, expected, args)
    try:
        model = fn(*args)
    except BaseException as exc:  # noqa: BLE001 - the student's function failed
        kind = ErrorKind.BUILD_ERROR
        raise student_error(exc, kind, "build_error", function=name, expected=expected) from None
    if student_subclass(model):  # graded as the functional model its call() builds
        return functional_twin(model, name, shape)
    return model


def _check_signature(fn: Any, name: str, expected: str, args: tuple) -> None:
    try:
        inspect.signature(fn).bind(*args)
    except (TypeError, ValueError):
        raise StudentError(
            ErrorKind.BAD_SIGNATURE,
            "bad_signature",
            function=name,
            expected=expected,
            signature=signature(fn),
        ) from None


def validate_model(model: Any, request: TrainRequest) -> None:
    """A Keras model taking this task's images, one output unit per class, within limits.

    Raises:
        StudentError: not a model, wrong input or output shape, or too many parameters.
    """
    usable_model(model, request)
    problems = model_problems(model, request)
    if problems:
        raise problems[0]


def usable_model(model: Any, request: TrainRequest) -> None:
    """A Keras model of an accepted kind, built for this task's images: what every later
    check reads.

    Raises:
        StudentError: not a model, a kind of model grading refuses, or one these images
            cannot build.
    """
    _check_class(model, request)
    _ensure_built(model, request.function, tuple(request.input_shape))


def model_problems(model: Any, request: TrainRequest) -> list[StudentError]:
    """The input shape, output shape and parameter count of a usable model, each checked on
    its own: every problem, in `validate_model`'s order (the self-check names them all)."""
    name, shape = request.function, tuple(request.input_shape)
    checks = [
        lambda: _check_input(model, name, shape),
        lambda: _check_output(model, name, request.classes),
        lambda: _check_params(model, name, request.limits.max_params),
    ]
    problems = []
    for check in checks:
        try:
            check()
        except StudentError as exc:
            problems.append(exc)
    return problems


def _check_params(model: Any, name: str, limit: int) -> None:
    params = model.count_params()
    if params > limit:
        raise StudentError(
            ErrorKind.TOO_MANY_PARAMS,
            "too_many_params",
            function=name,
            params=int(params),
            max_params=limit,
        )


def _check_class(model: Any, request: TrainRequest) -> None:
    """A keras.Model (a student's subclass was replaced by its functional twin in `build`)."""
    import keras

    cls, name = type(model), request.function
    if private_model(model):
        raise StudentError(
            ErrorKind.NOT_A_MODEL,
            "not_a_model.private_keras",
            function=name,
            type=cls.__name__,
            module=cls.__module__.split(".engine")[0],
        )
    if not isinstance(model, keras.Model):
        raise StudentError(ErrorKind.NOT_A_MODEL, "not_a_model", function=name, type=cls.__name__)


def _ensure_built(model: Any, name: str, shape: tuple[int, ...]) -> None:
    """Build a model defined without an Input (a subclass, a Sequential without one)."""
    if model.built and getattr(model, "inputs", None):
        return
    try:
        model.build((None, *shape))
    except Exception as exc:  # noqa: BLE001 - the student's layers refuse these inputs
        raise StudentError(
            ErrorKind.WRONG_INPUT_SHAPE,
            "wrong_input_shape.unbuildable",
            function=name,
            shape=str(shape),
            error=describe(exc),
        ) from None


def _check_input(model: Any, name: str, shape: tuple[int, ...]) -> None:
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != shape:
        got = [tuple(i.shape[1:]) for i in inputs]
        raise StudentError(
            ErrorKind.WRONG_INPUT_SHAPE,
            "wrong_input_shape",
            function=name,
            got=str(got[0] if len(got) == 1 else got),
            shape=str(shape),
        )


def _check_output(model: Any, name: str, classes: tuple[str, ...]) -> None:
    n, outputs = len(classes), model.outputs
    units = outputs[0].shape[-1] if len(outputs) == 1 and len(outputs[0].shape) == 2 else None
    if units != n and not (n == 2 and units == 1):
        got = [tuple(o.shape[1:]) for o in outputs]
        raise StudentError(
            ErrorKind.WRONG_OUTPUT_SHAPE,
            "wrong_output_shape",
            function=name,
            units=int(units) if units is not None else str(got),
            n=n,
            classes=", ".join(classes),
        )
