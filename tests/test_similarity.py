"""``hw similarity``: planted copies rank first, independent solutions and the release do not
count, and the HTML report (for TAs, under reports/) escapes what students wrote."""
from __future__ import annotations

import ast
import builtins
import io
import keyword
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import nbformat
import pytest

from hwtools.course import similarity
from hwtools.course.sample_class import build_sample_class

SOLUTION = '''"""Batch normalisation, forward pass."""
import numpy as np


def _statistics(x):
    # the batch mean and the biased variance, column by column
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    return mean, var


def _normalise(x, mean, var, eps):
    """Centre and scale."""
    return (x - mean) / np.sqrt(var + eps)


def _update(running, value, momentum):
    # exponential moving average of the statistics
    return momentum * running + (1 - momentum) * value


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    n_rows, n_cols = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(n_cols, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(n_cols, dtype=x.dtype))
    if mode == "train":
        mean, var = _statistics(x)
        xhat = _normalise(x, mean, var, eps)
        running_mean = _update(running_mean, mean, momentum)
        running_var = _update(running_var, var, momentum)
    elif mode == "test":
        xhat = _normalise(x, running_mean, running_var, eps)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    out = gamma * xhat + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, (xhat, gamma, var if mode == "train" else running_var, eps)
'''

# Written apart from SOLUTION, by another hand: one function, sums instead of means, einsum.
INDEPENDENT = '''import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    if mode not in {"train", "test"}:
        raise ValueError("bad mode: " + str(mode))
    eps = bn_param.get("eps", 1e-5)
    m = bn_param.get("momentum", 0.9)
    count = x.shape[0]
    rm = bn_param.get("running_mean", np.zeros(x.shape[1], dtype=x.dtype))
    rv = bn_param.get("running_var", np.zeros(x.shape[1], dtype=x.dtype))
    if mode == "test":
        mu, sigma2 = rm, rv
    else:
        mu = np.sum(x, axis=0) / count
        centred = x - mu
        sigma2 = np.einsum("ij,ij->j", centred, centred) / count
        rm = m * rm + (1.0 - m) * mu
        rv = m * rv + (1.0 - m) * sigma2
    inv = 1.0 / np.sqrt(sigma2 + eps)
    out = (x - mu) * inv * gamma + beta
    bn_param.update(running_mean=rm, running_var=rv)
    return out, {"inv": inv, "gamma": gamma}
'''


def disguise(code: str) -> str:
    """What a copier does cheaply: every own name renamed, comments and docstrings rewritten,
    the top-level functions in another order, other spacing."""
    names: dict[str, str] = {}
    out, previous = [], None
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        text = tok.string
        if tok.type == tokenize.NAME and text not in keyword.kwlist and not hasattr(builtins, text) \
                and not (previous and previous.string == ".") and text not in ("np", "numpy", "batchnorm_forward"):
            text = names.setdefault(text, f"my_{len(names)}_{text[::-1]}")
        elif tok.type == tokenize.COMMENT:
            text = "# " + " ".join(reversed(text[1:].split())) + " (my own words)"
        elif tok.type == tokenize.STRING and text.startswith('"""'):
            text = '"""My own description of this part."""'
        out.append((tok.type, text))
        previous = tok
    renamed = tokenize.untokenize(out)
    tree = ast.parse(renamed)
    lines = renamed.splitlines(keepends=True)
    pieces = ["".join(lines[node.lineno - 1 - len(getattr(node, "decorator_list", [])):node.end_lineno]) for node in tree.body]
    functions = [p for p, node in zip(pieces, tree.body) if isinstance(node, ast.FunctionDef)]
    others = [p for p, node in zip(pieces, tree.body) if not isinstance(node, ast.FunctionDef)]
    shuffled = functions[::-1]  # batchnorm_forward first, the helpers reversed
    return "".join(others) + "\n\n" + "\n\n\n".join(re.sub(r",(?=\S)", ", ", p) for p in shuffled)


def hand_in(course, student: str, code: str) -> Path:
    """A batchnorm submission: the released notebook untouched and this .py file."""
    target = course.submission_dir(student, "batchnorm")
    target.mkdir(parents=True)
    for path in (course.release / "batchnorm").iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    (target / "forward_batchnorm.py").write_text(code)
    return target


@pytest.fixture
def planted(course):
    """The sample class's batchnorm, an original, its disguised copy and an independent solution."""
    build_sample_class(course, ["batchnorm"])
    hand_in(course, "olga_original", SOLUTION)
    hand_in(course, "pete_copy", disguise(SOLUTION))
    hand_in(course, "ivan_independent", INDEPENDENT)
    return course


