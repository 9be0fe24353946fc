"""The class summary a TA reads after grading: the score distribution of each assignment
(a histogram of the gradebook's scores, manual points included, with what is still to grade
by hand) and, per hidden check, how many students failed it and with which message (from the
recorded grading state: the gradebook holds points, not checks)."""
from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from pathlib import Path

from hwtools.course import Course
from hwtools.course.export import NothingRecorded, gradebook_scores
from hwtools.course.gradebook_writer import recorded_state


def histogram_range(scores: list[float], max_score: float) -> tuple[float, float]:
    """The histogram's x range: up to the maximum, or to the best score where a bonus (extra
    credit) took it above the maximum, so that no student falls off the chart."""
    return 0.0, float(max([max_score, *scores]) or 1)


def _histogram_png(scores: list[float], max_score: float, title: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 2.6))
    low, top = histogram_range(scores, max_score)
    axis.hist(scores, bins=min(20, max(5, int(top) + 1)), range=(low, top), color="#4c72b0")
    axis.set_xlabel("score (manual and bonus points included)")
    axis.set_ylabel("students")
    axis.set_title(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def assignment_summary(course: Course, assignment: str) -> dict | None:
    """Scores, maximum and pending manual points from the gradebook (None: nothing recorded);
    checks and failures from each recorded submission's grading state."""
    scores = gradebook_scores(course, assignment)
    if not scores:
        return None
    states = {s: st for s in scores if (st := recorded_state(course, assignment, s))}
    checks = defaultdict(lambda: {"failed": 0, "seen": 0, "messages": Counter()})
    grader_errors = []
    for student, state in sorted(states.items()):
        for check in state.get("checks", []):
            if check.get("grader_error"):  # the grader's fault: apart from what students failed
                grader_errors.append((student, check))
                continue
            row = checks[(check["group"], check["description"], check["points"])]
            row["seen"] += 1
            if not check["passed"]:
                row["failed"] += 1
                row["messages"][check["message"].splitlines()[0][:160] if check["message"] else ""] += 1
    return {"scores": {s: sc.score for s, sc in scores.items()},
            "max_score": max(sc.max_score for sc in scores.values()),
            "pending": {s: sc.pending for s, sc in scores.items() if sc.pending},
            "failures": {s: st["reason"] for s, st in states.items() if st["status"] != "graded"},
            "grader_errors": grader_errors,
            "checks": sorted(checks.items(), key=lambda item: -item[1]["failed"])}


def write_class_report(course: Course, path: Path, assignments: list[str] | None = None) -> Path:
    parts = ["<html><head><meta charset='utf-8'><title>Class summary</title><style>"
             "body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}</style></head><body>",
             "<h1>Class summary</h1>"]
    assignments = assignments or course.assignments()
    shown = 0
    for assignment in assignments:
        summary = assignment_summary(course, assignment)
        if summary is None:
            continue
        shown += 1
        scores = list(summary["scores"].values())
        pending = summary["pending"]
        parts.append(f"<h2>{html.escape(assignment)}</h2><p>{len(scores)} submissions, mean "
                     f"{sum(scores) / len(scores):.2f} of {summary['max_score']:g} points "
                     f"(the gradebook's scores, written answers graded by TAs and bonus points included).</p>")
        parts.append(f"<p class='pending'>Still to grade by hand: {len(pending)} submission(s), "
                     f"{sum(pending.values()):g} points (those scores are partial): " + ", ".join(
                         f"{html.escape(s)} ({p:g})" for s, p in sorted(pending.items())) + ".</p>"
                     if pending else "<p>Nothing left to grade by hand.</p>")
        parts.append(f"<img alt='score histogram' src='data:image/png;base64,"
                     f"{_histogram_png(scores, summary['max_score'], assignment)}'>")
        parts.append("<table><tr><th>check</th><th>group</th><th>points</th><th>failed by</th>"
                     "<th>most common message</th></tr>")
        for (group, description, points), row in summary["checks"]:
            common = row["messages"].most_common(1)[0][0] if row["messages"] else ""
            parts.append(f"<tr><td>{html.escape(description)}</td><td>{html.escape(group)}</td><td>{points:g}</td>"
                         f"<td>{row['failed']} / {row['seen']}</td><td>{html.escape(common)}</td></tr>")
        parts.append("</table>")
        if summary["grader_errors"]:
            parts.append("<h3>Grader errors</h3><p>The grader's own code or reference raised: not the students' fault; "
                         "these points are not awarded until the suite is fixed and the class regraded "
                         "(<code>hw autograde --force</code>).</p><ul>" + "".join(
                             f"<li>{html.escape(s)}: {html.escape(c['description'])} ({html.escape(c['group'])}, "
                             f"{c['points']:g} points): {html.escape(c.get('grader_detail') or 'no detail recorded')}</li>"
                             for s, c in summary["grader_errors"]) + "</ul>")
        if summary["failures"]:
            parts.append("<h3>Submissions that could not run</h3><ul>" + "".join(
                f"<li>{html.escape(s)}: {html.escape(r)}</li>" for s, r in sorted(summary["failures"].items())) + "</ul>")
    if not shown:
        which = f" of {', '.join(assignments)}" if len(assignments) <= 3 else ""
        raise NothingRecorded(f"no report: no submission{which} is graded yet; run `hw autograde` first")
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
