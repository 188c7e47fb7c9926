"""Sequential: building, summary, training (XOR, digits), whole-model gradients, weights I/O, errors."""
import numpy as np
import pytest

from nnlib import callbacks, layers, losses, models, optimizers
from nnlib.gradcheck import numerical_gradient, rel_error


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_name_counters()
    yield


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def digits():
    from sklearn.datasets import load_digits
    data = load_digits()
    return data.data / 16.0, data.target


# --- building and summary ---------------------------------------------------------------------------

def test_summary_matches_keras_layout_and_counts():
    model = models.Sequential([layers.Dense(2, activation="relu"), layers.Dense(3, activation="relu"),
                               layers.Dense(3)])
    model.build((None, 4))
    lines = summary_lines(model)
    assert lines == [
        'Model: "sequential"',
        "_" * 65,
        "Layer (type)                 Output Shape              Param #   ",
        "=" * 65,
        "dense (Dense)                (None, 2)                 10        ",
        "_" * 65,
        "dense_1 (Dense)              (None, 3)                 9         ",
        "_" * 65,
        "dense_2 (Dense)              (None, 3)                 12        ",
        "=" * 65,
        "Total params: 31",
        "Trainable params: 31",
        "Non-trainable params: 0",
        "_" * 65,
    ]
    assert model.count_params() == 31


def test_summary_of_the_notes_my_model_called_on_data():
    # The English notes: Dense 5, 3, 1 named l1, l2, y; called on tf.ones((2, 4)) -> shapes (2, ...).
    model = models.Sequential([layers.Dense(5, activation="relu", name="l1"),
                               layers.Dense(3, activation="relu", name="l2"), layers.Dense(1, name="y")],
                              name="my_model")
    out = model(np.ones((2, 4)))
    assert out.shape == (2, 1)
    text = "\n".join(summary_lines(model))
    assert text.startswith('Model: "my_model"')
    for row in ("l1 (Dense)                   (2, 5)                    25",
                "l2 (Dense)                   (2, 3)                    18",
                "y (Dense)                    (2, 1)                    4"):
        assert row in text
    assert "Total params: 47\nTrainable params: 47\nNon-trainable params: 0" in text


def test_summary_counts_batchnorm_moving_statistics_as_non_trainable():
    model = models.Sequential([models.Input(shape=(4,)), layers.Dense(8), layers.BatchNormalization(),
                               layers.Dense(3, activation="softmax")])
    text = "\n".join(summary_lines(model))
    assert "batch_normalization (BatchNormalization)" in text   # a long name widens the column
    assert "(None, 8)" in text
    total = 40 + 32 + 27
    assert f"Total params: {total}\nTrainable params: {total - 16}\nNon-trainable params: 16" in text


def test_input_is_in_layers_too_as_keras_layers_input():
    assert layers.Input is models.Input and layers.Input((4,)) == models.InputSpec((4,))
    model = models.Sequential([layers.Input(4), layers.Dense(3)])
    assert model.built and [w.shape for w in model.get_weights()] == [(4, 3), (3,)]


def test_summary_before_build_says_how_to_build():
    model = models.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match=r"not been built.*build\(\(None, n_features\)\)"):
        model.summary()


def test_input_shape_on_first_layer_builds_at_once():
    model = models.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])
    assert model.built and model.count_params() == 15 + 8
    model.add(layers.Dense(1))
    assert model.built and model.count_params() == 23 + 3


def test_get_layer_by_name_and_index_with_clear_errors():
    model = models.Sequential([layers.Dense(2, name="hidden"), layers.Dense(1, name="output")])
    assert model.get_layer("output") is model.layers[1]
    assert model.get_layer(index=0) is model.layers[0]
    assert model.get_layer(index=-1).name == "output"
    with pytest.raises(ValueError, match=r"Did you mean 'hidden'\?.*hidden, output"):
        model.get_layer("hiden")
    with pytest.raises(ValueError, match="index 5.*has only 2 layers"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="exactly one"):
        model.get_layer()


def test_duplicate_layer_names_are_rejected():
    with pytest.raises(ValueError, match="unique names.*'a'"):
        models.Sequential([layers.Dense(2, name="a"), layers.Dense(2, name="a")])


# --- training ---------------------------------------------------------------------------------------

