"""``hw leaderboard ASSIGNMENT``: the class ranked by the number the grader measured itself on
each student's saved model (test accuracy, ROC AUC, R^2), as an HTML page and a CSV.

Only grader-measured numbers count: a hidden check measures the model on data the grader
chooses and records the number (``hidden_suite.record_metric``) in the grader's own process,
which never runs student code; it travels in the suite's results to the driver, which keeps it
in the grading state (autograded/<student>/.hw-grade-<assignment>.json, never copied into
feedback). A number a notebook prints or saves is never read. A submission the grader flagged
(a model trained elsewhere or longer than the budget) or could not run is listed, not ranked.

Students appear under pseudonyms unless the course opts into names (``HW_LEADERBOARD_NAMES=1``
or ``--names``): ``anon-`` and an HMAC-SHA256 of the id under the course's own key
(``.hw-leaderboard.key`` at the course root, made on first use, never committed and never
visible to student code), so a pseudonym is stable across runs and assignments and nobody
without the key can tell whose it is. The pages go to reports/, which is never released.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hwtools.checks import FLAGGED
from hwtools.course import Course
from hwtools.course.export import NothingRecorded
from hwtools.course.gradebook_writer import recorded_state
from hwtools.course.sanitize import csv_safe
from hwtools.grading.results import checked_metrics

NAMES_SWITCH = "HW_LEADERBOARD_NAMES"
KEY_FILE = ".hw-leaderboard.key"
PSEUDONYM_PREFIX = "anon-"
TEMPLATE = "hw_leaderboard/leaderboard.html.j2"


@dataclass(frozen=True)
class RankedMetric:
    name: str  # as the hidden suite records it
    label: str
    measured_on: str


METRICS = {
    "gradcam": RankedMetric("test_accuracy", "test accuracy", "held-out MNIST test images the notebook never loads"),
    "kerastuner_mnist": RankedMetric("test_accuracy", "test accuracy",
                                     "the test images, with the best model retrained at the chosen hyperparameters"),
    "medical": RankedMetric("test_auc", "test ROC AUC", "the test rows of the student's split, P(malignant) "
                            "predicted by the grader with the saved model and scaler"),
    "flowers": RankedMetric("test_accuracy", "test accuracy", "test images the grader decodes itself"),
    "gas_consumption": RankedMetric("test_r2", "test R^2", "the grader's own windows of the test part of the "
                                    "course's CSV, in consumption units"),
}


class NoLeaderboard(ValueError):
    """The assignment trains no model the grader measures."""


@dataclass
class Row:
    shown: str  # pseudonym, or the id where the course shows names
    value: float | None
    rank: int | None = None
    note: str = ""  # why a student is not ranked


@dataclass
class Leaderboard:
    assignment: str
    metric: RankedMetric
    names: bool
    ranked: list[Row]
    unranked: list[Row]


def names_shown(names: bool | None = None) -> bool:
    """Whether the course opted into names (``--names``, else ``HW_LEADERBOARD_NAMES``)."""
    if names is not None:
        return names
    return os.environ.get(NAMES_SWITCH, "").strip().lower() in ("1", "true", "yes")


def course_key(course: Course) -> bytes:
    """The course's pseudonym key, made (32 random bytes, owner-only) on first use."""
    path = course.root / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


def pseudonym(key: bytes, student: str, length: int = 8) -> str:
    """A stable pseudonym for a student id: not reversible without the course's key."""
    digest = hmac.new(key, b"hw-leaderboard\0" + student.encode(), hashlib.sha256).digest()
    return PSEUDONYM_PREFIX + base64.b32encode(digest).decode("ascii").lower()[:length]


def _pseudonyms(key: bytes, students: list[str]) -> dict[str, str]:
    """Each student's pseudonym, longer for everyone where two would collide."""
    for length in (8, 16, 52):
        shown = {s: pseudonym(key, s, length) for s in students}
        if len(set(shown.values())) == len(shown):
            return shown
    raise RuntimeError("pseudonyms collide")  # 256-bit digests: never


def _measured(state: dict | None, assignment: str, metric: RankedMetric) -> tuple[float | None, str]:
    """(the grader's measured value, "") for a student who is ranked, else (None, why not)."""
    if state is None:
        return None, "not graded yet"
    if state.get("status") != "graded":
        return None, "the notebook could not be run by the autograder"
    if any(isinstance(c, dict) and str(c.get("message", "")).startswith(FLAGGED) for c in state.get("checks", [])):
        return None, "under review by the course staff"
    if "metrics" not in state:  # (the hidden suites changed since: `hw autograde` regrades it)
        return None, f"graded before the grader recorded metrics: run `hw autograde {assignment}` again"
    value = checked_metrics(state.get("metrics")).get(metric.name)
    if value is None:
        return None, f"no {metric.label} measured (no model the grader could load and measure)"
    return value, ""


def build(course: Course, assignment: str, names: bool | None = None) -> Leaderboard:
    """The leaderboard of an assignment from the recorded grading states."""
    if assignment not in METRICS:
        raise NoLeaderboard(f"{assignment} has no leaderboard: only the assignments that train a model do "
                            f"({', '.join(METRICS)})")
    metric, names = METRICS[assignment], names_shown(names)
    students = course.students(assignment)
    shown = {s: s for s in students} if names else _pseudonyms(course_key(course), students)
    states = {s: recorded_state(course, assignment, s) for s in students}
    if not any(states.values()):
        raise NothingRecorded(f"no leaderboard: no submission of {assignment} is graded yet; run `hw autograde "
                              f"{assignment}` first")
    ranked, unranked = [], []
    for student in students:
        value, note = _measured(states[student], assignment, metric)
        (unranked if value is None else ranked).append(Row(shown[student], value, note=note))
    ranked.sort(key=lambda row: (-row.value, row.shown))
    for index, row in enumerate(ranked):  # ties share a rank (1, 2, 2, 4)
        row.rank = ranked[index - 1].rank if index and row.value == ranked[index - 1].value else index + 1
    unranked.sort(key=lambda row: (row.note, row.shown))
    return Leaderboard(assignment, metric, names, ranked, unranked)


def default_paths(course: Course, assignment: str) -> tuple[Path, Path]:
    """reports/leaderboard_<assignment>.html and .csv at the course root."""
    stem = course.root / "reports" / f"leaderboard_{assignment}"
    return stem.with_suffix(".html"), stem.with_suffix(".csv")


def render(board: Leaderboard) -> str:
    """The HTML page (a jinja2 template, every value escaped)."""
    import jinja2

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.get_template(TEMPLATE).render(board=board)


def write(board: Leaderboard, html_path: Path, csv_path: Path) -> tuple[Path, Path]:
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render(board), encoding="utf-8")
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    column = board.metric.name
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rank", "student" if board.names else "pseudonym", column, "note"])
        for row in board.ranked + board.unranked:  # ids a spreadsheet would evaluate are written as text
            writer.writerow([row.rank or "", csv_safe(row.shown),
                             "" if row.value is None else f"{row.value:.4f}", row.note])
    return html_path, csv_path


def summary(board: Leaderboard, most: int = 5) -> str:
    lines = [f"{board.assignment}: {len(board.ranked)} ranked by {board.metric.label} (measured by the grader), "
             f"{len(board.unranked)} not ranked; {'names' if board.names else 'pseudonyms'} shown"]
    lines += [f"  {row.rank:>3}. {row.shown}  {row.value:.4f}" for row in board.ranked[:most]]
    return "\n".join(lines)