def test_the_disguise_really_changes_names_order_and_comments():
    copy = disguise(SOLUTION)
    compile(copy, "copy", "exec")
    assert "_statistics" not in copy and "running_mean =" not in copy and "biased variance" not in copy
    assert copy.index("def batchnorm_forward") < copy.index("def my_")
    assert SOLUTION.index("def batchnorm_forward") > SOLUTION.index("def _statistics")


def test_a_disguised_copy_ranks_above_every_independent_pair(planted):
    result = similarity.analyse(planted, "batchnorm")
    top, *rest = result.pairs
    assert {top.first, top.second} == {"olga_original", "pete_copy"}
    assert top.flagged and top.similarity > 0.8, top
    assert all(p.similarity < top.similarity - 0.3 and not p.flagged for p in rest), rest
    assert len(result.pairs) == 8 * 7 // 2  # seven students and the answer key


def test_independent_correct_solutions_are_not_flagged(planted):
    result = similarity.analyse(planted, "batchnorm")
    pairs = {frozenset((p.first, p.second)): p for p in result.pairs}
    for pair in (("olga_original", "ivan_independent"), ("alice_correct", "ivan_independent"),
                 ("alice_correct", "olga_original"), ("alice_correct", "bob_partial")):
        found = pairs[frozenset(pair)]
        assert not found.flagged and found.similarity < 0.3, found


def test_the_release_alone_gives_no_similarity(course):
    for student in ("ann_untouched", "ben_untouched"):
        hand_in(course, student, (course.release / "batchnorm" / "forward_batchnorm.py").read_text())
    hand_in(course, "olga_original", SOLUTION)
    result = similarity.analyse(course, "batchnorm")
    untouched = [p for p in result.pairs if {"ann_untouched", "ben_untouched"} & {p.first, p.second}]
    assert len(untouched) == 5 and all(p.similarity == 0 and p.shared == 0 for p in untouched), untouched
    assert {d.student: len(d.fingerprints) for d in result.documents}["ann_untouched"] == 0


def test_release_code_kept_in_a_solution_is_not_what_matches(course):
    """Two students who keep the release's code around different solutions share nothing but it."""
    given = (course.release / "batchnorm" / "forward_batchnorm.py").read_text()
    own_a = given.replace('    # YOUR CODE HERE\n    raise NotImplementedError("complete this part (see the docstring)")\n',
                          INDEPENDENT.split("count = x.shape[0]\n", 1)[1].split("    inv =")[0])
    assert own_a != given
    hand_in(course, "kim", own_a)
    hand_in(course, "lee", given.replace("# YOUR CODE HERE", "# mine: see below\n    out = cache = None"))
    (pair,) = similarity.analyse(course, "batchnorm", answer_key=False).pairs
    assert pair.shared == 0 and pair.similarity == 0


def test_reordered_cells_and_renamed_names_in_a_notebook_still_match(course):
    """Notebook code cells are regions too: a copy that moves the cells and renames matches."""
    notebook = nbformat.read(str(course.release / "batchnorm" / "batchnorm.ipynb"), as_version=4)
    helpers = SOLUTION.split("def batchnorm_forward")[0].split("import numpy as np\n")[1]
    cells = [c for c in helpers.split("\n\n\n") if c.strip()]
    for student, own in (("nina", cells), ("omar", [disguise("import numpy as np\n" + c).split("\n", 1)[1]
                                                      for c in cells[::-1]])):
        target = hand_in(course, student, (course.release / "batchnorm" / "forward_batchnorm.py").read_text())
        copy = nbformat.from_dict(notebook)
        copy.cells.extend(nbformat.v4.new_code_cell(source) for source in own)
        nbformat.write(copy, str(target / "batchnorm.ipynb"))
    hand_in(course, "ivan_independent", INDEPENDENT)
    result = similarity.analyse(course, "batchnorm")
    assert {result.pairs[0].first, result.pairs[0].second} == {"nina", "omar"}
    assert result.pairs[0].similarity > 0.8


def test_the_report_shows_ranked_pairs_side_by_side_escaped(planted):
    hostile = "<img src=x onerror=alert(1)>"
    hand_in(planted, hostile, SOLUTION.replace('f"unknown mode {mode!r}"', '"</pre><script>alert(1)</script>"'))
    result = similarity.analyse(planted, "batchnorm")
    path = similarity.write_report(result, similarity.default_report(planted, "batchnorm"))
    assert path == planted.root / "reports" / "similarity_batchnorm.html"
    page = path.read_text()
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "data:image/png;base64," in page  # the class-wide histogram
    assert page.count("class='sides'") >= 3 and "<mark>" in page
    first = page.index(". olga_original &amp; pete_copy: ")
    assert "(flagged)</h3>" in page[first:first + 100]
    section = page[first:page.index("<h3 id='pair", first)]
    olga, pete = section.split("<h4>")[1:]
    assert re.search(r"<mark>[^<]*def _statistics\(", olga) and re.search(r"<mark>[^<]*def my_\d+_scitsitats_", pete)
    ranked = [float(m) for m in re.findall(r"<tr(?: class='flag')?><td><a href='#pair\d+'>\d+</a></td><td>[^<]*</td>"
                                           r"<td>([0-9.]+)</td>", page)]
    assert ranked == sorted(ranked, reverse=True) and len(ranked) == min(len(result.pairs), similarity.SHOWN_PAIRS)


