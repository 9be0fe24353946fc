"""What a hidden suite reads from the artifacts/ folder an executed submission saved: a file
that is missing, unreadable or unsafe fails the check that needs it, with a message saying why."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hwtools.checks import CheckFailure


class SavedArtifacts:
    """Reads ``folder`` (a submission's artifacts/); ``missing_hint`` tells the student how the
    notebook makes a missing file."""

    def __init__(self, folder: Path, missing_hint: str = "run the notebook to the end; it saves it"):
        self.folder = Path(folder)
        self.missing_hint = missing_hint

    def path(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise CheckFailure(f"artifacts/{name} is missing: {self.missing_hint}")
        return path

    def json(self, name: str) -> dict:
        try:
            return json.loads(self.path(name).read_text())
        except ValueError as err:
            raise CheckFailure(f"artifacts/{name} is not valid JSON: {err}") from None

    def arrays(self, name: str, keys: tuple) -> dict:
        """Named arrays of an .npz file (never pickles)."""
        try:
            with np.load(self.path(name), allow_pickle=False) as data:
                return {key: np.asarray(data[key]) for key in keys}
        except (KeyError, ValueError, OSError) as err:
            raise CheckFailure(f"artifacts/{name} cannot be read or lacks {keys}: {err}") from None

    def model(self, name: str):
        """A saved Keras model, loaded in safe mode (no code from the file runs)."""
        import keras

        try:
            return keras.saving.load_model(self.path(name), safe_mode=True)
        except CheckFailure:
            raise
        except Exception as err:  # a broken or unsafe file, whatever keras raises
            raise CheckFailure(f"artifacts/{name} could not be loaded safely: {type(err).__name__}: {err}"[:600]) from None
