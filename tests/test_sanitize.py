"""A hostile student's HTML, script, links and escape sequences, written as the attacker would:
script in outputs (HTML, JavaScript, SVG), event handlers and frames in markdown, outputs and
the written answer a TA grades, javascript: links; escapes for the grader's terminal; formulas
for the grader's spreadsheet. None of it may reach a TA live, and a good notebook's plot,
table, bold text and math must survive."""
import base64
import csv
import json
import re
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output, new_raw_cell

from hwtools.grading.results import SubmissionResult
from hwtools.course.sanitize import SanitizeOutputs, csv_safe, sanitize_html, sanitize_markdown, terminal_safe

# a 1x1 PNG, the plot a good student leaves
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()

# each payload carries a unique marker: if the marker is in a page, the payload is too
SCRIPT_MARKERS = ["HTML_SCRIPT", "JS_OUTPUT", "TEXT_JS", "VND_JS", "SVG_SCRIPT", "MD_SCRIPT", "RAW_SCRIPT",
                  "MD_ONERROR", "OUT_ONERROR", "ANSWER_ONERROR", "OUT_IFRAME", "OUT_JSLINK", "MD_IFRAME",
                  "MD_SVG", "LATEX_ENV"]

HOSTILE_MARKDOWN = """**bold words** and $x^2$ and `code span`, and `a < b && c` too

- item one
- item two

> a quote

<img src=x onerror=alert('MD_ONERROR')>

[click](javascript:alert('MD_JSLINK')) [again](JaVa&#x09;ScRiPt:alert('MD_JSLINK2')) [esc](javascript\\:alert(3))

<iframe src="https://evil.example/MD_IFRAME"></iframe>

<script>alert('MD_SCRIPT')</script>

<svg><script>alert('MD_SVG')</script></svg>

\\begin{equation}<img src=x onerror=alert('LATEX_ENV')>\\end{equation}
"""


def display(data, kind="display_data"):
    return new_output(kind, data=data, **({"execution_count": 1} if kind == "execute_result" else {}))


def hostile_cells():
    outputs = [
        display({"text/html": "<script>alert('HTML_SCRIPT')</script><b>kept bold</b>", "text/plain": "<HTML>"}),
        display({"application/javascript": "alert('JS_OUTPUT')", "text/plain": "<Javascript object>"}),
        display({"text/javascript": "alert('TEXT_JS')"}),
        display({"application/vnd.evil+javascript": "alert('VND_JS')"}),
        display({"image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg'><script>alert('SVG_SCRIPT')</script></svg>"}),
        display({"text/html": "<img src=x onerror=alert('OUT_ONERROR')>"}),
        display({"text/html": "<iframe src=\"javascript:alert('OUT_IFRAME')\"></iframe>"}),
        display({"text/html": "<a href=\"javascript:alert('OUT_JSLINK')\">x</a>"}),
        display({"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"}),
        display({"text/html": "<table class='dataframe'><tr><th>col</th></tr><tr><td>TABLE_CELL</td></tr></table>",
                 "text/plain": "   col"}, "execute_result"),
        new_output("stream", name="stdout", text="epoch 1 loss 0.5\n"),
    ]
    raw = new_raw_cell("<script>alert('RAW_SCRIPT')</script>", metadata={"raw_mimetype": "text/html"})
    return [new_markdown_cell(HOSTILE_MARKDOWN), new_code_cell("show()", outputs=outputs, execution_count=1), raw]


def assert_no_payload(text: str):
    for marker in SCRIPT_MARKERS:
        assert marker not in text, marker
    assert not re.search(r"onerror|onmouseover|<iframe|<svg|<object|<embed", text, re.IGNORECASE)
    assert not re.search(r"(href|src)\s*=\s*[\"']?\s*(javascript|vbscript):", text, re.IGNORECASE)


def test_html_keeps_formatting_and_loses_script():
    html = sanitize_html("<p><b>b</b><table><tr><td>1</td></tr></table><img src='data:image/png;base64,AAAA' alt=p>"
                         "<img src='data:image/svg+xml;base64,AAAA'><a href='data:text/html,x'>d</a>"
                         "<a href='https://example.org'>ok</a><object data=x></object><embed src=x>"
                         "<form action=x><input></form><style>body{display:none}</style></p>")
    assert "<b>b</b>" in html and "<td>1</td>" in html and 'src="data:image/png;base64,AAAA"' in html
    assert 'href="https://example.org"' in html
    for gone in ("svg+xml", "data:text", "<object", "<embed", "<form", "<input", "display:none"):
        assert gone not in html, gone


