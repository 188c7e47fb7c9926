r"""Loss functions :math:`L(y, \hat{y})` and their gradients :math:`\partial L / \partial \hat{y}`, as Keras defines them.

Every loss ``name(y_true, y_pred)`` returns a Python float; its gradient ``name_grad(y_true, y_pred)``
returns an array shaped like ``y_pred``. Reduction follows Keras: each sample's loss is reduced
over the last axis (a mean for the regression losses and binary crossentropy, a sum for the
categorical ones), then the mean over the samples is taken. With :math:`N` samples of :math:`C`
values (:math:`n = NC` entries):

.. math::
    L_{\text{mean-type}} = \frac{1}{n} \sum_{i,c} \ell(y_{ic}, \hat{y}_{ic}), \qquad
    L_{\text{sum-type}} = \frac{1}{N} \sum_{i} \sum_{c} \ell(y_{ic}, \hat{y}_{ic})

so the gradient of a mean-type loss carries the factor :math:`1/n`, that of a sum-type loss :math:`1/N`.
A 1-D array of shape (N,) counts as one row of N values (Keras does the same), so for the
categorical losses use 2-D arrays (N, C).

``y_true`` and ``y_pred`` must have the same shape; unlike Keras, nnlib does not squeeze (N,)
against (N, 1) silently, it says so. Only ``sparse_categorical_crossentropy`` takes integer labels
of shape (N,) or (N, 1). ``get(identifier)`` returns a ``Loss(name, value, grad)``.

Where Keras clips probabilities into :math:`[\varepsilon, 1 - \varepsilon]` (``EPSILON = 1e-7``) to
avoid :math:`\ln 0`, nnlib does too, and the gradient is that of the clipped function (0 where a
probability was clipped). For training a classifier, ``from_logits=True`` is the stable choice.
"""
import functools
import inspect
import math
from typing import Callable, NamedTuple

import numpy as np

from nnlib._checks import as_float_array
from nnlib._registry import lookup
from nnlib.activations import sigmoid

EPSILON = 1e-7


class Loss(NamedTuple):
    """A loss as nnlib's models use it: its canonical ``name``, ``value(y_true, y_pred) -> float``
    and ``grad(y_true, y_pred) -> array`` shaped like ``y_pred``."""
    name: str
    value: Callable
    grad: Callable


# --- helpers ----------------------------------------------------------------------------------

def _pair(y_true, y_pred):
    """Check both arrays and return them with ``y_pred``'s dtype; a shape mismatch names both shapes."""
    y_pred = as_float_array(y_pred, "y_pred", min_ndim=1)
    y_true = as_float_array(y_true, "y_true", min_ndim=1)
    if y_true.shape != y_pred.shape:
        hint = ""
        if np.squeeze(y_true).shape == np.squeeze(y_pred).shape:
            hint = f" (reshape y_true with y_true.reshape{y_pred.shape}; nnlib does not squeeze axes of size 1)"
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must match{hint}")
    return y_true.astype(y_pred.dtype, copy=False), y_pred


def _n_samples(y_pred):
    """Number of samples: every axis but the last (1 for a 1-D array)."""
    return y_pred.size // y_pred.shape[-1]


def _check_probabilities(y_pred, loss_name):
    if np.any(y_pred < 0) or np.any(y_pred > 1):
        raise ValueError(f"{loss_name} expects probabilities in [0, 1] in y_pred, got values from "
                         f"{float(y_pred.min()):g} to {float(y_pred.max()):g}; pass from_logits=True for raw scores")


def _log_softmax(z):
    r"""Stable :math:`z - \ln \sum e^{z}` along the last axis."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _to_sign_labels(y_true):
    """Keras's hinge convention: labels given as 0/1 become -1/+1."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2 * y_true - 1
    return y_true


# --- regression losses ------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    r"""Mean squared error (L2 loss).

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} (y_i - \hat{y}_i)^2
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


def mean_squared_error_grad(y_true, y_pred):
    r"""Gradient of the mean squared error.

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{2}{n} (\hat{y}_i - y_i)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return 2 * (y_pred - y_true) / y_pred.size


def mean_absolute_error(y_true, y_pred):
    r"""Mean absolute error (L1 loss).

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} |y_i - \hat{y}_i|
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true)))


