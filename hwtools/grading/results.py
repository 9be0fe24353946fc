"""What grading one submission yields, as typed data: what a worker sends back, what the driver
records (``gradebook_writer``), summarises (``autograde.summary_table``) and keeps in the
grading state (``SubmissionResult.state``, the JSON beside autograded/).

A hidden suite writes its checks as JSON (``hidden_suite``); they become ``CheckResult`` at
that boundary. Runs in both the worker and the driver; plain data only, so it pickles across
machines.

``metrics`` are the numbers a hidden suite measured itself on the student's saved model (test
accuracy, AUC, R^2: ``hidden_suite.record_metric``), never one the submission reported; they go
into the grading state, for ``hw leaderboard``, and never into feedback.
"""
from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields

STATE_KEYS = ("status", "reason", "score", "max_score", "manual_pending", "fingerprint", "seconds",
              "hidden_status", "checks", "metrics")
METRIC_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
MAX_METRICS = 20


def checked_metrics(data) -> dict[str, float]:
    """The metrics of a hidden suite's results (name -> number) that have the expected form: a
    short lower-case name and a finite number; anything else is left out."""
    if not isinstance(data, dict):
        return {}
    metrics = {}
    for name, value in list(data.items())[:MAX_METRICS]:
        if isinstance(name, str) and METRIC_NAME.match(name) and type(value) in (int, float) \
                and math.isfinite(value):
            metrics[name] = float(value)
    return metrics


@dataclass(frozen=True)
class CheckResult:
    """One hidden check: its points in its group (= a hidden grade cell) and what it said."""
    id: str
    group: str
    points: float
    earned: float
    passed: bool
    description: str = ""
    message: str = ""
    nodeid: str = ""
    grader_error: bool = False  # the grader's own code raised: not the student's fault
    grader_detail: str = ""  # for the TA only

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(frozen=True)
class CellGrade:
    """The score of one grade cell, as recorded in the gradebook."""
    notebook: str
    name: str
    auto_score: float | None  # None: waits for a TA
    needs_manual_grade: bool
    max_score: float


@dataclass
class SubmissionResult:
    """One submission, graded (``status`` "graded" or "failed", recorded), refused (an id that
    cannot be graded safely), kept (unchanged since recorded), or lost to a grader error."""
    student: str
    assignment: str
    status: str  # graded | failed | refused | error
    reason: str = ""
    score: float | None = 0.0
    max_score: float | None = 0.0
    manual_pending: float = 0.0
    grades: list[CellGrade] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    hidden_status: str = ""
    fingerprint: str = ""
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # name -> bytes, for autograded/; dropped once written
    flags: list[str] = field(default_factory=list)  # for the TA to look at
    metrics: dict[str, float] = field(default_factory=dict)  # measured by the hidden suite (``checked_metrics``)
    skipped: bool = False  # kept from an earlier run

    @property
    def recorded(self) -> bool:
        """Whether its scores go into the gradebook."""
        return self.status in ("graded", "failed")

    @property
    def grader_errors(self) -> list[CheckResult]:
        return [check for check in self.checks if check.grader_error]

    def state(self) -> dict:
        """What the grading state keeps of it (JSON)."""
        return {key: [asdict(c) for c in self.checks] if key == "checks" else getattr(self, key) for key in STATE_KEYS}

    @classmethod
    def from_state(cls, assignment: str, student: str, state: dict, **changes) -> "SubmissionResult":
        """A result as recorded in an earlier run (``state``)."""
        values = {key: state[key] for key in STATE_KEYS if key in state}
        values["checks"] = [CheckResult.from_dict(c) for c in values.get("checks", []) if isinstance(c, dict)]
        values["metrics"] = checked_metrics(values.get("metrics"))
        return cls(student=student, assignment=assignment, **{**values, "status": state.get("status", "graded"),
                                                                **changes})
