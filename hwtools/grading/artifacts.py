"""What a hidden suite reads from the artifacts/ folder an executed submission saved: a file
that is missing, unreadable or unsafe fails the check that needs it, with a message saying why
(the kit's contract: hwtools.grading.kit)."""
from __future__ import annotations

from pathlib import Path

from hwtools.checks import CheckFailure
from hwtools.grading import kit


class SavedArtifacts:
    """Reads ``folder`` (a submission's artifacts/); ``missing_hint`` tells the student how the
    notebook makes a missing file."""

    def __init__(self, folder: Path, missing_hint: str = "run the notebook to the end; it saves it"):
        self.folder = Path(folder)
        self.missing_hint = missing_hint
        self._models: dict = {}

    def path(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise CheckFailure(f"artifacts/{name} is missing: {self.missing_hint}")
        return path

    def json(self, name: str) -> dict:
        """A JSON file holding one object (a dict), as its contract says."""
        return kit.json_object(self.folder / name, f"artifacts/{name}", self.missing_hint)

    def arrays(self, name: str, keys: tuple) -> dict:
        """Named arrays of an .npz file (never pickles)."""
        return kit.npz_arrays(self.folder / name, f"artifacts/{name}", keys, self.missing_hint)

    def model(self, name: str):
        """A saved Keras model, loaded in safe mode (no code from the file runs), once per suite:
        the checks only read it (layers, weights, inference), and flowers' suite reads its two
        MobileNetV2s six times (~0.6 s a load). A file that fails to load fails each check that
        reads it, with the same message."""
        if name not in self._models:
            self._models[name] = kit.load_model(self.folder / name, f"artifacts/{name}", self.missing_hint)
        return self._models[name]
