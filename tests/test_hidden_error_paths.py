"""Error-path checks count only for the right reason (issue 19, item 1): a check that expects
an exception first calls the same function on a valid input, which must work, and only then
requires the exception from the case under test. A function that crashes on every call with
the expected exception type earns nothing.

batchnorm's unknown-mode check is shown through its whole suite in test_hidden_batchnorm.py
(spatial_unpack); medical's degenerate-input check is called directly here on variants of the
source's sensitivity_specificity, and every hidden suite is read to see that all its error-path
checks go through the kit's ``expect_error``."""
import re

import nbformat
import numpy as np
import pytest

from conftest import REPO, SuffixedModule, failed_checks, load_hidden_module, suffixed
from hwtools.grading.student import StudentModule

MEDICAL = "tests/hidden/medical/test_medical.py"
DEGENERATE = "test_metrics_degenerate_raise_value_error"
HEADER = "import numpy as np\n\nMALIGNANT, BENIGN = 0, 1\n\n"

# (name, text of the reference, its replacement, whether the degenerate-input check must pass)
VARIANTS = [
    ("reference", None, None, True),
    # unpacks the labels as if they were a 2-D table: every call ends in "ValueError: not
    # enough values to unpack", degenerate or not (the crash the old check credited)
    ("crashes_on_every_call", "y_true = np.asarray(y_true).ravel()",
     "n_rows, n_columns = np.shape(y_true)", False),
    ("nan_for_degenerate", 'raise ValueError("sensitivity and specificity need',
     'return float("nan"), float("nan")  # ("sensitivity and specificity need', False),
    ("zero_division", 'raise ValueError("sensitivity and specificity need',
     'raise ZeroDivisionError("sensitivity and specificity need', False),
    ("checks_too_late", "y_true = np.asarray(y_true).ravel()",
     "y_true = np.asarray(y_true).ravel()\n    assert len(set(y_true.tolist())) == 2\n", False),
    # numpy floats (np.float64 crosses the wire as a 0-d array): numbers all the same
    ("numpy_floats", "return float(sensitivity), float(specificity)", "return sensitivity, specificity", True),
]


def metrics_cell() -> str:
    notebook = nbformat.read(str(REPO / "source" / "medical" / "medical.ipynb"), as_version=4)
    [cell] = [c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "metrics"]
    return "\n".join(line for line in cell.splitlines() if "### " not in line)


@pytest.fixture(scope="module")
def medical_variants(tmp_path_factory):
    reference = metrics_cell()
    parts = []
    for name, old, new, _ in VARIANTS:
        code = reference if old is None else reference.replace(old, new)
        assert old is None or old in reference, old
        parts.append(suffixed(code, ("sensitivity_specificity",), name))
    folder = tmp_path_factory.mktemp("medical-error-paths")
    (folder / "variants.py").write_text(HEADER + "\n\n".join(parts) + "\n")
    with StudentModule(folder / "variants.py", timeout_s=60) as module:
        yield module


@pytest.mark.parametrize("name,must_pass", [(v[0], v[3]) for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_the_degenerate_input_check_needs_a_working_function(repo, medical_variants, name, must_pass):
    hidden = load_hidden_module(repo, MEDICAL, "hidden_medical_suite")
    failed = failed_checks(hidden, [DEGENERATE], notebook=SuffixedModule(medical_variants, name),
                           rng=np.random.default_rng(4))
    assert failed == (set() if must_pass else {DEGENERATE})


def test_numpy_floats_are_numbers_for_the_rates_checks(repo, medical_variants):
    hidden = load_hidden_module(repo, MEDICAL, "hidden_medical_suite")
    checks = ["test_metrics_default_positive_is_malignant", "test_metrics_positive_one"]
    assert failed_checks(hidden, checks, notebook=SuffixedModule(medical_variants, "numpy_floats"),
                         rng=np.random.default_rng(4)) == set()


def test_a_function_that_always_crashes_is_told_why(repo, medical_variants):
    from hwtools.checks import CheckFailure

    hidden = load_hidden_module(repo, MEDICAL, "hidden_medical_suite")
    with pytest.raises(CheckFailure, match="already fails on a valid input .*ValueError: not enough values"):
        hidden.test_metrics_degenerate_raise_value_error(SuffixedModule(medical_variants, "crashes_on_every_call"),
                                                         np.random.default_rng(4))


def test_every_error_path_check_goes_through_expect_error():
    """Catching the student's exception by hand is how the old checks credited a crash: a
    hidden suite reaches StudentError only through hwtools.grading.kit.expect_error."""
    offenders = []
    for path in sorted((REPO / "tests" / "hidden").rglob("*.py")):
        text = path.read_text()
        if re.search(r"\bStudentError\b|\.is_a\(", text):
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
