"""nnlib.regularizers: L1/L2 weight penalties, their gradients, and what layers and models do with them."""
import numpy as np
import pytest

from nnlib import datasets, layers, models, regularizers
from nnlib.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("reg, l1, l2", [(regularizers.l1(0.3), 0.3, 0.0), (regularizers.l2(0.2), 0.0, 0.2),
                                         (regularizers.l1_l2(0.1, 0.05), 0.1, 0.05), (regularizers.get("l2"), 0.0, 0.01)])
def test_penalty_and_its_gradient(reg, l1, l2):
    w = np.array([[0.5, -2.0], [1.5, -0.25]])
    assert reg(w) == pytest.approx(l1 * 4.25 + l2 * 6.5625)
    np.testing.assert_allclose(reg.gradient(w), l1 * np.sign(w) + 2 * l2 * w)
    assert rel_error(reg.gradient(w), numerical_gradient(reg, w.copy())) < 1e-8


def _regularized_check(layer, x):
    """Relative errors of the kernel and bias gradients of sum(forward(x) * r) + the layer's penalties."""
    out = layer.forward(x, training=True)
    r = np.random.default_rng(3).standard_normal(out.shape)
    layer.backward(r)

    def objective(_):
        return np.sum(layer.forward(x, training=True) * r) + sum(layer.losses)

    return {key: rel_error(layer.grads[key], numerical_gradient(objective, layer.params[key])) for key in layer.params}


def test_dense_adds_the_penalty_gradient():
    layer = layers.Dense(3, activation="tanh", kernel_regularizer=regularizers.l1_l2(0.05, 0.1),
                         bias_regularizer="l2", seed=0)
    x = np.random.default_rng(1).normal(size=(4, 5))
    errors = _regularized_check(layer, x)
    assert max(errors.values()) < 1e-6, errors
    assert len(layer.losses) == 2 and layer.losses[0] > 0


def test_conv2d_adds_the_penalty_gradient():
    layer = layers.Conv2D(2, 3, kernel_regularizer=regularizers.l2(0.1), seed=0)
    x = np.random.default_rng(2).normal(size=(2, 5, 5, 1))
    errors = _regularized_check(layer, x)
    assert max(errors.values()) < 1e-6, errors


def test_the_models_loss_includes_the_penalties_and_l2_keeps_weights_small():
    x, y = datasets.digits_8x8()

    def trained(reg):
        model = models.Sequential([models.Input(64), layers.Dense(32, activation="relu", kernel_regularizer=reg, seed=0),
                                   layers.Dense(10, activation="softmax", seed=1)])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=5, batch_size=64, verbose=0, shuffle=False)
        return model

    plain, decayed = trained(None), trained(regularizers.l2(0.01))
    kernel = decayed.layers[0].params["kernel"]
    data_loss = decayed.loss.value(y, decayed.predict(x))
    assert decayed.evaluate(x, y) == pytest.approx(data_loss + 0.01 * np.sum(kernel ** 2))
    assert np.linalg.norm(kernel) < 0.8 * np.linalg.norm(plain.layers[0].params["kernel"])


def test_bad_regularizers_are_explained():
    with pytest.raises(ValueError, match="l2 strength must be a finite number >= 0, got -0.1"):
        regularizers.l2(-0.1)
    with pytest.raises(ValueError, match="Did you mean 'l2'"):
        layers.Dense(2, kernel_regularizer="l22")
    with pytest.raises(TypeError, match="a regularizer must be None, a name such as 'l2'"):
        layers.Dense(2, kernel_regularizer=0.01)


def test_numpy_numbers_are_strengths_too():
    assert regularizers.l2(np.float32(0.5)) == regularizers.L1L2(l2=0.5)
    assert regularizers.l1(np.int64(1)).l1 == 1.0
