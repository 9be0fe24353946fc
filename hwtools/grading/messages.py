"""The feedback of the hidden checks in the course's language (issue 23): English by default,
Persian with ``HW_FEEDBACK_LANGUAGE=fa`` in the environment the autograder runs in (one switch
for the course; ``export`` it beside ``HW_MODE``, or set it at the top of nbgrader_config.py).

Messages live in a gettext catalogue, ``hwtools/locale/<language>/LC_MESSAGES/feedback.po``,
read with Babel: its msgids are the English texts exactly as the grader writes them (report
lines, and each check's title, the first line of its docstring). A text the catalogue lacks, or
holds as fuzzy, stays English; so does everything an unknown language asks for."""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from babel.messages.pofile import read_po

DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "feedback"
SWITCH = "HW_FEEDBACK_LANGUAGE"

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
    return {m.id: m.string for m in messages if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def gettext(text: str, language: str | None = None) -> str:
    """TEXT in the feedback language (TEXT itself where there is no translation)."""
    return catalogue(language or feedback_language()).get(text, text)
