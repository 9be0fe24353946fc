"""The README's student walkthrough, run as written with the real nbgrader 0.9.6 commands.

Two ways in: an nbgrader exchange (JupyterHub: release, fetch, validate, submit, collect,
autograde, release and fetch feedback) and an LMS upload ingested by `nbgrader zip_collect`.
Each command the test runs must appear in a code block of the README, so the two cannot
drift. The exchange lives in tmp; each student has a working folder and HOME of their own,
whose ~/.jupyter/nbgrader_config.py stands in for what a hub's global config provides (the
exchange folder; the student's id, which on a hub is the login).
"""
from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat

from conftest import REPO, copy_course
from hwtools.course.sample_class import fill_cells
from hwtools.course.validate import PUBLIC_TESTS_PASSED, validate_notebooks

BIN = Path(sys.executable).parent
COURSE_ID = "deep-learning-hw"
NBGRADER_SUCCESS = "passes all the tests"


def readme_commands() -> set[str]:
    """Every command line of the README's fenced code blocks, without its trailing comment."""
    blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    return {line.split("  #")[0].strip() for block in blocks for line in block.splitlines()} - {""}


def run_documented(command: str, cwd: Path, env: dict) -> str:
    """Run a command exactly as the README shows it; returns its stdout and stderr."""
    assert command in readme_commands(), f"the README does not show `{command}`"
    started = time.monotonic()
    done = subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    print(f"{time.monotonic() - started:5.1f} s  {command}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`{command}` failed:\n{output[-3000:]}"
    return output


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "HW_COURSE_ROOT"))}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    return env


def instructor_env(tmp: Path, exchange: Path) -> dict:
    config_dir = tmp / "instructor_jupyter"
    config_dir.mkdir()
    (config_dir / "nbgrader_config.py").write_text(f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n")
    return dict(base_env(), JUPYTER_CONFIG_DIR=str(config_dir))


def student_account(tmp: Path, exchange: Path, student: str) -> tuple[Path, dict]:
    """(working folder, environment) of a student with a HOME of their own."""
    home, work = tmp / student / "home", tmp / student / "work"
    (home / ".jupyter").mkdir(parents=True)
    work.mkdir()
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.student_id = {student!r}\n")
    return work, dict(base_env(), HOME=str(home), USER=student, LOGNAME=student)


def without_solution_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def solve(folder: Path, source: Path) -> None:
    """A student's work: the solution's code in forward_batchnorm.py, the notebook's answer cells
    and written answers (nbgrader's validate counts an unanswered written answer as failing)."""
    (folder / "forward_batchnorm.py").write_text(
        without_solution_markers((source / "forward_batchnorm.py").read_text()) + "\n")
    solved = nbformat.read(str(source / "batchnorm.ipynb"), as_version=4)
    answers = {cell.metadata["nbgrader"]["grade_id"]: without_solution_markers(cell.source) for cell in solved.cells
               if cell.metadata.get("nbgrader", {}).get("solution")}
    assert answers, "the source notebook has no answer cells to fill"
    fill_cells(folder / "batchnorm.ipynb", answers)


def scores(summary: str) -> dict[str, str]:
    return dict(re.findall(r"^(\S+)\s+batchnorm\s+(\S+/\S+)", summary, re.MULTILINE))


def fetched_feedback(work: Path) -> str:
    pages = sorted((work / "batchnorm" / "feedback").glob("*/batchnorm.html"))
    assert len(pages) == 1, pages
    return pages[0].read_text()


def test_students_submit_through_exchange_and_lms(tmp_path):
    course = copy_course(tmp_path / "course")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    ta = instructor_env(tmp_path, exchange)
    run_documented("hw release batchnorm", course.root, ta)
    run_documented("nbgrader release_assignment batchnorm", course.root, ta)

    students = {name: student_account(tmp_path, exchange, name) for name in ("alice", "bob")}
    for work, env in students.values():
        run_documented(f"nbgrader fetch_assignment batchnorm --course {COURSE_ID}", work, env)
    alice_work, alice_env = students["alice"]
    solve(alice_work / "batchnorm", course.source / "batchnorm")
    checked = run_documented("hw validate batchnorm/batchnorm.ipynb", alice_work, alice_env)
    assert PUBLIC_TESTS_PASSED in checked and NBGRADER_SUCCESS not in checked
    for work, env in students.values():  # bob hands in the release untouched
        run_documented(f"nbgrader submit batchnorm --course {COURSE_ID}", work, env)
    run_documented("nbgrader collect batchnorm", course.root, ta)

    # Dave hands in through the LMS: its download holds a folder per student id with the files
    # the student uploaded.
    archive = course.root / "downloaded" / "batchnorm" / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "lms_download.zip", "w") as lms:
        for name in ("batchnorm.ipynb", "forward_batchnorm.py"):
            lms.write(alice_work / "batchnorm" / name, f"dave/{name}")
    run_documented("nbgrader zip_collect batchnorm", course.root, ta)
    assert sorted(p.name for p in course.submission_dir("dave", "batchnorm").iterdir()) == [
        "batchnorm.ipynb", "forward_batchnorm.py"]

    summary = run_documented("hw autograde batchnorm", course.root, ta)
    assert scores(summary) == {"alice": "15/16", "bob": "0/16", "dave": "15/16"}, summary
    assert (course.feedback / "dave" / "batchnorm" / "batchnorm.html").is_file()

    released = run_documented("nbgrader release_feedback batchnorm --CourseDirectory.student_id_exclude=dave",
                              course.root, ta)
    assert "Releasing feedback for student 'alice'" in released and "'dave'" not in released
    for work, env in students.values():
        run_documented(f"nbgrader fetch_feedback batchnorm --course {COURSE_ID}", work, env)
    alice_page, bob_page = fetched_feedback(alice_work), fetched_feedback(students["bob"][0])
    assert "Score: 15.0 / 16.0" in alice_page and "Score: 0.0 / 16.0" in bob_page
    assert "NotImplementedError" in bob_page
    for page in (alice_page, bob_page):
        assert "hidden_suite =" not in page and "BEGIN HIDDEN TESTS" not in page


