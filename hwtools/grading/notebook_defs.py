"""Turn a notebook into the definitions a checker may import: imports, functions, classes
and simple constant assignments (answers like ``n_params = 10 * 20 + 20``), without the
cells that load data, train or plot (the Coursera graders' pattern).
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FORBIDDEN_IN_ANSWERS = (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda, ast.NamedExpr)


def _is_constant_answer(node: ast.stmt) -> bool:
    if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
        return False
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    if not all(isinstance(t, ast.Name) for t in targets):
        return False
    return not any(isinstance(n, _FORBIDDEN_IN_ANSWERS) for n in ast.walk(node.value))


def _strip_magics(source: str) -> str:
    """IPython magics and shell escapes are not Python; blank them, keeping line numbers."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def definition_chunks(notebook_path: Path) -> list[dict]:
    """The top-level definition statements of every code cell, in order, each with its cell."""
    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    chunks = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        try:
            tree = ast.parse(_strip_magics(source))
        except SyntaxError as err:
            chunks.append({"cell": index, "error": f"SyntaxError in code cell {index}: {err.msg} (line {err.lineno})"})
            continue
        for node in tree.body:
            if isinstance(node, _DEFINITIONS) or _is_constant_answer(node):
                chunks.append({"cell": index, "code": ast.unparse(node)})
    return chunks
