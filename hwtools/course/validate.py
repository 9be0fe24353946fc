"""``hw validate``: a student's self-check with the public tests, worded for what it is.

nbgrader's ``validate`` prints "Success! Your notebook passes all the tests." when the public
test cells pass, although hidden tests grade the work afterwards; the sentence is hard-coded in
nbgrader 0.9.6 (``Validator._print_num_failed``, and the JupyterLab Validate button's script).
This runs nbgrader's own Validator, configured as ``nbgrader validate`` is (the same execution,
the same reports of failing, changed or retyped cells), and changes what a student reads:

- the first error of the run is shown first, in full, wherever it happened (a data loader's
  own message, not only the NameError it causes in the test cells after it);
- errors and cells are never cut at the line width (nbgrader ends long lines with "...");
- nbgrader's and the kernel's log lines that say nothing about the notebook are dropped;
- code that still raises ``NotImplementedError`` (in the notebook or a .py file beside it) is
  listed as unfinished, even where the public tests do not reach it, and fails the check;
- a pass is worded as a pass of the public tests only.

Like the autograder, it drops benign warnings from stderr first (nbgrader fails a cell on any
stderr output), so a cell the autograder accepts is not reported as failing here.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from nbclient.util import run_sync
from nbconvert.filters import strip_ansi
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, Execute, IgnorePattern
from nbgrader.validator import Validator
from traitlets import List

from hwtools.grading.nbgrader_plugins import BENIGN_STDERR_PATTERN

PUBLIC_TESTS_PASSED = "Public tests passed; hidden tests will also grade this notebook."
_NOT_IMPLEMENTED = re.compile(r"^(?P<indent>[ \t]*)raise[ \t]+NotImplementedError\b.*$")
_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?(?:def|class)[ \t]+(?P<name>\w+)")


def unimplemented(text: str) -> list[tuple[int, str, str]]:
    """(line, enclosing function or class or '', the line) of each ``raise NotImplementedError``."""
    found, lines = [], text.splitlines()
    for number, line in enumerate(lines, 1):
        match = _NOT_IMPLEMENTED.match(line)
        if not match:
            continue
        where = ""
        for above in reversed(lines[:number - 1]):
            outer = _DEF.match(above)
            if outer and len(outer["indent"]) < len(match["indent"]):
                where = outer["name"]
                break
        found.append((number, where, line.strip()))
    return found


def unfinished_parts(notebook, folder: Path) -> list[str]:
    """A line for each part of the work that still raises NotImplementedError: in the
    notebook's code cells, and in the .py files beside it (the files a student hands in)."""
    parts = []
    for index, cell in enumerate(notebook.cells, 1):
        if cell.cell_type != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        for _, where, line in unimplemented(cell.source):
            parts.append(f"the notebook's cell {index}{f' ({grade_id})' if grade_id else ''}"
                         f"{f', in {where}' if where else ''}: {line}")
    for path in sorted(folder.glob("*.py")):
        for number, where, line in unimplemented(path.read_text(encoding="utf-8", errors="replace")):
            parts.append(f"{path.name} line {number}{f', in {where}' if where else ''}: {line}")
    return parts


class QuietExecute(Execute):
    """nbgrader's Execute whose kernel process writes its own log lines (its note on the local
    TCP transport, TensorFlow's start-up banner) nowhere: what the notebook's cells print and
    raise still reaches their outputs, as in nbgrader's run."""

    async def async_start_new_kernel(self, **kwargs) -> None:
        kwargs.setdefault("stderr", subprocess.DEVNULL)
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)  # (nbclient binds its sync twin to its own)


