"""The course's nbgrader configuration and API, in-process (nbgrader's CLI costs ~5 s a call)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader


class NbgraderFailed(RuntimeError):
    """An nbgrader step failed; the message carries nbgrader's own log."""


def ensure_venv_on_path() -> None:
    """nbgrader shells out to ``alembic`` when it creates a gradebook."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def course_config(course_root: Path, **overrides) -> Config:
    """nbgrader_config.py of the course at ``root``, with CourseDirectory overrides (root, db_url)."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    for key, value in overrides.items():
        setattr(config.CourseDirectory, key, value)
    return config


def api(course_root: Path, **overrides):
    from nbgrader.apps import NbGraderAPI

    ensure_venv_on_path()
    return NbGraderAPI(config=course_config(course_root, **overrides))


def checked(result: dict, step: str) -> dict:
    """Raise with nbgrader's log when a step did not succeed."""
    if not result.get("success"):
        raise NbgraderFailed(f"nbgrader {step} failed:\n{result.get('error') or ''}\n{result.get('log') or ''}")
    return result
