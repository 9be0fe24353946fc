"""Execute one submission with nbgrader in a scratch course of its own (run sandboxed).

The grader first copies the assignment's source and the student's files into SCRATCH/course,
and a copy of the assignment's gradebook template (``prepare_scratch_course``); then ``python
-I -m hwtools.grading.execute_submission ASSIGNMENT STUDENT SCRATCH``, in the sandbox, runs nbgrader
autograde against that scratch gradebook and writes SCRATCH/execution.json. The real course,
its gradebook and the other students' files are never in reach of the student's kernel.
"""
from __future__ import annotations

import fnmatch
import json
import os
import shutil
import sys
import traceback
from pathlib import Path

from hwtools.course import nbgrader_bridge

from hwtools.sandbox import warm_kernel
from hwtools.sandbox.untrusted_files import copy_regular_tree

GRADEBOOK = "scratch-gradebook.db"


def _copy_source(root: Path, assignment: str, course: Path, for_sandbox: bool = False) -> None:
    """The course's config and the assignment's source into COURSE. For the sandbox, only what
    nbgrader autograde copies over the student's files (data files): no notebook and no file
    kept as the student's (``Autograde.exclude_overwriting``), which hold the solutions."""
    (course / "source").mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
    kept = set(nbgrader_bridge.course_config(root).Autograde.exclude_overwriting.get(assignment, [])) \
        if for_sandbox else set()

    def left_out(folder: str, names: list[str]) -> set[str]:
        relative = os.path.relpath(folder, root / "source" / assignment)
        return {n for n in names if for_sandbox and (n.endswith(".ipynb") or os.path.normpath(
            os.path.join(relative, n)) in kept)}

    shutil.copytree(root / "source" / assignment, course / "source" / assignment, ignore=left_out)


def gradebook_template(root: Path, assignment: str) -> Path:
    """A scratch gradebook holding the assignment's cells (nbgrader generate_assignment on its
    source), made once per version of the source and copied for each submission: making one
    costs seconds (nbgrader runs alembic), copying it nothing. Kept under the scratch root,
    which no sandbox sees."""
    from hwtools import sandbox
    from hwtools.grading.task import files_digest, tree_files

    read = [("nbgrader_config.py", root / "nbgrader_config.py"), *tree_files(root, root / "source" / assignment)]
    digest = files_digest([(relative, path.read_bytes()) for relative, path in read])
    template = sandbox.SCRATCH_ROOT / "gradebooks" / f"{assignment}-{digest[:20]}.db"
    if not template.is_file():
        work = sandbox.make_scratch("gradebook-")
        _copy_source(root, assignment, work / "course")
        api = nbgrader_bridge.api(work / "course", root=str(work / "course"), db_url=f"sqlite:///{work / 'new.db'}")
        nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
        template.parent.mkdir(exist_ok=True)
        os.replace(work / "new.db", template)  # atomic: a worker building the same one at once is harmless
        shutil.rmtree(work, ignore_errors=True)
    return template


# Files and folders each assignment's notebook makes when it runs (saved models, artifacts/,
# the split it copies, the tuner's trials). A copy handed in WITH the submission is removed at
# intake, before the run, and named in the result: the grader grades what this run made, never
# a model trained elsewhere (on the grader's test split, say) that a notebook loads instead of
# training (issue 17, deliverable 6). Patterns are fnmatch patterns of a path relative to the
# submission folder; a pattern ending in "/" names a folder, removed whole. GENERIC applies to
# every assignment: no notebook here takes a model as input. What each notebook saves, from
# source/<assignment>/*.ipynb and tests/hidden/<assignment>/ (grep for save(, savez, artifacts):
PRODUCED_BY_NOTEBOOK_GENERIC = ("artifacts/", "*.keras", "*.h5", "*.hdf5", "*.ckpt", "*.ckpt.*")
PRODUCED_BY_NOTEBOOK = {
    "batchnorm": (),
    "cnn_arithmetic": (),
    # hwtools.assignments.flowers: ARTIFACTS (models, manifest, datasets record, checkpoints);
    # the notebook copies its split into data/ from the subsample it makes in flowers_subset/
    "flowers": ("data/", "flowers_subset/"),
    "gas_consumption": (),  # save_artifacts: artifacts/
    # hwtools.assignments.gradcam: MODEL_FILE, HEATMAPS_FILE
    "gradcam": ("gradcam_model.keras", "gradcam_heatmaps.npz"),
    # hwtools.assignments.kerastuner_mnist: BEST_MODEL_FILE, BEST_HYPERPARAMETERS_FILE, TUNER_DIRECTORY
    "kerastuner_mnist": ("kerastuner_best_model.keras", "kerastuner_best_hyperparameters.json",
                         "kerastuner_search/"),
    "medical": (),  # save_artifacts: artifacts/
    "theory": (),  # saves nothing: every answer is a value its functions return
}


