"""End to end: release, build the sample class plus hostile submissions, autograde them in
parallel through nbgrader, record, give feedback, export; then again, resumably."""
import csv
import json
import shutil

import nbformat
import pytest

from conftest import fixture_path
from hwtools.course import autograde as autograde_module
from hwtools.course.autograde import autograde
from hwtools.course.export import export_grades
from hwtools.course.gradebook_writer import open_gradebook, state_path
from hwtools.course.release import release_all
from hwtools.course.sample_class import build_sample_class, build_submission, fill_cells
from test_release import hidden_code_lines

# Exact autograded scores of the sample class (written answers wait for a TA: +2 manual).
EXPECTED = {"alice_correct": 15.0, "bob_partial": 5.0, "carol_stub": 0.0, "dave_broken": 0.0,
            "erin_infinite_loop": 1.0, "frank_os_exit": 1.0, "gina_kernel_exit": 15.0,
            "hank_corrupt_notebook": 14.0, "ivan_empty_notebook": 14.0, "judy_missing_notebook": 14.0,
            "ken_deleted_test_cells": 15.0, "leo_memory_bomb": 15.0, "mia_huge_output": 15.0,
            "nora_segfault": 1.0, "olga_fork_bomb": 15.0}

FORK_BOMB = "import os\nbn_trainable_params = 260\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"


def add_hostile_students(course, tmp_path):
    """Scenario submissions named for what they do, built like the sample class."""
    reference = (course.sample_class / "alice_correct" / "batchnorm")
    for student, py in (("erin_infinite_loop", "infinite-loop.py"), ("frank_os_exit", "os-exit.py"),
                        ("nora_segfault", "segfault.py")):
        changes = tmp_path / student
        changes.mkdir()
        shutil.copy(fixture_path("batchnorm", py), changes / "forward_batchnorm.py")
        shutil.copy(reference / "cells.json", changes / "cells.json")
        build_submission(course, student, "batchnorm", changes, course.submission_dir(student, "batchnorm"))
    # a correct .py, but the notebook kills its kernel: the notebook part cannot run
    build_submission(course, "gina_kernel_exit", "batchnorm", reference, course.submission_dir("gina_kernel_exit", "batchnorm"))
    fill_cells(course.submission_dir("gina_kernel_exit", "batchnorm") / "batchnorm.ipynb",
               {"answer_param_count": "import os\nbn_trainable_params = 260\nos._exit(1)"})
    # a correct .py and a notebook that is not JSON
    build_submission(course, "hank_corrupt_notebook", "batchnorm", reference,
                     course.submission_dir("hank_corrupt_notebook", "batchnorm"))
    (course.submission_dir("hank_corrupt_notebook", "batchnorm") / "batchnorm.ipynb").write_text("{ not json")
    # an empty file, and no notebook at all: the .py is still graded
    for student in ("ivan_empty_notebook", "judy_missing_notebook"):
        build_submission(course, student, "batchnorm", reference, course.submission_dir(student, "batchnorm"))
    (course.submission_dir("ivan_empty_notebook", "batchnorm") / "batchnorm.ipynb").write_text("")
    (course.submission_dir("judy_missing_notebook", "batchnorm") / "batchnorm.ipynb").unlink()
    # test cells deleted: nbgrader puts them back
    build_submission(course, "ken_deleted_test_cells", "batchnorm", reference, course.submission_dir("ken_deleted_test_cells", "batchnorm"))
    path = course.submission_dir("ken_deleted_test_cells", "batchnorm") / "batchnorm.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells = [c for c in notebook.cells if not c.metadata.get("nbgrader", {}).get("grade_id", "").startswith(("hidden_", "public_"))]
    nbformat.write(notebook, str(path))
    # a memory bomb and a flood of output in the notebook: those cells fail or are cut, the rest counts
    for student, code in (("leo_memory_bomb", "import numpy as np\nhog = np.ones(3 * 10 ** 9)\nbn_trainable_params = 260"),
                          ("mia_huge_output", "print('y' * 20_000_000)\nbn_trainable_params = 260"),
                          ("olga_fork_bomb", FORK_BOMB)):
        build_submission(course, student, "batchnorm", reference, course.submission_dir(student, "batchnorm"))
        fill_cells(course.submission_dir(student, "batchnorm") / "batchnorm.ipynb", {"answer_param_count": code})


