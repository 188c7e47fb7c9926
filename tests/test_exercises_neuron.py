"""Lesson 01-neuron: its graded exercises, its worked numbers and its translations.

The references must pass their own cases, plausible wrong answers must fail them, the solution
cells of the lesson must agree with the references, and every number the lesson's text quotes
must come out of nnlib.
"""
import re
from collections import Counter
from pathlib import Path

import jupytext
import numpy as np
import polib
import pytest

from autograder import exercises
from autograder.compare import compare_values
from autograder.exercises import neuron as lesson_exercises
from nnlib import activations, layers, neuron

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "course" / "lessons" / "01-neuron.py"
NAMES = ["weighted_sum", "dense_forward", "add_bias_column", "threshold_neuron"]
BY_NAME = {ex.name: ex for ex in lesson_exercises.EXERCISES}
SEEDS = (0, 1, 2)


def cases_of(exercise, seed=0):
    return exercise.visible() + exercise.hidden(np.random.default_rng(seed))


def matches(exercise, got, expected):
    """The grader's own rules (type, shape, dtype when checked, finite, close values)."""
    return compare_values(got, expected, exercise).passed


def failing_cases(exercise, func, seed=0):
    """Labels of the cases (visible + hidden) where ``func`` differs from the reference or raises."""
    failed = []
    for case in cases_of(exercise, seed):
        expected = exercise.reference(*case.args, **case.kwargs)
        try:
            with np.errstate(all="raise"):
                got = func(*case.args, **case.kwargs)
        except Exception:
            failed.append(case.label)
            continue
        if not matches(exercise, got, expected):
            failed.append(case.label)
    return failed


# --- the registry ------------------------------------------------------------------------------

def test_the_lesson_registers_its_four_exercises():
    assert [ex.name for ex in lesson_exercises.EXERCISES] == NAMES
    for name in NAMES:
        assert exercises.EXERCISES[name] is BY_NAME[name]


@pytest.mark.parametrize("name", NAMES)
def test_case_counts_and_labels(name):
    exercise = BY_NAME[name]
    assert 2 <= len(exercise.visible()) <= 4
    assert 4 <= len(exercise.hidden(np.random.default_rng(0))) <= 8
    for case in cases_of(exercise):
        assert case.label.format(**case.label_args)  # every placeholder is filled
    assert exercise.hint


# --- the references pass their own cases ------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_its_own_cases(name, seed):
    exercise = BY_NAME[name]
    assert failing_cases(exercise, exercise.reference, seed) == []


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_change_with_the_seed(name):
    first, second = (BY_NAME[name].hidden(np.random.default_rng(seed)) for seed in (0, 1))
    assert any(not np.array_equal(a.args[0], b.args[0]) for a, b in zip(first, second))


def test_hidden_cases_cover_the_edges():
    rng = np.random.default_rng(0)
    for name in ("dense_forward", "add_bias_column"):
        cases = BY_NAME[name].hidden(rng)
        assert any(case.args[0].dtype == np.float32 for case in cases), name
        shapes = {case.args[0].shape for case in cases}
        assert any(s[0] == 1 for s in shapes) and any(s[1] == 1 for s in shapes), (name, shapes)
    for name in NAMES:
        labels = {case.label for case in BY_NAME[name].hidden(rng)}
        assert lesson_exercises.LARGE in labels and lesson_exercises.ZEROS in labels, name


def test_float32_results_stay_float32():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 4)).astype(np.float32)
    W = rng.normal(size=(4, 2)).astype(np.float32)
    assert lesson_exercises.dense_forward(X, W, np.zeros(2, np.float32)).dtype == np.float32
    assert lesson_exercises.add_bias_column(X).dtype == np.float32


# --- wrong answers fail ------------------------------------------------------------------------

WRONG = {
    "weighted_sum": {
        "no bias": lambda x, w, b: np.dot(x, w),
        "bias subtracted": lambda x, w, b: np.dot(x, w) - b,
        "bias added to every product": lambda x, w, b: np.sum(x * w + b),
        "sum of inputs times sum of weights": lambda x, w, b: np.sum(x) * np.sum(w) + b,
    },
    "dense_forward": {
        "no bias": lambda X, W, b: X @ W,
        "bias once, not per row": lambda X, W, b: np.vstack([X[:1] @ W + b, X[1:] @ W]),
        "transposed weights": lambda X, W, b: X @ W.T + b,
        "float32 widened to float64": lambda X, W, b: X.astype(np.float64) @ W.astype(np.float64) + b,
    },
    "add_bias_column": {
        "ones first": lambda X: np.hstack([np.ones((X.shape[0], 1), X.dtype), X]),
        "zeros instead of ones": lambda X: np.hstack([X, np.zeros((X.shape[0], 1), X.dtype)]),
        "float32 widened to float64": lambda X: np.hstack([X, np.ones((X.shape[0], 1))]),
        "a row instead of a column": lambda X: np.vstack([X, np.ones((1, X.shape[1]), X.dtype)]),
    },
    "threshold_neuron": {
        "strict > instead of >=": lambda X, w, t: (X @ w > t).astype(int),
        "threshold ignored": lambda X, w, t: (X @ w >= 0).astype(int),
        "threshold added": lambda X, w, t: (X @ w + t >= 0).astype(int),
        "weights ignored": lambda X, w, t: (X.sum(axis=1) >= t).astype(int),
    },
}