def test_mlp_learns_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])      # a vector for a single output, as Keras allows
    model = models.Sequential([layers.Dense(8, activation="tanh", input_shape=(2,), seed=1),
                               layers.Dense(1, activation="sigmoid", seed=2)])
    model.compile(optimizer=optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=4, epochs=300, verbose=0, seed=0)
    assert history.history["accuracy"][-1] == 1.0
    assert model.evaluate(x, y) == pytest.approx([history.history["loss"][-1], 1.0], abs=0.05)
    np.testing.assert_array_equal(model.predict(x)[:, 0] > 0.5, y == 1)


def test_digits_reach_95_percent_validation_accuracy():
    x, y = digits()
    order = np.random.default_rng(0).permutation(len(x))
    train, val = order[:1400], order[1400:]
    model = models.Sequential([layers.Dense(64, activation="relu", seed=0),
                               layers.Dense(10, activation="softmax", seed=1)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[train], y[train], epochs=25, batch_size=32, validation_data=(x[val], y[val]),
                        verbose=0, seed=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 25 and history.epoch == list(range(25))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] >= 0.95
    loss, acc = model.evaluate(x[val], y[val])
    assert acc == pytest.approx(history.history["val_accuracy"][-1])
    assert model.history is history


def test_fit_is_reproducible_with_a_seed():
    x, y = digits()
    runs = []
    for _ in range(2):
        layers.reset_name_counters()
        model = models.Sequential([layers.Dense(16, activation="relu", seed=3), layers.Dense(10, activation="softmax", seed=4)])
        model.compile("sgd", "sparse_categorical_crossentropy")
        runs.append(model.fit(x[:300], y[:300], epochs=2, verbose=0, seed=7).history["loss"])
    assert runs[0] == runs[1]


def test_epoch_loss_is_the_mean_of_the_batch_losses():
    # Keras's epoch loss: the sample-weighted mean of each batch's loss, computed before its update.
    x, y = digits()
    x, y = x[:100], y[:100]
    model = models.Sequential([layers.Dense(10, activation="softmax", seed=0)])
    model.compile(optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    model.build((None, 64))
    weights = model.get_weights()
    history = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    model.set_weights(weights)
    batch_losses = [model.train_on_batch(x[i:i + 32], y[i:i + 32]) * len(x[i:i + 32]) for i in range(0, 100, 32)]
    assert history.history["loss"][0] == pytest.approx(sum(batch_losses) / 100, rel=1e-12)


def test_validation_split_takes_the_last_samples():
    x = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10, dtype=float).reshape(10, 1)
    model = models.Sequential([layers.Dense(1, seed=0)])
    model.compile(optimizers.SGD(0.0), "mse")
    history = model.fit(x, y, epochs=1, validation_split=0.3, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[7:], y[7:]))
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=0.01, verbose=0)


def test_float32_data_and_layers_stay_float32():
    x, y = digits()
    x = x.astype(np.float32)
    model = models.Sequential([layers.Dense(8, activation="relu", dtype="float32"),
                               layers.Dense(10, activation="softmax", dtype="float32")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    assert model.predict(x[:5]).dtype == np.float32
    assert all(w.dtype == np.float32 for w in model.get_weights())


def test_verbose_progress_output(capsys):
    x, y = digits()
    model = models.Sequential([layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:64], y[:64], epochs=2, batch_size=32, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "2/2 [====" in out and "accuracy:" in out
    model.fit(x[:64], y[:64], epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


# --- callbacks inside fit ---------------------------------------------------------------------------

def test_early_stopping_inside_fit_stops_and_restores_best_weights():
    x, y = digits()
    model = models.Sequential([layers.Dense(10, activation="softmax", seed=0)])
    model.compile(optimizers.SGD(2.0), "sparse_categorical_crossentropy")   # too large: the loss jumps about
    snapshots = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x[:400], y[:400], epochs=50, validation_data=(x[400:600], y[400:600]), verbose=0,
                        seed=0, callbacks=[Snapshot(), stopper])
    val = history.history["val_loss"]
    assert len(val) < 50 and stopper.stopped_epoch == len(val) - 1
    best = int(np.argmin(val))
    assert stopper.best_epoch == best
    for got, want in zip(model.get_weights(), snapshots[best]):
        np.testing.assert_array_equal(got, want)


def test_reduce_lr_on_plateau_and_scheduler_inside_fit():
    x = np.zeros((8, 1))
    y = np.ones((8, 1))
    model = models.Sequential([layers.Dense(1, use_bias=False, seed=0)])   # zero input: the loss never moves
    model.compile(optimizers.SGD(0.1), "mse")
    history = model.fit(x, y, epochs=5, verbose=0,
                        callbacks=[callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)])
    # logged: the rate each epoch ran with; the plateau starts at epoch 1, so a halving after each epoch from 1 on
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.0125])
    assert model.optimizer.learning_rate == pytest.approx(0.00625)
    model.compile(optimizers.SGD(1.0), "mse")
    model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e, lr: 0.1 * (e + 1))])
    assert model.optimizer.learning_rate == pytest.approx(0.3)


