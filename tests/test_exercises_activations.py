"""Lesson 06-activations: its graded exercises, its reference solutions, its worked numbers, its translations."""
import ast
import collections
import copy
import re
import warnings
from pathlib import Path

import jupytext
import numpy as np
import polib
import pytest

from autograder.compare import compare_case
from autograder.exercises import EXERCISES
from autograder.exercises import activations as lesson_exercises
from nnlib import activations
from nnlib.gradcheck import numerical_gradient, rel_error

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "course" / "lessons" / "06-activations.py"
NAMES = ["sigmoid", "sigmoid_grad", "relu", "relu_grad", "leaky_relu", "softmax"]
SEEDS = (0, 1, 2)


def all_cases(exercise):
    """The visible cases and the hidden cases of three student seeds."""
    cases = list(exercise.visible())
    for seed in SEEDS:
        cases += exercise.hidden(np.random.default_rng(seed))
    return cases


def failures(exercise, func):
    """Labels of the cases ``func`` fails as the grader judges them (autograder.compare): an exception,
    a numerical warning (overflow), a wrong type, shape or dtype, values out of tolerance, or for a
    derivative a disagreement with the numerical derivative of the forward function."""
    failed = []
    for case in all_cases(exercise):
        expected = exercise.reference(*case.args, **case.kwargs)
        args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
        try:
            with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
                warnings.simplefilter("error", RuntimeWarning)
                got = func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - any error of the student's function fails the case
            failed.append(case.label)
            continue
        if not compare_case(exercise, case, got, expected).passed:
            failed.append(case.label)
    return failed


def read_lesson():
    return jupytext.read(LESSON)


def solution_namespace():
    """Run the lesson's solution cells (and nothing else) with NumPy, as the grader's sandbox does."""
    namespace = {"np": np}
    for cell in read_lesson().cells:
        if cell.metadata.get("role") == "solution":
            exec(compile(cell.source, f"<solution {cell.metadata['exercise']}>", "exec"), namespace)
    return namespace


def lesson_cell(marker):
    """The source of the one code cell of the lesson containing ``marker``."""
    found = [c.source for c in read_lesson().cells if c.cell_type == "code" and marker in c.source]
    assert len(found) == 1, f"expected one code cell containing {marker!r}, found {len(found)}"
    return found[0]


# --- the exercises and their cases ------------------------------------------------------------------

def test_the_lesson_registers_its_six_exercises():
    assert [ex.name for ex in lesson_exercises.EXERCISES] == NAMES
    for name in NAMES:
        assert EXERCISES[name] is next(ex for ex in lesson_exercises.EXERCISES if ex.name == name)
    assert EXERCISES["sigmoid_grad"].gradient_of == "sigmoid"
    assert EXERCISES["relu_grad"].gradient_of == "relu"


@pytest.mark.parametrize("name", NAMES)
def test_case_counts_and_labels(name):
    exercise = EXERCISES[name]
    assert 2 <= len(exercise.visible()) <= 4
    hidden = exercise.hidden(np.random.default_rng(0))
    assert 4 <= len(hidden) <= 8
    for case in exercise.visible() + hidden:
        case.label.format(**case.label_args)  # every placeholder is filled
        assert all(isinstance(a, np.ndarray) for a in case.args)
    assert exercise.hint


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_depend_on_the_seed_and_are_reproducible(name):
    exercise = EXERCISES[name]
    first = exercise.hidden(np.random.default_rng(7))
    again = exercise.hidden(np.random.default_rng(7))
    other = exercise.hidden(np.random.default_rng(8))
    assert all(np.array_equal(a, b) for c, d in zip(first, again) for a, b in zip(c.args, d.args))
    assert not all(np.array_equal(a, b) for c, d in zip(first, other) for a, b in zip(c.args, d.args))


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_cover_float32_and_extreme_values(name):
    hidden = EXERCISES[name].hidden(np.random.default_rng(0))
    assert any(c.args[0].dtype == np.float32 for c in hidden)
    assert max(np.abs(c.args[0]).max() for c in hidden) >= 100
    if name != "softmax":
        shapes = {c.args[0].shape for c in hidden}
        assert any(len(s) == 2 and s[0] == 1 for s in shapes) and any(len(s) == 2 and s[1] == 1 for s in shapes)


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_its_own_cases_without_warnings(name):
    exercise = EXERCISES[name]
    assert failures(exercise, exercise.reference) == []


@pytest.mark.parametrize("name", NAMES)
def test_reference_keeps_shape_and_dtype(name):
    for case in all_cases(EXERCISES[name]):
        out = EXERCISES[name].reference(*case.args, **case.kwargs)
        assert out.shape == case.args[0].shape and out.dtype == case.args[0].dtype


