"""The budget switch: HW_MODE=full|grade|ci sets data sizes, epochs, trials and thresholds.

Students run `full` (the assignment as written), the autograder runs `grade` (minutes per
submission on a CPU), the project's tests run `ci` (seconds). Each assignment declares its
budget as ``BUDGET = {mode: settings}`` in ``hwtools/assignments/<assignment>.py``, with the
calibration of every threshold written beside it.
"""
from __future__ import annotations

import importlib
import os
from types import MappingProxyType

MODES = ("full", "grade", "ci")
DEFAULT_MODE = "full"


def mode() -> str:
    """The active mode, validated: a typo must not silently train for hours."""
    value = os.environ.get("HW_MODE", DEFAULT_MODE).strip().lower()
    if value not in MODES:
        raise ValueError(f"HW_MODE={value!r} is not a budget; use one of {', '.join(MODES)}")
    return value


def grading_mode() -> str:
    """The mode submissions are executed in: ``grade``, or ``ci`` when the tests run."""
    return "ci" if mode() == "ci" else "grade"


def budget(assignment: str, mode_name: str | None = None) -> MappingProxyType:
    """The settings of one assignment in the given (default: active) mode, read-only."""
    try:
        module = importlib.import_module(f"hwtools.assignments.{assignment}")
    except ModuleNotFoundError:
        raise KeyError(f"no budget for assignment {assignment!r} (hwtools/assignments/{assignment}.py)") from None
    per_mode = module.BUDGET
    missing = set(MODES) - set(per_mode)
    if missing:
        raise ValueError(f"budget of {assignment!r} lacks modes {sorted(missing)}")
    return MappingProxyType(dict(per_mode[mode_name or mode()]))
