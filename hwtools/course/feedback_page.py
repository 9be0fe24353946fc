"""What a student reads first on the feedback page nbgrader writes (GenerateFeedback): a summary
(score per question, the first thing to fix, the points a TA has still to grade) and contents
named after the questions, rendered by the course's template ``templates/hw_feedback``, a
child of nbgrader's ``feedback`` template.

Two preprocessors of the GenerateFeedback chain (nbgrader_config.py):

- ``GetGrades``: nbgrader's, which also records whether each grade still needs a TA
  (``needs_manual_grade``), so a written answer nobody has graded reads "not graded yet", not
  "0 / 2";
- ``FeedbackSummary``: after ``ClearHiddenTests`` and ``SanitizeOutputs``, it reads the
  notebook's headings, grades and check outputs and puts the summary in
  ``resources["hw_feedback"]`` as plain text; the template escapes all of it, so nothing a
  student wrote becomes markup, and it reads hidden cells only after their tests are removed.
"""
from __future__ import annotations

import os
import re

import nbgrader
from nbconvert.preprocessors import Preprocessor
from nbgrader import utils
from nbgrader.preprocessors import GetGrades as NbgraderGetGrades

from hwtools.course.authoring import is_bonus

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE_NAME = "hw_feedback"
_NBGRADER = os.path.dirname(os.path.abspath(nbgrader.__file__))
NBGRADER_TEMPLATES = os.path.join(_NBGRADER, "server_extensions", "formgrader", "templates")
BOOTSTRAP_CSS = os.path.join(_NBGRADER, "server_extensions", "formgrader", "static", "node_modules", "bootstrap",
                             "dist", "css")
# HTMLExporter settings for GenerateFeedback only (c.GenerateFeedback.HTMLExporter.*): the
# formgrader keeps its own template. Our template comes first; it extends
# 'feedback/index.html.j2', found through NBGRADER_TEMPLATES; bootstrap.min.css is inlined.
EXPORTER_CONFIG = {
    "template_name": TEMPLATE_NAME,
    "extra_template_basedirs": [TEMPLATES, NBGRADER_TEMPLATES],
    "extra_template_paths": [BOOTSTRAP_CSS, NBGRADER_TEMPLATES],
}

HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
HIDDEN_LABEL = re.compile(r"^#\s*Hidden tests\s*\([^)]*\)\s*(?:,?\s*run by the autograder)?\s*:?\s*(.*)$", re.I)
LABEL_CHARS = 110


def plain(text: str, limit: int = LABEL_CHARS) -> str:
    """One line of markdown as plain text (tags, emphasis and code marks out), at most LIMIT
    characters. Still to be escaped where it is shown."""
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"\*\*|__|`|(?<!\w)\*|\*(?!\w)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _source(cell) -> str:
    return "".join(cell.source) if isinstance(cell.source, list) else str(cell.source or "")


def _headings(cell) -> list[str]:
    return [m.group(1) for line in _source(cell).splitlines() if (m := HEADING.match(line))]


def _first_text_line(cell) -> str:
    """The first line of a markdown cell that is not a heading ('' if none)."""
    for line in _source(cell).splitlines():
        if line.strip() and not HEADING.match(line):
            return line
    return ""


