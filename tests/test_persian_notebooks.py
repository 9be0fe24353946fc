"""Persian beside English (issue 23): every question cell of these released notebooks holds its
Persian text in a right-to-left block, the first cell says written answers may be in either
language, and the HTML a browser gets (nbconvert, after the course's sanitizer, as on the
feedback page) keeps the blocks right to left with their code left to right."""
import re

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from conftest import REPO
from hwtools.course.bilingual import RTL_OPEN
from hwtools.course.sanitize import SanitizeOutputs

# every released notebook (issue 23's bar), found on disk so a new assignment is covered too
BILINGUAL = sorted(p.parent.name for p in (REPO / "release").glob("*/*.ipynb"))
PERSIAN_LETTERS = re.compile(r"[\u0600-\u06FF]{3,}")
RTL_BLOCK = re.compile(re.escape(RTL_OPEN) + r"(.*?)</div>", re.S)


def test_every_assignment_is_covered():
    assert set(BILINGUAL) == {"batchnorm", "cnn_arithmetic", "flowers", "gas_consumption", "gradcam",
                              "kerastuner_mnist", "medical", "theory"}


def released(assignment):
    [path] = sorted((REPO / "release" / assignment).glob("*.ipynb"))
    return nbformat.read(str(path), as_version=4)


def question_cells(notebook):
    """Markdown cells a student reads (not the written-answer cells they fill in)."""
    return [(i, c) for i, c in enumerate(notebook.cells)
            if c.cell_type == "markdown" and not c.metadata.get("nbgrader", {}).get("solution")]


def cells_without_persian(notebook) -> list[str]:
    missing = []
    for index, cell in question_cells(notebook):
        if cell.source.startswith("## Before you hand in"):  # the shared English cell; its Persian precedes it
            previous = notebook.cells[index - 1].source
            if not (previous.startswith(RTL_OPEN) and "hw validate" in previous):
                missing.append(f"cell {index}: the hand-in cell has no Persian before it")
            continue
        blocks = RTL_BLOCK.findall(cell.source)
        if not blocks or not all(PERSIAN_LETTERS.search(block) for block in blocks):
            missing.append(f"cell {index}: {cell.source[:60]!r}")
    return missing


@pytest.mark.parametrize("assignment", BILINGUAL)
def test_every_question_cell_has_its_persian(assignment):
    missing = cells_without_persian(released(assignment))
    assert not missing, f"{assignment}: question cells without Persian: {missing}"


@pytest.mark.parametrize("assignment", BILINGUAL)
def test_written_answers_may_be_in_either_language(assignment):
    notebook = released(assignment)
    first = notebook.cells[0].source
    assert "**English or Persian**" in first and "**به فارسی یا انگلیسی**" in first
    assert '`<div dir="auto">`' in first  # where to write, so that a Persian answer reads right to left
    answers = [c.source for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")]
    assert answers and all(a.startswith('<div dir="auto">\n\n') and a.endswith("\n\n</div>") for a in answers), answers


def test_the_check_finds_a_question_without_persian():
    notebook = released("theory")
    index, cell = question_cells(notebook)[2]
    cell.source = cell.source.split(RTL_OPEN)[0]
    assert cells_without_persian(notebook) == [f"cell {index}: {cell.source[:60]!r}"]
    notebook = released("theory")
    del notebook.cells[-2]
    assert cells_without_persian(notebook) == [f"cell {len(notebook.cells) - 1}: the hand-in cell has no Persian before it"]


@pytest.mark.parametrize("assignment", BILINGUAL)
def test_html_keeps_persian_right_to_left(assignment):
    notebook = released(assignment)
    expected = sum(len(RTL_BLOCK.findall(c.source)) for _, c in question_cells(notebook))
    exporter = HTMLExporter()
    exporter.register_preprocessor(SanitizeOutputs(), enabled=True)
    html, _ = exporter.from_notebook_node(notebook)
    blocks = BeautifulSoup(html, "html.parser").find_all("div", attrs={"dir": "rtl", "lang": "fa"})
    assert len(blocks) == expected
    assert all(PERSIAN_LETTERS.search(block.get_text()) for block in blocks)
    # markdown inside the blocks is rendered (code spans become <code>, left to right by bidi)
    assert any(block.find("code") for block in blocks)
    assert not any("**" in block.get_text() or "`" in block.get_text() for block in blocks)
    # code and bracketed numbers are isolated left to right, and no tag ended up inside code
    assert all(code.get("dir") == "ltr" or code.find_parent(attrs={"dir": "ltr"})
               for block in blocks for code in block.find_all("code"))
    assert not any(re.search(r"</?(span|code)\b", block.get_text()) for block in blocks)
