"""nnlib.layers: gradients against numerical ones, Keras's shapes, counts and names, clear errors."""
import numpy as np
import pytest

from nnlib import _kernels, conv, layers
from nnlib.gradcheck import check_layer

TOL = 1e-6


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_name_counters()
    yield
    layers.reset_name_counters()


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def away_from_zero(*shape, seed=0):
    """Random values with |x| >= 0.1, so that ReLU's kink at 0 is never within the finite difference."""
    x = rand(*shape, seed=seed)
    return np.where(x >= 0, x + 0.1, x - 0.1)


def assert_gradients_ok(layer, x):
    # h = 1e-5: rounding in f(x + h) - f(x - h) is then ~1e-11 relative, truncation ~1e-10
    errors = check_layer(layer, x, h=1e-5)
    assert set(errors) == {"input"} | set(layer.params)
    assert max(errors.values()) < TOL, errors


# --- gradients ------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", [None, "linear", "relu", "sigmoid", "tanh", "softmax", "elu"])
def test_dense_gradients(activation):
    layer = layers.Dense(3, activation=activation, seed=0, bias_initializer="random_normal")
    x = away_from_zero(5, 4) if activation == "relu" else rand(5, 4)
    if activation == "relu":  # keep the pre-activations away from 0 as well
        layer.build((4,))
        layer.params["bias"][:] = 0.05
        z = x @ layer.params["kernel"] + layer.params["bias"]
        assert np.abs(z).min() > 1e-3
    assert_gradients_ok(layer, x)


def test_dense_without_bias_and_float32_weights():
    layer = layers.Dense(2, use_bias=False, seed=1)
    assert_gradients_ok(layer, rand(3, 4))
    assert list(layer.params) == ["kernel"]
    small = layers.Dense(2, dtype="float32", seed=1)
    assert small.forward(rand(3, 4)).dtype == np.float32


@pytest.mark.parametrize("activation", ["relu", "softmax", "swish", None])
def test_activation_layer_gradients(activation):
    assert_gradients_ok(layers.Activation(activation), away_from_zero(3, 5, seed=2))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("strides, padding", [(1, "valid"), (2, "same"), (1, "same"), ((2, 1), "valid")])
def test_conv2d_gradients(data_format, strides, padding):
    layer = layers.Conv2D(3, (3, 2), strides=strides, padding=padding, data_format=data_format, seed=3,
                          activation="tanh", bias_initializer="random_normal")
    shape = (2, 7, 6, 2) if data_format == "channels_last" else (2, 2, 7, 6)
    assert_gradients_ok(layer, rand(*shape, seed=4))


@pytest.mark.parametrize("use_numba", [True, False])
def test_conv2d_same_result_on_both_backends(monkeypatch, use_numba):
    x = rand(2, 6, 6, 3, seed=5)
    reference = layers.Conv2D(4, 3, padding="same", seed=6)
    y_ref = reference.forward(x)
    monkeypatch.setattr(_kernels, "use_numba", lambda: use_numba)
    layer = layers.Conv2D(4, 3, padding="same", seed=6)
    np.testing.assert_allclose(layer.forward(x), y_ref, atol=1e-12)
    assert_gradients_ok(layer, x)


@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("pool_size, strides, padding", [(2, None, "valid"), ((2, 3), 2, "same"), (3, 1, "valid")])
def test_pooling_gradients(cls, data_format, pool_size, strides, padding):
    rng = np.random.default_rng(7)
    x = rng.permutation(2 * 7 * 8 * 3).reshape(2, 7, 8, 3) / 336   # distinct values 1/336 apart: no ties
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    layer = cls(pool_size, strides, padding, data_format=data_format)
    y = layer.forward(x)
    assert y.shape[1:] == layer.compute_output_shape(x.shape[1:])
    assert_gradients_ok(layer, x)