def _check_label(cell, part: str) -> str:
    """What a grade cell checks, for the contents: a written answer's question, a hidden
    cell's description (its first comment line, which stays in the page), public tests."""
    meta = cell.metadata.nbgrader
    if cell.cell_type == "markdown":
        return "written answer" + (f": {plain(part)}" if part else "")
    first = _source(cell).lstrip().splitlines()[:1]
    hidden = HIDDEN_LABEL.match(first[0]) if first else None
    if hidden:
        return "hidden tests" + (f": {plain(hidden.group(1))}" if hidden.group(1) else "")
    if not float(meta.get("points") or 0):
        return "public tests (no points; the hidden tests grade)"
    if first and first[0].startswith("#"):
        return plain(first[0].lstrip("# "))
    return f"check {meta.get('grade_id', '')}"


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    if output.get("output_type") == "error":
        return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    text = output.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _error(cell) -> str:
    """The cell's error, as 'Name: message' (first lines), or ''."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return _shorten(_output_text(output))
    return ""


def _first_failure(cell) -> str:
    """The first [FAIL] line of a hidden cell's report and the line that says why, else the
    line saying which checks did not run, or ''."""
    lines = "".join(_output_text(o) for o in cell.get("outputs", [])).splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith("[FAIL]"):
            why = lines[index + 1].strip() if index + 1 < len(lines) and lines[index + 1].startswith("         ") \
                else ""
            return _shorten(line.strip()[len("[FAIL]"):].strip() + (f": {why}" if why else ""))
    return next((_shorten(line.strip()) for line in lines if "did not run" in line), "")


def _shorten(text: str, limit: int = 400) -> str:
    text = "\n".join(line.rstrip() for line in text.strip().splitlines()[:4])
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _number(value: float) -> str:
    return f"{value:g}"


class GetGrades(NbgraderGetGrades):
    """nbgrader's GetGrades, which also notes in each grade cell whether a TA has still to
    grade it (``needs_manual_grade``): its score then means nothing yet."""

    def _get_score(self, cell, resources) -> None:
        super()._get_score(cell, resources)
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        cell.metadata.nbgrader["needs_manual_grade"] = bool(grade.needs_manual_grade)


class FeedbackSummary(Preprocessor):
    """``resources["hw_feedback"]``: the page's summary and contents, as plain text.

    - ``cells``: grade_id -> {question, label, score (shown), pending}
    - ``questions``: [{title, anchor, score, points, pending, checks: [grade_id]}], in order
    - ``first_fix``: {question, anchor, what, message} for the first cell, in notebook order,
      that raised an error or lost points to a failed check; None when there is none
    - ``score``, ``max_score``, ``pending``: the notebook's totals (pending: points a TA has
      still to grade, left out of ``score``; a bonus answer's extra credit is in ``score``, never
      in ``max_score``)
    """

    def __call__(self, nb, resources):  # always on (nbconvert's `enabled` defaults to off)
        return self.preprocess(nb, resources)

    def preprocess(self, nb, resources):
        question, part = "", ""
        questions: list[dict] = []
        cells: dict[str, dict] = {}
        first_fix = None
        for cell in nb.cells:
            graded = utils.is_grade(cell)
            if cell.cell_type == "markdown" and not graded and not utils.is_solution(cell):
                headings = _headings(cell)
                if headings:
                    question = plain(headings[-1])
                    after = _source(cell).split(headings[-1], 1)[-1]
                    part = next((line for line in after.splitlines() if line.strip()), "")
                else:
                    part = _first_text_line(cell)
                continue
            if cell.cell_type != "code" and not graded:
                continue
            title = question or "Before the first question"
            error = _error(cell) if cell.cell_type == "code" else ""
            if not graded:
                if error and first_fix is None:
                    first_fix = {"question": title, "anchor": f"cell-id={cell['id']}" if cell.get("id") else "",
                                 "what": "a cell raised an error", "message": error}
                continue
            meta = cell.metadata.nbgrader
            grade_id = str(meta.get("grade_id", ""))
            points = float(meta.get("points") or 0)
            score = float(meta.get("score") or 0)
            pending = bool(meta.get("needs_manual_grade"))
            label = _check_label(cell, part)
            # a bonus question's answer: what a TA gives it is nbgrader extra credit, in its score
            # and not in the maximum
            bonus = is_bonus(cell.cell_type, points)
            if pending:
                shown = "bonus, not graded yet" if bonus else \
                    f"not graded yet ({_number(points)} point{'s' if points != 1 else ''})"
            elif bonus:
                shown = f"+{_number(score)} (bonus)" if score else "0 (bonus)"
            elif not points:
                shown = "failed" if error else "passed"
            else:
                shown = f"{_number(score)} / {_number(points)}"
            cells[grade_id] = {"question": title, "label": label, "score": shown, "pending": pending}
            if not questions or questions[-1]["title"] != title:
                questions.append({"title": title, "anchor": grade_id, "score": 0.0, "points": 0.0, "pending": 0.0,
                                  "bonus": 0.0, "bonus_pending": False, "checks": []})
            entry = questions[-1]
            entry["checks"].append(grade_id)
            entry["points"] += points
            if bonus:
                entry["bonus_pending"] |= pending
                entry["bonus"] += 0.0 if pending else score
            elif pending:
                entry["pending"] += points
            else:
                entry["score"] += score
            if first_fix is None and not pending:
                if error:
                    first_fix = {"question": title, "anchor": grade_id, "what": label, "message": error}
                elif score < points:
                    failed = _first_failure(cell)
                    graders_fault = "[NOT CHECKED]" in "".join(_output_text(o) for o in cell.get("outputs", []))
                    if failed or (cell.cell_type == "code" and not graders_fault):
                        first_fix = {"question": title, "anchor": grade_id, "what": label,
                                     "message": failed or f"scored {_number(score)} of {_number(points)} points"}
        for entry in questions:
            graded_points = entry["points"] - entry["pending"]
            shown = [f"{_number(entry['score'])} / {_number(graded_points)}"] if graded_points else []
            if entry["pending"]:
                shown.append(f"{_number(entry['pending'])} point{'s' if entry['pending'] != 1 else ''} not graded yet")
            if entry["bonus"]:
                shown.append(f"+{_number(entry['bonus'])} bonus")
            if entry["bonus_pending"]:
                shown.append("bonus not graded yet")
            entry["shown"] = "; ".join(shown)
            if not entry["points"] and not shown:
                entry["shown"] = "no points"
        pending_total = sum(q["pending"] for q in questions)
        resources["hw_feedback"] = {
            "cells": cells,
            "questions": questions,
            "first_fix": first_fix,
            "score": sum(q["score"] + q["bonus"] for q in questions),
            "max_score": sum(q["points"] for q in questions),
            "pending": pending_total,
        }
        return nb, resources