def mean_absolute_error_grad(y_true, y_pred):
    r"""Gradient of the mean absolute error (0 where :math:`\hat{y}_i = y_i`).

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{1}{n} \operatorname{sgn}(\hat{y}_i - y_i)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return np.sign(y_pred - y_true) / y_pred.size


def mean_absolute_percentage_error(y_true, y_pred):
    r"""Mean absolute percentage error (in percent; :math:`|y_i|` is floored at :math:`\varepsilon`).

    .. math::
        L = \frac{100}{n} \sum_{i=1}^{n} \frac{|y_i - \hat{y}_i|}{\max(|y_i|, \varepsilon)}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(100 * np.mean(np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), EPSILON)))


def mean_absolute_percentage_error_grad(y_true, y_pred):
    r"""Gradient of the mean absolute percentage error.

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{100}{n} \frac{\operatorname{sgn}(\hat{y}_i - y_i)}{\max(|y_i|, \varepsilon)}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return 100 * np.sign(y_pred - y_true) / np.maximum(np.abs(y_true), EPSILON) / y_pred.size


def mean_squared_logarithmic_error(y_true, y_pred):
    r"""Mean squared logarithmic error (values below :math:`\varepsilon` are raised to it, as Keras).

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} \bigl(\ln(1 + \hat{y}_i) - \ln(1 + y_i)\bigr)^2
    """
    y_true, y_pred = _pair(y_true, y_pred)
    diff = np.log1p(np.maximum(y_pred, EPSILON)) - np.log1p(np.maximum(y_true, EPSILON))
    return float(np.mean(diff ** 2))


def mean_squared_logarithmic_error_grad(y_true, y_pred):
    r"""Gradient of the mean squared logarithmic error (0 where :math:`\hat{y}_i < \varepsilon`).

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{2}{n} \frac{\ln(1 + \hat{y}_i) - \ln(1 + y_i)}{1 + \hat{y}_i}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    clipped = np.maximum(y_pred, EPSILON)
    diff = np.log1p(clipped) - np.log1p(np.maximum(y_true, EPSILON))
    return 2 * diff / (1 + clipped) * (y_pred >= EPSILON) / y_pred.size


def huber(y_true, y_pred, delta=1.0):
    r"""Huber loss: quadratic for errors up to :math:`\delta`, linear beyond (robust to outliers).

    With :math:`a_i = \hat{y}_i - y_i`:

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} \begin{cases} \frac{1}{2} a_i^2 & |a_i| \le \delta \\ \delta \left(|a_i| - \frac{1}{2}\delta\right) & \text{otherwise} \end{cases}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    a = np.abs(y_pred - y_true)
    return float(np.mean(np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))))


def huber_grad(y_true, y_pred, delta=1.0):
    r"""Gradient of the Huber loss: the error, clipped to :math:`[-\delta, \delta]`.

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{1}{n} \begin{cases} a_i & |a_i| \le \delta \\ \delta \operatorname{sgn}(a_i) & \text{otherwise} \end{cases}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return np.clip(y_pred - y_true, -delta, delta) / y_pred.size


def log_cosh(y_true, y_pred):
    r"""Log-cosh loss, computed as :math:`a + \operatorname{softplus}(-2a) - \ln 2` so that no error overflows.

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} \ln \cosh(\hat{y}_i - y_i)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    a = y_pred - y_true
    return float(np.mean(a + np.logaddexp(0, -2 * a) - math.log(2.0)))


def log_cosh_grad(y_true, y_pred):
    r"""Gradient of log-cosh.

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{1}{n} \tanh(\hat{y}_i - y_i)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return np.tanh(y_pred - y_true) / y_pred.size


def _check_rates(y_pred):
    if np.any(y_pred < 0):
        raise ValueError(f"poisson expects rates y_pred >= 0, got a minimum of {float(y_pred.min()):g}; "
                         "use an exponential or softplus output")


def poisson(y_true, y_pred):
    r"""Poisson loss, for counts predicted as a rate :math:`\hat{y}_i \ge 0`.

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} \bigl(\hat{y}_i - y_i \ln(\hat{y}_i + \varepsilon)\bigr)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    _check_rates(y_pred)
    return float(np.mean(y_pred - y_true * np.log(y_pred + EPSILON)))


def poisson_grad(y_true, y_pred):
    r"""Gradient of the Poisson loss.

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{1}{n} \left(1 - \frac{y_i}{\hat{y}_i + \varepsilon}\right)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    _check_rates(y_pred)
    return (1 - y_true / (y_pred + EPSILON)) / y_pred.size