def test_markdown_keeps_its_syntax():
    text = sanitize_markdown("**bold** _it_\n\n1. one\n2. two\n\n> quote\n\n$x^2$ $x<y$ $a < b$\n\n"
                             "`x && y` [ok](https://example.org?a=1&b=2) AT&T\n\n"
                             "```python\nprint(1)\n```\n")
    for kept in ("**bold** _it_", "1. one\n2. two", "> quote", "$x^2$", "$a < b$", "`x && y`",
                 "[ok](https://example.org?a=1&b=2)", "AT&T", "```python\nprint(1)\n```"):
        assert kept in text, kept
    assert "x&lt;y" in text  # kept as text (rendered "<"), not read as a tag


def test_markdown_text_that_only_looks_like_a_tag_stays_text():
    # not a tag for markdown (which would escape it), a live element for a browser reading it raw
    # (nbconvert writes \\begin{...} environments unescaped): written as an entity either way
    assert sanitize_markdown("<y$ onmouseover=alert(1)>") == "&lt;y$ onmouseover=alert(1)>"
    assert sanitize_markdown("\\begin{x}<y$ onmouseover=alert(1)>\\end{x}").startswith("\\begin{x}&lt;y$")
    # an entity the sanitizer decoded is never written back as one the renderer decodes again
    assert sanitize_markdown("[x](&amp;#106;avascript:alert(1))") == "[x](&amp;#106;avascript:alert(1))"


def test_markdown_loses_script_and_script_links():
    text = sanitize_markdown(HOSTILE_MARKDOWN)
    assert_no_payload(text)
    assert "javascript:" not in text.lower() and "javascript-blocked:" in text.lower()
    assert "<img src=\"x\">" in text  # the image stays, its handler does not
    assert sanitize_markdown(text) == text  # stable: sanitizing twice changes nothing


def test_preprocessor_on_a_hostile_notebook_keeps_the_good_parts():
    notebook = nbformat.v4.new_notebook(cells=hostile_cells())
    notebook, _ = SanitizeOutputs()(notebook, {})  # as nbconvert calls it
    nbformat.validate(notebook)
    assert_no_payload(json.dumps(notebook))
    outputs = notebook.cells[1].outputs
    assert outputs[8].data == {"image/png": PNG, "text/plain": "<Figure size 640x480 with 1 Axes>"}
    assert "TABLE_CELL</td>" in outputs[9].data["text/html"] and "kept bold" in outputs[0].data["text/html"]
    assert "removed by the grader" in outputs[2].data["text/plain"]
    assert outputs[10].text == "epoch 1 loss 0.5\n"


def test_terminal_safe_makes_escapes_visible():
    assert terminal_safe("a\x1b]0;pwned\x07b\x1b[2J\x9b\x7f\u202e\tc\nd") == \
        "a\\x1b]0;pwned\\x07b\\x1b[2J\\x9b\\x7f\\u202e\tc\nd"


def test_csv_safe_neutralises_formulas_and_keeps_numbers():
    assert [csv_safe(v) for v in ("=1+1", "@SUM(A1)", "-2+3", "+1", "\t=x", "\r=x", "alice")] == \
        ["'=1+1", "'@SUM(A1)", "'-2+3", "+1", "'\t=x", "'\r=x", "alice"]
    assert [csv_safe(v) for v in (-1.5, 3, "-2", "-2.5e3", "")] == [-1.5, 3, "-2", "-2.5e3", ""]


HOSTILE_RESULT = SubmissionResult("eve\x1b]0;pwned\x07", "batchnorm", "failed",
                                  "check said \x1b[2J\x1b]52;c;ZXZpbA==\x07", score=1.0, max_score=2.0)


def test_progress_and_summary_print_escapes_as_text(capsys):
    from hwtools.course.autograde import _progress, summary_table

    _progress(1, 1, 1, time.monotonic(), HOSTILE_RESULT)
    print(summary_table([HOSTILE_RESULT]))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "eve\\x1b]0;pwned\\x07" in out and "\\x1b[2J" in out and "\\x1b]52;c;" in out


# --- end to end: the autograded notebook the formgrader shows and nbgrader's feedback page ---


