r"""Graded exercises of lesson 01-neuron: one neuron, a layer, the bias trick, a threshold unit.

=====================  ===========================================  ==================
exercise               what the student writes                      reference
=====================  ===========================================  ==================
``weighted_sum``       :math:`z = \sum_i w_i x_i + b`                :func:`weighted_sum`
``dense_forward``      :math:`Y = X W + b`                           :func:`dense_forward`
``add_bias_column``    :math:`\tilde X = [X \mid \mathbf{1}]`        :func:`add_bias_column`
``threshold_neuron``   :math:`y = [\,X w \ge \theta\,]`              ``nnlib.neuron.threshold_unit``
=====================  ===========================================  ==================

The first three have no one-line twin in nnlib (``nnlib.layers.Dense`` does the same arithmetic
inside a layer object, and ``tests/test_exercises_neuron.py`` checks that they agree), so their
references are the two-line NumPy functions below.
"""
import numpy as np

from autograder.exercise import Case, Exercise
from nnlib import neuron

# Labels and hints are English gettext msgids, translated by the autograder's catalogs.
SHAPE = "input of shape {shape}"
WORKED = "worked example"
ZEROS = "zero inputs"
LARGE = "large magnitudes"
FLOAT32 = "float32 input"


def _shape(*arrays):
    """Label argument: the shapes of the array arguments, e.g. ``(3, 4), (4, 2)``."""
    return {"shape": ", ".join(str(tuple(a.shape)) for a in arrays)}


# --- weighted_sum ------------------------------------------------------------------------------

def weighted_sum(x, w, b):
    r"""Weighted sum of one neuron.

    .. math:: z = \sum_{i=1}^{n} w_i x_i + b

    ``x``: (n,), ``w``: (n,), ``b``: scalar -> scalar.
    """
    return np.dot(x, w) + b


def _weighted_sum_visible():
    return [
        Case((np.array([2.0, 1.0, 3.0]), np.array([0.4, -0.6, 0.2]), 0.1), label=WORKED),
        Case((np.array([1.0, 2.0]), np.array([3.0, 4.0]), 0.0), label=SHAPE, label_args={"shape": "(2,)"}),
        Case((np.array([0.5, -1.5, 2.0, 1.0]), np.array([-2.0, 1.0, 0.5, 3.0]), -1.0),
             label=SHAPE, label_args={"shape": "(4,)"}),
    ]


def _weighted_sum_hidden(rng):
    cases = []
    for n in (1, 5, 50):
        x, w = rng.normal(size=n), rng.normal(size=n)
        cases.append(Case((x, w, float(rng.normal())), label=SHAPE, label_args=_shape(x)))
    cases.append(Case((np.zeros(3), rng.normal(size=3), float(rng.uniform(-2, 2))), label=ZEROS))
    cases.append(Case((rng.uniform(-500, 500, size=4), rng.uniform(-500, 500, size=4), float(rng.uniform(-500, 500))),
                      label=LARGE))
    return cases


# --- dense_forward -----------------------------------------------------------------------------

def dense_forward(X, W, b):
    r"""A dense layer without activation on a batch: every row of ``X`` times ``W``, plus ``b``.

    .. math:: \underset{[N \times n_{out}]}{Y} = \underset{[N \times n_{in}]}{X}\,
              \underset{[n_{in} \times n_{out}]}{W} + b

    ``X``: (N, n_in), ``W``: (n_in, n_out), ``b``: (n_out,) -> (N, n_out); float32 stays float32.
    """
    return X @ W + b


def _dense_forward_visible():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [-1.0, 0.5]])
    W = np.array([[1.0, 0.0, -1.0], [0.5, 2.0, 1.0]])
    b = np.array([0.1, -0.2, 0.3])
    x_one = np.array([[2.0, 1.0, 3.0]])
    w_one = np.array([[0.4], [-0.6], [0.2]])
    return [
        Case((X, W, b), label=SHAPE, label_args=_shape(X, W, b)),
        Case((x_one, w_one, np.array([0.1])), label=WORKED),
        Case((np.zeros((2, 3)), np.ones((3, 2)), np.array([1.0, -1.0])), label=ZEROS),
    ]


def _dense_forward_hidden(rng):
    cases = []
    for n, n_in, n_out in ((4, 3, 5), (1, 6, 2), (7, 1, 3), (5, 4, 1)):
        X, W, b = rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
        cases.append(Case((X, W, b), label=SHAPE, label_args=_shape(X, W, b)))
    cases.append(Case((np.zeros((2, 3)), rng.normal(size=(3, 4)), rng.normal(size=4)), label=ZEROS))
    X = rng.uniform(-500, 500, size=(3, 4))
    cases.append(Case((X, rng.uniform(-5, 5, size=(4, 2)), rng.uniform(-500, 500, size=2)), label=LARGE))
    X32 = rng.normal(size=(3, 4)).astype(np.float32)
    W32 = rng.normal(size=(4, 2)).astype(np.float32)
    b32 = rng.normal(size=2).astype(np.float32)
    cases.append(Case((X32, W32, b32), label=FLOAT32))
    return cases