def test_batch_callbacks_see_the_running_epoch_logs():
    x, y = digits()
    seen = []

    class Recorder(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, dict(logs)))

    model = models.Sequential([layers.Dense(10, activation="softmax", seed=0)])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:100], y[:100], batch_size=32, epochs=1, verbose=0, callbacks=[Recorder()])
    assert [b for b, _ in seen] == [0, 1, 2, 3]
    assert seen[-1][1] == pytest.approx({"loss": history.history["loss"][0],
                                         "accuracy": history.history["accuracy"][0]})
    assert 0 <= seen[0][1]["accuracy"] <= 1


def test_stop_training_from_a_callback():
    class StopAfterTwo(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = models.Sequential([layers.Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=10, verbose=0, callbacks=[StopAfterTwo()])
    assert history.epoch == [0, 1]


# --- whole-model gradient check ---------------------------------------------------------------------

def gradient_errors(model, x, y):
    """Relative error between compute_gradients and central differences of the loss, per parameter."""
    loss, grads_and_vars = model.compute_gradients(x, y)
    analytic = [np.array(g) for g, _ in grads_and_vars]

    def loss_of(_):
        return model.loss.value(y, model(x, training=True))

    assert loss == pytest.approx(loss_of(None))
    # h = 1e-5 balances truncation (h^2) and round-off (eps/h) for gradient entries as small as 1e-5
    return [rel_error(g, numerical_gradient(loss_of, var, h=1e-5)) for g, (_, var) in zip(analytic, grads_and_vars)]


@pytest.mark.parametrize("output, loss, make_y", [
    ("softmax", "sparse_categorical_crossentropy", lambda rng: rng.integers(0, 3, 6)),
    ("softmax", "categorical_crossentropy", lambda rng: np.eye(3)[rng.integers(0, 3, 6)]),
    ("sigmoid", "binary_crossentropy", lambda rng: rng.integers(0, 2, (6, 3)).astype(float)),
    (None, "mse", lambda rng: rng.normal(size=(6, 3))),
    ("tanh", "huber", lambda rng: rng.normal(size=(6, 3))),
])
def test_whole_model_gradients_match_numerical(output, loss, make_y):
    rng = np.random.default_rng(0)
    model = models.Sequential([layers.Dense(5, activation="tanh", seed=0), layers.BatchNormalization(),
                               layers.Dense(4, activation="sigmoid", seed=1), layers.Dense(3, activation=output, seed=2)])
    model.compile("sgd", loss)
    x = rng.normal(size=(6, 4))
    model.build((None, 4))
    for layer in model.layers:   # non-zero biases and a non-trivial BN gamma/beta
        for param in layer.params.values():
            if param.ndim == 1:
                param += rng.normal(scale=0.3, size=param.shape)
    errors = gradient_errors(model, x, make_y(rng))
    assert len(errors) == 2 + 2 + 2 + 2
    assert max(errors) < 1e-6, errors


def test_fused_gradient_through_a_separate_activation_layer():
    rng = np.random.default_rng(1)
    model = models.Sequential([layers.Dense(4, activation="relu", seed=0), layers.Dense(3, seed=1),
                               layers.Activation("softmax")])
    model.compile("sgd", "categorical_crossentropy")
    model.build((None, 2))
    assert model._fused() == ("softmax", "categorical_crossentropy")
    x = rng.normal(size=(5, 2)) + 3.0     # away from the ReLU kink
    assert max(gradient_errors(model, x, np.eye(3)[rng.integers(0, 3, 5)])) < 1e-6


def test_fused_gradient_is_used_and_stable_for_confident_wrong_predictions():
    model = models.Sequential([layers.Dense(3, activation="softmax", seed=0)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.build((None, 2))
    assert model._fused() == ("softmax", "sparse_categorical_crossentropy")
    model.layers[0].params["kernel"][...] = [[60.0, -60.0, 0.0], [0.0, 0.0, 0.0]]
    x, y = np.array([[1.0, 0.0]]), np.array([1])      # p(class 1) = e^-120: clipped by the plain gradient
    _, grads = model.compute_gradients(x, y)
    p = model(x)
    np.testing.assert_allclose(grads[1][0], p[0] - np.eye(3)[1])   # dL/db = p - y, not 0
    logits = models.Sequential([layers.Dense(3, seed=0)])
    logits.compile("sgd", losses.get("sparse_categorical_crossentropy", from_logits=True))
    logits.build((None, 2))
    assert logits._fused() is None


# --- weights ----------------------------------------------------------------------------------------

def test_get_set_save_load_round_trip(tmp_path):
    model = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,), seed=0), layers.BatchNormalization(),
                               layers.Dense(2, seed=1)])
    x = np.random.default_rng(0).normal(size=(5, 3))
    before = model.predict(x)
    path = tmp_path / "weights.npz"
    model.save_weights(path)
    clone = models.Sequential([layers.Dense(4, activation="relu", input_shape=(3,), seed=5), layers.BatchNormalization(),
                               layers.Dense(2, seed=6)])
    assert not np.allclose(clone.predict(x), before)
    clone.load_weights(path)
    np.testing.assert_array_equal(clone.predict(x), before)
    assert len(model.get_weights()) == 2 + 4 + 2
    other = tmp_path / "no_suffix"
    model.save_weights(other)    # written exactly where asked
    assert other.exists()