@pytest.mark.parametrize("name, forward", [("sigmoid_grad", activations.sigmoid), ("relu_grad", activations.relu)])
def test_derivative_references_match_numerical_gradients(name, forward):
    exercise = EXERCISES[name]
    assert exercise.gradient_of == forward.__name__
    for case in all_cases(exercise):
        x = case.args[0].astype(np.float64)
        numeric = numerical_gradient(lambda z: np.sum(forward(z)), x)
        smooth = x != 0  # ReLU has a kink at 0, where the derivative is a convention
        assert rel_error(exercise.reference(x)[smooth], numeric[smooth]) < 1e-6, case.label


def test_relu_grad_is_zero_at_the_kink_and_cases_check_it():
    assert any((c.args[0] == 0).any() for c in EXERCISES["relu_grad"].visible())
    assert failures(EXERCISES["relu_grad"], lambda x: (x >= 0).astype(x.dtype))


def test_softmax_cases_are_two_dimensional_and_rows_sum_to_one():
    for case in all_cases(EXERCISES["softmax"]):
        assert case.args[0].ndim == 2
        out = EXERCISES["softmax"].reference(case.args[0])
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-6)


# --- wrong answers fail -------------------------------------------------------------------------------

def naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def other_naive_sigmoid(x):
    return np.exp(x) / (1 + np.exp(x))


def stable_sigmoid_in_float64(x):
    z = np.exp(-np.abs(x.astype(np.float64)))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def sigmoid_off_by_sign(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, z / (1 + z), 1 / (1 + z))


@pytest.mark.parametrize("wrong", [naive_sigmoid, other_naive_sigmoid, stable_sigmoid_in_float64, sigmoid_off_by_sign])
def test_wrong_sigmoids_fail(wrong):
    assert failures(EXERCISES["sigmoid"], wrong)


def test_naive_sigmoid_fails_only_where_it_overflows():
    # float64 survives e^500; e^1000 overflows, and float32 overflows above e^88.7
    assert set(failures(EXERCISES["sigmoid"], naive_sigmoid)) == {lesson_exercises.EXTREME, lesson_exercises.FLOAT32}


@pytest.mark.parametrize("wrong", [
    lambda x: activations.sigmoid(x) * (1 - activations.sigmoid(x)) * 2,
    lambda x: x * (1 - x),  # the derivative written in terms of the output, fed the input
    lambda x: activations.sigmoid(x),
    lambda x: naive_sigmoid(x) * (1 - naive_sigmoid(x)),
])
def test_wrong_sigmoid_grads_fail(wrong):
    assert failures(EXERCISES["sigmoid_grad"], wrong)


@pytest.mark.parametrize("name, wrong", [
    ("relu", np.abs),
    ("relu", lambda x: np.maximum(x, 0).astype(np.float64)),  # float32 becomes float64
    ("relu", lambda x: np.minimum(x, 0)),
    ("relu_grad", lambda x: x > 0),  # booleans, not numbers
    ("relu_grad", np.sign),
    ("relu_grad", lambda x: np.maximum(x, 0)),  # ReLU itself, not its derivative
    ("leaky_relu", lambda x, alpha=0.3: np.where(x > 0, x, 0.3 * x)),  # ignores alpha
    ("leaky_relu", lambda x, alpha=0.3: np.where(x > 0, alpha * x, x)),  # slope on the wrong side
    ("leaky_relu", lambda x, alpha=0.3: np.maximum(x, 0)),
])
def test_wrong_relu_family_fails(name, wrong):
    assert failures(EXERCISES[name], wrong)


def test_leaky_relu_with_a_fixed_slope_fails_only_the_alpha_cases():
    failed = failures(EXERCISES["leaky_relu"], lambda x, alpha=0.3: np.where(x > 0, x, 0.3 * x))
    assert set(failed) == {lesson_exercises.ALPHA}


@pytest.mark.parametrize("wrong", [
    lambda x: np.exp(x) / np.exp(x).sum(axis=1, keepdims=True),  # no max subtracted: overflows
    lambda x: np.exp(x - x.max()) / np.exp(x - x.max()).sum(),  # one softmax over the whole array
    lambda x: np.exp(x - x.max(axis=0)) / np.exp(x - x.max(axis=0)).sum(axis=0),  # columns instead of rows
    lambda x: (x - x.min(axis=1, keepdims=True)) / (x - x.min(axis=1, keepdims=True)).sum(axis=1, keepdims=True),
])
def test_wrong_softmaxes_fail(wrong):
    assert failures(EXERCISES["softmax"], wrong)


