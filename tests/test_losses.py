"""Tests for nnlib.losses: gradients against numerical ones, Keras's values, the notes' worked example, stability, get()."""
import functools
import math
import warnings

import numpy as np
import pytest

from nnlib import activations, losses
from nnlib.gradcheck import numerical_gradient, rel_error

RNG = np.random.default_rng(0)


def _one_hot(labels, classes):
    return np.eye(classes)[labels]


def _away_from(values, kinks, margin=0.05):
    """Shift entries of ``values`` that are within ``margin`` of a kink by 3*margin."""
    near = np.zeros(values.shape, bool)
    for k in kinks:
        near |= np.abs(values - k) < margin
    return np.where(near, values + 3 * margin, values)


def _regression():
    y = RNG.normal(size=(4, 3))
    return y, y + _away_from(RNG.normal(size=(4, 3)), [0.0])


def _huber_case(delta):
    y = RNG.normal(size=(4, 3))
    error = RNG.choice([-1, 1], size=(4, 3)) * RNG.choice([0.3 * delta, 1.7 * delta], size=(4, 3))
    return y, y + error


def _hinge_case(zero_one=False):
    y = RNG.choice([-1.0, 1.0], size=(4, 3))
    pred = RNG.uniform(-2, 2, size=(4, 3))
    pred = np.where(np.abs(1 - y * pred) < 0.05, pred + 0.2 * y, pred)  # away from the margin
    return ((y + 1) / 2 if zero_one else y), pred


def _categorical_hinge_case():
    while True:
        y = _one_hot(RNG.integers(0, 4, size=5), 4)
        pred = RNG.normal(size=(5, 4))
        wrong = np.sort((1 - y) * pred, axis=-1)
        margin = 1 + wrong[:, -1] - np.sum(y * pred, axis=-1)
        if np.all(np.abs(margin) > 0.05) and np.all(wrong[:, -1] - wrong[:, -2] > 0.05):
            return y, pred


CASES = {
    "mean_squared_error": (_regression, {}),
    "mean_absolute_error": (_regression, {}),
    "mean_absolute_percentage_error": (lambda: (RNG.uniform(1, 3, (4, 3)) * RNG.choice([-1, 1], (4, 3)),
                                                RNG.uniform(-4, 4, (4, 3))), {}),
    "mean_squared_logarithmic_error": (lambda: (RNG.uniform(0, 3, (4, 3)), RNG.uniform(0.1, 3, (4, 3))), {}),
    "huber": (lambda: _huber_case(1.0), {}),
    "huber_delta": (lambda: _huber_case(0.5), {"delta": 0.5}),
    "log_cosh": (_regression, {}),
    "poisson": (lambda: (RNG.integers(0, 5, (4, 3)).astype(float), RNG.uniform(0.2, 3, (4, 3))), {}),
    "hinge": (_hinge_case, {}),
    "hinge_zero_one": (lambda: _hinge_case(zero_one=True), {}),
    "squared_hinge": (_hinge_case, {}),
    "categorical_hinge": (_categorical_hinge_case, {}),
    "binary_crossentropy": (lambda: (RNG.uniform(0, 1, (4, 3)), RNG.uniform(0.05, 0.95, (4, 3))), {}),
    "binary_crossentropy_logits": (lambda: (RNG.integers(0, 2, (4, 3)).astype(float), 3 * RNG.normal(size=(4, 3))),
                                   {"from_logits": True}),
    "categorical_crossentropy": (lambda: (_one_hot(RNG.integers(0, 4, 5), 4), RNG.uniform(0.1, 1, (5, 4))), {}),
    "categorical_crossentropy_logits": (lambda: (RNG.dirichlet(np.ones(4), 5), 3 * RNG.normal(size=(5, 4))),
                                        {"from_logits": True}),
    "sparse_categorical_crossentropy": (lambda: (RNG.integers(0, 4, 5), RNG.uniform(0.1, 1, (5, 4))), {}),
    "sparse_categorical_crossentropy_logits": (lambda: (RNG.integers(0, 4, (5, 1)), 3 * RNG.normal(size=(5, 4))),
                                               {"from_logits": True}),
    "kl_divergence": (lambda: (RNG.dirichlet(np.ones(4), 5), RNG.uniform(0.05, 0.95, (5, 4))), {}),
    "cosine_similarity": (lambda: (RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))), {}),
}


