"""nbgrader preprocessors of the course (named in nbgrader_config.py)."""
from __future__ import annotations

import json

from nbconvert.preprocessors import Preprocessor
from nbgrader.api import MissingEntry
from nbgrader.nbgraderformat import SCHEMA_VERSION
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
    """nbgrader's OverwriteCells, with deleted grade cells put back where they stood, and every
    cell's nbgrader metadata made the released cell's before nbgrader reads it.

    nbgrader 0.9.6 looks for the cell just before a deleted one among the submitted grade and
    solution cells only, so a deleted test cell that followed a read-only cell crashes the
    whole submission (KeyError). Here it goes after the last surviving cell that came before it.

    It also crashes the whole submission on metadata a student can edit: a grade id the
    assignment does not have (renamed), a cell claimed as a grade cell that was released as an
    answer cell, the emptied metadata ``DeduplicateIds`` leaves on a duplicate, a schema version
    it does not know, cell ids in a notebook that says nbformat 4.4. Here a cell whose grade id
    is not the assignment's loses its nbgrader metadata (an ordinary cell, never scored), and a
    known one gets the released cell's flags, points and schema; the notebook is then graded.
    ``notebook_changes`` tells the student what was changed.
    """

    def preprocess(self, nb, resources):
        if nb.get("nbformat_minor", 0) < 5 and any("id" in cell for cell in nb.cells):
            nb.nbformat_minor = 5  # cell ids came with nbformat 4.5: keep them, and the notebook valid
        return super().preprocess(nb, resources)

    def _released_flags(self, grade_id: str) -> dict | None:
        """The released cell's nbgrader flags, from the gradebook; None if it has no such cell."""
        try:
            source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return None
        flags = {"locked": bool(source.locked)}
        for kind, find in (("grade", self.gradebook.find_grade_cell), ("solution", self.gradebook.find_solution_cell),
                           ("task", self.gradebook.find_task_cell)):
            try:
                cell = find(grade_id, self.notebook_id, self.assignment_id)
            except MissingEntry:
                flags[kind] = False
                continue
            flags[kind] = True
            if kind != "solution":
                flags["points"] = float(cell.max_score)
        return flags

    def preprocess_cell(self, cell, resources, cell_index):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            return cell, resources
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        released = self._released_flags(grade_id) if isinstance(grade_id, str) else None
        if released is None:
            self.log.warning("Cell %r is not a cell of the assignment: its nbgrader metadata is removed", grade_id)
            del cell.metadata["nbgrader"]
            return cell, resources
        for key in ("grade", "solution", "locked", "task", "points"):
            if key in released:
                if meta.get(key) != released[key]:
                    self.report_change(grade_id, key, released[key], meta.get(key))
                meta[key] = released[key]
            else:
                meta.pop(key, None)
        meta["schema_version"] = SCHEMA_VERSION
        return super().preprocess_cell(cell, resources, cell_index)

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

    def add_missing_task_cells(self, nb, resources):
        for cell in nb.cells:  # nbgrader reads a grade id from every cell with nbgrader metadata
            if "nbgrader" in cell.metadata and "grade_id" not in cell.metadata["nbgrader"]:
                del cell.metadata["nbgrader"]
        return super().add_missing_task_cells(nb, resources)


# What a student changed in a notebook's structure, told in sentences (the grader compares the
# submitted notebook, read as JSON without trusting anything in it, with the released one).
MAX_CHANGES = 12
HIDDEN_PREFIX = "hidden_"  # the hidden suite's cells (hwtools.grading.grade): the release hides their source
_KIND = {"code": "a code cell", "markdown": "a markdown cell", "raw": "a raw cell"}


def _shown(name) -> str:
    text = repr(str(name)[:60])
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _nbgrader_meta(cell) -> dict | None:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else None


def _role(meta: dict, cell_type: str) -> str:
    """What a cell is to nbgrader, in words."""
    if meta.get("task"):
        return "a task cell"
    if meta.get("grade") and meta.get("locked"):
        return "a locked grade cell"
    if meta.get("grade") and meta.get("solution"):
        return "a written answer" if cell_type == "markdown" else "a graded answer cell"
    if meta.get("grade"):
        return "a locked grade cell" if meta.get("locked") else "a grade cell"
    if meta.get("solution"):
        return "an answer cell"
    return "a locked cell" if meta.get("locked") else "an ordinary cell"


def _points(meta: dict):
    try:
        return float(meta.get("points"))
    except (TypeError, ValueError):
        return meta.get("points")


def _source(cell) -> str:
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    return "".join(source) if isinstance(source, list) else str(source)


def notebook_format_problem(raw) -> str | None:
    """Why a submitted notebook (parsed JSON) is no Jupyter notebook nbgrader can open, or None."""
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return "the notebook file is not a Jupyter notebook (it has no list of cells)"
    version = raw.get("nbformat")
    if version != 4:
        return (f"the notebook is saved as nbformat {_shown(version)[1:-1] if isinstance(version, str) else version}, "
                "which nbgrader cannot open (it reads nbformat 4): save it from Jupyter as a version 4 notebook")
    return None


