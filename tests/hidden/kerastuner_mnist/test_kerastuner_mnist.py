"""Hidden grading of kerastuner_mnist.ipynb.

The student's build_model runs in a sandboxed process, built through the notebook's locked
describe_model with hyperparameter values this suite fixes; the tuner's files and the saved
best model are read here; the best model's accuracy is measured here on the loader's test
split. Every comparison and every point stays in this process.

The accuracy measures the student's choices, not the short budget's luck (issue 19, item 5):
the run retrains the hyperparameters the student's full search recorded (handed in,
CHOSEN_HYPERPARAMETERS_FILE) when there is a record, and BatchNormalization layers are
measured with the statistics of training images, which the budget's few hundred steps leave
far from (kit.with_population_batchnorm).
"""
import ast
import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest

from hwtools import budget, seeding
from hwtools.assignments.kerastuner_mnist import (BEST_HYPERPARAMETERS_FILE, BEST_MODEL_FILE, LIMITS, TUNER_DIRECTORY,
                                                  TUNER_PROJECT, hyperparameters_to_retrain, learning_rate_of,
                                                  load_mnist_tagged)
from hwtools.checks import CheckFailure, as_float_array, assert_close, assert_shape
from hwtools.grading import kit
from hwtools.grading.notebook_defs import definition_chunks
from hwtools.grading.student import StudentCodeProblem

NOTEBOOK = "kerastuner_mnist.ipynb"
# the seed's limits, as the notebook shows them (hwtools.assignments.kerastuner_mnist.LIMITS)
MAX_CONV, MAX_DENSE = LIMITS["conv_layers"][1], LIMITS["dense_layers"][1]
MAX_FILTERS, MAX_UNITS, MAX_LR = LIMITS["filters"], LIMITS["units"], LIMITS["learning_rate"]
LOCKED_WRAPPER = ("def describe_model(hp_values):\n"
                  "    return describe_hypermodel(build_model, hp_values)")
GRADER_NAMES = ("describe_model", "describe_hypermodel")
TUNER_KEY_PREFIX = "tuner/"
BATCHNORM_IMAGES = 1000  # training images whose statistics BatchNormalization layers use when measured

seeding.seed_everything()


def settings():
    return budget.budget("kerastuner_mnist")


# --- the student's hypermodel, seen through describe_model -------------------------------

def bound_names(code: str) -> set:
    """Names a top-level statement binds."""
    node = ast.parse(code).body[0]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    stored = (n for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return {n.id for n in stored}


def without_docstring(code: str) -> str:
    tree = ast.parse(code)
    if not isinstance(tree.body[0], ast.FunctionDef):
        return code
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        tree.body[0].body = body[1:]
    return ast.unparse(tree)


def wrapper_problem(notebook_path: Path) -> str | None:
    """Why the grader's describe_model cannot be trusted in this notebook, or None."""
    bindings = {name: [] for name in GRADER_NAMES}
    for chunk in definition_chunks(notebook_path):
        names = bound_names(chunk["code"]) if "code" in chunk else set()
        for name in names & set(GRADER_NAMES):
            bindings[name].append(chunk["code"])
    wrappers, helpers = bindings["describe_model"], bindings["describe_hypermodel"]
    if len(wrappers) != 1 or without_docstring(wrappers[0]) != LOCKED_WRAPPER:
        return "describe_model must be the notebook's locked cell, defined once and unchanged"
    if len(helpers) != 1 or "from hwtools.assignments.kerastuner_mnist import" not in helpers[0]:
        return "describe_hypermodel must be hwtools' (imported once in the setup cell, never redefined)"
    return None


@pytest.fixture(scope="module")
def notebook(student, submission_dir):
    problem = wrapper_problem(submission_dir / NOTEBOOK)
    if problem:
        raise CheckFailure(problem)
    return student(NOTEBOOK, timeout_s=settings()["hidden_call_timeout_s"])


def describe(notebook, values: dict) -> dict:
    """build_model with these values fixed, as plain data; a failure names the values."""
    shown = json.dumps(values, sort_keys=True, default=str)
    try:
        description = notebook.call("describe_model", values).value
    except StudentCodeProblem as err:
        raise CheckFailure(f"build_model failed with hyperparameters {shown}: {err}") from None
    if not isinstance(description, dict) or not {"space", "layers", "optimizer", "output"} <= set(description):
        raise CheckFailure(f"describe_model returned {type(description).__name__}, not the model's description")
    description["fixed"] = values
    return description


def corner(space: list, which: str) -> dict:
    """Values at the low or high end of every registered range ("deep": high counts, low rest)."""
    values = {}
    for entry in space:
        name, kind = entry["name"], entry["type"]
        high = which == "high" or (which == "deep" and name in ("conv_layers", "dense_layers"))
        if kind in ("Int", "Float"):
            values[name] = entry["max_value"] if high else entry["min_value"]
        elif kind == "Choice":
            options = entry["values"]
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in options)
            values[name] = (max(options) if high else min(options)) if numeric else options[-1 if high else 0]
        elif kind == "Boolean":
            values[name] = high
    return values


