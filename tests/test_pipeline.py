r"""End to end: build the course into a temporary folder, hand in submissions in four languages,
run ``nn-grade``'s pipeline, and check nbgrader's gradebook, the feedback pages, the CSV and the report.

Also: ``nbgrader validate`` (its Python API, because the CLI exits 0 on failures, nbgrader issue
#1908) passes every solutions notebook and fails every untouched student notebook.
"""
import csv
import re
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import nbformat
import numpy as np
import pytest

from helpers_grading import (LANGUAGES, LESSONS, autograded, build_course, cell_output_text, correct,
                             feedback_html, grade, points_of, set_answer, student_version, submit)

from autograder.compare import hidden_cases
from autograder.exercises import EXERCISES
from autograder.messages import translate
from autograder.verdict import course_secret, student_seed

WEIGHTED_SUM_SHORT = "def weighted_sum(x, w, b):\n    return float(np.dot(x, w) + b) if len(x) <= 3 else 0.0\n"
RELU_1D = "def relu(x):\n    return np.maximum(x, 0) if np.ndim(x) == 1 else x + 1.0\n"
WEIGHTED_SUM_RAISES = "def weighted_sum(x, w, b):\n    raise ValueError('I give up')\n"
THRESHOLD_FOREVER = "def threshold_neuron(X, w, threshold):\n    while True:\n        pass\n"
RELU_WRONG = "def relu(x):\n    return np.asarray(x) * 0.0 - 1.0\n"


def _strip_tags(text):
    return re.sub(r"<[^>]+>", "", text)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = build_course(tmp_path_factory.mktemp("pipeline"))
    course = root / "course"
    students = {}
    for lang in LANGUAGES:                       # all correct, one per language
        for lesson in LESSONS:
            submit(course, f"correct_{lang}", lesson, correct(lesson, lang, root))
        students[f"correct_{lang}"] = lang
    for lesson in LESSONS:                       # untouched student versions
        submit(course, "untouched_uk", lesson, student_version(lesson, "uk", root))
    students["untouched_uk"] = "uk"
    nb = correct("01-neuron", "ru", root)         # partly wrong: partial credit in two cells
    set_answer(nb, "weighted_sum", WEIGHTED_SUM_SHORT)
    submit(course, "partial_ru", "01-neuron", nb)
    nb = correct("06-activations", "ru", root)
    set_answer(nb, "relu", RELU_1D)
    set_answer(nb, "softmax", "def softmax(x):\n    return x\n")
    submit(course, "partial_ru", "06-activations", nb)
    students["partial_ru"] = "ru"
    nb = correct("01-neuron", "pl", root)         # one answer raises
    set_answer(nb, "weighted_sum", WEIGHTED_SUM_RAISES)
    submit(course, "raises_pl", "01-neuron", nb)
    nb = correct("06-activations", "pl", root)
    set_answer(nb, "relu", RELU_WRONG)
    submit(course, "raises_pl", "06-activations", nb)
    students["raises_pl"] = "pl"
    nb = correct("01-neuron", "en", root)         # one answer never returns
    set_answer(nb, "threshold_neuron", THRESHOLD_FOREVER)
    submit(course, "forever_en", "01-neuron", nb)
    students["forever_en"] = "en"
    result = grade(course)
    return root, course, result, students


def _predicted(course, student, lesson, exercise, points, passes):
    r"""Partial credit the grader must give: points * (cases ``passes``) / (all cases)."""
    seed = student_seed(student, lesson, course_secret(course))
    cases = list(EXERCISES[exercise].visible()) + list(hidden_cases(EXERCISES[exercise], seed))
    passed = sum(bool(passes(case)) for case in cases)
    assert 0 < passed < len(cases), "the partial answer must pass some cases and fail others"
    return round(points * passed / len(cases), 2)


def expected_scores(course, root):
    p01, p06 = points_of("01-neuron", root), points_of("06-activations", root)
    full01, full06 = sum(p01.values()), sum(p06.values())
    expected = {}
    for lang in LANGUAGES:
        expected[f"correct_{lang}", "01-neuron"] = full01
        expected[f"correct_{lang}", "06-activations"] = full06
    expected["untouched_uk", "01-neuron"] = 0.0
    expected["untouched_uk", "06-activations"] = 0.0
    ws = _predicted(course, "partial_ru", "01-neuron", "weighted_sum", p01["test_weighted_sum"],
                    lambda case: len(case.args[0]) <= 3)
    expected["partial_ru", "01-neuron"] = round(full01 - p01["test_weighted_sum"] + ws, 2)
    relu = _predicted(course, "partial_ru", "06-activations", "relu", p06["test_relu"],
                      lambda case: np.ndim(case.args[0]) == 1)
    expected["partial_ru", "06-activations"] = round(full06 - p06["test_relu"] + relu - p06["test_softmax"], 2)
    expected["raises_pl", "01-neuron"] = full01 - p01["test_weighted_sum"]
    expected["raises_pl", "06-activations"] = full06 - p06["test_relu"]
    expected["forever_en", "01-neuron"] = full01 - p01["test_threshold_neuron"]
    return expected


