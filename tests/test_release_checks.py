"""`hw release` as an instructor runs it (issue 20, items 8 and 9): a misspelled marker or a
leak is one line naming the file and the marker, and never leaves a solution in release/; a
hidden group whose checks' points differ from its grade cell's, or a source notebook that is not
what authoring/ builds, is refused; a gradebook older than the source is reported
(``release_problem``) and `hw autograde` refuses to grade against it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from hwtools.course.release import marker_problem, release_all, release_problem

BIN = Path(sys.executable).parent
SOLUTION_LINE = "mean = x.mean(axis=0)"  # a line of source/batchnorm/forward_batchnorm.py's solution


def hw(course, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([str(BIN / "hw"), *args], cwd=course.root, env=env, capture_output=True, text=True,
                          timeout=600)


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refused(done: subprocess.CompletedProcess) -> str:
    """The one line a refused release prints (and nothing else)."""
    assert done.returncode == 1 and done.stdout == "", done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hw: release of batchnorm refused: "), done.stderr
    return lines[0]


@pytest.fixture
def released(course):
    release_all(course, ["batchnorm"])
    return course


def test_the_solution_line_is_what_it_says():
    assert SOLUTION_LINE in (REPO / "source" / "batchnorm" / "forward_batchnorm.py").read_text()


def test_a_misspelled_marker_is_one_line_and_releases_nothing(released):
    before = tree(released.release / "batchnorm")
    source = released.source / "batchnorm" / "forward_batchnorm.py"
    source.write_text(source.read_text().replace("### END SOLUTION", "### END SOLUTON"))
    line = refused(hw(released, "release", "batchnorm"))
    assert "source/batchnorm/forward_batchnorm.py" in line and "`### END SOLUTON` is not a marker" in line
    assert tree(released.release / "batchnorm") == before
    assert SOLUTION_LINE not in (released.release / "batchnorm" / "forward_batchnorm.py").read_text()


@pytest.mark.parametrize("had_release", [True, False])
def test_a_leak_is_removed_and_the_previous_release_put_back(released, had_release):
    if not had_release:
        shutil.rmtree(released.release / "batchnorm")
    before = tree(released.release / "batchnorm") if had_release else None
    (released.source / "batchnorm" / "notes.txt").write_text("### BEGIN SOLUTION\nthe answer is 42\n### END SOLUTION\n")
    line = refused(hw(released, "release", "batchnorm"))
    assert "release/batchnorm/notes.txt (BEGIN SOLUTION, END SOLUTION)" in line
    if had_release:
        assert tree(released.release / "batchnorm") == before
    else:
        assert not (released.release / "batchnorm").exists()


def _add_contract_check(course) -> None:
    suite = course.hidden_tests / "batchnorm" / "test_batchnorm_forward.py"
    suite.write_text(suite.read_text() + '\n\n@pytest.mark.points(1, group="hidden_contract")\n'
                     'def test_added_by_the_instructor():\n    """a check added later"""\n')


def test_changing_an_assignment_is_checked_from_the_suite_to_the_gradebook(released):
    """The issue's instructor: a hidden check added to a group, then the builder and the source."""
    shutil.copytree(REPO / "authoring", released.root / "authoring")
    assert release_problem(released, "batchnorm") is None
    _add_contract_check(released)
    line = refused(hw(released, "release", "batchnorm"))
    assert "hidden_contract: the hidden checks give 3 points, its grade cell 2" in line

    notebook = released.source / "batchnorm" / "batchnorm.ipynb"  # the source edited, not its builder
    notebook.write_text(notebook.read_text().replace('"points": 2,', '"points": 3,', 1))
    assert '"points": 3' in notebook.read_text()
    line = refused(hw(released, "release", "batchnorm"))
    assert "source/batchnorm/batchnorm.ipynb is not what authoring/build_batchnorm.py builds" in line

    builder = released.root / "authoring" / "build_batchnorm.py"
    builder.write_text(builder.read_text().replace('hidden_group("hidden_contract", 2,', 'hidden_group("hidden_contract", 3,'))
    subprocess.run([sys.executable, str(builder)], check=True)
    problem = release_problem(released, "batchnorm")  # rebuilt, not released: the gradebook has the old points
    assert problem == ("the gradebook's batchnorm is older than source/batchnorm (hidden_contract: 2 points in the "
                       "gradebook, 3 in source/batchnorm): run `hw release batchnorm` (and commit release/), then grade "
                       "again")
    done = hw(released, "autograde", "batchnorm")
    assert done.returncode == 1 and done.stderr == f"hw: {problem}; nothing was graded\n", done.stdout + done.stderr
    done = hw(released, "release", "batchnorm")
    assert done.returncode == 0 and "released release/batchnorm" in done.stdout, done.stderr
    assert release_problem(released, "batchnorm") is None


def test_release_problem_names_an_assignment_never_released(course):
    assert release_problem(course, "batchnorm") == "batchnorm is not in the gradebook yet: run `hw release batchnorm` first"


@pytest.mark.parametrize("text, problem", [
    ("x = 1\n    ### BEGIN SOLUTION\n    y = 2\n    ### END SOLUTION\n", None),
    ("### BEGIN HIDDEN TESTS\nassert f()\n### END HIDDEN TESTS\n", None),
    ("# End of the training loop\n# begin with the data\n## Solutions below are yours\n", None),
    ("### BEGIN SOLUTION\ny = 2\n### END SOLUTON\n", "line 3 `### END SOLUTON` is not a marker (`### END SOLUTION`?)"),
    ("### BEGN SOLUTION\ny = 2\n", "line 1 `### BEGN SOLUTION` is not a marker (`### BEGIN SOLUTION`?)"),
    ("### end solution\n", "line 1 `### end solution` is not a marker (`### END SOLUTION`?)"),
    ("### BEGIN HIDDEN TEST\n", "line 1 `### BEGIN HIDDEN TEST` is not a marker (`### BEGIN HIDDEN TESTS`?)"),
    ("### BEGIN SOLUTION\ny = 2\n", "line 1 `### BEGIN SOLUTION` is never ended (no `### END SOLUTION` after it)"),
    ("y = 2\n### END SOLUTION\n", "line 2 `### END SOLUTION` ends no `### BEGIN SOLUTION`"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
     "line 2 `### BEGIN SOLUTION` comes before line 1's `### BEGIN SOLUTION` ended"),
])
def test_marker_problem(text, problem):
    assert marker_problem(text) == problem


def test_releasing_a_graded_assignment_whose_cells_changed_says_why_in_one_line(released):
    """nbgrader refuses to change the cells of an assignment with submissions; its last log line
    only says "Please see the above traceback". The one line says what nbgrader refused and the
    two ways out, and release/ stays as it was."""
    from hwtools.course import gradebook_writer

    with gradebook_writer.open_gradebook(released) as gb:  # graded once, then a cell the source no longer has
        gb.update_or_create_student("carol")
        gb.add_submission("batchnorm", "carol")
        gb.update_or_create_grade_cell("cell_removed_since", "batchnorm", "batchnorm", max_score=1, cell_type="code")
    before = tree(released.release / "batchnorm")
    done = hw(released, "release", "batchnorm")
    assert done.returncode == 1 and done.stdout == "", done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("hw: release of batchnorm failed in nbgrader: Cannot add or remove cells"), line
    assert "traceback" not in line.lower() and "new assignment name" in line and "nbgrader db assignment remove" in line
    assert tree(released.release / "batchnorm") == before
