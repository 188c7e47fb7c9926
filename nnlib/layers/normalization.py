r"""Layers that standardise their input: ``BatchNormalization`` (statistics of each batch, learned
scale and shift) and ``Normalization`` (statistics of the training data, from ``adapt``)."""
from typing import NamedTuple

import numpy as np

from nnlib import initializers
from nnlib._checks import as_float_array
from nnlib.layers.base import Layer, _as_shape

class BatchNormCache(NamedTuple):
    r"""BatchNormalization forward values kept for backward: the normalised input ``x_hat``, the
    ``inv_std`` :math:`1/\sqrt{\sigma^2 + \epsilon}` used (broadcastable) and whether it was ``training``."""
    x_hat: np.ndarray
    inv_std: np.ndarray
    training: bool


class BatchNormalization(Layer):
    r"""Normalises each feature (the ``axis``, channels for images) to mean 0 and variance 1, then
    scales by :math:`\gamma` and shifts by :math:`\beta`.

    In training the mean and variance are those of the batch, and the moving averages in ``state``
    are updated; at inference the moving averages are used.

    .. math::
        \hat{x} = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad y = \gamma \hat{x} + \beta, \qquad
        \mu_\text{moving} \leftarrow m\, \mu_\text{moving} + (1 - m)\, \mu_B

    Backward in training, over the :math:`M` values of each feature:

    .. math::
        \frac{\partial L}{\partial x} = \frac{\gamma}{M \sqrt{\sigma_B^2 + \epsilon}}
        \left(M \delta - \sum \delta - \hat{x} \sum \delta \hat{x}\right), \quad
        \frac{\partial L}{\partial \gamma} = \sum \delta \hat{x}, \quad
        \frac{\partial L}{\partial \beta} = \sum \delta
    """
    base_name = "batch_normalization"

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"BatchNormalization axis must be an integer, got {axis!r}")
        if not 0 <= momentum <= 1 or epsilon <= 0:
            raise ValueError(f"BatchNormalization needs 0 <= momentum <= 1 and epsilon > 0, got {momentum}, {epsilon}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self._initializers = {"gamma": initializers.get(gamma_initializer), "beta": initializers.get(beta_initializer),
                              "moving_mean": initializers.get(moving_mean_initializer),
                              "moving_variance": initializers.get(moving_variance_initializer)}

    def _feature_axis(self, ndim):
        """The feature axis of an input with ``ndim`` axes, batch included (as Keras counts it)."""
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 1 <= axis < ndim:
            raise ValueError(f"Layer {self.name!r}: axis={self.axis} is not a feature axis of inputs with {ndim} axes "
                             "(batch included; axis 0 is the batch)")
        return axis

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        axis = self._feature_axis(len(input_shape) + 1)
        features = (input_shape[axis - 1],)
        names = (["gamma"] if self.scale else []) + (["beta"] if self.center else [])
        rng = initializers.rng_for(None)
        self.params = {k: self._new_weight(k, self._initializers[k], features, rng) for k in names}
        self.state = {k: self._new_weight(k, self._initializers[k], features, rng)
                      for k in ("moving_mean", "moving_variance")}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.input_spec = tuple(s if i == axis - 1 else None for i, s in enumerate(input_shape))
        return input_shape

    def call(self, x, training=False):
        x = x.astype(self.dtype, copy=False)
        axis = self._feature_axis(x.ndim)
        others = tuple(i for i in range(x.ndim) if i != axis)
        shape = [1] * x.ndim
        shape[axis] = x.shape[axis]
        if training:
            mean = x.mean(axis=others)
            var = x.var(axis=others)
            m = self.momentum
            self.state["moving_mean"][...] = m * self.state["moving_mean"] + (1 - m) * mean
            self.state["moving_variance"][...] = m * self.state["moving_variance"] + (1 - m) * var
        else:
            mean, var = self.state["moving_mean"], self.state["moving_variance"]
        inv_std = (1.0 / np.sqrt(var + self.epsilon)).reshape(shape)
        x_hat = (x - mean.reshape(shape)) * inv_std
        self.cache = BatchNormCache(x_hat, inv_std, bool(training))
        y = x_hat
        if self.scale:
            y = y * self.params["gamma"].reshape(shape)
        if self.center:
            y = y + self.params["beta"].reshape(shape)
        return y

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        x_hat, inv_std, training = self.cache
        self._check_dy_shape(dy, x_hat.shape)
        axis = self._feature_axis(dy.ndim)
        others = tuple(i for i in range(dy.ndim) if i != axis)
        if self.scale:
            self.grads["gamma"] = (dy * x_hat).sum(axis=others)
            dx_hat = dy * self.params["gamma"].reshape(inv_std.shape)
        else:
            dx_hat = dy
        if self.center:
            self.grads["beta"] = dy.sum(axis=others)
        if not training:  # the statistics are constants
            return dx_hat * inv_std
        count = dy.size // dy.shape[axis]
        return inv_std / count * (count * dx_hat - dx_hat.sum(axis=others, keepdims=True)
                                  - x_hat * (dx_hat * x_hat).sum(axis=others, keepdims=True))

    def compute_output_shape(self, input_shape):
        return _as_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale}