def test_flatten_gradients_and_shape():
    layer = layers.Flatten()
    x = rand(2, 3, 4, 5)
    assert layer.forward(x).shape == (2, 60) and layer.compute_output_shape((3, 4, 5)) == (60,)
    np.testing.assert_array_equal(layer.forward(x)[1], x[1].ravel())
    assert_gradients_ok(layer, x)


class Reseeded:
    """Wraps a Dropout layer so that every forward draws the same mask (check_layer calls forward many times)."""

    def __init__(self, layer, seed):
        self.layer, self.seed = layer, seed
        self.params, self.grads = layer.params, layer.grads

    def forward(self, x, training=False):
        self.layer.rng = np.random.default_rng(self.seed)
        return self.layer.forward(x, training)

    def backward(self, dy):
        return self.layer.backward(dy)


def test_dropout_gradients_with_a_fixed_mask():
    layer = layers.Dropout(0.4, seed=0)
    x = rand(4, 6)
    assert_gradients_ok(Reseeded(layer, 8), x)
    assert layer.cache.mask is not None and set(np.unique(layer.cache.mask)) == {0.0, 1 / 0.6}


@pytest.mark.parametrize("shape, axis", [((6, 4), -1), ((3, 4, 5, 2), -1), ((3, 2, 4, 5), 1)])
def test_batchnorm_gradients_in_training(shape, axis):
    layer = layers.BatchNormalization(axis=axis)
    layer.build(shape[1:])
    layer.params["gamma"][:] = rand(layer.params["gamma"].size, seed=9) + 2
    layer.params["beta"][:] = rand(layer.params["beta"].size, seed=10)
    assert_gradients_ok(layer, rand(*shape, seed=11) + 1)


def test_batchnorm_gradients_at_inference():
    layer = layers.BatchNormalization()
    x = rand(5, 3, seed=12)
    layer.forward(x, training=True)
    y = layer.forward(x, training=False)
    dx = layer.backward(np.ones_like(y))
    inv_std = 1 / np.sqrt(layer.state["moving_variance"] + 1e-3)
    np.testing.assert_allclose(dx, np.broadcast_to(inv_std, x.shape))


# --- behaviour ------------------------------------------------------------------------------------

@pytest.mark.parametrize("units, expected", [((2, 3, 3), (10, 9, 12)), ((5, 3, 1), (25, 18, 4))])
def test_dense_parameter_counts_match_keras(units, expected):
    shape = (4,)
    for n, count in zip(units, expected):
        layer = layers.Dense(n)
        layer.build(shape)
        assert layer.count_params() == count
        shape = layer.compute_output_shape(shape)


def test_conv2d_parameter_count_and_shapes_match_keras():
    layer = layers.Conv2D(8, 3, input_shape=(28, 28, 1))
    assert layer.input_shape == (28, 28, 1)
    layer.build(layer.input_shape)
    assert layer.count_params() == 80
    assert layer.params["kernel"].shape == (3, 3, 1, 8) and layer.params["bias"].shape == (8,)
    assert layer.compute_output_shape((28, 28, 1)) == (26, 26, 8)
    assert layers.Conv2D(4, 3, padding="same", strides=2).compute_output_shape((7, 7, 3)) == (4, 4, 4)
    assert layers.MaxPooling2D().compute_output_shape((26, 26, 8)) == (13, 13, 8)
    first = layers.Conv2D(4, 3, data_format="channels_first")
    assert first.compute_output_shape((3, 10, 8)) == (4, 8, 6)


def test_conv2d_is_the_lesson_convolution_per_filter():
    image = rand(1, 6, 7, 1, seed=13)
    layer = layers.Conv2D(2, 3, use_bias=False)
    layer.build((6, 7, 1))
    layer.set_weights([np.stack([conv.KERNELS["sobel_x"], conv.KERNELS["sharpen"]], axis=-1)[:, :, None, :]])
    y = layer.forward(image)
    np.testing.assert_allclose(y[0, :, :, 0], conv.convolve2d(image[0, :, :, 0], "sobel_x"), atol=1e-12)
    np.testing.assert_allclose(y[0, :, :, 1], conv.convolve2d(image[0, :, :, 0], "sharpen"), atol=1e-12)


