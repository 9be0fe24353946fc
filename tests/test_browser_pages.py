"""The TA's and the student's pages in a real browser: Debian's Chromium driven by Playwright
(tests/services.py), on a course copy graded with the hw command.

- the formgrader, started as the README's "Manual grading" says (`jupyter lab` in the course
  folder, then Nbgrader > Formgrader): the assignment and the students are listed, each hidden
  grade cell shows the points the hidden suite gave, and a TA types a score and a comment for a
  written answer into the page itself; `hw export` then shows that score;
- the feedback page of a partly wrong gradcam submission, opened from disk as a student does:
  its images load, the console shows no error, and no hidden-test code is in its text.

Screenshots of each page go to a folder printed at the end of the module ($HW_SCREENSHOTS, or a
fresh temp folder), so a person can look.
"""
from __future__ import annotations

import csv
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_course
from hwtools.course.sample_class import build_sample_class
from services import chromium_path, free_port, screenshot_folder, wait_for_port

BIN = Path(sys.executable).parent


def hw(course, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    env.pop("HW_DB_URL", None)
    done = subprocess.run([str(BIN / "hw"), *args], cwd=course.root, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """batchnorm graded for alice_correct and bob_partial; gradcam for bob_partial alone (partly
    wrong: 12 of 22), with his feedback page written."""
    course = copy_course(tmp_path_factory.mktemp("browser_class"))
    hw(course, "release", "batchnorm", "gradcam")
    build_sample_class(course, ["batchnorm", "gradcam"])
    hw(course, "autograde", "batchnorm", "--students", "alice_correct", "bob_partial", "--workers", "2")
    hw(course, "autograde", "gradcam", "--students", "bob_partial", "--workers", "1")
    hw(course, "feedback", "gradcam", "--students", "bob_partial")
    return course


@pytest.fixture(scope="module")
def shots(request):
    folder = screenshot_folder()
    yield folder
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown in the run's output, failed or not
        print(f"\nbrowser screenshots ({len(list(folder.glob('*.png')))}): {folder}")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    problems = []
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))

    def local_only(route):  # nothing leaves this machine; a page that reaches out is told
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "http://127.0.0.1:")):
            route.continue_()
        else:
            problems.append(f"reached outside the machine: {url}")
            route.abort()

    context.route("**/*", local_only)
    page.problems = problems
    yield page
    context.close()


@pytest.fixture(scope="module")
def jupyter_lab(graded, tmp_path_factory):
    """`jupyter lab` in the course folder (README, "Manual grading", step 1), headless: no browser
    of its own, a free port on 127.0.0.1, a token, fresh lab settings and workspaces."""
    state = tmp_path_factory.mktemp("jupyter_lab")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"), JUPYTER_RUNTIME_DIR=str(state / "runtime"))
    env.pop("HW_DB_URL", None)
    command = [str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}"] + (["--allow-root"] if os.geteuid() == 0 else [])
    log = open(state / "lab.log", "w")
    server = subprocess.Popen(command, cwd=graded.root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, 120, server)
        yield f"http://127.0.0.1:{port}", token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def gradebook_cells(course, assignment: str, student: str) -> dict:
    from hwtools.course.gradebook_writer import open_gradebook

    with open_gradebook(course) as gb:
        notebook = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.auto_score, g.manual_score, g.max_score, g.extra_credit) for g in notebook.grades}, \
            {c.name: c.manual_comment for c in notebook.comments}


