"""``hw similarity ASSIGNMENT``: which students' solutions look copied from each other.

For a TA only: the report goes to reports/ (which ``hw release`` refuses to release and no
feedback page links), never into a student's feedback.

How it compares (the MOSS way, winnowed fingerprints, with copydetect's winnowing and
slice merging):

- A student's solution regions are the code cells of the notebooks and the ``.py`` files in
  submitted/<student>/<assignment>/, read as untrusted files (no link followed, nothing
  executed). A cell or file that is exactly the release's is left out.
- Each region goes through Python's own tokenizer, which drops what copying changes cheaply:
  comments, docstrings and formatting vanish; every identifier becomes ``V`` (keywords,
  builtins and attribute names after a dot, such as ``np.mean``, stay: they are what the code
  does); every string becomes ``S`` and every number ``N``. Code that does not tokenize (a
  syntax error) is tokenized as far as it goes.
- The regions are cut into top-level statements (a ``def`` or ``class`` with its body is one)
  and these are put in a canonical order (sorted by their normalised tokens), so reordering
  functions or cells changes nothing.
- k-grams of normalised tokens are hashed and winnowed (every match of at least
  ``K + WINDOW - 1`` tokens is found). Fingerprints of the release (its notebooks and files,
  tokenized the same way) are discarded, so starter code alone gives no similarity; so are
  fingerprints that more than half of a class of ten or more students share (what everyone writes).
- A pair's similarity is the mean, over its two students, of the share of each one's
  fingerprints that the other has too. A pair is flagged at ``threshold`` (0.5) or more when
  both students have at least ``MIN_FINGERPRINTS`` fingerprints of their own.
"""
from __future__ import annotations

import base64
import builtins
import html
import io
import keyword
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwtools.course import Course

K = 12  # tokens per k-gram (a short statement: ``V = np.sqrt(V + V)`` is 10)
WINDOW = 8
MIN_FINGERPRINTS = 12
THRESHOLD = 0.5
COMMON_CLASS_SIZE = 10  # from this class size on, fingerprints most of the class shares are ignored
COMMON_SHARE = 0.5
SHOWN_PAIRS = 30
ANSWER_KEY = "[answer key]"  # never a student's id: '[' is refused in ids (nbgrader globs them)

_KEEP_NAMES = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))
_DROPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
_SEPARATOR = "\x00|"  # between two top-level statements of the canonical order


@dataclass
class Region:
    """One cell or file of a student's: its label (file, cell) and text."""
    label: str
    text: str


@dataclass
class Document:
    """A student's normalised tokens in canonical order, each token's (region, start, end) in
    the original text, and the winnowed fingerprints: hash -> token positions."""
    student: str
    regions: list[Region]
    symbols: list[str] = field(default_factory=list)
    places: list[tuple[int, int, int]] = field(default_factory=list)
    fingerprints: dict[int, list[int]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)


@dataclass
class Pair:
    first: str
    second: str
    similarity: float
    shares: tuple[float, float]
    shared: int
    flagged: bool


# --- reading -------------------------------------------------------------------------------

def _line_starts(text: str) -> list[int]:
    starts, total = [0], 0
    for line in text.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _tokens(text: str):
    """Python tokens of TEXT as far as it tokenizes (a syntax error ends the list, keeps what came)."""
    lines = iter(text.splitlines(keepends=True))
    out = []
    try:
        for tok in tokenize.generate_tokens(lambda: next(lines, "")):
            out.append(tok)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return out


def statements(region: Region, index: int) -> list[tuple[list[str], list[tuple[int, int, int]]]]:
    """REGION's top-level statements, each as (normalised symbols, places of its tokens)."""
    text = region.text
    starts = _line_starts(text)
    chunks: list[tuple[list[str], list[tuple[int, int, int]]]] = []
    symbols: list[str] = []
    places: list[tuple[int, int, int]] = []
    depth, previous, line_start = 0, None, True
    for tok in _tokens(text):
        if tok.type == tokenize.INDENT:
            depth += 1
        elif tok.type == tokenize.DEDENT:
            depth -= 1
        if tok.type == tokenize.NEWLINE:  # (NL: a blank line, or a line break inside brackets)
            line_start = True
        if tok.type in _DROPPED:
            continue
        if depth == 0 and line_start and symbols:
            chunks.append((symbols, places))
            symbols, places = [], []
        first_of_line, line_start = line_start, False
        if tok.type == tokenize.STRING:
            if first_of_line and _alone_on_line(tok, text, starts):
                previous = tok
                continue  # a docstring or a bare string: gone
            symbol = "S"
        elif tok.type == tokenize.NUMBER:
            symbol = "N"
        elif tok.type == tokenize.NAME:
            after_dot = previous is not None and previous.type == tokenize.OP and previous.string == "."
            symbol = tok.string if tok.string in _KEEP_NAMES or after_dot else "V"
        else:
            symbol = tok.string
        previous = tok
        begin = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        symbols.append(symbol)
        places.append((index, begin, end))
    if symbols:
        chunks.append((symbols, places))
    return chunks