def _registry_name(case):
    return next(name for name in losses._PAIRS if case == name or case.startswith(name + "_"))


def test_every_loss_has_a_gradient_case():
    assert {_registry_name(case) for case in CASES} == set(losses._PAIRS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_numerical_gradient(case):
    make, kwargs = CASES[case]
    y_true, y_pred = make()
    name = _registry_name(case)
    value, grad = losses.LOSSES[name], losses.GRADIENTS[name]
    analytic = grad(y_true, y_pred, **kwargs)
    assert analytic.shape == y_pred.shape
    numeric = numerical_gradient(lambda p: value(y_true, p, **kwargs), y_pred.copy())
    assert rel_error(analytic, numeric) < 1e-6


# --- known values -----------------------------------------------------------------------------

def test_polish_notes_worked_example():
    """One linear neuron y = 0.1 x (seeds/003): MSE 15.71, mean gradient -4.00156, new weight 0.1400156."""
    x = np.array([0.06, 0.87, 0.6, 0.71, 0.02])
    y = np.array([3.17, 4.73, 4.26, 4.57, 3.02])
    w = 0.1
    assert round(losses.mean_squared_error(y, w * x), 2) == 15.71
    dw = np.sum(losses.mean_squared_error_grad(y, w * x) * x)  # chain rule: dL/dout * dout/dw
    assert dw == pytest.approx(-4.00156)
    assert w - 0.01 * dw == pytest.approx(0.1400156)


A = [[0.0, 1.0], [0.0, 0.0]]
B = [[0.6, 0.4], [0.4, 0.6]]


@pytest.mark.parametrize("name, y_true, y_pred, expected", [  # the examples of Keras's docstrings
    ("mean_squared_error", A, [[1.0, 1.0], [1.0, 0.0]], 0.5),
    ("mean_absolute_error", A, [[1.0, 1.0], [1.0, 0.0]], 0.5),
    ("mean_absolute_percentage_error", [[2.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 0.0]], 50.0),
    ("mean_squared_logarithmic_error", A, [[1.0, 1.0], [1.0, 0.0]], 0.240),
    ("binary_crossentropy", A, B, 0.815),
    ("categorical_crossentropy", [[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.177),
    ("sparse_categorical_crossentropy", [1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]], 1.177),
    ("huber", A, B, 0.155),
    ("log_cosh", A, [[1.0, 1.0], [0.0, 0.0]], 0.108),
    ("hinge", A, B, 1.3),
    ("squared_hinge", A, B, 1.86),
    ("categorical_hinge", A, B, 1.4),
    ("kl_divergence", A, B, 0.458),
    ("poisson", A, [[1.0, 1.0], [0.0, 0.0]], 0.5),
    ("cosine_similarity", [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], -0.5),
])
def test_keras_documented_values(name, y_true, y_pred, expected):
    value = losses.LOSSES[name](np.array(y_true), np.array(y_pred, dtype=float))
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-3)


def test_reduction_follows_keras():
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=(6, 3)), rng.normal(size=(6, 3))
    assert losses.mean_squared_error(y, p) == pytest.approx(np.mean(np.mean((y - p) ** 2, axis=-1)))
    labels, probs = _one_hot([0, 2], 3), np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]])
    per_sample = -np.log([0.7, 0.5])
    assert losses.categorical_crossentropy(labels, probs) == pytest.approx(per_sample.mean())  # sum over classes
    assert losses.categorical_crossentropy(labels[:1], probs[:1]) == pytest.approx(per_sample[0])
    # the gradient carries 1/N (samples) for sum-type losses and 1/n (entries) for mean-type ones
    grad = losses.categorical_crossentropy_grad(labels, probs, from_logits=True)
    assert np.allclose(grad, (activations.softmax(probs) - labels) / 2)
    assert np.allclose(losses.mean_squared_error_grad(y, p), 2 * (p - y) / y.size)


