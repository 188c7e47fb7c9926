"""Tests for nnlib.metrics: the accuracies and Keras's resolution of "accuracy"."""
import numpy as np
import pytest

from nnlib import losses, metrics


def test_binary_accuracy_thresholds_at_one_half():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    p = np.array([[0.9], [0.2], [0.4], [0.5]])  # 0.5 is not above the threshold: predicts 0
    assert metrics.binary_accuracy(y, p) == 0.75
    assert metrics.binary_accuracy(y, p, threshold=0.1) == 0.5  # everything predicts 1


def test_categorical_accuracy_compares_argmax():
    y = np.eye(3)[[0, 2, 1, 1]]
    p = np.array([[0.8, 0.1, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2], [0.1, 0.7, 0.2]])
    assert metrics.categorical_accuracy(y, p) == 0.75


@pytest.mark.parametrize("labels", [[0, 2, 0, 1], [[0], [2], [0], [1]]])
def test_sparse_categorical_accuracy_takes_integer_labels(labels):
    p = np.array([[0.8, 0.1, 0.1], [0.2, 0.2, 0.6], [0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
    assert metrics.sparse_categorical_accuracy(labels, p) == 0.75


def test_accuracy_is_exact_match():
    assert metrics.accuracy([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 0.0, 4.0]) == 0.75


@pytest.mark.parametrize("loss, expected", [
    ("binary_crossentropy", metrics.binary_accuracy),
    ("bce", metrics.binary_accuracy),
    ("categorical_crossentropy", metrics.categorical_accuracy),
    ("sparse_categorical_crossentropy", metrics.sparse_categorical_accuracy),
    (losses.get("sparse_categorical_crossentropy", from_logits=True), metrics.sparse_categorical_accuracy),
    (losses.binary_crossentropy, metrics.binary_accuracy),
])
def test_resolve_accuracy_from_the_loss(loss, expected):
    assert metrics.resolve("accuracy", loss) is expected
    assert metrics.resolve("acc", loss) is expected


def test_resolve_accuracy_from_shapes_when_the_loss_does_not_decide():
    assert metrics.resolve("accuracy", "mse", (8, 1), (8, 1)) is metrics.binary_accuracy
    assert metrics.resolve("accuracy", "mse", (8,), (8, 3)) is metrics.sparse_categorical_accuracy
    assert metrics.resolve("accuracy", None, (8, 1), (8, 3)) is metrics.sparse_categorical_accuracy
    assert metrics.resolve("accuracy", "mse", (8, 3), (8, 3)) is metrics.categorical_accuracy
    assert metrics.resolve("accuracy", lambda y, p: 0.0) is metrics.categorical_accuracy  # custom loss, no shapes


def test_get_and_resolve_other_names():
    assert metrics.get("accuracy") is metrics.accuracy
    assert metrics.get("Binary_Accuracy") is metrics.binary_accuracy
    assert metrics.get("mse") is losses.mean_squared_error  # Keras accepts losses as metrics
    assert metrics.resolve("mae", "mse") is losses.mean_absolute_error
    custom = lambda y, p: 1.0  # noqa: E731
    assert metrics.get(custom) is custom
    with pytest.raises(ValueError, match="Did you mean 'accuracy'"):
        metrics.get("acuracy")


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"y_true has shape \(4,\) but y_pred has shape \(4, 1\)"):
        metrics.binary_accuracy(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"expected labels of shape \(2,\) or \(2, 1\)"):
        metrics.sparse_categorical_accuracy([0, 1, 2], np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.categorical_accuracy([[1.0, 0.0]], [[np.nan, 0.0]])