@pytest.mark.parametrize("name, mistake", [(n, m) for n in NAMES for m in WRONG[n]])
def test_wrong_implementation_fails(name, mistake):
    assert failing_cases(BY_NAME[name], WRONG[name][mistake]), f"{name}: '{mistake}' passes every case"


def test_common_mistakes_are_caught_by_the_visible_cases():
    """The student's instant check (visible cases only) already catches the usual slips."""
    for name, mistake in [("weighted_sum", "no bias"), ("dense_forward", "no bias"),
                          ("dense_forward", "transposed weights"), ("add_bias_column", "ones first"),
                          ("threshold_neuron", "strict > instead of >=")]:
        exercise = BY_NAME[name]
        visible = exercise.visible()
        wrong = WRONG[name][mistake]
        assert any(not _passes(exercise, wrong, case) for case in visible), (name, mistake)


def _passes(exercise, func, case):
    try:
        got = func(*case.args, **case.kwargs)
    except Exception:
        return False
    return matches(exercise, got, exercise.reference(*case.args, **case.kwargs))


@pytest.mark.parametrize("name", NAMES)
def test_answers_hard_coded_for_the_visible_cases_fail_the_hidden_ones(name):
    exercise = BY_NAME[name]
    table = [(case.args, exercise.reference(*case.args)) for case in exercise.visible()]

    def memorised(*args):
        for known_args, answer in table:
            if all(np.array_equal(a, b) for a, b in zip(known_args, args)):
                return answer
        return np.zeros(1)

    assert all(_passes(exercise, memorised, case) for case in exercise.visible())
    assert failing_cases(exercise, memorised) != []


# --- the references agree with nnlib ---------------------------------------------------------

def test_dense_forward_is_what_nnlib_dense_computes():
    rng = np.random.default_rng(3)
    X, W, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    dense = layers.Dense(5)
    dense.build((4,))
    dense.set_weights([W, b])
    np.testing.assert_allclose(dense.forward(X), lesson_exercises.dense_forward(X, W, b), rtol=1e-12)


def test_weighted_sum_is_a_dense_unit_on_one_sample():
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=7), rng.normal(size=7), 0.3
    unit = layers.Dense(1)
    unit.build((7,))
    unit.set_weights([w.reshape(7, 1), np.array([b])])
    assert unit.forward(x[None])[0, 0] == pytest.approx(lesson_exercises.weighted_sum(x, w, b), rel=1e-12)


def test_bias_trick_reproduces_the_layer():
    rng = np.random.default_rng(5)
    X, W, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    X_tilde = lesson_exercises.add_bias_column(X)
    np.testing.assert_allclose(X_tilde @ np.vstack([W, b]), lesson_exercises.dense_forward(X, W, b), rtol=1e-12)


def test_threshold_neuron_is_heaviside_of_the_sum_minus_the_threshold():
    rng = np.random.default_rng(6)
    X, w, theta = rng.normal(size=(20, 3)), rng.normal(size=3), 0.2
    np.testing.assert_array_equal(lesson_exercises.threshold_neuron(X, w, theta), neuron.heaviside(X @ w - theta))


# --- the lesson's own solution cells ----------------------------------------------------------

def lesson_cells():
    return jupytext.read(LESSON).cells


def solution_namespace():
    namespace = {"np": np}
    for cell in lesson_cells():
        if cell.metadata.get("role") == "solution":
            exec(compile(cell.source, str(LESSON), "exec"), namespace)
    return namespace


@pytest.mark.parametrize("name", NAMES)
def test_the_lessons_solution_passes_visible_and_hidden_cases(name):
    func = solution_namespace()[name]
    for seed in SEEDS:
        assert failing_cases(BY_NAME[name], func, seed) == []


