"""The threads a grading process computes with (``sandbox.thread_env``): one per library, in the
kernel and in the hidden suite alike, so that a submission's numbers, and its score, are the
same on every worker whatever its cores."""
from __future__ import annotations

import json

from hwtools import sandbox


def test_the_hidden_suite_computes_as_the_kernel_does(course):
    """The hidden suite's numbers (a saved model's predictions, torch's references) must not
    depend on the worker's cores: it had TensorFlow's default pools, one thread per core."""
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