def _alone_on_line(tok, text: str, starts: list[int]) -> bool:
    """Whether the string token ends its logical line (a docstring), checking only the text after it."""
    end = starts[tok.end[0] - 1] + tok.end[1]
    rest = text[end:].split("\n", 1)[0].strip()
    return rest == "" or rest.startswith("#")


def document(student: str, regions: list[Region]) -> Document:
    doc = Document(student, regions)
    chunks = [chunk for index, region in enumerate(regions) for chunk in statements(region, index)]
    chunks.sort(key=lambda chunk: "\x01".join(chunk[0]))
    for symbols, places in chunks:
        if doc.symbols:
            doc.symbols.append(_SEPARATOR)
            doc.places.append((-1, 0, 0))
        doc.symbols.extend(symbols)
        doc.places.extend(places)
    return doc


def _kgram_hashes(symbols: list[str], codes: dict[str, int]) -> np.ndarray:
    """One 63-bit hash per k-gram of SYMBOLS (deterministic: symbols numbered class-wide)."""
    if len(symbols) < K:
        return np.array([], dtype=np.int64)
    ids = np.array([codes.setdefault(s, len(codes) + 1) for s in symbols], dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(ids, K)
    powers = np.uint64(1000003) ** np.arange(K - 1, -1, -1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = (windows * powers).sum(axis=1, dtype=np.uint64)
        mixed ^= mixed >> np.uint64(29)
        mixed *= np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= mixed >> np.uint64(32)
    return (mixed >> np.uint64(1)).astype(np.int64)


def _winnowed(hashes: np.ndarray) -> dict[int, list[int]]:
    from copydetect.utils import winnow

    if len(hashes) == 0:
        return {}
    selected, where = winnow(hashes, WINDOW, remove_duplicates=False)
    out: dict[int, list[int]] = {}
    for value, position in zip(selected.tolist(), where.tolist()):
        out.setdefault(value, []).append(position)
    return out


def _code_of_notebook(data: bytes, label: str) -> list[Region]:
    import nbformat

    notebook = nbformat.reads(data.decode("utf-8", errors="replace"), as_version=4)
    return [Region(f"{label} cell {number}", cell.source) for number, cell in enumerate(notebook.cells, 1)
            if cell.get("cell_type") == "code" and cell.get("source", "").strip()]


def read_regions(files: dict[str, bytes]) -> tuple[list[Region], list[str]]:
    """The code regions of a folder's files (notebooks' code cells, .py files), and what could
    not be read."""
    regions, problems = [], []
    for name in sorted(files):
        if any(part.startswith(".") for part in Path(name).parts):
            continue
        try:
            if name.endswith(".ipynb"):
                regions.extend(_code_of_notebook(files[name], name))
            elif name.endswith(".py"):
                regions.append(Region(name, files[name].decode("utf-8", errors="replace")))
        except Exception as err:  # a broken notebook: named, never fatal
            problems.append(f"{name}: not read ({type(err).__name__})")
    return regions, problems


def release_regions(course: Course, assignment: str) -> list[Region]:
    from hwtools.sandbox.untrusted_files import read_regular_tree

    files, _, _ = read_regular_tree(course.release, (assignment,))
    return read_regions(files)[0]


def student_regions(course: Course, student: str, assignment: str,
                    given: set[str]) -> tuple[list[Region], list[str]]:
    """A submission's regions less those exactly as released (GIVEN: stripped texts)."""
    from hwtools.sandbox.untrusted_files import UntrustedEntry, read_regular_tree

    try:
        files, _, left_out = read_regular_tree(course.submitted, (student, assignment))
    except (UntrustedEntry, OSError) as err:
        return [], [str(err)]
    regions, problems = read_regions(files)
    return [r for r in regions if r.text.strip() not in given], left_out + problems


# --- comparing -----------------------------------------------------------------------------

def fingerprint_class(documents: list[Document], release: list[Region]) -> None:
    """Winnowed fingerprints of each document, less the release's and (in a big class) the common ones."""
    codes: dict[str, int] = {}
    given = document("(release)", release)
    boiler = set(_kgram_hashes(given.symbols, codes).tolist())
    for doc in documents:
        doc.fingerprints = {h: p for h, p in _winnowed(_kgram_hashes(doc.symbols, codes)).items() if h not in boiler}
    students = [doc for doc in documents if doc.student != ANSWER_KEY]
    if len(students) >= COMMON_CLASS_SIZE:
        counts: dict[int, int] = {}
        for doc in students:
            for h in doc.fingerprints:
                counts[h] = counts.get(h, 0) + 1
        common = {h for h, n in counts.items() if n > COMMON_SHARE * len(students)}
        for doc in documents:
            doc.fingerprints = {h: p for h, p in doc.fingerprints.items() if h not in common}


def compare(documents: list[Document], threshold: float = THRESHOLD) -> list[Pair]:
    """Every pair, most similar first (a sparse incidence product: 20,000 pairs in well under a second)."""
    from scipy import sparse

    if len(documents) < 2:
        return []
    column: dict[int, int] = {}
    rows, cols = [], []
    for row, doc in enumerate(documents):
        for h in doc.fingerprints:
            rows.append(row)
            cols.append(column.setdefault(h, len(column)))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)),
                               shape=(len(documents), max(1, len(column))))
    shared = (matrix @ matrix.T).toarray()
    sizes = np.diag(shared).astype(float)
    pairs = []
    for i in range(len(documents)):
        for j in range(i + 1, len(documents)):
            common = int(shared[i, j])
            first = common / sizes[i] if sizes[i] else 0.0
            second = common / sizes[j] if sizes[j] else 0.0
            score = (first + second) / 2
            flagged = score >= threshold and min(sizes[i], sizes[j]) >= MIN_FINGERPRINTS
            pairs.append(Pair(documents[i].student, documents[j].student, float(score), (float(first), float(second)),
                              common, bool(flagged)))
    pairs.sort(key=lambda p: (-p.similarity, p.first, p.second))
    return pairs


