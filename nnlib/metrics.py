r"""Accuracy metrics, as Keras defines them; each returns the fraction of correct samples (a float).

Keras lets you write ``metrics=["accuracy"]`` and picks the right variant from the loss (and the
shapes): ``resolve("accuracy", loss_name)`` does the same. Other names (``"mse"``, ``"mae"``, ...)
resolve to the loss of that name, which Keras also accepts as a metric.
"""
import numpy as np

from nnlib._checks import as_float_array
from nnlib._registry import lookup


def accuracy(y_true, y_pred):
    r"""Exact-match accuracy (Keras's ``Accuracy``): the fraction of entries where the prediction equals the label.

    .. math::
        \text{acc} = \frac{1}{n} \sum_{i=1}^{n} [\hat{y}_i = y_i]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    r"""Binary accuracy: a probability above ``threshold`` predicts class 1. For a model that
    outputs logits, pass ``threshold=0``.

    .. math::
        \text{acc} = \frac{1}{n} \sum_{i=1}^{n} \bigl[[\hat{y}_i > \theta] = y_i\bigr]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(y_true == (y_pred > threshold)))


def categorical_accuracy(y_true, y_pred):
    r"""Categorical accuracy: one-hot labels (N, C) against scores (N, C), compared by arg-max.

    .. math::
        \text{acc} = \frac{1}{N} \sum_{i=1}^{N} [\arg\max_c \hat{y}_{ic} = \arg\max_c y_{ic}]
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    r"""Sparse categorical accuracy: integer labels (N,) or (N, 1) against scores (N, C).

    .. math::
        \text{acc} = \frac{1}{N} \sum_{i=1}^{N} [\arg\max_c \hat{y}_{ic} = k_i]
    """
    y_pred = as_float_array(y_pred, "y_pred", min_ndim=1)
    labels = as_float_array(y_true, "y_true")
    if labels.shape == y_pred.shape[:-1] + (1,):
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(f"sparse_categorical_accuracy: y_true has shape {labels.shape}, expected labels of shape "
                         f"{y_pred.shape[:-1]} or {y_pred.shape[:-1] + (1,)} for y_pred of shape {y_pred.shape}")
    return float(np.mean(labels == np.argmax(y_pred, axis=-1)))


def _pair(y_true, y_pred):
    y_pred = as_float_array(y_pred, "y_pred", min_ndim=1)
    y_true = as_float_array(y_true, "y_true", min_ndim=1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must match")
    return y_true, y_pred


METRICS = {
    "accuracy": accuracy,
    "acc": accuracy,
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
}


def get(identifier):
    """Return the metric function: an accuracy of this module, or a loss's value function by its
    name (``"mse"``, ``"mae"``, ...); callables pass through. ``"accuracy"`` here is exact match:
    use ``resolve`` to get the variant Keras would pick for a loss."""
    if isinstance(identifier, str) and identifier.lower() not in METRICS:
        from nnlib import losses
        try:
            return losses.get(identifier).value
        except ValueError:
            pass  # not a loss either: report it as an unknown metric below
    return lookup(METRICS, identifier, "metric")


def resolve(identifier, loss_name=None, y_true_shape=None, y_pred_shape=None):
    r"""Return the metric Keras would use for ``identifier`` given the loss (a name, a ``Loss`` or a
    loss function) and, when the loss does not decide it, the shapes of one batch.

    For ``"accuracy"``/``"acc"``: binary crossentropy or a single output column -> ``binary_accuracy``;
    sparse categorical crossentropy or labels with one axis fewer (or a last axis of 1 against
    several classes) -> ``sparse_categorical_accuracy``; otherwise ``categorical_accuracy``.
    Any other identifier is ``get(identifier)``.
    """
    if not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
        return get(identifier)
    loss = _loss_name(loss_name)
    if loss == "binary_crossentropy":
        return binary_accuracy
    if loss == "sparse_categorical_crossentropy":
        return sparse_categorical_accuracy
    if loss == "categorical_crossentropy":
        return categorical_accuracy
    if y_pred_shape is not None and tuple(y_pred_shape)[-1] == 1:
        return binary_accuracy
    if y_true_shape is not None and y_pred_shape is not None:
        t, p = tuple(y_true_shape), tuple(y_pred_shape)
        if len(t) < len(p) or (t[-1] == 1 and p[-1] > 1):
            return sparse_categorical_accuracy
    return categorical_accuracy


def _loss_name(loss):
    """Canonical loss name, or None when it is unknown (a custom loss)."""
    if loss is None:
        return None
    from nnlib import losses
    try:
        return losses.get(loss).name
    except (ValueError, TypeError):
        return None
