"""Feedback of the hidden checks in Persian (issue 23): one switch for the course
(HW_FEEDBACK_LANGUAGE), English by default, messages kept in a gettext catalogue read with
Babel. One failing check rendered in each language, and the catalogue kept in step with the
checks' titles it translates."""
import ast
import re

import pytest
from babel.messages.pofile import read_po

from conftest import REPO
from hwtools.grading import messages
from hwtools.grading.hidden_runner import group_report, group_totals

CATALOGUE = REPO / "hwtools" / "grading" / "locale" / "fa" / "LC_MESSAGES" / "feedback.po"


def theory_titles() -> dict:
    tree = ast.parse((REPO / "tests" / "hidden" / "theory" / "test_theory.py").read_text())
    return {node.name: ast.get_docstring(node).splitlines()[0] for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def failing_report() -> str:
    """The hidden cell of the batch-norm statements with statement (a) answered wrong."""
    titles = theory_titles()
    checks = [{"id": name, "group": "hidden_bn_statements", "points": 1.0, "description": titles[name],
               "passed": name != "test_bn_statement_a", "earned": float(name != "test_bn_statement_a"),
               "message": "bn_statement_a: the statement is false (the reason is in this check's title)"
               if name == "test_bn_statement_a" else ""}
              for name in ("test_bn_statement_a", "test_bn_statement_b", "test_bn_statement_c")]
    total = group_totals(checks)["hidden_bn_statements"]
    return group_report("hidden_bn_statements", total, 4.0, "the kernel died")


def test_english_by_default(monkeypatch):
    monkeypatch.delenv(messages.SWITCH, raising=False)
    report = failing_report()
    assert report.startswith("Hidden tests hidden_bn_statements: 2 / 4 points\n")
    assert "  [FAIL] Statement (a) is false: batch norm makes each step slower" in report
    assert "  1 points of checks did not run: the kernel died" in report
    assert not re.search(r"[\u0600-\u06FF]", report)


def test_persian_with_the_switch(monkeypatch):
    monkeypatch.setenv(messages.SWITCH, "fa")
    shown = failing_report()
    # each Persian text is a right-to-left isolate in the left-to-right report, its Latin runs
    # (identifiers, numbers, the group's name) left-to-right isolates inside it
    assert f"[FAIL] {messages.RLI}گزارهٔ (الف) نادرست است" in shown
    assert f"{messages.LRI}hidden_bn_statements: 2{messages.PDI} از {messages.LRI}4{messages.PDI} نمره" in shown
    report = re.sub("[\u2066-\u2069]", "", shown)
    assert report.startswith("آزمون‌های پنهان hidden_bn_statements: 2 از 4 نمره\n")
    assert "  [FAIL] گزارهٔ (الف) نادرست است: نرمال‌سازی دسته‌ای هر گام را کندتر می‌کند" in report
    assert "  [PASS] گزارهٔ (ب) درست است" in report
    assert "  1 نمره از بررسی‌ها اجرا نشد: the kernel died" in report
    # the student's failure message, which carries their values, is kept as the check wrote it
    assert "bn_statement_a: the statement is false" in report


def test_an_unknown_language_stays_english(monkeypatch):
    monkeypatch.setenv(messages.SWITCH, "xx")
    assert failing_report().startswith("Hidden tests hidden_bn_statements")


def test_catalogue_translates_every_theory_title_and_keeps_placeholders():
    with open(CATALOGUE, "rb") as handle:
        catalogue = {m.id: m for m in read_po(handle, locale="fa") if m.id}
    missing = {name for name, title in theory_titles().items() if title not in catalogue}
    assert not missing, f"titles changed or added without their Persian: {missing}"
    for message in catalogue.values():
        assert not message.fuzzy and re.search(r"[\u0600-\u06FF]", message.string), message.id
        assert re.findall(r"\{\w+\}", message.id) == re.findall(r"\{\w+\}", message.string), message.id


def raised(function, *args, **kwargs) -> str:
    try:
        function(*args, **kwargs)
    except Exception as err:  # CheckFailure, ContractBroken: what a hidden check's failure reads
        return str(err)
    raise AssertionError(f"{function.__name__} did not fail")


def shared_failures() -> list[str]:
    """Messages the shared checks and the kit really raise (not copies of their wording)."""
    import numpy as np

    from hwtools import checks
    from hwtools.grading import kit

    return [raised(checks.assert_close, np.zeros((2, 3)), np.ones((2, 3)), name="out"),
            raised(checks.assert_shape, np.zeros(3), (2, 3), name="out"),
            raised(checks.assert_equal_number, 3, 4, name="n"),
            raised(kit.returned_array, np.zeros(4), "out", shape=(4, 3)),
            raised(kit.returned_number, "7", "count")]


def report_of(message: str) -> str:
    check = {"id": "test_x", "group": "hidden_x", "points": 2.0, "description": "x", "passed": False,
             "earned": 0.0, "message": message}
    return group_report("hidden_x", group_totals([check])["hidden_x"], 2.0)


def test_a_failing_shared_check_reads_in_each_language(monkeypatch):
    failures = shared_failures()
    monkeypatch.delenv(messages.SWITCH, raising=False)
    for message in failures:
        assert f"         {message}\n" in report_of(message)  # English: as the check wrote it
    monkeypatch.setenv(messages.SWITCH, "fa")
    english_words = re.compile(r"\b(expected|got|values|differ|must|shape|worst|allowed|relative|off by|number)\b")
    for message in failures:
        line = report_of(message).splitlines()[2]
        assert line.startswith(f"         {messages.RLI}"), line  # a right-to-left isolate
        plain = re.sub("[\u2066-\u2069]", "", line).strip()
        assert re.search(r"[\u0600-\u06FF]{3,}", plain) and not english_words.search(plain), (message, plain)
    # the values stay, left to right: the grader's numbers, the student's shape
    plain = re.sub("[\u2066-\u2069]", "", messages.translate(failures[0], "fa"))
    assert plain == ("out: 6 مقدار از 6 مقدار با مقدارهای مورد انتظار فرق دارد؛ بیشترین اختلاف در اندیس (0, 0): "
                     "انتظار 1، دریافت 0 (اختلاف 1، نسبی 1؛ مجاز: rtol=1e-07، atol=0)")
    assert re.sub("[\u2066-\u2069]", "", messages.translate(failures[3], "fa")) == \
        "قرارداد: out باید شکل (4, 3) داشته باشد؛ اما دریافت شد: شکل (4,)"


def test_every_template_fills_in():
    """A translation whose isolates split a placeholder ("{\u2066actual}") would not format: the
    message would silently stay English."""
    for english, persian in messages.catalogue("fa").items():
        names = messages.PLACEHOLDER.findall(english)
        filled = persian.format(**{name: "V" for name in names})
        assert "{" not in filled.replace("({...})", "") and filled.count("V") >= len(names), english
