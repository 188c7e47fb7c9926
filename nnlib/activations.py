r"""Activation functions :math:`f(x)` and their derivatives :math:`f'(x)`, element by element.

Every activation is a plain function ``f(x, ...)``; its derivative ``f_grad(x, ...)`` takes the
same INPUT ``x`` (not the output), so a layer's backward pass is

.. math::
    \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y} \odot f'(x)

``softmax`` is the exception: each output depends on every input of its row, so instead of a
derivative it has ``softmax_backward(x, dy)``, the Jacobian-vector product. ``maxout`` changes the
shape and has ``maxout_backward(x, dy, num_units)``.

Conventions:

* ``x`` may have any shape; the result has the same shape and dtype (float32 in, float32 out;
  integers become float64). NaN, inf, strings and empty input are rejected with a clear message:
  the decorator ``@_checks_input`` checks ``x`` before the function runs. ``unchecked(f)`` is ``f``
  without that check, for the layers, which apply activations to values they computed themselves.
* At a kink the derivative is not defined; we return the left derivative. So ``relu_grad(0) = 0``,
  ``leaky_relu_grad(0) = alpha``, ``binary_step_grad`` and ``sign_grad`` are 0 everywhere.
* Registries, as scikit-learn and Keras: ``ACTIVATIONS`` (name -> f), ``DERIVATIVES``
  (name -> f'), ``LATEX`` and ``DERIVATIVE_LATEX`` (name -> the formula of the docstring);
  ``get(identifier)`` and ``get_derivative(identifier)`` accept Keras names ("relu", "swish", ...),
  ``None`` (linear, as Keras) and callables.
* An activation of your own (``Dense(8, activation=my_relu)``, as the lecture notes write them) has
  no formula for its derivative here: ``get_derivative`` gives ``numerical_derivative(my_relu)``,
  central differences, after checking that the function works element by element.
"""
import functools
import math
from typing import NamedTuple

import numpy as np

from nnlib._checks import as_float_array
from nnlib._registry import lookup

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _checks_input(func):
    r"""Decorator of the functions below: ``func(x, ...)`` first checks ``x`` (finite real numbers, not
    empty; integers become float64). ``unchecked(func)`` is the function without the check."""
    @functools.wraps(func)
    def checked(x, *args, **kwargs):
        return func(as_float_array(x, "x"), *args, **kwargs)

    checked.checks_input = True
    return checked


def unchecked(func):
    r"""``func`` without its input check (``func.__wrapped__``), for callers whose ``x`` is known to be
    a finite float array: the layers, applying an activation to the :math:`z` they computed. A
    ``functools.partial`` keeps its arguments; any other callable is returned as it is."""
    if isinstance(func, functools.partial):
        return functools.partial(unchecked(func.func), *func.args, **func.keywords)
    return func.__wrapped__ if getattr(func, "checks_input", False) else func


def _like(y, x):
    """Return ``y`` as an array with ``x``'s dtype (NumPy scalars such as ``np.float64`` would widen float32)."""
    return np.asarray(y, dtype=x.dtype)


# --- identity and threshold units -------------------------------------------------------------

@_checks_input
def linear(x):
    r"""Identity (Keras "linear"): the output is the input.

    .. math::
        f(x) = x
    """
    return x.copy()


@_checks_input
def linear_grad(x):
    r"""Derivative of the identity.

    .. math::
        f'(x) = 1
    """
    return np.ones_like(x)


@_checks_input
def binary_step(x):
    r"""Heaviside step, the threshold unit of McCulloch-Pitts and Rosenblatt (1 at :math:`x = 0`).

    .. math::
        f(x) = \begin{cases} 0 & x < 0 \\ 1 & x \ge 0 \end{cases}
    """
    return _like(x >= 0, x)


@_checks_input
def binary_step_grad(x):
    r"""Derivative of the step: 0 everywhere except at 0, where it is undefined (we return 0).

    Gradient descent learns nothing through it; that is why the perceptron has its own rule.

    .. math::
        f'(x) = \begin{cases} 0 & x \ne 0 \\ \text{undefined} & x = 0 \end{cases}
    """
    return np.zeros_like(x)


@_checks_input
def sign(x):
    r"""Sign function (bipolar threshold unit), with :math:`\operatorname{sgn}(0) = 0`.

    .. math::
        f(x) = \operatorname{sgn}(x) = \begin{cases} -1 & x < 0 \\ 0 & x = 0 \\ 1 & x > 0 \end{cases}
    """
    return np.sign(x)


