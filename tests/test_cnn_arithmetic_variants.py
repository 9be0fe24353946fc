"""cnn_arithmetic's per-student variants, checked over many student ids with the hidden
suite's own answer checks and oracles (torch, finite differences) called directly: the
worked answers of each variant pass, a correct student written differently (alice_correct)
passes on every variant, bob_partial's mistakes fail on every variant, and answers copied
from another student's variant fail wherever the two variants' answers differ."""
import sys
from pathlib import Path

import pytest

from conftest import REPO, load_hidden_module
from hwtools import variants
from hwtools.checks import CheckFailure
from hwtools.course.sample_class import student_cells

sys.path.insert(0, str(REPO / "authoring"))
import build_cnn_arithmetic as build  # noqa: E402

STUDENTS = [f"student{i:03d}" for i in range(40)]
NOTEBOOK = "cnn_arithmetic.ipynb"
ANSWER_CELLS = ("q5_table", "q5_dilation8", "fc_batchnorm", "seed001_q3", "gap_example")


@pytest.fixture(scope="module")
def hidden(repo):
    return load_hidden_module(repo, "tests/hidden/cnn_arithmetic/test_cnn_arithmetic.py", "cnn_arithmetic_variant_checks")


def answers(sources: dict) -> dict:
    """The answer variables that cells define (the course's own code: run here)."""
    namespace = {}
    for grade_id in ANSWER_CELLS:
        exec(sources[grade_id], namespace)
    return namespace


def failed(hidden, answer: dict, values: dict) -> set:
    """The answer checks of the hidden suite that ANSWER fails on the variant VALUES."""
    checks = {
        "q5_output_shapes": lambda: hidden.check_q5_output_shapes(answer["q5_output_shapes"], values["q5"]),
        "q5_params": lambda: hidden.check_q5_params(answer["q5_params"], values["q5"]),
        "q5_dilation8": lambda: hidden.check_q5_dilation8(answer["q5_d8_effective_kernel"], answer["q5_d8_fits"],
                                                          values["q5"]),
        "fc_batchnorm": lambda: hidden.check_fc_batchnorm(answer["fc_bn_trainable_params"], values["fc_bn"]),
        "q3_shapes": lambda: hidden.check_q3_shapes(answer, values["q3"]),
        "q3_params": lambda: hidden.check_q3_params(answer, values["q3"]),
        "gap_example": lambda: hidden.check_gap_example(answer, values["gap"]),
    }
    failures = set()
    for name, check in checks.items():
        try:
            check()
        except CheckFailure:
            failures.add(name)
    return failures


def sample_answers(student: str, as_student: str) -> dict:
    """A sample student's answers, written for AS_STUDENT's variant."""
    changes = REPO / "examples" / "sample_class" / student / "cnn_arithmetic"
    cells = student_cells(changes, as_student, "cnn_arithmetic")[NOTEBOOK]
    return answers(cells)


def test_the_worked_answers_of_every_variant_pass(hidden):
    for student in STUDENTS:
        values = variants.for_student("cnn_arithmetic", student).values
        assert failed(hidden, answers(build.answer_cells(values)), values) == set(), student


def test_a_correct_student_written_differently_passes_on_every_variant(hidden):
    for student in STUDENTS:
        values = variants.for_student("cnn_arithmetic", student).values
        assert failed(hidden, sample_answers("alice_correct", student), values) == set(), student


def test_the_typical_mistakes_fail_on_every_variant(hidden):
    """bob_partial's biases, batch-norm statistics and gradient of the sum fail on every variant;
    his rounding up fails wherever it changes a size (where every division is exact it does
    not, and his table is right)."""
    rounding_shows = 0
    for student in STUDENTS:
        values = variants.for_student("cnn_arithmetic", student).values
        bob = sample_answers("bob_partial", student)
        lost = failed(hidden, bob, values)
        assert lost >= {"q5_params", "fc_batchnorm", "gap_example"}, student
        rounded_up = [list(shape) for shape in bob["q5_output_shapes"]] != \
            [list(shape) for shape in answers(build.answer_cells(values))["q5_output_shapes"]]
        assert ("q5_output_shapes" in lost) == rounded_up, student
        rounding_shows += rounded_up
    assert rounding_shows >= 0.8 * len(STUDENTS)


def test_answers_copied_from_another_variant_lose_their_points(hidden):
    """Each check fails exactly where the two variants' worked answers differ; the tables and
    the example differ between every pair drawn, and every copy loses points."""
    keyed = {s: variants.for_student("cnn_arithmetic", s).values for s in STUDENTS}
    for copier, original in zip(STUDENTS, STUDENTS[1:] + STUDENTS[:1]):
        copied, own = answers(build.answer_cells(keyed[original])), answers(build.answer_cells(keyed[copier]))
        lost = failed(hidden, copied, keyed[copier])
        assert lost >= {"q5_output_shapes", "q5_params", "gap_example"}, (copier, original)
        for name in {"q5_dilation8", "fc_batchnorm", "q3_shapes", "q3_params"}:
            fields = {"q5_dilation8": ("q5_d8_effective_kernel", "q5_d8_fits"), "fc_batchnorm": ("fc_bn_trainable_params",),
                      "q3_shapes": ("q3_conv_shape", "q3_pool_shape", "q3_flatten_size"),
                      "q3_params": ("q3_conv_params", "q3_dense_params")}[name]
            differ = any(copied[f] != own[f] for f in fields)
            assert (name in lost) == differ, (copier, original, name)


def test_every_variant_builds_in_torch_and_the_numbers_vary(hidden):
    fits, stacks, inputs = set(), set(), set()
    for student in STUDENTS:
        q5 = variants.for_student("cnn_arithmetic", student)["q5"]
        shapes, _ = hidden.q5_table(q5)  # raises if a layer does not fit
        assert all(h >= 1 for h, _, _ in shapes)
        fits.add(answers(build.answer_cells(variants.for_student("cnn_arithmetic", student).values))["q5_d8_fits"])
        stacks.add(tuple((l.get("kernel"), l.get("stride"), l.get("dilation"), l.get("filters")) for l in q5["layers"]))
        inputs.add(q5["input"][0])
    assert fits == {True, False}
    assert len(stacks) == len(STUDENTS) and len(inputs) > 1


def test_the_seed_variant_is_the_seed_homework(hidden):
    """SEED_VARIANT's network is the one the oracle test records beside the seed's key."""
    from hwtools.assignments.cnn_arithmetic import SEED_VARIANT

    source = build.answer_cells(SEED_VARIANT)
    assert "q5_d8_effective_kernel = 8 * (5 - 1) + 1" in source["q5_dilation8"]
    assert failed(hidden, answers(source), SEED_VARIANT) == set()


def test_the_notebook_shows_the_student_their_numbers():
    variant = variants.for_student("cnn_arithmetic", "student001")
    layer = variant["q5"]["layers"][1]
    text = variant.describe("q5")
    assert f"{variant['q5']['input'][0]} x {variant['q5']['input'][0]} x 3" in text
    assert f"{layer['filters']}, {layer['kernel']}x{layer['kernel']}, stride {layer['stride']}" in text
    assert f"misprinted as **{variant['q5']['misprinted_layer8_dilation']}**" in text
    assert str(variant["gap"]["x"][0]).replace(" ", "") in variant.describe("gap").replace(" ", "")
    released = (REPO / "release" / "cnn_arithmetic" / NOTEBOOK).read_text()
    assert 'variants.for_student(\\"cnn_arithmetic\\")' in released and 'variant.show(\\"q5\\")' in released