def matched_spans(mine: Document, theirs: Document) -> dict[int, list[tuple[int, int]]]:
    """Where MINE's text matches THEIRS: region index -> merged character spans."""
    from copydetect.utils import get_copied_slices

    common = mine.fingerprints.keys() & theirs.fingerprints.keys()
    if not common:
        return {}
    positions = np.array(sorted(p for h in common for p in mine.fingerprints[h]), dtype=np.int64)
    starts, ends = get_copied_slices(positions, K)
    spans: dict[int, list[tuple[int, int]]] = {}
    for start, end in zip(starts.tolist(), ends.tolist()):
        for region, begin, finish in mine.places[int(start):int(end)]:
            if region >= 0:
                spans.setdefault(region, []).append((begin, finish))
    merged = {}
    for region, found in spans.items():
        found.sort()
        out = [list(found[0])]
        for begin, finish in found[1:]:
            gap = mine.regions[region].text[out[-1][1]:begin]
            if begin <= out[-1][1] or not gap.strip():
                out[-1][1] = max(out[-1][1], finish)
            else:
                out.append([begin, finish])
        merged[region] = [tuple(span) for span in out]
    return merged


# --- the command ---------------------------------------------------------------------------

@dataclass
class Result:
    assignment: str
    documents: list[Document]
    pairs: list[Pair]
    refused: dict[str, str]
    threshold: float = THRESHOLD


def analyse(course: Course, assignment: str, threshold: float = THRESHOLD, answer_key: bool = True) -> Result:
    """Every pair of the assignment's students (and, with ANSWER_KEY, each student against the
    instructor's solution in source/, as the party ``[answer key]``: a leaked key is copied too)."""
    release = release_regions(course, assignment) if (course.release / assignment).is_dir() else []
    given = {r.text.strip() for r in release}
    documents = []
    if answer_key and (course.source / assignment).is_dir():
        from hwtools.sandbox.untrusted_files import read_regular_tree

        files, _, _ = read_regular_tree(course.source, (assignment,))
        key = [r for r in read_regions(files)[0] if r.text.strip() not in given]
        documents.append(document(ANSWER_KEY, key))
    for student in course.students(assignment):
        regions, left_out = student_regions(course, student, assignment, given)
        doc = document(student, regions)
        doc.left_out = left_out
        documents.append(doc)
    fingerprint_class(documents, release)
    return Result(assignment, documents, compare(documents, threshold), course.refused_students(assignment), threshold)


def default_report(course: Course, assignment: str) -> Path:
    return course.root / "reports" / f"similarity_{assignment}.html"


def write_report(result: Result, path: Path, shown: int = SHOWN_PAIRS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, shown), encoding="utf-8")
    return path


