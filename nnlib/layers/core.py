r"""The fully connected layer and the element-wise ones: ``Dense``, ``Activation``, ``Lambda``,
``Flatten``, ``Dropout``."""
from typing import NamedTuple

import numpy as np

from nnlib import activations, initializers
from nnlib.layers.base import Layer, _Activation, _act_name, _as_shape, _positive_int, _resolve_activation

# --- Dense and Activation ---------------------------------------------------------------------------

class DenseCache(NamedTuple):
    """Dense forward values kept for backward: input ``x`` (batch, in) and pre-activation ``z`` (batch, units)."""
    x: np.ndarray
    z: np.ndarray


class Dense(Layer):
    r"""Fully connected layer: every output is a weighted sum of every input, plus a bias.

    ``x`` (batch, in) -> ``y`` (batch, units); ``kernel`` :math:`W` (in, units), ``bias`` :math:`b` (units,).

    .. math::
        z = x W + b, \qquad y = f(z)

    .. math::
        \frac{\partial L}{\partial z} = \delta \odot f'(z), \quad
        \frac{\partial L}{\partial W} = x^T \frac{\partial L}{\partial z}, \quad
        \frac{\partial L}{\partial b} = \sum_{\text{batch}} \frac{\partial L}{\partial z}, \quad
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial z} W^T
    """
    base_name = "dense"
    input_ndim = 1

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, name=None,
                 input_shape=None, seed=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self.units = _positive_int(units, "Dense units")
        self._setup_weights(activation, use_bias, kernel_initializer, bias_initializer, seed, kernel_regularizer,
                            bias_regularizer)

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        rng = initializers.rng_for(self.seed)
        self.params = {"kernel": self._new_weight("kernel", self.kernel_initializer, (input_shape[0], self.units), rng)}
        if self.use_bias:
            self.params["bias"] = self._new_weight("bias", self.bias_initializer, (self.units,), rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.input_spec = input_shape
        return input_shape

    def compute_output_shape(self, input_shape):
        return _as_shape(input_shape)[:-1] + (self.units,)

    def call(self, x, training=False):
        x = x.astype(self.dtype, copy=False)
        z = x @ self.params["kernel"]
        if self.use_bias:
            z += self.params["bias"]
        self.cache = DenseCache(x, z)
        return z if self._act is None else self._act.forward(z)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        x, z = self.cache
        self._check_dy_shape(dy, z.shape)
        dz = dy if self._act is None or skip_activation else self._act.backward(z, dy)
        self.grads["kernel"] = x.T @ dz
        if self.use_bias:
            self.grads["bias"] = dz.sum(axis=0)
        if self.regularizers:
            self._add_penalty_gradients()
        return dz @ self.params["kernel"].T if input_grad else None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": _act_name(self._act),
                "use_bias": self.use_bias}


class ActivationCache(NamedTuple):
    """Activation forward value kept for backward: the input ``x``."""
    x: np.ndarray


