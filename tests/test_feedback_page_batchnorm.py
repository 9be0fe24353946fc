"""The feedback page a student reads top to bottom (issue 20, item 6), on real pages of the
batchnorm sample class, graded end to end and regenerated with `hw feedback` as a TA types it:

- the contents name every check after its question (the heading above it), not "Test cell";
- the page starts with a summary: score per question and the first thing to fix;
- written answers a TA has not graded read "not graded yet", then their score once graded;
- long check messages wrap (white-space: pre-wrap on outputs) instead of scrolling sideways;
- what the summary adds is escaped (a student's heading never becomes markup) and carries no
  hidden test code.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import copy_course
from test_release import hidden_code_lines
from test_ta_grades import grade_by_hand

BIN = Path(sys.executable).parent
HEADING_STUDENT = "heidi_heading"
HOSTILE_HEADING = "## 2b. <img src=x onerror=alert('HEADING_ONERROR')> <b>BOLD_HEADING</b> & more"


def hw(course, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run([str(BIN / "hw"), *args], cwd=course.root, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all
    from hwtools.course.sample_class import build_sample_class

    course = copy_course(tmp_path_factory.mktemp("feedback_page"))
    release_all(course, ["batchnorm"])
    build_sample_class(course, ["batchnorm"])
    # alice's work with a heading of her own, full of markup, above her written answers
    heidi = course.submission_dir(HEADING_STUDENT, "batchnorm")
    shutil.copytree(course.submission_dir("alice_correct", "batchnorm"), heidi)
    notebook = nbformat.read(str(heidi / "batchnorm.ipynb"), as_version=4)
    at = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "answer_eps")
    notebook.cells.insert(at, nbformat.v4.new_markdown_cell(HOSTILE_HEADING))
    nbformat.write(notebook, str(heidi / "batchnorm.ipynb"))
    autograde(course, "batchnorm", workers=2)
    return course


def page(course, student: str) -> str:
    return (course.feedback / student / "batchnorm" / "batchnorm.html").read_text()


def soup(course, student: str) -> BeautifulSoup:
    return BeautifulSoup(page(course, student), "html.parser")


def contents(course, student: str) -> dict[str, list[str]]:
    """The contents as {question: [its entries' text]}."""
    toc = soup(course, student).find(id="toc")
    assert toc is not None, "the page has no contents"
    out = {}
    for item in toc.find("ol").find_all("li", recursive=False):
        title = " ".join(item.find("a").get_text().split())
        out[title] = [" ".join(li.get_text().split()) for li in item.find_all("li")]
    return out


def summary(course, student: str) -> str:
    block = soup(course, student).find(id="hw-summary")
    assert block is not None, "the page has no summary"
    return " ".join(block.get_text(" ").split()).replace(" ,", ",")


def test_contents_name_every_check_after_its_question(graded):
    toc = soup(graded, "bob_partial").find(id="toc").get_text(" ", strip=True)
    assert "Test cell" not in toc and "Written response" not in toc
    entries = contents(graded, "bob_partial")
    assert list(entries) == ["1. batchnorm_forward (14 points, hidden tests)", "2. Questions from the seed"]
    first, second = entries.values()
    assert first[0] == "public tests (no points; the hidden tests grade): failed"
    assert "hidden tests: train-mode output on several shapes, float32 and float64, tiny variances, large offsets, " \
           "a batch of one: 1 / 6" in first
    assert "hidden tests: test mode with given running statistics and after training: 3 / 3" in first
    assert second[0].startswith("written answer: (a) Bonus: What is eps for in the normalisation")
    assert "hidden tests: the value of bn_trainable_params: 0 / 1" in second
    # each check's own heading on the page names its question too
    labels = [" ".join(s.get_text().split()) for s in soup(graded, "bob_partial").find_all(class_="nbgrader-label")]
    assert "Check hidden_running_stats: 1. batchnorm_forward (14 points, hidden tests), hidden tests: running mean " \
           "and variance after one and several train steps" in labels


def test_the_page_starts_with_a_summary_of_scores_and_the_first_thing_to_fix(graded):
    text = page(graded, "bob_partial")
    assert 0 < text.index('id="hw-summary"') < text.index('id="toc"') < text.index('id="notebook"')
    bob = summary(graded, "bob_partial")
    assert "1. batchnorm_forward (14 points, hidden tests) 5 / 14" in bob
    assert "2. Questions from the seed 0 / 2; bonus not graded yet" in bob  # (a) is the seed's bonus
    assert "First thing to fix: 1. batchnorm_forward (14 points, hidden tests), public tests" in bob
    assert "CheckFailure: per-feature std of out: 5 of 5 values differ from the expected ones" in bob
    # a file that does not load: the first failing cell is the setup cell, above any question
    assert "First thing to fix: Batch normalisation: the forward pass, a cell raised an error SyntaxError: " \
           "expected ':' (forward_batchnorm.py, line 5)" in summary(graded, "dave_broken")
    assert "NotImplementedError: complete this part" in summary(graded, "carol_stub")
    alice = summary(graded, "alice_correct")
    assert "1. batchnorm_forward (14 points, hidden tests) 14 / 14" in alice
    assert "Nothing to fix: every automatic check passed." in alice and "First thing to fix" not in alice


def test_long_check_messages_wrap_instead_of_scrolling_sideways(graded):
    text = page(graded, "bob_partial")
    css = "".join(style.get_text() for style in soup(graded, "bob_partial").find_all("style"))
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", css)
    wrapping = [selector for selector, body in rules
                if re.search(r"white-space\s*:\s*pre-wrap", body) and "output" in selector and "pre" in selector]
    assert wrapping, "no CSS rule makes output text wrap"
    long_line = max(text.split("\n"), key=len)
    assert len(long_line) > 150  # the page does hold a message longer than a screen is wide
    shown = soup(graded, "bob_partial").find_all(string=re.compile("worst at index"))
    assert [s for s in shown if s.find_parent("pre") and s.find_parent(class_="output_subarea")]


def test_the_summary_escapes_student_markup_and_holds_no_hidden_code(graded, repo):
    heidi = page(graded, HEADING_STUDENT)
    assert "onerror" not in heidi and "HEADING_ONERROR" not in heidi
    entries = contents(graded, HEADING_STUDENT)
    assert "2b. BOLD_HEADING & more" in entries
    toc = str(soup(graded, HEADING_STUDENT).find(id="toc"))
    assert "<b>" not in toc and "<img" not in toc and "BOLD_HEADING &amp; more" in toc
    hidden = hidden_code_lines(repo)
    assert len(hidden) > 20
    for student in ("alice_correct", "bob_partial", "carol_stub", "dave_broken", HEADING_STUDENT):
        text = page(graded, student)
        assert "BEGIN HIDDEN TESTS" not in text and "hidden_suite = " not in text, student
        assert not [line for line in hidden if line in text], student


def test_written_answers_read_not_graded_yet_until_a_ta_grades_them(graded):
    def written(student):
        return [e for e in contents(graded, student)["2. Questions from the seed"] if e.startswith("written answer")]

    before = written("alice_correct")  # (a) is the seed's bonus question, (b) an ordinary one
    assert [e.rsplit(": ", 1)[1] for e in before] == ["bonus, not graded yet", "not graded yet (1 point)"], before
    alice = page(graded, "alice_correct")
    assert "0.0 / 1.0" not in alice and "0 / 1" not in " ".join(before)
    assert "2. Questions from the seed 1 / 1; 1 point not graded yet; bonus not graded yet" in \
        summary(graded, "alice_correct")
    assert "(Score: 15.0 / 16.0; 1 point(s) not graded yet)" in soup(graded, "alice_correct").find("h4").get_text()

    grade_by_hand(graded, "alice_correct", {"answer_batch_of_one": 0.5}, extra_credit={"answer_eps": 1.0})
    hw(graded, "feedback", "batchnorm", "--students", "alice_correct")
    after = written("alice_correct")
    assert [e.rsplit(": ", 1)[1] for e in after] == ["+1 (bonus)", "0.5 / 1"], after
    assert "not graded yet" not in page(graded, "alice_correct")
    assert "2. Questions from the seed 1.5 / 2; +1 bonus" in summary(graded, "alice_correct")
    assert "(Score: 16.5 / 16.0)" in soup(graded, "alice_correct").find("h4").get_text()