def produced_by_notebook(assignment: str) -> tuple[str, ...]:
    """The patterns of what ASSIGNMENT's notebook makes (``PRODUCED_BY_NOTEBOOK``)."""
    return PRODUCED_BY_NOTEBOOK_GENERIC + tuple(PRODUCED_BY_NOTEBOOK.get(assignment, ()))


def _produced(relative: str, is_folder: bool, patterns: tuple[str, ...]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if pattern.endswith("/"):
            if is_folder and fnmatch.fnmatchcase(relative, pattern[:-1]):
                return True
        elif not is_folder and (fnmatch.fnmatchcase(relative, pattern)
                                or ("/" not in pattern and fnmatch.fnmatchcase(name, pattern))):
            return True
    return False


def remove_produced_files(folder: Path, assignment: str) -> list[str]:
    """Remove from FOLDER (the grader's intake copy: regular files and folders only, no links)
    what the assignment's notebook makes when it runs; one line for each, by name."""
    patterns = produced_by_notebook(assignment)
    removed: list[str] = []

    def visit(path: Path, prefix: str) -> None:
        for entry in sorted(os.scandir(path), key=lambda e: e.name):
            relative = prefix + entry.name
            is_folder = entry.is_dir(follow_symlinks=False)
            if _produced(relative, is_folder, patterns):
                if is_folder:
                    count = sum(len(files) for _, _, files in os.walk(entry.path))
                    shutil.rmtree(entry.path)
                    removed.append(f"{relative}/ ({count} file{'s' * (count != 1)})")
                else:
                    os.unlink(entry.path)
                    removed.append(relative)
            elif is_folder:
                visit(Path(entry.path), relative + "/")

    visit(Path(folder), "")
    return [f"removed before the run: {', '.join(removed)}: the notebook makes {'these' if len(removed) > 1 else 'this'} "
            "itself when it runs; copies handed in with the submission are not graded"] if removed else []


def take_submission(root: Path, assignment: str, student: str, target: Path) -> list[str]:
    """The student's submitted/<student>/<assignment>/ copied into TARGET: regular files and
    folders only, never following a link, without what the notebook makes when it runs
    (``remove_produced_files``); returns what was left out or removed, one line each. Raises
    UntrustedEntry if the submission folder (or submitted/<student>) is itself a link."""
    left_out = copy_regular_tree(Path(root), ("submitted", student, assignment), target)
    return left_out + remove_produced_files(target, assignment)


def prepare_scratch_course(root: Path, assignment: str, student: str, scratch: Path,
                           submission: Path | None = None) -> Path:
    """SCRATCH/course with the assignment's source and the submission (from SUBMISSION, a copy
    made by ``take_submission``, else taken from the course now), and SCRATCH's gradebook.
    Either way, nothing the notebook makes reaches the run from the submission."""
    course = scratch / "course"
    _copy_source(root, assignment, course, for_sandbox=True)
    target = course / "submitted" / student / assignment
    if submission is None:
        take_submission(root, assignment, student, target)
    else:
        copy_regular_tree(submission.parent, (submission.name,), target)
        remove_produced_files(target, assignment)  # an intake made by take_submission has none left
    shutil.copy(gradebook_template(root, assignment), scratch / GRADEBOOK)
    return course


def execute(assignment: str, student: str, scratch: Path) -> dict:
    course = scratch / "course"
    api = nbgrader_bridge.api(course, root=str(course), db_url=f"sqlite:///{scratch / GRADEBOOK}")
    if not (scratch / GRADEBOOK).is_file():  # the grader copies a template in; made here only without one
        nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
    result = api.autograde(assignment, student, force=True, create=True)
    return {"success": bool(result.get("success")), "log": (result.get("log") or "")[-6000:],
            "error": (result.get("error") or "")[-3000:]}


def main() -> None:
    # jsonschema compiles an RFC 3987 grammar on import (~1.2 s here) for its "iri" formats, which
    # no notebook schema uses and which it checks only when asked to; this process imports
    # everything afresh for each submission, so it goes without.
    sys.modules.setdefault("rfc3987_syntax", None)
    assignment, student, scratch = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    # forked from the warm server, this process has the kernels' libraries: fork them from it
    if "ipykernel.kernelapp" in sys.modules and warm_kernel.suits(list((scratch / "course" / "submitted").rglob("*.ipynb"))):
        warm_kernel.install(warm_kernel.KernelForker())
    try:
        outcome = execute(assignment, student, scratch)
    except Exception:
        outcome = {"success": False, "log": "", "error": traceback.format_exc()[-3000:]}
    (scratch / "execution.json").write_text(json.dumps(outcome))


if __name__ == "__main__":
    main()