@_checks_input
def sign_grad(x):
    r"""Derivative of the sign function: 0 everywhere (undefined at 0, where we return 0).

    .. math::
        f'(x) = 0 \quad (x \ne 0)
    """
    return np.zeros_like(x)


# --- smooth squashing functions ---------------------------------------------------------------

@_checks_input
def sigmoid(x):
    r"""Logistic sigmoid, computed from :math:`e^{-|x|}` so that no input overflows.

    .. math::
        \sigma(x) = \frac{1}{1 + e^{-x}}
    """
    z = np.exp(-np.abs(x))
    return _like(np.where(x >= 0, 1 / (1 + z), z / (1 + z)), x)


def sigmoid_grad(x):
    r"""Derivative of the sigmoid.

    .. math::
        \sigma'(x) = \sigma(x)\,(1 - \sigma(x))
    """
    s = sigmoid(x)
    return s * (1 - s)


@_checks_input
def tanh(x):
    r"""Hyperbolic tangent.

    .. math::
        \tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}
    """
    return np.tanh(x)


def tanh_grad(x):
    r"""Derivative of tanh.

    .. math::
        \tanh'(x) = 1 - \tanh^2(x)
    """
    t = tanh(x)
    return 1 - t * t


@_checks_input
def arctan(x):
    r"""Inverse tangent, a squashing function with range :math:`(-\pi/2, \pi/2)`.

    .. math::
        f(x) = \tan^{-1}(x)
    """
    return np.arctan(x)


@_checks_input
def arctan_grad(x):
    r"""Derivative of arctan.

    .. math::
        f'(x) = \frac{1}{1 + x^2}
    """
    return 1 / (1 + x * x)


@_checks_input
def softsign(x):
    r"""Softsign, a squashing function that approaches :math:`\pm 1` polynomially.

    .. math::
        f(x) = \frac{x}{1 + |x|}
    """
    return x / (1 + np.abs(x))


@_checks_input
def softsign_grad(x):
    r"""Derivative of softsign.

    .. math::
        f'(x) = \frac{1}{(1 + |x|)^2}
    """
    return 1 / (1 + np.abs(x)) ** 2


@_checks_input
def tanh_shrink(x):
    r"""Tanh shrink.

    .. math::
        f(x) = x - \tanh(x)
    """
    return x - np.tanh(x)


def tanh_shrink_grad(x):
    r"""Derivative of tanh shrink.

    .. math::
        f'(x) = \tanh^2(x)
    """
    t = tanh(x)
    return t * t


@_checks_input
def exponential(x):
    r"""Exponential (Keras "exponential"). It overflows to inf, with NumPy's warning, above about 88.7
    in float32 and 709.8 in float64: that is the function, not a bug to hide.

    .. math::
        f(x) = e^{x}
    """
    return np.exp(x)


def exponential_grad(x):
    r"""Derivative of the exponential.

    .. math::
        f'(x) = e^{x}
    """
    return exponential(x)


# --- the ReLU family --------------------------------------------------------------------------

@_checks_input
def relu(x):
    r"""Rectified linear unit.

    .. math::
        f(x) = \max(0, x)
    """
    return np.maximum(x, 0)


@_checks_input
def relu_grad(x):
    r"""Derivative of ReLU. At :math:`x = 0` it is undefined; we return 0 (the left derivative),
    as TensorFlow and PyTorch do. (The Russian notes' table puts 1 at 0; it never matters in practice.)

    .. math::
        f'(x) = \begin{cases} 0 & x \le 0 \\ 1 & x > 0 \end{cases}
    """
    return _like(x > 0, x)


@_checks_input
def relu_backward(x, dy):
    r"""Backward pass of ReLU in one multiplication by the mask :math:`x > 0` (``x`` is the INPUT).

    The same as ``dy * relu_grad(x)`` without building the float array of the derivative.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y} \odot [x > 0]
    """
    dy = np.asarray(dy)
    return dy * (x > 0) if dy.dtype == x.dtype else dy * _like(x > 0, x)


@_checks_input
def relu6(x):
    r"""ReLU capped at 6 (Keras "relu6"); the building block of hard sigmoid and hard swish.

    .. math::
        f(x) = \min(\max(0, x), 6)
    """
    return np.clip(x, 0, 6)