# --- add_bias_column ---------------------------------------------------------------------------

def add_bias_column(X):
    r"""The bias trick: append a constant input 1 to every sample.

    .. math:: \tilde X = \begin{pmatrix} X & \mathbf{1} \end{pmatrix}, \qquad
              \tilde X \begin{pmatrix} W \\ b \end{pmatrix} = X W + b

    ``X``: (N, n) -> (N, n + 1), ones in the last column, same dtype as ``X``.
    """
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])


def _add_bias_column_visible():
    X = np.array([[2.0, 1.0, 3.0], [0.5, -1.0, 4.0]])
    return [
        Case((X,), label=SHAPE, label_args=_shape(X)),
        Case((np.array([[7.0]]),), label=SHAPE, label_args={"shape": "(1, 1)"}),
        Case((np.zeros((3, 2)),), label=ZEROS),
    ]


def _add_bias_column_hidden(rng):
    cases = []
    for shape in ((5, 4), (1, 6), (6, 1)):
        X = rng.normal(size=shape)
        cases.append(Case((X,), label=SHAPE, label_args=_shape(X)))
    cases.append(Case((np.zeros((int(rng.integers(1, 5)), 3)),), label=ZEROS))
    cases.append(Case((rng.uniform(-500, 500, size=(3, 3)),), label=LARGE))
    cases.append(Case((rng.normal(size=(4, 3)).astype(np.float32),), label=FLOAT32))
    return cases


# --- threshold_neuron --------------------------------------------------------------------------

def threshold_neuron(X, w, threshold):
    r"""McCulloch-Pitts threshold neuron on a batch (``nnlib.neuron.threshold_unit``).

    .. math:: y = \text{Heaviside}\Big(\sum_i w_i x_i - \theta\Big)
              = \begin{cases} 1 & \text{if } \sum_i w_i x_i \ge \theta \\ 0 & \text{otherwise} \end{cases}

    ``X``: (N, n), ``w``: (n,), ``threshold``: scalar -> (N,) integers 0 or 1.
    """
    return neuron.threshold_unit(X, w, threshold)


GATE_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _threshold_neuron_visible():
    return [
        Case((GATE_INPUTS, np.array([1.0, 1.0]), 1.5), label="AND gate"),
        Case((GATE_INPUTS, np.array([1.0, 1.0]), 0.5), label="OR gate"),
        Case((GATE_INPUTS, np.array([1.0, 1.0]), 2.0), label="sum equal to the threshold"),
    ]


def _threshold_neuron_hidden(rng):
    cases = []
    for n, n_in in ((6, 3), (1, 4), (5, 1)):
        X, w = rng.normal(size=(n, n_in)), rng.normal(size=n_in)
        cases.append(Case((X, w, float(rng.normal())), label=SHAPE, label_args=_shape(X, w)))
    bits = rng.integers(0, 2, size=(8, 3)).astype(np.float64)
    weights = rng.integers(1, 3, size=3).astype(np.float64)
    cases.append(Case((bits, weights, float(rng.integers(1, 4))), label="sum equal to the threshold"))
    cases.append(Case((np.zeros((3, 2)), rng.normal(size=2), 0.0), label=ZEROS))
    cases.append(Case((rng.uniform(-500, 500, size=(4, 2)), rng.uniform(-500, 500, size=2),
                       float(rng.uniform(-500, 500))), label=LARGE))
    return cases


EXERCISES = [
    Exercise(
        name="weighted_sum",
        reference=weighted_sum,
        visible=_weighted_sum_visible,
        hidden=_weighted_sum_hidden,
        check_dtype=False,
        hint="Multiply x and w element by element, add up the products, then add b once: np.dot(x, w) + b.",
    ),
    Exercise(
        name="dense_forward",
        reference=dense_forward,
        visible=_dense_forward_visible,
        hidden=_dense_forward_hidden,
        rtol=1e-5,
        atol=1e-6,
        hint="X has shape (N, n_in) and W has shape (n_in, n_out): compute X @ W, then add b, "
             "which NumPy adds to every row.",
    ),
    Exercise(
        name="add_bias_column",
        reference=add_bias_column,
        visible=_add_bias_column_visible,
        hidden=_add_bias_column_hidden,
        hint="Append a column of ones on the right with np.hstack; create it with "
             "np.ones((X.shape[0], 1), dtype=X.dtype) so that the dtype is kept.",
    ),
    Exercise(
        name="threshold_neuron",
        reference=threshold_neuron,
        visible=_threshold_neuron_visible,
        hidden=_threshold_neuron_hidden,
        check_dtype=False,
        hint="Compute X @ w, compare it with the threshold using >= (equality fires), "
             "and turn the booleans into 0 and 1 with .astype(int).",
    ),
]
