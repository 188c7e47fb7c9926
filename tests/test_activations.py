"""Tests for nnlib.activations: derivatives against numerical gradients, known values, stability, get()."""
import functools
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

from nnlib import activations as act
from nnlib.gradcheck import numerical_gradient, numerical_jvp, rel_error

NAMES = sorted(act._PAIRS)  # canonical element-wise activations (aliases excluded)
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0])  # relu family, hard_*, shrinks, relu6


def away_from_kinks(x, margin=1e-2):
    """Move points within ``margin`` of a kink 2*margin to the right (kinks are >= 0.5 apart)."""
    near = np.min(np.abs(x[..., None] - KINKS), axis=-1) < margin
    return np.where(near, x + 2 * margin, x)


def points(n=40, low=-4.0, high=4.0, seed=0):
    """Random points where the functions are not saturated (so central differences stay accurate)."""
    return away_from_kinks(np.random.default_rng(seed).uniform(low, high, n))


def numeric_derivative(f, x):
    """Central difference of an element-wise f, one point at a time (so round-off is relative to f(x_i))."""
    return np.array([numerical_gradient(lambda z: np.sum(f(z)), np.array([xi]))[0] for xi in x])


# --- derivatives ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_numerical_gradient(name):
    x = points()
    analytic = act.DERIVATIVES[name](x)
    assert analytic.shape == x.shape
    assert rel_error(analytic, numeric_derivative(act.ACTIVATIONS[name], x)) < 1e-6


@pytest.mark.parametrize("f, grad, kwargs", [
    (act.leaky_relu, act.leaky_relu_grad, {"alpha": 0.05}),
    (act.elu, act.elu_grad, {"alpha": 2.0}),
    (act.gelu, act.gelu_grad, {"approximate": True}),
    (act.hard_tanh, act.hard_tanh_grad, {"min_val": -2.0, "max_val": 0.7}),
    (act.soft_shrink, act.soft_shrink_grad, {"lambd": 1.3}),
    (act.hard_shrink, act.hard_shrink_grad, {"lambd": 1.3}),
    (act.rrelu, act.rrelu_grad, {"lower": 0.1, "upper": 0.4}),
])
def test_derivative_with_parameters(f, grad, kwargs):
    x = away_from_kinks(points(), margin=1e-2)
    x = x[np.abs(np.abs(x) - 1.3) > 1e-2]
    x = x[(np.abs(x + 2.0) > 1e-2) & (np.abs(x - 0.7) > 1e-2)]
    assert rel_error(grad(x, **kwargs), numeric_derivative(functools.partial(f, **kwargs), x)) < 1e-6


def test_prelu_gradients_for_input_and_alpha():
    rng = np.random.default_rng(1)
    x = away_from_kinks(rng.normal(size=(4, 5)))
    alpha = rng.uniform(0.05, 0.5, size=5)  # one slope per feature, as the PReLU layer keeps them
    dy = rng.normal(size=(4, 5))
    dx = dy * act.prelu_grad(x, alpha)
    assert rel_error(dx, numerical_jvp(lambda z: act.prelu(z, alpha), x, dy)) < 1e-6
    dalpha = np.sum(dy * act.prelu_grad_alpha(x), axis=0)
    assert rel_error(dalpha, numerical_jvp(lambda a: act.prelu(x, a), alpha, dy)) < 1e-6


def test_softmax_backward_matches_numerical_jvp():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4))
    dy = rng.normal(size=(3, 4))
    for axis in (-1, 0):
        dx = act.softmax_backward(x, dy, axis=axis)
        assert rel_error(dx, numerical_jvp(lambda z: act.softmax(z, axis=axis), x, dy)) < 1e-6


@pytest.mark.parametrize("num_units", [1, 2, 3, 6])
def test_maxout_backward_matches_numerical_jvp(num_units):
    rng = np.random.default_rng(3)
    x = rng.permutation(24).reshape(4, 6) / 7.0  # distinct values: no ties
    dy = rng.normal(size=(4, num_units))
    dx = act.maxout_backward(x, dy, num_units)
    assert dx.shape == x.shape
    assert rel_error(dx, numerical_jvp(lambda z: act.maxout(z, num_units), x, dy)) < 1e-6
    assert np.count_nonzero(dx) == dy.size  # each group's gradient goes to exactly one input