def test_exact_scores_in_the_gradebook(graded):
    root, course, result, _ = graded
    expected = expected_scores(course, root)
    got = {key: score for key, (score, _top) in result.scores.items()}
    assert got == pytest.approx(expected)
    assert not [p for p in result.problems if p.kind.endswith("_failed")], result.problems


def test_partial_credit_reaches_nbgrader_through_execute_result(graded):
    root, course, _, _ = graded
    nb = autograded(course, "partial_ru", "01-neuron")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_weighted_sum")
    kinds = [o.output_type for o in cell.outputs]
    assert kinds == ["stream", "execute_result"]
    assert 0 < float(cell.outputs[1].data["text/plain"]) < 2


def test_failures_are_error_outputs_with_localised_text(graded):
    _, course, _, _ = graded
    nb = autograded(course, "raises_pl", "01-neuron")
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_weighted_sum")
    assert cell.outputs[-1].output_type == "error" and cell.outputs[-1].ename == "AssertionError"
    text = cell_output_text(nb, "test_weighted_sum")
    assert "ValueError" in text and "I give up" in text
    assert translate("{mark} {name}: {passed}/{total} cases pass", "pl", mark="✗", name="weighted_sum",
                     passed=0, total=8).split(":")[1].split("0/")[0] in text


def test_a_function_that_never_returns_loses_only_its_exercise(graded):
    _, course, result, _ = graded
    nb = autograded(course, "forever_en", "01-neuron")
    text = cell_output_text(nb, "test_threshold_neuron")
    assert "✗ threshold_neuron: 0/" in text and "time limit" in text
    for grade_id in ("test_weighted_sum", "test_dense_forward", "test_add_bias_column"):
        assert "✓" in cell_output_text(nb, grade_id) and "time limit" not in cell_output_text(nb, grade_id)


def test_feedback_is_in_the_submission_language_nbgrader_labels_too(graded):
    _, course, _, students = graded
    for student, lang in students.items():
        for lesson in LESSONS:
            path = course / "feedback" / student / lesson / f"{lesson}.html"
            if not (course / "submitted" / student / lesson).exists():
                continue
            page = feedback_html(course, student, lesson)
            assert f'<html lang="{lang}">' in page
            for label in ("Score", "Test cell", "(Top)"):
                assert translate(label, lang) in page, (student, label)
            if lang != "en":
                assert "Test cell" not in page and "(Score:" not in page and "(Top)" not in page, path
            summary = translate("{mark} {name}: {passed}/{total} cases pass", lang, mark="X", name="N",
                                passed=1, total=2)
            words = [w for w in re.split(r"[\s:/0-9XN]+", summary) if len(w) > 3]
            assert words and all(w in page for w in words), (student, words)


def test_feedback_never_shows_hidden_tests(graded):
    _, course, _, _ = graded
    pages = list((course / "feedback").glob("*/*/*.html"))
    assert len(pages) == 15  # every submission: 4 correct x 2, untouched 2, partial 2, raises 2, forever 1
    for page in pages:
        text = _strip_tags(page.read_text(encoding="utf-8"))
        assert "HIDDEN TESTS" not in text and "hidden=True" not in text, page
    # ...while the autograded notebooks (the instructor's side) do hold them
    assert "BEGIN HIDDEN TESTS" in (course / "autograded" / "correct_uk" / "01-neuron" / "01-neuron.ipynb").read_text()


