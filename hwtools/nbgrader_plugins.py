"""nbgrader preprocessors of the course (named in nbgrader_config.py)."""
from __future__ import annotations

import json

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Integer


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