def test_the_answer_key_is_compared_and_links_are_not_followed(course):
    target = hand_in(course, "mallory", "x = 1\n")
    (target / "forward_batchnorm.py").unlink()
    os.symlink(course.source / "batchnorm" / "forward_batchnorm.py", target / "forward_batchnorm.py")
    hand_in(course, "olga_original", (course.source / "batchnorm" / "forward_batchnorm.py").read_text())
    result = similarity.analyse(course, "batchnorm")
    assert [(p.first, p.second, p.flagged) for p in result.pairs if p.similarity > 0] == \
        [(similarity.ANSWER_KEY, "olga_original", True)]  # olga handed in the answer key; mallory's link is not read
    mallory = next(d for d in result.documents if d.student == "mallory")
    assert any("link" in line for line in mallory.left_out), mallory.left_out


def test_hw_similarity_on_the_sample_class_finds_the_planted_copy(planted):
    """The command a TA types, from a folder inside the course: the copy first, the report in reports/."""
    hw = Path(sys.executable).parent / "hw"
    env = dict(os.environ, PATH=f"{hw.parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("HW_COURSE_ROOT", None)
    done = subprocess.run([str(hw), "similarity", "batchnorm"], cwd=planted.submitted, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "batchnorm: 7 students and the answer key (source/), 28 pairs, 1 flagged", lines
    assert lines[1].split() == ["1.00", "olga_original", "&", "pete_copy", "(flagged)"]
    report = planted.root / "reports" / "similarity_batchnorm.html"
    assert f"wrote {report}" in lines[-1] and report.is_file()
    assert not (planted.feedback.exists() and any(planted.feedback.rglob("similarity*")))
    unknown = subprocess.run([str(hw), "similarity", "batchnrom"], cwd=planted.root, env=env,
                             capture_output=True, text=True, timeout=300)
    assert unknown.returncode != 0 and "unknown assignment" in unknown.stderr


def test_a_broken_notebook_or_syntax_error_is_compared_as_far_as_it_reads(course):
    target = hand_in(course, "quinn", SOLUTION.replace("def _update(", "def _update(((", 1))
    (target / "batchnorm.ipynb").write_text('{"cells": [{"cell_type": "code", "source": 7')
    hand_in(course, "olga_original", SOLUTION)
    result = similarity.analyse(course, "batchnorm", answer_key=False)
    (pair,) = result.pairs
    assert pair.similarity > 0.5  # the file up to its syntax error still matches
    quinn = next(d for d in result.documents if d.student == "quinn")
    assert quinn.left_out == ["batchnorm.ipynb: not read (NotJSONError)"], quinn.left_out
    assert "batchnorm.ipynb: not read" in similarity.render(result)


def random_code(seed: int, functions: int = 6) -> str:
    """Functions no two students share: random arithmetic over random operators and calls."""
    import random

    rng = random.Random(seed)

    def expression(depth: int) -> str:
        if depth == 0 or rng.random() < 0.25:
            return rng.choice(["a", "b", "c", "1", "2.5"])
        kind = rng.random()
        if kind < 0.6:
            return f"({expression(depth - 1)} {rng.choice('+-*/%')} {expression(depth - 1)})"
        return f"np.{rng.choice(['sqrt', 'exp', 'abs', 'tanh', 'log1p'])}({expression(depth - 1)})"

    return "\n\n".join(f"def g{seed}_{n}(a, b, c):\n" + "".join(f"    {v} = {expression(4)}\n" for v in "abc")
                       + "    return a, b, c\n" for n in range(functions))


def test_in_a_class_what_most_students_write_does_not_count(course, monkeypatch):
    """Eleven students who all write the same helpers (what the lecture showed) around their own code."""
    helpers = SOLUTION.split("def batchnorm_forward")[0]
    for number in range(11):
        hand_in(course, f"student{number:02d}", helpers + random_code(number))
    pairs = similarity.analyse(course, "batchnorm", answer_key=False).pairs
    assert len(pairs) == 55 and max(p.similarity for p in pairs) < 0.1, pairs[:3]
    monkeypatch.setattr(similarity, "COMMON_CLASS_SIZE", 1000)  # the same class, the filter off
    unfiltered = similarity.analyse(course, "batchnorm", answer_key=False).pairs
    assert min(p.similarity for p in unfiltered) > 0.1, unfiltered[-3:]
