r"""``Sequential``: a stack of layers trained by mini-batch gradient descent, with Keras's API.

::

    model = Sequential([layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=10, validation_split=0.2)
    model.evaluate(x_test, y_test)        # [loss, accuracy]

One training step on a batch :math:`(X, Y)` of :math:`N` samples is the notes' loop:

.. math::
    \hat Y = f_K(\dots f_1(X)), \quad
    \delta_K = \frac{\partial L(Y, \hat Y)}{\partial \hat Y}, \quad
    \delta_{k-1} = \texttt{layer}_k\texttt{.backward}(\delta_k), \quad
    \theta \leftarrow \texttt{optimizer}(\theta, \partial L / \partial \theta)

**Fused output gradient.** When the last layer's activation is softmax and the loss is
(sparse) categorical crossentropy, or the activation is sigmoid and the loss binary crossentropy,
``fit`` does not chain :math:`\partial L/\partial p` through the activation's backward: it uses the
gradient with respect to the pre-activation :math:`z` directly,

.. math::
    \frac{\partial L}{\partial z} = \frac{p - y}{N}
    \quad\text{(softmax, one-hot } y\text{)}, \qquad
    \frac{\partial L}{\partial z} = \frac{p - y}{N C}
    \quad\text{(sigmoid with } C \text{ outputs)},

which is exact, cheaper, and never divides by a tiny probability (Keras does the same by keeping
the logits). It is the gradient of the unclipped loss: where Keras clips :math:`p` to
:math:`[10^{-7}, 1 - 10^{-7}]` the clipped loss would have a zero gradient instead, and a confidently
wrong prediction would stop learning. The reported loss value is Keras's (clipped) crossentropy,
computed directly from :math:`p`. With ``from_logits=True`` losses nothing is fused: the loss's own
gradient is already the stable one. The last layer receives this gradient through
``layer.backward(dz, skip_activation=True)`` (see :mod:`nnlib.layers`).

**Epoch logs.** ``loss`` and the metrics of an epoch are computed once per epoch from the
predictions made on each batch during that epoch (before each batch's update), which is what
Keras's running averages give; ``val_*`` are computed on the validation data after the epoch.
"""
import collections.abc
import functools
import math
from typing import NamedTuple

import numpy as np

from nnlib import _kernels
from nnlib import callbacks as callbacks_module
from nnlib import layers as layers_module
from nnlib import activations, losses, metrics, optimizers
from nnlib._checks import as_float_array
from nnlib._registry import lookup
from nnlib.layers.base import Input, InputSpec, auto_name   # Input is a layer too, as keras.layers.Input

__all__ = ["Input", "InputSpec", "Sequential"]


