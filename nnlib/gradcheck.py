r"""Numerical gradients by central differences, and the relative error that compares them.

.. math::
    \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h},
    \qquad
    \text{rel\_error}(a, b) = \max_i \frac{|a_i - b_i|}{\max(|a_i| + |b_i|, \text{floor})}

Work in float64: with ``h = 1e-6`` the central difference is accurate to about 1e-9 relative,
so a correct analytic gradient shows a relative error far below 1e-6.
"""
import numpy as np


def numerical_gradient(f, x, h=1e-6):
    """Gradient of the scalar function ``f`` at ``x`` (any shape), by central differences.

    ``x`` is perturbed in place and restored; the result has ``x``'s shape.
    """
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs float64 input for accuracy, got {x.dtype}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = float(f(x))
        x[i] = old - h
        minus = float(f(x))
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_jvp(f, x, upstream, h=1e-6):
    r"""Gradient of :math:`\sum f(x) \odot \text{upstream}` with respect to ``x``.

    This is what a ``backward(upstream)`` of an array-valued ``f`` must return.
    """
    upstream = np.asarray(upstream, dtype=np.float64)
    return numerical_gradient(lambda z: np.sum(f(z) * upstream), x, h)


def rel_error(a, b, floor=1e-8):
    """Largest element-wise relative error between two arrays of the same shape."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error compares arrays of one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def check_layer(layer, x, seed=0, h=1e-6):
    """Compare a built layer's ``backward`` with numerical gradients of input and parameters.

    Uses the scalar ``sum(forward(x) * r)`` for a fixed random ``r``; ``forward`` is called with
    ``training=True`` and the layer must be deterministic for it (seed Dropout's generator first).
    Returns ``{"input": err, "<param name>": err, ...}``: relative errors, each should be < 1e-6.
    """
    x = np.array(x, dtype=np.float64)
    out = layer.forward(x, training=True)
    r = np.random.default_rng(seed).standard_normal(out.shape)
    dx = layer.backward(r)
    analytic = {name: np.array(g) for name, g in layer.grads.items()}

    def scalar(_):
        return np.sum(layer.forward(x, training=True) * r)

    errors = {"input": rel_error(dx, numerical_gradient(scalar, x, h))}
    for name, param in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(scalar, param, h))
    return errors