def test_load_weights_into_a_different_architecture_explains(tmp_path):
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    path = tmp_path / "w.npz"
    model.save_weights(path)
    other = models.Sequential([layers.Dense(5, input_shape=(3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"(?s)do not fit.*file:.*\(3, 4\).*model:.*\(3, 5\)"):
        other.load_weights(path)


def test_set_weights_checks_count_and_shapes():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="has 2 weight arrays.*got a list of 1"):
        model.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"Weight 0.*shape \(3, 2\).*\(2, 3\)"):
        model.set_weights([np.zeros((2, 3)), np.zeros(2)])


# --- errors -----------------------------------------------------------------------------------------

def test_fit_and_evaluate_before_compile():
    model = models.Sequential([layers.Dense(1)])
    with pytest.raises(RuntimeError, match=r"call compile\(\) before fit\(\)"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)))
    with pytest.raises(RuntimeError, match=r"call compile\(\) before evaluate\(\)"):
        model.evaluate(np.ones((2, 2)), np.ones((2, 1)))


def test_compile_errors():
    model = models.Sequential([layers.Dense(1)])
    with pytest.raises(ValueError, match="Unknown optimizer 'adma'"):
        model.compile(optimizer="adma", loss="mse")
    with pytest.raises(ValueError, match="needs a loss"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="accuracy"):
        model.compile(optimizer="adam", loss="mse", metrics=["acuracy"])