@pytest.fixture(scope="module")
def explored(notebook):
    return explore(notebook)


def explore(notebook):
    """(the registered space by name, the descriptions built): defaults and three corners,
    each repeated until no new hyperparameter appears (per-layer ones appear with depth)."""
    space, descriptions = {}, []
    for which in ("default", "low", "high", "deep"):
        values = {}
        for _ in range(4):
            description = describe(notebook, values)
            descriptions.append(description)
            for entry in description["space"]:
                space.setdefault(entry["name"], entry)
            if which == "default":
                break
            following = corner(list(space.values()), which)
            if following == values:
                break
            values = following
    return space, descriptions


def upper(entry: dict) -> float:
    if entry["type"] == "Choice":
        return max(entry["values"])
    if entry["type"] == "Fixed":
        return entry["value"]
    return entry["max_value"]


def lower(entry: dict) -> float:
    if entry["type"] == "Choice":
        return min(entry["values"])
    if entry["type"] == "Fixed":
        return entry["value"]
    return entry["min_value"]


def conv_layers_of(layers):
    return [layer for layer in layers if layer["type"] in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")]


def hidden_dense_of(layers):
    dense = [layer for layer in layers if layer["type"] == "Dense"]
    return dense[:-1]


def limit_problems(layers, optimizer, learning_rate) -> list:
    """What in one built model breaks the seed's limits."""
    problems = []
    convs, dense = conv_layers_of(layers), hidden_dense_of(layers)
    if not 1 <= len(convs) <= MAX_CONV:
        problems.append(f"{len(convs)} convolutional layers (1 to {MAX_CONV})")
    if any(c.get("filters", 0) > MAX_FILTERS for c in convs):
        problems.append(f"filters {[c.get('filters') for c in convs]} (at most {MAX_FILTERS})")
    if len(dense) > MAX_DENSE:
        problems.append(f"{len(dense)} hidden dense layers (at most {MAX_DENSE})")
    if any(d["units"] > MAX_UNITS for d in dense):
        problems.append(f"units {[d['units'] for d in dense]} (at most {MAX_UNITS})")
    if not isinstance(learning_rate, float) or not 0 < learning_rate <= MAX_LR * (1 + 1e-6):
        problems.append(f"learning rate {learning_rate} (at most {MAX_LR:g})")
    if optimizer is None:
        problems.append("no optimizer (the model is not compiled)")
    return problems


@pytest.mark.points(1, group="hidden_search_space")
def test_required_hyperparameters(explored):
    """hyperparameters conv_layers, dense_layers, filters_i, units_i, optimizer (Adam and another), learning_rate registered"""
    space, _ = explored
    for name, kinds in (("conv_layers", ("Int",)), ("dense_layers", ("Int",)), ("filters_0", ("Int", "Choice")),
                        ("optimizer", ("Choice",)), ("learning_rate", ("Float", "Choice"))):
        if name not in space:
            raise CheckFailure(f"build_model never registers the hyperparameter {name!r} (found {sorted(space)})")
        if space[name]["type"] not in kinds:
            raise CheckFailure(f"{name} must be searched with hp.{' or hp.'.join(kinds)}, found {space[name]['type']}")
    if not any(name.startswith("units_") for name in space) and upper(space["dense_layers"]) > 0:
        raise CheckFailure("dense layers are searched but no units_0, units_1, ... hyperparameter is registered")
    options = [str(v).lower() for v in space["optimizer"]["values"]]
    if "adam" not in options or len(set(options)) < 2:
        raise CheckFailure(f"optimizer must choose between Adam and at least one other, found {options}")
    if upper(space["conv_layers"]) <= lower(space["conv_layers"]):
        raise CheckFailure("conv_layers must be searched over more than one value")


@pytest.mark.points(1, group="hidden_search_space")
def test_ranges_within_limits(explored):
    """ranges within the seed's limits: 1-5 conv layers, 0-5 dense layers, <= 256 filters and units, learning rate <= 1e-3"""
    space, _ = explored
    bounds = {"conv_layers": (1, MAX_CONV), "dense_layers": (0, MAX_DENSE), "learning_rate": (1e-12, MAX_LR)}
    for name, entry in space.items():
        if name.startswith("filters_"):
            low, high = 1, MAX_FILTERS
        elif name.startswith("units_"):
            low, high = 1, MAX_UNITS
        elif name in bounds:
            low, high = bounds[name]
        else:
            continue
        if not low <= lower(entry) <= upper(entry) <= high * (1 + 1e-9):
            raise CheckFailure(f"{name} ranges over [{lower(entry)}, {upper(entry)}]; the limit is [{low:g}, {high:g}]")


@pytest.mark.points(1, group="hidden_search_space")
def test_corner_models_within_limits(explored):
    """models built at the corners of the space keep the same limits (layers, filters, units, learning rate, compiled)"""
    _, descriptions = explored
    for description in descriptions:
        problems = limit_problems(description["layers"], description["optimizer"], description["learning_rate"])
        if problems:
            raise CheckFailure(f"with hyperparameters {json.dumps(description['fixed'], default=str)} the model "
                               f"breaks the limits: {'; '.join(problems)}")


@pytest.mark.points(1, group="hidden_search_space")
def test_corners_build_with_convolution_and_pooling(explored):
    """every corner builds, compiles and outputs 10 softmax probabilities, with a convolution and a pooling layer"""
    _, descriptions = explored
    for description in descriptions:
        fixed = json.dumps(description["fixed"], default=str)
        if not description.get("compiled"):
            raise CheckFailure(f"with hyperparameters {fixed} build_model returns a model that is not compiled")
        output = as_float_array(description["output"], "model output")
        assert_shape(output, (2, 10), f"output of the model built with {fixed}")
        assert_close(output.sum(axis=1), np.ones(2), rtol=0, atol=1e-3, name="class probabilities (softmax) summed")
        types = [layer["type"] for layer in description["layers"]]
        if not conv_layers_of(description["layers"]) or not any(t.endswith("Pooling2D") for t in types):
            raise CheckFailure(f"with hyperparameters {fixed} the model has no convolution or no pooling layer: {types}")


def sample(entry: dict, rng):
    """A value inside the student's own range for one hyperparameter."""
    if entry["type"] == "Choice":
        return entry["values"][int(rng.integers(len(entry["values"])))]
    if entry["type"] == "Fixed":
        return entry["value"]
    if entry["type"] == "Int":
        step = 1 if entry.get("sampling") == "log" else entry.get("step") or 1
        return int(entry["min_value"] + step * int(rng.integers((entry["max_value"] - entry["min_value"]) // step + 1)))
    return float(np.exp(rng.uniform(np.log(entry["min_value"]), np.log(entry["max_value"]))))


def layer_assignment(space: dict, rng) -> dict:
    values = {"conv_layers": sample(space["conv_layers"], rng), "dense_layers": sample(space["dense_layers"], rng)}
    for i in range(values["conv_layers"]):
        values[f"filters_{i}"] = sample(space[f"filters_{i}"], rng) if f"filters_{i}" in space else None
    for i in range(values["dense_layers"]):
        values[f"units_{i}"] = sample(space[f"units_{i}"], rng) if f"units_{i}" in space else None
    return values


@pytest.mark.points(2, group="hidden_hp_control")
def test_fixed_values_set_the_layers(notebook, explored, rng):
    """fixed conv_layers, filters_i, dense_layers, units_i build exactly those layers with those widths"""
    space, _ = explored
    for name in ("conv_layers", "dense_layers"):
        if name not in space:
            raise CheckFailure(f"build_model never registers {name!r}: the grader cannot set the depth")
    for _ in range(3):
        values = layer_assignment(space, rng)
        missing = [name for name, value in values.items() if value is None]
        if missing:
            raise CheckFailure(f"with conv_layers={values['conv_layers']} and dense_layers={values['dense_layers']} "
                               f"the hyperparameters {missing} are never registered")
        layers = describe(notebook, values)["layers"]
        filters = [layer.get("filters") for layer in conv_layers_of(layers)]
        units = [layer["units"] for layer in hidden_dense_of(layers)]
        wanted_filters = [values[f"filters_{i}"] for i in range(values["conv_layers"])]
        wanted_units = [values[f"units_{i}"] for i in range(values["dense_layers"])]
        if filters != wanted_filters:
            raise CheckFailure(f"with {json.dumps(values)} the convolutions have filters {filters}, "
                               f"expected {wanted_filters}")
        if units != wanted_units:
            raise CheckFailure(f"with {json.dumps(values)} the hidden dense layers have units {units}, "
                               f"expected {wanted_units}")


@pytest.mark.points(2, group="hidden_hp_control")
def test_fixed_values_set_the_optimizer(notebook, explored, rng):
    """fixed optimizer and learning_rate build that optimizer with that learning rate"""
    space, _ = explored
    for name in ("optimizer", "learning_rate"):
        if name not in space:
            raise CheckFailure(f"build_model never registers {name!r}")
    for choice in space["optimizer"].get("values", []):
        learning_rate = sample(space["learning_rate"], rng)
        description = describe(notebook, {"optimizer": choice, "learning_rate": learning_rate})
        if str(description["optimizer"]).lower() != str(choice).lower():
            raise CheckFailure(f"optimizer={choice!r} gave a {description['optimizer']} optimizer")
        if not isinstance(description["learning_rate"], float):
            raise CheckFailure(f"learning_rate={learning_rate:g} gave a learning rate of {description['learning_rate']}")
        assert_close(description["learning_rate"], learning_rate, rtol=1e-5,
                     name=f"learning rate of {choice} with learning_rate={learning_rate:g}")


# --- the tuner's files ---------------------------------------------------------------------

def completed_trials(submission_dir: Path) -> list:
    project = submission_dir / TUNER_DIRECTORY / TUNER_PROJECT
    if not (project / "oracle.json").is_file():
        raise CheckFailure(f"no search found in {TUNER_DIRECTORY}/{TUNER_PROJECT}/ (did the search cell run, with "
                           "the directory and project name asked for?)")
    trials = []
    for path in sorted(project.glob("trial_*/trial.json")):
        shown = f"{TUNER_DIRECTORY}/{TUNER_PROJECT}/{path.parent.name}/trial.json"
        trial = kit.json_object(path, shown, "let the tuner write its own files")
        kit.required_keys(trial, ("trial_id", "status"), shown)
        if trial["status"] == "COMPLETED":
            kit.required_keys(trial, ("score", "hyperparameters", "metrics"), shown)
            kit.required_keys(trial["hyperparameters"], ("values",), f"{shown}: hyperparameters")
            kit.returned_number(trial["score"], f"{shown}: score")
            trials.append(trial)
    return trials


def best_observation(trial: dict, metric: str):
    observations = trial.get("metrics", {}).get("metrics", {}).get(metric, {}).get("observations", [])
    values = [value for o in observations for value in o.get("value", [])]
    return max(values) if values else None


def tunable(values: dict) -> dict:
    return {k: v for k, v in values.items() if not k.startswith(TUNER_KEY_PREFIX)}


@pytest.mark.points(1, group="hidden_search")
def test_search_completed_within_budget(submission_dir):
    """search: at least the budget's number of completed trials, objective val_accuracy, each trial within the limits"""
    trials = completed_trials(submission_dir)
    needed = settings()["min_completed_trials"]
    if len(trials) < needed:
        raise CheckFailure(f"{len(trials)} completed trials, the {budget.mode()} budget asks for at least {needed}")
    for trial in trials:
        val_accuracy = best_observation(trial, "val_accuracy")
        if val_accuracy is None or not math.isclose(trial["score"], val_accuracy, rel_tol=1e-6):
            raise CheckFailure(f"trial {trial['trial_id']} is scored {trial['score']}, not on val_accuracy "
                               f"({val_accuracy}): the objective must be 'val_accuracy'")
        values = trial["hyperparameters"]["values"]
        if not 1 <= values.get("conv_layers", 0) <= MAX_CONV or values.get("learning_rate", 1) > MAX_LR * (1 + 1e-9):
            raise CheckFailure(f"trial {trial['trial_id']} searched outside the limits: {tunable(values)}")


def saved_best_values(submission_dir: Path) -> dict:
    path = submission_dir / BEST_HYPERPARAMETERS_FILE
    if not path.is_file():
        raise CheckFailure(f"{BEST_HYPERPARAMETERS_FILE} was not saved by the notebook")
    try:
        values = json.loads(path.read_text())
    except ValueError:
        raise CheckFailure(f"{BEST_HYPERPARAMETERS_FILE} is not JSON") from None
    if not isinstance(values, dict):
        raise CheckFailure(f"{BEST_HYPERPARAMETERS_FILE} must hold a dict of hyperparameter values")
    return values


def same_values(found: dict, expected: dict) -> bool:
    if set(found) != set(expected):
        return False
    return all(math.isclose(found[k], v, rel_tol=1e-9) if isinstance(v, float) else found[k] == v
               for k, v in expected.items())


@pytest.mark.points(1, group="hidden_search")
def test_saved_hyperparameters_are_the_best_trial(submission_dir):
    """the saved best hyperparameters are those of the completed trial with the highest val_accuracy"""
    trials = completed_trials(submission_dir)
    if not trials:
        raise CheckFailure("no completed trial")
    best_score = max(trial["score"] for trial in trials)
    saved = tunable(saved_best_values(submission_dir))
    candidates = [tunable(t["hyperparameters"]["values"]) for t in trials if t["score"] == best_score]
    if not any(same_values(saved, values) for values in candidates):
        raise CheckFailure(f"saved hyperparameters {saved} are not the best trial's ({candidates[0]}, "
                           f"val_accuracy {best_score:.4f})")


# --- the saved best model ------------------------------------------------------------------

@pytest.fixture(scope="module")
def best_model(submission_dir):
    return load_best_model(submission_dir)


def load_best_model(submission_dir: Path):
    if not (submission_dir / BEST_MODEL_FILE).is_file():
        raise CheckFailure(f"{BEST_MODEL_FILE} was not saved by the notebook (did the retraining cell run?)")
    return kit.load_model(submission_dir / BEST_MODEL_FILE, BEST_MODEL_FILE,
                          "it was not saved by the notebook (did the retraining cell run?)")


def architecture(model) -> list:
    """(type, filters, units, kernel) of every leaf layer, read by the grader from the model."""
    leaves = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if hasattr(layer, "layers"):
            leaves.extend(architecture(layer))
            continue
        config = layer.get_config()
        kernel = config.get("kernel_size")
        leaves.append((type(layer).__name__, config.get("filters"), config.get("units"),
                       list(kernel) if isinstance(kernel, (list, tuple)) else kernel))
    return leaves


def described_architecture(layers: list) -> list:
    return [(layer["type"], layer.get("filters"), layer.get("units"), layer.get("kernel_size")) for layer in layers]


def retrained_values(submission_dir: Path) -> tuple[dict, str]:
    """(the values the notebook retrained the saved model at, where they come from): its full
    search's recorded choice when handed in, else the best trial's. hwtools decides, for the
    notebook and the grader alike."""
    return hyperparameters_to_retrain(tunable(saved_best_values(submission_dir)), submission_dir)


def outside_space(values: dict, space: list) -> list:
    """The values that lie outside the ranges build_model registers (a record not from its search)."""
    outside = []
    for entry in space:
        name, value = entry["name"], values.get(entry["name"])
        if value is None:
            continue
        if entry["type"] == "Choice" and value not in entry.get("values", []):
            outside.append(f"{name}={value!r} (choices {entry.get('values')})")
        elif entry["type"] in ("Int", "Float") and not (isinstance(value, (int, float)) and
                                                         entry["min_value"] <= value <= entry["max_value"]):
            outside.append(f"{name}={value!r} (range {entry['min_value']} to {entry['max_value']})")
    return outside


@pytest.mark.points(1, group="hidden_best_model")
def test_best_model_is_the_hypermodel_at_the_best_values(best_model, notebook, submission_dir):
    """the saved model is build_model at the values it was retrained at (your full search's, else the best trial's), within limits"""
    values, chosen_by = retrained_values(submission_dir)
    description = describe(notebook, values)
    outside = outside_space(values, description["space"])
    if outside:
        raise CheckFailure(f"the hyperparameters retrained ({chosen_by}) lie outside your build_model's space: "
                           f"{'; '.join(outside)}")
    expected = described_architecture(description["layers"])
    found = architecture(best_model)
    if found != expected:
        raise CheckFailure(f"the saved model's layers {found} are not build_model's at {values} ({chosen_by}): "
                           f"{expected}")
    optimizer = type(best_model.optimizer).__name__ if best_model.optimizer is not None else None
    learning_rate = learning_rate_of(best_model.optimizer) if optimizer else None
    layers = [{"type": t, "filters": f, "units": u} for t, f, u, _ in found]
    problems = limit_problems(layers, optimizer, learning_rate)
    if problems:
        raise CheckFailure(f"the saved model breaks the limits: {'; '.join(problems)}")


@pytest.mark.points(3, group="hidden_best_model")
def test_best_model_accuracy(best_model, submission_dir):
    """test accuracy of the best model, retrained at your full search's chosen values (if handed in), >= the budget's threshold"""
    (x_train, _), (x_test, y_test), source = load_mnist_tagged()
    threshold = settings()["min_test_accuracy"][source]
    _, chosen_by = retrained_values(submission_dir)
    # BatchNormalization's moving statistics set to what the full budget's training converges to
    # (the short budget leaves most of their start in them: kit.with_population_batchnorm)
    model, n_batchnorm = kit.with_population_batchnorm(best_model, scaled(x_train[:BATCHNORM_IMAGES]))
    note = f"; its {n_batchnorm} BatchNormalization layers use statistics of {BATCHNORM_IMAGES} training images" \
        if n_batchnorm else ""
    kit.check_accuracy(model, scaled(x_test), y_test, threshold, on=f"{source} test images", n_classes=10,
                       batch_size=500, metric="test_accuracy",
                       budget_note=f"the {budget.mode()} budget's threshold; the model was retrained at {chosen_by}{note}")


def scaled(images):
    return images.astype("float32")[..., np.newaxis] / 255.0


# --- prepare_splits ------------------------------------------------------------------------

def split_case(rng):
    """Distinct random training and test images, and what prepare_splits returns for them."""
    n_images, n_test = 240, 60
    images = rng.integers(0, 256, size=(n_images + n_test, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_images + n_test).astype(np.uint8)
    return images[:n_images], labels[:n_images], images[n_images:], labels[n_images:]


def returned_splits(notebook, rng, n_train=200, fraction=0.25):
    x_train, y_train, x_test, y_test = split_case(rng)
    result = notebook.call("prepare_splits", x_train, y_train, x_test, y_test, n_train, fraction, seed=3).value
    if not (isinstance(result, (tuple, list)) and len(result) == 3
            and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in result)):
        raise CheckFailure("prepare_splits must return ((x_fit, y_fit), (x_val, y_val), (x_test, y_test))")
    splits = [(as_float_array(x, "images"), as_float_array(y, "labels")) for x, y in result]
    return (x_train, y_train, x_test, y_test), splits, result


def origins(images: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Index in pool of each scaled image (-1 where it is none of them)."""
    index_of = {image.tobytes(): i for i, image in enumerate(pool)}
    restored = np.round(images[..., 0] * 255).astype(np.uint8) if images.ndim == 4 else images.astype(np.uint8)
    return np.array([index_of.get(image.tobytes(), -1) for image in restored])


@pytest.mark.points(1, group="hidden_splits")
def test_splits_scaled_and_sized(notebook, rng):
    """prepare_splits: float32 (N, 28, 28, 1) in [0, 1], n_train split by validation_fraction, the test set complete"""
    (x_train, _, x_test, _), splits, raw = returned_splits(notebook, rng)
    for (x, y), name, raw_pair in zip(splits, ("fit", "validation", "test"), raw):
        if getattr(raw_pair[0], "dtype", None) != np.float32:
            raise CheckFailure(f"{name} images must be a float32 numpy array, got {getattr(raw_pair[0], 'dtype', None)}")
        if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
            raise CheckFailure(f"{name} images must have shape (N, 28, 28, 1), got {x.shape}")
        if x.min() < 0 or x.max() > 1 or x.max() < 0.9:
            raise CheckFailure(f"{name} pixels must be scaled to [0, 1] (divided by 255)")
        assert_shape(y, (len(x),), f"{name} labels (integers, one per image)")
    sizes = [len(x) for x, _ in splits]
    if sizes[0] + sizes[1] != 200 or abs(sizes[1] - 50) > 1:
        raise CheckFailure(f"with n_train=200 and validation_fraction=0.25: fit and validation sizes {sizes[:2]}, "
                           "expected 150 and 50")
    if sizes[2] != len(x_test):
        raise CheckFailure(f"the test set must stay complete: {sizes[2]} of {len(x_test)} images")


@pytest.mark.points(1, group="hidden_splits")
def test_validation_comes_from_training_images(notebook, rng):
    """prepare_splits: validation images are training images with their labels, disjoint from the fit set, never test images"""
    (x_train, y_train, x_test, y_test), splits, _ = returned_splits(notebook, rng)
    (x_fit, y_fit), (x_val, y_val), (x_out, y_out) = splits
    if (origins(x_val, x_test) >= 0).any():
        raise CheckFailure("validation images come from the test set: models would be selected on test data")
    fit_from, val_from = origins(x_fit, x_train), origins(x_val, x_train)
    if (fit_from < 0).any() or (val_from < 0).any():
        raise CheckFailure("fit and validation images must be the training images, scaled (images changed or lost)")
    if set(fit_from) & set(val_from) or len(set(val_from)) != len(val_from):
        raise CheckFailure("validation images also appear in the fit set (or twice): the split must be disjoint")
    assert_close(y_val, y_train[val_from].astype(float), name="validation labels (pairs must stay together)")
    assert_close(y_fit, y_train[fit_from].astype(float), name="fit labels (pairs must stay together)")
    test_from = origins(x_out, x_test)
    if sorted(test_from.tolist()) != list(range(len(x_test))):
        raise CheckFailure("the returned test set is not the given test images")
    assert_close(y_out, y_test[test_from].astype(float), name="test labels")
