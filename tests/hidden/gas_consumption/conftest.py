"""Fixtures of the gas-consumption suite: the course's own CSV (never the student's copy) and
the artifacts the submission's fixed pipeline saved."""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from hwtools.assignments import gas_consumption as assignment
from hwtools.grading.artifacts import SavedArtifacts
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


@pytest.fixture(scope="session")
def saved(submission_dir) -> SavedArtifacts:
    return SavedArtifacts(submission_dir / assignment.ARTIFACTS,
                          "run the fixed pipeline to the end and save its results with save_artifacts")