# --- margin losses (labels -1/+1; 0/1 are converted, as Keras) ---------------------------------

def hinge(y_true, y_pred):
    r"""Hinge loss of the SVM; labels :math:`y_i \in \{-1, 1\}` (0/1 labels are converted).

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} \max(0,\; 1 - y_i \hat{y}_i)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _to_sign_labels(y_true)
    return float(np.mean(np.maximum(1 - y_true * y_pred, 0)))


def hinge_grad(y_true, y_pred):
    r"""Gradient of the hinge loss (0 at the kink :math:`y_i \hat{y}_i = 1`).

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = \frac{1}{n} \begin{cases} -y_i & y_i \hat{y}_i < 1 \\ 0 & \text{otherwise} \end{cases}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _to_sign_labels(y_true)
    return -y_true * (1 - y_true * y_pred > 0) / y_pred.size


def squared_hinge(y_true, y_pred):
    r"""Squared hinge loss; labels :math:`y_i \in \{-1, 1\}` (0/1 labels are converted).

    .. math::
        L = \frac{1}{n} \sum_{i=1}^{n} \max(0,\; 1 - y_i \hat{y}_i)^2
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _to_sign_labels(y_true)
    return float(np.mean(np.maximum(1 - y_true * y_pred, 0) ** 2))


def squared_hinge_grad(y_true, y_pred):
    r"""Gradient of the squared hinge loss.

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = -\frac{2}{n}\, y_i \max(0,\; 1 - y_i \hat{y}_i)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _to_sign_labels(y_true)
    return -2 * y_true * np.maximum(1 - y_true * y_pred, 0) / y_pred.size


def categorical_hinge(y_true, y_pred):
    r"""Categorical hinge: the true class's score must beat the best wrong one by a margin of 1.

    ``y_true`` is one-hot (N, C). Per sample, :math:`p = \sum_c y_c \hat{y}_c` and
    :math:`q = \max_c (1 - y_c)\hat{y}_c`:

    .. math::
        L = \frac{1}{N} \sum_{i=1}^{N} \max(0,\; 1 + q_i - p_i)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1 - y_true) * y_pred, axis=-1)
    return float(np.sum(np.maximum(neg - pos + 1, 0)) / _n_samples(y_pred))


def categorical_hinge_grad(y_true, y_pred):
    r"""Gradient of the categorical hinge, with :math:`k_i` the arg-max in :math:`q_i`.

    .. math::
        \frac{\partial L}{\partial \hat{y}_{ic}} = \frac{1}{N} [1 + q_i - p_i > 0] \bigl(-y_{ic} + (1 - y_{ic})[c = k_i]\bigr)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    pos = np.sum(y_true * y_pred, axis=-1, keepdims=True)
    wrong = (1 - y_true) * y_pred
    neg = np.max(wrong, axis=-1, keepdims=True)
    winner = np.zeros_like(y_pred)
    np.put_along_axis(winner, np.argmax(wrong, axis=-1)[..., None], 1, axis=-1)
    active = (neg - pos + 1 > 0)
    return active * (-y_true + (1 - y_true) * winner) / _n_samples(y_pred)


# --- probabilistic losses ---------------------------------------------------------------------