@pytest.fixture(scope="module")
def graded(session_course, tmp_path_factory, monkeypatch_module):
    course = session_course
    monkeypatch_module.setenv("HW_CELL_TIMEOUT", "20")
    release_all(course, ["batchnorm"])
    build_sample_class(course, ["batchnorm"])
    add_hostile_students(course, tmp_path_factory.mktemp("hostile"))
    results = autograde(course, "batchnorm", workers=2)
    return course, {r.student: r for r in results}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_student_gets_the_expected_score(graded):
    _, results = graded
    assert {s: r.score for s, r in results.items()} == EXPECTED
    assert all(r.max_score == 16 for r in results.values())  # 15 hidden + 1 written; the eps question is a bonus
    pending = {s: r.manual_pending for s, r in results.items()}
    # nbgrader scores an unanswered written cell 0 itself; a corrupt notebook has nothing to read
    assert pending == {"alice_correct": 2, "bob_partial": 1, "carol_stub": 0, "dave_broken": 0,
                       "erin_infinite_loop": 2, "frank_os_exit": 2, "gina_kernel_exit": 2,
                       "hank_corrupt_notebook": 0, "ivan_empty_notebook": 0, "judy_missing_notebook": 0,
                       "ken_deleted_test_cells": 2, "leo_memory_bomb": 2, "mia_huge_output": 2,
                       "nora_segfault": 2, "olga_fork_bomb": 2}


def test_the_gradebook_holds_the_same_scores(graded):
    course, _ = graded
    with open_gradebook(course) as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions("batchnorm")}
    assert scores == EXPECTED


def test_zero_and_failure_come_with_reasons(graded):
    _, results = graded
    assert "NotImplementedError" in results["carol_stub"].reason
    assert "SyntaxError" in results["dave_broken"].reason
    assert results["gina_kernel_exit"].status == "failed" and "kernel died" in results["gina_kernel_exit"].reason
    assert results["hank_corrupt_notebook"].status == "failed"
    assert "corrupt" in results["hank_corrupt_notebook"].reason
    assert results["alice_correct"].status == "graded" and results["alice_correct"].reason == ""
    assert results["ivan_empty_notebook"].status == "failed" and "corrupt" in results["ivan_empty_notebook"].reason
    assert results["judy_missing_notebook"].reason == "no notebook was submitted"
    # the segfaulting function crashes the kernel that calls it, and the worker the grader calls it in
    assert results["nora_segfault"].status == "failed" and "kernel died" in results["nora_segfault"].reason
    assert results["olga_fork_bomb"].status == "failed" and "fork bomb" in results["olga_fork_bomb"].reason
    for student in ("ken_deleted_test_cells", "leo_memory_bomb", "mia_huge_output"):
        assert results[student].status == "graded", results[student]


def test_memory_bomb_and_flood_are_contained_in_their_cells(graded):
    course, _ = graded
    leo = feedback_text(course, "leo_memory_bomb")
    assert "MemoryError" in leo
    mia = (course.autograded_dir("mia_huge_output", "batchnorm") / "batchnorm.ipynb").stat().st_size
    assert mia < 1_000_000 and "characters cut by the autograder" in feedback_text(course, "mia_huge_output")


def feedback_text(course, student) -> str:
    return (course.feedback / student / "batchnorm" / "batchnorm.html").read_text()


def test_feedback_explains_points_lost(graded):
    course, _ = graded
    bob = feedback_text(course, "bob_partial")
    assert "Hidden tests hidden_train_forward: 1 / 6 points" in bob
    assert "expected" in bob and "off by" in bob
    assert "could not load forward_batchnorm.py: SyntaxError" in feedback_text(course, "dave_broken")
    assert "timed out" in feedback_text(course, "erin_infinite_loop")
    assert "kernel died" in feedback_text(course, "gina_kernel_exit")
    assert "corrupt" in feedback_text(course, "hank_corrupt_notebook")
    assert "exit code -11" in feedback_text(course, "nora_segfault")
    assert "more than 512 processes and threads" in feedback_text(course, "olga_fork_bomb")


