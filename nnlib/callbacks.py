r"""Callbacks: code that ``Sequential.fit`` runs at the start and end of training, epochs and batches.

Keras's names and semantics. ``fit`` calls, in order::

    on_train_begin(logs)
    for each epoch:  on_epoch_begin(epoch, logs)
                     for each batch: on_train_batch_begin(batch, logs); ...; on_train_batch_end(batch, logs)
                     on_epoch_end(epoch, logs)   # logs = {"loss": .., "accuracy": .., "val_loss": .., ...}
    on_train_end(logs)

``epoch`` counts from 0. The batch ``logs`` are a read-only mapping of the epoch's running values
so far (computed only when a callback reads them). A callback reaches the model as ``self.model``: it may set
``self.model.stop_training = True`` or change ``self.model.optimizer.learning_rate``.
Batch hooks are called only for callbacks whose ``implements_batch_hooks()`` is true (by default:
those that override one), so they cost nothing otherwise.

The notes' training recipe uses two of them: *early stopping* (stop when the validation loss has
not improved for ``patience`` epochs, keep the best weights) and *annealing* (lower the learning
rate on a plateau, :class:`ReduceLROnPlateau`, or on a timetable, :class:`LearningRateScheduler`).
"""
import inspect
import math
import sys
import time
import warnings

__all__ = ["Callback", "History", "EarlyStopping", "ReduceLROnPlateau", "LearningRateScheduler",
           "ProgbarLogger"]


class Callback:
    """Base class: every hook does nothing. ``model`` and ``params`` are set by ``fit``."""

    model = None
    params = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def implements_batch_hooks(self):
        """True if this callback wants the batch hooks (``fit`` skips the per-batch work otherwise)."""
        base = Callback
        return (type(self).on_train_batch_begin is not base.on_train_batch_begin
                or type(self).on_train_batch_end is not base.on_train_batch_end)


class History(Callback):
    """Record every epoch's logs: ``history.history["loss"]`` is the list of epoch losses.

    ``history.epoch`` lists the epoch numbers (from 0). ``fit`` returns this object.
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def _resolve_mode(mode, monitor):
    """'min' or 'max': 'auto' means 'max' for accuracies (names containing 'acc'), else 'min' (Keras)."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


def _monitored(callback, logs):
    """The monitored value from ``logs``, or None with a warning naming what is available."""
    value = (logs or {}).get(callback.monitor)
    if value is None:
        warnings.warn(f"{type(callback).__name__} is conditioned on {callback.monitor!r}, which is not "
                      f"available. Available: {', '.join(sorted(logs or {})) or 'nothing'}. "
                      "Monitoring 'val_*' needs validation_split or validation_data in fit().",
                      RuntimeWarning, stacklevel=3)
    return value