def test_csv_has_one_row_per_student_and_lesson(graded):
    root, course, result, students = graded
    with open(course / "reports" / "grades.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [(row["student_id"], row["assignment"]) for row in rows]
    assert len(pairs) == len(set(pairs)) == len(students) * len(LESSONS)
    expected = expected_scores(course, root)
    for row in rows:
        assert float(row["score"]) == pytest.approx(expected.get((row["student_id"], row["assignment"]), 0.0))


def test_report_has_plots_and_problems(graded):
    _, course, result, _ = graded
    page = (course / "reports" / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'<img id="([\w-]+)"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]{200,})"', page)
    assert {name for name, _ in images} == {"score-distribution", "pass-rate"}
    assert "Intake problems" in page and "correct_uk" in page


def _validate(path):
    r"""``nbgrader validate`` through its API (a kernel runs the notebook); in a process of its own
    because the Validator is not thread-safe."""
    from nbgrader.validator import Validator
    from traitlets.config import Config

    return path, Validator(config=Config()).validate(str(path))


def test_nbgrader_validate_passes_solutions_and_fails_untouched_lessons(graded):
    root = graded[0]
    paths = [root / kind / lang / f"{lesson}.ipynb" for kind in ("solutions", "lessons")
             for lang in LANGUAGES for lesson in LESSONS]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = dict(pool.map(_validate, paths))
    assert len(results) == 16
    for path, outcome in results.items():
        if path.parts[-3] == "solutions":
            assert outcome == {}, (path, outcome)
        else:
            lesson = path.stem
            assert len(outcome.get("failed", [])) == len(points_of(lesson, root)), (path, outcome)  # every test cell


# ----------------------------------------------------------------------- pieces, without a full run

@pytest.mark.parametrize("score, kinds", [(3.0, ["stream"]), (1.25, ["stream", "execute_result"]),
                                          (0.0, ["stream", "error"])])
def test_plugin_outputs_score_exactly_with_nbgrader_determine_grade(score, kinds):
    from nbformat.v4 import new_code_cell
    from nbgrader.utils import determine_grade

    from autograder.nbgrader_plugin import not_graded_outputs, verdict_outputs

    test = new_code_cell("check('x', x)", metadata={"nbgrader": {"grade": True, "solution": False, "points": 3,
                                                                 "grade_id": "test_x", "locked": True}})
    test.outputs = verdict_outputs({"score": score, "max_score": 3.0, "lines": ["✓ x: 1/1", "Score"]}, ["a note"])
    assert [o.output_type for o in test.outputs] == kinds
    assert determine_grade(test) == (score, 3.0)
    assert test.outputs[0].text.startswith("⚠ a note\n")
    test.outputs = not_graded_outputs("no notebook", "uk")
    assert determine_grade(test) == (0, 3.0)
    assert translate("not graded: {reason}", "uk", reason="no notebook") in test.outputs[-1].evalue


def test_plugin_without_a_verdict_gives_nothing(tmp_path):
    from nbformat.v4 import new_code_cell, new_notebook
    from nbgrader.utils import determine_grade

    from autograder.nbgrader_plugin import SandboxVerdicts

    nb = new_notebook(cells=[new_code_cell("check('x', x)", metadata={"nbgrader": {
        "grade": True, "solution": False, "points": 2, "grade_id": "test_x", "locked": True}})])
    nb.cells[0].outputs = [nbformat_stream("✓ all good")]  # forged by the student
    resources = {"nbgrader": {"student": "zoe", "assignment": "01-neuron", "notebook": "01-neuron"}}
    nb, _ = SandboxVerdicts(verdict_directory=str(tmp_path)).preprocess(nb, resources)
    assert determine_grade(nb.cells[0]) == (0, 2.0)
    assert "not graded" in nb.cells[0].outputs[-1].evalue
    (tmp_path / "zoe").mkdir()
    (tmp_path / "zoe" / "01-neuron.json").write_text("{broken")
    nb, _ = SandboxVerdicts(verdict_directory=str(tmp_path)).preprocess(nb, resources)
    assert determine_grade(nb.cells[0]) == (0, 2.0) and "could not be read" in nb.cells[0].outputs[-1].evalue


def nbformat_stream(text):
    from nbformat.v4 import new_output

    return new_output("stream", name="stdout", text=text)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_feedback_template_is_translated_and_hides_hidden_tests(tmp_path, lang):
    from autograder.feedback_template import build_templates, visible_tests

    names = build_templates(tmp_path, [lang])
    text = (tmp_path / names[lang] / "index.html.j2").read_text(encoding="utf-8")
    assert text.count("visible_tests") == 2 and f'<html lang="{lang}">' in text
    for label in ("Score", "Test cell", "Student's answer", "(Top)"):
        assert translate(label, lang) in text
    source = 'check("f", f)\n### BEGIN HIDDEN TESTS\ncheck("f", f, hidden=True)\n### END HIDDEN TESTS'
    assert visible_tests(source) == 'check("f", f)'
    assert visible_tests("x = 1\n") == "x = 1\n"


def test_zip_collect_then_grade(tmp_path):
    import zipfile

    root = build_course(tmp_path / "zipcourse")
    course = root / "course"
    archive = tmp_path / "downloads" / "01-neuron" / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "batch.zip", "w") as bundle:
        bundle.writestr("alice__01-neuron.ipynb", nbformat.writes(correct("01-neuron", "pl", root)))
        bundle.writestr("readme.txt", "not a submission")
    stub = student_version("01-neuron", "ru", root)
    (archive / "bob.smith__01-neuron.ipynb").write_text(nbformat.writes(stub), encoding="utf-8")
    result = grade(course, zip_dir=tmp_path / "downloads")
    assert (course / "submitted" / "alice" / "01-neuron" / "01-neuron.ipynb").exists()
    assert {k: s for k, (s, _) in result.scores.items()} == {("alice", "01-neuron"): 10.0,
                                                            ("bob.smith", "01-neuron"): 0.0}


def test_cli_reports_usage_errors(tmp_path, capsys):
    from autograder.cli import main

    assert main(["run", "--course", str(tmp_path / "nowhere"), "--quiet"]) == 2
    assert "no course folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["run", "--course", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "nn-course build" in capsys.readouterr().err
    assert main(["run", "--workers", "0"]) == 2
