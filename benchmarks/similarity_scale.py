"""``hw similarity`` at class scale (issue 24): a class of N students (200: about 20,000 pairs)
on one notebook assignment, and the time to read, fingerprint, compare and write the report.

Each synthetic student hands in the release's notebook with their own code cells: top-level
statements drawn at random from the code of the sample class and the instructor's sources
(every assignment), each student's names renamed, so submissions are of realistic size and
overlap the way students' do (the same library calls, some identical lines). A few students
hand in a disguised copy of another's (names renamed, cells reversed, comments dropped): the
figures say where those pairs rank. The target: under a minute on the 2-core machine.

Usage (figures go to stdout):
    python benchmarks/similarity_scale.py [--students 200] [--copies 5] [--assignment medical]
"""
from __future__ import annotations

import argparse
import ast
import io
import json
import keyword
import random
import builtins
import shutil
import sys
import tempfile
import time
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def pool_of_statements(course) -> list[str]:
    """Top-level statements (functions with their bodies, imports, assignments) of all the code
    the course holds: the sample class's cells and files and the instructor's notebooks."""
    import nbformat

    texts = []
    for path in sorted(course.sample_class.rglob("cells.json")):
        for cells in json.loads(path.read_text()).values():
            texts.extend(cells.values())
    texts.extend(p.read_text() for p in sorted(course.sample_class.rglob("*.py")))
    for path in sorted(course.source.rglob("*.ipynb")):
        texts.extend(c.source for c in nbformat.read(str(path), as_version=4).cells if c.cell_type == "code")
    pool = []
    for text in texts:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines(keepends=True)
        for node in tree.body:
            first = node.lineno - 1 - len(getattr(node, "decorator_list", []))
            pool.append("".join(lines[first:node.end_lineno]))
    return sorted({p.strip() + "\n" for p in pool if p.strip()})  # (sample students share some code)


def renamed(code: str, rng: random.Random) -> str:
    """CODE with every own name renamed (comments dropped), as untokenize writes it."""
    names: dict[str, str] = {}
    out, previous = [], None
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        text = tok.string
        if tok.type == tokenize.NAME and not keyword.iskeyword(text) and not hasattr(builtins, text) \
                and not (previous is not None and previous.string == "."):
            text = names.setdefault(text, f"{text[:2]}{rng.randrange(10 ** 6)}")
        if tok.type != tokenize.COMMENT:
            out.append((tok.type, text))
        previous = tok
    return tokenize.untokenize(out)


def build_class(course, assignment: str, students: int, copies: int, seed: int = 0) -> list[tuple[str, str]]:
    import nbformat

    rng = random.Random(seed)
    pool = pool_of_statements(course)
    notebook_name = next(p.name for p in (course.release / assignment).glob("*.ipynb"))
    release_nb = nbformat.read(str(course.release / assignment / notebook_name), as_version=4)
    cells_of = {}
    for number in range(students):
        student = f"s{number:03d}"
        chosen = rng.sample(pool, 40)
        cells_of[student] = [renamed("\n\n".join(chosen[i:i + 4]), rng) for i in range(0, len(chosen), 4)]
    planted = []
    for number in range(copies):
        source = f"s{number:03d}"
        copier = f"s{students - 1 - number:03d}"
        cells_of[copier] = [renamed(cell, rng) for cell in reversed(cells_of[source])]
        planted.append((source, copier))
    for student, cells in cells_of.items():
        target = course.submission_dir(student, assignment)
        shutil.copytree(course.release / assignment, target)
        notebook = nbformat.from_dict(release_nb)
        notebook.cells.extend(nbformat.v4.new_code_cell(c) for c in cells)
        nbformat.write(notebook, str(target / notebook_name))
    return planted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--assignment", default="medical")
    args = parser.parse_args()

    from conftest import copy_course
    from hwtools.course import similarity

    with tempfile.TemporaryDirectory() as folder:
        course = copy_course(Path(folder) / "course")
        started = time.perf_counter()
        planted = build_class(course, args.assignment, args.students, args.copies)
        built = time.perf_counter() - started

        started = time.perf_counter()
        result = similarity.analyse(course, args.assignment)
        analysed = time.perf_counter() - started
        started = time.perf_counter()
        path = similarity.write_report(result, similarity.default_report(course, args.assignment))
        written = time.perf_counter() - started

        tokens = [len(d.symbols) for d in result.documents]
        rank = {frozenset((p.first, p.second)): i for i, p in enumerate(result.pairs, 1)}
        ranks = sorted(rank[frozenset(p)] for p in planted)
        independent = [p.similarity for p in result.pairs if frozenset((p.first, p.second)) not in
                       {frozenset(q) for q in planted}]
        students = sum(d.student != similarity.ANSWER_KEY for d in result.documents)
        print(f"similarity at scale: {args.assignment}, {students} students and the answer key, "
              f"{len(result.pairs)} pairs ({students * (students - 1) // 2} between students)")
        print(f"  tokens per student: median {sorted(tokens)[len(tokens) // 2]}, max {max(tokens)}")
        print(f"  building the class (not timed in the total): {built:.1f} s")
        print(f"  read + fingerprint + compare: {analysed:.1f} s")
        print(f"  HTML report ({len(result.pairs[:similarity.SHOWN_PAIRS])} pairs shown, "
              f"{path.stat().st_size // 1024} KiB): {written:.1f} s")
        print(f"  total: {analysed + written:.1f} s (target: under 60 s on 2 cores)")
        flagged_planted = sum(p.flagged for p in result.pairs if frozenset((p.first, p.second)) in map(frozenset, planted))
        print(f"  planted copies rank {ranks} (1 = most similar); flagged: {flagged_planted} of the {len(planted)} "
              f"planted pairs, {sum(p.flagged for p in result.pairs) - flagged_planted} of the others (students "
              "here draw whole statements from one pool, so some share several long ones by chance)")
        print(f"  independent pairs: max similarity {max(independent):.2f}, "
              f"99th percentile {sorted(independent)[int(0.99 * len(independent))]:.2f}")


if __name__ == "__main__":
    main()
