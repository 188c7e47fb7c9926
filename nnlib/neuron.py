r"""The single neuron, in the order history met it.

1. **McCulloch-Pitts (1943)**: a threshold unit on binary signals,

   .. math:: C = \begin{cases} 1 & \text{if } \sum_i w_i x_i \ge \theta \text{ and no inhibitory input is active} \\ 0 & \text{otherwise} \end{cases}

   and the four small networks of the lecture, where every neuron fires when at least two
   signals arrive (:math:`\theta = 2`): identity, AND, OR and A AND NOT B.
2. **Rosenblatt's perceptron (1957)**: a linear threshold unit (LTU) :math:`\hat y = \text{step}(w^T x + b)`
   learning sample by sample with the perceptron rule
   :math:`w_i \leftarrow w_i + \eta\,(y - \hat y)\,x_i`.
3. **A linear neuron trained by gradient descent** on the mean squared error, one step spelled
   out with every intermediate of the chain rule (the worked example of the Polish lecture).
"""
import itertools
from typing import NamedTuple

import numpy as np

from nnlib._backend import njit, use_numba
from nnlib._checks import as_float_array, check_shape
from nnlib._registry import lookup

# ---------------------------------------------------------------------------------------------
# 1. McCulloch-Pitts threshold unit
# ---------------------------------------------------------------------------------------------


def threshold_unit(inputs, weights, threshold, inhibitory=None):
    r"""McCulloch-Pitts neuron: fire (1) when the weighted sum reaches the threshold.

    .. math::
        y = \begin{cases} 1 & \text{if } \sum_i w_i x_i \ge \theta
        \text{ and } x_k = 0 \text{ for every inhibitory input } k \\ 0 & \text{otherwise} \end{cases}

    ``inputs``: binary signals, shape ``(n_inputs,)`` or ``(batch, n_inputs)``.
    ``weights``: shape ``(n_inputs,)`` (number of connections from each input).
    ``inhibitory``: optional booleans, shape ``(n_inputs,)``; an active inhibitory input blocks firing
    whatever the sum (absolute inhibition, as in the lecture). Returns an int (or ``(batch,)`` ints).
    """
    x = as_float_array(inputs, "inputs")
    w = as_float_array(weights, "weights", ndim=1)
    if x.ndim not in (1, 2):
        raise ValueError(f"inputs must have shape (n_inputs,) or (batch, n_inputs), got {x.shape}")
    check_shape(x, (None,) * (x.ndim - 1) + (w.shape[0],), "inputs")
    total = x @ w
    fires = total >= threshold
    if inhibitory is not None:
        mask = np.asarray(inhibitory, dtype=bool)
        check_shape(mask, w.shape, "inhibitory")
        fires = fires & ~np.any(x[..., mask] != 0, axis=-1)
    return int(fires) if fires.ndim == 0 else fires.astype(np.int64)


def mp_identity(a):
    r"""C = A: neuron C receives two connections from A, so A alone reaches :math:`\theta = 2`."""
    return threshold_unit(np.stack([a, a], axis=-1), [1, 1], threshold=2)


def mp_and(a, b):
    r"""C = A AND B: one connection from each of A and B, :math:`\theta = 2`; one signal is not enough."""
    return threshold_unit(np.stack([a, b], axis=-1), [1, 1], threshold=2)


def mp_or(a, b):
    r"""C = A OR B: two connections from A and two from B, :math:`\theta = 2`; either input suffices."""
    return threshold_unit(np.stack([a, a, b, b], axis=-1), [1, 1, 1, 1], threshold=2)


def mp_a_and_not_b(a, b):
    r"""C = A AND NOT B: two connections from A and one inhibitory connection from B, :math:`\theta = 2`."""
    return threshold_unit(np.stack([a, a, b], axis=-1), [1, 1, 0], threshold=2,
                          inhibitory=[False, False, True])


def mp_not(b):
    r"""C = NOT B: the A AND NOT B network with A always on (the lecture's negation gate)."""
    return mp_a_and_not_b(np.ones_like(b), b)


MP_NETWORKS = {
    "identity": mp_identity,
    "and": mp_and,
    "or": mp_or,
    "a_and_not_b": mp_a_and_not_b,
    "not": mp_not,
}


