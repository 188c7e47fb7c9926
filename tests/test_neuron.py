"""nnlib.neuron: McCulloch-Pitts units, the perceptron (every backend), the Polish worked example."""
import numpy as np
import pytest

from nnlib import neuron
from nnlib.datasets import logic_gate, polish_example
from nnlib.gradcheck import numerical_gradient, rel_error

# ---------------------------------------------------------------------------------------------
# McCulloch-Pitts
# ---------------------------------------------------------------------------------------------


def test_threshold_unit_fires_at_threshold():
    assert neuron.threshold_unit([1, 1], [1, 1], threshold=2) == 1
    assert neuron.threshold_unit([1, 0], [1, 1], threshold=2) == 0
    assert neuron.threshold_unit([1, 0], [2, 1], threshold=2) == 1  # weighted sum 2 >= 2


def test_threshold_unit_inhibitory_input_blocks_firing():
    # the excitatory sum (5) is far above the threshold, yet one active inhibitory input vetoes
    assert neuron.threshold_unit([1, 1, 1], [3, 2, 0], threshold=2, inhibitory=[False, False, True]) == 0
    assert neuron.threshold_unit([1, 1, 0], [3, 2, 0], threshold=2, inhibitory=[False, False, True]) == 1


def test_threshold_unit_batch_and_shape_errors():
    out = neuron.threshold_unit([[0, 0], [0, 1], [1, 1]], [1, 1], threshold=2)
    np.testing.assert_array_equal(out, [0, 0, 1])
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        neuron.threshold_unit([[1, 1, 1]], [1, 1], threshold=2)
    with pytest.raises(ValueError, match="inhibitory"):
        neuron.threshold_unit([1, 1], [1, 1], threshold=2, inhibitory=[True])


@pytest.mark.parametrize("name, n_inputs, outputs", [
    ("identity", 1, [0, 1]),
    ("and", 2, [0, 0, 0, 1]),
    ("or", 2, [0, 1, 1, 1]),
    ("a_and_not_b", 2, [0, 0, 1, 0]),  # rows 00, 01, 10, 11: only A on and B off
    ("not", 1, [1, 0]),
])
def test_mcculloch_pitts_networks(name, n_inputs, outputs):
    table = neuron.truth_table(neuron.MP_NETWORKS[name], n_inputs)
    assert table.shape == (2 ** n_inputs, n_inputs + 1)
    np.testing.assert_array_equal(table[:, -1], outputs)


def test_truth_table_rows_in_counting_order():
    table = neuron.truth_table(lambda a, b, c: a, 3)
    np.testing.assert_array_equal(table[:, :3], [[int(b) for b in f"{i:03b}"] for i in range(8)])
    with pytest.raises(ValueError):
        neuron.truth_table(neuron.mp_and, 0)


# ---------------------------------------------------------------------------------------------
# Perceptron
# ---------------------------------------------------------------------------------------------


def _random_problem(seed, n=60, d=3, use_sign=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ rng.standard_normal(d) + 0.3 > 0).astype(float)
    if use_sign:
        y = 2 * y - 1
    orders = np.array([rng.permutation(n) for _ in range(15)])
    return X, y, orders


@pytest.mark.parametrize("use_sign", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_paths_match_naive_loop(use_sign, seed):
    X, y, orders = _random_problem(seed, use_sign=use_sign)
    w0 = np.zeros(X.shape[1])
    w_ref, b_ref, err_ref = neuron.perceptron_train_naive(X, y, w0, 0.0, 0.05, orders, use_sign)
    for backend in ("numba", "numpy"):
        w, b, err = neuron.perceptron_train(X, y, w0, 0.0, 0.05, orders, use_sign, backend=backend)
        np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-12)
        assert b == pytest.approx(b_ref, abs=1e-12)
        assert err == err_ref
    assert w0.tolist() == [0.0, 0.0, 0.0]  # the caller's initial weights are not modified


def test_numba_kernel_python_version_matches():
    X, y, orders = _random_problem(5)
    w, b = np.zeros(3), np.zeros(1)
    errors = np.zeros(len(orders), dtype=np.int64)
    n_run = neuron._perceptron_kernel.py_func(X, y, w, b, 0.05, orders, False, errors)
    w_ref, b_ref, err_ref = neuron.perceptron_train_naive(X, y, np.zeros(3), 0.0, 0.05, orders, False)
    np.testing.assert_allclose(w, w_ref, atol=1e-12)
    assert errors[:n_run].tolist() == err_ref


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_perceptron_learns_linearly_separable_gates(gate, backend):
    X, y = logic_gate(gate)
    model = neuron.Perceptron(learning_rate=0.1, epochs=100, seed=0).fit(X, y, backend=backend)
    assert model.converged
    assert model.errors[-1] == 0
    assert model.score(X, y) == 1.0
    np.testing.assert_array_equal(model.predict(X), y)


