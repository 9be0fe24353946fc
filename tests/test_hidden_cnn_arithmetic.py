"""The hidden cnn_arithmetic suite, run as the grader runs it: the reference and a correct
submission in another style (loops instead of closed formulas) get full marks for their own
variants; the same answers handed in under another student's id lose the points of the
answers that differ; each typical mistake loses the checks aimed at it; the untouched release
gets zero; without the grader's student id the variant checks are the grader's errors."""
import ast
import math
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

from conftest import REPO, mutated_cells
from hwtools import variants
from hwtools.course.sample_class import fill_cells, student_cells
from hwtools.grading.hidden_runner import run_hidden_suite

sys.path.insert(0, str(REPO / "authoring"))
from build_cnn_arithmetic import REFERENCE_STUDENT, q5_answers  # noqa: E402

NOTEBOOK = "cnn_arithmetic.ipynb"
FULL = 25.0
VARIANT_CHECKS = {"test_q5_output_shapes", "test_q5_params", "test_q5_dilation8", "test_fc_batchnorm",
                  "test_seed001_q3_shapes", "test_seed001_q3_params", "test_gap_example_answers",
                  "test_conv_output_size_seed_layers"}
REFERENCE = variants.for_student("cnn_arithmetic", REFERENCE_STUDENT).values
Q5, GAP = REFERENCE["q5"], REFERENCE["gap"]


def rounded_up_shapes(q5):
    size, shapes = q5["input"][0], []
    for layer in q5["layers"]:
        k = layer.get("kernel", layer.get("pool"))
        padding = (k - 1) // 2 if layer.get("padding") == "same" else 0
        size = math.ceil((size + 2 * padding - layer.get("dilation", 1) * (k - 1) - 1) / layer["stride"]) + 1
        shapes.append((size, size, layer.get("filters", shapes[-1][2] if shapes else None)))
    return shapes


def gradient_of_the_sum(gap):
    x, f = gap["x"], gap["f"]
    rows, cols = len(x) - len(f) + 1, len(x[0]) - len(f[0]) + 1
    return [[sum(x[i + m][j + q] for i in range(rows) for j in range(cols)) for q in range(2)] for m in range(2)]


SHAPES, _, RECEIVED = q5_answers(Q5)
LAYER8, POOL_CHANNELS = Q5["layers"][7], Q5["layers"][1]["filters"]
# One typical mistake per variant: text changes {cell grade_id: [(text in the reference, its
# replacement)]}, answers written instead {(grade_id, variable): source}, the checks that must fail.
BUGS = {
    "rounds_up": ({
        "conv_output_size": [("return (n + 2 * padding - effective_kernel) // stride + 1",
                              "return math.ceil((n + 2 * padding - effective_kernel) / stride) + 1")]},
        {("q5_table", "q5_output_shapes"): repr(rounded_up_shapes(Q5))},
        {"test_conv_output_size_seed_layers", "test_conv_output_size_random", "test_q5_output_shapes"}),
    "forgets_bias": ({
        "conv_params": [("(1 if bias else 0)", "0")], "q5_table": [(" + 1)", ")")], "seed001_q3": [(" + 1)", ")")]}, {},
        {"test_conv_params_with_bias", "test_conv_params_rectangular_and_no_bias", "test_q5_params",
         "test_seed001_q3_params"}),
    "forgets_dilation": ({
        "conv_output_size": [("effective_kernel = dilation * (kernel - 1) + 1", "effective_kernel = kernel")],
        "receptive_field": [("field += dilation * (kernel - 1) * jump", "field += (kernel - 1) * jump")]},
        {("q5_dilation8", "q5_d8_effective_kernel"): str(LAYER8["kernel"])},
        {"test_conv_output_size_seed_layers", "test_conv_output_size_random", "test_receptive_field_random",
         "test_relative_receptive_field", "test_q5_dilation8"}),
    "counts_pooling_parameters": ({
        "q5_table": [(", 0,", f", {POOL_CHANNELS} * (2 * 2 * {POOL_CHANNELS} + 1),")],
        "classic_nets": [("+ 5 * 512 * (3 * 3 * 512 + 1)", "+ 5 * 512 * (3 * 3 * 512 + 1) + 128 * (2 * 2 * 128 + 1)")]},
        {}, {"test_q5_params", "test_vgg16_params"}),
    "gradient_of_the_sum": ({
        "gap_filter_gradient": [("np.full((rows, cols), 1.0 / (rows * cols))", "np.ones((rows, cols))")]},
        {("gap_example", "example_dL_dF"): repr(gradient_of_the_sum(GAP))},
        {"test_gap_filter_gradient_random", "test_gap_example_answers"}),
    "receptive_field_ignores_strides": ({
        "receptive_field": [("jump *= stride", "jump = 1")]}, {},
        {"test_receptive_field_random", "test_relative_receptive_field"}),
    "flipped_kernel": ({
        "conv2d_valid": [("* w)", "* w[::-1, ::-1])")]}, {},
        {"test_conv2d_valid_random"}),
}