def test_conv2d_data_formats_agree():
    x = rand(2, 5, 6, 3, seed=14)
    last = layers.Conv2D(4, 3, strides=2, padding="same", seed=15)
    first = layers.Conv2D(4, 3, strides=2, padding="same", seed=15, data_format="channels_first")
    y = last.forward(x)
    np.testing.assert_allclose(first.forward(x.transpose(0, 3, 1, 2)), y.transpose(0, 3, 1, 2), atol=1e-12)


def test_pooling_worked_examples():
    x = np.array([[1, 3, 2, 9], [4, 0, 2, 2], [5, 6, 1, 1], [7, 8, 1, 3]], dtype=float)[None, :, :, None]
    np.testing.assert_array_equal(layers.MaxPooling2D().forward(x)[0, :, :, 0], [[4, 9], [8, 3]])
    np.testing.assert_array_equal(layers.AveragePooling2D().forward(x)[0, :, :, 0], [[2, 3.75], [6.5, 1.5]])
    # "same" on 3x3 with 2x2 windows: as Keras, a border window averages only its real pixels
    y = layers.AveragePooling2D(padding="same").forward(x[:, :3, :3])
    np.testing.assert_allclose(y[0, :, :, 0], [[2, 2], [5.5, 1]])


def test_dropout_is_identity_at_inference_and_keeps_the_mean_in_training():
    layer = layers.Dropout(0.25, seed=1)
    x = np.ones((200, 100))
    np.testing.assert_array_equal(layer.forward(x), x)
    np.testing.assert_array_equal(layer.backward(np.full_like(x, 2.0)), 2.0)
    y = layer.forward(x, training=True)
    dropped = np.mean(y == 0)
    assert abs(dropped - 0.25) < 0.02 and abs(y.mean() - 1) < 0.03
    np.testing.assert_array_equal(layer.backward(x), y)           # the same mask scales the gradient
    again = layers.Dropout(0.25, seed=1).forward(x, training=True)
    np.testing.assert_array_equal(again, y)                        # the seed fixes the masks


def test_dropout_noise_shape_drops_whole_channels():
    layer = layers.Dropout(0.5, noise_shape=(None, 1, 1, 4), seed=2)
    y = layer.forward(np.ones((3, 5, 5, 4)), training=True)
    per_channel = y.reshape(3, 25, 4)
    assert (per_channel == per_channel[:, :1]).all()              # one decision per image and channel
    assert layer.backward(np.ones((3, 5, 5, 4))).shape == (3, 5, 5, 4)


