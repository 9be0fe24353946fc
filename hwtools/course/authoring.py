"""Build source notebooks with nbgrader metadata from Python, so their diffs are readable.

Each builder returns one cell; ``write_notebook`` saves them. Hidden groups are grade cells
scored outside the notebook by ``tests/hidden/<assignment>``: their visible part tells the
student what is checked; their hidden part only names the suite, because whatever runs in the
student's kernel never decides these points (the grader always overwrites them), and a
harmless cell lets `nbgrader validate` pass on the source notebook.
"""
from __future__ import annotations

from pathlib import Path

import nbformat



def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None, task=False) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "task": task,
            "grade_id": grade_id, "schema_version": 3}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str):
    return nbformat.v4.new_markdown_cell(text.strip())


def locked_markdown(grade_id: str, text: str):
    return nbformat.v4.new_markdown_cell(text.strip(), metadata=_meta(grade_id, locked=True))


def locked_code(grade_id: str, code: str, tags: tuple = ()):
    cell = nbformat.v4.new_code_cell(code.strip(), metadata=_meta(grade_id, locked=True))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def solution_code(grade_id: str, code: str, tags: tuple = ()):
    """An autograded answer cell: code between the markers is replaced by a stub on release."""
    cell = nbformat.v4.new_code_cell(code.strip(), metadata=_meta(grade_id, solution=True))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


ANSWER_OPEN, ANSWER_CLOSE = '<div dir="auto">', "</div>"


def written_answer(grade_id: str, answer: str, points: float):
    """A manually graded written answer (formgrader). The answer sits in a ``<div dir="auto">``
    block: an answer written in Persian then reads right to left (its first letter decides) in
    JupyterLab, in the formgrader and on the feedback page; an English one left to right."""
    text = f"{ANSWER_OPEN}\n\n### BEGIN SOLUTION\n{answer.strip()}\n### END SOLUTION\n\n{ANSWER_CLOSE}"
    return nbformat.v4.new_markdown_cell(text, metadata=_meta(grade_id, grade=True, solution=True, points=points))


BONUS_KEY = "hwtools"  # cell metadata: {"bonus_points": n} on a bonus question's answer cell


def bonus_answer(grade_id: str, answer: str, bonus_points: float):
    """A written answer the seed marks as a bonus ("نمره امتیازی"): a manually graded cell worth
    0 nbgrader points, so the assignment's maximum is that of its other questions and an
    unanswered bonus costs nothing. A TA gives what the answer earns, up to ``bonus_points``, in
    the formgrader's "extra credit" box beside the score (nbgrader's ``Grade.extra_credit``,
    which ``Grade.score`` and the submission's score include). The question's text must say it
    is a bonus and how many points it can add."""
    cell = written_answer(grade_id, answer, points=0)
    cell.metadata[BONUS_KEY] = {"bonus_points": float(bonus_points)}
    return cell


def is_bonus(cell_type: str, points) -> bool:
    """Whether a grade cell of CELL_TYPE worth POINTS (nbgrader's) is a bonus answer: the only
    written answers worth 0 points are ``bonus_answer``'s. The gradebook and a graded notebook
    know a bonus only so (its bonus points are in the source's metadata: ``bonus_points``)."""
    return cell_type == "markdown" and not points


def bonus_points(cell) -> float | None:
    """The bonus points a bonus answer cell can earn as extra credit, or None for any other cell."""
    meta = cell.get("metadata", {}).get(BONUS_KEY) or {}
    value = meta.get("bonus_points") if isinstance(meta, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def public_tests(grade_id: str, code: str):
    """Visible tests a student runs; worth no points (the hidden suite gives the points)."""
    return nbformat.v4.new_code_cell(code.strip(), metadata=_meta(grade_id, grade=True, locked=True, points=0))


def hidden_group(grade_id: str, points: float, what: str):
    """A grade cell whose points come from the hidden suite's group of the same name."""
    code = (f"# Hidden tests ({points:g} points), run by the autograder: {what}\n"
            f"### BEGIN HIDDEN TESTS\nhidden_suite = \"tests/hidden: group {grade_id}\"\n### END HIDDEN TESTS")
    return nbformat.v4.new_code_cell(code, metadata=_meta(grade_id, grade=True, locked=True, points=points))


def hand_in_cell(path: Path):
    """The last cell of every notebook: how to check it and hand it in."""
    assignment, name = Path(path).parent.name, Path(path).name
    return markdown(f"""
## Before you hand in

Restart the kernel and run every cell (Kernel > Restart Kernel and Run All Cells). Then, in a
terminal in this folder, run `hw validate {name}`: it runs the notebook from the top in a fresh
kernel, as the autograder does, and says "Public tests passed; hidden tests will also grade this
notebook." or lists the cells that fail. Passing it does not mean full marks: the hidden tests
check more. Hand in with `nbgrader submit {assignment} --course deep-learning-hw` (JupyterHub)
or by uploading the files this notebook names, unrenamed, to the course page.
""")


def write_notebook(path: Path, cells: list) -> None:
    cells = [*cells, hand_in_cell(path)]
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index:02d}"
    nbformat.validate(notebook)
    Path(path).write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
