"""The shared kit of the hidden suites (issue 19, item 7): the parts every suite repeats, as
generic helpers. No hidden test code lives here: what is graded, and against what, stays in
``tests/hidden/``.

- **The contract first** (``returned_array``, ``returned_tuple``, ``returned_number``,
  ``required_keys``): what a student's function returned, or a notebook saved, is checked
  against its documented contract (type, shape, dtype, finiteness, required keys) before any
  value is compared. A broken rule fails with ``ContractBroken``, whose message names the rule
  ("contract: out must have shape (8, 3) ...; got shape (3, 8)"). ``same_values_as`` lets a
  later check adapt where the contract leaves no doubt (a (1, D) array holding D values).
- **Error paths** (``expect_error``): the function must first work on a valid input, and only
  then raise the expected exception for the case under test, so a crash never earns the point.
- **Saved models** (``load_model``, ``predict``) with messages a student can act on, and the
  **accuracy check** (``check_accuracy``).

Everything a student's work can make go wrong here raises a ``CheckFailure``: an exception of
any other type is the grader's own (see ``hwtools.grading.hidden_suite``).
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from hwtools.checks import CheckFailure, assert_accuracy
from hwtools.grading.student import StudentError


class ContractBroken(CheckFailure):
    """A value breaks its documented contract; ``rule`` is the rule, in words."""

    def __init__(self, name: str, rule: str, found: str):
        self.name, self.rule, self.found = name, rule, found
        super().__init__(f"contract: {name} must {rule}; got {found}")


def describe(value) -> str:
    """A short description of a value for a message: its type, and for arrays shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    if value is None:
        return "None"
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}" if isinstance(value, (int, float, str)) else type(value).__name__


def _shape_text(shape) -> str:
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def returned_array(value, name: str, *, shape=None, ndim: int | None = None, dtype=None, kind: str | None = None,
                   finite: bool = True, numpy_only: bool = False, shape_note: str = "") -> np.ndarray:
    """``value`` as a numpy array, after checking the contract: a numpy array (``numpy_only``) or
    anything numeric that converts; ``shape`` (None matches any size), ``ndim``; ``dtype``
    exactly, or ``kind`` ("float", "integer", "numeric"); every value finite (``finite``).
    ``shape_note`` says where the shape comes from ("the shape of x")."""
    __tracebackhide__ = True
    if numpy_only and not isinstance(value, np.ndarray):
        raise ContractBroken(name, "be a numpy array", describe(value))
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, dict):
        raise ContractBroken(name, "be a numeric array", describe(value))
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise ContractBroken(name, "be a numeric array", f"{describe(value)} ({err})"[:200]) from None
    if array.dtype.kind not in "biuf":
        raise ContractBroken(name, "be a numeric array", describe(value) if isinstance(value, np.ndarray)
                             else f"{describe(value)} that converts to dtype {array.dtype}")
    if dtype is not None and array.dtype != np.dtype(dtype):
        raise ContractBroken(name, f"have dtype {np.dtype(dtype)}", f"dtype {array.dtype}")
    if kind == "float" and array.dtype.kind != "f":
        raise ContractBroken(name, "hold floating-point values", f"dtype {array.dtype}")
    if kind == "integer" and array.dtype.kind not in "iu":
        raise ContractBroken(name, "hold integers", f"dtype {array.dtype}")
    note = f" ({shape_note})" if shape_note else ""
    if ndim is not None and array.ndim != ndim:
        raise ContractBroken(name, f"have {ndim} axes{note}", f"shape {array.shape}")
    if shape is not None:
        shape = tuple(shape)
        if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
            raise ContractBroken(name, f"have shape {_shape_text(shape)}{note}", f"shape {array.shape}")
    if finite and array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise ContractBroken(name, "hold finite values", f"{bad} of {array.size} values NaN or infinite")
    return array


def same_values_as(array: np.ndarray, shape, name: str) -> np.ndarray:
    """The array reshaped to ``shape`` when that leaves no doubt (only axes of length 1 differ,
    e.g. (1, D) for (D,)); else a ContractBroken naming the shape. For checks that grade what
    a value does, when another check grades its shape."""
    __tracebackhide__ = True
    array = np.asarray(array)
    shape = tuple(shape)
    if array.shape == shape:
        return array
    if array.size == int(np.prod(shape)) and tuple(s for s in array.shape if s != 1) == tuple(s for s in shape if s != 1):
        return array.reshape(shape)
    raise ContractBroken(name, f"hold {int(np.prod(shape))} values of shape {_shape_text(shape)}", f"shape {array.shape}")


