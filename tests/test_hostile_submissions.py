"""One clear line for every refused or tampered submission, and a feedback page for every
submission whatever happened (issue 17, deliverable 7), tried as an attacker would.

One class of batchnorm submissions is graded in a single run: the reference solution (15 of 16
points; its two written answers, one the seed's bonus, wait for a TA) beside students whose id nbgrader
cannot use safely (glob characters, control characters, spaces nbgrader strips), students whose
odd but harmless ids must keep working (a leading dot, a leading dash, unicode, spaces), and
solution notebooks whose nbgrader metadata was tampered with. Each must get a row in the
results with a reason naming what was wrong, and a feedback page; the reference keeps its score.
"""
from __future__ import annotations

import contextlib
import copy
import html
import io
import json
import re
from pathlib import Path

import pytest

from conftest import copy_course, submit_source_solution

ASSIGNMENT = "batchnorm"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
HONEST = 15.0  # hidden points of the reference solution; answer_eps, answer_batch_of_one await a TA
MAX = 16.0

GLOB_ID = "rt-[x]<b>"  # and markup, which the page must escape
CONTROL_ID = "evil\x1b[2J\x07id"
STRIPPED_ID = "padded "
DOT_ID = ".dotted"
ODD_ID = "-zoë ünï space"
NOT_FOLDERS = ("..", "x/y", "")


def _cells(nb: dict) -> dict:
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"] if "nbgrader" in c.get("metadata", {})}


def _locked_solution(nb: dict) -> None:
    """The answer cell (an ungraded solution cell) claimed as a locked grade cell worth 5."""
    _cells(nb)["answer_param_count"]["metadata"]["nbgrader"].update(grade=True, locked=True, points=5)


def _renamed(nb: dict) -> None:
    _cells(nb)["public_batchnorm"]["metadata"]["nbgrader"].update(grade_id="free_points", points=10)


def _duplicated(nb: dict) -> None:
    index = nb["cells"].index(_cells(nb)["hidden_train_forward"])
    twin = copy.deepcopy(nb["cells"][index])
    twin["id"] = "twin-cell"
    nb["cells"].insert(index + 1, twin)


def _no_metadata(nb: dict) -> None:
    del _cells(nb)["public_param_count"]["metadata"]["nbgrader"]


def _nbformat5(nb: dict) -> None:
    nb["nbformat"] = 5


def _old_minor_with_ids(nb: dict) -> None:
    nb["nbformat_minor"] = 4


def _answer_to_code(nb: dict) -> None:
    cell = _cells(nb)["answer_eps"]
    cell.update(cell_type="code", outputs=[], execution_count=None)


def _schema_too_new(nb: dict) -> None:
    for cell in _cells(nb).values():
        cell["metadata"]["nbgrader"]["schema_version"] = 99


TAMPERED = {
    "t_locked_solution": _locked_solution,
    "t_renamed": _renamed,
    "t_duplicated": _duplicated,
    "t_no_metadata": _no_metadata,
    "t_nbformat5": _nbformat5,
    "t_minor4_ids": _old_minor_with_ids,
    "t_answer_to_code": _answer_to_code,
    "t_schema": _schema_too_new,
}


def tamper(course, student: str, change) -> Path:
    folder = submit_source_solution(course, ASSIGNMENT, student)
    nb = json.loads((folder / NOTEBOOK).read_text())
    change(nb)
    (folder / NOTEBOOK).write_text(json.dumps(nb, indent=1))  # as an editor would: no validation
    return folder


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all

    course = copy_course(tmp_path_factory.mktemp("hostile_submissions"))
    release_all(course, [ASSIGNMENT])
    submit_source_solution(course, ASSIGNMENT)
    for student in (GLOB_ID, CONTROL_ID, STRIPPED_ID, DOT_ID, ODD_ID):
        submit_source_solution(course, ASSIGNMENT, student)
    for student, change in TAMPERED.items():
        tamper(course, student, change)
    folder = submit_source_solution(course, ASSIGNMENT, "no_notebook")
    (folder / NOTEBOOK).unlink()
    folder = submit_source_solution(course, ASSIGNMENT, "corrupt_notebook")
    (folder / NOTEBOOK).write_text('{"cells": [')

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        results = autograde(course, ASSIGNMENT, workers=2)
        named = autograde(course, ASSIGNMENT, list(NOT_FOLDERS))
    rows = {r.student: r for r in results}
    assert len(rows) == len(results)
    return course, rows, {r.student: r for r in named}, printed.getvalue()


def page(course, student: str) -> str:
    path = course.feedback / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert path.is_file(), f"no feedback page for {student!r}"
    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text()))


def test_the_reference_keeps_its_score(hostile_class):
    course, rows, _, _ = hostile_class
    result = rows["reference_solution"]
    assert result.status == "graded" and result.score == HONEST, result.reason
    assert result.max_score == MAX and result.manual_pending == 2 and not result.reason
    page(course, "reference_solution")


@pytest.mark.parametrize("student", [DOT_ID, ODD_ID])
def test_odd_but_harmless_ids_are_graded(hostile_class, student):
    course, rows, _, _ = hostile_class
    result = rows[student]
    assert result.status == "graded" and result.score == HONEST, result
    page(course, student)