def test_maxout_values():
    x = np.array([[1.0, 5.0, 2.0, 0.0, 3.0, 4.0]])
    assert act.maxout(x, 2).tolist() == [[5.0, 4.0]]
    assert act.maxout(x, 3).tolist() == [[5.0, 2.0, 4.0]]
    assert act.maxout(x, 6).tolist() == x.tolist()


# --- RReLU ------------------------------------------------------------------------------------

def test_rrelu_training_draws_slopes_in_range_reproducibly():
    x = -np.linspace(0.5, 3.0, 200).reshape(20, 10)
    y, slope = act.rrelu_forward(x, lower=0.1, upper=0.3, training=True, rng=np.random.default_rng(7))
    assert slope.shape == x.shape
    assert np.all((slope >= 0.1) & (slope <= 0.3))
    assert np.unique(slope).size > 100  # one slope per element, not one for all
    assert np.allclose(y, slope * x)
    again = act.rrelu_forward(x, 0.1, 0.3, training=True, rng=np.random.default_rng(7))
    assert np.array_equal(again.y, y)
    other = act.rrelu_forward(x, 0.1, 0.3, training=True, rng=np.random.default_rng(8))
    assert not np.array_equal(other.y, y)
    assert np.array_equal(act.rrelu(x, 0.1, 0.3, training=True, rng=7), act.rrelu(x, 0.1, 0.3, training=True, rng=7))


def test_rrelu_positive_inputs_pass_through_in_training():
    x = np.linspace(0.1, 2.0, 10)
    assert np.array_equal(act.rrelu(x, training=True, rng=0), x)


def test_rrelu_inference_uses_mean_slope():
    x = np.array([-2.0, -1.0, 1.5])
    expected_slope = (1 / 8 + 1 / 3) / 2
    assert np.allclose(act.rrelu(x), [-2 * expected_slope, -expected_slope, 1.5])
    assert np.allclose(act.rrelu_grad(x), [expected_slope, expected_slope, 1.0])


def test_rrelu_backward_uses_the_training_slope():
    rng = np.random.default_rng(4)
    x = away_from_kinks(rng.normal(size=(5, 4)))
    dy = rng.normal(size=x.shape)
    _, slope = act.rrelu_forward(x, training=True, rng=rng)
    dx = act.rrelu_backward(x, dy, slope)
    fixed_slope = lambda z: np.where(z > 0, z, slope * z)  # noqa: E731  the same draw, frozen
    assert rel_error(dx, numerical_jvp(fixed_slope, x, dy)) < 1e-6


def test_rrelu_rejects_bad_bounds_and_shapes():
    with pytest.raises(ValueError, match="lower <= upper"):
        act.rrelu(np.ones(3), lower=0.5, upper=0.1)
    with pytest.raises(ValueError, match=r"dy \(2,\)"):
        act.rrelu_backward(np.ones(3), np.ones(2), np.ones(3))


# --- known values -----------------------------------------------------------------------------