def test_categorical_crossentropy_normalises_rows_like_keras():
    labels = _one_hot([1], 3)
    assert losses.categorical_crossentropy(labels, [[1.0, 2.0, 1.0]]) == pytest.approx(-math.log(0.5))


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_from_logits_agrees_with_probabilities(name):
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5, 4))
    if name == "binary_crossentropy":
        y, squash, squash_backward = rng.integers(0, 2, (5, 4)).astype(float), activations.sigmoid, None
    else:
        y = rng.integers(0, 4, 5) if name.startswith("sparse") else _one_hot(rng.integers(0, 4, 5), 4)
        squash, squash_backward = activations.softmax, activations.softmax_backward
    value, grad = losses.LOSSES[name], losses.GRADIENTS[name]
    assert value(y, z, from_logits=True) == pytest.approx(value(y, squash(z)), rel=1e-6)
    d_prob = grad(y, squash(z))
    chained = d_prob * activations.sigmoid_grad(z) if squash_backward is None else squash_backward(z, d_prob)
    assert np.allclose(grad(y, z, from_logits=True), chained)


# --- stability --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_of_1e4_give_finite_values_and_gradients(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], dtype=dtype)
    y_bin = np.array([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0]], dtype=dtype)
    labels = np.array([1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [
            (losses.binary_crossentropy(y_bin, z, from_logits=True),
             losses.binary_crossentropy_grad(y_bin, z, from_logits=True)),
            (losses.categorical_crossentropy(_one_hot(labels, 3), z, from_logits=True),
             losses.categorical_crossentropy_grad(_one_hot(labels, 3), z, from_logits=True)),
            (losses.sparse_categorical_crossentropy(labels, z, from_logits=True),
             losses.sparse_categorical_crossentropy_grad(labels, z, from_logits=True)),
            (losses.log_cosh(np.zeros_like(z), z), losses.log_cosh_grad(np.zeros_like(z), z)),
            (losses.huber(np.zeros_like(z), z), losses.huber_grad(np.zeros_like(z), z)),
        ]
    for value, grad in results:
        assert math.isfinite(value) and np.all(np.isfinite(grad)) and grad.dtype == dtype
    bce, cce = results[0][0], results[1][0]
    assert bce == pytest.approx((3e4 + math.log(2) + 3 + math.log1p(math.exp(-3))) / 6, rel=1e-6)
    assert cce == pytest.approx(2e4 / 2, rel=1e-6)  # sample 0 misses by 2e4, sample 1 is right
    assert results[3][0] == pytest.approx((4 * (1e4 - math.log(2)) + math.log(math.cosh(3))) / 6, rel=1e-6)


def test_probabilities_of_exactly_0_and_1_are_clipped():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bce = losses.binary_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])
        cce = losses.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])
        grads = [losses.binary_crossentropy_grad([[1.0, 0.0]], [[0.0, 1.0]]),
                 losses.categorical_crossentropy_grad([[1.0, 0.0]], [[0.0, 1.0]])]
    assert bce == pytest.approx(-math.log(1e-7), rel=1e-3) and cce == pytest.approx(-math.log(1e-7), rel=1e-3)
    assert all(np.all(np.isfinite(g)) for g in grads)


def test_float32_gradients_stay_float32():
    y = np.ones((2, 3), np.float32)
    p = np.full((2, 3), 0.5, np.float32)
    for name in ("mean_squared_error", "binary_crossentropy", "categorical_crossentropy", "cosine_similarity"):
        assert losses.GRADIENTS[name](y, p).dtype == np.float32


# --- get() ------------------------------------------------------------------------------------

