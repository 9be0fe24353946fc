"""Forged work gets no training credit (issue 17, deliverable 6), tried as an attacker would.

A submission that ships the models and artifacts its notebook makes has them removed at
intake, before the run, and the removal is named; a saved model whose optimizer took another
number of steps than the budget's training (one trained elsewhere, longer, or on the test
split) loses the accuracy points with a flagged message; the images the grader measures on
never come out of the notebook's loader in the grade and ci budgets. The reference and a
correct alternative that trains as the budget says keep their points.

Models are trained here (seconds each, ci budget) and the hidden suite's accuracy check is
called on them directly; one reference and one attacker notebook are executed and graded by
the whole hidden suite.
"""
import shutil
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest

from conftest import executed_copy, load_hidden_module, submit_folder, suite_result
from hwtools import budget
from hwtools.assignments import gradcam
from hwtools.checks import FLAGGED, ForgedWork
from hwtools.grading.execute_submission import PRODUCED_BY_NOTEBOOK, prepare_scratch_course, take_submission

REPO = Path(__file__).resolve().parents[1]
HIDDEN = "tests/hidden/gradcam/test_gradcam.py"
ASSIGNMENT = "gradcam"
SHIPPED = {  # what an attacker hands in beside the notebook: removed at intake
    gradcam.MODEL_FILE: "model", gradcam.HEATMAPS_FILE: "heatmaps", "artifacts/metrics.json": '{"test_accuracy": 1.0}',
    "pretrained/best.weights.h5": "weights", "checkpoints/model.h5": "weights"}
KEPT = {"notes.bin": "model", "README.md": "my notes"}  # not names a notebook makes: they reach the run
ATTACK_CELL = """
import shutil
shutil.copy("notes.bin", MODEL_FILE)  # the model trained elsewhere, shipped under another name
model = keras.saving.load_model(MODEL_FILE)
"""


@pytest.fixture(scope="module")
def hidden(repo):
    return load_hidden_module(repo, HIDDEN, "hidden_gradcam_forged")


@pytest.fixture(scope="module")
def build_model(repo):
    """The source notebook's build_model (the reference architecture)."""
    notebook = nbformat.read(str(repo.source / ASSIGNMENT / "gradcam.ipynb"), as_version=4)
    code = next(c.source for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "model")
    namespace = {"keras": keras, "LAST_CONV_LAYER": gradcam.LAST_CONV_LAYER}
    exec("\n".join(line for line in code.splitlines() if "### " not in line), namespace)
    return namespace["build_model"]


def prepared(x, y):
    return (np.asarray(x, dtype="float32") / 255.0)[..., np.newaxis], keras.utils.to_categorical(y, 10)


def notebook_training_set():
    """The training images as the notebook prepares them: the loader's, shuffled (seed 0), the first n_train."""
    (x, y), _, _ = gradcam.load_mnist_tagged()
    order = np.random.default_rng(0).permutation(len(x))
    n = budget.budget(ASSIGNMENT)["n_train"] or len(x)
    return prepared(x[order][:n], y[order][:n])


def trained(build_model, folder, how: str):
    """A model trained one way, saved and loaded back as the grader loads it."""
    keras.utils.set_random_seed(1)
    settings = budget.budget(ASSIGNMENT)
    epochs, batch = settings["epochs"], settings["batch_size"]
    model = build_model()
    x, y = notebook_training_set()
    if how == "reference":  # the locked training cell
        model.fit(x, y, epochs=epochs, batch_size=batch, validation_split=0.1, verbose=0)
    elif how == "dataset_no_validation":  # a correct alternative: tf.data batches, no validation
        import tensorflow as tf
        model.fit(tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0).batch(batch), epochs=epochs,
                  verbose=0)
    elif how == "own_validation_slice":  # a correct alternative: its own 15 % validation slice
        cut = int(len(x) * 0.85)
        model.fit(x[:cut], y[:cut], validation_data=(x[cut:], y[cut:]), epochs=epochs, batch_size=batch, verbose=0)
    elif how == "longer":  # more epochs than the budget
        model.fit(x, y, epochs=3 * epochs, batch_size=batch, validation_split=0.1, verbose=0)
    elif how == "notebook_test_split":  # trains on the test images its loader gives it
        _, (x_test, y_test), _ = gradcam.load_mnist_tagged()
        model.fit(*prepared(x_test, y_test), epochs=epochs, batch_size=batch, verbose=0)
    elif how == "grader_images":  # the grader's measured images, reached around the loader, many epochs
        x_held, y_held, _ = gradcam.grader_test_split()
        model.fit(*prepared(np.concatenate([x_held] * 3), np.concatenate([y_held] * 3)), epochs=12, batch_size=batch,
                  verbose=0)
    else:
        raise ValueError(how)
    path = folder / f"{how}.keras"
    model.save(path)
    return keras.saving.load_model(path, safe_mode=True), path