def test_a_ta_grades_a_written_answer_in_the_formgrader_and_hw_export_shows_it(graded, jupyter_lab, page, shots):
    base, token = jupyter_lab
    page.goto(f"{base}/lab?token={token}")
    page.get_by_role("menuitem", name="Nbgrader").click()  # README step 2: Nbgrader > Formgrader
    page.get_by_role("menuitem", name="Formgrader").click()
    formgrader = page.frame_locator("iframe").first

    assignments = formgrader.locator("#main-table")  # Manage Assignments: batchnorm and its 4 submissions
    row = assignments.locator("tr", has=page.locator("a", has_text="batchnorm"))
    row.first.wait_for()
    assert "gradcam" in assignments.inner_text()
    page.screenshot(path=str(shots / "1_formgrader_assignments.png"))

    formgrader.get_by_role("link", name="Manage Students").click()
    students = formgrader.locator("#main-table")
    students.locator("td", has_text="alice_correct").wait_for()
    text = students.inner_text()
    assert "alice_correct\tNone\t15 / 38" in text and "bob_partial\tNone\t17 / 38" in text, text  # 15 + 0, 5 + 12
    page.screenshot(path=str(shots / "2_formgrader_students.png"))

    formgrader.get_by_role("link", name="Manual Grading").click()
    formgrader.get_by_role("link", name="batchnorm", exact=True).click()  # the assignment
    formgrader.get_by_role("link", name="batchnorm", exact=True).click()  # its notebook
    formgrader.get_by_role("link", name="Submission #1").wait_for()
    formgrader.get_by_role("button", name="Show All Names").click()
    page.screenshot(path=str(shots / "3_formgrader_submissions.png"))
    formgrader.get_by_role("link", name="alice_correct").click()
    formgrader.locator("input#answer_eps").wait_for()
    grading = next(frame for frame in page.frames if "/formgrader/submissions/" in frame.url)

    cells, _ = gradebook_cells(graded, "batchnorm", "alice_correct")
    hidden = {name: value for name, value in cells.items() if name.startswith("hidden_")}
    assert len(hidden) >= 4, cells
    for name, (auto, _, max_score, _) in hidden.items():  # the hidden suite's points, per grade cell
        box = grading.locator(f"input#{name}")
        shown = box.evaluate("e => e.value || e.placeholder")
        assert float(shown) == auto, (name, shown, auto)
        assert f"/ {max_score:.1f}" in box.evaluate("e => e.parentElement.innerText"), name
    grading.locator("input#hidden_train_forward").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "4_formgrader_hidden_points.png"))

    comment = "Right: eps keeps the division finite when a feature has no variance."
    # answer_eps is the seed's bonus question (0 points): its point goes in the extra-credit box,
    # the score box left empty, and still counts (gradebook_writer gives a bonus an auto score of 0)
    for selector, value, api in (("input#answer_eps_extra_credit", "1", "/formgrader/api/grade/"),
                                 ("textarea#answer_eps-comment", comment, "/formgrader/api/comment/"),
                                 ("input#answer_batch_of_one", "0.5", "/formgrader/api/grade/")):
        box = grading.locator(selector)
        box.scroll_into_view_if_needed()
        with page.expect_response(lambda r: api in r.url and r.request.method == "PUT") as saved:
            box.fill(value)
            box.press("Tab")  # the formgrader saves a box when the TA leaves it
        assert saved.value.ok, (selector, saved.value.status)
    grading.locator("input#answer_eps").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "5_formgrader_manual_score_entered.png"))

    cells, comments = gradebook_cells(graded, "batchnorm", "alice_correct")
    assert (cells["answer_eps"][1:], cells["answer_batch_of_one"][1], comments["answer_eps"]) == \
        ((None, 0.0, 1.0), 0.5, comment)
    hw(graded, "export")
    with open(graded.root / "grades.csv", newline="") as handle:
        wide = {row["student"]: row for row in csv.DictReader(handle)}
    assert (wide["alice_correct"]["batchnorm"], wide["alice_correct"]["pending_manual"]) == ("16.5", "")
    with open(graded.root / "grades_long.csv", newline="") as handle:
        long = {(row["student"], row["cell"]): row for row in csv.DictReader(handle)}
    assert (long[("alice_correct", "answer_eps")]["score"], long[("alice_correct", "answer_eps")]["graded_by"]) == \
        ("1.0", "TA")


def hidden_code(course) -> list[str]:
    """Lines of gradcam's hidden tests: the hidden cells of the source notebook and the code of
    its hidden suite (definitions, asserts, imports; not the messages it prints), less those
    the student's release has too."""
    import nbformat

    lines = []
    source = nbformat.read(str(course.source / "gradcam" / "gradcam.ipynb"), as_version=4)
    for cell in source.cells:
        if "BEGIN HIDDEN TESTS" in cell.source:
            hidden = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
            lines += ["BEGIN HIDDEN TESTS", *(line.strip() for line in hidden.splitlines() if line.strip())]
    for path in (REPO / "tests" / "hidden" / "gradcam").glob("*.py"):
        lines += [line.strip() for line in path.read_text().splitlines()
                  if line.strip().startswith(("def ", "assert ", "import ", "from ", "return ")) and len(line.strip()) > 20]
    released = "\n".join(cell.source for cell in nbformat.read(str(course.release / "gradcam" / "gradcam.ipynb"),
                                                               as_version=4).cells)
    return [line for line in lines if line not in released]  # (`import tensorflow as tf` is the student's too)


def test_feedback_page_of_a_partly_wrong_gradcam_submission_renders_whole(graded, page, shots):
    feedback = graded.feedback / "bob_partial" / "gradcam" / "gradcam.html"
    page.goto(feedback.as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate("() => Array.from(document.images).map(i => ({src: i.src.slice(0, 60), "
                           "complete: i.complete, width: i.naturalWidth, height: i.naturalHeight}))")
    assert len(images) >= 2, images  # the first training images and the Grad-CAM overlays
    assert all(i["complete"] and i["width"] > 0 and i["height"] > 0 for i in images), images
    page.screenshot(path=str(shots / "6_feedback_gradcam_top.png"))
    page.locator("img").last.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "7_feedback_gradcam_images.png"))
    page.screenshot(path=str(shots / "8_feedback_gradcam_full.png"), full_page=True)
    assert page.problems == [], page.problems  # no console error, no failed request, nothing from outside

    text = page.inner_text("body")
    assert "Score: 12.0 / 22.0" in text and "First thing to fix" in text, text[:2000]
    code = hidden_code(graded)
    assert len(code) > 10, code
    leaked = [line for line in code if line in text]
    assert leaked == [], leaked
