"""Execute one submission with nbgrader in a scratch course of its own (run sandboxed).

The grader first copies the assignment's source and the student's files into SCRATCH/course,
and a copy of the assignment's gradebook template (``prepare_scratch_course``); then ``python
-I -m hwtools.execute_submission ASSIGNMENT STUDENT SCRATCH``, in the sandbox, runs nbgrader
autograde against that scratch gradebook and writes SCRATCH/execution.json. The real course, its gradebook and the other students' files
are never in reach of the student's kernel.
"""
from __future__ import annotations

import errno
import fnmatch
import hashlib
import json
import os
import shutil
import stat
import sys
import time
import traceback
from pathlib import Path

from hwtools import nbgrader_bridge, warm_kernel

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

    digest = hashlib.sha256((root / "nbgrader_config.py").read_bytes())
    source = root / "source" / assignment
    for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    template = sandbox.SCRATCH_ROOT / "gradebooks" / f"{assignment}-{digest.hexdigest()[:20]}.db"
    if not template.is_file():
        work = sandbox.make_scratch("gradebook-")
        _copy_source(root, assignment, work / "course")
        api = nbgrader_bridge.api(work / "course", root=str(work / "course"), db_url=f"sqlite:///{work / 'new.db'}")
        nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
        template.parent.mkdir(exist_ok=True)
        os.replace(work / "new.db", template)  # atomic: a worker building the same one at once is harmless
        shutil.rmtree(work, ignore_errors=True)
    return template


# Files a submission hands in, or a sandboxed run leaves, are read as regular files only: no
# link is followed (at any component of the path), pipes, sockets and devices are never opened,
# and each file and each tree has a size cap. Everything else is left out and named.
MAX_FILE_BYTES = 256 * 1024 * 1024  # a saved model; the feedback keeps files under 50 MB only
MAX_TREE_BYTES = 1024 * 1024 * 1024
MAX_TREE_ENTRIES = 5000
MAX_TREE_DEPTH = 16
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


class UntrustedEntry(OSError):
    """An entry that is not a regular file or folder, or is over a cap; str() says which, by name."""


def describe_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def _refusal(name: str, mode: int) -> str:
    return f"{name} is {describe_kind(mode)}; only regular files are graded"


def open_folder(base: Path, *parts: str) -> int:
    """A descriptor of BASE/PARTS..., every component opened without following a link (BASE
    itself included; its parents are the grader's own). Raises UntrustedEntry naming a link
    or a non-folder, FileNotFoundError for a missing one."""
    try:
        fd = os.open(base, _DIR_FLAGS)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UntrustedEntry(err.errno, f"{Path(base).name} is not a folder (a link or a file)") from None
        raise
    try:
        for part in parts:
            if part in ("", ".", "..") or "/" in part:
                raise UntrustedEntry(errno.EINVAL, f"{part!r} is not a plain name")
            try:
                new = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR):
                    info = os.stat(part, dir_fd=fd, follow_symlinks=False)
                    raise UntrustedEntry(err.errno, f"{part} is {describe_kind(info.st_mode)}, not a folder") from None
                raise
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd


def _open_regular(dir_fd: int, name: str, limit: int, shown: str) -> tuple[int, os.stat_result]:
    """Open one regular file of a folder without following a link or opening anything else."""
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode):
        raise UntrustedEntry(errno.EINVAL, _refusal(shown, info.st_mode))
    if info.st_size > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise UntrustedEntry(errno.EFBIG, f"{shown} is over {size} (or over what is left of the "
                                          f"{MAX_TREE_BYTES // 1024 ** 3} GB for all files); it was left out")
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno == errno.ELOOP:  # swapped for a link since the check
            raise UntrustedEntry(err.errno, _refusal(shown, stat.S_IFLNK)) from None
        raise
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
        os.close(fd)
        raise UntrustedEntry(errno.EINVAL, _refusal(shown, opened.st_mode))
    return fd, opened


def _read_capped(fd: int, limit: int, shown: str, sink=None) -> bytes:
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - total) or 1)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise UntrustedEntry(errno.EFBIG, f"{shown} grew over its size limit while it was read; it was left out")
        if sink is None:
            chunks.append(chunk)
        else:
            sink(chunk)
    return b"".join(chunks)


