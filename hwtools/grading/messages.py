"""The feedback of the hidden checks in the course's language (issue 23): English by default,
Persian with ``HW_FEEDBACK_LANGUAGE=fa`` in the environment the autograder runs in (one switch
for the course; ``export`` it beside ``HW_MODE``, or set it at the top of nbgrader_config.py).

Messages live in a gettext catalogue, ``hwtools/grading/locale/<language>/LC_MESSAGES/feedback.po``,
read with Babel: its msgids are the English texts exactly as the grader writes them (report
lines, and each check's title, the first line of its docstring). A text the catalogue lacks, or
holds as fuzzy, stays English; so does everything an unknown language asks for.

The feedback shows a report as preformatted left-to-right text, where the bidi algorithm would
scramble a Persian line with formulas in it: a right-to-left translation is therefore a Unicode
isolate (RLI ... PDI), and each Latin run inside it (identifiers, formulas, numbers, the values
of placeholders) a left-to-right isolate (LRI ... PDI)."""
from __future__ import annotations

import functools
import logging
import os
import re
from pathlib import Path

from babel.messages.pofile import read_po

DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "feedback"
SWITCH = "HW_FEEDBACK_LANGUAGE"
RIGHT_TO_LEFT = {"fa", "ar", "he", "ur"}
LRI, RLI, PDI = "\u2066", "\u2067", "\u2069"
# a run without Arabic-script letters or punctuation (the spaces around it stay outside)
LATIN_RUN = re.compile(r"[^\s\u0600-\u06FF\u060C\u061B](?:[^\u0600-\u06FF\u060C\u061B]*[^\s\u0600-\u06FF\u060C\u061B])?")
OPENING, CLOSING = "([{", ")]}"

log = logging.getLogger("hwtools.grading")


def available() -> tuple[str, ...]:
    return (DEFAULT, *sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


def feedback_language() -> str:
    language = os.environ.get(SWITCH, DEFAULT).strip().lower() or DEFAULT
    if language not in available():
        log.warning("%s=%r is not one of %s: feedback stays in English", SWITCH, language, ", ".join(available()))
        return DEFAULT
    return language


@functools.lru_cache(maxsize=None)
def catalogue(language: str) -> dict[str, str]:
    """{English: translation} of one language's catalogue (empty for English)."""
    if language == DEFAULT:
        return {}
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as handle:
        messages = read_po(handle, locale=language, domain=DOMAIN)
    found = {m.id: m.string for m in messages if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
    if language in RIGHT_TO_LEFT:
        found = {english: isolated(text) for english, text in found.items()}
    return found


def _left_to_right(run: str) -> str:
    """A Latin run as a left-to-right isolate; a bracket it does not close (or open) stays
    outside, paired with its partner in the right-to-left text."""
    lead, core, trail = "", run, ""
    while core and core[0] in ":;,. ":  # punctuation that ends the Persian before it
        lead, core = lead + core[0], core[1:]
    # a placeholder ({name}) is one token: its braces are never split from it
    depth = lambda t: (lambda u: sum(u.count(c) for c in OPENING) - sum(u.count(c) for c in CLOSING))(
        re.sub(r"\{\w+\}", "", t))
    while core and core[0] in OPENING and depth(core) > 0 and not re.match(r"\{\w+\}", core):
        lead, core = lead + core[0], core[1:]
    while core and core[-1] in CLOSING and depth(core) < 0 and not re.search(r"\{\w+\}$", core):
        core, trail = core[:-1], core[-1] + trail
    while core and core[-1] in OPENING + " " and depth(core) > 0:  # "0 (" before Persian: "(" opens it
        core, trail = core[:-1], core[-1] + trail
    if not re.search(r"[A-Za-z0-9{}]", core):
        return run
    return lead + LRI + core + PDI + trail


def isolated(text: str) -> str:
    """Right-to-left TEXT as an isolate, its Latin runs as left-to-right isolates inside it."""
    return RLI + LATIN_RUN.sub(lambda m: _left_to_right(m.group()), text) + PDI


def gettext(text: str, language: str | None = None) -> str:
    """TEXT in the feedback language (TEXT itself where there is no translation)."""
    return catalogue(language or feedback_language()).get(text, text)


PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.lru_cache(maxsize=None)
def templates(language: str) -> tuple[tuple[re.Pattern, str], ...]:
    """The catalogue's messages with placeholders ("{name}: expected shape {expected}, got
    {actual}", what ``hwtools.checks`` and ``hwtools.grading.kit`` raise) as (pattern matching
    the English text they format, translation), the most literal text first, so that the most
    specific template wins."""
    found = []
    for english, translation in catalogue(language).items():
        names = PLACEHOLDER.findall(english)
        if not names or len(set(names)) != len(names):
            continue
        parts = PLACEHOLDER.split(english)  # literal, name, literal, name, ..., literal
        pattern = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)" for index, part in enumerate(parts))
        literal = sum(len(part) for part in parts[::2])
        found.append((literal, re.compile(pattern, re.S), translation))
    return tuple((pattern, translation) for _, pattern, translation in sorted(found, key=lambda f: -f[0]))


def translate(text: str, language: str | None = None, depth: int = 2) -> str:
    """A check's failure message (one line of it) in the feedback language: the catalogue's own
    translation of the whole text, else the first template that matches it filled with the values
    it holds (each value translated in turn when the catalogue has it: the rule of a broken
    contract, "have shape (4, 3)"), else TEXT itself."""
    language = language or feedback_language()
    if language == DEFAULT:
        return text
    if text in catalogue(language):
        return catalogue(language)[text]
    if depth:
        for pattern, translation in templates(language):
            match = pattern.fullmatch(text)
            if match:
                values = {key: translate(value, language, depth - 1) for key, value in match.groupdict().items()}
                try:
                    return translation.format(**values)
                except (KeyError, IndexError, ValueError):
                    return text
    return text
