"""Runs inside the sandbox: loads a student's module and answers the grader's calls.

Requests and replies are JSON lines on a private copy of stdout; the student's own prints
go to stderr so they cannot corrupt the channel.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import traceback
import types
from pathlib import Path


def _short_traceback(err: BaseException, filename_hint: str) -> str:
    """The exception and the student's own frames, not the worker's."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if filename_hint in f.filename
              or f.filename.startswith("<cell")]
    where = "".join(f"  {Path(f.filename).name}, line {f.lineno}, in {f.name}\n" for f in frames[-3:])
    return f"{type(err).__name__}: {err}\n{where}".strip()


def _load_file(path: Path) -> types.ModuleType:
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _load_notebook(path: Path) -> tuple[types.ModuleType, list[str]]:
    from hwtools.grading.notebook_defs import definition_chunks

    sys.path.insert(0, str(path.parent))
    module = types.ModuleType(path.stem)
    module.__file__ = str(path)
    sys.modules[path.stem] = module
    problems = []
    for chunk in definition_chunks(path):
        if "error" in chunk:
            problems.append(chunk["error"])
            continue
        try:
            exec(compile(chunk["code"], f"<cell {chunk['cell']}>", "exec"), module.__dict__)
        except BaseException as err:  # one broken definition must not hide the others
            problems.append(f"code cell {chunk['cell']}: {type(err).__name__}: {err}")
    return module, problems


def _grader_helper(name: str):
    """A function of hwtools named ``module:function``, imported here, not looked up in the
    student's module: it turns a result that is not plain data (a tf.data pipeline) into arrays."""
    module_name, _, function_name = name.partition(":")
    if not module_name.startswith("hwtools.") or not function_name:
        raise ValueError(f"{name!r} is not a hwtools helper (module:function)")
    return getattr(importlib.import_module(module_name), function_name)


def main() -> None:
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from hwtools.grading import wire

    def reply(message: dict) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    target = Path(sys.argv[1]).resolve()
    try:
        if target.suffix == ".ipynb":
            module, problems = _load_notebook(target)
        else:
            module, problems = _load_file(target), []
    except BaseException as err:
        reply({"ok": False, "message": _short_traceback(err, target.name)})
        return
    reply({"ok": True, "problems": problems})

    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "get":
                reply({"ok": True, "value": wire.encode(getattr(module, request["name"]))})
                continue
            if request["op"] == "names":
                reply({"ok": True, "value": wire.encode(sorted(n for n in vars(module) if not n.startswith("_")))})
                continue
            function = getattr(module, request["name"])
            args = [wire.decode(a, load_models=True) for a in request["args"]]
            kwargs = {k: wire.decode(v, load_models=True) for k, v in request["kwargs"].items()}
            result = function(*args, **kwargs)
            if request.get("then"):
                result = _grader_helper(request["then"])(result)
            reply({"ok": True, "value": wire.encode(result),
                   "args_after": [wire.encode(a) for a in args],
                   "kwargs_after": {k: wire.encode(v) for k, v in kwargs.items()}})
        except BaseException as err:
            reply({"ok": False, "type": type(err).__name__,
                   "mro": [c.__name__ for c in type(err).__mro__],
                   "message": _short_traceback(err, target.name)})


if __name__ == "__main__":
    main()
