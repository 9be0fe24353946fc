"""The hidden cnn_arithmetic suite: the reference and a correct submission in another style
(loops instead of closed formulas) get full marks; each typical mistake loses the checks
aimed at it; the untouched release gets zero."""
import json

import nbformat
import pytest

from conftest import grade_variants, mutated_cells

NOTEBOOK = "cnn_arithmetic.ipynb"
FULL = 25.0

# One typical mistake per variant: {cell grade_id: [(text in the reference, its buggy replacement)]}
# and the checks that must fail.
BUGS = {
    "rounds_up": ({
        "conv_output_size": [("return (n + 2 * padding - effective_kernel) // stride + 1",
                              "return math.ceil((n + 2 * padding - effective_kernel) / stride) + 1")],
        "q5_table": [("(124, 124, 32), (62, 62, 32), (62, 62, 128), (23, 23, 64),\n                    "
                      "(11, 11, 64), (11, 11, 256), (2, 2, 128), (1, 1, 128)",
                      "(125, 125, 32), (63, 63, 32), (63, 63, 128), (24, 24, 64),\n                    "
                      "(12, 12, 64), (12, 12, 256), (3, 3, 128), (2, 2, 128)")]},
        {"test_conv_output_size_seed_layers", "test_conv_output_size_random", "test_q5_output_shapes"}),
    "forgets_bias": ({
        "conv_params": [("(1 if bias else 0)", "0")],
        "q5_table": [("64 * (3 * 3 * 3 + 1)", "64 * 3 * 3 * 3")],
        "seed001_q3": [("5 * (1568 + 1)", "5 * 1568")]},
        {"test_conv_params_with_bias", "test_conv_params_rectangular_and_no_bias", "test_q5_params",
         "test_seed001_q3_params"}),
    "forgets_dilation": ({
        "conv_output_size": [("effective_kernel = dilation * (kernel - 1) + 1", "effective_kernel = kernel")],
        "receptive_field": [("field += dilation * (kernel - 1) * jump", "field += (kernel - 1) * jump")],
        "q5_dilation8": [("8 * (5 - 1) + 1", "5"), ("q5_d8_fits = False", "q5_d8_fits = True")]},
        {"test_conv_output_size_seed_layers", "test_conv_output_size_random", "test_receptive_field_random",
         "test_relative_receptive_field", "test_q5_dilation8"}),
    "counts_pooling_parameters": ({
        "q5_table": [("64 * (5 * 5 * 128 + 1), 0,", "64 * (5 * 5 * 128 + 1), 64 * (2 * 2 * 64 + 1),")],
        "classic_nets": [("+ 5 * 512 * (3 * 3 * 512 + 1)", "+ 5 * 512 * (3 * 3 * 512 + 1) + 128 * (2 * 2 * 128 + 1)")]},
        {"test_q5_params", "test_vgg16_params"}),
    "gradient_of_the_sum": ({
        "gap_filter_gradient": [("np.full((rows, cols), 1.0 / (rows * cols))", "np.ones((rows, cols))")],
        "gap_example": [("[[9 / 4, 13 / 4], [7 / 4, 3 / 4]]", "[[9, 13], [7, 3]]")]},
        {"test_gap_filter_gradient_random", "test_gap_example_answers"}),
    "receptive_field_ignores_strides": ({
        "receptive_field": [("jump *= stride", "jump = 1")]},
        {"test_receptive_field_random", "test_relative_receptive_field"}),
    "flipped_kernel": ({
        "conv2d_valid": [("* w)", "* w[::-1, ::-1])")]},
        {"test_conv2d_valid_random"}),
}


def source_cells(repo) -> dict:
    notebook = nbformat.read(str(repo.source / "cnn_arithmetic" / NOTEBOOK), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
            if c.cell_type == "code" and "grade_id" in c.metadata.get("nbgrader", {})}


@pytest.fixture(scope="module")
def graded(repo, tmp_path_factory):
    """Every variant graded once, two at a time (each run is its own process)."""
    alice = json.loads((repo.sample_class / "alice_correct" / "cnn_arithmetic" / "cells.json").read_text())[NOTEBOOK]
    variants = {"reference": source_cells(repo), "alice_correct": alice, "untouched_release": None}
    variants.update({name: mutated_cells(source_cells(repo), changes) for name, (changes, _) in BUGS.items()})
    root = tmp_path_factory.mktemp("cnn_arithmetic_variants")
    return grade_variants(repo, "cnn_arithmetic", NOTEBOOK, variants, root, timeout_s=600)


def test_reference_solution_gets_full_marks(graded):
    assert graded["reference"]["failed"] == set() and graded["reference"]["score"] == FULL


def test_loops_instead_of_formulas_get_full_marks(graded, repo):
    cells = (repo.sample_class / "alice_correct" / "cnn_arithmetic" / "cells.json").read_text()
    assert "while start + span" in cells and "reversed(" in cells and "sliding_window_view" in cells
    assert graded["alice_correct"]["failed"] == set() and graded["alice_correct"]["score"] == FULL


def test_untouched_release_gets_zero(graded):
    assert graded["untouched_release"]["score"] == 0
    assert all("NotImplementedError" in c["message"] or "not defined" in c["message"]
               for c in graded["untouched_release"]["checks"])


@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_typical_mistake_loses_its_checks(graded, name):
    must_fail = BUGS[name][1]
    result = graded[name]
    assert result["failed"] == must_fail, f"{name}: expected exactly {must_fail} to fail, failed {result['failed']}"
    assert result["score"] < FULL


def test_failure_messages_name_the_call_and_the_expected_value(graded):
    messages = {c["id"]: c["message"] for c in graded["rounds_up"]["checks"]}
    assert "conv_output_size(n=256, kernel=5, stride=2, dilation=2): expected 124, got 125" in \
        messages["test_conv_output_size_seed_layers"]
    assert "q5_output_shapes, layer 2 height: expected 124, got 125" in messages["test_q5_output_shapes"]