@_checks_input
def relu6_grad(x):
    r"""Derivative of ReLU6 (0 at the kinks 0 and 6).

    .. math::
        f'(x) = \begin{cases} 1 & 0 < x < 6 \\ 0 & \text{otherwise} \end{cases}
    """
    return _like((x > 0) & (x < 6), x)


@_checks_input
def leaky_relu(x, alpha=0.3):
    r"""Leaky ReLU: a small slope :math:`\alpha` for negative inputs, so the gradient never dies.

    ``alpha=0.3`` is the default of tf.keras's ``LeakyReLU`` layer (Keras 3 renames it
    ``negative_slope``; the function ``keras.activations.leaky_relu`` uses 0.2, PyTorch 0.01).

    .. math::
        f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}
    """
    return np.where(x > 0, x, alpha * x).astype(x.dtype, copy=False)


@_checks_input
def leaky_relu_grad(x, alpha=0.3):
    r"""Derivative of leaky ReLU (we return :math:`\alpha` at 0).

    .. math::
        f'(x) = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0 \end{cases}
    """
    return np.where(x > 0, 1, alpha).astype(x.dtype)


@_checks_input
def prelu(x, alpha=0.25):
    r"""Parametric ReLU: leaky ReLU whose slope :math:`\alpha` is learned, one per feature.

    ``alpha`` is a float or an array that broadcasts against ``x`` (the PReLU layer keeps one of
    shape ``x.shape[1:]``). The default 0.25 is PyTorch's initial value (Keras starts from 0).

    .. math::
        f(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}
    """
    alpha = np.asarray(alpha, dtype=x.dtype)
    return np.where(x > 0, x, alpha * x)


@_checks_input
def prelu_grad(x, alpha=0.25):
    r"""Derivative of PReLU with respect to its input :math:`x` (shape of ``x``).

    .. math::
        \frac{\partial f}{\partial x} = \begin{cases} 1 & x > 0 \\ \alpha & x \le 0 \end{cases}
    """
    alpha = np.asarray(alpha, dtype=x.dtype)
    return np.where(x > 0, 1, alpha).astype(x.dtype, copy=False)


@_checks_input
def prelu_grad_alpha(x):
    r"""Derivative of PReLU with respect to its slope :math:`\alpha`, element by element (shape of ``x``).

    A layer sums ``dy * prelu_grad_alpha(x)`` over the batch axis to get :math:`\partial L/\partial\alpha`.

    .. math::
        \frac{\partial f}{\partial \alpha} = \begin{cases} 0 & x > 0 \\ x & x \le 0 \end{cases}
    """
    return np.where(x > 0, 0, x).astype(x.dtype, copy=False)


class RReLUOutput(NamedTuple):
    """What ``rrelu_forward`` returns: the output ``y`` and the ``slope`` used for each element (both shaped like ``x``)."""
    y: np.ndarray
    slope: np.ndarray


