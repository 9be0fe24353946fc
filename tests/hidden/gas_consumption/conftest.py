"""Fixtures of the gas-consumption suite: the course's own CSV (never the student's copy) and
the artifacts the submission's fixed pipeline saved."""
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hwtools.assignments import gas_consumption as assignment
from hwtools.checks import CheckFailure
from hwtools.course import Course


@dataclass
class GraderData:
    frame: pd.DataFrame
    inputs: np.ndarray
    consumption: np.ndarray
    fractions: tuple
    n_rows: int
    test_rows: np.ndarray
    train_rows: np.ndarray


@pytest.fixture(scope="session")
def grader_data() -> GraderData:
    csv = Course.locate().source / "gas_consumption" / assignment.CSV_NAME
    frame = assignment.load_consumption(csv)
    n_rows = len(frame)
    fractions = assignment.SPLIT_FRACTIONS
    train_end = int(round(n_rows * fractions[0]))
    test_start = int(round(n_rows * (fractions[0] + fractions[1])))
    return GraderData(frame, assignment.model_inputs(frame).to_numpy(float), frame["consumption"].to_numpy(float),
                      fractions, n_rows, np.arange(test_start, n_rows), np.arange(train_end))


class SavedArtifacts:
    """Reads artifacts/ of the executed submission; a missing or unreadable file fails the check."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise CheckFailure(f"artifacts/{name} is missing: run the fixed pipeline to the end and save "
                               "its results with save_artifacts")
        return path

    def json(self, name: str) -> dict:
        try:
            return json.loads(self.path(name).read_text())
        except ValueError as err:
            raise CheckFailure(f"artifacts/{name} is not valid JSON: {err}") from None

    def arrays(self, name: str, keys: tuple) -> dict:
        try:
            with np.load(self.path(name), allow_pickle=False) as data:
                return {key: np.asarray(data[key]) for key in keys}
        except (KeyError, ValueError, OSError) as err:
            raise CheckFailure(f"artifacts/{name} cannot be read or lacks {keys}: {err}") from None


@pytest.fixture(scope="session")
def saved(submission_dir) -> SavedArtifacts:
    return SavedArtifacts(submission_dir / assignment.ARTIFACTS)
