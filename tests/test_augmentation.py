"""Data augmentation layers (GaussianNoise, RandomFlip, RandomTranslation): the identity at
inference, the promised change in training, and a backward pass that is the adjoint of that change."""
import numpy as np
import pytest

from nnlib import layers, models
from nnlib.layers import augmentation

IMAGES = np.random.default_rng(0).normal(size=(6, 5, 4, 2))      # (N, H, W, C)


def augmenters():
    return [layers.GaussianNoise(0.3, seed=1), layers.RandomFlip(seed=2), layers.RandomFlip("horizontal", seed=3),
            layers.RandomFlip("vertical", seed=4), layers.RandomTranslation(0.4, 0.5, seed=5),
            layers.RandomTranslation(0.2, 0.0, fill_value=-1.0, seed=6)]


@pytest.mark.parametrize("layer", augmenters(), ids=lambda layer: layer.name)
def test_identity_at_inference(layer):
    np.testing.assert_array_equal(layer.forward(IMAGES), IMAGES)
    dy = np.ones_like(IMAGES)
    np.testing.assert_array_equal(layer.backward(dy), dy)
    assert layer.count_params() == 0 and layer.compute_output_shape(IMAGES.shape[1:]) == IMAGES.shape[1:]


def constant_part(layer, x, y):
    """``c`` of this training pass's map ``y = A x + c``: the noise, the filled border, or nothing."""
    if isinstance(layer, layers.GaussianNoise):
        return y - x
    if isinstance(layer, layers.RandomTranslation):
        return augmentation._shift(np.zeros_like(x), layer.cache.rows, layer.cache.cols, layer.fill_value)
    return np.zeros_like(x)


@pytest.mark.parametrize("layer", augmenters(), ids=lambda layer: layer.name)
def test_backward_is_the_adjoint_of_the_training_draw(layer):
    """<A x, r> = <x, backward(r)> for the affine map y = A x + c drawn in this pass: backward is its gradient."""
    y = layer.forward(IMAGES, training=True)
    r = np.random.default_rng(9).normal(size=y.shape)
    dx = layer.backward(r)
    assert np.sum((y - constant_part(layer, IMAGES, y)) * r) == pytest.approx(np.sum(IMAGES * dx), rel=1e-12)


def test_gaussian_noise_has_the_asked_spread():
    x = np.zeros((200, 50))
    noise = layers.GaussianNoise(0.5, seed=0).forward(x, training=True)
    assert abs(noise.mean()) < 0.01 and noise.std() == pytest.approx(0.5, rel=0.02)


def test_random_flip_mirrors_whole_images_half_of_the_time():
    x = np.random.default_rng(1).normal(size=(400, 3, 3, 1))
    y = layers.RandomFlip("horizontal", seed=0).forward(x, training=True)
    mirrored = np.array([np.array_equal(a, b[:, ::-1]) for a, b in zip(y, x)])
    kept = np.array([np.array_equal(a, b) for a, b in zip(y, x)])
    assert np.all(mirrored ^ kept) and 0.4 < mirrored.mean() < 0.6
    both = layers.RandomFlip(seed=0).forward(x, training=True)
    assert any(np.array_equal(a, b[::-1, ::-1]) for a, b in zip(both, x))


def test_random_translation_moves_each_image_within_its_range():
    x = np.arange(2 * 5 * 6, dtype=float).reshape(2, 5, 6, 1) + 1
    layer = layers.RandomTranslation(0.4, 0.5, fill_value=0.0, seed=3)
    y = layer.forward(x, training=True)
    rows, cols = layer.cache.rows, layer.cache.cols
    assert np.all(np.abs(rows) <= 2) and np.all(np.abs(cols) <= 3)
    for n in range(2):
        for i in range(5):
            for j in range(6):
                i0, j0 = i - rows[n], j - cols[n]
                expected = x[n, i0, j0, 0] if 0 <= i0 < 5 and 0 <= j0 < 6 else 0.0
                assert y[n, i, j, 0] == expected


def test_a_model_augments_in_fit_only():
    x = np.random.default_rng(4).normal(size=(16, 6, 6, 1))
    y = (x.mean(axis=(1, 2, 3)) > 0).astype(int)
    model = models.Sequential([models.Input((6, 6, 1)), layers.RandomFlip(seed=0), layers.RandomTranslation(0.2, 0.2, seed=1),
                               layers.GaussianNoise(0.1, seed=2), layers.Flatten(), layers.Dense(2, activation="softmax", seed=3)])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    dense = model.layers[-1]
    expected = x.reshape(16, -1) @ dense.params["kernel"] + dense.params["bias"]
    expected = np.exp(expected - expected.max(axis=1, keepdims=True))
    np.testing.assert_allclose(model.predict(x), expected / expected.sum(axis=1, keepdims=True), atol=1e-12)


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="GaussianNoise stddev must be a number >= 0"):
        layers.GaussianNoise(-1)
    with pytest.raises(ValueError, match="RandomFlip mode must be one of horizontal, vertical"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"height_factor must be a fraction of the image in \[0, 1\]"):
        layers.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match=r"expects inputs with 3 axes besides the batch, e.g. \(height, width"):
        layers.RandomFlip().forward(np.ones((2, 3)))