@pytest.mark.parametrize("name", NAMES)
def test_answers_hard_coded_to_the_visible_cases_fail_the_hidden_ones(name):
    exercise = EXERCISES[name]
    table = [(c.args[0], exercise.reference(*c.args, **c.kwargs)) for c in exercise.visible()]

    def memorised(x, **kwargs):
        for known, answer in table:
            if known.shape == x.shape and np.array_equal(known, x):
                return answer
        return np.zeros_like(x)

    for case in exercise.visible():
        if not case.kwargs:
            assert np.array_equal(memorised(*case.args), exercise.reference(*case.args))
    assert failures(exercise, memorised)


# --- the lesson's solution and test cells ---------------------------------------------------------------

def test_every_exercise_has_one_solution_cell_and_one_test_cell():
    cells = read_lesson().cells
    roles = collections.Counter((c.metadata.get("exercise"), c.metadata.get("role")) for c in cells
                                if "role" in c.metadata)
    assert roles == collections.Counter({(n, r): 1 for n in NAMES for r in ("solution", "tests")})
    points = {c.metadata["exercise"]: c.metadata["points"] for c in cells if c.metadata.get("role") == "tests"}
    assert points == {"sigmoid": 2, "sigmoid_grad": 2, "relu": 1, "relu_grad": 1, "leaky_relu": 1, "softmax": 3}


@pytest.mark.parametrize("name", NAMES)
def test_cells_follow_the_nbgrader_format(name):
    cells = {c.metadata.get("role"): c.source for c in read_lesson().cells if c.metadata.get("exercise") == name}
    solution, tests = cells["solution"], cells["tests"]
    assert solution.startswith(f"def {name}(") and solution.index('r"""') < solution.index("### BEGIN SOLUTION")
    assert solution.rstrip().endswith("### END SOLUTION")
    assert tests == (f'check("{name}", {name})\n### BEGIN HIDDEN TESTS\n'
                     f'check("{name}", {name}, hidden=True)\n### END HIDDEN TESTS')


def test_solution_cells_use_numpy_only():
    for cell in read_lesson().cells:
        if cell.metadata.get("role") == "solution":
            tree = ast.parse(cell.source)
            assert not any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.walk(tree))
            names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
            assert not names & {"activations", "nnlib", "plot"}, cell.metadata["exercise"]


@pytest.mark.parametrize("name", NAMES)
def test_lesson_solutions_pass_every_case(name):
    namespace = solution_namespace()
    assert failures(EXERCISES[name], namespace[name]) == []


def test_lesson_solutions_stay_silent_at_plus_minus_1000():
    namespace = solution_namespace()
    x = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(namespace["sigmoid"](x)[[0, 2, 4]], [0.0, 0.5, 1.0])
        assert np.array_equal(namespace["sigmoid_grad"](x)[[0, 4]], [0.0, 0.0])
        assert np.all(np.isfinite(namespace["softmax"](x[None, :])))


# --- the worked numbers of the lesson --------------------------------------------------------------------

def test_two_linear_layers_are_one_linear_layer():
    namespace = {"np": np}
    exec(lesson_cell("two_layers = "), namespace)
    assert np.abs(namespace["two_layers"] - namespace["one_layer"]).max() < 1e-14


def test_leaky_relu_example_of_the_catalogue():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    np.testing.assert_allclose(activations.get("leaky_relu")(x), [-0.6, -0.15, 0.0, 1.5])
    np.testing.assert_allclose(activations.get_derivative("leaky_relu")(x), [0.3, 0.3, 0.3, 1.0])
    np.testing.assert_array_equal(activations.relu(x), [0.0, 0.0, 0.0, 1.5])
    np.testing.assert_array_equal(activations.relu_grad(x), [0.0, 0.0, 0.0, 1.0])


def test_sigmoid_numbers():
    assert activations.sigmoid(np.array(0.0)) == 0.5
    assert activations.sigmoid_grad(np.array(0.0)) == 0.25
    np.testing.assert_allclose(activations.sigmoid(np.array([-2.0, 2.0])), [0.1192, 0.8808], atol=5e-5)
    x = np.linspace(-10, 10, 2001)
    assert activations.sigmoid_grad(x).max() == 0.25
    assert f"{0.25 ** 10:.1e}" == "9.5e-07"


def test_overflow_limits_quoted_in_the_lesson():
    assert f"{np.finfo(np.float64).max:.1e}" == "1.8e+308"
    assert f"{np.log(np.finfo(np.float64).max):.1f}" == "709.8"
    assert f"{np.log(np.finfo(np.float32).max):.1f}" == "88.7"
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(np.float32(89.0))) and np.isinf(np.exp(1000.0))