def test_perceptron_with_sign_activation():
    X, y = logic_gate("or")
    y_pm = 2 * y - 1
    model = neuron.Perceptron(activation="sign", seed=1).fit(X, y_pm)
    assert model.score(X, y_pm) == 1.0
    assert set(np.unique(model.predict(X))) <= {-1, 1}


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_xor_is_never_learned(backend):
    X, y = logic_gate("xor")
    model = neuron.Perceptron(learning_rate=0.1, epochs=200, seed=0).fit(X, y, backend=backend)
    assert not model.converged
    assert len(model.errors) == 200
    assert min(model.errors) > 0  # some sample is misclassified in every single epoch
    assert model.score(X, y) < 1.0


def test_record_keeps_every_step_and_matches_fast_path():
    X, y = logic_gate("and")
    fast = neuron.Perceptron(seed=3).fit(X, y)
    rec = neuron.Perceptron(seed=3, record=True).fit(X, y)
    np.testing.assert_allclose(rec.weights, fast.weights)
    assert rec.bias == pytest.approx(fast.bias)
    assert rec.errors == fast.errors
    assert len(rec.history) == 4 * len(rec.errors)
    first = rec.history[0]
    assert first.epoch == 0 and first.w_before.tolist() == [0.0, 0.0] and first.b_before == 0.0
    for s in rec.history:  # every step applies the rule literally
        np.testing.assert_allclose(s.w_after, s.w_before + 0.1 * (s.y - s.y_hat) * s.x)
        assert s.b_after == pytest.approx(s.b_before + 0.1 * (s.y - s.y_hat))
        assert s.y_hat == (1 if s.net >= 0 else 0)
    for prev, nxt in zip(rec.history, rec.history[1:]):  # the steps chain
        np.testing.assert_array_equal(prev.w_after, nxt.w_before)
    np.testing.assert_array_equal(rec.history[-1].w_after, rec.weights)


def test_no_shuffle_visits_in_order():
    X, y = logic_gate("or")
    rec = neuron.Perceptron(shuffle=False, record=True).fit(X, y)
    assert [s.index for s in rec.history[:8]] == [0, 1, 2, 3, 0, 1, 2, 3]


def test_perceptron_errors():
    X, y = logic_gate("and")
    with pytest.raises(RuntimeError, match="fit"):
        neuron.Perceptron().predict(X)
    with pytest.raises(ValueError, match="-1 or 1"):
        neuron.Perceptron(activation="sign").fit(X, y)  # 0/1 targets with sign
    with pytest.raises(ValueError, match="Did you mean 'heaviside'"):
        neuron.Perceptron(activation="heavyside")
    with pytest.raises(ValueError, match=r"\(4,\)"):
        neuron.Perceptron().fit(X, y[:3])
    model = neuron.Perceptron().fit(X, y)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        model.predict(np.ones((2, 3)))


# ---------------------------------------------------------------------------------------------
# The Polish worked example
# ---------------------------------------------------------------------------------------------


def test_linear_neuron_step_reproduces_the_lecture():
    X, y = polish_example()
    s = neuron.linear_neuron_step(X, y, w1=0.1, w0=0.0, lr=0.01)
    np.testing.assert_allclose(s.net, [0.006, 0.087, 0.060, 0.071, 0.002])
    np.testing.assert_allclose(s.out, s.net)
    assert f"{s.loss:.2f}" == "15.71"
    np.testing.assert_allclose(s.dloss_dout, [-6.328, -9.286, -8.400, -8.998, -6.036])
    np.testing.assert_array_equal(s.dout_dnet, np.ones(5))
    np.testing.assert_allclose(s.dnet_dw1, X)
    np.testing.assert_allclose(np.round(s.grad_w1, 3), [-0.380, -8.079, -5.040, -6.389, -0.121])
    assert round(s.grad_w1_mean, 5) == -4.00156
    assert round(s.w1_new, 7) == 0.1400156
    assert s.grad_w0_mean == pytest.approx(-7.8096)
    assert s.w0_new == pytest.approx(0.078096)


def test_linear_neuron_gradients_are_the_mse_gradient():
    X, y = polish_example()
    w = np.array([0.1, 0.0])

    def mse(params):
        return np.mean((y - (params[0] * X + params[1])) ** 2)

    s = neuron.linear_neuron_step(X, y, w1=w[0], w0=w[1], lr=0.01)
    num = numerical_gradient(mse, w.copy())
    assert rel_error(np.array([s.grad_w1_mean, s.grad_w0_mean]), num) < 1e-6


def test_training_reduces_the_loss():
    X, y = polish_example()
    steps = neuron.train_linear_neuron(X, y, w1=0.1, w0=0.0, lr=0.1, epochs=200)
    assert steps[0].loss == pytest.approx(15.711534)
    assert steps[1].net[0] == pytest.approx(steps[0].w1_new * X[0] + steps[0].w0_new)
    assert steps[-1].loss < 0.05 < steps[0].loss
    assert all(a.loss > b.loss for a, b in zip(steps, steps[1:]))


def test_linear_neuron_shape_error():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        neuron.linear_neuron_step([1.0, 2.0, 3.0], [1.0, 2.0], 0.1, 0.0, 0.01)
