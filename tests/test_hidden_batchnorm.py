"""The hidden batch-norm suite: the reference and another correct style get full marks; each
known bug loses points on the checks that target it; cheats, loops and crashes get zero."""
import shutil

import pytest

from conftest import fixture_path
from hwtools.grading.hidden_runner import run_hidden_suite
from hwtools.course.sample_class import fill_cells

FULL = 15.0


def solution(repo) -> str:
    return (repo.source / "batchnorm" / "forward_batchnorm.py").read_text()


def mutate(source: str, old: str, new: str) -> str:
    assert old in source, f"mutation target {old!r} not in the reference"
    return source.replace(old, new)


# One known bug per variant: (name, text in the reference, its buggy replacement, checks that must fail)
BUGS = [
    ("unbiased_variance", "var = x.var(axis=0)", "var = x.var(axis=0, ddof=1)",
     {"test_train_output_float64", "test_running_stats_first_step"}),
    ("wrong_axis", "mean = x.mean(axis=0)\n        var = x.var(axis=0)",
     "mean = x.mean(axis=1, keepdims=True)\n        var = x.var(axis=1, keepdims=True)",
     {"test_train_output_float64"}),
    ("eps_outside_sqrt", "xhat = (x - mean) / np.sqrt(var + eps)", "xhat = (x - mean) / (np.sqrt(var) + eps)",
     {"test_train_tiny_variance"}),
    ("swapped_momentum", "running_mean = momentum * running_mean + (1 - momentum) * mean\n"
     "        running_var = momentum * running_var + (1 - momentum) * var",
     "running_mean = (1 - momentum) * running_mean + momentum * mean\n"
     "        running_var = (1 - momentum) * running_var + momentum * var",
     {"test_running_stats_first_step", "test_running_stats_several_steps"}),
    ("no_running_update", "running_mean = momentum * running_mean + (1 - momentum) * mean\n"
     "        running_var = momentum * running_var + (1 - momentum) * var", "pass",
     {"test_running_stats_first_step"}),
    ("test_mode_batch_stats", "xhat = (x - running_mean) / np.sqrt(running_var + eps)",
     "xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)", {"test_test_mode_uses_running_stats"}),
    ("gamma_beta_swapped", "out = gamma * xhat + beta\n        running_mean", "out = beta * xhat + gamma\n        running_mean",
     {"test_train_output_float64"}),
    ("modifies_x", "mean = x.mean(axis=0)\n        var = x.var(axis=0)\n        xhat = (x - mean) / np.sqrt(var + eps)",
     "mean = x.mean(axis=0)\n        var = x.var(axis=0)\n        x -= mean\n        xhat = x / np.sqrt(var + eps)",
     {"test_input_not_modified"}),
    ("no_value_error", 'raise ValueError(f"Invalid forward batchnorm mode {mode!r}")', "out, cache = x, None",
     {"test_unknown_mode_raises_value_error"}),
    # a spatial (N, C, H, W) version crashes on every call with a ValueError of its own: that is
    # no credit for mode handling the code never reaches (issue 19)
    ("spatial_unpack", "    N, D = x.shape", "    N, C, H, W = x.shape",
     {"test_unknown_mode_raises_value_error", "test_train_output_float64"}),
]


def test_running_stats_kept_as_a_row_lose_only_their_shape_checks(repo, tmp_path):
    """Running statistics kept with shape (1, D): the running-stats checks fail with their
    shape, and test mode after training is still judged on what it does with them (before,
    the grader's torch reference crashed on the (1, D) arrays and the student lost that point
    with a message about a TensorAccessor)."""
    code = mutate(solution(repo), "        running_mean = momentum * running_mean + (1 - momentum) * mean\n"
                  "        running_var = momentum * running_var + (1 - momentum) * var",
                  "        running_mean = (momentum * running_mean + (1 - momentum) * mean).reshape(1, -1)\n"
                  "        running_var = (momentum * running_var + (1 - momentum) * var).reshape(1, -1)")
    result = grade_file(repo, tmp_path, code)
    assert "test_train_steps_then_test" not in result["failed"], result["messages"]["test_train_steps_then_test"]
    assert {"test_running_stats_first_step", "test_running_stats_several_steps"} <= result["failed"]
    assert not any("TensorAccessor" in m for m in result["messages"].values())


