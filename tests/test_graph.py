"""nnlib.graph: scalar autodiff checked by hand and against numerical gradients."""
import math

import matplotlib
import numpy as np
import pytest

from nnlib.gradcheck import numerical_gradient, rel_error
from nnlib.graph import Value, draw, node_depths, to_text, topological_order

matplotlib.use("Agg")


def test_lecture_graph_e_equals_a_plus_b_times_b_plus_1():
    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    c = a + b
    d = b + 1
    e = c * d
    e.backward()
    assert (c.data, d.data, e.data) == (3.0, 2.0, 6.0)
    assert (c.grad, d.grad) == (2.0, 3.0)
    assert a.grad == 2.0          # de/da = d
    assert b.grad == 5.0          # de/db = d + c: b is used twice, contributions add up


def _grad_pair(fn, x0):
    """Analytic gradient of fn(Value(x)) and a numerical gradient of fn on floats, at x0 (1-D)."""
    xs = [Value(v) for v in x0]
    out = fn(*xs)
    out.backward()
    analytic = np.array([x.grad for x in xs])
    numeric = numerical_gradient(lambda arr: fn(*[Value(v) for v in arr]).data, np.array(x0, dtype=np.float64))
    return analytic, numeric


OPS = {
    "add": (lambda a, b: a + b, [0.7, -1.3]),
    "sub": (lambda a, b: a - b, [0.7, -1.3]),
    "mul": (lambda a, b: a * b, [0.7, -1.3]),
    "div": (lambda a, b: a / b, [0.7, -1.3]),
    "pow": (lambda a: a ** 3, [0.7]),
    "pow_frac": (lambda a: a ** 0.5, [1.7]),
    "pow_neg": (lambda a: a ** -2, [1.3]),
    "neg": (lambda a: -a, [0.7]),
    "radd": (lambda a: 2.5 + a, [0.7]),
    "rsub": (lambda a: 2.5 - a, [0.7]),
    "rmul": (lambda a: 2.5 * a, [0.7]),
    "rtruediv": (lambda a: 2.5 / a, [0.7]),
    "exp": (lambda a: a.exp(), [0.7]),
    "log": (lambda a: a.log(), [0.7]),
    "tanh": (lambda a: a.tanh(), [0.7]),
    "sigmoid": (lambda a: a.sigmoid(), [-0.7]),
    "relu_pos": (lambda a: a.relu(), [0.7]),
    "relu_neg": (lambda a: a.relu() + a * 0.1, [-0.7]),
    "neuron": (lambda x1, x2, w1, w2, b: (x1 * w1 + x2 * w2 + b).tanh(), [2.0, 0.0, -3.0, 1.0, 6.88]),
    "composite": (lambda a, b: ((a * b).exp() / (1 + a ** 2) - b.log()).sigmoid(), [0.3, 1.4]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_gradient_matches_numerical(name):
    fn, x0 = OPS[name]
    analytic, numeric = _grad_pair(fn, x0)
    assert rel_error(analytic, numeric) < 1e-6, (analytic, numeric)


def test_values_match_math():
    a = Value(0.5)
    assert (a ** 2).data == 0.25
    assert (1 / a).data == 2.0
    assert (3 - a).data == 2.5
    assert a.exp().data == pytest.approx(math.exp(0.5))
    assert a.sigmoid().data == pytest.approx(1 / (1 + math.exp(-0.5)))
    assert Value(-2.0).relu().data == 0.0
    assert Value(-1000.0).sigmoid().data == pytest.approx(0.0)  # no overflow
    assert Value(1000.0).sigmoid().data == pytest.approx(1.0)


@pytest.mark.parametrize("build, expected", [
    (lambda a: a * a, 2 * 3.0),   # d(a^2)/da = 2a
    (lambda a: a + a, 2.0),
    (lambda a: a * a * a, 3 * 3.0 ** 2),
    (lambda a: (a + 1) * (a - 1) + a, 2 * 3.0 + 1),
])
def test_reused_node_accumulates(build, expected):
    a = Value(3.0)
    build(a).backward()
    assert a.grad == pytest.approx(expected)


def test_gradients_accumulate_until_zero_grad():
    a = Value(3.0)
    out = a * a
    out.backward()
    out.backward()
    assert a.grad == 12.0  # two calls add up, as in PyTorch
    out.zero_grad()
    assert a.grad == 0.0 and out.grad == 0.0
    out.backward()
    assert a.grad == 6.0


def test_backward_on_a_chain_of_100000_nodes_does_not_recurse():
    x = Value(0.0)
    node = x
    for _ in range(100_000):
        node = node + 1
    node.backward()
    assert node.data == 100_000
    assert x.grad == 1.0
    assert len(topological_order(node)) == 200_001  # x, 100 000 constants 1, 100 000 sums


def test_topological_order_puts_inputs_first():
    a, b = Value(2.0), Value(1.0)
    e = (a + b) * (b + 1)
    order = topological_order(e)
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is e
    assert len(order) == 6  # a, b, the constant 1, c, d, e; b only once
    for node in order:
        assert all(position[id(c)] < position[id(node)] for c in node._prev)


def test_bad_input_messages():
    with pytest.raises(TypeError, match="plain number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="positive"):
        Value(-1.0).log()
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(TypeError, match="real number"):
        Value("two")


def test_to_text_lists_every_node():
    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    c = a + b
    c.label = "c"
    d = b + 1
    d.label = "d"
    e = c * d
    e.label = "e"
    e.backward()
    lines = to_text(e).splitlines()
    assert len(lines) == 6
    text = to_text(e)
    assert "c = a + b" in text and "e = c * d" in text and "a (input)" in text
    b_line = next(line for line in lines if line.startswith("b "))
    assert "data=1.0000" in b_line and "grad=5.0000" in b_line
    assert lines[-1].startswith("e = c * d")


def test_node_depths_layers():
    a, b = Value(2.0), Value(1.0)
    c = a + b
    e = c * (b + 1)
    depth = node_depths(e)
    assert depth[id(a)] == depth[id(b)] == 0
    assert depth[id(c)] == 1 and depth[id(e)] == 2


def test_draw_returns_a_figure_with_every_node():
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyBboxPatch

    a, b = Value(2.0, label="a"), Value(1.0, label="b")
    e = (a + b) * (b + 1)
    e.label = "e"
    e.backward()
    fig = draw(e)
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        ax = fig.axes[0]
        boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
        ops = [p for p in ax.patches if isinstance(p, Circle)]
        assert len(boxes) == 6 and len(ops) == 3       # 6 values, 3 operations (+, +, *)
        texts = [t.get_text() for t in ax.texts]
        assert "b\ndata 1 | grad 5" in texts
        assert "e\ndata 6 | grad 1" in texts
        assert sorted(t for t in texts if t in ("+", "*")) == ["*", "+", "+"]
        assert "e" in ax.get_title()
        fig.canvas.draw()  # renders without error
    finally:
        plt.close(fig)


def test_draw_refuses_huge_graphs():
    node = Value(0.0)
    for _ in range(300):
        node = node + 1
    with pytest.raises(ValueError, match="max_nodes"):
        draw(node)