def test_known_values():
    assert act.sigmoid(0) == 0.5
    assert act.sigmoid_grad(0) == 0.25
    assert act.softplus(0) == pytest.approx(math.log(2))
    assert act.tanh(0) == 0 and act.tanh_grad(0) == 1
    assert act.arctan(1) == pytest.approx(math.pi / 4) and act.arctan_grad(1) == 0.5
    assert act.linear(3.5) == 3.5 and act.linear_grad(3.5) == 1
    assert act.binary_step(np.array([-1.0, 0.0, 2.0])).tolist() == [0.0, 1.0, 1.0]
    assert act.sign(np.array([-2.0, 0.0, 2.0])).tolist() == [-1.0, 0.0, 1.0]
    assert act.relu(np.array([-2.0, 0.0, 2.0])).tolist() == [0.0, 0.0, 2.0]
    assert act.relu6(np.array([-1.0, 3.0, 9.0])).tolist() == [0.0, 3.0, 6.0]
    assert act.relu6_grad(np.array([-1.0, 5.0, 7.0])).tolist() == [0.0, 1.0, 0.0]
    assert act.leaky_relu(-1.0) == pytest.approx(-0.3)  # tf.keras LeakyReLU default alpha
    assert act.elu(-1.0) == pytest.approx(math.exp(-1) - 1)
    assert act.gelu(1.0) == pytest.approx(0.8413447460685429)
    assert act.swish(1.0) == pytest.approx(1 / (1 + math.exp(-1)))
    assert act.silu is act.swish
    assert act.mish(1.0) == pytest.approx(math.tanh(math.log1p(math.e)))
    assert act.softsign(np.array([-3.0, 1.0])).tolist() == [-0.75, 0.5]
    assert act.hard_sigmoid(np.array([-4.0, -3.0, 0.0, 3.0, 4.0])).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]
    assert act.hard_swish(np.array([-4.0, 1.0, 3.0, 5.0])).tolist() == [0.0, 4 / 6, 3.0, 5.0]
    assert act.hard_tanh(np.array([-2.0, 0.3, 2.0])).tolist() == [-1.0, 0.3, 1.0]
    assert act.tanh_shrink(1.0) == pytest.approx(1 - math.tanh(1))
    assert act.soft_shrink(np.array([-1.0, 0.2, 1.0])).tolist() == [-0.5, 0.0, 0.5]
    assert act.hard_shrink(np.array([-1.0, 0.2, 0.7])).tolist() == [-1.0, 0.0, 0.7]
    assert act.exponential(1.0) == pytest.approx(math.e)


def test_derivative_conventions_at_kinks():
    assert act.relu_grad(0.0) == 0.0
    assert act.leaky_relu_grad(0.0) == pytest.approx(0.3)
    assert act.binary_step_grad(0.0) == 0.0
    assert act.sign_grad(0.0) == 0.0


def test_elu_derivative_equals_f_plus_alpha_for_negative_inputs():
    x = np.linspace(-4, -0.1, 9)
    assert np.allclose(act.elu_grad(x, alpha=1.5), act.elu(x, alpha=1.5) + 1.5)


def test_selu_uses_keras_constants():
    assert act.SELU_ALPHA == pytest.approx(1.6732632423543772)
    assert act.SELU_SCALE == pytest.approx(1.0507009873554805)
    assert act.selu(1.0) == pytest.approx(act.SELU_SCALE)
    assert act.selu(-50.0) == pytest.approx(-act.SELU_SCALE * act.SELU_ALPHA)


def test_gelu_tanh_approximation_is_close_to_exact():
    x = np.linspace(-6, 6, 1001)
    assert np.max(np.abs(act.gelu(x, approximate=True) - act.gelu(x))) < 1e-3
    assert np.max(np.abs(act.gelu_grad(x, approximate=True) - act.gelu_grad(x))) < 2e-3


def test_softmax_is_a_distribution_and_shift_invariant():
    x = np.random.default_rng(5).normal(size=(4, 6))
    y = act.softmax(x)
    assert np.allclose(y.sum(axis=-1), 1) and np.all(y > 0)
    assert np.allclose(act.softmax(x + 100.0), y)
    assert np.allclose(act.softmax(x, axis=0).sum(axis=0), 1)
    assert np.allclose(act.softmax(np.array([1e4, 0.0])), [1.0, 0.0])


def test_softplus_derivative_is_sigmoid_and_sigmoid_identity():
    x = np.linspace(-5, 5, 11)
    assert np.allclose(act.softplus_grad(x), act.sigmoid(x))
    assert np.allclose(act.sigmoid(-x), 1 - act.sigmoid(x))


