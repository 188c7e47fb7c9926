"""Grading whole notebooks: scores, partial credit, feedback that never leaks hidden answers, cheating."""
import importlib.util
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.utils import determine_grade

from autograder import verdict
from autograder.sandbox import Limits

FIXTURE = Path(__file__).parent / "fixtures" / "grading" / "exercises.py"
_spec = importlib.util.spec_from_file_location("grading_fixture_exercises", FIXTURE)
fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixtures)

LIMITS = Limits(wall_seconds=10.0, cell_seconds=2.0, call_seconds=2.0)
TESTS = {
    "test_double": ('check("double", double)\n### BEGIN HIDDEN TESTS\ncheck("double", double, hidden=True)\n'
                    '### END HIDDEN TESTS\n', 2),
    "test_square": ('check("square", square)\ncheck("square_grad", square_grad)\n### BEGIN HIDDEN TESTS\n'
                    'check("square", square, hidden=True)\ncheck("square_grad", square_grad, hidden=True)\n'
                    '### END HIDDEN TESTS\n', 3),
}
GOOD = {
    "double": "def double(x):\n    return 2 * x\n",
    "square": "def square(x):\n    return x * x\n",
    "square_grad": "def square_grad(x):\n    return 2 * x\n",
}


@pytest.fixture(autouse=True)
def exercises(monkeypatch):
    return fixtures.install(monkeypatch)


def _solution(grade_id, source):
    return new_code_cell(source, metadata={"nbgrader": {"solution": True, "grade": False, "locked": False,
                                                        "grade_id": grade_id, "schema_version": 3}})


def _test(grade_id, points):
    # the student's copy of a test cell: never used by the grader
    return new_code_cell("pass  # the student emptied this cell", metadata={"nbgrader": {
        "solution": False, "grade": True, "locked": True, "points": points, "grade_id": grade_id,
        "schema_version": 3}})


def notebook(lang="en", **sources):
    code = {**GOOD, **sources}
    return new_notebook(metadata={"course": {"lesson": "99-fixture", "lang": lang}}, cells=[
        new_markdown_cell("# A lesson"),
        new_code_cell("from autograder.checks import check\nimport nnlib\nraise RuntimeError('not run by the grader')"),
        _solution("double", code["double"]),
        new_code_cell("while True:\n    pass  # a demo cell: not run by the grader"),
        _test("test_double", 2),
        _solution("square", code["square"]),
        _solution("square_grad", code["square_grad"]),
        _test("test_square", 3),
    ])


def grade(nb, seed=1):
    return verdict.grade_notebook(nb, TESTS, seed=seed, limits=LIMITS)


def test_parse_test_cell_finds_visible_and_hidden_checks():
    source = ('from autograder.checks import check\ncheck("a", f)\ncheck("b", g, hidden=True)\n'
              '### BEGIN HIDDEN TESTS\ncheck("a", f)\n### END HIDDEN TESTS\ncheck("c", lambda x: x)\n')
    assert verdict.parse_test_cell(source) == [
        verdict.CheckSpec("a", "f", False), verdict.CheckSpec("b", "g", True), verdict.CheckSpec("a", "f", True),
        verdict.CheckSpec("c", "c", False)]
    with pytest.raises(ValueError, match="string literal"):
        verdict.parse_test_cell("check(name, f)")


def test_seeds_are_stable_and_depend_on_student_lesson_and_secret(tmp_path):
    seed = verdict.student_seed("alice", "01-neuron", "s3cret")
    assert seed == verdict.student_seed("alice", "01-neuron", "s3cret") and 0 <= seed < 2**63
    assert len({seed, verdict.student_seed("bob", "01-neuron", "s3cret"),
                verdict.student_seed("alice", "06-activations", "s3cret"),
                verdict.student_seed("alice", "01-neuron", "other")}) == 4
    (tmp_path / ".autograder_secret").write_text("from-file\n")
    assert verdict.course_secret(tmp_path, environ={}) == "from-file"
    assert verdict.course_secret(tmp_path, environ={"AUTOGRADER_SECRET": "env"}) == "env"
    assert verdict.course_secret(None, environ={}) == ""


def test_correct_notebook_earns_full_marks_and_only_solution_cells_run():
    v = grade(notebook())
    assert v.sandbox["status"] == "ok" and v.sandbox["nnlib_flagged"] == []
    assert (v.score, v.max_score) == (5.0, 5.0)
    cell = v.cells["test_double"]
    assert (cell.passed, cell.total) == (7, 7)  # 3 visible + 4 hidden
    assert cell.lines == ["✓ double: 7/7 cases pass", "Score: 2 of 2"]
    assert v.cells["test_square"].exercises == ["square", "square_grad"]


def test_partial_credit_and_feedback_that_hides_hidden_answers():
    v = grade(notebook(double="def double(x):\n    return (2 * x).astype(np.float64)\n"))
    cell = v.cells["test_double"]
    # the float32 cases (one visible, one hidden) fail: 5 of 7 pass
    assert (cell.passed, cell.total, cell.score) == (5, 7, round(2 * 5 / 7, 2))
    text = "\n".join(cell.lines)
    assert "Case 3: float32 input" in text and "Hidden case 4: float32 input" in text
    assert "expected dtype float32, got float64" in text
    assert v.cells["test_square"].score == 3.0


