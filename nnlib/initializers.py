r"""Weight initializers: functions ``f(shape, rng) -> array``, with Keras's names and defaults.

A layer's weights start random so that its units differ, and with a scale that keeps the variance of
the signal about the same from layer to layer (too large: activations explode; too small: they die
out). The scale depends on the fans of the weight tensor:

.. math::
    \text{Dense kernel } (n_\text{in}, n_\text{out}):\quad
    \text{fan\_in} = n_\text{in},\ \text{fan\_out} = n_\text{out}

    \text{Conv2D kernel } (k_h, k_w, c_\text{in}, c_\text{out}):\quad
    \text{fan\_in} = k_h k_w c_\text{in},\ \text{fan\_out} = k_h k_w c_\text{out}

The lecture notes write it as :math:`W = a \cdot \mathcal{N}(0, 1)` with :math:`a = 1/\sqrt{n_\text{in}}`
(Xavier) or :math:`a = 1/\sqrt{n_\text{in}/2}` (He, for ReLU). Keras's Glorot variants average the two
fans; all of them are listed in ``LATEX``.

Each initializer takes ``shape`` (a tuple) and ``rng`` (a ``numpy.random.Generator``; ``None`` uses
the global generator of ``set_random_seed``) and returns a float64 array (pass ``dtype=`` for another).
Layers take a ``seed``: ``rng_for(seed)`` turns it into a generator.
"""
import math

import numpy as np

from nnlib._registry import lookup

# Standard deviation of a standard normal truncated to [-2, 2]: Keras divides by it so that the
# truncated draws still have the variance the formula asks for.
_TRUNCATED_STD = 0.87962566103423978

_global_rng = None


def set_random_seed(seed):
    """Seed the global generator that layers without a ``seed`` draw from (as ``keras.utils.set_random_seed``)."""
    global _global_rng
    _global_rng = np.random.default_rng(seed)


def rng_for(seed=None):
    """A ``numpy.random.Generator``: a fresh one from an int ``seed``, the global one for ``None``,
    ``seed`` itself if it is already a Generator."""
    global _global_rng
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None:
        return np.random.default_rng(seed)
    if _global_rng is None:
        _global_rng = np.random.default_rng()
    return _global_rng


def compute_fans(shape):
    r"""Return ``(fan_in, fan_out)`` of a weight tensor, as Keras computes them.

    A vector (bias) has both fans equal to its length; a matrix ``(n_in, n_out)`` has ``n_in`` and
    ``n_out``; a convolution kernel ``(..., c_in, c_out)`` multiplies both by the receptive field size
    (the product of the leading axes, :math:`k_h k_w` in 2-D).
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(shape)
    if any(not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
        raise ValueError(f"shape must be a tuple of non-negative integers, got {shape!r}")
    return tuple(int(s) for s in shape)


def _truncated_normal(shape, rng, stddev):
    """Normal(0, stddev^2) draws, redrawing any beyond two standard deviations (as Keras)."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * stddev


def zeros(shape, rng=None, dtype="float64"):
    r"""All zeros: the Keras default for biases (the random kernel already breaks the symmetry).

    .. math::
        W = 0
    """
    return np.zeros(_shape(shape), dtype=dtype)


def ones(shape, rng=None, dtype="float64"):
    r"""All ones: the default for BatchNormalization's scale :math:`\gamma` and moving variance.

    .. math::
        W = 1
    """
    return np.ones(_shape(shape), dtype=dtype)


def random_normal(shape, rng=None, mean=0.0, stddev=0.05, dtype="float64"):
    r"""Normal draws with a fixed scale (Keras ``RandomNormal`` defaults: mean 0, stddev 0.05).

    .. math::
        W_{ij} \sim \mathcal{N}(\mu, \sigma^2), \quad \mu = 0,\ \sigma = 0.05
    """
    shape = _shape(shape)
    return (mean + stddev * rng_for(rng).standard_normal(shape)).astype(dtype)


def glorot_uniform(shape, rng=None, dtype="float64"):
    r"""Glorot (Xavier) uniform, the Keras default for kernels: variance :math:`2/(\text{fan\_in} + \text{fan\_out})`.

    .. math::
        W_{ij} \sim U(-l, l), \quad l = \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}
    """
    shape = _shape(shape)
    fan_in, fan_out = compute_fans(shape)
    limit = math.sqrt(6.0 / max(1, fan_in + fan_out))
    return rng_for(rng).uniform(-limit, limit, shape).astype(dtype)