@pytest.fixture(scope="module")
def models(build_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("forged-models")
    cache = {}

    def get(how):
        if how not in cache:
            cache[how] = trained(build_model, folder, how)
        return cache[how]
    return get


# --- the intake ---------------------------------------------------------------------------

def attacker_folder(repo, tmp_path, model_path=None):
    """The source solution with an attack cell after training, and the files it ships."""
    folder = tmp_path / "attacker"
    shutil.copytree(repo.source / ASSIGNMENT, folder)
    notebook = nbformat.read(str(folder / "gradcam.ipynb"), as_version=4)
    at = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "train")
    notebook.cells.insert(at + 1, nbformat.v4.new_code_cell(ATTACK_CELL))
    nbformat.write(notebook, str(folder / "gradcam.ipynb"))
    for relative, text in {**SHIPPED, **KEPT}.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        if text == "model" and model_path is not None:
            shutil.copy(model_path, folder / relative)
        else:
            (folder / relative).write_text(text)
    return folder


def files_under(folder):
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_shipped_models_and_artifacts_are_removed_at_intake_and_named(course, tmp_path):
    submit_folder(course, ASSIGNMENT, "mallory", attacker_folder(course, tmp_path))
    intake = tmp_path / "intake"
    lines = take_submission(course.root, ASSIGNMENT, "mallory", intake)
    kept = files_under(intake)
    assert kept == {"gradcam.ipynb", *KEPT}, kept
    assert len(lines) == 1 and lines[0].startswith("removed before the run:"), lines
    for relative in [gradcam.MODEL_FILE, gradcam.HEATMAPS_FILE, "artifacts/", "pretrained/best.weights.h5",
                     "checkpoints/model.h5"]:
        assert relative in lines[0], (relative, lines)
    # the scratch course the sandbox runs, from the intake or from the course directly, has none of them
    for submission in (intake, None):
        scratch = tmp_path / f"scratch-{submission is None}"
        scratch.mkdir()
        run_folder = prepare_scratch_course(course.root, ASSIGNMENT, "mallory", scratch, submission=submission)
        assert files_under(run_folder / "submitted" / "mallory" / ASSIGNMENT) == {"gradcam.ipynb", *KEPT}


def test_the_table_names_what_the_notebooks_save():
    from hwtools.assignments import kerastuner_mnist

    assert set(PRODUCED_BY_NOTEBOOK) >= {p.name for p in (REPO / "source").iterdir() if p.is_dir()}
    assert {gradcam.MODEL_FILE, gradcam.HEATMAPS_FILE} <= set(PRODUCED_BY_NOTEBOOK["gradcam"])
    assert {kerastuner_mnist.BEST_MODEL_FILE, kerastuner_mnist.BEST_HYPERPARAMETERS_FILE,
            kerastuner_mnist.TUNER_DIRECTORY + "/"} <= set(PRODUCED_BY_NOTEBOOK["kerastuner_mnist"])


def test_an_honest_submission_loses_nothing_at_intake(course, tmp_path):
    submit_folder(course, ASSIGNMENT, "honest", course.source / ASSIGNMENT)
    assert take_submission(course.root, ASSIGNMENT, "honest", tmp_path / "intake") == []
    assert files_under(tmp_path / "intake") == files_under(course.source / ASSIGNMENT)