def binary_crossentropy(y_true, y_pred, from_logits=False):
    r"""Binary crossentropy, the loss of a sigmoid output (mean over the last axis, then over samples).

    ``from_logits=False``: ``y_pred`` are probabilities :math:`p`, clipped to
    :math:`[\varepsilon, 1-\varepsilon]`. ``from_logits=True``: ``y_pred`` are scores :math:`z`,
    :math:`p = \sigma(z)`, computed stably as :math:`\max(z, 0) - z y + \ln(1 + e^{-|z|})`.

    .. math::
        L = -\frac{1}{n} \sum_{i=1}^{n} \bigl(y_i \ln p_i + (1 - y_i) \ln(1 - p_i)\bigr)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if from_logits:
        z = y_pred
        return float(np.mean(np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))))
    _check_probabilities(y_pred, "binary_crossentropy")
    p = np.clip(y_pred, EPSILON, 1 - EPSILON)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))


def binary_crossentropy_grad(y_true, y_pred, from_logits=False):
    r"""Gradient of binary crossentropy; with logits it is :math:`(\sigma(z_i) - y_i)/n`.

    .. math::
        \frac{\partial L}{\partial p_i} = \frac{1}{n} \left(\frac{1 - y_i}{1 - p_i} - \frac{y_i}{p_i}\right)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if from_logits:
        return (sigmoid(y_pred) - y_true) / y_pred.size
    _check_probabilities(y_pred, "binary_crossentropy")
    p = np.clip(y_pred, EPSILON, 1 - EPSILON)
    inside = (y_pred >= EPSILON) & (y_pred <= 1 - EPSILON)
    return ((1 - y_true) / (1 - p) - y_true / p) * inside / y_pred.size


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    r"""Categorical crossentropy, the loss of a softmax output; ``y_true`` one-hot (N, C).

    ``from_logits=False``: as Keras, each row of ``y_pred`` is first divided by its sum, then clipped
    to :math:`[\varepsilon, 1-\varepsilon]`. ``from_logits=True``: :math:`\ln p` is the stable
    log-softmax :math:`z - \max z - \ln \sum e^{z - \max z}`.

    .. math::
        L = -\frac{1}{N} \sum_{i=1}^{N} \sum_{c=1}^{C} y_{ic} \ln p_{ic}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if from_logits:
        return float(-np.sum(y_true * _log_softmax(y_pred)) / _n_samples(y_pred))
    p = np.clip(_normalized(y_pred), EPSILON, 1 - EPSILON)
    return float(-np.sum(y_true * np.log(p)) / _n_samples(y_pred))


def categorical_crossentropy_grad(y_true, y_pred, from_logits=False):
    r"""Gradient of categorical crossentropy. With logits it is the famous
    :math:`(\operatorname{softmax}(z_i) - y_i)/N` (times :math:`\sum_c y_{ic}`, which is 1 for one-hot rows).
    With probabilities :math:`q` (normalised to :math:`p = q / S`, :math:`S = \sum_c q_c`):

    .. math::
        \frac{\partial L}{\partial q_{ic}} = \frac{1}{N S_i} \left(g_{ic} - \sum_k g_{ik}\, p_{ik}\right), \quad g_{ic} = -\frac{y_{ic}}{p_{ic}}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    n = _n_samples(y_pred)
    if from_logits:
        softmax = np.exp(_log_softmax(y_pred))
        return (softmax * np.sum(y_true, axis=-1, keepdims=True) - y_true) / n
    total = np.sum(y_pred, axis=-1, keepdims=True)
    p = _normalized(y_pred)
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    g = -y_true / clipped * ((p >= EPSILON) & (p <= 1 - EPSILON))
    return (g - np.sum(g * p, axis=-1, keepdims=True)) / total / n


def _normalized(y_pred):
    """Rows of non-negative scores divided by their sums (Keras's step before the clip)."""
    if np.any(y_pred < 0):
        raise ValueError(f"categorical_crossentropy expects probabilities >= 0 in y_pred, got a minimum of "
                         f"{float(y_pred.min()):g}; pass from_logits=True for raw scores")
    total = np.sum(y_pred, axis=-1, keepdims=True)
    if np.any(total == 0):
        raise ValueError("categorical_crossentropy: a row of y_pred sums to 0; it cannot be a probability distribution")
    return y_pred / total


def _one_hot_labels(y_true, y_pred):
    """Integer labels of shape (N,) or (N, 1) -> one-hot (N, C) in ``y_pred``'s dtype, with clear errors."""
    y_pred = as_float_array(y_pred, "y_pred", min_ndim=1)
    labels = as_float_array(y_true, "y_true")
    classes = y_pred.shape[-1]
    if labels.shape == y_pred.shape[:-1] + (1,):
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        hint = "; y_true looks one-hot: use categorical_crossentropy" if labels.shape == y_pred.shape else ""
        raise ValueError(f"sparse_categorical_crossentropy: y_true has shape {np.shape(y_true)}, expected integer "
                         f"labels of shape {y_pred.shape[:-1]} or {y_pred.shape[:-1] + (1,)} for y_pred of shape "
                         f"{y_pred.shape}{hint}")
    not_integer = labels != np.round(labels)
    if np.any(not_integer):
        index = tuple(int(i) for i in np.argwhere(not_integer)[0])
        raise ValueError(f"sparse_categorical_crossentropy needs integer class labels, got {labels[index]:g} at "
                         f"index {index}")
    out_of_range = (labels < 0) | (labels >= classes)
    if np.any(out_of_range):
        index = tuple(int(i) for i in np.argwhere(out_of_range)[0])
        raise ValueError(f"sparse_categorical_crossentropy: label {int(labels[index])} at index {index} is out of "
                         f"range; y_pred has {classes} classes, so labels must be in 0..{classes - 1}")
    return (labels[..., None] == np.arange(classes)).astype(y_pred.dtype)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    r"""Categorical crossentropy with integer labels :math:`k_i \in \{0, \dots, C-1\}`, shape (N,) or (N, 1).

    .. math::
        L = -\frac{1}{N} \sum_{i=1}^{N} \ln p_{i, k_i}
    """
    return categorical_crossentropy(_one_hot_labels(y_true, y_pred), y_pred, from_logits)