def glorot_normal(shape, rng=None, dtype="float64"):
    r"""Glorot (Xavier) normal; as Keras, a normal truncated at two standard deviations and rescaled
    so that the variance is still :math:`2/(\text{fan\_in} + \text{fan\_out})`.

    .. math::
        W_{ij} \sim \mathcal{N}_{[-2\sigma, 2\sigma]}(0, \sigma^2), \quad \sigma = \frac{1}{0.8796}\sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}
    """
    shape = _shape(shape)
    fan_in, fan_out = compute_fans(shape)
    stddev = math.sqrt(2.0 / max(1, fan_in + fan_out)) / _TRUNCATED_STD
    return _truncated_normal(shape, rng_for(rng), stddev).astype(dtype)


def he_normal(shape, rng=None, dtype="float64"):
    r"""He (Kaiming) normal, for ReLU layers; as Keras, truncated at two standard deviations and
    rescaled so that the variance is :math:`2/\text{fan\_in}`.

    .. math::
        W_{ij} \sim \mathcal{N}_{[-2\sigma, 2\sigma]}(0, \sigma^2), \quad \sigma = \frac{1}{0.8796}\sqrt{\frac{2}{\text{fan\_in}}}
    """
    shape = _shape(shape)
    fan_in, _ = compute_fans(shape)
    stddev = math.sqrt(2.0 / max(1, fan_in)) / _TRUNCATED_STD
    return _truncated_normal(shape, rng_for(rng), stddev).astype(dtype)


def he_uniform(shape, rng=None, dtype="float64"):
    r"""He (Kaiming) uniform, for ReLU layers: variance :math:`2/\text{fan\_in}`.

    .. math::
        W_{ij} \sim U(-l, l), \quad l = \sqrt{\frac{6}{\text{fan\_in}}}
    """
    shape = _shape(shape)
    fan_in, _ = compute_fans(shape)
    limit = math.sqrt(6.0 / max(1, fan_in))
    return rng_for(rng).uniform(-limit, limit, shape).astype(dtype)


INITIALIZERS = {
    "zeros": zeros,
    "ones": ones,
    "random_normal": random_normal,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
}
# Other names Keras and the lecture notes use for the same functions.
INITIALIZERS.update({
    "zero": zeros,
    "one": ones,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
})

#: The variance each random initializer aims at, as a function of (fan_in, fan_out).
VARIANCE = {
    "random_normal": lambda fan_in, fan_out: 0.05 ** 2,
    "glorot_uniform": lambda fan_in, fan_out: 2.0 / (fan_in + fan_out),
    "glorot_normal": lambda fan_in, fan_out: 2.0 / (fan_in + fan_out),
    "he_normal": lambda fan_in, fan_out: 2.0 / fan_in,
    "he_uniform": lambda fan_in, fan_out: 2.0 / fan_in,
}

LATEX = {
    "zeros": r"W = 0",
    "ones": r"W = 1",
    "random_normal": r"W_{ij} \sim \mathcal{N}(0, 0.05^2)",
    "glorot_uniform": r"W_{ij} \sim U\left(-\sqrt{\tfrac{6}{\text{fan\_in} + \text{fan\_out}}},\ \sqrt{\tfrac{6}{\text{fan\_in} + \text{fan\_out}}}\right)",
    "glorot_normal": r"\operatorname{Var}(W_{ij}) = \frac{2}{\text{fan\_in} + \text{fan\_out}}\ \text{(truncated normal)}",
    "he_normal": r"\operatorname{Var}(W_{ij}) = \frac{2}{\text{fan\_in}}\ \text{(truncated normal)}",
    "he_uniform": r"W_{ij} \sim U\left(-\sqrt{\tfrac{6}{\text{fan\_in}}},\ \sqrt{\tfrac{6}{\text{fan\_in}}}\right)",
}


def get(identifier):
    """Return the initializer named ``identifier`` (Keras names, case-insensitive); a callable passes through."""
    return lookup(INITIALIZERS, identifier, "initializer")
