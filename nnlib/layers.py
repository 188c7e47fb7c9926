r"""Layers with Keras's names and arguments, each with a forward and a backward pass.

Every layer follows one contract (the one of the CS231n assignments), which ``models.Sequential``
relies on::

    layer.build(input_shape)          # input_shape without the batch axis, e.g. (4,) or (28, 28, 1)
    y = layer.forward(x, training)    # x: (batch, *input_shape); builds on first call; keeps a cache
    dx = layer.backward(dy)           # dy = dL/dy -> dL/dx; fills layer.grads (same keys as layer.params)

For a layer :math:`y = f(x; \theta)` backward applies the chain rule with the upstream gradient
:math:`\delta = \partial L / \partial y`:

.. math::
    \frac{\partial L}{\partial x} = \left(\frac{\partial y}{\partial x}\right)^T \delta, \qquad
    \frac{\partial L}{\partial \theta} = \left(\frac{\partial y}{\partial \theta}\right)^T \delta

As in Keras (where ``__call__`` checks and ``call`` computes), ``forward`` and ``backward`` live in
the base class ``Layer``: they check their argument (finite floats, shapes, call order, building on
first use) and hand it to the layer's own ``call(x, training)`` and ``call_backward(dy)``, which
hold the math. ``Sequential.fit`` checks the data once and then calls ``call``/``call_backward``
directly. A layer written by hand may instead override ``forward`` and ``backward`` themselves.

Layers with an ``activation`` (Dense, Conv2D, Activation) compute :math:`y = f(z)` and also take
``backward(dy, skip_activation=True)``: then ``dy`` is :math:`\partial L/\partial z`, the gradient of the
pre-activation, and the activation's backward is skipped. ``Sequential`` uses it for the fused
softmax (or sigmoid) + crossentropy gradient :math:`(p - y)/N`; the name of the activation is
``layer.get_config()["activation"]``.

Conventions:

* Weights are float64 by default (NumPy's default, and what ``nnlib.gradcheck`` needs); pass
  ``dtype="float32"`` for speed. Layers with weights cast their input to that dtype.
* ``params`` and ``grads`` use Keras's names and order: ``kernel`` then ``bias``; ``gamma``, ``beta``.
  BatchNormalization's moving statistics live in ``state`` (not trained, but saved by ``get_weights``).
* Images are channels-last (N, H, W, C) as in Keras; ``data_format="channels_first"`` takes (N, C, H, W).
  Conv2D kernels are (kh, kw, in_channels, filters) in both cases, as in Keras.
* Names are automatic as in Keras: "dense", "dense_1", ...; ``reset_name_counters()`` restarts them.
"""
from typing import NamedTuple

import numpy as np

from nnlib import _kernels, activations, initializers, regularizers
from nnlib._checks import as_float_array
from nnlib._registry import lookup
from nnlib.conv import padding_amounts

_name_counts = {}


def reset_name_counters():
    """Restart automatic names ("dense", "dense_1", ...), e.g. to make summaries reproducible in tests."""
    _name_counts.clear()


def _auto_name(base):
    count = _name_counts.get(base, 0)
    _name_counts[base] = count + 1
    return base if count == 0 else f"{base}_{count}"


def _shape_str(shape):
    """Format a shape with the batch axis as None, as Keras prints it: (None, 28, 28, 1)."""
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _as_shape(shape, name="input_shape"):
    """Turn ``4``, ``[4]`` or ``(28, 28, 1)`` into a tuple of positive ints."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in shape):
        raise ValueError(f"{name} must be a tuple of positive integers without the batch axis, got {shape!r}")
    return tuple(int(s) for s in shape)


class InputSpec(NamedTuple):
    """The shape of one sample (no batch axis), as given to :func:`Input`."""
    shape: tuple
    name: str = None


def Input(shape, name=None):
    """Declare the input shape, as ``keras.Input(shape=(4,))``: put it first in a ``Sequential``.
    Also ``nnlib.models.Input``, as Keras has both ``keras.Input`` and ``keras.layers.Input``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not shape or any(not isinstance(s, (int, np.integer)) or s < 1 for s in shape):
        raise ValueError(f"Input shape must be a tuple of positive integers without the batch axis, got {shape!r}")
    return InputSpec(tuple(int(s) for s in shape), name)