class PublicTestsValidator(Validator):
    """nbgrader's Validator that keeps the executed notebook, shows its first error in full,
    never cuts a line and never claims all tests passed."""

    preprocessors = List([CheckCellMetadata, ClearOutput, QuietExecute, IgnorePattern])
    results: dict = {}
    executed = None

    def validate(self, filename: str) -> dict:
        self.executed = None
        self.results = super().validate(filename)
        return self.results

    def _preprocess(self, nb):
        self.executed = super()._preprocess(nb)
        return self.executed

    def _indent(self, val: str) -> str:
        """nbgrader's indent, without cutting long lines at "..." (the terminal wraps them)."""
        return "\n".join(self.indent + line for line in strip_ansi(val).split("\n"))

    def first_error(self) -> tuple[int, str, str] | None:
        """(cell number, cell source, traceback) of the first cell of the run that raised."""
        for index, cell in enumerate(self.executed.cells if self.executed else [], 1):
            for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if output.output_type == "error":
                    return index, cell.source.strip(), "\n".join(output.traceback)
        return None

    def _print_num_failed(self, num_failed: int) -> None:
        if num_failed:
            super()._print_num_failed(num_failed)

    def validate_and_print(self, filename: str) -> None:
        results = self.validate(filename)
        failed = results.get("failed", [])
        first = self.first_error()
        if first and not (failed and failed[0]["source"] == first[1]):
            number, source, error = first
            self.stream.write("=" * self.width + "\n")
            self.stream.write(f"The first error of the run, in cell {number} (the failures after it may "
                              "only follow from it):\n\n")
            self.stream.write(self._indent(source) + "\n\n" + self._indent(error) + "\n\n")
        self._print_nbgrader(results)
        if results.get("type_changed") or results.get("changed"):
            return  # (nbgrader's report of retyped or edited cells says it all)
        unfinished = unfinished_parts(self.executed, Path(filename).resolve().parent) if self.executed else []
        self.results["unfinished"] = unfinished
        if unfinished:
            opening = "Public tests passed, but the work is not finished" if not failed else "\nNot finished either"
            self.stream.write(f"{opening}: {len(unfinished)} part(s) still raise NotImplementedError, which the "
                              "hidden tests will find even where the public tests do not reach:\n\n")
            self.stream.write("\n".join(self._indent(part) for part in unfinished) + "\n")
        elif not failed:
            self.stream.write(PUBLIC_TESTS_PASSED + "\n")

    def _print_nbgrader(self, results: dict) -> None:
        """nbgrader's report (``Validator.validate_and_print`` after its validate)."""
        if results.get("type_changed"):
            self._print_num_type_changed(len(results["type_changed"]))
            for cell in results["type_changed"]:
                self._print_type_changed(cell["old_type"], cell["new_type"], cell["source"])
        elif results.get("changed"):
            self._print_num_changed(len(results["changed"]))
            for cell in results["changed"]:
                self._print_changed(cell["source"])
        elif results.get("failed"):
            self._print_num_failed(len(results["failed"]))
            for cell in results["failed"]:
                self._print_error(cell["source"], cell["raw_error"])

    def passed(self) -> bool:
        return not any(self.results.get(k) for k in ("type_changed", "changed", "failed", "unfinished"))


def validate_notebooks(paths: list[str], stream=None) -> bool:
    """Validate each notebook, printing nbgrader's report with the changes above; True if all passed."""
    from nbgrader.apps import ValidateApp

    app = ValidateApp()
    app.log_level = 40  # (ERROR: its "No nbgrader_config.py file found" is not the student's concern)
    app.initialize([])  # reads nbgrader_config.py from the working and Jupyter config folders
    app.config.IgnorePattern.enabled = True
    app.config.IgnorePattern.pattern = BENIGN_STDERR_PATTERN
    validator = PublicTestsValidator(parent=app)
    validator.stream = stream or sys.stdout
    all_passed = True
    for path in paths:
        validator.stream.write(f"Validating {path} (run from the top in a fresh kernel, as the autograder does)\n")
        validator.stream.flush()
        try:
            validator.validate_and_print(path)
        except Exception as err:  # a missing or unreadable notebook is a failed check, said plainly
            validator.stream.write(f"could not validate {path}: {type(err).__name__}: {err}\n")
            all_passed = False
            continue
        all_passed &= validator.passed()
    return all_passed
