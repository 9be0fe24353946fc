"""``hw validate``: a student's self-check with the public tests, worded for what it is.

nbgrader's ``validate`` prints "Success! Your notebook passes all the tests." when the public
test cells pass, although hidden tests grade the work afterwards; the sentence is hard-coded in
nbgrader 0.9.6 (``Validator._print_num_failed``, and the JupyterLab Validate button's script).
This runs nbgrader's own Validator, configured as ``nbgrader validate`` is (the same execution,
the same reports of failing, changed or retyped cells), and words only the success differently.
Like the autograder, it drops benign warnings from stderr first (nbgrader fails a cell on any
stderr output), so a cell the autograder accepts is not reported as failing here.
"""
from __future__ import annotations

import sys

from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute, IgnorePattern
from nbgrader.validator import Validator
from traitlets import List

from hwtools.grading.nbgrader_plugins import BENIGN_STDERR_PATTERN

PUBLIC_TESTS_PASSED = "Public tests passed; hidden tests will also grade this notebook."


class PublicTestsValidator(Validator):
    """nbgrader's Validator that keeps its last results and never claims all tests passed."""

    preprocessors = List([CheckCellMetadata, ClearOutput, Execute, IgnorePattern])
    results: dict = {}

    def validate(self, filename: str) -> dict:
        self.results = super().validate(filename)
        return self.results

    def _print_num_failed(self, num_failed: int) -> None:
        if num_failed:
            super()._print_num_failed(num_failed)
        else:
            self.stream.write(PUBLIC_TESTS_PASSED + "\n")

    def passed(self) -> bool:
        return not any(self.results.get(k) for k in ("type_changed", "changed", "failed"))


def validate_notebooks(paths: list[str], stream=None) -> bool:
    """Validate each notebook, printing nbgrader's report with the wording above; True if all passed."""
    from nbgrader.apps import ValidateApp

    app = ValidateApp()
    app.initialize([])  # reads nbgrader_config.py from the working and Jupyter config folders, as nbgrader does
    app.config.IgnorePattern.enabled = True
    app.config.IgnorePattern.pattern = BENIGN_STDERR_PATTERN
    validator = PublicTestsValidator(parent=app)
    validator.stream = stream or sys.stdout
    all_passed = True
    for path in paths:
        try:
            validator.validate_and_print(path)
        except Exception as err:  # a missing or unreadable notebook is a failed check, said plainly
            validator.stream.write(f"could not validate {path}: {type(err).__name__}: {err}\n")
            all_passed = False
            continue
        all_passed &= validator.passed()
    return all_passed
