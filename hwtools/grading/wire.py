"""A safe wire format between the grader and a student's process.

Only data crosses: None, bools, ints, floats, strings, lists, tuples, str-keyed dicts and
numeric numpy arrays (as .npy bytes, loaded with allow_pickle=False). Anything else a
student returns arrives as an ``Opaque`` naming its type, so no student object, and no
pickle, ever reaches the process that compares and scores.
"""
from __future__ import annotations

import base64
import io

import numpy as np

MAX_DEPTH = 20


class ModelFile:
    """A saved Keras model, by path relative to the submission: the student's process loads it,
    so a model can be passed to a student function without crossing the wire."""

    def __init__(self, path: str):
        self.path = str(path)


class Opaque:
    """Stands for a value that is not plain data (a custom class, a function, ...)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<object of type {self.type_name}>"


def _array_bytes(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value, depth: int = 0):
    """Plain-data JSON-able form of a value."""
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": "too deeply nested"}
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        if kind is float and not np.isfinite(value):
            return {"t": "float", "v": repr(value)}
        return {"t": "v", "v": value}
    if kind in (list, tuple):
        return {"t": kind.__name__, "items": [encode(v, depth + 1) for v in value]}
    if kind is dict:
        if all(type(k) is str for k in value):
            return {"t": "dict", "items": [[k, encode(v, depth + 1)] for k, v in value.items()]}
        return {"t": "opaque", "type": "dict with non-string keys"}
    if kind is ModelFile:
        return {"t": "model_file", "path": value.path}
    if isinstance(value, (np.ndarray, np.generic)):
        array = np.array(value, copy=True)
        if array.dtype.kind in "biufc":
            # reshape: ascontiguousarray turns a numpy scalar (0-d) into shape (1,)
            return {"t": "nd", "npy": _array_bytes(np.ascontiguousarray(array).reshape(array.shape))}
        return {"t": "opaque", "type": f"array of dtype {array.dtype}"}
    return {"t": "opaque", "type": f"{kind.__module__}.{kind.__qualname__}"}


def decode(data, load_models: bool = False):
    """The value back from its plain-data form; unknown shapes are refused. Only the student's
    process passes ``load_models`` (a model file becomes a loaded Keras model there)."""
    tag = data["t"]
    if tag == "v":
        return data["v"]
    if tag == "float":
        return float(data["v"])
    if tag in ("list", "tuple"):
        items = [decode(v, load_models) for v in data["items"]]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        return {str(k): decode(v, load_models) for k, v in data["items"]}
    if tag == "nd":
        return np.load(io.BytesIO(base64.b64decode(data["npy"])), allow_pickle=False)
    if tag == "opaque":
        return Opaque(str(data["type"]))
    if tag == "model_file" and load_models:
        import keras

        return keras.saving.load_model(data["path"], safe_mode=True)
    raise ValueError(f"unknown wire tag {tag!r}")