@_checks_input
def rrelu_forward(x, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    r"""Randomized leaky ReLU: in training, a slope :math:`a \sim U(l, u)` is drawn for every element.

    In training, ``slope`` is drawn independently per element from ``rng`` (a NumPy ``Generator``
    or a seed; the same seed gives the same slopes). At inference the slope is the mean
    :math:`(l + u)/2`. Keep the returned ``slope`` for ``rrelu_backward(x, dy, slope)``.
    Defaults :math:`l = 1/8`, :math:`u = 1/3` are PyTorch's.

    .. math::
        f(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}, \quad a \sim U(l, u)
    """
    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu needs 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if training:
        slope = np.random.default_rng(rng).uniform(lower, upper, size=x.shape).astype(x.dtype)
    else:
        slope = np.full_like(x, (lower + upper) / 2)
    return RReLUOutput(np.where(x > 0, x, slope * x), slope)


def rrelu(x, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    r"""Randomized leaky ReLU, the output only (see ``rrelu_forward``); inference uses the mean slope.

    .. math::
        f(x) = \begin{cases} x & x > 0 \\ a x & x \le 0 \end{cases}, \quad a \sim U(l, u)
    """
    return rrelu_forward(x, lower, upper, training, rng).y


@_checks_input
def rrelu_grad(x, lower=1 / 8, upper=1 / 3):
    r"""Derivative of RReLU at inference, where the slope is the mean :math:`(l + u)/2`.

    .. math::
        f'(x) = \begin{cases} 1 & x > 0 \\ \frac{l + u}{2} & x \le 0 \end{cases}
    """
    return np.where(x > 0, 1, (lower + upper) / 2).astype(x.dtype)


@_checks_input
def rrelu_backward(x, dy, slope):
    r"""Backward pass of RReLU with the ``slope`` that ``rrelu_forward`` returned (training or not).

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial y} \odot \begin{cases} 1 & x > 0 \\ a & x \le 0 \end{cases}
    """
    dy = as_float_array(dy, "dy")
    if dy.shape != x.shape or np.shape(slope) != x.shape:
        raise ValueError(f"rrelu_backward: x has shape {x.shape}, dy {dy.shape} and slope {np.shape(slope)}; "
                         "all three must match")
    return dy * np.where(x > 0, 1, slope)


@_checks_input
def elu(x, alpha=1.0):
    r"""Exponential linear unit (no overflow: the exponential only sees :math:`\min(x, 0)`).

    .. math::
        f(x) = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}
    """
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


@_checks_input
def elu_grad(x, alpha=1.0):
    r"""Derivative of ELU; for :math:`x \le 0` it equals :math:`f(x) + \alpha`, as the Russian notes write it.

    .. math::
        f'(x) = \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0 \end{cases}
    """
    return np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)


def selu(x):
    r"""Scaled ELU with Keras's constants :math:`\alpha \approx 1.6733`, :math:`\lambda \approx 1.0507`
    (``SELU_ALPHA``, ``SELU_SCALE``): they keep activations at mean 0 and variance 1.

    .. math::
        f(x) = \lambda \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}
    """
    return SELU_SCALE * elu(x, SELU_ALPHA)


def selu_grad(x):
    r"""Derivative of SELU.

    .. math::
        f'(x) = \lambda \begin{cases} 1 & x > 0 \\ \alpha e^{x} & x \le 0 \end{cases}
    """
    return SELU_SCALE * elu_grad(x, SELU_ALPHA)


@_checks_input
def gelu(x, approximate=False):
    r"""Gaussian error linear unit: :math:`x` times the standard normal CDF :math:`\Phi(x)`.

    .. math::
        \operatorname{GELU}(x) = x\,\Phi(x) = \frac{x}{2}\left(1 + \operatorname{erf}\left(\frac{x}{\sqrt{2}}\right)\right)

    ``approximate=True`` gives the tanh form (as Keras and the Ukrainian notes' table). Both are
    computed without cancellation for negative :math:`x`: :math:`1 + \operatorname{erf}(x/\sqrt{2})`
    as :math:`\operatorname{erfc}(-x/\sqrt{2})` and :math:`1 + \tanh u` as :math:`2\sigma(2u)`.

    .. math::
        \operatorname{GELU}(x) \approx \frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)
    """
    if approximate:
        return x * sigmoid(2 * _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x ** 3))
    from scipy.special import erfc  # imported here: scipy is slow to import
    return _like(0.5 * x * erfc(-x / math.sqrt(2.0)), x)


@_checks_input
def gelu_grad(x, approximate=False):
    r"""Derivative of GELU, with :math:`\varphi` the standard normal density (``approximate=True``:
    the derivative of the tanh form).

    .. math::
        \operatorname{GELU}'(x) = \Phi(x) + x\,\varphi(x), \quad \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}}
    """
    if approximate:
        s = sigmoid(2 * _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x ** 3))  # s = (1 + tanh u) / 2
        return s + 2 * x * s * (1 - s) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)
    from scipy.special import erfc
    cdf = 0.5 * erfc(-x / math.sqrt(2.0))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return _like(cdf + x * pdf, x)


@_checks_input
def swish(x):
    r"""Swish, also called SiLU (Keras has both names).

    .. math::
        f(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}}
    """
    return x * sigmoid(x)


@_checks_input
def swish_grad(x):
    r"""Derivative of swish.

    .. math::
        f'(x) = \sigma(x)\,\bigl(1 + x\,(1 - \sigma(x))\bigr)
    """
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


silu = swish
silu_grad = swish_grad


@_checks_input
def softplus(x):
    r"""Softplus, a smooth ReLU; computed as ``np.logaddexp(0, x)`` so that it never overflows.

    .. math::
        f(x) = \ln(1 + e^{x})
    """
    return np.logaddexp(0, x)


def softplus_grad(x):
    r"""Derivative of softplus: the sigmoid.

    .. math::
        f'(x) = \frac{1}{1 + e^{-x}}
    """
    return sigmoid(x)