def sparse_categorical_crossentropy_grad(y_true, y_pred, from_logits=False):
    r"""Gradient of sparse categorical crossentropy: that of categorical crossentropy with one-hot
    :math:`y_{ic} = [c = k_i]`; with logits:

    .. math::
        \frac{\partial L}{\partial z_{ic}} = \frac{1}{N} \bigl(\operatorname{softmax}(z_i)_c - [c = k_i]\bigr)
    """
    return categorical_crossentropy_grad(_one_hot_labels(y_true, y_pred), y_pred, from_logits)


def kl_divergence(y_true, y_pred):
    r"""Kullback-Leibler divergence of the predicted distribution from the true one (both clipped to
    :math:`[\varepsilon, 1]`), summed over the last axis.

    .. math::
        L = \frac{1}{N} \sum_{i=1}^{N} \sum_{c} y_{ic} \ln \frac{y_{ic}}{\hat{y}_{ic}}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = np.clip(y_true, EPSILON, 1)
    p = np.clip(y_pred, EPSILON, 1)
    return float(np.sum(t * np.log(t / p)) / _n_samples(y_pred))


def kl_divergence_grad(y_true, y_pred):
    r"""Gradient of the KL divergence (0 where :math:`\hat{y}` was clipped).

    .. math::
        \frac{\partial L}{\partial \hat{y}_{ic}} = -\frac{1}{N} \frac{y_{ic}}{\hat{y}_{ic}}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = np.clip(y_true, EPSILON, 1)
    p = np.clip(y_pred, EPSILON, 1)
    inside = (y_pred >= EPSILON) & (y_pred <= 1)
    return -t / p * inside / _n_samples(y_pred)


def cosine_similarity(y_true, y_pred):
    r"""Negative cosine similarity along the last axis (Keras's sign: -1 is a perfect match, so
    minimising it aligns the vectors). Vectors are L2-normalised with :math:`\|v\|^2` floored at 1e-12.

    .. math::
        L = -\frac{1}{N} \sum_{i=1}^{N} \frac{y_i \cdot \hat{y}_i}{\|y_i\|\, \|\hat{y}_i\|}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true / _safe_norm(y_true)
    u = y_pred / _safe_norm(y_pred)
    return float(-np.sum(t * u) / _n_samples(y_pred))


def cosine_similarity_grad(y_true, y_pred):
    r"""Gradient of the negative cosine similarity, with :math:`t_i = y_i/\|y_i\|`, :math:`u_i = \hat{y}_i/\|\hat{y}_i\|`.

    .. math::
        \frac{\partial L}{\partial \hat{y}_i} = -\frac{1}{N} \frac{t_i - (t_i \cdot u_i)\, u_i}{\|\hat{y}_i\|}
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true / _safe_norm(y_true)
    norm = _safe_norm(y_pred)
    u = y_pred / norm
    floored = np.sum(y_pred * y_pred, axis=-1, keepdims=True) <= 1e-12  # the norm is a constant there
    along = np.where(floored, 0, np.sum(t * u, axis=-1, keepdims=True))
    return -(t - along * u) / norm / _n_samples(y_pred)


def _safe_norm(v):
    return np.sqrt(np.maximum(np.sum(v * v, axis=-1, keepdims=True), 1e-12))


# --- registries -------------------------------------------------------------------------------