def read_regular(base: Path, relative: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of BASE/RELATIVE, a regular file reached without following any link, at most
    LIMIT bytes (else UntrustedEntry)."""
    *folders, name = Path(relative).parts
    folder = open_folder(base, *folders)
    try:
        fd, _ = _open_regular(folder, name, limit, relative)
        try:
            return _read_capped(fd, limit, relative)
        finally:
            os.close(fd)
    finally:
        os.close(folder)


def regular_entry(base: Path, relative: str) -> bool:
    """Whether BASE/RELATIVE is a regular file, reached without following any link."""
    *folders, name = Path(relative).parts
    try:
        folder = open_folder(base, *folders)
    except OSError:
        return False
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False
    finally:
        os.close(folder)


def walk_regular(base: Path, parts: tuple[str, ...], on_file, skip=("__pycache__",)) -> list[str]:
    """Call ON_FILE(relative path, bytes) for each regular file under BASE/PARTS, in the order
    of sorted path components, never following a link; returns one line for each other entry
    (a link, a pipe, a device, a file over the caps), by name."""
    refused: list[str] = []
    budget = {"bytes": MAX_TREE_BYTES, "entries": MAX_TREE_ENTRIES}

    def visit(fd: int, prefix: str, depth: int) -> None:
        for name in sorted(os.listdir(fd)):
            shown = prefix + name
            if name in skip:
                continue
            budget["entries"] -= 1
            if budget["entries"] < 0:
                if budget["entries"] == -1:
                    refused.append(f"more than {MAX_TREE_ENTRIES} files: {shown} and the rest were left out")
                continue
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode) and depth < MAX_TREE_DEPTH:
                sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                try:
                    visit(sub, shown + "/", depth + 1)
                finally:
                    os.close(sub)
            elif stat.S_ISREG(info.st_mode):
                try:
                    fd_file, _ = _open_regular(fd, name, min(MAX_FILE_BYTES, max(budget["bytes"], 0)), shown)
                    try:
                        data = _read_capped(fd_file, MAX_FILE_BYTES, shown)
                    finally:
                        os.close(fd_file)
                except UntrustedEntry as err:
                    refused.append(str(err))
                    continue
                budget["bytes"] -= len(data)
                on_file(shown, data)
            elif stat.S_ISDIR(info.st_mode):
                refused.append(f"{shown} is nested too deep; it was left out")
            else:
                refused.append(_refusal(shown, info.st_mode))

    root = open_folder(base, *parts)
    try:
        visit(root, "", 0)
    finally:
        os.close(root)
    return refused


def copy_regular_tree(base: Path, parts: tuple[str, ...], target: Path, skip=()) -> list[str]:
    """Copy the regular files and folders under BASE/PARTS into TARGET (made here; it must not
    exist) without following any link; returns one line for each entry left out, by name.
    Raises UntrustedEntry when BASE/PARTS itself is a link or not a folder."""
    refused: list[str] = []
    budget = {"bytes": MAX_TREE_BYTES, "entries": MAX_TREE_ENTRIES}

    def copy_file(fd: int, name: str, shown: str, dest: Path) -> None:
        limit = min(MAX_FILE_BYTES, max(budget["bytes"], 0))
        source, info = _open_regular(fd, name, limit, shown)
        try:
            out = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                          stat.S_IMODE(info.st_mode) & 0o755 | 0o600)
            written = [0]
            try:
                def sink(chunk: bytes) -> None:
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(out, view):]
                    written[0] += len(chunk)
                _read_capped(source, limit, shown, sink)
            except BaseException:
                os.close(out)
                os.unlink(dest)
                raise
            os.close(out)
            os.utime(dest, ns=(info.st_atime_ns, info.st_mtime_ns))
            budget["bytes"] -= written[0]
        finally:
            os.close(source)

    def visit(fd: int, prefix: str, dest: Path, depth: int) -> None:
        for name in sorted(os.listdir(fd)):
            shown = prefix + name
            if name in skip:
                continue
            budget["entries"] -= 1
            if budget["entries"] < 0:
                if budget["entries"] == -1:
                    refused.append(f"more than {MAX_TREE_ENTRIES} files: {shown} and the rest were left out")
                continue
            info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if depth >= MAX_TREE_DEPTH:
                    refused.append(f"{shown} is nested too deep; it was left out")
                    continue
                try:
                    sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError:
                    refused.append(_refusal(shown, stat.S_IFLNK))
                    continue
                try:
                    os.mkdir(dest / name)
                    visit(sub, shown + "/", dest / name, depth + 1)
                finally:
                    os.close(sub)
            elif stat.S_ISREG(info.st_mode):
                try:
                    copy_file(fd, name, shown, dest / name)
                except UntrustedEntry as err:
                    refused.append(str(err))
            else:
                refused.append(_refusal(shown, info.st_mode))

    root = open_folder(base, *parts)
    try:
        os.makedirs(target.parent, exist_ok=True)
        os.mkdir(target)
        visit(root, "", target, 0)
    finally:
        os.close(root)
    return refused


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
    started = time.monotonic()
    if not (scratch / GRADEBOOK).is_file():  # the grader copies a template in; made here only without one
        nbgrader_bridge.checked(api.generate_assignment(assignment, force=True, create=True), "generate_assignment")
    generated = time.monotonic()
    result = api.autograde(assignment, student, force=True, create=True)
    return {"success": bool(result.get("success")), "log": (result.get("log") or "")[-6000:],
            "error": (result.get("error") or "")[-3000:],
            "phases": {"generate": round(generated - started, 2), "autograde": round(time.monotonic() - generated, 2)}}


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
