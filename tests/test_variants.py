"""hwtools.variants: a student's numbers are drawn from their id, the same on every run and
machine, different between students; the id comes from the argument, the grader's
HW_STUDENT_ID, the JupyterHub user, NB_USER, then the login name."""
import getpass
import os
import subprocess
import sys

import pytest

from hwtools import variants

ID_VARIABLES = ("HW_STUDENT_ID", "JUPYTERHUB_USER", "NB_USER")


@pytest.fixture
def no_ids(monkeypatch):
    for name in ID_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_same_student_gets_the_same_numbers_in_another_process():
    here = variants.for_student("cnn_arithmetic", "ann").values
    code = "from hwtools import variants; print(repr(variants.for_student('cnn_arithmetic', 'ann').values))"
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env=dict(os.environ, PYTHONHASHSEED="123")).stdout.strip()
    assert there == repr(here)


def test_students_get_different_numbers():
    drawn = [repr(variants.for_student("cnn_arithmetic", f"s{i}").values) for i in range(30)]
    assert len(set(drawn)) == 30
    assert variants.variant_seed("cnn_arithmetic", "ann") != variants.variant_seed("batchnorm", "ann")


def test_the_id_comes_from_the_argument_then_the_grader_then_the_hub_then_the_login(no_ids):
    assert variants.student_id() == getpass.getuser()
    no_ids.setenv("NB_USER", "nb")
    assert variants.student_id() == "nb"
    no_ids.setenv("JUPYTERHUB_USER", "hub")
    assert variants.student_id() == "hub"
    no_ids.setenv("HW_STUDENT_ID", "graded")
    assert variants.student_id() == "graded"
    assert variants.for_student("cnn_arithmetic").student == "graded"
    assert variants.for_student("cnn_arithmetic", "ann").student == "ann"
    assert variants.for_student("cnn_arithmetic") == variants.for_student("cnn_arithmetic", "graded")


def test_an_empty_id_or_an_assignment_without_variants_is_refused():
    with pytest.raises(ValueError):
        variants.for_student("cnn_arithmetic", " ")
    with pytest.raises(ValueError, match="no per-student variants"):
        variants.for_student("batchnorm", "ann")
    with pytest.raises(ValueError):
        variants.for_student("../cnn_arithmetic", "ann")


def test_a_variant_shows_its_numbers_as_markdown():
    variant = variants.for_student("cnn_arithmetic", "ann")
    assert variant._repr_markdown_().startswith("Variant of **ann** for cnn_arithmetic")
    assert variant.describe("fc_bn") in variant.describe()
