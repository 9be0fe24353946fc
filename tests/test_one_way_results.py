"""One-way grading (issue 18, deliverable 1): a task's result carries, as data, everything the
driver records, and the worker leaves nothing behind. The driver here records into a second
course copy (another root, as a driver on another machine would) after the worker's scratch
is gone, and gets the same autograded/ files and gradebook scores.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path

import nbformat
import pytest

from conftest import copy_course, submit_source_solution

ASSIGNMENT = "batchnorm"
STUDENT = "reference_solution"
HONEST = 15.0  # the hidden suite's 14 + 1; the two written answers wait for a TA


def tree(folder: Path) -> dict:
    """name -> bytes of the regular files of a folder (no link followed)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.is_symlink()}


def scores(course, student: str) -> dict:
    from hwtools.course.gradebook_writer import open_gradebook

    with open_gradebook(course) as gb:
        submission = gb.find_submission(ASSIGNMENT, student)
        return {(g.notebook.name, g.name): (g.auto_score, bool(g.needs_manual_grade))
                for notebook in submission.notebooks for g in notebook.grades}


@pytest.fixture(scope="module")
def graded_elsewhere(tmp_path_factory):
    """The reference solution (plus a notes file beside the notebook) graded in the worker's
    course copy with the grade cells the driver read from its own copy (the worker may not
    open a gradebook), the scratch folders it made tracked; the driver's copy is released
    the same way."""
    from hwtools.course import gradebook_writer
    from hwtools import sandbox
    from hwtools.grading.grade import grade_submission
    from hwtools.course.release import release_all

    worker_course = copy_course(tmp_path_factory.mktemp("worker") / "course")
    driver_course = copy_course(tmp_path_factory.mktemp("driver") / "course")
    release_all(worker_course, [ASSIGNMENT])
    release_all(driver_course, [ASSIGNMENT])
    submitted = submit_source_solution(worker_course, ASSIGNMENT, STUDENT)
    (submitted / "notes.txt").write_text("my notes\n")
    cells = gradebook_writer.assignment_cells(driver_course, ASSIGNMENT)  # the driver reads them, once
    made = []

    def no_gradebook(course):
        raise AssertionError(f"the worker opened the gradebook of {course.root}")

    with pytest.MonkeyPatch.context() as patch:
        real = sandbox.make_scratch
        patch.setattr(sandbox, "make_scratch", lambda prefix: made.append(real(prefix)) or made[-1])
        patch.setattr(gradebook_writer, "open_gradebook", no_gradebook)
        result = grade_submission(str(worker_course.root), ASSIGNMENT, STUDENT, cells=cells)
    return worker_course, driver_course, result, made


def test_the_worker_deletes_its_scratch_before_returning(graded_elsewhere):
    _, _, result, made = graded_elsewhere
    assert result.status == "graded", result.reason
    assert made, "grade_submission made no scratch folder"
    assert not [path for path in made if os.path.lexists(path)], "the worker's scratch is left behind"


def test_a_driver_on_another_root_records_the_same_files_and_scores(graded_elsewhere):
    from hwtools.course.gradebook_writer import open_gradebook, recorded_state, record_result

    worker_course, driver_course, result, _ = graded_elsewhere
    for course in (worker_course, driver_course):  # the single-machine run first, as today's tests do
        with open_gradebook(course) as gradebook:
            record_result(course, copy.deepcopy(result), gradebook)
    here = tree(worker_course.autograded_dir(STUDENT, ASSIGNMENT))
    there = tree(driver_course.autograded_dir(STUDENT, ASSIGNMENT))
    assert f"{ASSIGNMENT}.ipynb" in there and there.get("notes.txt") == b"my notes\n", sorted(there)
    assert here == there
    assert scores(driver_course, STUDENT) == scores(worker_course, STUDENT)
    assert sum(score or 0 for score, _ in scores(driver_course, STUDENT).values()) == HONEST
    states = [recorded_state(course, ASSIGNMENT, STUDENT) for course in (worker_course, driver_course)]
    assert [dict(s, recorded_at=None) for s in states[:1]] == [dict(s, recorded_at=None) for s in states[1:]]


def test_the_result_is_data_that_names_no_path(graded_elsewhere):
    _, _, result, made = graded_elsewhere
    assert set(result.files) >= {f"{ASSIGNMENT}.ipynb", "notes.txt"}
    assert all(isinstance(data, bytes) for data in result.files.values())
    texts = [json.dumps({k: v for k, v in dataclasses.asdict(result).items() if k != "files"})]
    assert not [path for path in made if str(path) in texts[0]], "the result names the worker's scratch"
    assert not result.flags, result.flags