_PAIRS = {
    "mean_squared_error": (mean_squared_error, mean_squared_error_grad),
    "mean_absolute_error": (mean_absolute_error, mean_absolute_error_grad),
    "mean_absolute_percentage_error": (mean_absolute_percentage_error, mean_absolute_percentage_error_grad),
    "mean_squared_logarithmic_error": (mean_squared_logarithmic_error, mean_squared_logarithmic_error_grad),
    "huber": (huber, huber_grad),
    "log_cosh": (log_cosh, log_cosh_grad),
    "poisson": (poisson, poisson_grad),
    "hinge": (hinge, hinge_grad),
    "squared_hinge": (squared_hinge, squared_hinge_grad),
    "categorical_hinge": (categorical_hinge, categorical_hinge_grad),
    "binary_crossentropy": (binary_crossentropy, binary_crossentropy_grad),
    "categorical_crossentropy": (categorical_crossentropy, categorical_crossentropy_grad),
    "sparse_categorical_crossentropy": (sparse_categorical_crossentropy, sparse_categorical_crossentropy_grad),
    "kl_divergence": (kl_divergence, kl_divergence_grad),
    "cosine_similarity": (cosine_similarity, cosine_similarity_grad),
}

#: Keras's short names and older spellings. Class names also resolve ("MeanSquaredError",
#: "KLDivergence"): ``get`` ignores case and underscores.
ALIASES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "kld": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
    "huber_loss": "huber",
    "logcosh": "log_cosh",
    "cosine_proximity": "cosine_similarity",
}

LOSSES = {name: value for name, (value, _) in _PAIRS.items()}
GRADIENTS = {name: grad for name, (_, grad) in _PAIRS.items()}
for _alias, _target in ALIASES.items():
    LOSSES[_alias] = LOSSES[_target]
    GRADIENTS[_alias] = GRADIENTS[_target]

_NAME_OF = {value: name for name, (value, _) in _PAIRS.items()}
_SQUASHED = {name.replace("_", ""): name for name in LOSSES}


def _canonical_key(identifier):
    """Registry key for ``identifier``, ignoring case and underscores ("MeanSquaredError" -> "mean_squared_error")."""
    key = identifier.lower()
    return key if key in LOSSES else _SQUASHED.get(key.replace("_", ""), key)


def get(identifier, **kwargs):
    r"""Return ``Loss(name, value, grad)`` for a Keras identifier, an alias, a class name or one of
    this module's functions (or a ``functools.partial`` of one). ``name`` is the canonical name.

    Keyword arguments fix parameters: ``get("huber", delta=2.0)``, ``get("bce", from_logits=True)``.
    A ``Loss`` passes through. A function of your own becomes :func:`custom` ``(function)``, with a
    numerical gradient (or wrap it yourself as ``Loss(name, value, grad)`` with its exact gradient).
    """
    if isinstance(identifier, Loss):
        if kwargs:
            raise TypeError("get(Loss, **kwargs): a Loss is already configured; pass its name to set parameters")
        return identifier
    if isinstance(identifier, functools.partial):
        if identifier.args:
            raise TypeError(f"get() accepts partials with keyword arguments only, got positional {identifier.args}")
        return get(get(identifier.func).name, **{**identifier.keywords, **kwargs})
    if isinstance(identifier, str):
        value = lookup(LOSSES, _canonical_key(identifier), "loss function")
    elif callable(identifier):
        value = identifier
        if value not in _NAME_OF:
            if kwargs:
                raise TypeError("get(function, **kwargs): fix the parameters of your own loss in the function itself")
            return custom(identifier)
    else:
        raise TypeError(f"loss identifier must be a string, a Loss or a callable, got {type(identifier).__name__}")
    name = _NAME_OF[value]
    grad = GRADIENTS[name]
    if not kwargs:
        return Loss(name, value, grad)
    try:
        inspect.signature(value).bind(None, None, **kwargs)
    except TypeError as exc:
        raise TypeError(f"loss {name!r} does not accept {sorted(kwargs)}: {exc}") from None
    return Loss(name, functools.partial(value, **kwargs), functools.partial(grad, **kwargs))



# --- Keras's loss classes ---------------------------------------------------------------------

#: The loss classes of ``keras.losses``, which the notes also use (``loss=keras.losses.MeanSquaredError()``).
#: Here each is a function returning the configured ``Loss``: ``Huber(delta=2.0)`` is ``get("huber", delta=2.0)``.
KERAS_CLASSES = ("MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
                 "MeanSquaredLogarithmicError", "BinaryCrossentropy", "CategoricalCrossentropy",
                 "SparseCategoricalCrossentropy", "Huber", "LogCosh", "Hinge", "SquaredHinge", "CategoricalHinge",
                 "KLDivergence", "Poisson", "CosineSimilarity")