@_checks_input
def mish(x):
    r"""Mish.

    .. math::
        f(x) = x \tanh\bigl(\ln(1 + e^{x})\bigr)
    """
    return x * np.tanh(softplus(x))


@_checks_input
def mish_grad(x):
    r"""Derivative of mish, with :math:`s = \ln(1 + e^{x})`.

    .. math::
        f'(x) = \tanh(s) + x\,\bigl(1 - \tanh^2(s)\bigr)\,\sigma(x)
    """
    t = np.tanh(softplus(x))
    return t + x * (1 - t * t) * sigmoid(x)


# --- piecewise-linear "hard" functions and shrinkage ------------------------------------------

@_checks_input
def hard_sigmoid(x):
    r"""Hard sigmoid as Keras 3 defines it (Keras 2 used :math:`0.2x + 0.5`, clipped).

    .. math::
        f(x) = \frac{\operatorname{ReLU6}(x + 3)}{6} = \begin{cases} 0 & x \le -3 \\ \frac{x}{6} + \frac{1}{2} & -3 < x < 3 \\ 1 & x \ge 3 \end{cases}
    """
    return np.clip(x + 3, 0, 6) / 6


@_checks_input
def hard_sigmoid_grad(x):
    r"""Derivative of hard sigmoid (0 at the kinks).

    .. math::
        f'(x) = \begin{cases} \frac{1}{6} & -3 < x < 3 \\ 0 & \text{otherwise} \end{cases}
    """
    return np.where((x > -3) & (x < 3), 1 / 6, 0).astype(x.dtype)


@_checks_input
def hard_swish(x):
    r"""Hard swish (Keras 3 "hard_silu"), the cheap swish of MobileNetV3.

    .. math::
        f(x) = x\,\frac{\operatorname{ReLU6}(x + 3)}{6} = \begin{cases} 0 & x \le -3 \\ \frac{x(x + 3)}{6} & -3 < x < 3 \\ x & x \ge 3 \end{cases}
    """
    return x * np.clip(x + 3, 0, 6) / 6


@_checks_input
def hard_swish_grad(x):
    r"""Derivative of hard swish (left derivative at the kinks).

    .. math::
        f'(x) = \begin{cases} 0 & x \le -3 \\ \frac{2x + 3}{6} & -3 < x < 3 \\ 1 & x \ge 3 \end{cases}
    """
    return np.where(x <= -3, 0, np.where(x >= 3, 1, (2 * x + 3) / 6)).astype(x.dtype, copy=False)


@_checks_input
def hard_tanh(x, min_val=-1.0, max_val=1.0):
    r"""Hard tanh: the identity clipped to :math:`[a, b]` (default :math:`[-1, 1]`, as PyTorch).

    .. math::
        f(x) = \begin{cases} a & x \le a \\ x & a < x < b \\ b & x \ge b \end{cases}
    """
    return np.clip(x, min_val, max_val).astype(x.dtype, copy=False)


@_checks_input
def hard_tanh_grad(x, min_val=-1.0, max_val=1.0):
    r"""Derivative of hard tanh (0 at the kinks).

    .. math::
        f'(x) = \begin{cases} 1 & a < x < b \\ 0 & \text{otherwise} \end{cases}
    """
    return _like((x > min_val) & (x < max_val), x)


@_checks_input
def soft_shrink(x, lambd=0.5):
    r"""Soft shrinkage (soft thresholding): moves every value :math:`\lambda` towards 0.

    .. math::
        f(x) = \begin{cases} x - \lambda & x > \lambda \\ x + \lambda & x < -\lambda \\ 0 & \text{otherwise} \end{cases}
    """
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)).astype(x.dtype, copy=False)


@_checks_input
def soft_shrink_grad(x, lambd=0.5):
    r"""Derivative of soft shrinkage (0 at :math:`\pm\lambda`).

    .. math::
        f'(x) = \begin{cases} 1 & |x| > \lambda \\ 0 & \text{otherwise} \end{cases}
    """
    return _like(np.abs(x) > lambd, x)


@_checks_input
def hard_shrink(x, lambd=0.5):
    r"""Hard shrinkage: values within :math:`\lambda` of 0 become 0, the others are kept.

    .. math::
        f(x) = \begin{cases} x & |x| > \lambda \\ 0 & \text{otherwise} \end{cases}
    """
    return np.where(np.abs(x) > lambd, x, 0).astype(x.dtype, copy=False)


