r"""What every layer shares: the ``Layer`` base class with its checks and bookkeeping, automatic
names, ``Input``, and the activation and weight settings of the layers that have them.

The contract itself is described in :mod:`nnlib.layers`.
"""
from typing import NamedTuple

import numpy as np

from nnlib import activations, initializers, regularizers
from nnlib._checks import as_float_array

_name_counts = {}


def reset_name_counters():
    """Restart automatic names ("dense", "dense_1", ...), e.g. to make summaries reproducible in tests."""
    _name_counts.clear()


def auto_name(base):
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
        self.name = name if name is not None else auto_name(self.base_name)
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


def _act_name(act):
    return "linear" if act is None else act.name
