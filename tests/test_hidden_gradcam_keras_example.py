"""The notebook meets the code students paste (issue 19, item 6): the keras.io Grad-CAM example,
``keras.Model(model.inputs, [model.get_layer(name).output, model.output])``, pasted as the
student's make_gradcam_heatmap, runs in the student's own notebook on the notebook's own
model (a Sequential one, as the assignment's reference builds it), and the submission gets
full marks.

Before, Keras 3.15 refused it in the public test cell ("The layer sequential has never been
called and thus has no defined output"): a Sequential model has no ``model.output``. The
training cell now passes the model through ``hwtools.assignments.gradcam.functional_model``."""
import nbformat
import numpy as np
import pytest

from conftest import executed_copy, suite_result
from test_hidden_gradcam import KERAS_EXAMPLE

NOTEBOOK = "gradcam.ipynb"
FULL = 20.0


def cells_of(path) -> dict:
    notebook = nbformat.read(str(path), as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells if c.cell_type == "code"}


@pytest.fixture(scope="module")
def pasted(repo, tmp_path_factory):
    """The source notebook with the keras.io function pasted as the Grad-CAM cell, executed (ci)."""
    folder = tmp_path_factory.mktemp("gradcam-keras-example")
    source = folder / "source"
    import shutil

    shutil.copytree(repo.source / "gradcam", source)
    notebook = nbformat.read(str(source / NOTEBOOK), as_version=4)
    [cell] = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "gradcam"]
    cell.source = KERAS_EXAMPLE.strip()
    nbformat.write(notebook, str(source / NOTEBOOK))
    return executed_copy(source, NOTEBOOK, folder / "executed")


def test_the_keras_io_example_runs_on_the_notebooks_own_model(pasted):
    cells = cells_of(pasted / NOTEBOOK)
    assert "keras.Sequential" in cells["model"].source, "the notebook's model is a Sequential one"
    errors = {grade_id: [f"{o['ename']}: {o['evalue']}" for o in cell.outputs if o.output_type == "error"]
              for grade_id, cell in cells.items() if grade_id and not grade_id.startswith("hidden_")}
    assert {k: v for k, v in errors.items() if v} == {}
    printed = "".join(o.get("text", "") for o in cells["public_gradcam"].outputs)
    assert "Public tests passed" in printed
    with np.load(pasted / "gradcam_heatmaps.npz") as saved:
        assert saved["heatmaps"].shape == (5, 7, 7)


def test_the_pasted_example_gets_full_marks(repo, pasted):
    result = suite_result(repo, "gradcam", pasted)
    assert result["failed"] == set(), result["messages"]
    assert result["score"] == FULL