class _Activation(NamedTuple):
    """An activation resolved by name: its forward function and ``backward(z, dy)``."""
    name: str
    forward: object
    backward: object


def _resolve_activation(identifier):
    """Look up an activation; ``None`` and "linear" give ``None`` (nothing to apply)."""
    if identifier is None or (isinstance(identifier, str) and identifier.lower() == "linear"):
        return None
    forward = activations.get(identifier)
    name = identifier.lower() if isinstance(identifier, str) else getattr(forward, "__name__", "custom")
    try:   # a function of one's own gets a numerical derivative; one that is not element-wise fails now
        backward = activations.get_backward(identifier)
    except ValueError as exc:
        raise ValueError(f"cannot use activation {name!r} in a layer: {exc}") from None
    # the layer applies them to the z it computed from a checked input: no need to check z again
    return _Activation(name, activations.unchecked(forward), activations.unchecked(backward))


def _positive_int(value, what):
    """``value`` as an int, or a ValueError naming ``what`` (bools are not counts)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


class Layer:
    """What every layer shares: its name, the build/forward/backward bookkeeping, weights access.

    Subclasses set ``base_name`` (the automatic name) and ``input_ndim`` (axes of one sample, or
    ``None`` for any), override ``build`` (calling this one first), ``forward`` and ``backward``.
    """
    base_name = "layer"
    input_ndim = None

    def __init__(self, name=None, input_shape=None, trainable=True, dtype="float64"):
        self.name = name if name is not None else _auto_name(self.base_name)
        self.trainable = trainable
        self.built = False
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a float type such as 'float32' or 'float64', got {dtype!r}")
        self.input_shape = _as_shape(input_shape) if input_shape is not None else None
        self.input_spec = None     # the shape forward accepts (None = any size), set by build
        self.params = {}
        self.grads = {}
        self.state = {}
        self.regularizers = {}     # weight name -> regularizers.L1L2 (Dense, Conv2D)
        self.cache = None

    def __call__(self, x, training=False):
        """``layer(x)`` is ``layer.forward(x)``, as calling a Keras layer."""
        return self.forward(x, training=training)

    # --- forward and backward: checks here, the computation in call / call_backward ---

    def forward(self, x, training=False):
        """Check ``x`` (batch, *input_shape), build the layer on first use, then compute ``call(x, training)``."""
        return self.call(self._prepare_input(x), training)

    def backward(self, dy, skip_activation=False):
        r"""Check ``dy`` = :math:`\partial L/\partial y` (after a forward), then compute
        ``call_backward(dy, skip_activation)``: returns :math:`\partial L/\partial x`, fills ``grads``.

        ``skip_activation=True`` (layers with an activation): ``dy`` is already :math:`\partial L/\partial z`,
        the gradient of the pre-activation :math:`z`; without an activation it changes nothing.
        """
        return self.call_backward(self._check_backward(dy), skip_activation)

    def call(self, x, training=False):
        """The forward computation, on an ``x`` that ``forward`` has checked; every layer defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define call(x, training) (or override forward)")

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        r"""The backward computation, on a ``dy`` that ``backward`` has checked; every layer defines it.

        ``input_grad=False`` says that nothing needs :math:`\partial L/\partial x` (the first layer of a
        model): Dense and Conv2D then skip that product and return ``None``; the other layers ignore it.
        """
        raise NotImplementedError(f"{type(self).__name__} must define call_backward(dy) (or override backward)")

    # --- building and shapes ---

    def build(self, input_shape):
        """Record ``input_shape`` (without the batch axis); subclasses then create their weights."""
        input_shape = _as_shape(input_shape)
        if self.input_ndim is not None and len(input_shape) != self.input_ndim:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) expects inputs with {self.input_ndim} "
                             f"axes besides the batch, e.g. {self._example_shape()}; got input_shape {input_shape}")
        self.input_shape = input_shape
        self.built = True
        return input_shape

    def _example_shape(self):
        return {1: "(features,)", 3: "(height, width, channels)"}.get(self.input_ndim, "")

    def compute_output_shape(self, input_shape):
        """Output shape (without the batch axis) for ``input_shape``; the identity unless overridden."""
        return _as_shape(input_shape)

    def _prepare_input(self, x):
        """Check ``x`` (batch, *input_shape): finite floats, the shape of ``input_spec``; build on first use."""
        x = as_float_array(x, f"input of layer {self.name!r}")
        if x.ndim < 2:
            raise ValueError(f"Layer {self.name!r} expects a batch of samples, shape (batch, ...); "
                             f"got shape {x.shape}. For a single sample use x[None].")
        if not self.built:
            self.build(x.shape[1:])
        self._check_input_shape(x.shape)
        return x

    def _check_input_shape(self, shape):
        """Raise unless ``shape`` (batch axis first) fits ``input_spec`` (``None`` there: any size)."""
        spec = self.input_spec
        mismatch = spec is not None and tuple(shape[1:]) != spec and (
            len(shape) != len(spec) + 1 or any(e is not None and e != a for e, a in zip(spec, shape[1:])))
        if mismatch:
            raise ValueError(f"Layer {self.name!r} expects input of shape {_shape_str((None,) + spec)}, "
                             f"got shape {tuple(shape)}")

    def _check_backward(self, dy):
        if self.cache is None:
            raise RuntimeError(f"backward() of layer {self.name!r} was called before forward(): "
                               "run forward(x, training=True) first")
        return as_float_array(dy, f"dy of layer {self.name!r}")

    def _check_dy_shape(self, dy, expected):
        if dy.shape != tuple(expected):
            raise ValueError(f"Layer {self.name!r}: dy has shape {dy.shape}, expected {tuple(expected)} "
                             "(the shape of the last forward output)")

    # --- weights ---

    def _setup_weights(self, activation, use_bias, kernel_initializer, bias_initializer, seed,
                       kernel_regularizer=None, bias_regularizer=None):
        """Store the settings shared by the layers with a kernel and a bias (Dense, Conv2D)."""
        self.activation = activation
        self._act = _resolve_activation(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.seed = seed
        self.regularizers = {key: regularizers.get(reg) for key, reg in
                             (("kernel", kernel_regularizer), ("bias", bias_regularizer)) if reg is not None}

    @property
    def losses(self):
        r"""The penalties :math:`\Omega` of the weights that have a regularizer (Keras's ``layer.losses``)."""
        return [reg(self.params[key]) for key, reg in self.regularizers.items() if key in self.params]

    def _add_penalty_gradients(self):
        """Add each regularizer's gradient to its weight's gradient (after ``call_backward`` filled them)."""
        for key, reg in self.regularizers.items():
            if key in self.grads:
                self.grads[key] = self.grads[key] + reg.gradient(self.params[key])

    def _require_built(self, what):
        if not self.built:
            raise RuntimeError(f"Layer {self.name!r} is not built yet, so it has no {what}: call build(input_shape) "
                               "or forward(x) first, or give it input_shape=")

    def _new_weight(self, key, initializer, shape, rng):
        """``initializer(shape, rng)`` as an array of the layer's dtype, checking what a custom one returns."""
        weight = np.array(initializer(shape, rng), dtype=self.dtype)
        if weight.shape != tuple(shape):
            raise ValueError(f"Layer {self.name!r}: the initializer of {key!r} returned shape {weight.shape}, "
                             f"expected {tuple(shape)}")
        return weight

    def count_params(self):
        """Number of weights, trainable or not (as Keras's ``count_params``)."""
        self._require_built("weights")
        return int(sum(w.size for w in self.params.values()) + sum(w.size for w in self.state.values()))

    def _weight_items(self):
        return list(self.params.items()) + list(self.state.items())

    def get_weights(self):
        """Copies of the weights in Keras's order (kernel, bias; gamma, beta, moving_mean, moving_variance)."""
        self._require_built("weights")
        return [w.copy() for _, w in self._weight_items()]

    def set_weights(self, weights):
        """Copy ``weights`` (a list in ``get_weights`` order) into the layer's arrays, in place."""
        self._require_built("weights")
        items = self._weight_items()
        weights = list(weights)
        if len(weights) != len(items):
            raise ValueError(f"Layer {self.name!r} has {len(items)} weights ({', '.join(k for k, _ in items)}), "
                             f"got a list of {len(weights)}")
        for i, ((key, current), new) in enumerate(zip(items, weights)):
            new = as_float_array(new, f"weight {i} ({key!r}) of layer {self.name!r}", allow_empty=True)
            if new.shape != current.shape:
                raise ValueError(f"Layer {self.name!r}: weight {i} ({key!r}) has shape {current.shape}, "
                                 f"got an array of shape {new.shape}")
        for (_, current), new in zip(items, weights):
            current[...] = new

    def get_config(self):
        """The layer's arguments, as a dict (used by ``summary`` and ``repr``)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self.input_shape is not None:
            config["input_shape"] = self.input_shape
        return config

    def __repr__(self):
        skip = ("trainable", "dtype", "input_shape")
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k not in skip)
        return f"{type(self).__name__}({args})"


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


def _act_name(act):
    return "linear" if act is None else act.name


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
    NumPy arrays element by element; this is checked when the layer is made.
    """
    base_name = "lambda"

    def __init__(self, function, derivative=None, name=None, input_shape=None, trainable=True, dtype="float64"):
        if not callable(function):
            raise TypeError(f"Lambda needs a function, e.g. Lambda(lambda x: np.abs(x)), got {type(function).__name__}")
        if derivative is not None and not callable(derivative):
            raise TypeError(f"derivative must be a function of x, got {type(derivative).__name__}")
        Layer.__init__(self, name, input_shape, trainable, dtype)
        self.activation = function
        grad = derivative or activations.numerical_derivative(function)
        self._act = _Activation(getattr(function, "__name__", "lambda"), function, lambda x, dy: dy * grad(x))


# --- images: shared helpers -------------------------------------------------------------------------

_DATA_FORMATS = ("channels_last", "channels_first")


def _check_data_format(data_format):
    if data_format not in _DATA_FORMATS:
        raise ValueError(f"data_format must be 'channels_last' (N, H, W, C) or 'channels_first' (N, C, H, W), "
                         f"got {data_format!r}")
    return data_format


def _check_padding(padding):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def _spatial_output(size, window, stride, padding):
    """Output length along one axis for 'valid' or 'same' padding."""
    before, after = padding_amounts(size, window, stride, padding)
    return _kernels.output_size(size + before + after, window, stride)


class _ImageLayer(Layer):
    """Shared by Conv2D and the pooling layers: data format, window, strides, padding."""
    input_ndim = 3

    def _setup_window(self, window, strides, padding, data_format, window_name):
        self.window = _kernels.as_pair(window, window_name)
        self.strides = _kernels.as_pair(window if strides is None else strides, "strides")
        self.padding = _check_padding(padding)
        self.data_format = _check_data_format(data_format)

    def _split(self, shape):
        """(height, width, channels) of one sample's shape, whatever the data format."""
        return (shape[0], shape[1], shape[2]) if self.data_format == "channels_last" else (shape[1], shape[2], shape[0])

    def _join(self, height, width, channels):
        return (height, width, channels) if self.data_format == "channels_last" else (channels, height, width)

    def _output_hw(self, height, width):
        return (_spatial_output(height, self.window[0], self.strides[0], self.padding),
                _spatial_output(width, self.window[1], self.strides[1], self.padding))

    def _pads(self, height, width):
        """(top, bottom, left, right) zeros around each image."""
        return (padding_amounts(height, self.window[0], self.strides[0], self.padding)
                + padding_amounts(width, self.window[1], self.strides[1], self.padding))

    def _to_nchw(self, x):
        return x.transpose(0, 3, 1, 2) if self.data_format == "channels_last" else x

    def _from_nchw(self, x):
        return x.transpose(0, 2, 3, 1) if self.data_format == "channels_last" else x

    def _nchw_to_format(self, shape):
        """An NCHW shape written in the layer's data format."""
        return (shape[0], shape[2], shape[3], shape[1]) if self.data_format == "channels_last" else tuple(shape)

    def _pad(self, x_nchw, pads, value=0.0):
        top, bottom, left, right = pads
        if not any(pads):
            return x_nchw
        return np.pad(x_nchw, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)

    @staticmethod
    def _unpad(dx_nchw, pads):
        top, bottom, left, right = pads
        return dx_nchw[:, :, top:dx_nchw.shape[2] - bottom, left:dx_nchw.shape[3] - right]

    def compute_output_shape(self, input_shape):
        height, width, channels = self._split(_as_shape(input_shape))
        return self._join(*self._output_hw(height, width), self._output_channels(channels))

    def _output_channels(self, channels):
        return channels

    def get_config(self):
        return {**super().get_config(), "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format}


# --- Conv2D -----------------------------------------------------------------------------------------

class Conv2DCache(NamedTuple):
    """Conv2D forward values kept for backward: the padded input ``x_padded`` (N, C, H', W'), the
    ``pads`` (top, bottom, left, right) added to it and the pre-activation ``z`` (in the layer's data format)."""
    x_padded: np.ndarray
    pads: tuple
    z: np.ndarray


class Conv2D(_ImageLayer):
    r"""2-D convolution (cross-correlation, as Keras): ``filters`` kernels slide over the image.

    ``x`` (N, H, W, C) -> ``y`` (N, OH, OW, filters) (channels_first: (N, C, H, W) -> (N, filters, OH, OW));
    ``kernel`` :math:`K` (kh, kw, C, filters), ``bias`` :math:`b` (filters,); ``padding`` "valid" or "same".

    .. math::
        z_{n,i,j,f} = b_f + \sum_{p,q,c} K_{p,q,c,f}\, x_{n,\,s_h i + p,\,s_w j + q,\,c}, \qquad y = f(z)

    .. math::
        \frac{\partial L}{\partial K_{p,q,c,f}} = \sum_{n,i,j} \frac{\partial L}{\partial z_{n,i,j,f}}\, x_{n,\,s_h i + p,\,s_w j + q,\,c},
        \qquad
        \frac{\partial L}{\partial b_f} = \sum_{n,i,j} \frac{\partial L}{\partial z_{n,i,j,f}}
    """
    base_name = "conv2d"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, name=None,
                 input_shape=None, seed=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self.filters = _positive_int(filters, "Conv2D filters")
        self._setup_window(kernel_size, strides, padding, data_format, "kernel_size")
        self.kernel_size = self.window
        self._setup_weights(activation, use_bias, kernel_initializer, bias_initializer, seed, kernel_regularizer,
                            bias_regularizer)
        self.scratch = _kernels.Scratch()   # the im2col work arrays, reused from step to step

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        height, width, channels = self._split(input_shape)
        rng = initializers.rng_for(self.seed)
        shape = self.kernel_size + (channels, self.filters)
        self.params = {"kernel": self._new_weight("kernel", self.kernel_initializer, shape, rng)}
        if self.use_bias:
            self.params["bias"] = self._new_weight("bias", self.bias_initializer, (self.filters,), rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.input_spec = self._join(None, None, channels)
        return input_shape

    def _output_channels(self, channels):
        return self.filters

    def call(self, x, training=False):
        x_nchw = self._to_nchw(x.astype(self.dtype, copy=False))
        pads = self._pads(*x_nchw.shape[2:])
        x_padded = np.ascontiguousarray(self._pad(x_nchw, pads))   # made contiguous once, for both passes
        if x_padded.shape[2] < self.kernel_size[0] or x_padded.shape[3] < self.kernel_size[1]:
            raise ValueError(f"Layer {self.name!r}: kernel {self.kernel_size} is larger than the (padded) image "
                             f"{x_padded.shape[2:]}; use padding='same' or a larger input")
        kernel = self.params["kernel"].transpose(3, 2, 0, 1)                  # (F, C, kh, kw)
        z = _kernels.conv2d_forward(x_padded, kernel, self.strides, self.params.get("bias"),
                                    self.scratch)                              # (N, F, OH, OW)
        z = self._from_nchw(z)
        self.cache = Conv2DCache(x_padded, pads, z)
        return z if self._act is None else self._act.forward(z)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        x_padded, pads, z = self.cache
        self._check_dy_shape(dy, z.shape)
        dz = self._to_nchw(dy if self._act is None or skip_activation else self._act.backward(z, dy))
        kernel = self.params["kernel"].transpose(3, 2, 0, 1)
        bias_grad = np.empty(self.filters, dtype=dz.dtype) if self.use_bias else None
        dx_padded, dkernel = _kernels.conv2d_backward(x_padded, kernel, dz, self.strides, self.scratch, input_grad,
                                                      bias_grad)
        self.grads["kernel"] = dkernel.transpose(2, 3, 1, 0)
        if self.use_bias:
            self.grads["bias"] = bias_grad
        if self.regularizers:
            self._add_penalty_gradients()
        return None if dx_padded is None else self._from_nchw(self._unpad(dx_padded, pads))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "activation": _act_name(self._act), "use_bias": self.use_bias}


# --- pooling ----------------------------------------------------------------------------------------

class _Pooling2D(_ImageLayer):
    """What the two pooling layers share: a window without weights, any number of channels."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last",
                 name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self._setup_window(pool_size, strides, padding, data_format, "pool_size")
        self.pool_size = self.window

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        self.input_spec = self._join(None, None, self._split(input_shape)[2])
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


class MaxPoolCache(NamedTuple):
    """MaxPooling2D forward values kept for backward: the NCHW shape of the padded input, the
    ``pads`` (top, bottom, left, right) and where each maximum was, ``argmax`` (N, C, OH, OW)."""
    padded_shape: tuple
    pads: tuple
    argmax: np.ndarray


class MaxPooling2D(_Pooling2D):
    r"""Keeps the largest value of each ``pool_size`` window (strides default to the pool size).

    .. math::
        y_{n,i,j,c} = \max_{p,q}\, x_{n,\,s_h i + p,\,s_w j + q,\,c}, \qquad
        \frac{\partial L}{\partial x} = \delta \text{ at the position of each maximum, 0 elsewhere}

    With ``padding="same"`` the border is padded with :math:`-\infty`, which never wins.
    """
    base_name = "max_pooling2d"

    def call(self, x, training=False):
        x_nchw = self._to_nchw(x)
        pads = self._pads(*x_nchw.shape[2:])
        x_padded = self._pad(x_nchw, pads, value=-np.inf)
        y, argmax = _kernels.max_pool2d_forward(x_padded, self.pool_size, self.strides)
        self.cache = MaxPoolCache(x_padded.shape, pads, argmax)
        return self._from_nchw(y)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        padded_shape, pads, argmax = self.cache
        self._check_dy_shape(dy, self._nchw_to_format(argmax.shape))
        dx = _kernels.max_pool2d_backward(self._to_nchw(dy), argmax, padded_shape, self.pool_size, self.strides)
        return self._from_nchw(self._unpad(dx, pads))


class AvgPoolCache(NamedTuple):
    """AveragePooling2D forward values kept for backward: the NCHW shapes of the padded input and of
    the output, the ``pads`` and, with "same" padding, ``scale`` (OH, OW): window area / real pixels in it."""
    padded_shape: tuple
    output_shape: tuple
    pads: tuple
    scale: object


class AveragePooling2D(_Pooling2D):
    r"""Replaces each ``pool_size`` window by its mean (strides default to the pool size).

    .. math::
        y_{n,i,j,c} = \frac{1}{P_H P_W} \sum_{p,q} x_{n,\,s_h i + p,\,s_w j + q,\,c}, \qquad
        \frac{\partial L}{\partial x_{n,\,s_h i + p,\,s_w j + q,\,c}} \mathrel{+}= \frac{\delta_{n,i,j,c}}{P_H P_W}

    With ``padding="same"``, as in Keras, a border window averages only its real pixels.
    """
    base_name = "average_pooling2d"

    def call(self, x, training=False):
        x_nchw = self._to_nchw(x)
        pads = self._pads(*x_nchw.shape[2:])
        x_padded = self._pad(x_nchw, pads)
        y = _kernels.avg_pool2d_forward(x_padded, self.pool_size, self.strides)
        scale = None
        if any(pads):  # count the real pixels of each window: average-pool a map of ones
            ones = self._pad(np.ones((1, 1) + x_nchw.shape[2:], dtype=y.dtype), pads)
            scale = 1.0 / _kernels.avg_pool2d_forward(ones, self.pool_size, self.strides)[0, 0]
            y = y * scale
        self.cache = AvgPoolCache(x_padded.shape, y.shape, pads, scale)
        return self._from_nchw(y)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        padded_shape, output_shape, pads, scale = self.cache
        self._check_dy_shape(dy, self._nchw_to_format(output_shape))
        dy = self._to_nchw(dy)
        if scale is not None:
            dy = dy * scale
        dx = _kernels.avg_pool2d_backward(dy, padded_shape, self.pool_size, self.strides)
        return self._from_nchw(self._unpad(dx, pads))


# --- Flatten, Dropout, BatchNormalization ----------------------------------------------------------

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


# --- data augmentation -------------------------------------------------------------------------
#
# New, slightly changed training samples on every pass, as Keras's augmentation layers.
#
# The notes list dataset augmentation among the regularisations: flipping, shifting or adding noise
# to the training images shows the network more variety than the data set holds, so it overfits
# less. Each layer changes its input only in training (``forward(x, training=True)``, which
# ``fit`` uses) and is the identity at inference. All three are linear in :math:`x` for the random
# draw of a pass, so backward applies the adjoint of that same draw:
#
# * ``GaussianNoise(stddev)``: :math:`y = x + \varepsilon,\ \varepsilon \sim \mathcal N(0, \sigma^2)`,
#   :math:`\partial L/\partial x = \delta`;
# * ``RandomFlip(mode)``: each image mirrored left-right and/or upside down with probability 1/2;
#   backward mirrors :math:`\delta` the same way;
# * ``RandomTranslation(height_factor, width_factor)``: each image shifted by a whole number of
#   pixels, up to the factor times its height and width, the uncovered border filled with
#   ``fill_value``; backward shifts :math:`\delta` back (what falls off the edge gets no gradient).
#
# Images are (N, H, W, C), channels last, as Keras. ``seed`` fixes the draws; the generator is ``layer.rng``.


class _Augmentation(Layer):
    """What the three share: a seeded generator, the identity at inference, no weights."""
    base_name = "augmentation"

    def __init__(self, seed=None, name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self.seed = seed
        self.rng = initializers.rng_for(seed)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class NoiseCache(NamedTuple):
    """GaussianNoise forward values kept for backward: the input ``shape``."""
    shape: tuple


class GaussianNoise(_Augmentation):
    r"""Adds :math:`\mathcal N(0, \sigma^2)` noise to every input value in training.

    .. math::
        y = x + \varepsilon, \quad \varepsilon_i \sim \mathcal N(0, \sigma^2), \qquad \frac{\partial L}{\partial x} = \delta
    """
    base_name = "gaussian_noise"

    def __init__(self, stddev, seed=None, name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(seed, name, input_shape, trainable, dtype)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float, np.floating)) or not stddev >= 0:
            raise ValueError(f"GaussianNoise stddev must be a number >= 0, got {stddev!r}")
        self.stddev = float(stddev)

    def call(self, x, training=False):
        self.cache = NoiseCache(x.shape)
        if not training or self.stddev == 0:
            return x
        return x + self.rng.normal(0.0, self.stddev, size=x.shape).astype(x.dtype)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        self._check_dy_shape(dy, self.cache.shape)
        return dy

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class FlipCache(NamedTuple):
    """RandomFlip forward values kept for backward: which images were mirrored left-right
    (``horizontal`` (N,) bools) and upside down (``vertical``); ``None`` at inference."""
    horizontal: object
    vertical: object
    shape: tuple


def _flip(images, horizontal, vertical):
    """A copy of ``images`` (N, H, W, C) with the chosen ones mirrored (its own inverse and adjoint)."""
    out = images.copy()
    out[horizontal] = out[horizontal][:, :, ::-1]
    out[vertical] = out[vertical][:, ::-1]
    return out


class RandomFlip(_Augmentation):
    r"""Mirrors each image left-right and/or upside down, each with probability 1/2, in training.

    ``mode``: "horizontal" (left-right), "vertical" (upside down) or "horizontal_and_vertical"
    (Keras's default). Backward mirrors :math:`\delta` as the forward pass mirrored the image.
    """
    base_name = "random_flip"
    input_ndim = 3
    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, name=None, input_shape=None, trainable=True,
                 dtype="float64"):
        super().__init__(seed, name, input_shape, trainable, dtype)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip mode must be one of {', '.join(self.MODES)}; got {mode!r}")
        self.mode = mode

    def call(self, x, training=False):
        if not training:
            self.cache = FlipCache(None, None, x.shape)
            return x
        n = len(x)
        horizontal = self.rng.random(n) < 0.5 if "horizontal" in self.mode else np.zeros(n, bool)
        vertical = self.rng.random(n) < 0.5 if "vertical" in self.mode else np.zeros(n, bool)
        self.cache = FlipCache(horizontal, vertical, x.shape)
        return _flip(x, horizontal, vertical)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        horizontal, vertical, shape = self.cache
        self._check_dy_shape(dy, shape)
        return dy if horizontal is None else _flip(dy, horizontal, vertical)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class ShiftCache(NamedTuple):
    """RandomTranslation forward values kept for backward: each image's shift in pixels, ``rows``
    and ``cols`` (N,) ints (``None`` at inference), and the input ``shape``."""
    rows: object
    cols: object
    shape: tuple


def _shift(images, rows, cols, fill_value=0.0):
    """Each image (H, W, C) of ``images`` moved down by ``rows[n]`` and right by ``cols[n]`` pixels
    (negative: up, left); the uncovered border takes ``fill_value``."""
    out = np.full_like(images, fill_value)
    height, width = images.shape[1:3]
    for n, (dr, dc) in enumerate(zip(rows, cols)):
        if abs(dr) < height and abs(dc) < width:
            out[n, max(dr, 0):height + min(dr, 0), max(dc, 0):width + min(dc, 0)] = \
                images[n, max(-dr, 0):height + min(-dr, 0), max(-dc, 0):width + min(-dc, 0)]
    return out


class RandomTranslation(_Augmentation):
    r"""Shifts each image by a random whole number of pixels in training, as Keras's
    ``RandomTranslation(height_factor, width_factor)`` (with ``fill_mode="constant"``).

    Each image moves by :math:`d_r \in [-\operatorname{round}(f_h H), \operatorname{round}(f_h H)]` rows and
    :math:`d_c \in [-\operatorname{round}(f_w W), \operatorname{round}(f_w W)]` columns, drawn uniformly;
    the border it leaves takes ``fill_value``. Backward moves :math:`\delta` back by :math:`(-d_r, -d_c)`
    with zeros where nothing came from: the adjoint of the shift.
    """
    base_name = "random_translation"
    input_ndim = 3

    def __init__(self, height_factor, width_factor, fill_value=0.0, seed=None, name=None, input_shape=None,
                 trainable=True, dtype="float64"):
        super().__init__(seed, name, input_shape, trainable, dtype)
        for what, factor in (("height_factor", height_factor), ("width_factor", width_factor)):
            if isinstance(factor, bool) or not isinstance(factor, (int, float, np.floating)) or not 0 <= factor <= 1:
                raise ValueError(f"RandomTranslation {what} must be a fraction of the image in [0, 1], got {factor!r}")
        self.height_factor, self.width_factor = float(height_factor), float(width_factor)
        self.fill_value = float(fill_value)

    def call(self, x, training=False):
        if not training:
            self.cache = ShiftCache(None, None, x.shape)
            return x
        most_rows = int(round(self.height_factor * x.shape[1]))
        most_cols = int(round(self.width_factor * x.shape[2]))
        rows = self.rng.integers(-most_rows, most_rows + 1, size=len(x))
        cols = self.rng.integers(-most_cols, most_cols + 1, size=len(x))
        self.cache = ShiftCache(rows, cols, x.shape)
        return _shift(x, rows, cols, self.fill_value)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        rows, cols, shape = self.cache
        self._check_dy_shape(dy, shape)
        return dy if rows is None else _shift(dy, -rows, -cols, 0.0)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor,
                "fill_value": self.fill_value}


#: Layer classes by name (case-insensitive in ``get``), e.g. to rebuild a model from its configs.
LAYERS = {cls.__name__.lower(): cls for cls in (Dense, Activation, Lambda, Conv2D, MaxPooling2D, AveragePooling2D,
                                                 Flatten, Dropout, BatchNormalization, Normalization, GaussianNoise,
                                                 RandomFlip, RandomTranslation)}


def get(identifier):
    """Return the layer class named ``identifier`` ("Dense", "conv2d", ...); a class passes through."""
    return lookup(LAYERS, identifier, "layer")
