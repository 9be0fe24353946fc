"""Release: regenerated release/ equals the committed one and carries no solution or hidden test."""
import filecmp
import subprocess
import sys
from pathlib import Path

import pytest

from hwtools.course.release import FORBIDDEN_MARKERS, release_all, strip_solutions


def test_strip_solutions_keeps_indentation_and_code_around():
    source = ("def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n\n"
              "def g():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION\n")
    stripped = strip_solutions(source)
    assert "return x + y" not in stripped and "BEGIN" not in stripped
    assert "    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError(" in stripped
    assert stripped.count("NotImplementedError") == 2
    compile(stripped, "stub.py", "exec")


def _files(root: Path) -> dict:
    return {p.relative_to(root): p for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def regenerated(session_course):
    release_all(session_course)
    return session_course.release


def test_committed_release_is_in_sync_with_source(repo, regenerated):
    committed, fresh = _files(repo.release), _files(regenerated)
    assert sorted(map(str, committed)) == sorted(map(str, fresh)), "run `make release` and commit release/"
    stale = [str(rel) for rel, path in fresh.items() if not filecmp.cmp(path, committed[rel], shallow=False)]
    assert not stale, f"release/ is stale for {stale}: run `make release` and commit it"


def test_release_holds_no_solution_or_hidden_markers(repo):
    for path in _files(repo.release).values():
        text = path.read_text(errors="ignore")
        assert not [m for m in FORBIDDEN_MARKERS if m in text], path


def hidden_code_lines(repo) -> set[str]:
    """Distinctive lines of the hidden suites (longer than a trivial statement; decorators and
    imports are shared vocabulary, not test code)."""
    lines = set()
    for path in repo.hidden_tests.rglob("*.py"):
        for line in path.read_text().splitlines():
            line = line.strip()
            if len(line) > 30 and not line.startswith(("#", '"""', "import", "from", "@")):
                lines.add(line)
    return lines


def test_release_and_hwtools_hold_no_hidden_test_code(repo):
    hidden = hidden_code_lines(repo)
    assert len(hidden) > 20
    places = list(_files(repo.release).values()) + list((repo.root / "hwtools").rglob("*.py"))
    for path in places:
        text = path.read_text(errors="ignore")
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{path} contains hidden test code: {leaked[:3]}"


def test_solution_reference_lines_are_not_released(repo):
    source = (repo.source / "batchnorm" / "forward_batchnorm.py").read_text()
    solution = source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    released_text = (repo.release / "batchnorm" / "forward_batchnorm.py").read_text()
    code = released_text.split('"""', 2)[2]  # the module docstring is the public specification
    released = {line.strip() for line in code.splitlines()}
    leaked = [line for line in filter(None, (l.strip() for l in solution.splitlines())) if line in released]
    assert not leaked, f"solution lines in the release: {leaked}"


def test_released_stub_raises_not_implemented(repo):
    code = ("import numpy as np, sys; sys.path.insert(0, sys.argv[1]); from forward_batchnorm import batchnorm_forward\n"
            "try:\n    batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {'mode': 'train'})\n"
            "except NotImplementedError:\n    sys.exit(0)\nsys.exit(1)")
    assert subprocess.run([sys.executable, "-c", code, str(repo.release / "batchnorm")]).returncode == 0


def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_outputs_go_to_the_course_root_from_any_folder(course, monkeypatch):
    """A TA who runs ``hw export`` or ``hw report`` inside source/<assignment>/ writes nothing
    there (it would be released with the assignment)."""
    from hwtools import cli

    from hwtools.course.gradebook_writer import open_gradebook

    release_all(course, ["batchnorm"])
    with open_gradebook(course) as gb:  # one recorded submission: export and report refuse an empty gradebook
        gb.update_or_create_student("alice_correct")
        gb.update_or_create_submission("batchnorm", "alice_correct")
    monkeypatch.chdir(course.source / "batchnorm")
    before = _tree(course.source / "batchnorm")
    cli.main(["export"])
    cli.main(["report", "batchnorm"])
    assert _tree(course.source / "batchnorm") == before
    assert (course.root / "grades.csv").is_file() and (course.root / "grades_long.csv").is_file()
    assert (course.root / "reports" / "class_summary.html").is_file()


@pytest.mark.parametrize("planted, why", [
    ("grades.csv", "class data"), ("grades_long.csv", "class data"), ("gradebook.db", "class data"),
    ("feedback/alice/batchnorm.html", "class data"), ("alice_correct_notes.txt", "named after a student"),
    ("answers.secret", "class data")])
def test_release_refuses_class_data_in_the_source(course, monkeypatch, planted, why):
    from hwtools import cli

    release_all(course, ["batchnorm"])
    (course.submitted / "alice_correct" / "batchnorm").mkdir(parents=True)
    with open(course.root / "nbgrader_config.py", "a") as config:
        config.write('\nc.HwRelease.deny = ["*.secret"]\n')
    released = _tree(course.release / "batchnorm")
    path = course.source / "batchnorm" / planted
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("alice_correct,15.0\n")
    monkeypatch.chdir(course.root)
    with pytest.raises(SystemExit, match=rf"^hw: release of batchnorm refused: source/batchnorm/ holds "
                                         rf"{planted.split('/')[0]}.*\({why}"):
        cli.main(["release", "batchnorm"])
    assert _tree(course.release / "batchnorm") == released  # nothing was released