def _one_blas_thread_with_convolutions(method):
    """Run the ``Sequential`` method with BLAS on one thread when the model has convolution layers:
    nnlib's convolution shares the batch between the cores with its own threads
    (:func:`nnlib._kernels.single_thread_blas` says why); models without them are left alone."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if any(isinstance(layer, layers_module.Conv2D) for layer in self.layers):
            with _kernels.single_thread_blas():
                return method(self, *args, **kwargs)
        return method(self, *args, **kwargs)

    return wrapper


class _Fused(NamedTuple):
    """The fused output gradient in use: the activation ('softmax' or 'sigmoid') and the loss name."""
    activation: str
    loss: str


_FUSABLE = {("softmax", "categorical_crossentropy"), ("softmax", "sparse_categorical_crossentropy"),
            ("sigmoid", "binary_crossentropy")}


class Sequential:
    r"""A linear stack of layers (Keras's ``Sequential(layers=None, name=None)``).

    Layers follow the contract of :mod:`nnlib.layers`. The model is built (its layers' weights
    created) by ``build((None, *sample_shape))``, by the first ``fit``/``predict``/call on data, or
    as soon as the input shape is known: an ``Input(shape=...)`` first, or ``input_shape=`` on the
    first layer.
    """

    def __init__(self, layers=None, name=None):
        self.name = name if name is not None else auto_name("sequential")
        self.layers = []
        self.built = False
        self.optimizer = None
        self.loss = None
        self.metrics_names = []      # ["loss", "accuracy", ...], set by compile
        self.stop_training = False
        self.history = None
        self._batch_input_shape = None
        self._output_shapes = []
        for layer in layers or []:
            self.add(layer)

    # --- building ----------------------------------------------------------------------------------

    def add(self, layer):
        """Append a layer (or, first of all, an ``Input``). Builds at once if the input shape is known."""
        if isinstance(layer, InputSpec):
            if self.layers:
                raise ValueError("Input(...) must come first in a Sequential model, before any layer")
            self._batch_input_shape = (None, *layer.shape)
            return
        if not all(hasattr(layer, attr) for attr in ("forward", "backward", "build", "name")):
            raise TypeError(f"Sequential.add expects a layer (with build/forward/backward), got {type(layer).__name__}")
        if any(other.name == layer.name for other in self.layers):
            raise ValueError(f"All layers added to a Sequential model must have unique names; {layer.name!r} "
                             f"is already the name of a layer in model {self.name!r}")
        self.layers.append(layer)
        if self._batch_input_shape is None and len(self.layers) == 1 and getattr(layer, "input_shape", None):
            self._batch_input_shape = (None, *layer.input_shape)
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)
        else:
            self.built = False

    def build(self, input_shape):
        """Build every layer for inputs of ``input_shape`` *with* the batch axis, e.g. ``(None, 4)``."""
        input_shape = tuple(input_shape)
        if len(input_shape) < 2:
            raise ValueError(f"build() takes the input shape with the batch axis first, e.g. (None, 4); "
                             f"got {input_shape}")
        shape = tuple(input_shape[1:])
        self._output_shapes = []
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            elif isinstance(layer, layers_module.Layer):   # built before: fit will not check its input again
                layer._check_input_shape((None, *shape))
            shape = tuple(layer.compute_output_shape(shape))
            self._output_shapes.append(shape)
        self._batch_input_shape = input_shape
        self.built = True

    def _build_for(self, x, keep_batch=False):
        if not self.built:
            self.build(x.shape if keep_batch else (None, *x.shape[1:]))

    # --- inspection --------------------------------------------------------------------------------

    def summary(self, print_fn=print):
        """Print the layers in Keras's table: name (type), output shape, parameter count, and totals."""
        if not self.built:
            raise ValueError(f"Model {self.name!r} has not been built yet, so summary() cannot show shapes. "
                             "Build it with model.build((None, n_features)), call it on a batch (model(x)), "
                             "start it with Input(shape=...) or give the first layer input_shape=...")
        batch = self._batch_input_shape[0]
        rows = [(f"{layer.name} ({type(layer).__name__})", str((batch, *shape)), f"{layer.count_params()}")
                for layer, shape in zip(self.layers, self._output_shapes)]
        header = ("Layer (type)", "Output Shape", "Param #")
        widths = [max([29] + [len(r[0]) + 1 for r in rows]), max([26] + [len(r[1]) + 1 for r in rows]), 10]
        width = sum(widths)

        def line(fields):
            return "".join(str(f).ljust(w) for f, w in zip(fields, widths))

        total = sum(layer.count_params() for layer in self.layers)
        trainable = sum(p.size for layer in self.layers if layer.trainable for p in layer.params.values())
        out = [f'Model: "{self.name}"', "_" * width, line(header), "=" * width]
        for i, row in enumerate(rows):
            out.append(line(row))
            out.append("=" * width if i == len(rows) - 1 else "_" * width)
        if not rows:
            out.append("=" * width)
        out += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                f"Non-trainable params: {total - trainable:,}", "_" * width]
        for text in out:
            print_fn(text)

    @property
    def input_shape(self):
        """The input shape with the batch axis, as Keras's ``model.input_shape``: e.g. ``(None, 4)``."""
        self._require_built("report its input_shape")
        return tuple(self._batch_input_shape)

    @property
    def output_shape(self):
        """The output shape with the batch axis, as Keras's ``model.output_shape``: e.g. ``(None, 3)``."""
        self._require_built("report its output_shape")
        return (self._batch_input_shape[0], *self._output_shapes[-1]) if self.layers else self.input_shape

    def count_params(self):
        """Number of weights of all layers, trainable or not."""
        self._require_built("count_params()")
        return sum(layer.count_params() for layer in self.layers)

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by position ``index`` (Keras's ``get_layer``)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer() takes either a layer name or an index, exactly one of them")
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"Asked for the layer at index {index}, but model {self.name!r} has only "
                                 f"{len(self.layers)} layers")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        return lookup({layer.name.lower(): layer for layer in self.layers}, name, "layer")

    def _require_built(self, what):
        if not self.built:
            raise RuntimeError(f"Model {self.name!r} is not built yet, so it cannot {what}: call "
                               "build((None, n_features)), fit or predict first")

    # --- weights -----------------------------------------------------------------------------------

    def get_weights(self):
        """All layers' weights as one list of arrays (copies), in layer order, Keras's order within."""
        self._require_built("get_weights()")
        return [w for layer in self.layers for w in layer.get_weights()]

    def _weight_description(self):
        return [(f"{layer.name} ({type(layer).__name__})", [w.shape for w in layer.get_weights()])
                for layer in self.layers]

    def set_weights(self, weights):
        """Set all weights from a list in ``get_weights`` order; checks count and shapes first."""
        self._require_built("set_weights()")
        weights = [np.asarray(w) for w in weights]
        expected = self._weight_description()
        shapes = [s for _, layer_shapes in expected for s in layer_shapes]
        if len(weights) != len(shapes):
            raise ValueError(f"Model {self.name!r} has {len(shapes)} weight arrays "
                             f"({_describe(expected)}), got a list of {len(weights)}")
        for i, (w, s) in enumerate(zip(weights, shapes)):
            if w.shape != s:
                raise ValueError(f"Weight {i} of model {self.name!r} has shape {s}, got an array of shape "
                                 f"{w.shape}; the model expects {_describe(expected)}")
        start = 0
        for layer, (_, layer_shapes) in zip(self.layers, expected):
            layer.set_weights(weights[start:start + len(layer_shapes)])
            start += len(layer_shapes)

    def save_weights(self, path):
        """Save all weights to the NumPy ``.npz`` file ``path`` (written exactly there)."""
        self._require_built("save_weights()")
        arrays = {f"w{i:04d}": w for i, w in enumerate(self.get_weights())}
        arrays["layer_names"] = np.array([layer.name for layer in self.layers])
        arrays["layer_types"] = np.array([type(layer).__name__ for layer in self.layers])
        arrays["weights_per_layer"] = np.array([len(layer.get_weights()) for layer in self.layers])
        with open(path, "wb") as f:
            np.savez(f, **arrays)

    def load_weights(self, path):
        """Load weights saved by ``save_weights``; a different architecture gives a clear error."""
        self._require_built("load_weights() (its layers have no weights yet)")
        with np.load(path, allow_pickle=False) as data:
            counts = [int(c) for c in data["weights_per_layer"]]
            weights = [data[f"w{i:04d}"] for i in range(sum(counts))]
            saved, start = [], 0
            for name, kind, count in zip(data["layer_names"], data["layer_types"], counts):
                saved.append((f"{name} ({kind})", [w.shape for w in weights[start:start + count]]))
                start += count
        expected = self._weight_description()
        if [s for _, s in saved] != [s for _, s in expected]:
            raise ValueError(f"The weights in {str(path)!r} do not fit model {self.name!r}.\n"
                             f"  file:  {_describe(saved)}\n  model: {_describe(expected)}")
        self.set_weights(weights)

    # --- forward -----------------------------------------------------------------------------------

    def _forward(self, x, training, checked=True):
        """The output for ``x``. ``checked=False`` once ``x`` has been checked against the model's input
        shape (``_check_input``): each layer then skips its own input checks (``_call``)."""
        for layer in self.layers:
            x = layer.forward(x, training) if checked else _call(layer)(x, training)
        return x

    def __call__(self, x, training=False):
        """The model's output for the batch ``x`` (builds the model on the first call, as Keras)."""
        x = self._as_batch(x)
        self._build_for(x, keep_batch=True)
        return self._forward(x, training)

    @_one_blas_thread_with_convolutions
    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for ``x`` (n_samples, *input_shape), computed ``batch_size`` samples at a time."""
        x = self._as_batch(x)
        self._build_for(x)
        self._check_input(x)
        return np.concatenate([self._forward(x[i:i + batch_size], training=False, checked=False)
                               for i in range(0, len(x), batch_size)])

    def feature_extractor(self, layer_names=None):
        """A function ``x -> outputs`` of the layers named in ``layer_names`` (one name, a list, or
        all layers by default), as the notes' ``keras.Model(inputs=model.inputs,
        outputs=[layer.output for layer in model.layers])``: one name gives one array, a list a list."""
        names = [layer.name for layer in self.layers] if layer_names is None else layer_names
        wanted = [self.get_layer(name) for name in ([names] if isinstance(names, str) else names)]

        def extract(x):
            x = self._as_batch(x)
            self._build_for(x)
            self._check_input(x)
            outputs = {}
            for layer in self.layers:
                x = layer.forward(x, training=False)
                outputs[id(layer)] = x
            found = [outputs[id(layer)] for layer in wanted]
            return found[0] if isinstance(names, str) else found

        return extract

    def _as_batch(self, x, name="x"):
        """``x`` as a float array (n_samples, *input_shape). A vector of n numbers is n samples of one
        value when the model takes one value per sample (or is not built yet): Keras accepts it so in
        the notes' ``Dense(units=1, input_shape=[1])`` examples."""
        x = as_float_array(x, name, min_ndim=1)
        if x.ndim > 1:
            return x
        if not self.built or tuple(self._batch_input_shape[1:]) == (1,):
            return x[:, None]
        raise ValueError(f"Model {self.name!r} expects input of shape {(None, *self._batch_input_shape[1:])}, "
                         f"got {name} of shape {x.shape}; for one sample, add the batch axis: {name}[None, :]")

    def _check_input(self, x):
        expected = tuple(self._batch_input_shape[1:])
        if tuple(x.shape[1:]) != expected:
            raise ValueError(f"Model {self.name!r} expects input of shape {(None, *expected)}, got x of shape {x.shape}")

    # --- training ----------------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer (name or instance), the loss (name or ``losses.Loss``) and metrics."""
        if loss is None:
            raise ValueError("compile() needs a loss, e.g. loss='mse' or loss='sparse_categorical_crossentropy'")
        # everything is checked before anything is kept: a failed compile leaves the model as it was
        optimizer = optimizers.get(optimizer)
        loss = losses.get(loss)
        if isinstance(metrics, (str, dict)) or callable(metrics):
            raise TypeError(f"metrics must be a list, e.g. metrics=['accuracy'], got {metrics!r}")
        metric_ids = list(metrics or [])
        for identifier in metric_ids:   # unknown names fail now, not in the middle of fit
            _resolve_metric(identifier, loss)
        self.optimizer, self.loss, self._metric_ids = optimizer, loss, metric_ids
        self.metrics_names = ["loss"] + [_metric_name(identifier) for identifier in metric_ids]

    def _require_compiled(self, what):
        if self.optimizer is None:
            raise RuntimeError(f"Model {self.name!r} is not compiled: call compile() before {what}(), "
                               "e.g. model.compile(optimizer='adam', loss='mse')")

    def _prepare_targets(self, x, y, what):
        """Check ``y`` against ``x`` and the model's output once, before any batch is computed.

        Returns integer labels (n,) for sparse categorical crossentropy, else floats in ``x``'s dtype
        shaped like the output. When something is wrong, the loss itself explains it (run on a
        constant prediction), so the message is the one ``losses`` gives.
        """
        y = np.asarray(y)
        n = len(x)
        if y.ndim == 0 or len(y) != n:
            raise ValueError(f"x and y must hold the same number of samples: x has shape {x.shape} "
                             f"({n} samples), y has shape {y.shape} ({len(y) if y.ndim else 0} samples)")
        out_shape = tuple(self._output_shapes[-1])
        if self.loss.name == "sparse_categorical_crossentropy":
            if y.shape in ((n,), (n, 1)) and _valid_labels(y, out_shape[-1]):
                return y.reshape(n).astype(np.intp, copy=False)
        else:
            y = as_float_array(y, f"y (targets of {what})").astype(x.dtype, copy=False)
            if y.ndim == 1 and out_shape == (1,):
                y = y[:, None]   # targets (N,) for one output (N, 1), as Keras expands them
            if y.shape[1:] == out_shape:
                return y
        self.loss.value(y, np.broadcast_to(1.0 / out_shape[-1], (n, *out_shape)))
        raise ValueError(f"y of {what} has shape {y.shape}, which does not fit the model's output "
                         f"{(None, *out_shape)} for loss {self.loss.name!r}")

    def _fused(self):
        """The fused output gradient that applies to this model and loss, or None."""
        if not self.layers or getattr(self.loss.value, "keywords", {}).get("from_logits"):
            return None   # with logits the loss's own gradient is already the stable one
        last = self.layers[-1]
        if type(last).backward is not layers_module.Layer.backward:
            return None   # a layer with its own backward may not take skip_activation
        name = last.get_config().get("activation")
        if (name, self.loss.name) not in _FUSABLE or not (_is_nnlib_activation(last, name) and _is_nnlib_loss(self.loss)):
            return None   # names alone are not enough: a function of one's own may be called "sigmoid"
        return _Fused(name, self.loss.name)

    def _output_gradient(self, fused, y, out):
        """dL/d(output), or dL/dz of the last layer when ``fused``."""
        if fused is None:
            return self.loss.grad(y, out)
        n = out.shape[0]
        if fused.loss == "sparse_categorical_crossentropy":
            dz = out.copy()
            dz[np.arange(n), y] -= 1.0
            dz /= n
            return dz
        if fused.loss == "categorical_crossentropy":
            return (out * y.sum(axis=-1, keepdims=True) - y) / n
        return (out - y) / out.size

    def _loss_value(self, fused, y, out):
        r"""The loss of a batch, plus the layers' weight penalties :math:`\Omega` (``kernel_regularizer``,
        as Keras reports it); with a fused output, computed directly from the probabilities."""
        penalty = sum(sum(getattr(layer, "losses", ())) for layer in self.layers)
        if fused is None:
            return self.loss.value(y, out) + penalty
        if fused.loss == "sparse_categorical_crossentropy":
            p = np.clip(out[np.arange(len(y)), y], losses.EPSILON, 1 - losses.EPSILON)
            return float(-np.mean(np.log(p))) + penalty
        p = np.clip(out, losses.EPSILON, 1 - losses.EPSILON)
        if fused.loss == "categorical_crossentropy":
            return float(-np.sum(y * np.log(p)) / len(y)) + penalty
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))) + penalty

    def _backward(self, fused, grad, checked=True):
        """Backpropagate ``grad``, dL/d(output) or, when ``fused``, dL/dz of the last layer.

        ``checked=False`` (fit) skips the layers' checks of dy, and the first layer's dL/dx, which
        nothing uses (``Layer.call_backward(dy, skip_activation, input_grad)``).
        """
        for i in reversed(range(len(self.layers))):
            layer = self.layers[i]
            skip_activation = fused is not None and i == len(self.layers) - 1
            if type(layer).backward is not layers_module.Layer.backward:   # a layer's own backward(dy)
                grad = layer.backward(grad)
            elif checked:
                grad = layer.backward(grad, skip_activation)
            else:
                grad = layer.call_backward(grad, skip_activation, i > 0)

    def _grads_and_vars(self):
        return [(layer.grads[key], param) for layer in self.layers if layer.trainable
                for key, param in layer.params.items()]

    def compute_gradients(self, x, y, training=True):
        r"""Forward and backward on one batch without updating: returns ``(loss, grads_and_vars)``.

        ``grads_and_vars`` is the list of :math:`(\partial L/\partial\theta, \theta)` pairs that
        ``optimizer.apply_gradients`` takes; the gradients are also in each ``layer.grads``.
        """
        self._require_compiled("compute_gradients")
        x = self._as_batch(x)
        self._build_for(x)
        y = self._prepare_targets(x, y, "compute_gradients")
        fused = self._fused()
        out = self._forward(x, training=training)
        self._backward(fused, self._output_gradient(fused, y, out))
        return self._loss_value(fused, y, out), self._grads_and_vars()

    def train_on_batch(self, x, y):
        """One gradient step on the batch ``(x, y)``; returns the batch loss before the step."""
        loss, grads_and_vars = self.compute_gradients(x, y)
        self.optimizer.apply_gradients(grads_and_vars)
        return loss

    @_one_blas_thread_with_convolutions
    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, seed=None):
        r"""Train for ``epochs`` passes over ``(x, y)`` in shuffled mini-batches; returns a ``History``.

        ``x``: (n_samples, *input_shape); ``y``: targets shaped like the output (a vector (n_samples,)
        is accepted for a single output), or integer labels (n_samples,) for
        ``sparse_categorical_crossentropy``. ``validation_split``: the *last* fraction
        of the samples (taken before shuffling, as Keras) is held out; ``validation_data=(x_val, y_val)``
        gives the held-out set instead. ``seed`` makes the shuffling reproducible. ``verbose``: 0
        silent, 1 progress bar, 2 one line per epoch. ``history.history`` holds ``loss``, each
        metric, and ``val_loss``/``val_<metric>`` when there is validation data.
        """
        self._require_compiled("fit")
        x = self._as_batch(x)
        self._build_for(x)
        self._check_input(x)
        y = self._prepare_targets(x, y, "fit")
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            x_val = self._as_batch(validation_data[0], "x_val")
            self._check_input(x_val)
            y_val = self._prepare_targets(x_val, validation_data[1], "validation_data")
        elif validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}")
            n_val = int(len(x) * validation_split)
            if n_val == 0 or n_val == len(x):
                raise ValueError(f"validation_split={validation_split} of {len(x)} samples leaves "
                                 f"{len(x) - n_val} for training and {n_val} for validation; both must be non-empty")
            x, x_val = x[:-n_val], x[-n_val:]
            y, y_val = y[:-n_val], y[-n_val:]
        else:
            x_val = y_val = None
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        n = len(x)
        steps = math.ceil(n / batch_size)
        metric_fns = self._metric_functions(y[:1].shape)

        history = callbacks_module.History()
        cbs = ([callbacks_module.ProgbarLogger(verbose)] if verbose else []) + list(callbacks or []) + [history]
        for cb in cbs:
            cb.set_model(self)
            cb.set_params({"epochs": epochs, "steps": steps, "verbose": verbose})
        batch_cbs = [cb for cb in cbs if cb.implements_batch_hooks()]

        fused = self._fused()
        rng = np.random.default_rng(seed)
        optimizer = self.optimizer
        self.stop_training = False
        logs = {}
        for cb in cbs:
            cb.on_train_begin(logs)
        for epoch in range(epochs):
            for cb in cbs:
                cb.on_epoch_begin(epoch, {})
            order = rng.permutation(n) if shuffle else np.arange(n)
            outputs = []
            for step in range(steps):
                index = order[step * batch_size:(step + 1) * batch_size]
                for cb in batch_cbs:
                    cb.on_train_batch_begin(step, {})
                yb = y[index]
                out = self._forward(x[index], training=True, checked=False)
                self._backward(fused, self._output_gradient(fused, yb, out), checked=False)
                optimizer.apply_gradients(self._grads_and_vars())
                outputs.append(out)
                if batch_cbs:   # the epoch's logs so far (Keras's running means), computed only if read
                    batch_logs = _LazyLogs(functools.partial(self._logs_so_far, y, order, outputs, step + 1,
                                                             metric_fns, fused))
                    for cb in batch_cbs:
                        cb.on_train_batch_end(step, batch_logs)
            logs = self._logs(y[order], np.concatenate(outputs), metric_fns, fused)
            if x_val is not None:
                val_out = self.predict(x_val, batch_size=batch_size)
                logs.update({f"val_{k}": v for k, v in self._logs(y_val, val_out, metric_fns, fused).items()})
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in cbs:
            cb.on_train_end(logs)
        self.history = history
        return history

    def _metric_functions(self, y_true_shape):
        """[(display name, function)] for the compiled metrics; "accuracy" resolved from loss and shapes."""
        y_pred_shape = (1, *self._output_shapes[-1])
        return [(_metric_name(identifier), _resolve_metric(identifier, self.loss, y_true_shape, y_pred_shape))
                for identifier in self._metric_ids]

    def _logs_so_far(self, y, order, outputs, batches, metric_fns, fused):
        """The epoch's logs over its first ``batches`` batches."""
        out = np.concatenate(outputs[:batches])
        return self._logs(y[order[:len(out)]], out, metric_fns, fused)

    def _logs(self, y, out, metric_fns, fused=None):
        """{"loss": .., metric name: ..} for targets ``y`` and outputs ``out``."""
        logs = {"loss": self._loss_value(fused, y, out)}
        for name, fn in metric_fns:
            logs[name] = float(fn(y, out))
        return logs

    @_one_blas_thread_with_convolutions
    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Loss (and metrics) on ``(x, y)``: a float without metrics, else ``[loss, *metrics]``
        (or a dict with ``return_dict=True``), as Keras."""
        self._require_compiled("evaluate")
        x = self._as_batch(x)
        self._build_for(x)
        self._check_input(x)
        y = self._prepare_targets(x, y, "evaluate")
        out = self.predict(x, batch_size=batch_size)
        logs = self._logs(y, out, self._metric_functions(y[:1].shape), self._fused())
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def __repr__(self):
        return f"Sequential(name={self.name!r}, layers=[{', '.join(layer.name for layer in self.layers)}])"


def _is_nnlib_activation(layer, name):
    """Whether ``layer`` applies nnlib's own activation ``name`` with nnlib's own derivative (not a
    function of one's own so named, nor a ``Lambda`` with a derivative of one's own)."""
    act = getattr(layer, "_act", None)
    return (act is not None and not isinstance(layer, layers_module.Lambda)
            and act.forward is activations.unchecked(activations.get(name)))


def _is_nnlib_loss(loss):
    """Whether ``loss`` is nnlib's own loss of its name, value and gradient, with no parameter but
    ``from_logits=False``."""
    def plain(function):
        if isinstance(function, functools.partial):
            if function.args or any(v for v in function.keywords.values()):
                return None
            return function.func
        return function

    return (plain(loss.value) is losses.LOSSES.get(loss.name)
            and plain(loss.grad) is losses.GRADIENTS.get(loss.name))


def _call(layer):
    """``layer.call``, the forward without input checks, when the layer keeps ``Layer.forward``
    (checks, then ``call``); else the layer's own ``forward``."""
    return layer.call if type(layer).forward is layers_module.Layer.forward else layer.forward