def truth_table(fn, n_inputs):
    r"""Evaluate ``fn`` on all :math:`2^n` binary inputs.

    Returns an int array of shape ``(2**n_inputs, n_inputs + 1)``: the input columns in counting
    order (00, 01, 10, 11 for two inputs) and the output in the last column.
    """
    if not isinstance(n_inputs, (int, np.integer)) or n_inputs < 1:
        raise ValueError(f"n_inputs must be a positive integer, got {n_inputs!r}")
    rows = [list(bits) + [int(fn(*bits))] for bits in itertools.product((0, 1), repeat=int(n_inputs))]
    return np.array(rows, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# 2. Rosenblatt perceptron
# ---------------------------------------------------------------------------------------------


def heaviside(z):
    r"""Heaviside step: :math:`\text{Heaviside}(z) = 0` if :math:`z < 0`, 1 if :math:`z \ge 0`."""
    return (np.asarray(z) >= 0).astype(np.int64)


def sign(z):
    r"""Sign: :math:`\text{sgn}(z) = -1` if :math:`z < 0`, 0 if :math:`z = 0`, +1 if :math:`z > 0`."""
    return np.sign(np.asarray(z)).astype(np.int64)


STEP_FUNCTIONS = {"heaviside": heaviside, "sign": sign}
TARGETS = {"heaviside": (0, 1), "sign": (-1, 1)}


class Step(NamedTuple):
    """One visit of one sample during training (``Perceptron(record=True).history``)."""
    epoch: int
    index: int            # row of X
    x: np.ndarray         # (n_features,)
    net: float            # w^T x + b before the update
    y: int                # target
    y_hat: int            # prediction before the update
    w_before: np.ndarray  # (n_features,)
    b_before: float
    w_after: np.ndarray   # (n_features,); equal to w_before when y_hat == y
    b_after: float


def _step_value(net, use_sign):
    """The step function on one number, the same in every training path."""
    if use_sign:
        return 1.0 if net > 0 else (-1.0 if net < 0 else 0.0)
    return 1.0 if net >= 0 else 0.0


def perceptron_train_naive(X, y, w, b, eta, orders, use_sign, steps=None):
    r"""Reference perceptron training in plain Python (lists and floats), readable line by line.

    For each epoch ``e`` and each row ``i`` in ``orders[e]``:
    :math:`\hat y = \text{step}(\sum_j w_j x_{ij} + b)`, then
    :math:`w_j \leftarrow w_j + \eta (y_i - \hat y) x_{ij}` and :math:`b \leftarrow b + \eta (y_i - \hat y)`.
    Stops after the first epoch without mistakes. Appends a :class:`Step` to ``steps`` per visit when
    a list is given. Returns ``(w, b, errors_per_epoch)``.
    """
    X = [[float(v) for v in row] for row in np.asarray(X)]
    y = [float(v) for v in np.asarray(y)]
    w = [float(v) for v in np.asarray(w)]
    b = float(b)
    errors = []
    for epoch, order in enumerate(np.asarray(orders).tolist()):
        mistakes = 0
        for i in order:
            net = 0.0
            for wj, xj in zip(w, X[i]):
                net += wj * xj
            net += b
            y_hat = _step_value(net, use_sign)
            delta = eta * (y[i] - y_hat)
            w_before, b_before = list(w), b
            if delta != 0.0:
                mistakes += 1
                w = [wj + delta * xj for wj, xj in zip(w, X[i])]
                b = b + delta
            if steps is not None:
                steps.append(Step(epoch, i, np.array(X[i]), net, int(y[i]), int(y_hat),
                                  np.array(w_before), b_before, np.array(w), b))
        errors.append(mistakes)
        if mistakes == 0:
            break
    return np.array(w), b, errors


@njit
def _perceptron_kernel(X, y, w, b, eta, orders, use_sign, errors):
    """Numba kernel: the sample-by-sample rule; updates ``w`` and ``b[0]`` in place.

    ``errors`` (epochs,) receives the mistakes per epoch; returns the number of epochs run.
    """
    n_features = X.shape[1]
    for epoch in range(orders.shape[0]):
        mistakes = 0
        for k in range(orders.shape[1]):
            i = orders[epoch, k]
            net = 0.0
            for j in range(n_features):
                net += w[j] * X[i, j]
            net += b[0]
            if use_sign:
                y_hat = 1.0 if net > 0 else (-1.0 if net < 0 else 0.0)
            else:
                y_hat = 1.0 if net >= 0 else 0.0
            delta = eta * (y[i] - y_hat)
            if delta != 0.0:
                mistakes += 1
                for j in range(n_features):
                    w[j] += delta * X[i, j]
                b[0] += delta
        errors[epoch] = mistakes
        if mistakes == 0:
            return epoch + 1
    return orders.shape[0]


def _perceptron_numpy(X, y, w, b, eta, orders, use_sign, errors):
    """NumPy path (no Numba): the same loop over samples, vectorised over the features."""
    for epoch, order in enumerate(orders):
        mistakes = 0
        for i in order:
            net = X[i] @ w + b[0]
            delta = eta * (y[i] - _step_value(net, use_sign))
            if delta != 0.0:
                mistakes += 1
                w += delta * X[i]
                b[0] += delta
        errors[epoch] = mistakes
        if mistakes == 0:
            return epoch + 1
    return len(orders)


def perceptron_train(X, y, w, b, eta, orders, use_sign, backend=None):
    """Fast perceptron training: ``backend`` "numba", "numpy" or None (``use_numba()`` decides).

    ``X`` (n, d) float64, ``y`` (n,), ``w`` (d,), ``orders`` (epochs, n) ints.
    Returns ``(w, b, errors_per_epoch)`` like :func:`perceptron_train_naive`.
    """
    if backend is None:
        backend = "numba" if use_numba() else "numpy"
    if backend not in ("numba", "numpy"):
        raise ValueError(f"backend must be 'numba', 'numpy' or None, got {backend!r}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    w = np.array(w, dtype=np.float64)
    b = np.array([b], dtype=np.float64)
    orders = np.ascontiguousarray(orders, dtype=np.int64)
    errors = np.zeros(len(orders), dtype=np.int64)
    loop = _perceptron_kernel if backend == "numba" else _perceptron_numpy
    n_run = loop(X, y, w, b, float(eta), orders, bool(use_sign), errors)
    return w, float(b[0]), errors[:n_run].tolist()


class Perceptron:
    r"""Rosenblatt's perceptron: a linear threshold unit trained with the perceptron rule.

    .. math::
        \hat y = \text{step}(w^T x + b), \qquad
        w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y)

    ``activation`` is "heaviside" (targets 0/1) or "sign" (targets -1/+1). Weights start at zero;
    each epoch visits every sample once (in a new random order when ``shuffle``, drawn from
    ``seed``), and training stops early after an epoch without mistakes (``converged`` is then True).
    With ``record=True`` every visit is kept in ``history`` as a :class:`Step`.

    Fitted attributes: ``weights`` (n_features,), ``bias`` (float), ``errors`` (mistakes per epoch),
    ``converged`` (bool), ``history`` (list of :class:`Step`, empty unless ``record``).
    """

    def __init__(self, learning_rate=0.1, activation="heaviside", epochs=50, shuffle=True, seed=None,
                 record=False):
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        if not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
        if not isinstance(activation, str):
            raise TypeError(f"activation must be 'heaviside' or 'sign', got {activation!r}")
        self.activation = lookup({k: k for k in STEP_FUNCTIONS}, activation, "step activation")
        self.learning_rate = float(learning_rate)
        self.epochs = int(epochs)
        self.shuffle = shuffle
        self.seed = seed
        self.record = record
        self.weights = None
        self.bias = None
        self.errors = []
        self.converged = False
        self.history = []

    def __repr__(self):
        return (f"Perceptron(learning_rate={self.learning_rate}, activation={self.activation!r}, "
                f"epochs={self.epochs}, shuffle={self.shuffle}, seed={self.seed}, record={self.record})")

    def _check_targets(self, y, n):
        y = np.asarray(y)
        check_shape(y, (n,), "y")
        allowed = TARGETS[self.activation]
        if not np.all(np.isin(y, allowed)):
            bad = sorted(set(np.unique(y).tolist()) - set(allowed))
            raise ValueError(f"with activation={self.activation!r} the targets must be {allowed[0]} or "
                             f"{allowed[1]}; found {bad}")
        return y.astype(np.float64)

    def fit(self, X, y, backend=None):
        """Train on ``X`` (n_samples, n_features) and ``y`` (n_samples,); returns ``self``.

        ``backend`` ("numba"/"numpy"/None) picks the fast loop; ``record=True`` uses the plain-Python loop.
        """
        X = as_float_array(X, "X", ndim=2).astype(np.float64)
        y = self._check_targets(y, X.shape[0])
        rng = np.random.default_rng(self.seed)
        n = X.shape[0]
        orders = np.array([rng.permutation(n) if self.shuffle else np.arange(n) for _ in range(self.epochs)])
        w0 = np.zeros(X.shape[1])
        use_sign = self.activation == "sign"
        self.history = []
        if self.record:
            w, b, errors = perceptron_train_naive(X, y, w0, 0.0, self.learning_rate, orders, use_sign,
                                                  steps=self.history)
        else:
            w, b, errors = perceptron_train(X, y, w0, 0.0, self.learning_rate, orders, use_sign, backend)
        self.weights, self.bias, self.errors = w, b, errors
        self.converged = errors[-1] == 0
        return self

    def decision_function(self, X):
        r"""The net input :math:`w^T x + b`, shape (n_samples,)."""
        if self.weights is None:
            raise RuntimeError("This Perceptron is not fitted yet: call fit(X, y) before predict()")
        X = as_float_array(X, "X", ndim=2)
        check_shape(X, (None, self.weights.shape[0]), "X")
        return X @ self.weights + self.bias

    def predict(self, X):
        """Predicted labels (n_samples,): 0/1 for heaviside, -1/0/+1 for sign."""
        return STEP_FUNCTIONS[self.activation](self.decision_function(X))

    def score(self, X, y):
        """Accuracy: the fraction of samples whose prediction equals the target."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


# ---------------------------------------------------------------------------------------------
# 3. Linear neuron, MSE, one gradient-descent step (the Polish worked example)
# ---------------------------------------------------------------------------------------------


class LinearStep(NamedTuple):
    r"""Every intermediate of one gradient-descent step of :math:`out = g(w_1 x + w_0)`, :math:`g(x) = x`.

    Arrays have shape (n_samples,); the rest are floats.
    """
    net: np.ndarray          # w1 * X + w0
    out: np.ndarray          # g(net) = net
    loss: float              # MSE = mean((y - out)^2)
    dloss_dout: np.ndarray   # -2 (y - out)
    dout_dnet: np.ndarray    # g'(net) = 1
    dnet_dw1: np.ndarray     # X
    grad_w1: np.ndarray      # dloss_dout * dout_dnet * dnet_dw1, per sample
    grad_w1_mean: float
    grad_w0: np.ndarray      # dloss_dout * dout_dnet * 1, per sample
    grad_w0_mean: float
    w1_new: float            # w1 - lr * grad_w1_mean
    w0_new: float            # w0 - lr * grad_w0_mean


def linear_neuron_step(X, y, w1, w0, lr):
    r"""One gradient-descent step of a linear neuron on the mean squared error, by the chain rule.

    .. math::
        net = w_1 x + w_0, \quad out = g(net) = net, \quad
        Loss = \frac{1}{n}\sum_i (y_i - out_i)^2

        \frac{\partial Loss_i}{\partial w_1} = \frac{\partial Loss_i}{\partial out_i}
        \frac{\partial out_i}{\partial net_i} \frac{\partial net_i}{\partial w_1}
        = -2 (y_i - out_i) \cdot 1 \cdot x_i, \qquad
        w_1 \leftarrow w_1 - \eta \, \frac{1}{n}\sum_i \frac{\partial Loss_i}{\partial w_1}

    ``X``, ``y``: shape (n_samples,). With the lecture's numbers (``w1=0.1, w0=0, lr=0.01``) the loss
    is 15.71, the mean gradient -4.00156 and the new weight 0.1400156.
    """
    X = as_float_array(X, "X", ndim=1).astype(np.float64)
    y = as_float_array(y, "y", ndim=1).astype(np.float64)
    check_shape(y, X.shape, "y")
    net = w1 * X + w0
    out = net
    dloss_dout = -2.0 * (y - out)
    dout_dnet = np.ones_like(net)
    dnet_dw1 = X
    grad_w1 = dloss_dout * dout_dnet * dnet_dw1
    grad_w0 = dloss_dout * dout_dnet * 1.0
    return LinearStep(
        net=net, out=out, loss=float(np.mean((y - out) ** 2)),
        dloss_dout=dloss_dout, dout_dnet=dout_dnet, dnet_dw1=dnet_dw1,
        grad_w1=grad_w1, grad_w1_mean=float(np.mean(grad_w1)),
        grad_w0=grad_w0, grad_w0_mean=float(np.mean(grad_w0)),
        w1_new=float(w1 - lr * np.mean(grad_w1)), w0_new=float(w0 - lr * np.mean(grad_w0)),
    )


def train_linear_neuron(X, y, w1=0.1, w0=0.0, lr=0.01, epochs=1):
    """Repeat :func:`linear_neuron_step` for ``epochs`` epochs (full batch); returns the list of steps."""
    steps = []
    for _ in range(epochs):
        step = linear_neuron_step(X, y, w1, w0, lr)
        steps.append(step)
        w1, w0 = step.w1_new, step.w0_new
    return steps
