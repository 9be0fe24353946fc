"""Nothing a submission wrote is trusted (issue 17, deliverable 2), tried as an attacker would.

Each hostile submission is the instructor's solution (which earns 15 autograded points: the
hidden suite's 14 + 1; the two written answers wait for a TA) plus one attack: links planted in
the scratch folder for the grader to follow when it collects results, links and pipes in the
submission itself, and scores written into the scratch gradebook. Each attack must fail (no
file outside the scratch written or read, the score what the honest parts earn, a flag naming
what happened), and the reference solution graded in the same class before and after the
attackers must keep its full score.
"""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import nbformat
import pytest

from conftest import copy_course, submit_folder, submit_source_solution

ASSIGNMENT = "batchnorm"
HONEST = 15.0  # hidden points of the reference solution; answer_eps, answer_batch_of_one await a TA
MAX = 16.0
WRITTEN_POINTS = 1.0  # answer_batch_of_one's point (answer_eps is a bonus: 0 points, its 1 as extra credit)

FIND_SCRATCH = """
import os, pathlib
here = pathlib.Path(os.getcwd())
box = next(p for p in (here, *here.parents) if (p / "scratch-gradebook.db").exists())
"""


def hostile_notebook(course, folder: Path, code: str) -> None:
    """The solution notebook with one more (ungraded) cell at the end running ``code``."""
    path = folder / f"{ASSIGNMENT}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, str(path))


def tree_digest(folder: Path) -> dict:
    """Every entry under a folder (links not followed) with its kind and content hash."""
    listing = {}
    for path in sorted(folder.rglob("*")):
        if "__pycache__" in path.parts:  # the hidden suite's own byte code
            continue
        info = path.lstat()
        content = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(info.st_mode) else ""
        listing[str(path.relative_to(folder))] = (stat.S_IFMT(info.st_mode), content)
    return listing


def watched(course) -> dict:
    return {part: tree_digest(course.root / part) for part in ("tests", "source", "release", "submitted")} | {
        "config": hashlib.sha256((course.root / "nbgrader_config.py").read_bytes()).hexdigest()}


def result_entries(result) -> dict:
    """The autograded files the result carries: name -> bytes."""
    return result.files


def hidden_score(result: dict) -> float:
    return sum(g.auto_score or 0 for g in result.grades if g.name.startswith("hidden_"))


def assert_capped(result: dict) -> None:
    for grade in result.grades:
        assert grade.auto_score is None or 0 <= grade.auto_score <= grade.max_score, grade
    assert result.score <= result.max_score == MAX


def flagged(result: dict, *words: str) -> bool:
    text = " ".join(result.flags) + " " + result.reason
    return all(word in text for word in words)


def graded_within(seconds: float, *args) -> dict:
    """grade_submission, or a result saying it hung (a pipe blocks a copy forever)."""
    import threading

    from hwtools.grading.grade import grade_submission

    box = {}
    worker = threading.Thread(target=lambda: box.update(result=grade_submission(*args)), daemon=True)
    worker.start()
    worker.join(seconds)
    if "result" not in box:
        return {"status": "hung", "reason": f"grading did not return in {seconds} s", "score": -1, "grades": [],
                "checks": [], "max_score": MAX, "files": {}, "manual_pending": 0}
    return box["result"]


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """A class of attackers graded between two gradings of the reference solution."""
    from hwtools.grading.grade import grade_submission
    from hwtools.course.release import release_all

    course = copy_course(tmp_path_factory.mktemp("hostile_course"))
    release_all(course, [ASSIGNMENT])
    submit_source_solution(course, ASSIGNMENT)
    solution_file = course.submission_dir("reference_solution", ASSIGNMENT) / "forward_batchnorm.py"
    hidden_dir = course.hidden_tests / ASSIGNMENT

    # links planted in the scratch: result/ pointing into the course's hidden suite, and in the
    # executed folder a conftest.py to land there, a link to the solution, a link to /dev/zero,
    # a pipe and a huge sparse file
    folder = submit_source_solution(course, ASSIGNMENT, "mallory_links")
    # nbgrader itself chmods every file of the executed folder (following links), so the links
    # are planted by a process the kernel leaves behind, once nbgrader has set the permissions
    planter = f"""
import os, pathlib, shutil, time
here, box = pathlib.Path(os.environ["HERE"]), pathlib.Path(os.environ["BOX"])
deadline = time.time() + 120
while time.time() < deadline:
    try:
        if os.stat(here / "batchnorm.ipynb").st_mode & 0o777 == 0o444:
            break
    except OSError:
        pass
    time.sleep(0.005)
if (box / "result").is_symlink() or (box / "result").exists():
    shutil.rmtree(box / "result", ignore_errors=True)
os.symlink({str(hidden_dir)!r}, box / "result")
(here / "conftest.py").write_text("open('/tmp/hw-pwned-conftest', 'w').write('x')\\n")
os.symlink({str(course.source / ASSIGNMENT / 'forward_batchnorm.py')!r}, here / "leak.py")
os.symlink("/dev/zero", here / "weights.npy")
os.mkfifo(here / "history.fifo")
with open(here / "huge.bin", "wb") as f:
    f.truncate(300 * 1024 * 1024)
"""
    hostile_notebook(course, folder, FIND_SCRATCH + f"""
import subprocess, sys
subprocess.Popen([sys.executable, "-c", {planter!r}], start_new_session=True, env=dict(os.environ, HERE=str(here),
                 BOX=str(box)), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("planted")
""")

    # scores written into the scratch gradebook: a trigger that keeps every grade at 999, and
    # an UPDATE now
    folder = submit_source_solution(course, ASSIGNMENT, "mallory_gradebook")
    hostile_notebook(course, folder, FIND_SCRATCH + """
import sqlite3
db = sqlite3.connect(box / "scratch-gradebook.db")
db.executescript('''
CREATE TRIGGER IF NOT EXISTS hw_pwn AFTER UPDATE ON grade
WHEN NEW.auto_score IS NULL OR NEW.auto_score < 999 OR NEW.needs_manual_grade
BEGIN UPDATE grade SET auto_score = 999, needs_manual_grade = 0 WHERE id = NEW.id; END;
CREATE TRIGGER IF NOT EXISTS hw_pwn_insert AFTER INSERT ON grade
BEGIN UPDATE grade SET auto_score = 999, needs_manual_grade = 0 WHERE id = NEW.id; END;
UPDATE grade SET auto_score = 999, needs_manual_grade = 0;
''')
db.commit()
print("planted")
""")

    # the submission's own forward_batchnorm.py is an absolute link to another student's file;
    # a relative link and a dangling one beside it
    folder = submit_folder(course, ASSIGNMENT, "mallory_borrow", course.release / ASSIGNMENT)
    (folder / "forward_batchnorm.py").unlink()
    os.symlink(solution_file, folder / "forward_batchnorm.py")
    os.symlink("../../reference_solution/batchnorm/forward_batchnorm.py", folder / "helpers.py")
    os.symlink("/nonexistent/file.py", folder / "dangling.py")

    # a named pipe in the submission (the copy used to block on it)
    folder = submit_source_solution(course, ASSIGNMENT, "mallory_fifo")
    os.mkfifo(folder / "data.fifo")

    if os.path.lexists("/tmp/hw-pwned-conftest"):
        os.unlink("/tmp/hw-pwned-conftest")
    before = watched(course)
    results = {"reference_before": grade_submission(str(course.root), ASSIGNMENT, "reference_solution")}
    for student in ("mallory_links", "mallory_gradebook", "mallory_borrow", "mallory_fifo"):
        results[student] = graded_within(180, str(course.root), ASSIGNMENT, student)
    results["reference_after"] = grade_submission(str(course.root), ASSIGNMENT, "reference_solution")
    after = watched(course)
    return course, results, before, after