def test_no_sandboxed_process_outlives_the_run(graded):
    from hwtools.sandbox import resource_groups

    if resource_groups.problem():
        pytest.skip(f"no control groups here: {resource_groups.problem()}")
    left = {folder.name: folder.joinpath("cgroup.procs").read_text().split()
            for folder in resource_groups.parents()[0].glob(f"{resource_groups.PREFIX}*")}
    assert not {name: pids for name, pids in left.items() if pids}


def test_no_hidden_test_code_in_feedback_or_autograded(graded, repo):
    course, _ = graded
    hidden = hidden_code_lines(repo)
    for folder in (course.feedback, course.autograded):
        for path in folder.rglob("*"):
            if path.is_file():
                text = path.read_text(errors="ignore")
                assert "BEGIN HIDDEN TESTS" not in text or folder == course.autograded, path
                assert not [line for line in hidden if line in text], path
    for path in course.feedback.rglob("*.html"):
        assert "hidden_suite = " not in path.read_text(), path


def test_rerun_keeps_grades_and_duplicates_nothing(graded, monkeypatch):
    course, first = graded
    calls = []
    monkeypatch.setattr(autograde_module, "_grade_and_record", lambda *a, **k: calls.append(a) or [])
    again = {r.student: r for r in autograde(course, "batchnorm", workers=2)}
    assert calls == [] and set(again) == set(first)
    assert all(r.skipped for r in again.values())
    with open_gradebook(course) as gb:
        assert len(gb.assignment_submissions("batchnorm")) == len(EXPECTED)


def test_a_changed_submission_is_regraded_alone(graded):
    course, _ = graded
    path = course.submission_dir("bob_partial", "batchnorm") / "forward_batchnorm.py"
    path.write_text(path.read_text().replace("ddof=1", "ddof=0"))
    results = {r.student: r for r in autograde(course, "batchnorm", workers=1)}
    assert not results["bob_partial"].skipped and results["bob_partial"].score == 14.0
    assert all(r.skipped for s, r in results.items() if s != "bob_partial")
    path.write_text(path.read_text().replace("ddof=0", "ddof=1"))
    results = {r.student: r for r in autograde(course, "batchnorm", ["bob_partial"], workers=1)}
    assert results["bob_partial"].score == EXPECTED["bob_partial"]


def test_export_has_a_row_per_student_and_a_total(graded, tmp_path):
    course, _ = graded
    wide, long = export_grades(course, tmp_path / "grades.csv", tmp_path / "grades_long.csv")
    rows = {r["student"]: r for r in csv.DictReader(wide.open())}
    assert rows["(max)"]["batchnorm"] == "16.0"
    assert float(rows["alice_correct"]["batchnorm"]) == 15.0 == float(rows["alice_correct"]["total"])
    long_rows = list(csv.DictReader(long.open()))
    assert {r["cell"] for r in long_rows} >= {"hidden_train_forward", "answer_eps", "hidden_param_count"}


def test_recorded_state_is_readable(graded):
    course, _ = graded
    state = json.loads(state_path(course, "batchnorm", "bob_partial").read_text())
    assert state["score"] == EXPECTED["bob_partial"] and state["checks"]


def test_autograded_notebook_is_a_valid_notebook(graded):
    course, _ = graded
    for student in EXPECTED:
        nbformat.validate(nbformat.read(str(course.autograded_dir(student, "batchnorm") / "batchnorm.ipynb"), 4))


def test_class_report_shows_what_students_fail(graded, tmp_path):
    from hwtools.course.report import write_class_report

    course, _ = graded
    text = write_class_report(course, tmp_path / "summary.html", ["batchnorm"]).read_text()
    assert "data:image/png;base64," in text
    assert f"{len(EXPECTED)} submissions" in text
    assert "train mode, a batch of one: x - mean is zero" in text
    assert "hank_corrupt_notebook" in text and "corrupt" in text
