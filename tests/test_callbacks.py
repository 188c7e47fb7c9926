"""Callbacks on a stand-in model fed with scripted epoch logs (the fit integration is in test_models)."""
import contextlib
import io

import numpy as np
import pytest

from nnlib import callbacks, optimizers


class FakeModel:
    """Just what callbacks touch: weights, optimizer, stop_training. Weight value = epoch number."""

    def __init__(self, lr=0.1):
        self.weights = [np.zeros(2)]
        self.optimizer = optimizers.SGD(lr)
        self.stop_training = False

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def run(cbs, values, monitor="val_loss", model=None):
    """A fit() loop in miniature: epoch e 'trains' (weights := e), then reports values[e]."""
    model = model or FakeModel()
    for cb in cbs:
        cb.set_model(model)
        cb.set_params({"epochs": len(values), "steps": 1, "verbose": 0})
        cb.on_train_begin()
    epochs_run = 0
    for epoch, value in enumerate(values):
        for cb in cbs:
            cb.on_epoch_begin(epoch)
        model.weights = [np.full(2, float(epoch))]
        logs = {monitor: value}
        for cb in cbs:
            cb.on_epoch_end(epoch, logs)
        epochs_run += 1
        if model.stop_training:
            break
    for cb in cbs:
        cb.on_train_end()
    return model, epochs_run


def test_history_records_epochs_and_logs():
    hist = callbacks.History()
    run([hist], [3.0, 2.0, 1.0])
    assert hist.epoch == [0, 1, 2]
    assert hist.history == {"val_loss": [3.0, 2.0, 1.0]}


def test_early_stopping_stops_after_patience_and_restores_best():
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model, epochs = run([es], [1.0, 0.5, 0.6, 0.7, 0.4, 0.3])
    assert epochs == 4                      # epochs 2 and 3 did not improve on 0.5: stop after epoch 3
    assert es.stopped_epoch == 3 and es.best_epoch == 1 and es.best == 0.5
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])   # weights of epoch 1 are back


def test_early_stopping_without_restore_keeps_last_weights():
    es = callbacks.EarlyStopping(patience=1)
    model, epochs = run([es], [1.0, 1.0, 1.0])
    assert epochs == 2
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_min_delta_and_max_mode():
    es = callbacks.EarlyStopping(monitor="val_loss", min_delta=0.1, patience=1)
    _, epochs = run([es], [1.0, 0.95, 0.5])          # 0.95 is not better by 0.1
    assert epochs == 2
    acc = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)   # auto -> max
    assert acc.mode == "max"
    _, epochs = run([acc], [0.5, 0.6, 0.55, 0.9], monitor="val_accuracy")
    assert epochs == 3


def test_early_stopping_is_reusable():
    es = callbacks.EarlyStopping(patience=1)
    run([es], [1.0, 2.0])
    _, epochs = run([es], [5.0, 4.0, 3.0])   # best is reset by on_train_begin
    assert epochs == 3 and es.stopped_epoch == 0


def test_missing_monitor_warns_and_does_not_stop():
    es = callbacks.EarlyStopping(monitor="val_loss", patience=0)
    with pytest.warns(RuntimeWarning, match="val_loss.*not available.*validation"):
        _, epochs = run([es], [1.0, 2.0], monitor="loss")
    assert epochs == 2


def test_reduce_lr_on_plateau_reduces_after_patience_with_floor():
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, min_lr=0.03)
    model = FakeModel(lr=0.1)
    rates = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            rates.append(self.model.optimizer.learning_rate)

    run([cb, Spy()], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], model=model)
    # plateau from epoch 1: reduce at epochs 2, 4, 6 (wait resets after each reduction), floor 0.03
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03])


def test_reduce_lr_on_plateau_not_on_improvement_and_cooldown():
    cb = callbacks.ReduceLROnPlateau(factor=0.1, patience=1, min_delta=0.0)
    model, _ = run([cb], [5, 4, 3, 2, 1])
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    cb = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)
    model, _ = run([cb], [1.0] * 6)
    # Keras's counting: reduce at epoch 1; cooldown runs down at epochs 2 and 3, and epoch 3 already
    # counts towards patience again, so reductions happen at epochs 1, 3 and 5.
    assert model.optimizer.learning_rate == pytest.approx(0.1 * 0.5 ** 3)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=2.0)


def test_reduce_lr_logs_learning_rate():
    cb = callbacks.ReduceLROnPlateau(patience=5)
    cb.set_model(FakeModel(lr=0.25))
    logs = {"val_loss": 1.0}
    cb.on_epoch_end(0, logs)
    assert logs["learning_rate"] == 0.25


def test_learning_rate_scheduler_two_argument_schedule():
    cb = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)
    model = FakeModel(lr=0.8)
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(self.model.optimizer.learning_rate)

    run([cb, Spy()], [1.0, 1.0, 1.0], model=model)
    assert seen == pytest.approx([0.8, 0.4, 0.2])
    bad = callbacks.LearningRateScheduler(lambda epoch: "fast")
    bad.set_model(model)
    with pytest.raises(ValueError, match="must return a number"):
        bad.on_epoch_begin(0)


def test_progress_bar_output():
    bar = callbacks.ProgbarLogger(verbose=1, interval=0.0)
    bar.set_params({"epochs": 2, "steps": 3})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bar.on_epoch_begin(0)
        for b in range(3):
            bar.on_train_batch_end(b, {"loss": 1.0 / (b + 1)})
        bar.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.25})
    text = out.getvalue()
    assert text.startswith("Epoch 1/2\n")
    assert "3/3 [==============================]" in text
    assert text.rstrip().endswith("loss: 0.5000 - val_loss: 0.2500")
    quiet = callbacks.ProgbarLogger(verbose=2)
    quiet.set_params({"epochs": 2, "steps": 3})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        quiet.on_epoch_begin(1)
        quiet.on_train_batch_end(0, {"loss": 1.0})
        quiet.on_epoch_end(1, {"loss": 0.5})
    assert out.getvalue().count("\n") == 1 and out.getvalue().startswith("Epoch 2/2 - ")