def test_direct_callers_still_get_the_cells_from_the_gradebook(graded_elsewhere, monkeypatch):
    from hwtools.course import gradebook_writer
    from hwtools.grading import grade

    worker_course, *_ = graded_elsewhere
    read = []
    monkeypatch.setattr(grade, "_grade", lambda course, task, scratch: read.append(task.cells) or {"status": "graded"})
    grade.grade_submission(str(worker_course.root), ASSIGNMENT, STUDENT)
    assert read == [gradebook_writer.assignment_cells(worker_course, ASSIGNMENT)] and read[0][ASSIGNMENT]


def hostile_result(files: dict):
    from hwtools.grading.results import SubmissionResult

    return SubmissionResult("mallory_names", ASSIGNMENT, "graded", "", 0.0, 17.0, fingerprint="x", seconds=1.0,
                            hidden_status="ok", files=files)


def test_names_that_are_not_plain_are_never_written(graded_elsewhere, tmp_path):
    from hwtools.course.gradebook_writer import open_gradebook, recorded_state, record_result

    _, driver_course, _, _ = graded_elsewhere
    outside = driver_course.autograded / "x"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("<script>alert(1)</script>hello")])
    files = {"../x": b"up", "../../x": b"up", "/etc/x": b"abs", str(tmp_path / "x"): b"abs", ".hidden": b"dot",
             "..": b"dots", "a/b": b"sub", "a\\b": b"sub", "": b"empty", "text.txt": "not bytes",
             "ok.txt": b"fine", f"{ASSIGNMENT}.ipynb": nbformat.writes(notebook).encode()}
    result = hostile_result(files)
    with open_gradebook(driver_course) as gradebook:
        left_out = record_result(driver_course, result, gradebook)
    target = driver_course.autograded_dir("mallory_names", ASSIGNMENT)
    assert sorted(p.name for p in target.iterdir()) == [f"{ASSIGNMENT}.ipynb", "ok.txt"]
    assert (target / "ok.txt").read_bytes() == b"fine"
    written = (target / f"{ASSIGNMENT}.ipynb").read_text()
    assert "hello" in written and "<script>" not in written  # sanitized as it is written
    assert not outside.exists() and not (tmp_path / "x").exists() and not (driver_course.root / "x").exists()
    assert len(left_out) == len(files) - 2 and all(line.startswith("left out of the autograded files") for line in left_out)
    assert result.flags == left_out and "../x" in result.reason and "starts with a dot" in result.reason
    assert "../x" in recorded_state(driver_course, ASSIGNMENT, "mallory_names")["reason"]


def test_a_link_where_autograded_goes_is_replaced_not_followed(graded_elsewhere, tmp_path):
    from hwtools.course.gradebook_writer import open_gradebook, record_result

    _, driver_course, _, _ = graded_elsewhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = driver_course.autograded_dir("mallory_link", ASSIGNMENT)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(elsewhere, target)
    with open_gradebook(driver_course) as gradebook:
        record_result(driver_course, dataclasses.replace(hostile_result({"ok.txt": b"fine"}), student="mallory_link"),
                      gradebook)
    assert not target.is_symlink() and (target / "ok.txt").read_bytes() == b"fine"
    assert list(elsewhere.iterdir()) == []


def test_files_over_the_caps_are_left_out_with_a_flag(monkeypatch, tmp_path):
    from hwtools.course import gradebook_writer
    from hwtools.grading.grade import _files_for_feedback

    monkeypatch.setattr(gradebook_writer, "RESULT_FILE_BYTES", 3 * gradebook_writer.MB)
    monkeypatch.setattr(gradebook_writer, "RESULT_TOTAL_BYTES", 5 * gradebook_writer.MB)
    (tmp_path / "big.bin").write_bytes(b"x" * (3 * gradebook_writer.MB + 1))
    (tmp_path / "a.bin").write_bytes(b"a" * (2 * gradebook_writer.MB))
    (tmp_path / "b.bin").write_bytes(b"b" * (2 * gradebook_writer.MB))
    (tmp_path / "c.bin").write_bytes(b"c" * (2 * gradebook_writer.MB))
    (tmp_path / ".env").write_bytes(b"secret")
    (tmp_path / "small.txt").write_bytes(b"kept")
    os.symlink("/etc/passwd", tmp_path / "link.txt")
    (tmp_path / "folder").mkdir()
    flags = []
    files = _files_for_feedback(tmp_path, flags)
    assert sorted(files) == ["a.bin", "b.bin", "small.txt"]
    text = " ".join(flags)
    assert "big.bin is over the 3 MB kept for the feedback" in text
    assert "c.bin is over the 5 MB kept in all" in text and "'.env' starts with a dot" in text
    assert "link.txt" not in text  # not a regular file: never read (the collection names it)
    kept, left_out = gradebook_writer.kept_files({**files, "huge.ipynb": b"x" * (gradebook_writer.RESULT_NOTEBOOK_BYTES + 1)})
    assert "huge.ipynb" not in kept and "huge.ipynb is over" in left_out[0]
