"""The budget switch: HW_MODE=full|grade|ci sets data sizes, epochs, trials and thresholds.

Students run `full` (the assignment as written), the autograder runs `grade` (minutes per
submission on a CPU), the project's tests run `ci` (seconds). Every threshold sits next to
the calibration it came from.
"""
from __future__ import annotations

import os
from types import MappingProxyType

MODES = ("full", "grade", "ci")
DEFAULT_MODE = "full"

_BUDGETS = {
    "batchnorm": {
        # Pure numpy: the same work in every mode.
        "full": {"hidden_call_timeout_s": 20},
        "grade": {"hidden_call_timeout_s": 20},
        "ci": {"hidden_call_timeout_s": 10},
    },
}


def mode() -> str:
    """The active mode, validated: a typo must not silently train for hours."""
    value = os.environ.get("HW_MODE", DEFAULT_MODE).strip().lower()
    if value not in MODES:
        raise ValueError(f"HW_MODE={value!r} is not a budget; use one of {', '.join(MODES)}")
    return value


def budget(assignment: str, mode_name: str | None = None) -> MappingProxyType:
    """The settings of one assignment in the given (default: active) mode, read-only."""
    if assignment not in _BUDGETS:
        raise KeyError(f"no budget for assignment {assignment!r}; known: {sorted(_BUDGETS)}")
    return MappingProxyType(dict(_BUDGETS[assignment][mode_name or mode()]))


def register(assignment: str, per_mode: dict) -> None:
    """Declare an assignment's budget; every mode must be given."""
    missing = set(MODES) - set(per_mode)
    if missing:
        raise ValueError(f"budget for {assignment!r} lacks modes {sorted(missing)}")
    _BUDGETS[assignment] = per_mode