def test_the_reference_keeps_its_score_beside_the_attackers(hostile_class):
    course, results, before, after = hostile_class
    for key in ("reference_before", "reference_after"):
        result = results[key]
        assert result.status == "graded", result.reason
        assert result.score == HONEST and hidden_score(result) == HONEST and result.manual_pending == WRITTEN_POINTS
        assert not result.flags, result.flags
    assert [g.auto_score for g in results["reference_before"].grades] == \
        [g.auto_score for g in results["reference_after"].grades]
    assert before == after, "an attacker changed the course"
    assert not Path("/tmp/hw-pwned-conftest").exists()


def test_links_planted_in_the_scratch_are_not_followed(hostile_class):
    course, results, before, after = hostile_class
    result = results["mallory_links"]
    assert not (course.hidden_tests / ASSIGNMENT / "conftest.py").exists()
    assert not list((course.hidden_tests / ASSIGNMENT).glob("*.ipynb"))
    assert before["tests"] == after["tests"] and before["source"] == after["source"]
    entries = result_entries(result)
    assert all(isinstance(data, bytes) for data in entries.values()), sorted(entries)
    assert "leak.py" not in entries and "weights.npy" not in entries and "history.fifo" not in entries
    assert "huge.bin" not in entries
    assert all(len(data) < 50 * 1024 * 1024 for data in entries.values())
    assert f"{ASSIGNMENT}.ipynb" in entries
    solution = (course.source / ASSIGNMENT / "forward_batchnorm.py").read_bytes()
    assert all(data != solution for name, data in entries.items() if name != "forward_batchnorm.py")
    assert result.score == HONEST, result.reason
    assert_capped(result)
    assert flagged(result, "leak.py", "symbolic link") and flagged(result, "weights.npy") \
        and flagged(result, "history.fifo") and flagged(result, "huge.bin")


def test_scores_written_into_the_scratch_gradebook_are_ignored(hostile_class):
    result = hostile_class[1]["mallory_gradebook"]
    assert_capped(result)
    assert result.score == HONEST and result.manual_pending == WRITTEN_POINTS, result.grades
    by_name = {g.name: g for g in result.grades}
    assert by_name["answer_eps"].auto_score is None and by_name["answer_eps"].needs_manual_grade
    assert by_name["public_batchnorm"].auto_score == 0


def test_a_linked_submission_file_is_left_out_and_named(hostile_class):
    result = hostile_class[1]["mallory_borrow"]
    assert hidden_score(result) == 0 and result.score == 0, result.checks
    assert flagged(result, "forward_batchnorm.py is a symbolic link")
    assert flagged(result, "helpers.py") and flagged(result, "dangling.py")
    assert_capped(result)


def test_a_pipe_in_the_submission_is_left_out_and_named(hostile_class):
    result = hostile_class[1]["mallory_fifo"]
    assert result.status == "graded", result.reason
    assert result.score == HONEST
    assert flagged(result, "data.fifo")
    assert "data.fifo" not in result_entries(result)
    assert_capped(result)


def test_submission_fingerprint_does_not_follow_links(hostile_class):
    from hwtools.grading.grade import submission_fingerprint

    course = hostile_class[0]
    first = submission_fingerprint(course, ASSIGNMENT, "mallory_borrow")
    target = course.submission_dir("reference_solution", ASSIGNMENT) / "forward_batchnorm.py"
    original = target.read_bytes()
    try:
        target.write_bytes(original + b"\n# changed\n")
        assert submission_fingerprint(course, ASSIGNMENT, "mallory_borrow") == first
    finally:
        target.write_bytes(original)
    assert submission_fingerprint(course, ASSIGNMENT, "mallory_fifo")  # returns, does not block
