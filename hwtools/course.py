"""One object owns the course's paths (like nbgrader's CourseDirectory)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ASSIGNMENT_ORDER = ("batchnorm", "gradcam", "kerastuner_mnist", "gas_consumption",
                    "medical", "flowers", "cnn_arithmetic")


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

    def students(self, assignment: str) -> list[str]:
        """Students with a submission folder for the assignment."""
        if not self.submitted.is_dir():
            return []
        return sorted(p.name for p in self.submitted.iterdir()
                      if (p / assignment).is_dir() and not p.name.startswith("."))

    def submission_dir(self, student: str, assignment: str) -> Path:
        return self.submitted / student / assignment

    def autograded_dir(self, student: str, assignment: str) -> Path:
        return self.autograded / student / assignment
