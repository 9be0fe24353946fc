"""What a grading task is sent (``GradingTask``), so that a worker needs this environment installed and nothing
of the course's folder (issue 18): the course bundle and the submission, both plain data.

- ``CourseBundle``: what grading reads of the course for one assignment (the config, the
  assignment's source and release, its hidden suite and the suites' pytest.ini), as a tar
  archive named by the SHA-256 of its content. The driver builds it once per run and sends it to
  each worker once (``client.scatter``); a worker unpacks each version once, into a folder of its
  scratch root (which no sandbox sees), and reuses it for every submission of that version.
- ``Submission``: the student's files, read by the driver as regular files only (no link
  followed, under the caps of ``untrusted_files``), without what the notebook makes itself
  when it runs; what was left out is named.

Runs in the driver (``course_bundle``, ``read_submission``) and in a worker (``unpacked``,
``Submission.write``).
"""
from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hwtools.course import Course
from hwtools.sandbox.untrusted_files import read_regular_tree

CONFIG_FILES = ("nbgrader_config.py",)


@dataclass(frozen=True)
class CourseBundle:
    assignment: str
    digest: str  # SHA-256 of the archive's members (names and bytes)
    archive: bytes  # an uncompressed tar of paths relative to the course root


def tree_files(root: Path, base: Path) -> list[tuple[str, Path]]:
    """(path relative to ROOT, file) for the files under BASE (trusted course files: not
    caches), in sorted order."""
    if not base.is_dir():
        return []
    return [(str(p.relative_to(root)), p) for p in sorted(base.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts]


def files_digest(files: list[tuple[str, bytes]]) -> str:
    """SHA-256 of (relative name, bytes) pairs: the name of a version of the course's files."""
    digest = hashlib.sha256()
    for relative, data in files:
        digest.update(relative.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def _course_files(course: Course, assignment: str) -> list[tuple[str, Path]]:
    """(path relative to the course root, file) for everything grading reads of the course."""
    files = [(name, course.root / name) for name in CONFIG_FILES if (course.root / name).is_file()]
    suites = course.hidden_tests
    if (suites / "pytest.ini").is_file():
        files.append((str((suites / "pytest.ini").relative_to(course.root)), suites / "pytest.ini"))
    for base in (course.source / assignment, course.release / assignment, suites / assignment):
        files += tree_files(course.root, base)
    return files


def course_bundle(course: Course, assignment: str) -> CourseBundle:
    """The bundle of ASSIGNMENT, read from the course now (in the driver)."""
    files = [(relative, path.read_bytes()) for relative, path in _course_files(course, assignment)]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for relative, data in files:
            info = tarfile.TarInfo(relative)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return CourseBundle(assignment, files_digest(files), buffer.getvalue())


def bundle_root() -> Path:
    from hwtools import sandbox

    return sandbox.SCRATCH_ROOT / "bundles"


def unpacked(bundle: CourseBundle) -> Course:
    """The bundle as a course folder of this machine (in a worker): unpacked once per version,
    atomically (two workers unpacking the same one at once is harmless)."""
    target = bundle_root() / bundle.digest
    if not (target / ".complete").is_file():
        target.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".unpacking-", dir=target.parent))
        with tarfile.open(fileobj=io.BytesIO(bundle.archive), mode="r") as archive:
            archive.extractall(work, filter="data")  # (the driver's own archive; checked all the same)
        (work / ".complete").touch()
        try:
            os.rename(work, target)
        except OSError:  # another worker process unpacked it first
            shutil.rmtree(work, ignore_errors=True)
    return Course(target)


@dataclass(frozen=True)
class Submission:
    """A student's submission as the driver read it."""
    files: dict = field(default_factory=dict)  # relative path -> bytes
    folders: tuple = ()  # relative paths of its folders (empty ones too), parents first
    left_out: tuple = ()  # one line for each entry not taken, by name
    problem: str | None = None  # why the folder itself was not read (missing, a link)
    missing: bool = False

    def write(self, target: Path) -> None:
        """The files into TARGET (made here), each created by its plain relative path."""
        target.mkdir(parents=True)
        for folder in self.folders:
            (target / folder).mkdir(parents=True, exist_ok=True)
        for relative, data in self.files.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)

    def fingerprint_parts(self):
        for relative in sorted(self.files):
            yield relative.encode() + b"\0" + self.files[relative] + b"\0"
        for line in (*self.left_out, *([self.problem] if self.problem else [])):
            yield b"\1" + line.encode() + b"\0"


def read_submission(course: Course, assignment: str, student: str) -> Submission:
    """The student's submitted/<student>/<assignment>/, read in the driver as regular files and
    folders only, never following a link."""
    try:
        files, folders, left_out = read_regular_tree(course.root, ("submitted", student, assignment))
    except FileNotFoundError:
        return Submission(missing=True, problem="no submission folder")
    except OSError as err:
        return Submission(problem=f"the submission folder was refused: {err}")
    return Submission(files, tuple(folders), tuple(left_out))


@dataclass(frozen=True)
class GradingTask:
    """Everything a worker needs to grade one submission, besides the course bundle."""
    assignment: str
    student: str
    submission: Submission
    cells: dict  # the assignment's grade cells as released (``gradebook_writer.assignment_cells``)
    fingerprint: str
    timeout_s: float = 1800


def fingerprint(submission: Submission, bundle_digest: str) -> str:
    """Changes when the submission or anything of the course that grading reads changes."""
    digest = hashlib.sha256(bundle_digest.encode() + b"\0")
    for part in submission.fingerprint_parts():
        digest.update(part)
    return digest.hexdigest()