def evaluated(expression: str):
    """An answer's literal or arithmetic (the tests' own text), as a value with lists for tuples."""
    value = eval(expression, {"__builtins__": {}})
    return [evaluated(repr(v)) for v in value] if isinstance(value, (list, tuple)) else value


def with_answers(cells: dict, answers: dict) -> dict:
    """CELLS with each (grade_id, variable) assignment replaced by ``variable = source``."""
    cells = dict(cells)
    for (grade_id, name), value in answers.items():
        lines = cells[grade_id].splitlines()
        [node] = [n for n in ast.parse(cells[grade_id]).body if isinstance(n, ast.Assign) and n.targets[0].id == name]
        assert evaluated(value) != evaluated(ast.unparse(node.value)), f"{name}: the mistake changes nothing"
        lines[node.lineno - 1:node.end_lineno] = [f"{name} = {value}"]
        cells[grade_id] = "\n".join(lines) + "\n"
    return cells


def source_cells(repo) -> dict:
    notebook = nbformat.read(str(repo.source / "cnn_arithmetic" / NOTEBOOK), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
            if c.cell_type == "code" and "grade_id" in c.metadata.get("nbgrader", {})}


def grade_as(course, folder, cells, student):
    """The hidden suite on the release filled with CELLS (None: untouched), graded as STUDENT."""
    folder.mkdir(parents=True)
    shutil.copy(course.release / "cnn_arithmetic" / NOTEBOOK, folder)
    if cells is not None:
        fill_cells(folder / NOTEBOOK, cells)
    result = run_hidden_suite(course, "cnn_arithmetic", folder, timeout_s=600, student=student)
    assert result["status"] == "ok", result
    return {"score": sum(c["earned"] for c in result["checks"]), "checks": result["checks"],
            "failed": {c["id"] for c in result["checks"] if not c["passed"]}}


@pytest.fixture(scope="module")
def graded(repo, tmp_path_factory):
    """Every case graded once, two at a time (each run is its own process)."""
    alice = student_cells(repo.sample_class / "alice_correct" / "cnn_arithmetic", "alice_correct",
                          "cnn_arithmetic")[NOTEBOOK]
    cases = {"reference": (source_cells(repo), REFERENCE_STUDENT), "alice_correct": (alice, "alice_correct"),
             "erin_hands_in_alices_answers": (alice, "erin"), "untouched_release": (None, "frank"),
             "no_student_id": (source_cells(repo), None)}
    cases.update({name: (with_answers(mutated_cells(source_cells(repo), changes), answers), REFERENCE_STUDENT)
                  for name, (changes, answers, _) in BUGS.items()})
    root = tmp_path_factory.mktemp("cnn_arithmetic_cases")
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {name: pool.submit(grade_as, repo, root / name, cells, student)
                for name, (cells, student) in cases.items()}
        return {name: run.result() for name, run in runs.items()}


def test_reference_solution_gets_full_marks(graded):
    assert graded["reference"]["failed"] == set() and graded["reference"]["score"] == FULL


def test_loops_instead_of_formulas_get_full_marks(graded, repo):
    cells = (repo.sample_class / "alice_correct" / "cnn_arithmetic" / "cells.json").read_text()
    assert "while start + span" in cells and "reversed(" in cells and "sliding_window_view" in cells
    assert graded["alice_correct"]["failed"] == set() and graded["alice_correct"]["score"] == FULL


def test_another_students_answers_lose_their_points(graded):
    """erin hands in alice's notebook: her functions still pass, the answers for alice's numbers fail."""
    erin = graded["erin_hands_in_alices_answers"]
    assert {"test_q5_output_shapes", "test_q5_params", "test_gap_example_answers"} <= erin["failed"] <= VARIANT_CHECKS
    assert erin["score"] <= FULL - 5


def test_untouched_release_gets_zero(graded):
    assert graded["untouched_release"]["score"] == 0
    assert all("NotImplementedError" in c["message"] or "not defined" in c["message"]
               for c in graded["untouched_release"]["checks"])


def test_without_the_graders_student_id_no_variant_is_guessed(graded):
    checks = {c["id"]: c for c in graded["no_student_id"]["checks"]}
    assert all(checks[name].get("grader_error") and checks[name]["earned"] == 0 for name in VARIANT_CHECKS)
    assert "--hw-student is required" in checks["test_q5_params"]["grader_detail"]


@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_typical_mistake_loses_its_checks(graded, name):
    must_fail = BUGS[name][2]
    result = graded[name]
    assert result["failed"] == must_fail, f"{name}: expected exactly {must_fail} to fail, failed {result['failed']}"
    assert result["score"] < FULL


def test_failure_messages_name_the_call_and_the_expected_value(graded):
    messages = {c["id"]: c["message"] for c in graded["rounds_up"]["checks"]}
    assert "conv_output_size(n=256, kernel=5, stride=2, dilation=2): expected 124, got 125" in \
        messages["test_conv_output_size_seed_layers"]
    layer, (floor, ceil) = next((i, (s[0], r[0])) for i, (s, r) in enumerate(zip(SHAPES, rounded_up_shapes(Q5)), 1)
                                if s != r)
    assert f"q5_output_shapes, layer {layer} height: expected {floor}, got {ceil}" in messages["test_q5_output_shapes"]