@pytest.mark.parametrize("identifier, name", [
    ("mse", "mean_squared_error"), ("MSE", "mean_squared_error"), ("MeanSquaredError", "mean_squared_error"),
    ("mae", "mean_absolute_error"), ("mape", "mean_absolute_percentage_error"),
    ("msle", "mean_squared_logarithmic_error"), ("bce", "binary_crossentropy"),
    ("BinaryCrossentropy", "binary_crossentropy"), ("kld", "kl_divergence"), ("KLDivergence", "kl_divergence"),
    ("kullback_leibler_divergence", "kl_divergence"), ("huber_loss", "huber"), ("logcosh", "log_cosh"),
    ("LogCosh", "log_cosh"), ("sparse_categorical_crossentropy", "sparse_categorical_crossentropy"),
    ("categorical_hinge", "categorical_hinge"), ("cosine_similarity", "cosine_similarity"),
])
def test_get_resolves_keras_identifiers(identifier, name):
    loss = losses.get(identifier)
    assert isinstance(loss, losses.Loss)
    assert loss.name == name
    assert loss.value is losses.LOSSES[name] and loss.grad is losses.GRADIENTS[name]


def test_get_with_parameters_callables_and_loss_tuples():
    y, p = np.array([[0.0, 0.0]]), np.array([[0.5, 3.0]])
    huber2 = losses.get("huber", delta=2.0)
    assert huber2.name == "huber"
    assert huber2.value(y, p) == pytest.approx(losses.huber(y, p, delta=2.0))
    assert np.allclose(huber2.grad(y, p), losses.huber_grad(y, p, delta=2.0))
    assert losses.get(losses.huber).name == "huber"
    from_partial = losses.get(functools.partial(losses.binary_crossentropy, from_logits=True))
    assert from_partial.name == "binary_crossentropy" and from_partial.grad.keywords == {"from_logits": True}
    loss = losses.get("mse")
    assert losses.get(loss) is loss
    name, value, grad = loss  # a plain NamedTuple
    assert name == "mean_squared_error"
    assert set(losses.LOSSES) == set(losses.GRADIENTS)


def test_get_errors_are_clear():
    with pytest.raises(ValueError, match="Did you mean 'mean_squared_error'"):
        losses.get("mean_sqared_error")
    with pytest.raises(TypeError, match="foo"):
        losses.get("huber", foo=1)
    with pytest.raises(ValueError, match=r"returned shape \(\) .* not their mean"):
        losses.get(lambda y, p: 0.0)
    with pytest.raises(TypeError, match="string, a Loss or a callable"):
        losses.get(42)


# --- bad input --------------------------------------------------------------------------------

def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"y_true has shape \(5,\) but y_pred has shape \(5, 1\)") as info:
        losses.mean_squared_error(np.zeros(5), np.zeros((5, 1)))
    assert "reshape" in str(info.value)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        losses.categorical_crossentropy_grad(np.zeros((4, 3)), np.ones((4, 2)))


