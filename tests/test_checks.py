"""Instant feedback in the student's kernel, the comparison rules behind it, and the message catalogs."""
import importlib.util
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import polib
import pytest

from autograder import checks, compare, messages
from autograder.compare import CallResult, compare_case, judge, score_cases

FIXTURE = Path(__file__).parent / "fixtures" / "grading" / "exercises.py"
_spec = importlib.util.spec_from_file_location("grading_fixture_exercises", FIXTURE)
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)


@pytest.fixture
def ex(monkeypatch):
    """The fixture exercises, registered for this test; the language pinned to English."""
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.delenv("AUTOGRADER_SEED", raising=False)
    monkeypatch.chdir(Path(__file__).parent)
    return fixtures.install(monkeypatch)


# --- the language -----------------------------------------------------------------------------------

def _notebook(path, lang):
    path.write_text(json.dumps({"cells": [], "metadata": {"course": {"lesson": "01-neuron", "lang": lang}},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_language_from_the_session_notebook_metadata(tmp_path):
    nb = _notebook(tmp_path / "01-neuron.ipynb", "pl")
    assert checks.detect_language({"JPY_SESSION_NAME": str(nb)}, cwd=tmp_path / "x") == "pl"
    # JupyterLab may give the path relative to its root; the kernel runs in the notebook's folder
    assert checks.detect_language({"JPY_SESSION_NAME": "lessons/pl/01-neuron.ipynb"}, cwd=tmp_path) == "pl"


def test_language_falls_back_to_folder_then_env_then_english(tmp_path):
    folder = tmp_path / "ru"
    folder.mkdir()
    broken = _notebook(tmp_path / "other.ipynb", "de")  # not a course language: ignored
    assert checks.detect_language({"JPY_SESSION_NAME": str(broken), "COURSE_LANG": "pl"}, cwd=folder) == "ru"
    assert checks.detect_language({"JPY_SESSION_NAME": str(tmp_path / "missing.ipynb"), "COURSE_LANG": "uk"},
                                  cwd=tmp_path) == "uk"
    assert checks.detect_language({}, cwd=tmp_path) == "en"


# --- check() in the kernel ------------------------------------------------------------------------

def test_correct_function_prints_a_summary_on_stdout_and_returns_none(ex, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert checks.check("double", lambda x: x + x) is None
        assert checks.check("double", lambda x: x * 2, hidden=True) is None
    out, err = capsys.readouterr()
    assert "✓ double: 3/3 visible cases pass" in out
    assert "✓ double: 4/4 hidden cases pass" in out
    assert err == ""


def test_wrong_function_prints_details_and_raises_assertion_error(ex, capsys):
    with pytest.raises(AssertionError) as info:
        checks.check("double", lambda x: x + 1)
    out, err = capsys.readouterr()
    report = str(info.value)
    assert err == "" and out.strip() == report
    assert report.startswith("✗ double: 0/3 visible cases pass")
    assert "Case 1: input of shape (3,)" in report
    assert "2 of 3 values are wrong; e.g. at index [1] the result is -1, expected -4" in report
    assert "expected: [ 2., -4.,  7.]" in report and "got: [ 2. , -1. ,  4.5]" in report
    assert "Hint: Multiply every element by 2." in report
    # in Jupyter the traceback box shows only the summary line (the report is printed above it)
    assert info.value._render_traceback_() == ["CheckFailed: ✗ double: 0/3 visible cases pass"]


@pytest.mark.parametrize("lang, words", [
    ("en", ["visible cases pass", "expected shape (3,), got (3, 1)", "Hint:"]),
    ("uk", ["відкритих тестів", "очікувалася форма (3,), отримано (3, 1)", "Тест 1: вхід форми (3,)", "Підказка:"]),
    ("ru", ["открытых тестов", "ожидалась форма (3,), получено (3, 1)", "Тест 1: вход формы (3,)", "Подсказка:"]),
    ("pl", ["jawnych testów", "oczekiwano kształtu (3,), otrzymano (3, 1)", "Test 1: wejście o kształcie (3,)",
            "Wskazówka:"]),
])
def test_feedback_is_in_the_notebook_language(ex, monkeypatch, capsys, tmp_path, lang, words):
    folder = tmp_path / lang
    folder.mkdir()
    monkeypatch.chdir(folder)  # as nbval runs solutions/<lang>/ notebooks
    with pytest.raises(AssertionError) as info:
        checks.check("double", lambda x: (2 * x).reshape(-1, 1))
    for word in words:
        assert word in str(info.value)
    assert capsys.readouterr().err == ""


def test_untouched_stub_and_exceptions_are_reported(ex):
    def stub(x):
        raise NotImplementedError()

    ok, report = checks.run_check("double", stub, lang="uk")
    assert not ok and "ще не реалізовано: замініть `raise NotImplementedError()`" in report

    def broken(x):
        return x @ np.ones((7, 7))

    ok, report = checks.run_check("double", broken)
    assert not ok and "raised ValueError: matmul" in report


def test_overflow_warning_fails_the_case_and_never_reaches_stderr(ex, capsys):
    def naive(x):
        return 1 / (1 + np.exp(-x))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning escaping check() would raise here
        with pytest.raises(AssertionError) as info:
            checks.check("stable_sigmoid", naive)
    assert "numerical warning: overflow encountered in exp" in str(info.value)
    assert capsys.readouterr().err == ""
    checks.check("stable_sigmoid", fixtures.stable_sigmoid)


def test_hidden_mode_never_shows_expected_values(ex, monkeypatch):
    answers = {tuple(c.args[0].ravel()): 2 * c.args[0] for c in ex["double"].visible()}

    def hard_coded(x):  # right on the visible cases only
        return answers.get(tuple(np.ravel(x)), np.zeros_like(x))

    assert checks.run_check("double", hard_coded)[0]
    monkeypatch.setenv("AUTOGRADER_SEED", "7")
    ok, report = checks.run_check("double", hard_coded, hidden=True, seed=checks.hidden_seed())
    assert not ok and "0/4 hidden cases pass" in report and "Hidden case 1:" in report
    assert "expected" not in report
    hidden = compare.hidden_cases(ex["double"], 7)
    for case in hidden:
        for value in np.ravel(2 * case.args[0])[:3]:
            assert compare.format_value(value) not in report
    # the seed changes the hidden inputs
    assert not np.array_equal(hidden[0].args[0], compare.hidden_cases(ex["double"], 8)[0].args[0])


def test_a_function_using_nnlib_fails_the_instant_check(ex):
    import nnlib.gradcheck

    def cheat(x):
        return nnlib.gradcheck.rel_error(x, x) + 2 * x

    ok, report = checks.run_check("double", cheat)
    assert not ok and "it calls the nnlib reference" in report
    assert checks.uses_reference(nnlib.gradcheck.rel_error)
    assert not checks.uses_reference(lambda x: np.maximum(x, 0))


# --- the comparison rules -------------------------------------------------------------------------

def test_type_shape_dtype_and_nan_messages(ex):
    double = ex["double"]
    case = double.visible()[0]
    expected = 2 * case.args[0]
    assert compare_case(double, case, [2.0, -4.0, 7.0], expected).reason_msgid.startswith("expected a NumPy array")
    out = compare_case(double, case, expected.reshape(3, 1), expected)
    assert out.details == {"expected_shape": "(3,)", "got_shape": "(3, 1)"}
    out = compare_case(double, case, expected.astype(np.float32), expected)
    assert out.details == {"expected_dtype": "float64", "got_dtype": "float32"}
    bad = expected.copy()
    bad[1] = np.nan
    out = compare_case(double, case, bad, expected)
    assert not out.passed and out.details == {"got": "nan", "index": "[1]"}
    assert compare_case(double, case, expected * (1 + 1e-9), expected).passed
    scalar = compare_case(double, case, np.array([3.0]), np.float64(3.0))
    assert scalar.reason_msgid == "expected a number, got {got_type}"
    assert compare_case(double, case, np.float64(3.0), 3.0).passed


def test_worst_element_is_reported_and_hidden_cases_hide_the_expected_value(ex):
    double = ex["double"]
    case = double.visible()[1]
    expected = 2 * case.args[0]
    got = expected.copy()
    got[0, 1] += 0.5
    got[1, 0] += 3.0
    visible = compare_case(double, case, got, expected)
    assert visible.details == {"count": "2", "size": "4", "index": "[1, 0]", "got": "9", "expected": "6"}
    hidden = compare_case(double, case, got, expected, hidden=True)
    assert "expected" not in hidden.details and "expected" not in hidden.reason_msgid


def test_tuple_results_are_compared_item_by_item(ex):
    pair = ex["pair"]
    case = pair.visible()[0]
    expected = fixtures.pair(case.args[0])
    assert compare_case(pair, case, expected, expected).passed
    out = compare_case(pair, case, (expected[0], expected[0]), expected)
    assert not out.passed and out.details["item"] == "2"
    assert "item 2 of the result:" in compare.reason_text(out, "en")
    assert compare_case(pair, case, expected[0], expected).reason_msgid.startswith("expected a tuple")


def test_derivatives_are_checked_against_a_numerical_gradient(ex):
    from autograder.exercise import Exercise

    case = ex["square_grad"].visible()[0]
    assert compare_case(ex["square_grad"], case, 2 * case.args[0], 2 * case.args[0]).passed
    # a reference that is not the derivative of its forward function is caught by the numerical check
    wrong = Exercise("square_grad", lambda x: 3 * x, visible=lambda: [], hidden=lambda rng: [], gradient_of="square")
    out = compare_case(wrong, case, 3 * case.args[0], 3 * case.args[0])
    assert not out.passed and out.details["forward"] == "square" and out.details["numerical"] == "7"
    out = compare_case(wrong, case, 3 * case.args[0], 3 * case.args[0], hidden=True)
    assert "numerical" not in out.details and "got" not in out.details
    # at ReLU's kink the derivative is a convention: only the reference decides there
    kink = ex["relu_grad"].hidden(np.random.default_rng(0))[0]
    assert compare_case(ex["relu_grad"], kink, fixtures.relu_grad(kink.args[0]), fixtures.relu_grad(kink.args[0])).passed
    # a backward f(x, dy) is checked as a vector-Jacobian product with upstream dy
    back = ex["cube_backward"]
    bcase = back.visible()[0]
    right = fixtures.cube_backward(*bcase.args)
    assert compare.gradient_mismatch(back, bcase, right) is None
    assert compare.gradient_mismatch(back, bcase, 3 * bcase.args[0] ** 2) is not None


def test_judge_orders_failures_and_scores_partial_credit(ex):
    double = ex["double"]
    case = double.visible()[0]
    expected = 2 * case.args[0]
    assert judge(double, case, CallResult("ok", expected), expected).passed
    assert judge(double, case, CallResult("ok", expected, warnings=("overflow",)), expected).details == {
        "warning": "overflow"}
    assert judge(double, case, CallResult("timeout"), expected).reason_msgid.startswith("took too long")
    assert judge(double, case, CallResult("error", error_type="MemoryError"), expected).reason_msgid.startswith(
        "ran out of memory")
    assert judge(double, case, CallResult("ok", expected, used_nnlib=True), expected).reason_msgid.startswith(
        "it calls the nnlib")
    outcomes = [compare.PASSED] * 2 + [compare.fail("x")]
    assert score_cases(outcomes, 2) == 1.33 and score_cases([], 2) == 0.0 and score_cases(outcomes[:2], 3) == 3.0


def test_unknown_exercise_suggests_the_closest(ex):
    with pytest.raises(KeyError, match="Did you mean 'double'"):
        compare.find_exercise("doubel")


# --- the catalogs -----------------------------------------------------------------------------------

def test_every_message_is_translated_in_every_language():
    wanted = messages.all_msgids()
    for text in messages.EXTRA:
        assert text in wanted
    for lang in ("uk", "ru", "pl"):
        po = {e.msgid: e for e in polib.pofile(str(messages.catalog_path(lang))) if not e.obsolete}
        for msgid in wanted:
            entry = po.get(msgid)
            assert entry is not None and entry.msgstr and not entry.fuzzy, f"{lang}: {msgid!r} is not translated"
            assert messages._fields(entry.msgstr) == messages._fields(msgid), f"{lang}: placeholders of {msgid!r}"


def test_committed_grader_catalogs_are_up_to_date(tmp_path):
    """The .pot and the merged .po files are generated: `python -m autograder.messages extract`."""
    committed = messages.LOCALE_DIR
    shutil.copytree(committed, tmp_path / "locale")
    messages.extract(locale_dir=tmp_path / "locale")
    generated = sorted(p.relative_to(tmp_path / "locale") for p in (tmp_path / "locale").rglob("*.po*"))
    assert generated == sorted(p.relative_to(committed) for p in committed.rglob("*.po*"))
    stale = [str(rel) for rel in generated if (tmp_path / "locale" / rel).read_bytes() != (committed / rel).read_bytes()]
    assert stale == [], f"stale grader catalogs (run `python -m autograder.messages extract`): {stale}"


def test_translate_falls_back_to_english_and_keeps_unknown_placeholders():
    assert messages.translate("Score", "pl") == "Punkty"
    assert messages.translate("Score", "de") == "Score"
    assert messages.translate("no such message {x}", "uk", x=3) == "no such message 3"
    assert messages.translate("expected shape {expected_shape}, got {got_shape}", "ru", expected_shape="(2,)") == \
        "ожидалась форма (2,), получено {got_shape}"


def test_extract_merges_and_marks_edited_entries_fuzzy(tmp_path, monkeypatch):
    from autograder.exercise import Case, Exercise

    exercise = Exercise("toy", abs, visible=lambda: [Case((1,), label="a brand-new label")],
                        hidden=lambda rng: [], hint="Take the absolute value of x.")
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "uk"}
    po.append(polib.POEntry(msgid="Take the absolute value of the input x.", msgstr="Візьміть модуль входу x."))
    po.append(polib.POEntry(msgid="Score", msgstr="Бали"))
    (tmp_path / "uk" / "LC_MESSAGES").mkdir(parents=True)
    po.save(str(tmp_path / "uk" / "LC_MESSAGES" / "autograder.po"))
    messages.extract({"toy": exercise}, locale_dir=tmp_path, languages=("uk",))
    merged = {e.msgid: e for e in polib.pofile(str(tmp_path / "uk" / "LC_MESSAGES" / "autograder.po"))}
    assert merged["Score"].msgstr == "Бали" and not merged["Score"].fuzzy
    assert merged["a brand-new label"].msgstr == ""
    edited = merged["Take the absolute value of x."]
    assert edited.fuzzy and edited.msgstr == "Візьміть модуль входу x."
    assert (tmp_path / "autograder.pot").read_text(encoding="utf-8").count("msgid") == len(messages.all_msgids(
        {"toy": exercise})) + 1
    assert messages.status(tmp_path, ("uk",))["uk"][1] == 1