def test_bad_shapes_in_fit_and_predict():
    model = models.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"same number of samples.*\(5, 4\).*\(4,\)"):
        model.fit(np.ones((5, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 4\), got x of shape \(5, 3\)"):
        model.fit(np.ones((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 4\)"):
        model.predict(np.ones((2, 5)))
    with pytest.raises(ValueError, match="out of range"):
        model.fit(np.ones((5, 4)), np.array([0, 1, 2, 3, 0]), verbose=0)
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\(5, 2\).*\(5, 3\)"):
        model.fit(np.ones((5, 4)), np.ones((5, 2)), verbose=0)


def test_get_weights_before_build():
    model = models.Sequential([layers.Dense(1)])
    with pytest.raises(RuntimeError, match="not built"):
        model.get_weights()


# --- fit's unchecked path ---------------------------------------------------------------------------

def test_fit_step_applies_exactly_the_checked_gradients():
    """One full-batch SGD epoch of fit (layers called without their checks, fused output gradient,
    no input gradient for the first layer) moves the weights by -lr * compute_gradients."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(8, 3)), rng.integers(0, 4, 8)

    def make():
        model = models.Sequential([layers.Dense(5, activation="relu", seed=0), layers.BatchNormalization(),
                                   layers.Dense(4, activation="softmax", seed=1)])
        model.compile(optimizers.SGD(learning_rate=0.5), "sparse_categorical_crossentropy")
        model.build((None, 3))
        return model

    checked, fitted = make(), make()
    _, grads_and_vars = checked.compute_gradients(x, y)
    expected = [var - 0.5 * g for g, var in grads_and_vars]
    fitted.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    after = [w for layer in fitted.layers for w in layer.params.values()]
    for a, e in zip(after, expected):
        np.testing.assert_allclose(a, e, atol=1e-12)


def test_fit_checks_the_data_once_with_a_clear_message():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse")
    x = np.ones((4, 3))
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"x contains NaN at index \(2, 1\)"):
        model.fit(x, np.ones((4, 2)), verbose=0)


def test_a_prebuilt_layer_of_another_input_shape_is_reported_at_build():
    dense = layers.Dense(2)
    dense.build((5,))
    with pytest.raises(ValueError, match=r"Layer 'dense' expects input of shape \(None, 5\), got shape \(None, 4\)"):
        models.Sequential([models.Input((4,)), dense])


class Scale(layers.Layer):
    """A layer written by hand with its own forward/backward (the contract), not call/call_backward."""

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        self.params = {"scale": np.full(input_shape, 2.0)}
        self.grads = {"scale": np.zeros(input_shape)}
        return input_shape

    def forward(self, x, training=False):
        x = self._prepare_input(x)
        self.cache = x
        return x * self.params["scale"]

    def backward(self, dy):
        self.grads["scale"] = (dy * self.cache).sum(axis=0)
        return dy * self.params["scale"]


class SoftmaxByHand(layers.Activation):
    """An Activation whose backward is its own: Sequential must not fuse (it cannot skip the activation)."""

    def backward(self, dy):
        return super().backward(dy)


def test_layers_with_their_own_forward_and_backward_train_in_sequential():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(6, 3)), np.eye(2)[rng.integers(0, 2, 6)]
    model = models.Sequential([Scale(), layers.Dense(2, seed=0), SoftmaxByHand("softmax")])
    model.compile("sgd", "categorical_crossentropy")
    model.build((None, 3))
    assert model._fused() is None
    assert max(gradient_errors(model, x, y)) < 1e-6
    history = model.fit(x, y, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert not np.allclose(model.layers[0].params["scale"], 2.0)     # the hand-written layer was trained


def test_a_failed_compile_leaves_the_model_as_it_was():
    model = models.Sequential([layers.Input(2), layers.Dense(1)])
    with pytest.raises(ValueError, match="depends on other samples"):
        model.compile(optimizer="sgd", loss=lambda y_true, y_pred: (y_true - y_pred.mean()) ** 2)
    with pytest.raises(RuntimeError, match="is not compiled: call compile\\(\\) before fit\\(\\)"):
        model.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="Unknown metric"):
        model.compile(optimizer="adam", loss="mae", metrics=["acuracy"])
    assert model.loss.name == "mean_squared_error" and type(model.optimizer).__name__ == "SGD"


def test_the_notes_hello_world_trains_on_vectors_with_a_custom_loss():
    """Dense(units=1, input_shape=[1]) fitted on xs, ys vectors (y = 2x - 1), with the notes' Huber loss."""
    from test_losses import my_huber_loss

    model = models.Sequential([layers.Dense(units=1, input_shape=[1], seed=0)])
    model.compile(optimizer="sgd", loss=my_huber_loss)
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    ys = np.array([-3.0, -1.0, 1.0, 3.0, 5.0, 7.0])
    history = model.fit(xs, ys, epochs=500, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 100
    assert model.predict(np.array([10.0]))[0, 0] == pytest.approx(19.0, abs=0.5)
    with pytest.raises(ValueError, match=r"expects input of shape \(None, 4\), got x of shape \(4,\); for one sample"):
        models.Sequential([layers.Input(4), layers.Dense(2)]).predict(np.ones(4))


def test_feature_extractor_of_the_notes():
    """keras.Model(inputs=my_model.inputs, outputs=[layer.output for layer in my_model.layers])."""
    my_model = models.Sequential([models.Input(shape=(4,)), layers.Dense(2, activation="relu", name="l1", seed=0),
                                  layers.Dense(3, activation="relu", name="l2", seed=1), layers.Dense(3, name="y", seed=2)])
    x = np.ones((1, 4))
    features = my_model.feature_extractor()(x)
    assert [f.shape for f in features] == [(1, 2), (1, 3), (1, 3)]
    l1 = np.maximum(0, x @ my_model.get_layer("l1").params["kernel"] + my_model.get_layer("l1").params["bias"])
    np.testing.assert_allclose(features[0], l1)
    np.testing.assert_allclose(my_model.feature_extractor("y")(x), my_model.predict(x))
    assert len(my_model.feature_extractor(["l2", "l1"])(x)) == 2
    with pytest.raises(ValueError, match="Did you mean 'l2'"):
        my_model.feature_extractor("l3")


def test_models_with_convolutions_run_blas_on_one_thread_and_others_are_left_alone():
    from threadpoolctl import threadpool_info

    from nnlib import callbacks

    def blas_threads():
        return {d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"}

    class Record(callbacks.Callback):
        seen = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append(blas_threads())

    before = blas_threads()
    x = np.random.default_rng(0).normal(size=(8, 6, 6, 1))
    y = np.arange(8) % 2
    cnn = models.Sequential([models.Input((6, 6, 1)), layers.Conv2D(2, 3, seed=0), layers.Flatten(),
                             layers.Dense(2, activation="softmax", seed=1)])
    mlp = models.Sequential([models.Input((6, 6, 1)), layers.Flatten(), layers.Dense(2, activation="softmax", seed=1)])
    for model in (cnn, mlp):
        model.compile("sgd", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, verbose=0, callbacks=[Record()])
    assert Record.seen == [{1}, before] and blas_threads() == before


def test_functions_of_ones_own_named_like_nnlibs_are_not_replaced_by_the_fused_gradient():
    x = np.random.default_rng(0).normal(size=(20, 3))
    y = (x[:, 0] > 0).astype(float)

    def binary_crossentropy(y_true, y_pred):          # a student's version, ten times nnlib's
        p = np.clip(y_pred, 1e-7, 1 - 1e-7)
        return -10 * (y_true * np.log(p) + (1 - y_true) * np.log(1 - p))

    mine = models.Sequential([layers.Input(3), layers.Dense(1, activation="sigmoid", seed=0)])
    mine.compile("sgd", binary_crossentropy)
    assert mine.evaluate(x, y) == pytest.approx(mine.loss.value(y[:, None], mine.predict(x)))
    assert mine.evaluate(x, y) == pytest.approx(10 * losses.binary_crossentropy(y[:, None], mine.predict(x)))

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    for activation, fused in ((sigmoid, False), ("sigmoid", True)):
        model = models.Sequential([layers.Input(3), layers.Dense(1, activation=activation, seed=0)])
        model.compile("sgd", "binary_crossentropy")
        assert (model._fused() is not None) == fused
    from nnlib import activations

    own_derivative = models.Sequential([layers.Input(3), layers.Lambda(activations.unchecked(activations.sigmoid),
                                                                       derivative=lambda z: 100 * np.ones_like(z))])
    own_derivative.compile("sgd", "binary_crossentropy")
    own_gradient = models.Sequential([layers.Input(3), layers.Dense(1, activation="sigmoid", seed=0)])
    own_gradient.compile("sgd", losses.Loss("binary_crossentropy", losses.binary_crossentropy,
                                            lambda t, p: 100 * losses.binary_crossentropy_grad(t, p)))
    assert own_derivative._fused() is None and own_gradient._fused() is None
    for spelling in ("categorical_crossentropy", "CategoricalCrossentropy", losses.CategoricalCrossentropy(),
                     losses.get("categorical_crossentropy", from_logits=False)):
        softmax = models.Sequential([layers.Input(3), layers.Dense(2, activation="softmax", seed=0)])
        softmax.compile("sgd", spelling)
        assert softmax._fused() is not None, spelling
