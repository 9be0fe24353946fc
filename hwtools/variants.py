"""Per-student variants: an assignment's numbers drawn for one student, seeded from the
student's id, so every run gives a student the same numbers and two students different ones.

A notebook calls ``variant = hwtools.variants.for_student("cnn_arithmetic")`` and shows the
student their configuration (``variant.show("q5")``). The student id is, first found:

1. the ``student`` argument;
2. ``HW_STUDENT_ID``, which the autograder sets in the kernel of the notebook it runs;
3. ``JUPYTERHUB_USER`` (the JupyterHub user, which nbgrader's exchange takes as the student id);
4. ``NB_USER``;
5. the login name.

What a notebook computes here is for showing only: the hidden suite draws the variant again
from the id the grader passes it (``--hw-student``), never from anything the submission says.
An assignment that has variants defines ``draw_variant(rng) -> dict`` (plain numbers and
lists) and ``describe_variant(values, part) -> str`` (Markdown) in ``hwtools.assignments``.
"""
from __future__ import annotations

import getpass
import hashlib
import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

STUDENT_VARIABLE = "HW_STUDENT_ID"
ID_VARIABLES = (STUDENT_VARIABLE, "JUPYTERHUB_USER", "NB_USER")


def student_id(student: str | None = None) -> str:
    """The id whose variant this is (the order is in the module's docstring)."""
    if student is not None:
        if not str(student).strip():
            raise ValueError("a student id must not be empty")
        return str(student).strip()
    for name in ID_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return getpass.getuser()


def variant_seed(assignment: str, student: str) -> int:
    """A 128-bit seed from the assignment and the student id (SHA-256: the same on every
    machine and Python, unlike ``hash``)."""
    digest = hashlib.sha256(f"hwtools variant\0{assignment}\0{student}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


@dataclass(frozen=True)
class Variant(Mapping):
    """One student's numbers of one assignment; read like a dict (``variant["q5"]``)."""
    assignment: str
    student: str
    values: Mapping

    def __getitem__(self, key):
        return self.values[key]

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)

    def describe(self, part: str | None = None) -> str:
        """Markdown of PART of the configuration (all of it by default)."""
        module = _assignment_module(self.assignment)
        return module.describe_variant(self.values, part)

    def show(self, part: str | None = None):
        """Display PART of the configuration in the notebook (printed outside IPython)."""
        text = self.describe(part)
        try:
            from IPython.display import Markdown, display
        except ImportError:
            print(text)
            return
        display(Markdown(text))

    def _repr_markdown_(self) -> str:
        return f"Variant of **{self.student}** for {self.assignment}\n\n" + self.describe()


def _assignment_module(assignment: str):
    if not assignment.isidentifier():
        raise ValueError(f"unknown assignment {assignment!r}")
    module = importlib.import_module(f"hwtools.assignments.{assignment}")
    if not hasattr(module, "draw_variant"):
        raise ValueError(f"{assignment} has no per-student variants")
    return module


def for_student(assignment: str, student: str | None = None) -> Variant:
    """ASSIGNMENT's variant for STUDENT (by default the student id found as the module's
    docstring says)."""
    module = _assignment_module(assignment)
    student = student_id(student)
    rng = np.random.default_rng(variant_seed(assignment, student))
    return Variant(assignment, student, module.draw_variant(rng))