def test_batchnorm_normalises_and_updates_moving_statistics():
    layer = layers.BatchNormalization(momentum=0.9)
    x = rand(500, 3, seed=16) * np.array([1.0, 5.0, 0.1]) + np.array([0.0, 10.0, -3.0])
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(y.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-3))
    np.testing.assert_allclose(layer.state["moving_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.state["moving_variance"], 0.9 + 0.1 * x.var(axis=0))
    expected = (x - layer.state["moving_mean"]) / np.sqrt(layer.state["moving_variance"] + 1e-3)
    np.testing.assert_allclose(layer.forward(x), expected)        # inference: moving statistics
    assert layer.count_params() == 12 and list(layer.params) == ["gamma", "beta"]
    names = [w.shape for w in layer.get_weights()]
    assert names == [(3,)] * 4
    np.testing.assert_array_equal(layer.get_weights()[2], layer.state["moving_mean"])


def test_batchnorm_on_images_normalises_each_channel():
    layer = layers.BatchNormalization(center=False, scale=False)
    x = rand(4, 5, 5, 3, seed=17) * 2 + np.array([1.0, -1.0, 5.0])
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-10)
    assert layer.params == {} and layer.count_params() == 6


def test_automatic_names_follow_keras():
    assert [layers.Dense(2).name, layers.Dense(2).name, layers.Dense(2, name="out").name,
            layers.Dense(2).name] == ["dense", "dense_1", "out", "dense_2"]
    assert layers.Conv2D(2, 3).name == "conv2d"
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.BatchNormalization().name == "batch_normalization"
    layers.reset_name_counters()
    assert layers.Dense(2).name == "dense"


def test_custom_initializer_is_checked():
    layer = layers.Dense(2, kernel_initializer=lambda shape, rng: np.full(shape, 0.5))
    layer.build((3,))
    np.testing.assert_array_equal(layer.params["kernel"], np.full((3, 2), 0.5))
    bad = layers.Dense(2, kernel_initializer=lambda shape, rng: np.ones(2))
    with pytest.raises(ValueError, match=r"initializer of 'kernel' returned shape \(2,\), expected \(3, 2\)"):
        bad.build((3,))


def test_get_and_set_weights():
    layer = layers.Dense(3, seed=0)
    layer.build((2,))
    kernel = layer.params["kernel"]
    new = [np.arange(6.0).reshape(2, 3), np.ones(3)]
    layer.set_weights(new)
    assert layer.params["kernel"] is kernel                       # in place: optimizer state keyed by id stays valid
    np.testing.assert_array_equal(layer.get_weights()[0], new[0])
    layer.get_weights()[0][0, 0] = 100                            # a copy
    assert layer.params["kernel"][0, 0] == 0
    with pytest.raises(ValueError, match=r"weight 0 \('kernel'\) has shape \(2, 3\), got an array of shape \(3, 2\)"):
        layer.set_weights([np.ones((3, 2)), np.ones(3)])
    with pytest.raises(ValueError, match=r"has 2 weights \(kernel, bias\), got a list of 1"):
        layer.set_weights([np.ones((2, 3))])


def test_forward_builds_and_config_describes():
    layer = layers.Dense(3, activation="relu", input_shape=[4])
    assert layer.input_shape == (4,) and not layer.built
    np.testing.assert_array_equal(layer(np.ones((2, 4))), layer.forward(np.ones((2, 4))))
    assert layer.built and layer.get_config()["units"] == 3 and layer.get_config()["activation"] == "relu"
    assert repr(layer) == "Dense(name='dense', units=3, activation='relu', use_bias=True)"
    assert layers.get("dense") is layers.Dense


def test_shape_mismatch_names_layer_expected_and_actual():
    layer = layers.Dense(2)
    layer.forward(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"Layer 'dense' expects input of shape \(None, 4\), got shape \(5, 3\)"):
        layer.forward(np.ones((5, 3)))
    c = layers.Conv2D(2, 3)
    c.build((8, 8, 3))
    with pytest.raises(ValueError, match=r"Layer 'conv2d' expects input of shape \(None, None, None, 3\), "
                                         r"got shape \(1, 8, 8, 1\)"):
        c.forward(np.ones((1, 8, 8, 1)))
    with pytest.raises(ValueError, match=r"expects inputs with 3 axes besides the batch"):
        layers.Conv2D(2, 3).build((28, 28))
    with pytest.raises(ValueError, match=r"expects a batch of samples"):
        layers.Dense(2).forward(np.ones(4))
    with pytest.raises(ValueError, match=r"kernel \(5, 5\) is larger than the \(padded\) image"):
        layers.Conv2D(2, 5).forward(np.ones((1, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"dy has shape \(5, 3\), expected \(5, 2\)"):
        layer.forward(np.ones((5, 4)), training=True)
        layer.backward(np.ones((5, 3)))


def test_wrong_call_order_says_so():
    with pytest.raises(RuntimeError, match=r"backward\(\) of layer 'dense' was called before forward\(\)"):
        layers.Dense(2).backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="Layer 'conv2d' is not built yet"):
        layers.Conv2D(2, 3).count_params()
    with pytest.raises(RuntimeError, match="not built yet"):
        layers.Dense(2).get_weights()


def test_bad_arguments():
    with pytest.raises(ValueError, match="Did you mean 'relu'"):
        layers.Dense(2, activation="rleu")
    with pytest.raises(ValueError, match="Did you mean 'glorot_uniform'"):
        layers.Dense(2, kernel_initializer="glorot_unifrom")
    with pytest.raises(ValueError, match="Dense units must be a positive integer"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="data_format must be 'channels_last'"):
        layers.Conv2D(2, 3, data_format="NHWC")
    with pytest.raises(ValueError, match=r"Dropout rate must be a number in \[0, 1\)"):
        layers.Dropout(1.0)


def test_a_custom_activation_trains_with_its_numerical_derivative():
    def my_softplus(x):                       # an activation of one's own, as the notes write them
        return np.log1p(np.exp(x))

    layer = layers.Dense(3, activation=my_softplus, seed=0)
    x = np.random.default_rng(1).normal(size=(4, 5))
    errors = check_layer(layer, x)
    assert max(errors.values()) < 1e-6, errors
    with pytest.raises(ValueError, match="'<lambda>' is not element-wise"):
        layers.Dense(2, activation=lambda z: z - z.mean(axis=-1, keepdims=True))


def test_lambda_layer_of_the_notes():
    """keras.layers.Lambda(lambda x: tf.abs(x)) and Lambda(my_relu), from the English/Ukrainian notes."""
    x = np.array([[-2.0, -0.5, 0.5, 3.0]])
    absolute = layers.Lambda(lambda t: np.abs(t))
    np.testing.assert_array_equal(absolute.forward(x), np.abs(x))
    np.testing.assert_allclose(absolute.backward(np.ones_like(x)), np.sign(x), atol=1e-9)
    calls = []

    def relu_derivative(t):
        calls.append(t.shape)
        return (t > 0).astype(t.dtype)

    my_relu = layers.Lambda(lambda t: np.maximum(0.0, t), derivative=relu_derivative)
    my_relu.forward(x)
    np.testing.assert_array_equal(my_relu.backward(np.full_like(x, 2.0)), [[0.0, 0.0, 2.0, 2.0]])
    assert calls == [(1, 4)]                                    # the given derivative, not a numerical one
    smooth = layers.Lambda(np.sin)
    assert check_layer(smooth, np.random.default_rng(2).normal(size=(3, 4)))["input"] < 1e-6
    assert layers.get("Lambda") is layers.Lambda and smooth.name.startswith("lambda")


def test_lambda_layer_explains_what_it_cannot_take():
    with pytest.raises(TypeError, match=r"Lambda needs a function, e.g. Lambda\(lambda x: np.abs\(x\)\)"):
        layers.Lambda("abs")
    for whole_array in (lambda t: t.reshape(-1), lambda t: t - t.mean(), lambda t: t / t.max(),
                        lambda t: t / np.abs(t).sum(), lambda t: t / np.median(np.abs(t)), lambda t: t * t.size):
        with pytest.raises(ValueError, match="not element-wise"):
            layers.Lambda(whole_array).build((5,))
        with pytest.raises(ValueError, match="not element-wise"):             # a derivative given changes nothing
            layers.Lambda(whole_array, derivative=np.ones_like).forward(np.ones((2, 5)))
    scale = np.array([1.0, 2.0, 3.0])                                       # per-feature constants are fine
    per_feature = layers.Lambda(lambda t: t * scale, derivative=lambda t: np.broadcast_to(scale, t.shape))
    np.testing.assert_allclose(per_feature.forward(np.ones((2, 3))), [[1, 2, 3], [1, 2, 3]])
    np.testing.assert_allclose(per_feature.backward(np.ones((2, 3))), [[1, 2, 3], [1, 2, 3]])

    def my_relu(x):                            # the notes' version: a Python if on one number
        if x > 0:
            return x
        return 0

    with pytest.raises(ValueError, match=r"'my_relu' failed on a NumPy array.*np.maximum\(x, 0.0\)"):
        layers.Lambda(my_relu).build((4,))


def test_a_model_with_a_lambda_layer_learns_digits():
    from nnlib import datasets, models

    x, y = datasets.digits_8x8()
    model = models.Sequential([models.Input(64), layers.Dense(32, seed=0), layers.Lambda(lambda t: np.abs(t)),
                               layers.Dense(10, activation="softmax", seed=1)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, validation_split=0.2, verbose=0, shuffle=False)
    assert history.history["val_accuracy"][-1] > 0.8


def test_a_small_cnn_learns_by_hand_written_sgd():
    """Conv2D -> ReLU -> MaxPooling2D -> Flatten -> Dense(softmax): the loss falls on a toy task."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8, 1))
    labels = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(int)  # top half brighter?
    net = [layers.Conv2D(4, 3, padding="same", activation="relu", seed=1), layers.MaxPooling2D(),
           layers.Flatten(), layers.BatchNormalization(), layers.Dropout(0.1, seed=2),
           layers.Dense(2, activation="softmax", seed=3)]

    def step(learning_rate=0.1):
        out = x
        for layer in net:
            out = layer.forward(out, training=True)
        loss = -np.mean(np.log(out[np.arange(len(x)), labels]))
        grad = -np.eye(2)[labels] / out / len(x)                  # d(cross-entropy)/d(softmax output)
        for layer in reversed(net):
            grad = layer.backward(grad)
        for layer in net:
            for name, g in layer.grads.items():
                layer.params[name] -= learning_rate * g
        return loss

    losses = [step() for _ in range(60)]
    assert losses[-1] < 0.5 * losses[0], losses[::10]


# --- the unchecked path (call / call_backward) and the options of backward ---------------------------

def twin_without_activation(layer, x):
    """A copy of ``layer`` with the same weights and no activation, run forward on ``x``."""
    config = {k: v for k, v in layer.get_config().items() if k in ("units", "filters", "kernel_size", "strides",
                                                                   "padding", "data_format", "use_bias")}
    twin = type(layer)(**config)
    twin.build(x.shape[1:])
    twin.set_weights(layer.get_weights())
    twin.forward(x, training=True)
    return twin


@pytest.mark.parametrize("make, x", [
    (lambda: layers.Dense(3, activation="softmax", seed=0, bias_initializer="random_normal"), rand(5, 4)),
    (lambda: layers.Conv2D(2, 3, activation="relu", padding="same", seed=1), away_from_zero(2, 5, 5, 3)),
])
def test_skip_activation_takes_the_gradient_of_the_pre_activation(make, x):
    layer = make()
    y = layer.forward(x, training=True)
    dz = rand(*y.shape, seed=9)
    dx = layer.backward(dz, skip_activation=True)
    twin = twin_without_activation(layer, x)
    np.testing.assert_allclose(dx, twin.backward(dz), atol=1e-12)
    for key in layer.params:
        np.testing.assert_allclose(layer.grads[key], twin.grads[key], atol=1e-12)
    activation = layers.Activation("sigmoid")
    activation.forward(x, training=True)
    assert activation.backward(x, skip_activation=True) is x       # the Activation layer passes dz through


@pytest.mark.parametrize("make, x", [
    (lambda: layers.Dense(3, activation="tanh", seed=0), rand(5, 4)),
    (lambda: layers.Conv2D(2, 3, activation="tanh", seed=1), rand(2, 6, 5, 3)),
    (lambda: layers.Conv2D(2, 3, strides=2, padding="same", data_format="channels_first", seed=2), rand(3, 2, 7, 6)),
])
def test_call_backward_without_the_input_gradient_fills_the_same_grads(make, x):
    layer = make()
    y = layer.forward(x, training=True)
    dy = rand(*y.shape, seed=3)
    dx = layer.backward(dy)
    grads = {k: g.copy() for k, g in layer.grads.items()}
    assert layer.call_backward(dy, input_grad=False) is None
    for key, g in grads.items():
        np.testing.assert_allclose(layer.grads[key], g, atol=1e-12)
    np.testing.assert_allclose(layer.call_backward(dy), dx, atol=1e-12)    # call_backward = backward unchecked
    np.testing.assert_allclose(layer.call(x, training=True), y, atol=1e-12)


def test_conv2d_scratch_is_reused_across_batch_sizes_and_dtypes():
    layer = layers.Conv2D(3, 3, padding="same", seed=4)
    fresh = layers.Conv2D(3, 3, padding="same", seed=4)
    for batch in (4, 1, 6, 2):
        x = rand(batch, 7, 7, 2, seed=batch)
        y = layer.forward(x, training=True)
        np.testing.assert_allclose(y, fresh.forward(x), atol=1e-12)
        dy = rand(*y.shape, seed=10 + batch)
        fresh.forward(x, training=True)
        np.testing.assert_allclose(layer.backward(dy), fresh.backward(dy), atol=1e-12)
        fresh.scratch = _kernels.Scratch()                      # the reference starts from nothing each time
    assert layer.scratch.buffers                                # the work arrays were kept
    single = layers.Conv2D(3, 3, dtype="float32", seed=4)
    single.scratch = layer.scratch                              # float64 buffers are not reused for float32
    assert single.forward(rand(2, 5, 5, 2).astype(np.float32)).dtype == np.float32


def test_layer_without_call_says_what_to_define():
    class Nothing(layers.Layer):
        pass

    with pytest.raises(NotImplementedError, match=r"Nothing must define call\(x, training\)"):
        Nothing().forward(np.ones((2, 3)))


def test_normalization_standardises_each_feature_of_the_training_data():
    """The checklist's "normalise the data": adapt on the training set, then (x - mean) / std per feature."""
    from nnlib import datasets, models

    x, _ = datasets.iris()
    norm = layers.Normalization()
    norm.adapt(x)
    z = norm.forward(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-12)
    assert check_layer(norm, x[:6])["input"] < 1e-6
    model = models.Sequential([models.Input(4), norm, layers.Dense(3, seed=0)])
    assert model.count_params() == 8 + 15
    images = np.random.default_rng(0).normal(2.0, 3.0, size=(10, 4, 4, 3))     # per channel, the last axis
    per_channel = layers.Normalization()
    per_channel.adapt(images)
    np.testing.assert_allclose(per_channel.forward(images).mean(axis=(0, 1, 2)), 0, atol=1e-12)


def test_normalization_with_given_statistics_and_its_errors():
    fixed = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.0])
    np.testing.assert_allclose(fixed.forward(np.array([[3.0, 2.0]])), [[1.0, 0.0]])    # zero variance: no division by 0
    shared = layers.Normalization(mean=1.0, variance=4.0)                              # one value for all features
    np.testing.assert_allclose(shared.forward(np.array([[3.0, 5.0, 1.0]])), [[1.0, 2.0, 0.0]])
    with pytest.raises(RuntimeError, match=r"no statistics yet: call adapt\(x_train\) first"):
        layers.Normalization().forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="both mean and variance, or neither"):
        layers.Normalization(mean=[0.0])
    with pytest.raises(ValueError, match="mean and variance have 2 values but the input has 3 features"):
        layers.Normalization(mean=[0.0, 0.0], variance=[1.0, 1.0]).forward(np.ones((2, 3)))
    built = layers.Normalization()
    built.adapt(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"was built for inputs \(2,\), adapt\(\) got data of shape \(4, 3\)"):
        built.adapt(np.ones((4, 3)))