def test_bad_values_are_rejected():
    with pytest.raises(ValueError, match="NaN"):
        losses.mean_squared_error([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(TypeError, match="real numbers"):
        losses.mean_absolute_error(["a"], [1.0])
    with pytest.raises(ValueError, match="empty"):
        losses.mean_squared_error([], [])
    with pytest.raises(ValueError, match="from_logits=True"):
        losses.binary_crossentropy([1.0, 0.0], [2.5, -1.0])
    with pytest.raises(ValueError, match="from_logits=True"):
        losses.categorical_crossentropy([[1.0, 0.0]], [[2.5, -1.0]])
    with pytest.raises(ValueError, match="y_pred >= 0"):
        losses.poisson([1.0], [-0.5])


def test_sparse_labels_are_checked():
    probs = np.full((3, 3), 1 / 3)
    assert losses.sparse_categorical_crossentropy([[0], [1], [2]], probs) == pytest.approx(math.log(3))
    assert losses.sparse_categorical_crossentropy(np.array([0.0, 1.0, 2.0]), probs) == pytest.approx(math.log(3))
    with pytest.raises(ValueError, match=r"label 3 at index \(1,\) is out of range.*0\.\.2"):
        losses.sparse_categorical_crossentropy([0, 3, 1], probs)
    with pytest.raises(ValueError, match="out of range"):
        losses.sparse_categorical_crossentropy_grad([0, -1, 1], probs)
    with pytest.raises(ValueError, match="integer class labels, got 1.5"):
        losses.sparse_categorical_crossentropy([0, 1.5, 1], probs)
    with pytest.raises(ValueError, match="use categorical_crossentropy"):
        losses.sparse_categorical_crossentropy(np.eye(3), probs)
    with pytest.raises(ValueError, match=r"expected integer labels of shape \(3,\) or \(3, 1\)"):
        losses.sparse_categorical_crossentropy([0, 1], probs)


# --- losses of one's own --------------------------------------------------------------------------

def my_huber_loss(y_true, y_pred):
    """The Ukrainian notes' custom Huber loss (threshold 1), with NumPy in place of TensorFlow."""
    threshold = 1
    error = y_true - y_pred
    is_small_error = np.abs(error) <= threshold
    small_error_loss = np.square(error) / 2
    big_error_loss = threshold * (np.abs(error) - (0.5 * threshold))
    return np.where(is_small_error, small_error_loss, big_error_loss)


def test_the_notes_custom_huber_loss_equals_nnlibs_huber_value_and_gradient():
    loss = losses.get(my_huber_loss)
    assert loss.name == "my_huber_loss"
    rng = np.random.default_rng(7)
    y_true, y_pred = 2 * rng.normal(size=(8, 3)), 2 * rng.normal(size=(8, 3))
    assert loss.value(y_true, y_pred) == pytest.approx(losses.huber(y_true, y_pred), rel=1e-12)
    np.testing.assert_allclose(loss.grad(y_true, y_pred), losses.huber_grad(y_true, y_pred), atol=1e-10)


def test_a_per_sample_custom_loss_is_averaged_as_keras_does():
    def per_sample_mse(y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    loss = losses.custom(per_sample_mse)
    rng = np.random.default_rng(8)
    y_true, y_pred = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)).astype(np.float32)
    assert loss.value(y_true, y_pred) == pytest.approx(losses.mean_squared_error(y_true, y_pred), rel=1e-6)
    grad = loss.grad(y_true, y_pred)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, losses.mean_squared_error_grad(y_true, y_pred), atol=1e-6)


def test_custom_losses_that_cannot_be_differentiated_say_why():
    with pytest.raises(ValueError, match="depends on other samples"):
        losses.get(lambda y, p: (y - p - p.mean(axis=0)) ** 2)
    with pytest.raises(ValueError, match=r"'<lambda>' failed on NumPy arrays.*Write it with NumPy"):
        losses.get(lambda y, p: max(y, p))
    with pytest.raises(TypeError, match="fix the parameters of your own loss"):
        losses.get(my_huber_loss, delta=2.0)


def test_keras_loss_classes_of_the_notes():
    """loss=keras.losses.SparseCategoricalCrossentropy() and friends, as the notes write them."""
    for class_name in losses.KERAS_CLASSES:
        loss = getattr(losses, class_name)()
        assert isinstance(loss, losses.Loss) and loss.name in losses.LOSSES, class_name
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.KLDivergence().name == "kl_divergence"
    y_true, y_pred = np.array([[0.0], [3.0]]), np.array([[1.0], [0.5]])
    assert losses.Huber(delta=2.0).value(y_true, y_pred) == losses.huber(y_true, y_pred, delta=2.0)
    logits = np.array([[2.0, -1.0]])
    assert losses.SparseCategoricalCrossentropy(from_logits=True).value(np.array([0]), logits) == \
        pytest.approx(losses.sparse_categorical_crossentropy(np.array([0]), logits, from_logits=True))
    with pytest.raises(TypeError, match="does not accept"):
        losses.MeanSquaredError(delta=1.0)