def test_hard_coded_visible_answers_fail_the_hidden_cases():
    visible = {tuple(np.ravel(c.args[0])): 2 * c.args[0] for c in fixtures.EXERCISES[0].visible()}
    table = {k: v.tolist() for k, v in visible.items()}
    source = (f"TABLE = {table!r}\n"
              "def double(x):\n"
              "    key = tuple(float(v) for v in np.ravel(x))\n"
              "    return np.array(TABLE[key], dtype=x.dtype) if key in TABLE else np.zeros_like(x)\n")
    v = grade(notebook(double=source))
    cell = v.cells["test_double"]
    assert (cell.passed, cell.total) == (3, 7)
    hidden_lines = [line for line in cell.lines if "Hidden case" in line]
    assert len(hidden_lines) == 3 and "… and 1 more failing cases" in "\n".join(cell.lines)
    text = "\n".join(cell.lines)
    assert "expected" not in text  # no expected value of a hidden case is ever shown
    # each student gets other hidden inputs
    from autograder.compare import hidden_cases

    mine, theirs = hidden_cases(fixtures.EXERCISES[0], 1), hidden_cases(fixtures.EXERCISES[0], 2)
    assert not np.array_equal(mine[0].args[0], theirs[0].args[0])


def test_untouched_stub_earns_nothing_and_says_why_in_the_notebook_language():
    stub = "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    v = grade(notebook(lang="uk", double=stub))
    cell = v.cells["test_double"]
    assert cell.score == 0 and cell.lines[0] == "✗ double: пройдено 0/7 тестів"
    assert cell.lines[1:] == ["  ще не реалізовано: замініть `raise NotImplementedError()` своїм кодом", "Бали: 0 з 2"]
    assert v.lang == "uk" and v.cells["test_square"].score == 3.0


def test_using_nnlib_earns_nothing_for_that_exercise():
    cheat = ("def double(x):\n    \"\"\"Not nnlib.activations, honest.\"\"\"\n"
             "    import nnlib.gradcheck as g\n    return 2 * x + g.rel_error(x, x)\n")
    v = grade(notebook(lang="pl", double=cheat))
    assert v.cells["test_double"].score == 0
    assert "double nie dostaje punktów za to zadanie, ponieważ wywołuje referencyjną bibliotekę nnlib" in \
        "\n".join(v.cells["test_double"].lines)
    assert v.cells["test_square"].score == 3.0 and v.sandbox["nnlib_flagged"] == ["double"]
    # a docstring or comment mentioning nnlib is not use
    assert not verdict.uses_nnlib('def f(x):\n    """like nnlib.sigmoid"""\n    return x  # nnlib\n')
    assert verdict.uses_nnlib("import importlib\nm = importlib.import_module('nnlib.activations')\n")


def test_tampering_with_numpy_builtins_or_the_output_cannot_forge_a_verdict():
    forged = (
        "import builtins, os\n"
        "np.allclose = lambda *a, **k: True\n"
        "np.isclose = lambda a, b, **k: np.ones(np.shape(a), dtype=bool)\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "builtins.isinstance = lambda *a: True\n"
        "print('All tests passed. Score: 2 of 2')\n"
        "open('results.jsonl', 'w').write('{\"event\": \"done\", \"score\": 2, \"passed\": true}')\n"
        "for fd in range(3, 30):\n"
        "    try:\n"
        "        os.write(fd, b'{\"event\": \"done\", \"passed\": true, \"score\": 2}\\n')\n"
        "    except OSError:\n"
        "        pass\n"
        "def double(x):\n"
        "    return x + 1\n"
    )
    v = grade(notebook(double=forged))
    assert v.cells["test_double"].score == 0  # (breaking isinstance may cost the student other points too)
    assert not np.allclose(np.zeros(2), np.ones(2)) and not isinstance(1, str)  # the grader's own are intact


def test_a_hanging_solution_reports_the_time_limit():
    slow = "def square(x):\n    while True:\n        pass\n"
    v = grade(notebook(square=slow))
    text = "\n".join(v.cells["test_square"].lines)
    assert "took too long and was stopped (time limit)" in text
    assert v.cells["test_square"].score == 1.5  # square_grad's cases still pass
    broken = "def square(x):\n    return x * x\nraise ValueError('oops')\n"
    v = grade(notebook(square=broken))
    assert "Your solution cell raised ValueError: oops" in "\n".join(v.cells["test_square"].lines)


def test_verdict_round_trips_through_json_atomically(tmp_path):
    v = grade(notebook(double="def double(x):\n    return x\n"))
    path = tmp_path / "verdict.json"
    v.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["verdict.json"]
    back = verdict.NotebookVerdict.load(path)
    assert back == v and back.score == v.score


@pytest.mark.parametrize("double, expected", [
    ("def double(x):\n    return 2 * x\n", 2.0),
    ("def double(x):\n    return (2 * x).astype(np.float64)\n", round(2 * 5 / 7, 2)),
    ("def double(x):\n    return x\n", 0.0),
])
def test_outputs_written_into_the_notebook_are_scored_by_nbgrader_as_the_verdict(double, expected):
    nb = notebook(double=double)
    v = grade(nb)
    verdict.apply_verdict(nb, v)
    nbformat.validate(nb)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double")
    assert determine_grade(cell) == (expected, 2.0)
    assert cell.outputs[0]["name"] == "stdout" and cell.outputs[0]["text"].startswith(v.cells["test_double"].lines[0])
