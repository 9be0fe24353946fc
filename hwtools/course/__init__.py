"""One object owns the course's paths (like nbgrader's CourseDirectory)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT_ORDER = ("batchnorm", "gradcam", "kerastuner_mnist", "gas_consumption",
                    "medical", "flowers", "cnn_arithmetic", "theory")
GLOB_CHARACTERS = "*?[]"  # nbgrader globs the student id in its paths


def shown_id(student: str) -> str:
    """A student id as a message shows it: quoted, control and format characters (ESC, newline,
    bidi overrides) written as escapes, at most 80 characters."""
    text = repr(student[:80]) + ("..." if len(student) > 80 else "")
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def student_id_problem(student: str) -> str | None:
    """Why a student id cannot be graded safely, as a sentence naming the id (escaped), or None.

    An id is a folder name in every path nbgrader and hw make (submitted/, autograded/,
    feedback/, scratch folders) and a glob pattern in nbgrader's: '..', a separator or a control
    character is never put in a path; glob characters make nbgrader grade another folder or none;
    nbgrader strips spaces around an id (and then reads another folder). A leading dot or dash,
    unicode and spaces inside an id are fine."""
    shown = shown_id(student)
    if not student:
        return "the student id '' is empty; it was not graded"
    if student in (".", ".."):
        return f"the student id {shown} is not a folder name (it means a folder itself or its parent); it was not graded"
    if "/" in student or "\\" in student or "\0" in student or (os.altsep and os.altsep in student):
        return (f"the student id {shown} contains a path separator (/ or \\); it is never used in a path and "
                "was not graded")
    if not all(ch.isprintable() for ch in student):
        return (f"the student id {shown} contains control characters; it is never used in a path or printed as "
                "it is, and was not graded: rename its folder under submitted/")
    if student.strip() != student:
        return (f"the student id {shown} begins or ends with a space, which nbgrader strips (it would grade "
                "another folder); rename the folder under submitted/ without it and grade again")
    found = [ch for ch in GLOB_CHARACTERS if ch in student]
    if found:
        suggestion = "".join(ch for ch in student if ch not in GLOB_CHARACTERS) or "student"
        return (f"the student id {shown} contains {' '.join(found)}, which nbgrader reads as a file name pattern "
                f"(it would grade another folder or none); rename the folder submitted/{student} (for example to "
                f"{suggestion}) and grade again")
    return None


def id_usable_in_paths(student: str) -> bool:
    """Whether a (refused) id can still name a folder of feedback/: a plain name with no control
    character (a glob character or an outer space is harmless there; hw writes that page itself)."""
    return bool(student) and student not in (".", "..") and "/" not in student and "\\" not in student \
        and "\0" not in student and all(ch.isprintable() for ch in student)


def find_root(start: Path | None = None) -> Path:
    """The course root: $HW_COURSE_ROOT, else the nearest parent holding nbgrader_config.py."""
    if os.environ.get("HW_COURSE_ROOT"):
        return Path(os.environ["HW_COURSE_ROOT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "nbgrader_config.py").is_file() and (candidate / "source").is_dir():
            return candidate
    raise FileNotFoundError(
        f"no course found from {here}: run hw inside the course repository "
        "(the folder with nbgrader_config.py and source/) or set HW_COURSE_ROOT")


@dataclass(frozen=True)
class Course:
    root: Path

    @classmethod
    def locate(cls, start: Path | None = None) -> "Course":
        return cls(find_root(start))

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def submitted(self) -> Path:
        return self.root / "submitted"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def hidden_tests(self) -> Path:
        return self.root / "tests" / "hidden"

    @property
    def sample_class(self) -> Path:
        return self.root / "examples" / "sample_class"

    def assignments(self) -> list[str]:
        """Assignments that exist in source/, in the course's order."""
        present = {p.name for p in self.source.iterdir() if p.is_dir() and not p.name.startswith(".")}
        ordered = [a for a in ASSIGNMENT_ORDER if a in present]
        return ordered + sorted(present - set(ordered))

    def submitters(self, assignment: str) -> list[str]:
        """Every folder of submitted/ with a folder for the assignment (a leading dot included),
        whatever its name: ``students`` and ``refused_students`` split them."""
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir() if (p / assignment).is_dir())

    def students(self, assignment: str) -> list[str]:
        """Students with a submission folder for the assignment whose id can be graded (see
        ``student_id_problem``; the others are in ``refused_students``, never skipped in silence)."""
        return [s for s in self.submitters(assignment) if student_id_problem(s) is None]

    def refused_students(self, assignment: str) -> dict[str, str]:
        """Submission folders whose id cannot be graded safely: id -> why, in a sentence."""
        return {s: why for s in self.submitters(assignment) if (why := student_id_problem(s))}

    def submission_dir(self, student: str, assignment: str) -> Path:
        return self.submitted / student / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.autograded / student / assignment

    def feedback_dir(self, student: str, assignment: str) -> Path:
        return self.feedback / student / assignment

    def timestamp_file(self, student: str, assignment: str) -> Path:
        """nbgrader's submission time, written by ``nbgrader submit``/``collect``."""
        return self.submission_dir(student, assignment) / "timestamp.txt"

    def grading_state(self, student: str, assignment: str) -> Path:
        """What hw recorded of a submission (fingerprint, checks, time): beside the autograded
        folder, not in it, since nbgrader copies that folder into the feedback."""
        return self.autograded / student / f".hw-grade-{assignment}.json"

    @property
    def grades_csv(self) -> Path:
        return self.root / "grades.csv"

    @property
    def class_report(self) -> Path:
        return self.root / "reports" / "class_summary.html"

    def secrets(self) -> tuple[Path, ...]:
        """What student code must never see: the whole course folder (the gradebook,
        submissions, outputs, sources with solutions, hidden tests, history, grade exports; of
        it a sandbox reads only hwtools and a venv kept inside), and an SQLite gradebook kept
        elsewhere."""
        paths = [self.root]
        url = os.environ.get("HW_DB_URL", "")
        if url.startswith("sqlite:///"):
            paths.append(Path(url[len("sqlite:///"):]))
        return tuple(paths)
