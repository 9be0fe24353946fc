"""Persian in a real browser (issue 23): the notebook page nbconvert writes (after the course's
sanitizer, as the feedback page gets it) is laid out right to left in Chromium for every Persian
block, with code and bracketed numbers left to right inside; a screenshot is left for a person
(the folder is printed)."""
import nbformat
import pytest
from nbconvert import HTMLExporter

from conftest import REPO
from hwtools.course.sanitize import SanitizeOutputs
from services import chromium_path, screenshot_folder
from test_persian_notebooks import BILINGUAL


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        page = browser.new_page(viewport={"width": 1100, "height": 1600})
        page.route("http*://**", lambda route: route.abort())  # nothing leaves this machine
        yield page
        browser.close()


@pytest.mark.parametrize("assignment", BILINGUAL)
def test_persian_blocks_are_laid_out_right_to_left(page, tmp_path, assignment):
    [notebook] = [p.name for p in (REPO / "release" / assignment).glob("*.ipynb")]
    exporter = HTMLExporter()
    exporter.register_preprocessor(SanitizeOutputs(), enabled=True)
    html, _ = exporter.from_notebook_node(nbformat.read(str(REPO / "release" / assignment / notebook), as_version=4))
    path = tmp_path / f"{assignment}.html"
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    blocks = page.locator('div[dir="rtl"][lang="fa"]')
    assert blocks.count() > 3
    directions = blocks.evaluate_all("els => els.map(e => getComputedStyle(e).direction)")
    assert set(directions) == {"rtl"}
    # each Persian paragraph starts at the right edge (JupyterLab's and nbconvert's CSS align a <p> left,
    # so the paragraphs are divs: tests/test_persian_notebooks.py)
    gaps = page.evaluate("""() => [...document.querySelectorAll('div[dir="rtl"][lang="fa"] > div')].map(p => {
        const walk = document.createTreeWalker(p, NodeFilter.SHOW_TEXT, n => n.data.trim() ? 1 : 3);
        const node = walk.nextNode(), at = node.data.search(/\\S/), r = document.createRange();
        r.setStart(node, at); r.setEnd(node, at + 1);
        const code = node.parentElement.closest('[dir="ltr"]');  // a paragraph may start with code
        const first = code ? code.getClientRects()[0] : r.getBoundingClientRect();
        return Math.round(p.getBoundingClientRect().right - first.right);
    })""")
    assert gaps and max(gaps) <= 2, gaps
    codes = page.locator('div[dir="rtl"] code').evaluate_all("els => els.map(e => getComputedStyle(e).direction)")
    assert codes and set(codes) == {"ltr"}
    folder = screenshot_folder()
    page.screenshot(path=str(folder / f"persian_{assignment}.png"), full_page=False)
    print(f"screenshot: {folder / f'persian_{assignment}.png'}")


PERSIAN_ANSWER = "پاسخ: `eps` مخرج را از صفر دور نگه می‌دارد."


@pytest.mark.parametrize("template", ["classic", "lab"])
def test_a_persian_written_answer_reads_right_to_left(page, tmp_path, template):
    """A student types a Persian answer between the answer cell's `<div dir="auto">` lines: the
    formgrader (nbgrader's formgrade template extends nbconvert's classic one) and the feedback
    page lay it out right to left, its full stop at the left end; an English answer beside it
    stays left to right."""
    notebook = nbformat.read(str(REPO / "release" / "batchnorm" / "batchnorm.ipynb"), as_version=4)
    answers = [c for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")]
    assert len(answers) == 2 and all(c.source.startswith('<div dir="auto">') for c in answers)
    answers[0].source = answers[0].source.replace("YOUR ANSWER HERE", PERSIAN_ANSWER)
    answers[1].source = answers[1].source.replace("YOUR ANSWER HERE", "It outputs beta.")
    exporter = HTMLExporter(template_name=template)
    exporter.register_preprocessor(SanitizeOutputs(), enabled=True)
    html, _ = exporter.from_notebook_node(notebook)
    path = tmp_path / f"answers_{template}.html"
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    layout = page.evaluate("""() => [...document.querySelectorAll('div[dir="auto"] p')].map(p => {
        const text = p.firstChild, r = document.createRange(), first = r.cloneRange();
        first.setStart(text, 0); first.setEnd(text, 1);
        const last = p.lastChild; r.setStart(last, last.data.length - 1); r.setEnd(last, last.data.length);
        return [getComputedStyle(p).direction, Math.round(first.getBoundingClientRect().left),
                Math.round(r.getBoundingClientRect().left)];
    })""")
    assert [direction for direction, _, _ in layout] == ["rtl", "ltr"], layout
    (_, persian_first, persian_stop), (_, english_first, english_stop) = layout
    assert persian_stop < persian_first and english_first < english_stop, layout
