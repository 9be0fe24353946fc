"""Student content made safe to show: HTML and markdown a TA's browser renders (feedback pages,
the formgrader), text a grader's terminal prints, cells a spreadsheet opens.

A TA's browser holds a Jupyter token, so a student's script there runs code on the course
server: every page built from a student's notebook shows only what ``nh3`` (the ammonia HTML
sanitizer) lets through, and outputs that are code for the browser (JavaScript, SVG, widgets,
anything unknown) are replaced by a note.
"""
from __future__ import annotations

import re

import nh3
from nbconvert.preprocessors import Preprocessor

SAFE_IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif)[;,]", re.IGNORECASE)
URL_ATTRIBUTES = {"href", "src", "cite", "longdesc", "action", "formaction", "background", "poster"}
URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"data"}
# Every tag may carry lang, title (ammonia's generic attributes) and dir, so right-to-left text
# (Persian, `<div dir="rtl" lang="fa">`) stays right to left; dir is kept only as rtl, ltr, auto.
ATTRIBUTES = {**{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}, "*": {"lang", "title", "dir"}}
DIRECTIONS = {"rtl", "ltr", "auto"}
# Schemes that run code, however a student spells them: any case, control characters and
# blanks between the letters, a backslash-escaped colon (markdown turns \: into :).
_GAP = r"[\s\x00-\x1f\\]*"
SCRIPT_SCHEME = re.compile("|".join(_GAP.join(word) + _GAP + ":" for word in ("javascript", "vbscript", "livescript")),
                           re.IGNORECASE)
DATA_SCHEME = re.compile(_GAP.join("data") + _GAP + r":(?!\s|$|" + _GAP + r"image/(png|jpeg|gif)[;,])", re.IGNORECASE)

IMAGE_MIMES = {"image/png", "image/jpeg", "image/gif"}
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
REMOVED_NOTE = "[output removed by the grader: {} could run script in a grader's browser]"


def _attribute_filter(markdown: bool):
    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "dir":
            return value.strip().lower() if value.strip().lower() in DIRECTIONS else None
        if attribute in URL_ATTRIBUTES:
            plain = re.sub(r"[\s\x00-\x1f]", "", value)
            if SCRIPT_SCHEME.match(plain) or (plain.lower().startswith("data:") and not (
                    tag == "img" and attribute == "src" and SAFE_IMAGE_DATA.match(plain))):
                return None
        if markdown:  # markdown reads the tag again: no character that could end it early
            value = re.sub(r"[<>`\r\n]", "", value)
        return value
    return keep


def sanitize_html(html: str) -> str:
    """An HTML fragment with no script, event handler, frame, object, form or script URL;
    formatting, tables, links and images (data: URLs only for PNG, JPEG and GIF) stay."""
    return nh3.clean(html, url_schemes=URL_SCHEMES, attributes=ATTRIBUTES, attribute_filter=_attribute_filter(False))


# '<' that markdown does not read as a tag (a name then neither blank, '/' nor '>': $x<y$),
# written as an entity so the sanitizer keeps it as text instead of eating up to the next '>'.
_NOT_A_TAG = re.compile(r"<(?=[A-Za-z][A-Za-z0-9-]*(?![A-Za-z0-9\s/>-]))")
# The sanitizer escapes text as HTML; markdown needs '>' (quotes), '&' (code) and a '<' that
# starts no tag back as they were. '&' stays escaped where it would start an entity (the
# sanitizer decoded the student's entities: &#106; must not come back for a link to decode).
_UNESCAPE = re.compile(r"&gt;|&amp;(?!#|[A-Za-z][A-Za-z0-9]*;)|&lt;(?![A-Za-z/!?])")


def sanitize_markdown(markdown: str) -> str:
    """Markdown with its raw HTML sanitized as ``sanitize_html`` does and its script links
    (``[x](javascript:...)``) broken; markdown syntax, math and code spans stay."""
    text = _NOT_A_TAG.sub("&lt;", markdown)
    text = nh3.clean(text, url_schemes=URL_SCHEMES, attributes=ATTRIBUTES, attribute_filter=_attribute_filter(True))
    text = _UNESCAPE.sub(lambda m: {"&gt;": ">", "&amp;": "&"}.get(m.group(), "<"), text)
    text = SCRIPT_SCHEME.sub(lambda m: re.sub(r"\W", "", m.group()) + "-blocked:", text)
    return DATA_SCHEME.sub("data-blocked:", text)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def sanitize_output(output) -> None:
    """One output in place: HTML and markdown sanitized, images kept when they are images,
    text, streams and errors (which nbconvert escapes) kept, everything else replaced by a note."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return
    clean, removed = {}, []
    for mime, value in output.get("data", {}).items():
        if mime == "text/plain":
            clean[mime] = value
        elif mime in IMAGE_MIMES and BASE64.fullmatch(_text(value)):
            clean[mime] = value
        elif mime == "text/html":
            clean[mime] = sanitize_html(_text(value))
        elif mime in ("text/markdown", "text/latex"):
            clean[mime] = sanitize_markdown(_text(value))
        else:
            removed.append(mime)
    if removed and "text/plain" not in clean:
        clean["text/plain"] = REMOVED_NOTE.format(", ".join(removed))
    output["data"] = clean
    # nbconvert writes an image's width and height into its tag: numbers only
    output["metadata"] = {mime: {k: v for k, v in meta.items()
                                 if k in ("width", "height") and isinstance(v, (int, float))}
                          for mime, meta in output.get("metadata", {}).items()
                          if mime in IMAGE_MIMES and isinstance(meta, dict)}


def sanitize_notebook(notebook) -> None:
    """Every cell a browser would render, in place: markdown source and attachments, raw
    cells (nbconvert writes text/html raw cells as they are) and code outputs."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = sanitize_markdown(_text(cell.source))
            if "attachments" in cell:
                cell.attachments = {name: {m: v for m, v in bundle.items()
                                           if m in IMAGE_MIMES and BASE64.fullmatch(_text(v))}
                                    for name, bundle in cell.attachments.items() if isinstance(bundle, dict)}
        elif cell.cell_type == "raw":
            cell.source = sanitize_html(_text(cell.source))
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                sanitize_output(output)


class SanitizeOutputs(Preprocessor):
    """Student HTML, markdown and outputs made safe before a page is rendered from them."""

    def __call__(self, nb, resources):  # always on (nbconvert's `enabled` defaults to off)
        return self.preprocess(nb, resources)

    def preprocess(self, nb, resources):
        sanitize_notebook(nb)
        return nb, resources


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text) -> str:
    """Text for a terminal: control characters (ESC, the rest of C0 but newline and tab,
    DEL, C1, bidi overrides) written as visible escapes such as \\x1b."""
    return _CONTROL.sub(lambda m: (f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                   else f"\\u{ord(m.group()):04x}"), str(text))


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def csv_safe(value):
    """A cell a spreadsheet shows rather than evaluates: a string starting with = + - @ tab
    or CR gets a leading quote; numbers (negative ones too) stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value
