"""The hidden theory suite: the reference and a correct submission in another style (sliding
windows and einsum, shape lists, dict branches) get full marks; each typical mistake loses
exactly the checks aimed at it; the untouched release gets zero."""
import json

import nbformat
import pytest

from conftest import grade_variants, mutated_cells

NOTEBOOK = "theory.ipynb"
FULL = 20.0

# One typical mistake per variant: {cell grade_id: [(text in the reference, its replacement)]}
# and the checks that must fail.
BUGS = {
    "keras_one_bias_vector": ({"sequence_params": [("units * (input_dim + units + 2)", "units * (input_dim + units + 1)")]},
                              {"test_rnn_params", "test_lstm_params"}),
    "lstm_one_gate": ({"sequence_params": [("return 4 * rnn_params(input_dim, units)", "return rnn_params(input_dim, units)")]},
                      {"test_lstm_params"}),
    "conv1d_without_bias": ({"sequence_params": [("c_out * (c_in * kernel + 1)", "c_out * c_in * kernel")]},
                            {"test_conv1d_params"}),
    "dense_per_step": ({"sequence_params": [("(length * input_dim + 1) * units", "(input_dim + 1) * units")]},
                       {"test_dense_on_sequence_params"}),
    "rnn_grows_with_length": ({"length_dependence": [('"rnn": False', '"rnn": True')]},
                              {"test_params_depend_on_length"}),
    "bn_speeds_up_batches": ({"bn_statements": [("bn_statement_a = False", "bn_statement_a = True")]},
                             {"test_bn_statement_a"}),
    "bn_inits_near_zero": ({"bn_statements": [("bn_statement_c = False", "bn_statement_c = True")]},
                           {"test_bn_statement_c"}),
    "flipped_kernel": ({"correlate_same": [("padded[i:i + kh, j:j + kw] * kernel)", "padded[i:i + kh, j:j + kw] * kernel[::-1, ::-1])")]},
                       {"test_correlate_same_random"}),
    "four_neighbour_laplacian": ({"laplacian_line": [("[[0, 20, -70, 20, 0],\n                         [0, 30, -60, 30, 0]",
                                                      "[[0, 10, -30, 10, 0],\n                         [0, 10, -20, 10, 0]")]},
                                 {"test_laplacian_line_output"}),
    "macs_without_c_in": ({"conv_cost": [("h * w * weights", "h * w * k * k * c_out")]},
                          {"test_conv_cost_random"}),
    "bias_always_counted": ({"conv_cost": [("(c_out if bias else 0)", "c_out")]},
                            {"test_conv_cost_random"}),
    "bottleneck_reduction_free": ({"one_by_one_answers": [("(192 * 16 + 16 + 5 * 5 * 16 * 32 + 32", "(5 * 5 * 16 * 32 + 32")]},
                                  {"test_bottleneck_answers"}),
    "torchvision_3x3_branch": ({"googlenet": [("conv(c5_reduce, c5, 5)", "conv(c5_reduce, c5, 3)")]},
                               {"test_inception_params_random", "test_googlenet_params"}),
    "googlenet_without_stem": ({"googlenet": [("return stem + blocks", "return blocks")]},
                               {"test_googlenet_params"}),
}


def source_cells(repo) -> dict:
    notebook = nbformat.read(str(repo.source / "theory" / NOTEBOOK), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}


@pytest.fixture(scope="module")
def graded(repo, tmp_path_factory):
    alice = json.loads((repo.sample_class / "alice_correct" / "theory" / "cells.json").read_text())[NOTEBOOK]
    variants = {"reference": source_cells(repo), "alice_correct": alice, "untouched_release": None}
    variants.update({name: mutated_cells(source_cells(repo), changes) for name, (changes, _) in BUGS.items()})
    root = tmp_path_factory.mktemp("theory_variants")
    return grade_variants(repo, "theory", NOTEBOOK, variants, root, timeout_s=300)


def test_reference_solution_gets_full_marks(graded):
    assert graded["reference"]["failed"] == set() and graded["reference"]["score"] == FULL


def test_another_style_gets_full_marks(graded, repo):
    cells = (repo.sample_class / "alice_correct" / "theory" / "cells.json").read_text()
    assert "sliding_window_view" in cells and "branches" in cells and "np.prod" in cells
    assert graded["alice_correct"]["failed"] == set() and graded["alice_correct"]["score"] == FULL


def test_untouched_release_gets_zero(graded):
    assert graded["untouched_release"]["score"] == 0


@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_typical_mistake_loses_its_checks(graded, name):
    must_fail = BUGS[name][1]
    assert graded[name]["failed"] == must_fail, f"{name}: expected {must_fail} to fail, failed {graded[name]['failed']}"


def test_feedback_gives_the_reason_of_each_statement(graded):
    checks = {c["id"]: c for c in graded["bn_speeds_up_batches"]["checks"]}
    failed = checks["test_bn_statement_a"]
    assert "is false" in failed["description"] and "fewer steps" in failed["description"], failed
    assert "the statement is false" in failed["message"]
    assert "is true" in checks["test_bn_statement_b"]["description"] and checks["test_bn_statement_b"]["passed"]


def test_failure_messages_name_the_call_and_the_expected_value(graded):
    messages = {c["id"]: c["message"] for c in graded["keras_one_bias_vector"]["checks"]}
    assert "rnn_params(" in messages["test_rnn_params"] and "expected" in messages["test_rnn_params"]
    messages = {c["id"]: c["message"] for c in graded["torchvision_3x3_branch"]["checks"]}
    assert "googlenet_params(bias=True): expected 6998552" in messages["test_googlenet_params"]
