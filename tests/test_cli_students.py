"""Students named on the command line (issue 20, item 2): a typo is an error naming the close
matches, with nothing written; the README's argument order works either way round; a student
recorded by mistake can be removed."""
from __future__ import annotations

import pytest

from conftest import submit_source_solution
from hwtools import cli


@pytest.fixture
def released(course, monkeypatch):
    from hwtools.course.release import release_all

    release_all(course, ["batchnorm"])
    submit_source_solution(course, "batchnorm", "bob_partial")
    monkeypatch.chdir(course.root)
    return course


def _recorded(course) -> list[str]:
    from hwtools.course.gradebook_writer import open_gradebook

    with open_gradebook(course) as gradebook:
        return sorted(s.id for s in gradebook.students)


def test_a_typo_is_an_error_naming_the_close_match_and_writes_nothing(released):
    with pytest.raises(SystemExit, match=r"^hw: no folder in submitted/ for bob \(did you mean bob_partial\?\); "
                                         r"nothing was graded \(--missing-as-zero"):
        cli.main(["autograde", "batchnorm", "--students", "bob"])
    assert _recorded(released) == [] and not released.autograded.exists()


def test_missing_students_are_recorded_as_zero_only_when_asked(released):
    cli.main(["autograde", "batchnorm", "--students", "bob", "--missing-as-zero"])
    assert _recorded(released) == ["bob"]


@pytest.mark.parametrize("argv", [["autograde", "batchnorm", "--students", "bob_partial"],
                                  ["autograde", "--students", "bob_partial", "batchnorm"]])
def test_either_argument_order_grades_the_one_assignment(released, argv, capsys):
    results = cli.cmd_autograde(released, cli.parser().parse_args(argv))
    assert [(r.student, r.assignment) for r in results] == [("bob_partial", "batchnorm")]


def test_a_student_recorded_by_mistake_can_be_removed(released, capsys):
    cli.main(["autograde", "batchnorm", "--students", "bob", "--missing-as-zero"])
    assert (released.autograded / "bob").is_dir() or (released.feedback / "bob").is_dir()
    cli.main(["remove-student", "bob"])
    assert "removed bob from the gradebook" in capsys.readouterr().out
    assert _recorded(released) == [] and not (released.autograded / "bob").exists()
    assert not (released.feedback / "bob").exists()