def test_eps_missing_in_test_mode_is_named_in_title_and_message(repo, tmp_path):
    """Test mode without eps is off by a relative 1e-5 only: the failed line must say that eps is
    the rule (before, the title said "normalises with the running statistics" and the message
    gave a relative error, which read as a tolerance problem)."""
    code = mutate(solution(repo), "xhat = (x - running_mean) / np.sqrt(running_var + eps)",
                  "xhat = (x - running_mean) / np.sqrt(running_var)")
    result = grade_file(repo, tmp_path, code)
    assert result["failed"] == {"test_test_mode_uses_running_stats", "test_train_steps_then_test"}
    check = next(c for c in result["checks"] if c["id"] == "test_test_mode_uses_running_stats")
    assert "sqrt(running_var + eps)" in check["description"]
    assert "matches the formula without eps" in check["message"]


def grade_file(repo, tmp_path, code: str, answer: int | None = 260) -> dict:
    """Run the hidden suite on a submission folder made of this .py and the release notebook."""
    folder = tmp_path / "submission"
    folder.mkdir(parents=True)
    (folder / "forward_batchnorm.py").write_text(code)
    shutil.copy(repo.release / "batchnorm" / "batchnorm.ipynb", folder)
    if answer is not None:
        fill_cells(folder / "batchnorm.ipynb", {"answer_param_count": f"bn_trainable_params = {answer}"})
    result = run_hidden_suite(repo, "batchnorm", folder, timeout_s=600)
    assert result["status"] == "ok", result
    result["score"] = sum(c["earned"] for c in result["checks"])
    result["failed"] = {c["id"] for c in result["checks"] if not c["passed"]}
    result["messages"] = {c["id"]: c["message"] for c in result["checks"]}
    return result


def test_reference_solution_gets_full_marks(repo, tmp_path):
    result = grade_file(repo, tmp_path, solution(repo))
    assert result["failed"] == set() and result["score"] == FULL


def test_other_correct_style_gets_full_marks(repo, tmp_path):
    code = (repo.sample_class / "alice_correct" / "batchnorm" / "forward_batchnorm.py").read_text()
    assert "keepdims" in code and "for j in range" in code
    assert grade_file(repo, tmp_path, code)["score"] == FULL


@pytest.mark.parametrize("name,old,new,must_fail", BUGS, ids=[b[0] for b in BUGS])
def test_each_known_bug_loses_points(repo, tmp_path, name, old, new, must_fail):
    result = grade_file(repo, tmp_path, mutate(solution(repo), old, new))
    assert must_fail <= result["failed"], f"{name}: expected {must_fail} to fail, failed {result['failed']}"
    assert result["score"] < FULL


def test_wrong_parameter_count_loses_its_point(repo, tmp_path):
    result = grade_file(repo, tmp_path, solution(repo), answer=300)
    assert result["failed"] == {"test_trainable_params_answer"}
    message = next(c["message"] for c in result["checks"] if not c["passed"])
    assert "expected 260, got 300" in message


def test_a_cheat_that_patches_numpy_gets_zero(repo, tmp_path):
    code = fixture_path("batchnorm", "submitted-cheat-patches-numpy.py").read_text()
    assert grade_file(repo, tmp_path, code, answer=None)["score"] == 0


@pytest.mark.parametrize("scenario,message", [("infinite-loop", "timed out"), ("os-exit", "exit code 1")])
def test_loops_and_crashes_get_zero_with_a_message(repo, tmp_path, scenario, message):
    result = grade_file(repo, tmp_path, fixture_path("batchnorm", f"{scenario}.py").read_text(), answer=None)
    assert result["score"] == 0
    assert all(message in c["message"] or "not run" in c["message"] for c in result["checks"][:-1])


def test_same_submission_same_score(repo, tmp_path):
    code = mutate(solution(repo), *BUGS[0][1:3])
    first = grade_file(repo, tmp_path / "a", code)
    second = grade_file(repo, tmp_path / "b", code)
    assert [(c["id"], c["earned"], c["message"]) for c in first["checks"]] == \
           [(c["id"], c["earned"], c["message"]) for c in second["checks"]]
