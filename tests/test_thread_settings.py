"""The threads a grading process computes with (``sandbox.thread_env``): one thread per sum, so
the numbers are the same on every machine, and TensorFlow's inter-op pool on every core the
process may use, so a lone worker and the last submissions of a run take the idle cores,
without changing a bit of what they compute."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from hwtools import sandbox

# a seeded fit with two independent branches (ops the inter-op pool may run at once), a batch
# normalisation and a mean loss (sums an intra-op pool would split); prints its weights' digest
FIT = """
import hashlib
import numpy as np, keras
keras.utils.set_random_seed(0)
x = np.random.default_rng(0).normal(size=(256, 16, 16, 3)).astype("float32")
y = np.random.default_rng(1).integers(0, 4, 256)
inputs = keras.Input((16, 16, 3))
left = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
right = keras.layers.Conv2D(8, 3, activation="relu")(inputs)
h = keras.layers.BatchNormalization()(keras.layers.Concatenate()([left, right]))
model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h)))
model.compile("adam", "sparse_categorical_crossentropy")
model.fit(x, y, batch_size=64, epochs=2, verbose=0)
print(hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in model.get_weights())).hexdigest())
"""


def fitted_digest(settings: dict) -> str:
    env = dict(os.environ, **settings, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", FIT], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()[-1]


def test_parallel_ops_leave_a_fit_the_same_bit_for_bit():
    one = fitted_digest(sandbox.thread_env(1, parallel_ops=1))
    assert fitted_digest(sandbox.thread_env(1, parallel_ops=2)) == one
    # what the check can see: a second thread in every sum changes the weights, which is why
    # the arithmetic stays at one thread whatever the cores
    assert fitted_digest(sandbox.thread_env(2, parallel_ops=1)) != one


def settings_on(cores: set[int]) -> dict:
    """thread_env(1) in a process that may run on CORES only."""
    code = (f"import json, os; os.sched_setaffinity(0, {sorted(cores)!r}); from hwtools import sandbox; "
            "print(json.dumps(sandbox.thread_env(1)))")
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_parallel_ops_follow_the_cores_the_process_may_use():
    cores = os.sched_getaffinity(0)
    one_core = settings_on({min(cores)})
    every_core = settings_on(cores)
    assert one_core["TF_NUM_INTEROP_THREADS"] == "1"
    assert every_core["TF_NUM_INTEROP_THREADS"] == str(min(len(cores), sandbox.MAX_PARALLEL_OPS))
    for settings in (one_core, every_core):
        assert {settings[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "TF_NUM_INTRAOP_THREADS")} == {"1"}


def test_the_hidden_suite_computes_as_the_kernel_does(course):
    """The hidden suite's numbers (a saved model's predictions, torch's references) must not
    depend on the worker's cores either: it runs with the kernel's thread settings."""
    from hwtools.grading import hidden_runner

    files = sandbox.make_scratch("test-files-")
    seen = files / "environment.json"
    suite = course.hidden_tests / "threads"
    suite.mkdir(parents=True)
    (suite / "test_threads.py").write_text(f"import json, os\n\ndef test_dump():\n"
                                           f"    open({str(seen)!r}, 'w').write(json.dumps(dict(os.environ)))\n")
    assert hidden_runner.run_hidden_suite(course, "threads", files, timeout_s=120)["status"] == "ok"
    environment = json.loads(seen.read_text())
    assert {k: environment.get(k) for k in sandbox.thread_env(1)} == sandbox.thread_env(1)