class EarlyStopping(Callback):
    r"""Stop training when ``monitor`` has stopped improving for ``patience`` epochs (Keras).

    An epoch improves on the best value so far when (mode ``"min"``)
    :math:`\text{current} < \text{best} - \delta_{\min}`, or (mode ``"max"``)
    :math:`\text{current} > \text{best} + \delta_{\min}`. After ``patience`` epochs in a row
    without improvement, ``model.stop_training`` is set. With ``restore_best_weights=True`` the
    weights of the best epoch are put back at the end of training (as Keras 3, whether or not
    training stopped early). ``baseline``: training also stops if the value
    does not beat it within ``patience`` epochs. ``start_from_epoch``: epochs ignored at first
    (warm-up). ``mode="auto"`` maximises names containing "acc", minimises the rest.
    After training, ``stopped_epoch`` (0 if it ran to the end) and ``best_epoch`` tell what happened.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = _resolve_mode(mode, monitor)
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.on_train_begin()

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(self, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # the weights to fall back on, as Keras
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(Callback):
    r"""Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    .. math::
        \eta \leftarrow \max(\eta \cdot \text{factor},\ \eta_{\min})

    Improvement (mode ``"min"``): :math:`\text{current} < \text{best} - \delta_{\min}` (Keras's
    default ``min_delta=1e-4``). After a reduction, ``cooldown`` epochs pass before counting again.
    Adds ``"learning_rate"`` to the epoch logs, as Keras. The optimizer's learning rate must be a
    number, not a schedule.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got {factor}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = float(min_delta)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.on_train_begin()

    def _improves(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = _monitored(self, logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improves(current):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(self.model.optimizer.learning_rate)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    r"""Set the learning rate at the start of every epoch from ``schedule(epoch, lr)`` (Keras).

    ``schedule`` takes the epoch (from 0) and the current learning rate and returns the new one;
    a one-argument ``schedule(epoch)`` (such as :class:`nnlib.schedules.StepDecay`) works too.
    Example, the notes' annealing :math:`\eta_e = \eta_0 e^{-\alpha e}`::

        LearningRateScheduler(lambda epoch, lr: 0.01 * math.exp(-0.1 * epoch))
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"schedule must be callable as schedule(epoch, lr) or schedule(epoch), "
                            f"got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        try:
            inspect.signature(schedule).bind(0, 0.1)
            self._takes_lr = True
        except TypeError:
            self._takes_lr = False
        except ValueError:  # no signature available (some builtins): try the Keras form
            self._takes_lr = True

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if self._takes_lr:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            lr = self.schedule(epoch)
        try:
            lr = float(lr)
        except (TypeError, ValueError):
            raise ValueError(f"The schedule must return a number, got {lr!r} for epoch {epoch}") from None
        optimizer.learning_rate = lr
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ProgbarLogger(Callback):
    """Keras-like progress display: ``verbose=1`` a bar per epoch, ``verbose=2`` one line per epoch.

    ``fit(verbose=...)`` adds it; it writes to ``sys.stdout`` (in Jupyter the bar updates in place),
    at most every ``interval`` seconds while an epoch runs.
    """

    def __init__(self, verbose=1, interval=0.05, width=30):
        self.verbose = verbose
        self.interval = interval
        self.width = width

    def implements_batch_hooks(self):
        return self.verbose == 1

    def _write(self, text):
        sys.stdout.write(text)
        sys.stdout.flush()

    def _overwrite(self, line, end=""):
        """Rewrite the current line in place, blanking what a longer previous line left behind."""
        self._write("\r" + line.ljust(self._width) + end)
        self._width = 0 if end else len(line)

    def on_epoch_begin(self, epoch, logs=None):
        self._start = self._last = time.perf_counter()
        self._width = 0
        if self.verbose == 1:
            self._write(f"Epoch {epoch + 1}/{self.params['epochs']}\n")

    def _bar(self, done, steps):
        filled = int(self.width * done / steps)
        arrow = ">" if filled < self.width else ""
        return f"{done}/{steps} [" + "=" * filled + arrow + "." * (self.width - filled - len(arrow)) + "]"

    @staticmethod
    def _values(logs):
        return "".join(f" - {key}: {value:.4f}" for key, value in logs.items())

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose != 1:
            return
        now = time.perf_counter()
        steps = self.params["steps"]
        if now - self._last < self.interval and batch + 1 < steps:
            return
        self._last = now
        eta = (now - self._start) / (batch + 1) * (steps - batch - 1)
        self._overwrite(f"{self._bar(batch + 1, steps)} - ETA: {eta:.0f}s{self._values(logs or {})}")

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        steps = self.params["steps"]
        timing = f"{elapsed:.0f}s {1000 * elapsed / max(steps, 1):.0f}ms/step"
        if self.verbose == 1:
            self._overwrite(f"{self._bar(steps, steps)} - {timing}{self._values(logs or {})}", end="\n")
        elif self.verbose == 2:
            self._write(f"Epoch {epoch + 1}/{self.params['epochs']} - {timing}{self._values(logs or {})}\n")