# --- the grader's test images never reach the notebook ---------------------------------------

@pytest.mark.parametrize("mode", ["ci", "grade"])
def test_the_loader_never_returns_the_graders_images(monkeypatch, mode):
    monkeypatch.setenv("HW_MODE", mode)
    (x_train, _), (x_test, _), source = gradcam.load_mnist_tagged()
    x_grader, _, grader_source = gradcam.grader_test_split()
    assert source == grader_source and len(x_grader) == gradcam.HELD_OUT[source]
    seen = {image.tobytes() for image in np.concatenate([x_train, x_test])}
    assert not any(image.tobytes() in seen for image in x_grader)
    monkeypatch.setenv("HW_MODE", "full")  # students at home see the whole test split
    assert len(gradcam.load_mnist_tagged()[1][0]) == len(x_test) + len(x_grader)


# --- the saved model's training ------------------------------------------------------------

@pytest.mark.parametrize("how", ["reference", "dataset_no_validation", "own_validation_slice"])
def test_training_as_the_budget_says_keeps_the_accuracy_points(hidden, models, how):
    model, _ = models(how)
    hidden.test_test_accuracy(model)  # raises on failure


@pytest.mark.parametrize("how", ["longer", "notebook_test_split", "grader_images"])
def test_other_training_loses_the_accuracy_points_flagged(hidden, models, how):
    model, _ = models(how)
    with pytest.raises(ForgedWork) as failure:
        hidden.test_test_accuracy(model)
    message = str(failure.value)
    assert message.startswith(FLAGGED) and "optimizer steps" in message and "not trained by this run" in message
    fewest, most = gradcam.expected_training_steps(len(gradcam.load_mnist_tagged()[0][0]))
    assert f"trains {fewest}-{most}" in message


def test_a_model_saved_without_its_optimizer_is_flagged(hidden, build_model, tmp_path):
    model = build_model()
    model.save(tmp_path / "bare.keras")
    bare = keras.saving.load_model(tmp_path / "bare.keras", safe_mode=True)
    with pytest.raises(ForgedWork, match="optimizer"):
        hidden.test_test_accuracy(bare)


# --- whole notebooks through the hidden suite ----------------------------------------------

def test_the_reference_notebook_keeps_full_marks(repo, tmp_path):
    folder = executed_copy(repo.source / ASSIGNMENT, "gradcam.ipynb", tmp_path / "reference")
    result = suite_result(repo, ASSIGNMENT, folder)
    assert result["failed"] == set(), {name: result["messages"][name] for name in result["failed"]}


def test_a_notebook_that_loads_a_shipped_model_gets_no_training_credit(course, models, tmp_path):
    """Through the whole grader (nbgrader, sandbox, hidden suite): the shipped files are removed
    and named in the flags; the disguised copy the notebook loads loses the accuracy points."""
    from hwtools.course.autograde import autograde
    from hwtools.course.release import release_all

    _, forged_path = models("grader_images")  # near-perfect on the grader's images
    release_all(course, [ASSIGNMENT])
    submit_folder(course, ASSIGNMENT, "mallory", attacker_folder(course, tmp_path, forged_path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HW_CELL_TIMEOUT", "60")
        (result,) = autograde(course, ASSIGNMENT, students=["mallory"], workers=1)
    removed = [flag for flag in result.flags if flag.startswith("removed before the run:")]
    assert len(removed) == 1 and gradcam.MODEL_FILE in removed[0] and "artifacts/" in removed[0], result.flags
    assert "removed before the run" in result.reason
    failed = {c.id: c.message for c in result.checks if not c.passed}
    assert set(failed) == {"test_test_accuracy"}, failed
    assert failed["test_test_accuracy"].startswith(FLAGGED) and "not trained by this run" in failed["test_test_accuracy"]
    assert result.score == 20.0 - 3.0  # the rest of the work is hers; the training is not