class NormalizationCache(NamedTuple):
    r"""Normalization forward values kept for backward: the ``scale`` :math:`1/\max(\sigma, \epsilon)`
    (broadcastable) and the input ``shape``."""
    scale: np.ndarray
    shape: tuple


class Normalization(Layer):
    r"""Standardises each feature with the mean and variance of the training data: the first item of
    the notes' practical checklist ("normalise the data"), as Keras's ``Normalization``.

    Call ``adapt(x_train)`` once (or pass ``mean`` and ``variance``); then, per feature (the last axis),

    .. math::
        y = \frac{x - \mu}{\max(\sigma, \epsilon)}, \qquad
        \frac{\partial L}{\partial x} = \frac{\delta}{\max(\sigma, \epsilon)}, \qquad \epsilon = 10^{-7}

    ``mean`` and ``variance`` are kept in ``state`` (not trained; ``summary`` counts them as
    non-trainable, where Keras also counts a sample count).
    """
    base_name = "normalization"
    EPSILON = 1e-7

    def __init__(self, mean=None, variance=None, name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization takes both mean and variance, or neither (then call adapt(x) on the "
                             "training data)")
        self._given = None
        if mean is not None:
            mean, variance = (np.atleast_1d(as_float_array(v, name)) for v, name in ((mean, "mean"), (variance, "variance")))
            if mean.shape != variance.shape or mean.ndim != 1 or np.any(variance < 0):
                raise ValueError(f"mean and variance must be vectors of one value per feature, variance >= 0; "
                                 f"got shapes {mean.shape} and {variance.shape}")
            self._given = (mean, variance)

    def adapt(self, data):
        """Learn the mean and variance of each feature (last axis) from ``data`` (samples, ..., features)."""
        data = as_float_array(data, "data", min_ndim=2)
        if self.built and data.shape[1:] != self.input_shape:
            raise ValueError(f"Layer {self.name!r} was built for inputs {self.input_shape}, adapt() got data of "
                             f"shape {data.shape}")
        axes = tuple(range(data.ndim - 1))
        self._given = (data.mean(axis=axes), data.var(axis=axes))
        if not self.built:
            self.build(data.shape[1:])
        else:
            self._store()

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        self._store()
        return input_shape

    def _store(self):
        if self._given is None:
            return
        mean, variance = self._given
        if mean.size == 1:   # one value for every feature, as Keras accepts
            mean, variance = (np.full(self.input_shape[-1:], v.item()) for v in (mean, variance))
        if mean.shape != self.input_shape[-1:]:
            raise ValueError(f"Layer {self.name!r}: mean and variance have {mean.size} values but the input has "
                             f"{self.input_shape[-1]} features (shape {self.input_shape})")
        self.state = {"mean": mean.astype(self.dtype), "variance": variance.astype(self.dtype)}

    def call(self, x, training=False):
        if not self.state:
            raise RuntimeError(f"Layer {self.name!r} has no statistics yet: call adapt(x_train) first, or "
                               "pass mean= and variance=")
        x = x.astype(self.dtype, copy=False)
        scale = 1.0 / np.maximum(np.sqrt(self.state["variance"]), self.EPSILON)
        self.cache = NormalizationCache(scale, x.shape)
        return (x - self.state["mean"]) * scale

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        scale, shape = self.cache
        self._check_dy_shape(dy, shape)
        return dy * scale