def test_tanh_identity_and_derivatives_at_zero():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(activations.tanh(x), 2 * activations.sigmoid(2 * x) - 1, atol=1e-15)
    assert activations.tanh_grad(np.array(0.0)) == 1.0 == 4 * activations.sigmoid_grad(np.array(0.0))
    assert activations.arctan_grad(np.array(0.0)) == 1.0


def test_selu_constants_and_keras_leaky_slope():
    assert f"{activations.SELU_SCALE:.4f}" == "1.0507"
    assert f"{activations.SELU_ALPHA:.4f}" == "1.6733"
    np.testing.assert_allclose(activations.leaky_relu(np.array([-1.0])), [-0.3])


def test_smooth_relatives():
    assert f"{float(activations.softplus(np.array(0.0))):.4f}" == "0.6931"
    x = np.linspace(-6, 6, 121)
    np.testing.assert_allclose(activations.softplus_grad(x), activations.sigmoid(x))
    approx = x / 2 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(activations.gelu(x, approximate=True), approx, atol=1e-12)
    for name in ("swish", "gelu", "mish"):  # they dip below zero for negative x
        assert activations.get(name)(np.array([-1.0]))[0] < 0


def test_hard_functions_and_shrinkage():
    x = np.array([-4.0, -3.0, 0.0, 1.2, 3.0, 4.0])
    np.testing.assert_allclose(activations.hard_sigmoid(x), [0.0, 0.0, 0.5, 0.7, 1.0, 1.0])
    np.testing.assert_allclose(activations.hard_swish(x), x * np.clip(x + 3, 0, 6) / 6)
    np.testing.assert_allclose(activations.hard_tanh(x), np.clip(x, -1, 1))
    y = np.array([-1.0, -0.4, 0.3, 0.8])
    np.testing.assert_allclose(activations.soft_shrink(y), [-0.5, 0.0, 0.0, 0.3])
    np.testing.assert_allclose(activations.hard_shrink(y), [-1.0, 0.0, 0.0, 0.8])
    np.testing.assert_array_equal(activations.binary_step_grad(np.array([-1.0, 0.0, 1.0])), 0.0)


def test_softmax_numbers():
    shifted = activations.softmax(np.array([[1000.0, 1001.0, 1002.0], [1.0, 2.0, 3.0]]))
    assert [f"{p:.4f}" for p in shifted[0]] == ["0.0900", "0.2447", "0.6652"]
    np.testing.assert_allclose(shifted[0], shifted[1], rtol=1e-15)
    np.testing.assert_allclose(activations.softmax(np.full((1, 4), 7.0)), 0.25)


def test_gallery_and_explorer_names_exist():
    gallery = ast.literal_eval(re.search(r"GALLERY = (\[.*?\])", lesson_cell("GALLERY = "), re.S).group(1))
    assert len(gallery) == 20
    for name in gallery:
        assert name in activations.ACTIVATIONS and name in activations.DERIVATIVES and name in activations.LATEX


def test_vanishing_gradient_experiment():
    namespace = {"np": np, "activations": activations}
    source = lesson_cell("def layer_gradient_norms")
    exec(source.split("\nfig, ax")[0], namespace)
    sigmoid = namespace["layer_gradient_norms"]("sigmoid")
    ratio = sigmoid[0] / sigmoid[-1]
    assert 1e-6 < ratio < 1e-5  # "a few millionths"
    factors = np.array(sigmoid[1:]) / np.array(sigmoid[:-1])
    assert 3 < np.exp(np.mean(np.log(factors))) < 5  # "about four times per layer"
    for name in ("tanh", "relu"):
        norms = namespace["layer_gradient_norms"](name)
        assert 0.1 < norms[0] / norms[-1] < 10  # "of the same order"


# --- translations ------------------------------------------------------------------------------------------

MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
CODE = re.compile(r"`[^`]+`")


@pytest.mark.parametrize("lang", ["uk", "ru", "pl"])
def test_every_markdown_cell_is_translated_with_formulas_and_code_unchanged(lang):
    catalog = polib.pofile(str(ROOT / "course" / "locale" / lang / "LC_MESSAGES" / "06-activations.po"))
    entries = {e.msgid: e for e in catalog if not e.obsolete}
    for cell in read_lesson().cells:
        if cell.cell_type != "markdown":
            continue
        entry = entries.get(cell.source)
        assert entry is not None and entry.msgstr and not entry.fuzzy, cell.source[:60]
        assert sorted(MATH.findall(entry.msgstr)) == sorted(MATH.findall(cell.source)), cell.source[:60]
        assert sorted(CODE.findall(entry.msgstr)) == sorted(CODE.findall(cell.source)), cell.source[:60]
        assert entry.msgstr.count("\n#") == cell.source.count("\n#"), cell.source[:60]  # same headings