def returned_tuple(value, length: int, name: str, parts: str) -> tuple:
    """A tuple (or list) of ``length`` items; ``parts`` names them, e.g. "(out, cache)"."""
    __tracebackhide__ = True
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise ContractBroken(name, f"return {parts}, a tuple of {length}", describe(value))
    return tuple(value)


def returned_number(value, name: str, *, integer: bool = False, finite: bool = True):
    """A real number (never a bool); ``integer``: a whole number. A numpy scalar (np.float64,
    which crosses the wire as a 0-d array) is a number too."""
    __tracebackhide__ = True
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ContractBroken(name, "be a number", describe(value))
    if finite and not np.isfinite(value):
        raise ContractBroken(name, "be a finite number", repr(value))
    if integer and float(value) != int(value):
        raise ContractBroken(name, "be a whole number", repr(value))
    return value


def required_keys(mapping, keys, name: str) -> dict:
    """A dict holding every key of ``keys``."""
    __tracebackhide__ = True
    if not isinstance(mapping, dict):
        raise ContractBroken(name, f"be a dict with the keys {list(keys)}", describe(mapping))
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise ContractBroken(name, f"hold the keys {list(keys)}", f"no {missing} (it has {sorted(mapping)[:8]})")
    return mapping


# --- error paths --------------------------------------------------------------------------

def expect_error(module, function: str, *, valid: tuple, invalid: tuple, error: str, valid_case: str, case: str,
                 wording: str | None = None, check_valid=None) -> StudentError:
    """The student's ``function`` works on ``valid`` (``(args, kwargs)``; ``check_valid`` may
    check what it returned) and raises ``error`` (an exception class name: the error or a
    subclass) on ``invalid``. ``wording`` (a regular expression, case-insensitive) is what the
    assignment says the message holds, where it says. Without the valid call first, a function
    that crashes on every input would pass: its crash is no error handling. Returns the error."""
    __tracebackhide__ = True
    args, kwargs = valid
    try:
        returned = module.call(function, *args, **kwargs).value
    except StudentError as err:
        raise CheckFailure(f"{function} already fails on a valid input ({valid_case}: {err.type_name}: "
                           f"{str(err)[:200]}), so an error for {case} says nothing about handling {case}") from None
    if check_valid is not None:
        check_valid(returned)
    args, kwargs = invalid
    try:
        returned = module.call(function, *args, **kwargs).value
    except StudentError as err:
        if not err.is_a(error):
            raise CheckFailure(f"{case} raised {err.type_name}, expected {error}") from None
        if wording is not None and not re.search(wording, str(err), flags=re.IGNORECASE):
            raise CheckFailure(f"{case} raised {error}({str(err)[:120]!r}); the assignment asks for a message "
                               f"matching {wording!r}") from None
        return err
    raise CheckFailure(f"{case} returned {describe(returned)}, expected a {error}")


# --- saved models and accuracy -----------------------------------------------------------------

def load_model(path: Path, shown_as: str, missing_hint: str = "run the notebook to the end; it saves it"):
    """A saved Keras model, loaded in safe mode (no code from the file runs); a missing or
    broken file is a CheckFailure saying which and why."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise CheckFailure(f"{shown_as} is missing: {missing_hint}")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # a broken or unsafe file, whatever keras raises: the student's file
        raise CheckFailure(f"{shown_as} could not be loaded safely: {type(err).__name__}: {err}"[:600]) from None


def inference(model, inputs: np.ndarray, batch_size: int):
    """What ``model.predict(inputs, batch_size=batch_size)`` returns (numpy arrays, in its
    structure: one array, or a list or dict of them), computed as ``model(batch,
    training=False)`` batch by batch. The same layers in inference mode, without tracing and
    compiling a predict function for the model first: for the few hundred inputs a grader
    sends, the tracing costs more than the arithmetic (flowers' MobileNetV2 on 100 images: 0.5
    s instead of 0.7 to 1.3 s)."""
    import keras

    batches = [keras.tree.map_structure(np.asarray, model(inputs[start:start + batch_size], training=False))
               for start in range(0, max(len(inputs), 1), batch_size)]
    if len(batches) == 1:
        return batches[0]
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *batches)


def predict(model, inputs: np.ndarray, what: str, *, batch_size: int = 256, outputs: tuple | None = None,
            name: str = "your model's output") -> np.ndarray:
    """The model's predictions on the grader's ``inputs`` (``what`` says what they are) as float64,
    after checking the contract of the output: ``outputs`` is its shape per input (None matches
    any size), and every value is finite. A model that cannot take the inputs is the student's."""
    __tracebackhide__ = True
    try:
        output = inference(model, inputs, batch_size)
    except Exception as err:  # a model built for other inputs: whatever keras raises
        raise CheckFailure(f"your saved model cannot predict {what} of shape {tuple(inputs.shape[1:])}: "
                           f"{type(err).__name__}: {err}"[:600]) from None
    if isinstance(output, (list, tuple, dict)):
        raise ContractBroken(name, "be one array (a model with one output)", describe(output))
    shape = None if outputs is None else (len(inputs),) + tuple(outputs)
    return returned_array(output, name, shape=shape, shape_note=f"one row per input of {what}").astype(np.float64)


