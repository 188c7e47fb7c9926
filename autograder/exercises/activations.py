r"""Graded exercises of lesson 06-activations: the sigmoid, the ReLU family and softmax.

=================  ======================================================  ===================================
exercise           what the student writes                                 reference
=================  ======================================================  ===================================
``sigmoid``        :math:`\sigma(x) = \frac{1}{1 + e^{-x}}`, stable           ``nnlib.activations.sigmoid``
``sigmoid_grad``   :math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))`              ``nnlib.activations.sigmoid_grad``
``relu``           :math:`\max(0, x)`                                       ``nnlib.activations.relu``
``relu_grad``      :math:`[x > 0]`                                          ``nnlib.activations.relu_grad``
``leaky_relu``     :math:`x` if :math:`x > 0`, else :math:`\alpha x`           ``nnlib.activations.leaky_relu``
``softmax``        :math:`e^{x_i} / \sum_j e^{x_j}` for every row, stable     ``nnlib.activations.softmax``
=================  ======================================================  ===================================

Every function keeps the shape and the dtype of ``x`` (float32 stays float32). The derivative
exercises set ``gradient_of``, so the grader also compares them with a numerical derivative of the
forward function; at a kink (ReLU at 0) only the reference's convention counts: 0. The exercises
that exponentiate allow a relative error of 1e-5, so that float32 rounding of an equivalent
formula passes.
"""
import numpy as np

from autograder.exercise import Case, Exercise
from nnlib import activations

# Labels and hints are English gettext msgids, translated by the autograder's catalogs
# (the first five are shared with lesson 01-neuron).
SHAPE = "input of shape {shape}"
WORKED = "worked example"
ZEROS = "zero inputs"
LARGE = "large magnitudes"
FLOAT32 = "float32 input"
EXTREME = "inputs of -1000 and +1000"
ALPHA = "alpha = {alpha}"
EQUAL = "equal scores in a row"


def _shape(x):
    """Label argument: the shape of ``x``, e.g. ``(3, 4)``."""
    return {"shape": str(tuple(x.shape))}


def _elementwise_hidden(rng):
    """Random cases for an element-wise function: shapes (n,), (1, n), (n, 1), zeros, +-500, float32."""
    cases = []
    for shape in (7, (1, 5), (4, 1)):
        x = rng.normal(scale=3.0, size=shape)
        cases.append(Case((x,), label=SHAPE, label_args=_shape(x)))
    cases.append(Case((np.zeros((2, 3)),), label=ZEROS))
    large = rng.uniform(100.0, 500.0, size=6) * rng.choice([-1.0, 1.0], size=6)
    cases.append(Case((large,), label=LARGE))
    cases.append(Case((rng.normal(scale=3.0, size=(3, 3)).astype(np.float32),), label=FLOAT32))
    return cases


# --- sigmoid and its derivative ------------------------------------------------------------------

def _sigmoid_visible():
    return [
        Case((np.array([-2.0, 0.0, 2.0]),), label=WORKED),
        Case((np.array([[-1.0, 0.5], [3.0, -4.0]]),), label=SHAPE, label_args={"shape": "(2, 2)"}),
        Case((np.array([-1000.0, -50.0, 50.0, 1000.0]),), label=EXTREME),
    ]


def _sigmoid_hidden(rng):
    extreme = np.array([-1000.0, -709.0, -40.0, 40.0, 709.0, 1000.0])
    extreme32 = rng.uniform(-1000.0, 1000.0, size=(2, 4)).astype(np.float32)
    return _elementwise_hidden(rng) + [
        Case((rng.permutation(extreme),), label=EXTREME),
        Case((extreme32,), label=FLOAT32),
    ]


def _sigmoid_grad_visible():
    return [
        Case((np.array([-2.0, 0.0, 2.0]),), label=WORKED),
        Case((np.array([[-1.0, 0.5], [3.0, -4.0]]),), label=SHAPE, label_args={"shape": "(2, 2)"}),
        Case((np.array([-1000.0, -50.0, 50.0, 1000.0]),), label=EXTREME),
    ]


def _sigmoid_grad_hidden(rng):
    return _elementwise_hidden(rng) + [
        Case((np.array([-1000.0, -200.0, 200.0, 1000.0]),), label=EXTREME),
    ]


# --- the ReLU family -----------------------------------------------------------------------------

def _relu_visible():
    return [
        Case((np.array([-2.0, -0.5, 0.0, 1.5]),), label=WORKED),
        Case((np.array([[1.0, -1.0, 2.0], [-3.0, 0.25, -0.25]]),), label=SHAPE, label_args={"shape": "(2, 3)"}),
        Case((np.array([0.5, -1.5, 2.0], dtype=np.float32),), label=FLOAT32),
    ]


