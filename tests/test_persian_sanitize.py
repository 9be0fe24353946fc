"""Persian text stays right to left through the sanitizer (issue 23): the feedback page and
the formgrader show question cells and written answers only after ``sanitize_markdown`` /
``sanitize_html``, so ``dir`` and ``lang`` must survive it, and ``dir`` must stay a direction."""
import pytest

from hwtools.course.sanitize import sanitize_html, sanitize_markdown

PERSIAN = '<div dir="rtl" lang="fa">\n\nپاسخ را به فارسی یا انگلیسی بنویسید: `conv_params(3, 64, 3)`\n\n</div>'


def test_markdown_keeps_dir_and_lang():
    clean = sanitize_markdown(PERSIAN)
    assert '<div dir="rtl" lang="fa">' in clean
    assert "پاسخ را به فارسی" in clean and "`conv_params(3, 64, 3)`" in clean


def test_html_keeps_dir_and_lang_on_any_tag():
    clean = sanitize_html('<p dir="rtl" lang="fa">سلام</p><span dir="ltr">x = 1</span>')
    assert clean == '<p dir="rtl" lang="fa">سلام</p><span dir="ltr">x = 1</span>'


@pytest.mark.parametrize("value", ['rtl" onmouseover="alert(1)', "javascript:alert(1)", "rtl; color: red", "sideways"])
def test_dir_is_only_a_direction(value):
    clean = sanitize_html(f'<div dir=\'{value}\'>x</div>')
    assert "dir=" not in clean and "alert" not in clean.replace("x", "") and clean == "<div>x</div>"


def test_still_no_script_or_handler_beside_dir():
    clean = sanitize_markdown('<div dir="rtl" onclick="alert(1)"><script>alert(2)</script>متن</div>')
    assert "onclick" not in clean and "<script" not in clean and 'dir="rtl"' in clean and "متن" in clean
