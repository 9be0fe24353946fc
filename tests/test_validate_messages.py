"""`hw validate` as a student runs it (issue 20, item 7): the first real error of the run in
full (the data loader's own message, not only the NameErrors it causes), no line cut at "...",
none of nbgrader's or the kernel's log noise, and the parts that still raise
NotImplementedError named, even where the public tests do not reach them."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO
from hwtools.course.validate import PUBLIC_TESTS_PASSED

BIN = Path(sys.executable).parent
NOISE = ("No nbgrader_config.py file found", "without encryption", "oneDNN", "absl::InitializeLog")


def validate(folder: Path, notebook: str, **env) -> subprocess.CompletedProcess:
    """`hw validate <assignment>/<notebook>` from the folder holding the assignment's folder."""
    full_env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", **env)
    full_env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # (a student's shell does not set it)
    return subprocess.run([str(BIN / "hw"), "validate", notebook], cwd=folder, env=full_env, capture_output=True,
                          text=True, timeout=600)


def test_offline_gradcam_release_shows_the_loader_message_first_and_in_full(tmp_path):
    shutil.copytree(REPO / "release" / "gradcam", tmp_path / "gradcam")
    home = tmp_path / "home"  # no ~/.keras/datasets/mnist.npz, and no network: the download is refused
    home.mkdir()
    closed = "http://127.0.0.1:9"
    done = validate(tmp_path, "gradcam/gradcam.ipynb", HW_DATA="real", HOME=str(home), KERAS_HOME=str(home / ".keras"),
                    https_proxy=closed, HTTPS_PROXY=closed, http_proxy=closed, HTTP_PROXY=closed)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    first = output.index("The first error of the run, in cell 4")
    loader = output.index("DataUnavailable: could not load MNIST (")
    assert first < loader < output.index("NameError: name 'x_train_raw' is not defined")
    assert "set HW_MNIST_PATH, or set HW_DATA=fixture to use the offline fixture" in output  # the whole message
    assert 'assert xs.shape == (200, 28, 28) and ys.shape == (200,), "shuffling must keep the shapes"' in output
    assert not [line for line in output.splitlines() if line.endswith("...")]
    assert not [noise for noise in NOISE if noise in output]
    assert "the notebook's cell 5 (shuffle), in shuffle_training_set: raise NotImplementedError()" in output
    assert PUBLIC_TESTS_PASSED not in output


def test_a_branch_the_public_tests_miss_is_named_as_unfinished(tmp_path):
    solved = shutil.copytree(REPO / "source" / "batchnorm", tmp_path / "batchnorm")
    module = solved / "forward_batchnorm.py"
    text = module.read_text()
    test_mode = ("        xhat = (x - running_mean) / np.sqrt(running_var + eps)\n        out = gamma * xhat + beta\n"
                 "        cache = (x, xhat, running_mean, running_var, gamma, eps)\n")
    assert test_mode in text
    module.write_text(text.replace(test_mode, '        raise NotImplementedError("test mode later")\n'))
    done = validate(tmp_path, "batchnorm/batchnorm.ipynb")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Public tests passed, but the work is not finished: 1 part(s) still raise NotImplementedError" in output
    assert 'forward_batchnorm.py line 44, in batchnorm_forward: raise NotImplementedError("test mode later")' in output
    assert PUBLIC_TESTS_PASSED not in output and not [noise for noise in NOISE if noise in output]

    module.write_text(text)  # finished: the plain pass, still worded for the public tests only
    done = validate(tmp_path, "batchnorm/batchnorm.ipynb")
    assert done.returncode == 0 and PUBLIC_TESTS_PASSED in done.stdout, done.stdout + done.stderr