def _resolve_metric(identifier, loss, y_true_shape=None, y_pred_shape=None):
    return metrics.resolve(identifier, loss.name, y_true_shape, y_pred_shape)


def _valid_labels(y, classes):
    """True when ``y`` holds integer class labels in 0..classes-1 (a quick check; the loss explains failures)."""
    if y.dtype.kind not in "iuf" or y.size == 0:
        return False
    low, high = y.min(), y.max()
    if not (low >= 0 and high < classes):   # also False for NaN
        return False
    return y.dtype.kind != "f" or bool(np.all(y == np.round(y)))


def _metric_name(identifier):
    """How a metric is named in the logs: the string given, or the function's name."""
    return identifier if isinstance(identifier, str) else getattr(identifier, "__name__", "metric")


class _LazyLogs(collections.abc.Mapping):
    """A logs dict computed on first access: a progress bar reads it a few times a second, not every batch."""

    def __init__(self, compute):
        self._compute = compute
        self._logs = None

    def _values(self):
        if self._logs is None:
            self._logs = self._compute()
        return self._logs

    def __getitem__(self, key):
        return self._values()[key]

    def __iter__(self):
        return iter(self._values())

    def __len__(self):
        return len(self._values())


def _describe(description):
    """'dense (Dense): (4, 2), (2,); ...' from [(layer label, [weight shapes])]."""
    return "; ".join(f"{name}: {', '.join(str(s) for s in shapes) or 'no weights'}" for name, shapes in description)