# --- dtype and stability ----------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES + ["softmax"])
def test_float32_in_float32_out(name):
    x = points(12).astype(np.float32)
    y = act.ACTIVATIONS[name](x)
    assert y.dtype == np.float32
    assert np.allclose(y, act.ACTIVATIONS[name](x.astype(np.float64)), rtol=1e-5, atol=1e-6)
    if name in act.DERIVATIVES:
        assert act.DERIVATIVES[name](x).dtype == np.float32


def test_integers_become_float64():
    assert act.relu(np.array([1, -2])).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", [n for n in NAMES if n != "exponential"] + ["softmax"])
def test_no_overflow_for_large_inputs(name, dtype):
    x = np.array([-1e4, -50.0, -1.0, 1.0, 50.0, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = act.ACTIVATIONS[name](x)
        grad = act.DERIVATIVES[name](x) if name in act.DERIVATIVES else act.softmax_backward(x, np.ones_like(x))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(grad))


def test_extreme_values_are_right():
    x = np.array([-1e4, 1e4])
    assert act.sigmoid(x).tolist() == [0.0, 1.0]
    assert act.softplus(x).tolist() == [0.0, 1e4]
    assert act.sigmoid_grad(x).tolist() == [0.0, 0.0]
    assert np.allclose(act.gelu(x), [0.0, 1e4]) and np.allclose(act.gelu(x, approximate=True), [0.0, 1e4])


def test_exponential_overflow_is_reported_not_hidden():
    with pytest.warns(RuntimeWarning, match="overflow"):
        assert np.isinf(act.exponential(1e4))


# --- registries and get() ---------------------------------------------------------------------

@pytest.mark.parametrize("identifier", ["relu", "sigmoid", "softmax", "linear", "tanh", "swish", "silu", "gelu",
                                        "elu", "selu", "softplus", "softsign", "hard_sigmoid", "hard_silu",
                                        "leaky_relu", "exponential", "mish", "relu6", "ReLU", "Sigmoid"])
def test_get_accepts_keras_identifiers(identifier):
    f = act.get(identifier)
    assert callable(f)
    assert f is act.ACTIVATIONS[identifier.lower()]


def test_get_aliases_none_and_callables():
    assert act.get(None) is act.linear
    assert act.get("silu") is act.swish and act.get("identity") is act.linear
    assert act.get("logistic") is act.sigmoid and act.get("heaviside") is act.binary_step
    custom = lambda x: 2 * x  # noqa: E731
    assert act.get(custom) is custom
    assert act.get("leaky_relu", alpha=0.1)(-1.0) == pytest.approx(-0.1)


def test_get_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="'sigmoid'") as info:
        act.get("sigmod")
    assert "Did you mean" in str(info.value)
    with pytest.raises(TypeError, match="string or a callable"):
        act.get(3)


def test_get_derivative():
    assert act.get_derivative("relu") is act.relu_grad
    assert act.get_derivative("SILU") is act.swish_grad
    assert act.get_derivative(None) is act.linear_grad
    assert act.get_derivative(act.tanh) is act.tanh_grad
    assert act.get_derivative("leaky_relu", alpha=0.1)(-1.0) == pytest.approx(0.1)
    assert act.get_derivative(functools.partial(act.leaky_relu, alpha=0.2))(-1.0) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="softmax_backward"):
        act.get_derivative("softmax")
    with pytest.raises(ValueError, match="softmax_backward"):
        act.get_derivative(act.softmax)
    assert act.get_derivative(lambda x: 3 * x)(np.array([1.0, -2.0])) == pytest.approx([3.0, 3.0])
    with pytest.raises(ValueError, match="not element-wise"):
        act.get_derivative(lambda x: np.cumsum(x, axis=-1))
    with pytest.raises(ValueError, match="Did you mean 'tanh'"):
        act.get_derivative("tahn")


def test_get_backward():
    rng = np.random.default_rng(6)
    x, dy = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    assert np.allclose(act.get_backward("tanh")(x, dy), dy * (1 - np.tanh(x) ** 2))
    assert np.allclose(act.get_backward("softmax")(x, dy), act.softmax_backward(x, dy))
    assert np.allclose(act.get_backward(functools.partial(act.softmax, axis=0))(x, dy),
                       act.softmax_backward(x, dy, axis=0))