def _keras_class(class_name):
    def make(**kwargs):
        return get(class_name, **kwargs)

    make.__name__ = make.__qualname__ = class_name
    make.__doc__ = f"As ``keras.losses.{class_name}(...)``: the ``Loss`` that ``get({class_name!r}, **kwargs)`` gives."
    return make


for _class_name in KERAS_CLASSES:
    globals()[_class_name] = _keras_class(_class_name)


# --- losses of one's own ----------------------------------------------------------------------

class _CustomShapeError(ValueError):
    """A custom loss returned the wrong shape (the message says which): not wrapped again."""


def custom(function):
    r"""A loss of your own, as the notes' Huber loss in Keras: ``function(y_true, y_pred)`` returns
    the loss of each value (shaped like ``y_pred``) or of each sample (shape (N,)), computed with
    NumPy. As Keras does, the loss is the mean over the samples of each sample's mean, and its gradient
    is found numerically, one output column at a time (central differences, :math:`h = 10^{-5}\max(1, |\hat y|)`):

    .. math::
        L = \frac{1}{N} \sum_i \ell_i(y_i, \hat y_i), \qquad
        \frac{\partial L}{\partial \hat y_{ik}} \approx
        \frac{\ell_i(\hat y_i + h e_k) - \ell_i(\hat y_i - h e_k)}{2 h N}

    Each sample's loss must depend on that sample only (checked at once on a probe, as are the shapes).
    ``compile(loss=my_loss)`` calls this for you. For speed or exactness, pass ``Loss(name, value, grad)``.
    """
    name = getattr(function, "__name__", "custom_loss")

    def per_sample(y_true, y_pred):
        with np.errstate(all="ignore"):
            out = np.asarray(function(y_true, y_pred), dtype=np.float64)
        if out.shape == y_pred.shape:
            return out.reshape(len(y_pred), -1).mean(axis=1)
        if out.shape == y_pred.shape[:1]:
            return out
        raise _CustomShapeError(f"the loss {name!r} returned shape {out.shape} for y_pred of shape {y_pred.shape}: "
                         f"return the loss of each value {y_pred.shape} or of each sample {y_pred.shape[:1]}, "
                         "not their mean (nnlib averages them, as Keras does)")

    def value(y_true, y_pred):
        y_true, y_pred = _pair(y_true, y_pred)
        return float(np.mean(per_sample(y_true, y_pred)))

    def grad(y_true, y_pred):
        y_true, y_pred = _pair(y_true, y_pred)
        flat = y_pred.astype(np.float64).reshape(len(y_pred), -1)          # (N, K)
        h = 1e-5 * np.maximum(1.0, np.abs(flat))
        slopes = np.empty_like(flat)
        for k in range(flat.shape[1]):
            up, down = flat.copy(), flat.copy()
            up[:, k] += h[:, k]
            down[:, k] -= h[:, k]
            slopes[:, k] = (per_sample(y_true, up.reshape(y_pred.shape))
                            - per_sample(y_true, down.reshape(y_pred.shape))) / (2 * h[:, k])
        return (slopes / len(flat)).reshape(y_pred.shape).astype(y_pred.dtype)

    _check_custom(name, per_sample)
    return Loss(name, value, grad)


def _check_custom(name, per_sample):
    """Run a custom loss on a probe batch: it must work on NumPy arrays, and each sample's loss must
    come from that sample alone (reversing the batch reverses the losses; changing one sample
    changes only its own)."""
    y_true = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    y_pred = np.array([[0.8, 0.1], [0.3, 0.9], [0.2, 0.6]])
    try:
        losses = per_sample(y_true, y_pred)
        reversed_batch = per_sample(y_true[::-1].copy(), y_pred[::-1].copy())
        changed = y_pred.copy()
        changed[0] += 0.25
        after_change = per_sample(y_true, changed)
    except _CustomShapeError:
        raise
    except Exception as exc:
        raise ValueError(f"the custom loss {name!r} failed on NumPy arrays of shape {y_pred.shape}: "
                         f"{type(exc).__name__}: {exc}. Write it with NumPy (np.abs, np.where, ...)") from None
    if not (np.allclose(reversed_batch, losses[::-1], equal_nan=True)
            and np.allclose(after_change[1:], losses[1:], equal_nan=True)):
        raise ValueError(f"in the custom loss {name!r} a sample's loss depends on other samples; "
                         "nnlib needs the loss of each sample from that sample alone")