def test_validate_says_public_tests_only(tmp_path):
    """An untouched release fails with nbgrader's reasons; a solved one passes, worded honestly."""
    release, solved = tmp_path / "release", tmp_path / "solved"
    shutil.copytree(REPO / "release" / "batchnorm", release)
    shutil.copytree(REPO / "release" / "batchnorm", solved)
    solve(solved, REPO / "source" / "batchnorm")

    report = io.StringIO()
    assert validate_notebooks([str(release / "batchnorm.ipynb")], stream=report) is False
    assert "VALIDATION FAILED" in report.getvalue() and "NotImplementedError" in report.getvalue()
    assert PUBLIC_TESTS_PASSED not in report.getvalue()

    report = io.StringIO()
    assert validate_notebooks([str(solved / "batchnorm.ipynb")], stream=report) is True
    assert PUBLIC_TESTS_PASSED in report.getvalue() and NBGRADER_SUCCESS not in report.getvalue()


def test_validate_drops_benign_stderr_as_the_autograder_does(tmp_path):
    """nbgrader fails a test cell on any stderr output; a framework warning must not fail it
    here when the autograder ignores it, and a real error message must still fail."""
    from hwtools.course.authoring import public_tests, write_notebook

    write_notebook(tmp_path / "warns.ipynb", [public_tests("public_warns", (
        'import sys\nsys.stderr.write("WARNING: tf.function retracing is deprecated\\n")\nprint("ok")')),
    ])
    write_notebook(tmp_path / "errs.ipynb", [public_tests("public_errs", (
        'import sys\nsys.stderr.write("ValueError: shapes (3,) and (4,) differ\\n")\nprint("ok")')),
    ])
    report = io.StringIO()
    assert validate_notebooks([str(tmp_path / "warns.ipynb")], stream=report) is True, report.getvalue()
    report = io.StringIO()
    assert validate_notebooks([str(tmp_path / "errs.ipynb")], stream=report) is False
    assert "shapes (3,) and (4,) differ" in report.getvalue()
