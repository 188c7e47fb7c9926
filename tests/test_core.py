"""nnlib's shared pieces: name look-up, input checks, backend choice, numerical gradients."""
import subprocess
import sys

import numpy as np
import pytest

from nnlib import gradcheck
from nnlib._checks import as_float_array, check_same_shape, check_shape
from nnlib._registry import lookup

REGISTRY = {"sigmoid": 1, "softmax": 2, "relu": 3}


def test_lookup_is_case_insensitive_and_passes_callables():
    assert lookup(REGISTRY, "ReLU", "activation") == 3
    assert lookup(REGISTRY, abs, "activation") is abs


def test_lookup_unknown_name_suggests_closest_and_lists_known():
    with pytest.raises(ValueError) as err:
        lookup(REGISTRY, "sigmod", "activation")
    msg = str(err.value)
    assert "Unknown activation 'sigmod'" in msg and "Did you mean 'sigmoid'?" in msg
    assert "relu, sigmoid, softmax" in msg


def test_lookup_rejects_non_strings():
    with pytest.raises(TypeError, match="activation identifier must be a string"):
        lookup(REGISTRY, 3, "activation")


@pytest.mark.parametrize("bad, message", [
    ([1.0, np.nan], "contains NaN at index \\(1,\\)"),
    ([[1.0], [np.inf]], "contains inf at index \\(1, 0\\)"),
    (np.zeros((0, 3)), "x is empty \\(shape \\(0, 3\\)\\)"),
    (["a", "b"], "must hold real numbers"),
    ([[1, 2], [3]], "must be array-like of numbers"),
])
def test_as_float_array_rejects_bad_input_clearly(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        as_float_array(bad)


def test_as_float_array_keeps_float32_and_converts_ints():
    assert as_float_array(np.ones(2, np.float32)).dtype == np.float32
    assert as_float_array([1, 2]).dtype == np.float64
    with pytest.raises(ValueError, match="must have 2 dimension\\(s\\), got shape \\(3,\\)"):
        as_float_array([1, 2, 3], ndim=2)


def test_check_shape_names_expected_and_actual():
    check_shape(np.zeros((5, 4)), (None, 4))
    with pytest.raises(ValueError, match=r"W has shape \(3, 4\), expected \(4, N\)"):
        check_shape(np.zeros((3, 4)), (4, None), "W")
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\) but y_pred has shape \(3, 1\)"):
        check_same_shape(np.zeros(3), np.zeros((3, 1)))


def test_backend_env_var_forces_numpy_and_rejects_typos():
    code = "from nnlib._backend import use_numba; print(use_numba())"
    out = subprocess.run([sys.executable, "-c", code], env={"NNLIB_BACKEND": "numpy", "PATH": ""},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    bad = subprocess.run([sys.executable, "-c", code], env={"NNLIB_BACKEND": "cuda", "PATH": ""},
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "NNLIB_BACKEND must be 'numba' or 'numpy'" in bad.stderr


def test_numerical_gradient_of_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = gradcheck.numerical_gradient(lambda z: np.sum(z ** 3), x)
    assert gradcheck.rel_error(grad, 3 * x ** 2) < 1e-8
    assert np.array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored after perturbation


def test_numerical_jvp_matches_transpose_product():
    rng = np.random.default_rng(0)
    a, x, up = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    assert gradcheck.rel_error(gradcheck.numerical_jvp(lambda z: a @ z, x, up), a.T @ up) < 1e-8


def test_rel_error_detects_a_wrong_gradient_and_rejects_mismatched_shapes():
    assert gradcheck.rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.1])) > 1e-3
    with pytest.raises(ValueError, match="got \\(2,\\) and \\(3,\\)"):
        gradcheck.rel_error(np.zeros(2), np.zeros(3))
    with pytest.raises(TypeError, match="float64"):
        gradcheck.numerical_gradient(np.sum, np.zeros(2, np.float32))


def test_suggestion_counts_a_swap_of_neighbours_as_one_typo():
    registry = {"adam": 1, "adamax": 2, "rmsprop": 3}
    with pytest.raises(ValueError, match="Did you mean 'adam'\\?"):
        lookup(registry, "adma", "optimizer")
    with pytest.raises(ValueError, match="Did you mean 'rmsprop'\\?"):
        lookup(registry, "rmsporp", "optimizer")


def test_as_float_array_fast_path_returns_the_array_and_keeps_exact_messages():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert as_float_array(x) is x                        # a finite float array is passed through, no copy
    big = np.full(4, 3e38, dtype=np.float32)             # finite, though its sum overflows float32
    assert as_float_array(big) is big
    for bad, message in [(np.array([[0.0, 1.0], [np.nan, 2.0]], np.float32), r"contains NaN at index \(1, 0\)"),
                         (np.array([1.0, -np.inf]), r"contains inf at index \(1,\)")]:
        with pytest.raises(ValueError, match=message):
            as_float_array(bad)
    with pytest.raises(ValueError, match=r"must have 3 dimension\(s\), got shape \(2, 3\)"):
        as_float_array(x, ndim=3)
    with pytest.raises(ValueError, match=r"at least 3 dimension\(s\), got shape \(2, 3\)"):
        as_float_array(x, min_ndim=3)
    with pytest.raises(ValueError, match="is empty"):
        as_float_array(np.zeros((0, 2)))


def test_numpy_path_is_chosen_automatically_when_numba_is_missing():
    """Without Numba installed (simulated: ``import numba`` fails), every kernel runs on NumPy."""
    code = (
        "import sys\n"
        "sys.modules['numba'] = None  # makes 'import numba' raise ImportError, as if not installed\n"
        "import numpy as np\n"
        "from nnlib._backend import use_numba\n"
        "from nnlib import layers, neuron, datasets\n"
        "assert not use_numba()\n"
        "x = np.random.default_rng(0).standard_normal((2, 6, 6, 1))\n"
        "y = layers.MaxPooling2D()(layers.Conv2D(2, 3)(x))\n"
        "X, t = datasets.logic_gate('and')\n"
        "p = neuron.Perceptron(seed=0).fit(X, t)\n"
        "print(y.shape, p.score(X, t), 'numba' in sys.modules and sys.modules['numba'] is not None)\n"
    )
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(2,", "2,", "2,", "2)", "1.0", "False"]