def _relu_grad_visible():
    return [
        Case((np.array([-2.0, -0.5, 0.0, 1.5]),), label=WORKED),
        Case((np.array([[1.0, -1.0, 2.0], [-3.0, 0.25, -0.25]]),), label=SHAPE, label_args={"shape": "(2, 3)"}),
        Case((np.array([0.5, -1.5, 2.0], dtype=np.float32),), label=FLOAT32),
    ]


def _leaky_relu_visible():
    return [
        Case((np.array([-2.0, -0.5, 0.0, 1.5]),), label=WORKED),
        Case((np.array([[1.0, -1.0, 2.0], [-3.0, 0.25, -0.25]]),), label=SHAPE, label_args={"shape": "(2, 3)"}),
        Case((np.array([-2.0, -0.5, 0.0, 1.5]),), {"alpha": 0.1}, label=ALPHA, label_args={"alpha": "0.1"}),
    ]


def _leaky_relu_hidden(rng):
    cases = _elementwise_hidden(rng)
    for alpha in (0.01, float(np.round(rng.uniform(0.05, 0.5), 2))):
        x = rng.normal(scale=3.0, size=(3, 5))
        cases.append(Case((x,), {"alpha": alpha}, label=ALPHA, label_args={"alpha": f"{alpha:g}"}))
    return cases


# --- softmax -------------------------------------------------------------------------------------

def softmax(x):
    r"""Softmax of every row of a 2-D array (``nnlib.activations.softmax`` along the last axis).

    .. math:: \operatorname{softmax}(x)_{n,i} = \frac{e^{x_{n,i} - \max_k x_{n,k}}}{\sum_j e^{x_{n,j} - \max_k x_{n,k}}}

    ``x``: (N, K) -> (N, K), same dtype; every row sums to 1.
    """
    return activations.softmax(x, axis=-1)


def _softmax_visible():
    return [
        Case((np.array([[1.0, 2.0, 3.0]]),), label=WORKED),
        Case((np.array([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]]),), label=SHAPE, label_args={"shape": "(2, 3)"}),
        Case((np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]]),), label=EXTREME),
    ]


def _softmax_hidden(rng):
    cases = []
    for shape in ((4, 5), (1, 6), (5, 1), (3, 2)):
        x = rng.normal(scale=3.0, size=shape)
        cases.append(Case((x,), label=SHAPE, label_args=_shape(x)))
    cases.append(Case((np.full((2, 4), float(rng.uniform(-5.0, 5.0))),), label=EQUAL))
    cases.append(Case((rng.uniform(-1000.0, 1000.0, size=(3, 4)),), label=EXTREME))
    cases.append(Case((rng.normal(scale=3.0, size=(3, 4)).astype(np.float32),), label=FLOAT32))
    return cases


EXERCISES = [
    Exercise(
        name="sigmoid",
        reference=activations.sigmoid,
        visible=_sigmoid_visible,
        hidden=_sigmoid_hidden,
        rtol=1e-5,
        hint="Compute z = np.exp(-np.abs(x)) first: it never overflows. Then return "
             "np.where(x >= 0, 1 / (1 + z), z / (1 + z)).",
    ),
    Exercise(
        name="sigmoid_grad",
        reference=activations.sigmoid_grad,
        visible=_sigmoid_grad_visible,
        hidden=_sigmoid_grad_hidden,
        gradient_of="sigmoid",
        rtol=1e-5,
        hint="The derivative takes the input x: compute s = sigmoid(x) with your stable sigmoid, "
             "then return s * (1 - s).",
    ),
    Exercise(
        name="relu",
        reference=activations.relu,
        visible=_relu_visible,
        hidden=_elementwise_hidden,
        hint="np.maximum(x, 0) compares every element with 0 and keeps the larger one.",
    ),
    Exercise(
        name="relu_grad",
        reference=activations.relu_grad,
        visible=_relu_grad_visible,
        hidden=_elementwise_hidden,
        gradient_of="relu",
        hint="Return 1.0 where x > 0 and 0.0 elsewhere, in x's dtype: (x > 0).astype(x.dtype).",
    ),
    Exercise(
        name="leaky_relu",
        reference=activations.leaky_relu,
        visible=_leaky_relu_visible,
        hidden=_leaky_relu_hidden,
        hint="Keep x where x > 0 and multiply it by alpha elsewhere: np.where(x > 0, x, alpha * x). "
             "Use the alpha argument, not a fixed number.",
    ),
    Exercise(
        name="softmax",
        reference=softmax,
        visible=_softmax_visible,
        hidden=_softmax_hidden,
        rtol=1e-5,
        hint="Work row by row with axis=1 and keepdims=True: subtract x.max(axis=1, keepdims=True), "
             "exponentiate, then divide by the row sums.",
    ),
]