@pytest.fixture(scope="module")
def hostile_course(tmp_path_factory):
    from conftest import copy_course
    from hwtools.course.gradebook_writer import open_gradebook, record_result
    from hwtools.course.release import release_all

    course = copy_course(tmp_path_factory.mktemp("sanitize") / "course")
    release_all(course, ["batchnorm"])
    notebook = nbformat.read(str(course.release / "batchnorm" / "batchnorm.ipynb"), as_version=4)
    answer = next(c for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = "My answer is **two**. <img src=x onerror=alert('ANSWER_ONERROR')>"
    notebook.cells += hostile_cells()
    with open_gradebook(course) as gradebook:
        record_result(course, SubmissionResult("eve", "batchnorm", "graded", "", 0.0, 17.0, manual_pending=2,
                                               fingerprint="x", seconds=1.0, hidden_status="ok",
                                               files={"batchnorm.ipynb": nbformat.writes(notebook).encode()}), gradebook)
        # mallory's autograded notebook was never sanitized (an older grader recorded it): the
        # feedback page's own preprocessor must clean it
        gradebook.update_or_create_student("mallory")
        gradebook.update_or_create_submission("batchnorm", "mallory")
    course.autograded_dir("mallory", "batchnorm").mkdir(parents=True)
    nbformat.write(notebook, str(course.autograded_dir("mallory", "batchnorm") / "batchnorm.ipynb"))
    return course


def test_autograded_notebook_for_the_formgrader_is_safe_and_valid(hostile_course):
    path = hostile_course.autograded_dir("eve", "batchnorm") / "batchnorm.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    nbformat.validate(notebook)
    assert_no_payload(path.read_text())
    assert "My answer is **two**." in path.read_text()


def test_feedback_runs_the_sanitizer_between_hidden_tests_and_the_page_header(repo):
    from hwtools.course import nbgrader_bridge

    steps = list(nbgrader_bridge.course_config(repo.root).GenerateFeedback.preprocessors)
    assert steps.index("nbgrader.preprocessors.ClearHiddenTests") < steps.index("hwtools.course.sanitize.SanitizeOutputs") \
        < steps.index("nbconvert.preprocessors.CSSHTMLHeaderPreprocessor")


@pytest.mark.parametrize("student", ["eve", "mallory"])
def test_feedback_page_has_no_student_script(hostile_course, student):
    from hwtools.course.feedback import feedback_page

    assert feedback_page(str(hostile_course.root), "batchnorm", student) == ""
    html = (hostile_course.feedback / student / "batchnorm" / "batchnorm.html").read_text()
    assert_no_payload(html)
    for kept in (f"data:image/png;base64,{PNG}", "<td>TABLE_CELL</td>", "<strong>bold words</strong>", "$x^2$",
                 "<code>code span</code>", "<li>item one</li>", "<b>kept bold</b>", "My answer is <strong>two</strong>"):
        assert kept in html, kept


def test_exported_csv_neutralises_student_ids_and_keeps_scores(hostile_course, tmp_path):
    from hwtools.course.export import export_grades
    from hwtools.course.gradebook_writer import open_gradebook

    hostile = ["=1+1", "@SUM(A1)", "-2+3"]
    with open_gradebook(hostile_course) as gb:
        for student in hostile:
            gb.update_or_create_student(student)
            gb.update_or_create_submission("batchnorm", student)
        gb.find_grade("hidden_train_forward", "batchnorm", "batchnorm", "-2+3").auto_score = -1.5
        gb.db.commit()
    wide, long = export_grades(hostile_course, tmp_path / "grades.csv", tmp_path / "grades_long.csv")
    rows = {r["student"]: r for r in csv.DictReader(wide.open())}
    assert {"'=1+1", "'@SUM(A1)", "'-2+3"} <= set(rows)
    assert float(rows["'-2+3"]["batchnorm"]) == -1.5 == float(rows["'-2+3"]["total"])
    assert rows["(max)"]["batchnorm"] == "16.0"  # the gradebook's maximum (the bonus answer_eps adds none)
    long_rows = list(csv.DictReader(long.open()))
    assert not [r for r in long_rows if r["student"] in hostile]
    assert {r["score"] for r in long_rows if r["student"] == "'-2+3" and r["cell"] == "hidden_train_forward"} == {"-1.5"}