def _histogram_png(values: list[float], threshold: float) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 2.6))
    axis.hist(values, bins=40, range=(0, 1), color="#4c72b0")
    axis.axvline(threshold, color="#c44e52", linestyle="--", label=f"flagged from {threshold:.2f}")
    if len(values) > 50:
        axis.set_yscale("log")  # a class's thousands of low pairs beside a few copies
    axis.set_xlabel("similarity of a pair")
    axis.set_ylabel("pairs")
    axis.legend(loc="upper right")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    out, at = [], 0
    for begin, end in spans:
        out.append(html.escape(text[at:begin]))
        out.append(f"<mark>{html.escape(text[begin:end])}</mark>")
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _side(doc: Document, other: Document) -> str:
    spans = matched_spans(doc, other)
    parts = [f"<h4>{html.escape(doc.student)}</h4>"]
    for index in sorted(spans):
        region = doc.regions[index]
        parts.append(f"<p class='label'>{html.escape(region.label)}</p>"
                     f"<pre>{_highlighted(region.text, spans[index])}</pre>")
    if not spans:
        parts.append("<p>(nothing matched)</p>")
    return "".join(parts)


def render(result: Result, shown: int = SHOWN_PAIRS) -> str:
    by_name = {d.student: d for d in result.documents}
    values = [p.similarity for p in result.pairs]
    threshold = result.threshold
    flagged = [p for p in result.pairs if p.flagged]
    title = f"Similarity: {html.escape(result.assignment)}"
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>"
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 8px}.flag{background:#fde2e2}"
             ".sides{display:flex;gap:1em}.sides>div{flex:1;min-width:0}"
             "pre{background:#f7f7f7;padding:4px;overflow-x:auto;font-size:85%}mark{background:#ffd54f}"
             ".label{font-size:85%;color:#555;margin:0.5em 0 0}</style></head><body>",
             f"<h1>{title}</h1>",
             "<p>For the course staff only: never part of a student's feedback. Similar code is a reason to "
             "look, not a verdict (compare with the histogram: what is normal for this assignment).</p>",
             f"<p>{_who(result)}, {len(result.pairs)} pairs, {len(flagged)} flagged "
             f"(similarity at least {threshold:.2f}). Comments, docstrings, names, literals, formatting and "
             "the order of top-level definitions are ignored; code given in the release is left out.</p>"]
    if result.refused:
        parts.append("<p>Not compared (their ids are refused): "
                     + html.escape(", ".join(sorted(result.refused))) + "</p>")
    if values:
        parts.append("<h2>All pairs</h2><img alt='histogram of pair similarities' "
                     f"src='data:image/png;base64,{_histogram_png(values, threshold)}'>")
    top = result.pairs[:max(shown, len(flagged))]
    if top:
        parts.append(f"<h2>Most similar pairs</h2><p>The {len(top)} most similar of {len(result.pairs)}, each "
                     "below with what matched highlighted on both sides (code given in the release is never "
                     "highlighted: it is not compared).</p>"
                     "<table><tr><th>#</th><th>students</th><th>similarity</th>"
                     "<th>share of each one's fingerprints</th><th>shared fingerprints</th></tr>")
        for rank, pair in enumerate(top, 1):
            css = " class='flag'" if pair.flagged else ""
            parts.append(f"<tr{css}><td><a href='#pair{rank}'>{rank}</a></td><td>{html.escape(pair.first)} &amp; "
                         f"{html.escape(pair.second)}</td><td>{pair.similarity:.2f}</td><td>{pair.shares[0]:.0%} / "
                         f"{pair.shares[1]:.0%}</td><td>{pair.shared}</td></tr>")
        parts.append("</table>")
        for rank, pair in enumerate(top, 1):
            if not pair.shared:
                break
            first, second = by_name[pair.first], by_name[pair.second]
            flag = " (flagged)" if pair.flagged else ""
            parts.append(f"<h3 id='pair{rank}'>{rank}. {html.escape(pair.first)} &amp; {html.escape(pair.second)}: "
                         f"{pair.similarity:.2f}{flag}</h3><div class='sides'><div>{_side(first, second)}</div>"
                         f"<div>{_side(second, first)}</div></div>")
    unread = {d.student: d.left_out for d in result.documents if d.left_out}
    if unread:
        parts.append("<h2>Left out of the comparison</h2><ul>")
        for student, lines in sorted(unread.items()):
            parts.append(f"<li>{html.escape(student)}: {html.escape('; '.join(lines))}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "".join(parts)


def _who(result: Result) -> str:
    students = sum(d.student != ANSWER_KEY for d in result.documents)
    key = " and the answer key (source/)" if len(result.documents) > students else ""
    return f"{students} students{key}"


def summary(result: Result, most: int = 5) -> str:
    flagged = [p for p in result.pairs if p.flagged]
    lines = [f"{result.assignment}: {_who(result)}, {len(result.pairs)} pairs, {len(flagged)} flagged"]
    for pair in result.pairs[:most]:
        lines.append(f"  {pair.similarity:.2f}  {pair.first} & {pair.second}{'  (flagged)' if pair.flagged else ''}")
    return "\n".join(lines)