def test_every_exercise_has_a_solution_cell_and_a_test_cell():
    roles = {}
    for cell in lesson_cells():
        if "exercise" in cell.metadata:
            roles.setdefault(cell.metadata["exercise"], []).append(cell)
    assert list(roles) == NAMES
    points = 0
    for name, (solution, tests) in roles.items():
        assert solution.metadata["role"] == "solution" and tests.metadata["role"] == "tests"
        assert f"def {name}(" in solution.source
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
        assert "nnlib" not in solution.source and "import" not in solution.source  # the sandbox has only numpy
        hidden = re.search(r"### BEGIN HIDDEN TESTS\n(.*)### END HIDDEN TESTS", tests.source, re.S)
        assert tests.source.startswith(f'check("{name}", {name})')
        assert hidden and f'check("{name}", {name}, hidden=True)' in hidden.group(1)
        points += tests.metadata["points"]
    assert points == 10


# --- the numbers the lesson quotes ------------------------------------------------------------

def test_worked_example_of_one_neuron():
    x, w, b = np.array([2.0, 1.0, 3.0]), np.array([0.4, -0.6, 0.2]), 0.1
    assert np.round(w * x, 4).tolist() == [0.8, -0.6, 0.6]
    z = lesson_exercises.weighted_sum(x, w, b)
    assert f"{z:.4f}" == "0.9000" and str(z) == "0.9000000000000001"
    assert f"{activations.sigmoid(z):.4f}" == "0.7109"
    unit = layers.Dense(1, activation="sigmoid")
    unit.build((3,))
    unit.set_weights([w.reshape(3, 1), np.array([b])])
    assert f"{unit.forward(x.reshape(1, 3))[0, 0]:.4f}" == "0.7109"


def test_dense_5_on_4_inputs_has_25_parameters():
    dense = layers.Dense(5)
    dense.build((4,))
    assert dense.params["kernel"].size == 20 and dense.params["bias"].size == 5
    assert dense.count_params() == 25


def test_truth_tables_of_and_and_or():
    X_gate = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    assert neuron.threshold_unit(X_gate, [1, 1], threshold=1.5).tolist() == [0, 0, 0, 1]
    assert neuron.threshold_unit(X_gate, [1, 1], threshold=0.5).tolist() == [0, 1, 1, 1]
    assert neuron.truth_table(neuron.mp_and, 2)[:, -1].tolist() == [0, 0, 0, 1]
    assert neuron.truth_table(neuron.mp_or, 2)[:, -1].tolist() == [0, 1, 1, 1]
    # the strict inequalities of the lecture give the same tables on binary inputs
    sums = X_gate.sum(axis=1)
    assert (sums - 3 / 2 > 0).astype(int).tolist() == [0, 0, 0, 1]
    assert (sums - 1 / 2 > 0).astype(int).tolist() == [0, 1, 1, 1]


def test_brute_force_over_the_weight_grid():
    """Section 'XOR': 41**3 = 68921 settings; AND found 1330 times, OR 2870 times, XOR never."""
    X_gate = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    grid = np.linspace(-2.0, 2.0, 41)
    w1s, w2s, bs = (values.ravel() for values in np.meshgrid(grid, grid, grid, indexing="ij"))
    assert bs.size == 41 ** 3 == 68921
    outputs = (np.outer(X_gate[:, 0], w1s) + np.outer(X_gate[:, 1], w2s) + bs >= 0).astype(int)
    found = {gate: int(np.all(outputs == np.array(target)[:, None], axis=0).sum())
             for gate, target in (("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("XOR", [0, 1, 1, 0]))}
    assert found == {"AND": 1330, "OR": 2870, "XOR": 0}
    # spot-check the vectorised count against nnlib's threshold unit on a few settings
    for k in np.random.default_rng(0).choice(bs.size, 50, replace=False):
        np.testing.assert_array_equal(outputs[:, k], neuron.threshold_unit(X_gate, [w1s[k], w2s[k]], -bs[k]))


# --- translations ------------------------------------------------------------------------------

FORMULA_OR_CODE = re.compile(r"\$\$.*?\$\$|\$[^$]+\$|`[^`]+`", re.S)


@pytest.mark.parametrize("lang", ["uk", "ru", "pl"])
def test_translation_is_complete_and_keeps_every_formula_and_code_span(lang):
    markdown = [c.source for c in lesson_cells() if c.cell_type == "markdown"]
    po = polib.pofile(str(ROOT / "course" / "locale" / lang / "LC_MESSAGES" / "01-neuron.po"))
    entries = {e.msgid: e for e in po if not e.obsolete}
    assert set(entries) == set(markdown)
    for msgid, entry in entries.items():
        assert entry.msgstr and not entry.fuzzy, msgid[:60]
        assert entry.msgstr != msgid
        assert Counter(FORMULA_OR_CODE.findall(entry.msgstr)) == Counter(FORMULA_OR_CODE.findall(msgid)), msgid[:60]