@_checks_input
def hard_shrink_grad(x, lambd=0.5):
    r"""Derivative of hard shrinkage (undefined at :math:`\pm\lambda`, where we return 0).

    .. math::
        f'(x) = \begin{cases} 1 & |x| > \lambda \\ 0 & \text{otherwise} \end{cases}
    """
    return _like(np.abs(x) > lambd, x)


# --- functions of a whole axis: softmax and maxout ----------------------------------------------

@_checks_input
def softmax(x, axis=-1):
    r"""Softmax along ``axis``: turns scores into probabilities that sum to 1.

    The maximum is subtracted first (it cancels out), so large scores do not overflow.

    .. math::
        \operatorname{softmax}(x)_i = \frac{e^{x_i}}{\sum_j e^{x_j}} = \frac{e^{x_i - \max_k x_k}}{\sum_j e^{x_j - \max_k x_k}}
    """
    e = x - x.max(axis=axis, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def softmax_backward(x, dy, axis=-1):
    r"""Backward pass of softmax: the Jacobian-vector product, without building the Jacobian.

    With :math:`y = \operatorname{softmax}(x)` and :math:`\partial y_i / \partial x_j = y_i(\delta_{ij} - y_j)`;
    ``x`` is the INPUT of softmax, ``dy`` has its shape:

    .. math::
        \frac{\partial L}{\partial x_j} = y_j \left(\frac{\partial L}{\partial y_j} - \sum_i \frac{\partial L}{\partial y_i}\, y_i\right)
    """
    y = softmax(x, axis=axis)
    dy = as_float_array(dy, "dy")
    if dy.shape != y.shape:
        raise ValueError(f"softmax_backward: dy has shape {dy.shape} but x has shape {y.shape}; they must match")
    return y * (dy - np.sum(dy * y, axis=axis, keepdims=True))


def _maxout_groups(x, num_units):
    """View ``x`` of shape (..., d) as (..., num_units, d // num_units)."""
    if isinstance(num_units, bool) or not isinstance(num_units, (int, np.integer)) or num_units < 1:
        raise ValueError(f"maxout: num_units must be a positive integer, got {num_units!r}")
    d = x.shape[-1]
    if d % num_units:
        raise ValueError(f"maxout: the last axis of x has size {d}, which is not a multiple of num_units={num_units}")
    return x.reshape(*x.shape[:-1], num_units, d // num_units)


def maxout(x, num_units):
    r"""Maxout: split the last axis (size :math:`d = m k`) into ``num_units`` :math:`m` consecutive
    groups of :math:`k` and keep the maximum of each group. ``x`` (..., d) -> (..., m).

    Applied to :math:`k` affine maps :math:`z_j = w_j^T x + b_j`, this is the notes' formula.

    .. math::
        f(z)_i = \max_{j = 1..k} z_{i,j}, \qquad \text{e.g.}\ \max(w_1^T x + b_1,\; w_2^T x + b_2)
    """
    x = as_float_array(x, "x", min_ndim=1)
    return _maxout_groups(x, num_units).max(axis=-1)


def maxout_backward(x, dy, num_units):
    r"""Backward pass of maxout: each group's gradient goes to its arg-max (the first one on ties).

    ``x`` (..., d) is the input, ``dy`` (..., num_units) the gradient of the output; returns (..., d).

    .. math::
        \frac{\partial L}{\partial z_{i,j}} = \begin{cases} \frac{\partial L}{\partial f_i} & j = \arg\max_{j'} z_{i,j'} \\ 0 & \text{otherwise} \end{cases}
    """
    x = as_float_array(x, "x", min_ndim=1)
    groups = _maxout_groups(x, num_units)
    dy = as_float_array(dy, "dy")
    if dy.shape != groups.shape[:-1]:
        raise ValueError(f"maxout_backward: dy has shape {dy.shape}, expected {groups.shape[:-1]} "
                         f"(the output shape of maxout for x of shape {x.shape})")
    dx = np.zeros(groups.shape, dtype=np.result_type(x, dy))
    winners = np.argmax(groups, axis=-1)[..., None]
    np.put_along_axis(dx, winners, dy[..., None], axis=-1)
    return dx.reshape(x.shape)


# --- registries -------------------------------------------------------------------------------

_PAIRS = {
    "linear": (linear, linear_grad),
    "binary_step": (binary_step, binary_step_grad),
    "sign": (sign, sign_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "arctan": (arctan, arctan_grad),
    "softsign": (softsign, softsign_grad),
    "tanh_shrink": (tanh_shrink, tanh_shrink_grad),
    "exponential": (exponential, exponential_grad),
    "relu": (relu, relu_grad),
    "relu6": (relu6, relu6_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "prelu": (prelu, prelu_grad),
    "rrelu": (rrelu, rrelu_grad),
    "elu": (elu, elu_grad),
    "selu": (selu, selu_grad),
    "gelu": (gelu, gelu_grad),
    "swish": (swish, swish_grad),
    "softplus": (softplus, softplus_grad),
    "mish": (mish, mish_grad),
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_grad),
    "hard_swish": (hard_swish, hard_swish_grad),
    "hard_tanh": (hard_tanh, hard_tanh_grad),
    "soft_shrink": (soft_shrink, soft_shrink_grad),
    "hard_shrink": (hard_shrink, hard_shrink_grad),
}

#: Other names for the same functions (Keras's "silu" and "hard_silu", textbook names).
ALIASES = {
    "identity": "linear",
    "heaviside": "binary_step",
    "step": "binary_step",
    "logistic": "sigmoid",
    "silu": "swish",
    "hard_silu": "hard_swish",
}


def _formula(func):
    """The LaTeX of the first ``.. math::`` block of ``func``'s docstring, joined into one line."""
    lines = func.__doc__.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == ".. math::") + 1
    block = []
    for line in lines[start:]:
        if line.strip():
            block.append(line.strip())
        elif block:
            break
    return " ".join(block)


ACTIVATIONS = {name: f for name, (f, _) in _PAIRS.items()}
ACTIVATIONS["softmax"] = softmax
DERIVATIVES = {name: grad for name, (_, grad) in _PAIRS.items()}
for _alias, _target in ALIASES.items():
    ACTIVATIONS[_alias] = ACTIVATIONS[_target]
    DERIVATIVES[_alias] = DERIVATIVES[_target]

LATEX = {name: _formula(f) for name, f in ACTIVATIONS.items()}
LATEX["maxout"] = _formula(maxout)
DERIVATIVE_LATEX = {name: _formula(grad) for name, grad in DERIVATIVES.items()}

_DERIVATIVE_OF = {f: grad for f, grad in _PAIRS.values()}
_NOT_ELEMENTWISE = ("The derivative of {name} is not element-wise (each output depends on the whole row): "
                    "use {name}_backward(x, dy, ...) or get_backward({name!r}).")


def check_elementwise(function, shape=(1, 8)):
    """Raise ``ValueError`` unless ``function`` works element by element on NumPy arrays of ``shape``
    (a batch included), as an activation must. On a probe of distinct values around 0, each output may
    depend only on its own input: reversing the samples reverses the output, the first sample alone gives
    the same output as in the batch, and changing one value (the smallest, the largest and up to six
    others, in turn) moves no other output."""
    name = getattr(function, "__name__", repr(function))
    size = math.prod(shape)
    probe = np.linspace(-2.5, 3.0, size).reshape(shape)
    positions = sorted({0, size - 1, *np.linspace(0, size - 1, 8).astype(int).tolist()})

    def nudged(k):
        changed = probe.copy().reshape(-1)
        changed[k] += 0.5
        return changed.reshape(shape)

    try:
        with np.errstate(all="ignore"):
            out = np.asarray(function(probe.copy()), dtype=np.float64)
            flipped = np.asarray(function(np.flip(probe, axis=0).copy()), dtype=np.float64)   # the samples' order
            moved = [np.asarray(function(nudged(k)), dtype=np.float64) for k in positions]
            first = np.asarray(function(probe[:1].copy()), dtype=np.float64)   # a batch of one sample
    except Exception as exc:
        raise ValueError(f"the custom activation {name!r} failed on a NumPy array of shape {shape}: "
                         f"{type(exc).__name__}: {exc}. It must take and return NumPy arrays: write it with NumPy "
                         "operations, e.g. np.maximum(x, 0.0) or np.where(x > 0, x, 0.0), not if/else") from None
    if (out.shape != shape or flipped.shape != shape or any(m.shape != shape for m in moved)
            or first.shape != (1, *shape[1:]) or not np.allclose(first, out[:1], equal_nan=True)
            or not np.allclose(flipped, np.flip(out, axis=0), equal_nan=True)
            or any(not np.allclose(np.delete(m.reshape(-1), k), np.delete(out.reshape(-1), k), equal_nan=True)
                   for k, m in zip(positions, moved))):
        raise ValueError(f"the custom activation {name!r} is not element-wise (an output depends on other inputs, "
                         "or the shape changes), so nnlib cannot use it as an activation; write a layer with its "
                         "own backward instead")


def numerical_derivative(function, check=True):
    r"""The derivative of your own element-wise activation ``function``, by central differences:

    .. math::
        f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}, \qquad h = 10^{-5} \max(1, |x|)

    computed in float64 (error about :math:`10^{-10}` where :math:`f` is smooth; at a kink, such as
    :math:`|x|` at 0, the mean of the two one-sided slopes) and returned in ``x``'s dtype.
    ``function`` must work element by element on NumPy arrays (each output from its own input):
    :func:`check_elementwise` checks it on a probe at once (``check=False``: the caller checks it, as
    ``layers.Lambda`` does on its real input shape), and a ``ValueError`` says when it is not.
    """
    if check:
        check_elementwise(function)

    def derivative(x):
        x64 = np.asarray(x, dtype=np.float64)
        h = 1e-5 * np.maximum(1.0, np.abs(x64))
        slope = (np.asarray(function(x64 + h), dtype=np.float64) - np.asarray(function(x64 - h), dtype=np.float64))
        return _like(slope / (2 * h), np.asarray(x))

    derivative.__name__ = f"{getattr(function, '__name__', 'custom')}_numerical_grad"
    return derivative


def get(identifier, **kwargs):
    r"""Return the activation function named ``identifier`` (Keras names, case-insensitive).

    ``None`` gives ``linear`` (as Keras); a callable is returned unchanged. Keyword arguments fix
    parameters: ``get("leaky_relu", alpha=0.1)`` is ``functools.partial(leaky_relu, alpha=0.1)``.
    """
    func = linear if identifier is None else lookup(ACTIVATIONS, identifier, "activation")
    return functools.partial(func, **kwargs) if kwargs else func


def get_derivative(identifier, **kwargs):
    r"""Return the derivative :math:`f'(x)` (taking the INPUT ``x``) of the activation ``identifier``.

    Accepts a name, ``None`` (linear), one of this module's functions or a ``functools.partial`` of one
    (its parameters carry over). Softmax and maxout have no element-wise derivative: use
    ``get_backward``. Any other callable, an activation of your own, gets its
    :func:`numerical_derivative` (``ValueError`` when it is not element-wise).
    """
    if isinstance(identifier, functools.partial):
        grad = get_derivative(identifier.func)
        return functools.partial(grad, *identifier.args, **{**identifier.keywords, **kwargs})
    if isinstance(identifier, str) and identifier.lower() in ("softmax", "maxout"):
        raise ValueError(_NOT_ELEMENTWISE.format(name=identifier.lower()))
    if identifier is softmax or identifier is maxout:
        raise ValueError(_NOT_ELEMENTWISE.format(name=identifier.__name__))
    if identifier is None:
        grad = linear_grad
    elif isinstance(identifier, str):
        grad = lookup(DERIVATIVES, identifier, "activation")
    elif callable(identifier):
        grad = _DERIVATIVE_OF.get(identifier) or numerical_derivative(identifier)
    else:
        raise TypeError(f"activation identifier must be a string, a callable or None, got {type(identifier).__name__}")
    return functools.partial(grad, **kwargs) if kwargs else grad


def get_backward(identifier, **kwargs):
    r"""Return ``backward(x, dy)``, the gradient :math:`\partial L/\partial x` of the activation.

    For an element-wise activation it is :math:`\frac{\partial L}{\partial y} \odot f'(x)`; for
    softmax it is ``softmax_backward(x, dy)`` (the Jacobian-vector product). ``x`` is the INPUT.
    """
    if isinstance(identifier, functools.partial) and identifier.func is softmax:
        return functools.partial(softmax_backward, *identifier.args, **{**identifier.keywords, **kwargs})
    if identifier is softmax or (isinstance(identifier, str) and identifier.lower() == "softmax"):
        return functools.partial(softmax_backward, **kwargs)
    grad = get_derivative(identifier, **kwargs)
    if grad is relu_grad:
        return relu_backward
    grad = unchecked(grad)

    @_checks_input
    def backward(x, dy):
        return dy * grad(x)

    return backward
