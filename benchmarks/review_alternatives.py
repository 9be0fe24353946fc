"""Correct alternatives to each training notebook's reference, graded in the grade budget
(issue 19, item 5): does a threshold measure the student's choices, or only the reference's?

Each alternative is the source notebook with one solution cell changed the way a correct
student might write it (another architecture, optimizer, scaler, a functional model, code
pasted from a well-known example). It is executed top to bottom in the budget given
(HW_MODE, default grade; HW_DATA, default fixture) and graded by the hidden suite. Prints one
row per alternative: the score, the measured figure the threshold applies to, and the checks
that failed with their first line. Usage:

    HW_MODE=grade python benchmarks/review_alternatives.py [assignment[:alternative,...] ...]

(HW_SEED=n runs another seed.)

docs/alternatives_review.md records the figures and what they say.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
os.environ.setdefault("HW_MODE", "grade")
os.environ.setdefault("HW_DATA", "fixture")

GRADCAM_FUNCTIONAL = '''
def build_model():
    """The assignment's CNN, written with the functional API."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for filters, name in ((32, None), (64, None), (128, LAST_CONV_LAYER)):
        x = keras.layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=name)(x)
        x = keras.layers.MaxPooling2D((2, 2))(x)
    x = keras.layers.Dense(128, activation="relu")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
'''
MEDICAL_FUNCTIONAL = '''
def build_model(n_features):
    inputs = keras.Input(shape=(n_features,))
    x = layers.Dropout(0.3)(layers.Dense(32, activation="relu")(inputs))
    x = layers.Dropout(0.3)(layers.Dense(16, activation="relu")(x))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc")])
    return model