class Activation(Layer):
    r"""Applies an activation function (a name from ``nnlib.activations``) element by element.

    .. math::
        y = f(x), \qquad \frac{\partial L}{\partial x} = \delta \odot f'(x)
        \quad (\text{softmax: the Jacobian-vector product})
    """
    base_name = "activation"

    def __init__(self, activation, name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self.activation = activation
        self._act = _resolve_activation(activation)

    def call(self, x, training=False):
        self.cache = ActivationCache(x)
        return x.copy() if self._act is None else self._act.forward(x)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        self._check_dy_shape(dy, self.cache.x.shape)
        return dy if self._act is None or skip_activation else self._act.backward(self.cache.x, dy)

    def get_config(self):
        return {**super().get_config(), "activation": _act_name(self._act)}


class Lambda(Activation):
    r"""A function of your own, applied element by element: ``Lambda(lambda x: np.abs(x))``, as
    ``keras.layers.Lambda`` in the lecture notes.

    .. math::
        y = f(x), \qquad \frac{\partial L}{\partial x} = \delta \odot f'(x)

    ``derivative``: :math:`f'(x)` (taking the input), when you know it; otherwise nnlib uses
    :func:`nnlib.activations.numerical_derivative` (central differences). ``function`` must work on
    NumPy arrays element by element (it may use per-feature constants of the input's shape): this
    is checked when the layer is built, on a probe of its input's shape.
    """
    base_name = "lambda"

    def __init__(self, function, derivative=None, name=None, input_shape=None, trainable=True, dtype="float64"):
        if not callable(function):
            raise TypeError(f"Lambda needs a function, e.g. Lambda(lambda x: np.abs(x)), got {type(function).__name__}")
        if derivative is not None and not callable(derivative):
            raise TypeError(f"derivative must be a function of x, got {type(derivative).__name__}")
        Layer.__init__(self, name, input_shape, trainable, dtype)
        self.activation = function
        grad = derivative or activations.numerical_derivative(function, check=False)
        self._act = _Activation(getattr(function, "__name__", "lambda"), function, lambda x, dy: dy * grad(x))

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        # also with a derivative given: backward is dy * f'(x), right only for an element-wise f
        activations.check_elementwise(self.activation, (2, *input_shape))
        return input_shape


class FlattenCache(NamedTuple):
    """Flatten forward value kept for backward: the input ``shape``."""
    shape: tuple


class Flatten(Layer):
    r"""Reshapes each sample into a vector: (N, d1, d2, ...) -> (N, d1 d2 ...), in C order (as Keras)."""
    base_name = "flatten"

    def compute_output_shape(self, input_shape):
        return (int(np.prod(_as_shape(input_shape))),)

    def call(self, x, training=False):
        self.cache = FlattenCache(x.shape)
        return x.reshape(x.shape[0], -1)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        shape = self.cache.shape
        self._check_dy_shape(dy, (shape[0], int(np.prod(shape[1:]))))
        return dy.reshape(shape)


class DropoutCache(NamedTuple):
    """Dropout forward values kept for backward: the scaled ``mask`` (0 or 1/(1-rate); ``None`` when
    not training) and the ``shape`` of the input."""
    mask: object
    shape: tuple


class Dropout(Layer):
    r"""Inverted dropout: in training, zero each input with probability ``rate`` and scale the rest
    by :math:`1/(1-\text{rate})`, so that nothing changes at inference, where the layer is the identity.

    .. math::
        y = x \odot m, \quad m_i = \begin{cases} 0 & \text{with probability } r \\ \frac{1}{1-r} & \text{otherwise} \end{cases},
        \qquad \frac{\partial L}{\partial x} = \delta \odot m

    ``seed`` fixes the masks; the generator is ``layer.rng`` (a new mask on every training forward).
    ``noise_shape`` (batch axis included, ``None`` = as the input) shares a mask along the axes of
    size 1, e.g. ``(None, 1, 1, C)`` drops whole channels of an image.
    """
    base_name = "dropout"

    def __init__(self, rate, noise_shape=None, seed=None, name=None, input_shape=None, trainable=True,
                 dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be a number in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.rng = initializers.rng_for(seed)

    def call(self, x, training=False):
        if not training or self.rate == 0:
            self.cache = DropoutCache(None, x.shape)
            return x
        shape = x.shape
        if self.noise_shape is not None:
            if len(self.noise_shape) != x.ndim:
                raise ValueError(f"Layer {self.name!r}: noise_shape {self.noise_shape} has {len(self.noise_shape)} "
                                 f"axes but the input has shape {x.shape}")
            shape = tuple(n if s is None else s for s, n in zip(self.noise_shape, x.shape))
        keep = self.rng.random(shape) >= self.rate
        mask = keep.astype(x.dtype) / x.dtype.type(1 - self.rate)
        self.cache = DropoutCache(mask, x.shape)
        return x * mask

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        mask, shape = self.cache
        self._check_dy_shape(dy, shape)
        return dy if mask is None else dy * mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
