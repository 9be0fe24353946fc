"""Persian beside English in the notebooks (issue 23): the courses these homework sets come
from teach in Persian. Each question cell holds the English text, then the same question in
Persian in a right-to-left block; code, identifiers and numbers inside it stay left to right
(markdown code spans and math are isolated by the browser's bidi algorithm; `ltr(...)` wraps a
plain run that must not be reordered).

Used by every authoring/build_<a>.py."""
from __future__ import annotations

import html
import re
from pathlib import Path

from hwtools.course.authoring import markdown

RTL_OPEN = '<div dir="rtl" lang="fa">'

LANGUAGE_NOTE_EN = ("Written answers may be given in **English or Persian** (either is graded the same; "
                    "code and formulas stay as they are). Write between the `<div dir=\"auto\">` and `</div>` "
                    "lines of an answer cell: a Persian answer then reads right to left for you and your TA.")
LANGUAGE_NOTE_FA = ("پاسخ‌های تشریحی را می‌توانید **به فارسی یا انگلیسی** بنویسید (هر دو یکسان نمره می‌گیرند؛ "
                    "کد و فرمول‌ها همان‌طور که هستند می‌مانند). پاسخ را میان خط آغاز و خط پایان بلوک `div` در سلول پاسخ "
                    "بنویسید (آن دو خط را پاک نکنید) تا پاسخ فارسی برای شما و دستیار آموزشی از راست به چپ نمایش "
                    "داده شود.")

HAND_IN_FA = """
### پیش از تحویل (Before you hand in, below)

هسته (kernel) را از نو راه‌اندازی کنید و همهٔ سلول‌ها را اجرا کنید (Kernel > Restart Kernel and Run All Cells).
سپس در یک ترمینال در همین پوشه `hw validate {name}` را اجرا کنید: نوت‌بوک را مثل تصحیح‌گر خودکار از ابتدا
در یک هستهٔ تازه اجرا می‌کند و یا می‌گوید آزمون‌های عمومی گذشتند یا سلول‌های ناموفق را نام می‌برد.
گذشتن از آن به معنای نمرهٔ کامل نیست: آزمون‌های پنهان بیشتر بررسی می‌کنند. تحویل با
`nbgrader submit {assignment} --course deep-learning-hw` (JupyterHub) یا با بارگذاری فایل‌هایی که این
نوت‌بوک نام می‌برد، بدون تغییر نام، در صفحهٔ درس.
"""


MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")


CODE_SPAN = re.compile(r"(`[^`\n]+`)")
# a bracketed run with no Persian letter in it: [0, 255], (height, width, channels), (3,)
LATIN_BRACKETS = re.compile(r"[\[(][^\]\[()\u0600-\u06FF]*[\])]")


def _html_heading(match) -> str:
    """A markdown heading as an HTML one: the feedback page names each question after the last
    markdown heading above it, which must stay the English one."""
    text = html.escape(match.group(2), quote=False)
    text = re.sub(r"`([^`]+)`", r'<code dir="ltr">\1</code>', text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    level = len(match.group(1))
    return f"<h{level}>{text}</h{level}>"


def _left_to_right(line: str) -> str:
    """Code spans and bracketed Latin runs isolated left to right: inside right-to-left text
    the bidi algorithm would otherwise move their braces, commas and signs ([0, 255] would read
    [255 ,0])."""
    parts = CODE_SPAN.split(line)
    return "".join(ltr(part) if index % 2 else LATIN_BRACKETS.sub(lambda m: ltr(m.group()), part)
                   for index, part in enumerate(parts))


LIST_ITEM = re.compile(r"^\s*([*+-]|\d+\.)\s")


def _inline_html(text: str) -> str:
    """A paragraph's markdown (code spans, bold, italics) as HTML, code and bracketed Latin runs
    left to right."""
    codes = []

    def hold(match):
        codes.append(f'<code dir="ltr">{html.escape(match.group()[1:-1], quote=False)}</code>')
        return f"\x00{len(codes) - 1}\x00"

    text = html.escape(CODE_SPAN.sub(hold, text), quote=False)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?![*\w])", r"<i>\1</i>", text)
    text = LATIN_BRACKETS.sub(lambda m: ltr(m.group()), text)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)


def persian(text: str) -> str:
    """A right-to-left Persian block. Headings are HTML (the feedback page names each question
    after the last markdown heading above it, which must stay the English one); paragraphs are
    HTML divs, because JupyterLab's and nbconvert's style sheets align every <p> to the left
    (`.jp-RenderedHTMLCommon p { text-align: left }`) while a div follows the block's direction;
    lists stay markdown (their items follow the direction). Code and bracketed Latin runs are
    left to right."""
    groups = [g.strip("\n") for g in re.split(r"\n\s*\n", text.strip()) if g.strip()]
    out = []
    for group in groups:
        first = group.splitlines()[0]
        if MARKDOWN_HEADING.match(first) and len(group.splitlines()) == 1:
            out.append(MARKDOWN_HEADING.sub(_html_heading, first))
        elif LIST_ITEM.match(first):
            out.append("\n".join(_left_to_right(line) for line in group.splitlines()))
        else:
            out.append(f"<div>{_inline_html(' '.join(line.strip() for line in group.splitlines()))}</div>\n<br>")
    if out[-1].endswith("\n<br>"):  # no gap below the last paragraph
        out[-1] = out[-1][:-len("\n<br>")]
    return f"{RTL_OPEN}\n\n" + "\n\n".join(out) + "\n\n</div>"


def ltr(text: str) -> str:
    """A left-to-right run inside Persian text (a shape, a list of numbers)."""
    return f'<span dir="ltr">{text}</span>'


def bilingual(english: str, farsi: str):
    """A markdown cell: the English question, then the Persian one."""
    return markdown(f"{english.strip()}\n\n{persian(farsi)}")


def hand_in_fa(path: Path):
    """The Persian of the shared hand-in cell that ``write_notebook`` adds after it (put it last in CELLS)."""
    path = Path(path)
    return markdown(persian(HAND_IN_FA.format(name=path.name, assignment=path.parent.name)))