'''


def alternatives() -> dict:
    """{assignment: [(name, what it changes, {cell grade_id: [(old, new), ...]})]}; the first is the
    reference. The key "@files" names files handed in with the notebook: {name: text}."""
    from test_hidden_gradcam import KERAS_EXAMPLE
    from test_hidden_kerastuner_choice import FULL_RUN_RECORD, FUNCTIONAL_HYPERMODEL

    from hwtools.assignments.kerastuner_mnist import CHOSEN_HYPERPARAMETERS_FILE

    medical_model = ('''    model = keras.Sequential([
        keras.Input(shape=(n_features,)),
        layers.Dense(32, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ])''')
    return {
        "gradcam": [
            ("reference", "Sequential with keras.Input, Adam, the solution's Grad-CAM", {}),
            ("functional", "the same CNN written with the functional API", {"model": [("@whole", GRADCAM_FUNCTIONAL)]}),
            ("no_input_layer", "Sequential without keras.Input (input_shape= on the first Conv2D)",
             {"model": [("keras.Input(shape=(28, 28, 1)),\n        keras.layers.Conv2D(32, (3, 3), activation=\"relu\", "
                         "padding=\"same\")", "keras.layers.Conv2D(32, (3, 3), activation=\"relu\", padding=\"same\", "
                         "input_shape=(28, 28, 1))")]}),
            ("adam_5e-4", "Adam at learning rate 5e-4 instead of the default 1e-3",
             {"model": [('optimizer="adam"', "optimizer=keras.optimizers.Adam(5e-4)")]}),
            ("keras_io_gradcam", "the keras.io Grad-CAM example pasted as make_gradcam_heatmap",
             {"gradcam": [("@whole", KERAS_EXAMPLE)]}),
        ],
        "gas_consumption": [
            ("reference", "StandardScaler, the given one-layer LSTM, Adam", {}),
            ("minmax", "MinMaxScaler for inputs and target",
             {"pipeline": [("feature_scaler = StandardScaler().fit(inputs[train_rows])",
                            "feature_scaler = MinMaxScaler().fit(inputs[train_rows])"),
                           ("target_scaler = StandardScaler().fit(consumption[train_rows, None])",
                            "target_scaler = MinMaxScaler().fit(consumption[train_rows, None])"),
                           ("### BEGIN SOLUTION\n", "### BEGIN SOLUTION\nfrom sklearn.preprocessing import MinMaxScaler\n")]}),
            ("gru", "a GRU of the same width instead of the LSTM",
             {"pipeline": [("model = build_lstm(X.shape[2])",
                            "model = keras.Sequential([keras.Input((LOOKBACK, X.shape[2])), "
                            "keras.layers.GRU(BUDGET['lstm_units']), keras.layers.Dense(1)])\n"
                            "    model.compile(optimizer=keras.optimizers.Adam(BUDGET['learning_rate']), loss='mse')")]}),
            ("rmsprop", "the given LSTM compiled with RMSprop (1e-3)",
             {"pipeline": [("model = build_lstm(X.shape[2])",
                            "model = build_lstm(X.shape[2])\n"
                            "    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss='mse')")]}),
            ("stacked_lstm", "two stacked LSTM layers (the second half as wide)",
             {"pipeline": [("model = build_lstm(X.shape[2])",
                            "model = keras.Sequential([keras.Input((LOOKBACK, X.shape[2])), "
                            "keras.layers.LSTM(BUDGET['lstm_units'], return_sequences=True), "
                            "keras.layers.LSTM(BUDGET['lstm_units'] // 2), keras.layers.Dense(1)])\n"
                            "    model.compile(optimizer=keras.optimizers.Adam(BUDGET['learning_rate']), loss='mse')")]}),
        ],
        "medical": [
            ("reference", "Dense 32-16-1 with dropout, Adam 1e-3, class weights", {}),
            ("functional", "the same network written with the functional API",
             {"train": [(medical_model + "\n    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=\"binary_crossentropy\",\n"
                         "                  metrics=[keras.metrics.AUC(name=\"auc\")])\n    return model",
                         MEDICAL_FUNCTIONAL.strip().split("\n", 1)[1])]}),
            ("batchnorm", "BatchNormalization after each hidden Dense layer",
             {"train": [('layers.Dense(32, activation="relu"),', 'layers.Dense(32), layers.BatchNormalization(), '
                         'layers.ReLU(),'),
                        ('layers.Dense(16, activation="relu"),', 'layers.Dense(16), layers.BatchNormalization(), '
                         'layers.ReLU(),')]}),
            ("rmsprop", "RMSprop (1e-3) instead of Adam",
             {"train": [("optimizer=keras.optimizers.Adam(1e-3)", "optimizer=keras.optimizers.RMSprop(1e-3)")]}),
            ("no_class_weight", "no class weights (the imbalance left to the threshold)",
             {"train": [("class_weight=class_weight, ", "")]}),
            ("logistic", "a single sigmoid unit (logistic regression)",
             {"train": [(medical_model, '    model = keras.Sequential([keras.Input(shape=(n_features,)), '
                         'layers.Dense(1, activation="sigmoid")])')]}),
        ],
        "kerastuner_mnist": [
            ("reference", "Sequential conv/pool blocks, dropout, RandomSearch", {}),
            ("functional_bn", "functional conv-BN-ReLU blocks, global average pooling, log-sampled learning rate",
             {"build_model": [("@whole", FUNCTIONAL_HYPERMODEL)]}),
            ("functional_bn_with_record", "the same, with its full run's record of its choice handed in",
             {"build_model": [("@whole", FUNCTIONAL_HYPERMODEL)],
              "@files": {CHOSEN_HYPERPARAMETERS_FILE: json.dumps(FULL_RUN_RECORD)}}),
            ("reference_with_record", "the reference, with a full run's record (3 blocks, Adam 1e-3)",
             {"@files": {CHOSEN_HYPERPARAMETERS_FILE: json.dumps(dict(FULL_RUN_RECORD, values={
                 "conv_layers": 3, "filters_0": 32, "filters_1": 64, "filters_2": 128, "kernel_size_0": 3,
                 "kernel_size_1": 3, "kernel_size_2": 3, "conv_dropout": 0.1, "dense_layers": 1, "units_0": 128,
                 "dense_dropout": 0.1, "optimizer": "adam", "learning_rate": 0.001}))}}),
        ],
        "flowers": [
            ("reference", "MobileNetV2, Rescaling(1/127.5, -1), GAP, Dropout(0.2), Adam", {}),
            ("rmsprop", "RMSprop at the budget's learning rates instead of Adam",
             {"transfer": [("optimizer=keras.optimizers.Adam(learning_rate)",
                            "optimizer=keras.optimizers.RMSprop(learning_rate)")]}),
            ("dropout_0.5", "Dropout(0.5) in the head",
             {"transfer": [("keras.layers.Dropout(0.2)(x)", "keras.layers.Dropout(0.5)(x)")]}),
            ("preprocess_input", "keras.applications.mobilenet_v2.preprocess_input on the tensor (the keras.io way)",
             {"transfer": [('x = keras.layers.Rescaling(1 / 127.5, offset=-1, name="mobilenet_v2_preprocessing")(x)',
                            "x = keras.applications.mobilenet_v2.preprocess_input(x)")]}),
            ("fine_tune_all_top_bn_frozen", "fine-tuning with the base's BatchNormalization layers kept frozen",
             {"transfer": [("for layer in base.layers[:BUDGET[\"fine_tune_at\"]]:\n    layer.trainable = False",
                            "for layer in base.layers[:BUDGET[\"fine_tune_at\"]]:\n    layer.trainable = False\n"
                            "for layer in base.layers:\n"
                            "    if isinstance(layer, keras.layers.BatchNormalization):\n"
                            "        layer.trainable = False")]}),
        ],
    }


NOTEBOOKS = {"gradcam": "gradcam.ipynb", "gas_consumption": "consumption.ipynb", "medical": "medical.ipynb",
             "flowers": "flowers.ipynb", "kerastuner_mnist": "kerastuner_mnist.ipynb"}
THRESHOLD_CHECKS = {"gradcam": "test_test_accuracy", "gas_consumption": "test_r2_above_threshold",
                    "medical": "test_test_auc", "flowers": "test_accuracy_on_grader_images",
                    "kerastuner_mnist": "test_best_model_accuracy"}


def changed_notebook(source: Path, target: Path, notebook: str, changes: dict) -> None:
    import nbformat

    shutil.copytree(source, target)
    nb = nbformat.read(str(target / notebook), as_version=4)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for name, text in changes.get("@files", {}).items():
        (target / name).write_text(text)
    for grade_id, replacements in changes.items():
        if grade_id == "@files":
            continue
        for old, new in replacements:
            if old == "@whole":
                cells[grade_id].source = new.strip()
                continue
            if old not in cells[grade_id].source:
                raise SystemExit(f"{grade_id}: {old[:60]!r} is not in the source cell")
            cells[grade_id].source = cells[grade_id].source.replace(old, new)
    nbformat.write(nb, str(target / notebook))


def measured(assignment: str, folder: Path) -> str:
    """The figure the threshold applies to, as the notebook saved it (the suite checks it is the model's)."""
    try:
        if assignment == "gas_consumption":
            return f"R^2 {json.loads((folder / 'artifacts' / 'metrics.json').read_text())['test_r2']:.3f}"
        if assignment == "medical":
            report = json.loads((folder / "artifacts" / "test_report.json").read_text())
            return f"AUC {report['auc']:.3f}, sensitivity {report['sensitivity']:.3f}"
        if assignment == "gradcam":
            import keras
            import numpy as np

            from hwtools.assignments.gradcam import MODEL_FILE, grader_test_split

            x, y, _ = grader_test_split()
            model = keras.saving.load_model(folder / MODEL_FILE, safe_mode=True)
            return f"accuracy {np.mean(model.predict(x[..., None] / 255.0, verbose=0).argmax(1) == y):.3f}"
        if assignment == "kerastuner_mnist":
            import keras
            import numpy as np

            from hwtools.assignments.kerastuner_mnist import BEST_MODEL_FILE, load_mnist_tagged
            from hwtools.grading import kit

            (x_train, _), (x, y), _ = load_mnist_tagged()
            model = keras.saving.load_model(folder / BEST_MODEL_FILE, safe_mode=True)
            scaled = lambda images: images.astype("float32")[..., None] / 255.0  # noqa: E731
            population, _ = kit.with_population_batchnorm(model, scaled(x_train[:1000]))
            as_saved = np.mean(model.predict(scaled(x), verbose=0).argmax(1) == y)
            return (f"accuracy {np.mean(population.predict(scaled(x), verbose=0).argmax(1) == y):.3f} "
                    f"(as saved, BatchNormalization statistics unchanged: {as_saved:.3f})")
        if assignment == "flowers":
            import keras
            import numpy as np
            from conftest import load_hidden_module
            from hwtools import budget
            from hwtools.assignments import flowers
            from hwtools.course import Course

            hidden = load_hidden_module(Course(REPO), "tests/hidden/flowers/conftest.py", "flowers_conftest")
            with tempfile.TemporaryDirectory() as scratch:
                tree = flowers.generate_flower_fixture(Path(scratch), hidden.GRADER_TEST_IMAGES_PER_CLASS,
                                                       seed=flowers.GRADER_FIXTURE_SEED)
                paths, labels = hidden.labelled_files(tree)
                images = hidden.decoded_images(paths, budget.budget("flowers")["image_size"])
            model = keras.saving.load_model(folder / "artifacts" / flowers.MODEL_FILE, safe_mode=True)
            return f"accuracy {np.mean(model.predict(images, verbose=0).argmax(1) == labels):.3f}"
    except Exception as err:  # a figure the notebook did not save: say so in the row
        return f"not measured ({type(err).__name__})"
    return ""


def main() -> None:
    from conftest import executed_copy, suite_result
    from hwtools import budget
    from hwtools.course import Course

    repo = Course(REPO)
    wanted = [arg.partition(":") for arg in sys.argv[1:]] or [(name, "", "") for name in NOTEBOOKS]
    print(f"mode={budget.mode()} data={os.environ['HW_DATA']} seed={os.environ.get('HW_SEED', '0')} "
          f"cores={os.cpu_count()}", flush=True)
    for assignment, _, only in wanted:
        for name, what, changes in alternatives()[assignment]:
            if only and name not in only.split(","):
                continue
            with tempfile.TemporaryDirectory(prefix="hw-review-") as scratch:
                started = time.monotonic()
                source = Path(scratch) / "source"
                changed_notebook(repo.source / assignment, source, NOTEBOOKS[assignment], changes)
                folder = executed_copy(source, NOTEBOOKS[assignment], Path(scratch) / "executed")
                result = suite_result(repo, assignment, folder)
                total = sum(c["points"] for c in result["checks"])
                failed = "; ".join(f"{c['id']}: {c['message'].splitlines()[0][:140] if c['message'] else ''}"
                                   for c in result["checks"] if not c["passed"])
                threshold = "pass" if THRESHOLD_CHECKS[assignment] not in result["failed"] else "FAIL"
                print(f"{assignment} | {name} | {what} | {result['score']:g}/{total:g} | threshold check {threshold} | "
                      f"{measured(assignment, folder)} | {time.monotonic() - started:.0f} s | {failed or '-'}",
                      flush=True)


if __name__ == "__main__":
    main()
