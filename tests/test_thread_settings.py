"""The threads a grading process computes with (``sandbox.thread_env``): one per library, in the
kernel and in the hidden suite alike, so that a submission's numbers, and its score, are the
same on every worker whatever its cores."""
from __future__ import annotations

from conftest import hidden_suite_environment
from hwtools import sandbox


def test_the_hidden_suite_computes_as_the_kernel_does(course):
    """The hidden suite's numbers (a saved model's predictions, torch's references) must not
    depend on the worker's cores: it had TensorFlow's default pools, one thread per core."""
    environment = hidden_suite_environment(course)
    assert {k: environment.get(k) for k in sandbox.thread_env(1)} == sandbox.thread_env(1)