def test_registries_are_consistent():
    assert set(act.DERIVATIVES) == set(act.ACTIVATIONS) - {"softmax"}
    assert set(act.LATEX) == set(act.ACTIVATIONS) | {"maxout"}
    assert set(act.DERIVATIVE_LATEX) == set(act.DERIVATIVES)
    for name, f in act.ACTIVATIONS.items():
        assert act.LATEX[name] and act.LATEX[name].split()[0] in f.__doc__
    assert act.LATEX["sigmoid"] == r"\sigma(x) = \frac{1}{1 + e^{-x}}"
    assert act.DERIVATIVE_LATEX["sigmoid"] == r"\sigma'(x) = \sigma(x)\,(1 - \sigma(x))"


# --- bad input --------------------------------------------------------------------------------

def test_bad_input_messages():
    with pytest.raises(ValueError, match="NaN"):
        act.relu(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="inf"):
        act.sigmoid(np.array([np.inf]))
    with pytest.raises(TypeError, match="real numbers"):
        act.tanh(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="empty"):
        act.softmax(np.array([]))
    with pytest.raises(ValueError, match=r"dy has shape \(3,\) but x has shape \(2, 3\)"):
        act.softmax_backward(np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="size 5, which is not a multiple of num_units=2"):
        act.maxout(np.ones((2, 5)), 2)
    with pytest.raises(ValueError, match="positive integer"):
        act.maxout(np.ones((2, 4)), 0)
    with pytest.raises(ValueError, match=r"dy has shape \(2, 3\), expected \(2, 2\)"):
        act.maxout_backward(np.ones((2, 4)), np.ones((2, 3)), 2)


def test_module_imports_fast_and_clean():
    code = ("import sys, nnlib.activations, nnlib.losses, nnlib.metrics; "
            "print([m for m in ('scipy', 'numba', 'matplotlib', 'sklearn') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_relu_backward_is_dy_times_the_derivative_and_get_backward_uses_it():
    rng = np.random.default_rng(7)
    x = away_from_kinks(rng.normal(size=(4, 5)))
    dy = rng.normal(size=(4, 5))
    assert act.get_backward("relu") is act.relu_backward
    np.testing.assert_array_equal(act.relu_backward(x, dy), dy * act.relu_grad(x))
    assert rel_error(act.relu_backward(x, dy), numerical_jvp(act.relu, x, dy)) < 1e-6
    x32, dy32 = x.astype(np.float32), dy.astype(np.float32)
    assert act.relu_backward(x32, dy32).dtype == np.float32
    assert act.relu_backward(x32, dy).dtype == np.float64       # as dy * relu_grad(x32) would be
    with pytest.raises(ValueError, match="contains NaN"):
        act.relu_backward(np.array([1.0, np.nan]), np.ones(2))


def test_unchecked_skips_only_the_input_check():
    x = np.array([[-1.0, np.nan, 2.0]])
    with pytest.raises(ValueError, match=r"x contains NaN at index \(0, 1\)"):
        act.relu(x)
    np.testing.assert_array_equal(act.unchecked(act.relu)(x), [[0.0, np.nan, 2.0]])   # layers' z: no check
    leaky = act.unchecked(functools.partial(act.leaky_relu, alpha=0.1))
    np.testing.assert_allclose(leaky(np.array([-1.0, 2.0])), [-0.1, 2.0])
    custom = lambda z: z   # noqa: E731 - a foreign callable is returned as it is
    assert act.unchecked(custom) is custom
    finite = np.random.default_rng(8).normal(size=(3, 4))
    for name in NAMES + ["softmax"]:
        np.testing.assert_array_equal(act.unchecked(act.get(name))(finite), act.get(name)(finite))
    backward = act.get_backward("tanh")
    np.testing.assert_array_equal(act.unchecked(backward)(finite, finite), backward(finite, finite))