def notebook_changes(submitted, released) -> list[str]:
    """Sentences naming what was changed in the structure of a submitted notebook against the
    released one (both parsed JSON): grade cells renamed, duplicated, deleted or stripped of
    their nbgrader metadata, a cell's type or role changed, points claimed, schema versions."""
    if notebook_format_problem(submitted) or notebook_format_problem(released):
        return [problem for problem in (notebook_format_problem(submitted),) if problem]
    cells = [c for c in submitted["cells"] if isinstance(c, dict)]
    released_cells = {}
    for cell in released["cells"]:
        meta = _nbgrader_meta(cell)
        if meta and isinstance(meta.get("grade_id"), str):
            released_cells[meta["grade_id"]] = (cell, meta)
    found: dict[str, list] = {}
    unknown, no_id, changes = [], 0, []
    for cell in cells:
        meta = _nbgrader_meta(cell)
        if meta is None:
            continue
        grade_id = meta.get("grade_id")
        if not isinstance(grade_id, str):
            no_id += bool(meta.get("grade") or meta.get("solution") or meta.get("locked"))
        elif grade_id in released_cells:
            found.setdefault(grade_id, []).append(cell)
        elif meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task"):
            unknown.append((grade_id, cell))
    missing = [name for name in released_cells if name not in found]
    plain_sources = {_source(c) for c in cells if _nbgrader_meta(c) is None}
    renamed = {}
    for name in missing:
        cell, meta = released_cells[name]
        kind = "grade cell" if meta.get("grade") else "cell"
        same_type = [(new, c) for new, c in unknown if c.get("cell_type") == cell.get("cell_type")
                     and new not in renamed.values()]
        back = "the released cell was put back" if meta.get("grade") else "it was not graded"
        if _source(cell) in plain_sources and meta.get("locked"):
            changes.append(f"{kind} {_shown(name)} lost its nbgrader metadata; {back}")
        elif len(same_type) == 1 or (same_type and len(missing) == 1):
            renamed[name] = same_type[0][0]
            changes.append(f"{kind} {_shown(name)} was renamed to {_shown(same_type[0][0])}; {back}, and "
                           f"{_shown(same_type[0][0])} is not a cell of the assignment and was not graded")
        elif meta.get("solution") and not meta.get("grade"):
            changes.append(f"answer cell {_shown(name)} is missing (deleted, or its nbgrader metadata removed); "
                           "code that used it may fail")
        else:
            changes.append(f"{kind} {_shown(name)} is missing (deleted, or its nbgrader metadata removed); {back}")
    for new, _ in unknown:
        if new not in renamed.values():
            changes.append(f"cell {_shown(new)} is not a cell of the assignment; it was not graded")
    if no_id:
        changes.append(f"{no_id} cell(s) claim to be nbgrader cells without a grade id; they were not graded")
    for name, copies in found.items():
        cell, meta = released_cells[name]
        kind = "grade cell" if meta.get("grade") else "cell"
        if len(copies) > 1:
            times = "twice" if len(copies) == 2 else f"{len(copies)} times"
            changes.append(f"{kind} {_shown(name)} appears {times}; only one copy was graded")
        for copy in copies[:1]:
            new_meta = _nbgrader_meta(copy)
            old_type, new_type = cell.get("cell_type"), copy.get("cell_type")
            if new_type != old_type:
                changes.append(f"cell {_shown(name)} was changed from {_role(meta, old_type)} into "
                               f"{_KIND.get(new_type, 'a cell of another type')}; it was graded as released")
                continue
            old_role, new_role = _role(meta, old_type), _role(new_meta, new_type)
            worth = f" worth {_points(new_meta):g} points" if new_meta.get("grade") and isinstance(
                _points(new_meta), float) else ""
            if old_role != new_role or bool(new_meta.get("locked")) != bool(meta.get("locked")):
                changes.append(f"cell {_shown(name)} was changed from {old_role} into {new_role}{worth}; "
                               "it was graded as released")
            elif meta.get("grade") and _points(new_meta) != _points(meta):
                changes.append(f"grade cell {_shown(name)} claims {_shown(new_meta.get('points'))[1:-1]} points; "
                               f"it is worth {_points(meta):g}")
            elif meta.get("locked") and not name.startswith(HIDDEN_PREFIX) and _source(copy) != _source(cell):
                changes.append(f"locked cell {_shown(name)} was edited; the released cell ran instead")
    schemas = {new_meta.get("schema_version") for copies in found.values() for new_meta in map(_nbgrader_meta, copies)}
    expected = {meta.get("schema_version") for _, meta in released_cells.values()}
    if schemas - expected:
        changes.append(f"the nbgrader metadata claims schema version "
                       f"{', '.join(sorted(_shown(v)[1:-1] for v in schemas - expected))} (released as "
                       f"{', '.join(sorted(str(v) for v in expected))}); the released metadata was used")
    if len(changes) > MAX_CHANGES:
        changes = changes[:MAX_CHANGES] + [f"and {len(changes) - MAX_CHANGES} more changes to the notebook's cells"]
    return changes
