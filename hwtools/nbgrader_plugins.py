"""nbgrader preprocessors of the course (named in nbgrader_config.py)."""
from __future__ import annotations

import json

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import OverwriteCells
from traitlets import Bool, Integer

# Warnings and framework logs on stderr. nbgrader fails any grade cell with stderr output; the
# autograder (nbgrader_config.py) and `hw validate` both drop these first, so they agree.
BENIGN_STDERR_PATTERN = r"(?is)warn|deprecat|^[IWE]\d{4} |oneDNN|cuda|tensorflow|absl|keras|tqdm|%\|"


class LimitOutputBytes(Preprocessor):
    """Cap each cell's output size, so a submission that prints gigabytes cannot bloat the
    autograded notebook, the feedback or the gradebook (nbgrader's LimitOutput caps lines only)."""

    enabled = Bool(True, help="on unless the course turns it off").tag(config=True)
    max_stream_chars = Integer(100_000, help="characters kept per stream output").tag(config=True)
    max_data_bytes = Integer(2_000_000, help="size of a rich output (an image, HTML) above which it is dropped").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        for output in cell.outputs:
            if output.output_type == "stream" and len(output.text) > self.max_stream_chars:
                keep = self.max_stream_chars // 2
                cut = len(output.text) - 2 * keep
                output.text = f"{output.text[:keep]}\n... [{cut} characters cut by the autograder] ...\n{output.text[-keep:]}"
            elif output.output_type in ("display_data", "execute_result"):
                if len(json.dumps(output.get("data", {}))) > self.max_data_bytes:
                    output.data = {"text/plain": f"[output over {self.max_data_bytes} bytes removed by the autograder]"}
                    output.pop("metadata", None)
                    output.metadata = {}
        return cell, resources


class RestoreDeletedCells(OverwriteCells):
    """nbgrader's OverwriteCells, with deleted grade cells put back where they stood.

    nbgrader 0.9.6 looks for the cell just before a deleted one among the submitted grade and
    solution cells only, so a deleted test cell that followed a read-only cell crashes the
    whole submission (KeyError). Here it goes after the last surviving cell that came before it.
    """

    def add_missing_grade_cells(self, nb, resources):
        source_notebook = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source_notebook.source_cells]
        by_name = dict(zip(order, source_notebook.source_cells))
        solution_ids = {cell.name for cell in source_notebook.solution_cells}
        for grade_cell in sorted(source_notebook.grade_cells, key=lambda c: order.index(c.name)):
            present = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells]
            if grade_cell.name in present:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            earlier = set(order[:order.index(grade_cell.name)])
            position = max((index + 1 for index, name in enumerate(present) if name in earlier), default=0)
            nb.cells.insert(position, self.missing_cell_transform(
                by_name[grade_cell.name], grade_cell.max_score, is_solution=grade_cell.name in solution_ids))
        return nb, resources