def check_accuracy(model, images, labels, threshold: float, *, on: str, budget_note: str, n_classes: int,
                   batch_size: int = 256, metric: str | None = None) -> float:
    """The saved model's accuracy on the grader's images: its output must be ``n_classes`` finite
    scores per image (the contract), then the accuracy must reach ``threshold``. With ``metric``,
    the accuracy is recorded under that name first (``hidden_suite.record_metric``, for ``hw
    leaderboard``), whether or not it reaches the threshold."""
    __tracebackhide__ = True
    probabilities = predict(model, images, on, batch_size=batch_size, outputs=(n_classes,))
    if metric is not None:
        from hwtools.grading.hidden_suite import record_metric

        record_metric(metric, np.mean(probabilities.argmax(axis=1) == np.asarray(labels)))
    return assert_accuracy(probabilities, labels, threshold, on, budget_note)


def npz_arrays(path: Path, shown_as: str, keys: tuple, missing_hint: str) -> dict:
    """Named arrays of an .npz file (never pickles); a missing, broken or incomplete file is a
    CheckFailure naming the keys the contract asks for."""
    path = Path(path)
    if not path.is_file():
        raise CheckFailure(f"{shown_as} is missing: {missing_hint}")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [key for key in keys if key not in data.files]
            if missing:
                raise ContractBroken(shown_as, f"hold the arrays {list(keys)}", f"no {missing} (it has {data.files})")
            return {key: np.asarray(data[key]) for key in keys}
    except CheckFailure:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise CheckFailure(f"{shown_as} cannot be read as a .npz of plain arrays: {type(err).__name__}: "
                           f"{err}"[:400]) from None


def json_object(path: Path, shown_as: str, missing_hint: str) -> dict:
    """A JSON file holding one object (a dict), as its contract says; a missing or broken file
    is a CheckFailure saying which and why."""
    path = Path(path)
    if not path.is_file():
        raise CheckFailure(f"{shown_as} is missing: {missing_hint}")
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckFailure(f"{shown_as} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ContractBroken(shown_as, "hold a JSON object ({...})", describe(data))
    return data


def with_population_batchnorm(model, images, batch_size: int = 250):
    """(a copy of the model whose BatchNormalization layers use the population statistics of
    ``images``, how many layers were set). Keras keeps a moving average of each BatchNormalization
    input's mean and variance, starting from 0 and 1 with momentum 0.99: after N training steps
    1.0 * 0.99**N of the start remains, 0.10 after the 228 steps of kerastuner_mnist's ci budget,
    where a first convolution's output varies by 0.002-0.005. A model trained that briefly then
    predicts one class at inference, however good its weights (measured: training-mode accuracy
    1.0, inference 0.10). The full budget's thousands of steps leave nothing of the start, so
    setting the statistics to what they converge to measures the student's model, not the
    budget's step count. Top-level BatchNormalization layers only (not inside nested models);
    the model given is left as it is."""
    import keras

    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers:
        return model, 0
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    images = np.asarray(images, dtype="float32")
    for layer in (copy.get_layer(layer.name) for layer in layers):
        inputs_of = keras.Model(copy.inputs, layer.input)  # inference mode: earlier layers already set
        axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
        total = total_squares = None
        count = 0
        for start in range(0, len(images), batch_size):
            values = np.asarray(inputs_of(images[start:start + batch_size], training=False), dtype=np.float64)
            reduce = tuple(i for i in range(values.ndim) if i not in [a % values.ndim for a in axes])
            batch_sum, batch_squares = values.sum(axis=reduce), (values ** 2).sum(axis=reduce)
            total = batch_sum if total is None else total + batch_sum
            total_squares = batch_squares if total_squares is None else total_squares + batch_squares
            count += values.size // batch_sum.size
        mean = total / count
        layer.moving_mean.assign(mean.astype("float32"))
        layer.moving_variance.assign(np.maximum(total_squares / count - mean ** 2, 0.0).astype("float32"))
    return copy, len(layers)