def test_a_glob_id_is_refused_by_name_with_a_page(hostile_class):
    course, rows, _, printed = hostile_class
    result = rows[GLOB_ID]
    assert result.status == "refused" and result.score == 0, result
    assert GLOB_ID in result.reason and "pattern" in result.reason and "rename" in result.reason
    text = page(course, GLOB_ID)
    assert GLOB_ID in text and "pattern" in text and "refused" in text
    raw = (course.feedback / GLOB_ID / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "<b>" not in raw and "rt-[x]&lt;b&gt;" in raw
    assert len([line for line in printed.splitlines() if GLOB_ID in line]) == 1
    assert [line for line in printed.splitlines() if GLOB_ID in line and "refused" in line]


def test_control_characters_and_stripped_spaces_are_refused_and_never_a_path(hostile_class):
    course, rows, _, printed = hostile_class
    control = rows[CONTROL_ID]
    assert control.status == "refused" and control.score == 0
    assert "control character" in control.reason and "\\x1b" in control.reason and "\x1b" not in control.reason
    assert "\x1b" not in printed and "\x07" not in printed
    assert len([line for line in printed.splitlines() if "\\x1b[2J\\x07id" in line]) == 1
    stripped = rows[STRIPPED_ID]
    assert stripped.status == "refused" and "space" in stripped.reason and "'padded '" in stripped.reason
    for where in (course.feedback, course.autograded):  # never a path of the control characters
        names = {p.name for p in where.iterdir()} if where.is_dir() else set()
        assert CONTROL_ID not in names and not any("\x1b" in name for name in names)
    assert not (course.autograded / STRIPPED_ID).exists()  # never graded, but told why on a page
    assert "nbgrader strips" in page(course, STRIPPED_ID)


def test_ids_that_are_no_folder_name_are_refused_by_name(hostile_class):
    course, _, named, printed = hostile_class
    assert set(named) == set(NOT_FOLDERS)
    for student, words in (("..", ("'..'", "not a folder name")), ("x/y", ("'x/y'", "path separator")),
                           ("", ("''", "empty"))):
        result = named[student]
        assert result.status == "refused" and result.score == 0
        assert all(word in result.reason for word in words), result.reason
    assert not (course.root / "x").exists() and not (course.feedback / "x").exists()
    assert not any((course.root.parent / name).exists() for name in ("feedback", "autograded", ASSIGNMENT))
    assert not (course.root / ASSIGNMENT).exists() and not (course.autograded / ASSIGNMENT).exists()
    for shown in ("'..'", "'x/y'", "''"):
        assert len([line for line in printed.splitlines() if f"refused {shown}:" in line]) == 1, printed


EXPECTED = {  # student: (status, words the reason and the feedback page must hold)
    "t_locked_solution": ("graded", ("'answer_param_count'", "locked grade cell")),
    "t_renamed": ("graded", ("'public_batchnorm'", "'free_points'", "renamed")),
    "t_duplicated": ("graded", ("'hidden_train_forward' appears twice",)),
    "t_no_metadata": ("graded", ("'public_param_count'", "nbgrader metadata")),
    "t_nbformat5": ("failed", ("nbformat 5",)),
    "t_minor4_ids": ("graded", ()),
    "t_answer_to_code": ("graded", ("'answer_eps' was changed from a written answer into a code cell",)),
    "t_schema": ("graded", ("schema",)),
}


@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_tampered_metadata_is_named_and_the_rest_graded(hostile_class, student):
    course, rows, _, _ = hostile_class
    status, words = EXPECTED[student]
    result = rows[student]
    assert result.status == status, result.reason
    assert "traceback" not in result.reason and "corrupt" not in result.reason, result.reason
    assert all(word in result.reason for word in words), result.reason
    text = page(course, student)
    assert all(word in text for word in words), text[:3000]
    if status == "graded":  # what was not tampered with keeps its points
        assert result.score == HONEST, (result.reason, result.grades)


@pytest.mark.parametrize("student, words", [("no_notebook", ("no notebook was submitted",)),
                                            ("corrupt_notebook", ("corrupt",))])
def test_a_submission_that_could_not_run_still_gets_a_page(hostile_class, student, words):
    course, rows, _, _ = hostile_class
    result = rows[student]
    assert result.status == "failed" and all(word in result.reason for word in words), result
    text = page(course, student)
    assert all(word in text for word in words)


def test_a_lost_page_is_written_again_by_the_autograder_itself(hostile_class, capsys):
    """nbgrader cannot write a page without the autograded notebook (deleted since it was
    graded): `hw feedback` writes the autograder's own page at the same path, with the recorded
    reason and the gradebook's score of each cell, and says so in one line."""
    import shutil

    from hwtools.course.feedback import generate_feedback

    course, rows, _, _ = hostile_class
    student = "t_nbformat5"
    shutil.rmtree(course.autograded_dir(student, ASSIGNMENT))
    (course.feedback / student / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).unlink()
    generate_feedback(course, ASSIGNMENT, [student])
    lines = [line for line in capsys.readouterr().out.splitlines() if student in line]
    assert len(lines) == 1 and "autograder's own page" in lines[0], lines
    text = page(course, student)
    assert rows[student].reason in text and "hidden_train_forward" in text
    assert f"{rows[student].score:g} / {MAX:g}" in text
