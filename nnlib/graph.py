r"""A computational graph of scalars with reverse-mode automatic differentiation (micrograd style).

Every operation on :class:`Value` objects creates a new node that remembers its inputs
(``_prev``), the operation (``_op``) and a small closure ``_backward`` that applies the chain rule
locally: it adds ``local derivative * out.grad`` to each input's ``grad``. ``backward()`` visits the
nodes in reverse topological order, so every node's ``grad`` is complete before it is passed on:

.. math::
    \frac{\partial L}{\partial x} = \sum_{y \,\in\, \text{parents}(x)}
    \frac{\partial L}{\partial y}\,\frac{\partial y}{\partial x}

The sum is why gradients are accumulated with ``+=``: a node used twice (``b`` in
:math:`e = (a + b)(b + 1)`) receives a contribution from each use.
"""
import math

import numpy as np

# ---------------------------------------------------------------------------------------------
# The node
# ---------------------------------------------------------------------------------------------


class Value:
    """A scalar node: ``data`` (float), ``grad`` (dL/d this node, filled by ``backward``)."""

    def __init__(self, data, _children=(), _op="", label=""):
        if isinstance(data, Value):
            raise TypeError("Value(data) needs a number, got a Value; use the Value itself")
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"Value(data) needs a real number, got {type(data).__name__}") from None
        self.grad = 0.0
        self._backward = _no_backward
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- arithmetic -------------------------------------------------------------------------

    def __add__(self, other):
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __sub__(self, other):
        other = _as_value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():  # d(a-b)/da = 1, d(a-b)/db = -1
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0:
            raise ZeroDivisionError(f"division by a Value equal to 0 ({other!r})")
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():  # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            self.grad += out.grad / other.data
            other.grad -= self.data / other.data ** 2 * out.grad
        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if isinstance(exponent, Value) or not isinstance(exponent, (int, float)):
            raise TypeError("Value ** k supports a plain number k only; for a variable exponent "
                            "write (k * x.log()).exp()")
        out = Value(self.data ** exponent, (self,), f"**{exponent:g}")

        def _backward():  # d(x^k)/dx = k x^(k-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
        out._backward = _backward
        return out

    def __neg__(self):
        out = Value(-self.data, (self,), "neg")

        def _backward():  # d(-x)/dx = -1
            self.grad -= out.grad
        out._backward = _backward
        return out

    def __radd__(self, other):  # other + self
        return _as_value(other) + self

    def __rmul__(self, other):  # other * self
        return _as_value(other) * self

    def __rsub__(self, other):  # other - self
        return _as_value(other) - self

    def __rtruediv__(self, other):  # other / self
        return _as_value(other) / self

    # ---- functions --------------------------------------------------------------------------

    def exp(self):
        r""":math:`e^x`, derivative :math:`e^x`."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self):
        r""":math:`\ln x` for :math:`x > 0`, derivative :math:`1/x`."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive Value, got data={self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self):
        r""":math:`\tanh x`, derivative :math:`1 - \tanh^2 x`."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self):
        r""":math:`\sigma(x) = 1 / (1 + e^{-x})`, derivative :math:`\sigma(x)(1 - \sigma(x))`."""
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        out = Value(s, (self,), "sigmoid")

        def _backward():
            self.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = _backward
        return out

    def relu(self):
        r""":math:`\max(0, x)`, derivative 1 for :math:`x > 0` and 0 otherwise."""
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    # ---- backpropagation --------------------------------------------------------------------

    def backward(self):
        r"""Fill ``grad`` of every node this one depends on with :math:`\partial\,\text{self} / \partial\,\text{node}`.

        Sets ``self.grad = 1`` and runs each node's ``_backward`` in reverse topological order.
        Gradients accumulate (as in PyTorch): call :meth:`zero_grad` before a second ``backward``.
        """
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            node._backward()

    def zero_grad(self):
        """Set ``grad = 0`` on this node and every node it depends on."""
        for node in topological_order(self):
            node.grad = 0.0


def _no_backward():
    """A leaf has nothing to pass on."""


def _as_value(x):
    return x if isinstance(x, Value) else Value(x)


def topological_order(root):
    """All nodes ``root`` depends on, each after its inputs (``root`` last).

    Iterative depth-first search with an explicit stack, so a chain of 100 000 nodes does not hit
    Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for child in node._prev:
            if id(child) not in visited:
                stack.append((child, False))
    return order


# ---------------------------------------------------------------------------------------------
# Looking at the graph
# ---------------------------------------------------------------------------------------------


def _names(order):
    """A display name per node: its label; an unlabelled input shows its number, others v0, v1, ..."""
    names, counter = {}, 0
    for node in order:
        if node.label:
            names[id(node)] = node.label
        elif not node._prev:
            names[id(node)] = f"{node.data:g}"
        else:
            names[id(node)] = f"v{counter}"
            counter += 1
    return names


def _formula(node, names):
    """How a node was computed, e.g. ``a + b`` or ``tanh(c)``; empty for a leaf."""
    args = [names[id(c)] for c in node._prev]
    if not node._op:
        return ""
    if len(args) == 2:
        return f"{args[0]} {node._op} {args[1]}"
    if node._op.startswith("**"):
        return f"{args[0]}{node._op}"
    if node._op == "neg":
        return f"-{args[0]}"
    return f"{node._op}({args[0]})"


def to_text(root):
    """One line per node in topological order: ``name = formula | data | grad``.

    >>> a, b = Value(2.0, label="a"), Value(1.0, label="b")
    >>> print(to_text((a + b).tanh()))  # doctest: +SKIP
    """
    order = topological_order(root)
    names = _names(order)
    rows = []
    for node in order:
        lhs = names[id(node)]
        formula = _formula(node, names)
        head = f"{lhs} = {formula}" if formula else f"{lhs} (input)"
        rows.append((head, f"data={node.data:.4f}", f"grad={node.grad:.4f}"))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{h:<{width}}  {d:>16}  {g:>16}" for h, d, g in rows)


def node_depths(root):
    """Column per node id for drawing: every computed node one past its deepest input, ``root``
    rightmost; an input (leaf) sits just left of the first node that uses it.
    """
    order = topological_order(root)
    depth, first_use = {}, {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    for node in order:
        for child in node._prev:
            first_use[id(child)] = min(first_use.get(id(child), depth[id(node)]), depth[id(node)])
    for node in order:
        if not node._prev and id(node) in first_use:
            depth[id(node)] = first_use[id(node)] - 1
    return depth


def _layout(root, order):
    """``{id: (x, y)}``: columns from :func:`node_depths`, filled from the right so that each node
    sits near the mean height of the nodes that use it (fewer crossing edges).
    """
    depth = node_depths(root)
    users = {}
    for node in order:
        for child in node._prev:
            users.setdefault(id(child), []).append(node)
    columns = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    position = {}
    for d in sorted(columns, reverse=True):
        col = columns[d]
        wanted = [np.mean([position[id(u)][1] for u in users.get(id(n), []) if id(u) in position] or [0.0])
                  for n in col]
        col = [n for _, _, n in sorted(zip(wanted, range(len(col)), col), key=lambda t: (-t[0], t[1]))]
        centre = float(np.mean(wanted))
        for row, node in enumerate(col):
            position[id(node)] = (3.2 * d, centre + 1.1 * ((len(col) - 1) / 2 - row))
    return position


def draw(root, max_nodes=150, figsize=None):
    """Draw the graph left to right with Matplotlib (no Graphviz); returns the Figure.

    Each value is a box with its name, ``data`` and ``grad``; each operation a circle feeding the
    box it produces. Inputs are on the left, ``root`` on the right.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, FancyBboxPatch

    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(f"the graph has {len(order)} nodes, more than max_nodes={max_nodes}; "
                         f"use to_text(root) or raise max_nodes")
    names = _names(order)
    position = _layout(root, order)
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    box_w, box_h, op_r = 2.2, 0.8, 0.3
    x_lim = (min(xs) - box_w / 2 - 1.0, max(xs) + box_w / 2 + 0.2)
    y_lim = (min(ys) - 0.7, max(ys) + 0.7)
    if figsize is None:
        scale = 0.85  # inches per unit, so that the 7-point text fits in the boxes
        figsize = (scale * (x_lim[1] - x_lim[0]), scale * (y_lim[1] - y_lim[0]) + 0.5)
    fig, ax = plt.subplots(figsize=figsize)
    for node in order:
        x, y = position[id(node)]
        text = f"{names[id(node)]}\ndata {node.data:.4g} | grad {node.grad:.4g}"
        ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                    boxstyle="round,pad=0.02", fc="#eef3fb", ec="#34495e", lw=1))
        ax.text(x, y, text, ha="center", va="center", fontsize=7)
        if node._op:
            ox = x - box_w / 2 - 0.5
            ax.add_patch(Circle((ox, y), op_r, fc="#fdebd0", ec="#a04000", lw=1))
            ax.text(ox, y, node._op, ha="center", va="center", fontsize=7)
            ax.annotate("", xy=(x - box_w / 2, y), xytext=(ox + op_r, y),
                        arrowprops=dict(arrowstyle="->", lw=0.8))
            for child in node._prev:
                cx, cy = position[id(child)]
                ax.annotate("", xy=(ox - op_r, y), xytext=(cx + box_w / 2, cy),
                            arrowprops=dict(arrowstyle="->", lw=0.8, color="#555555"))
    ax.set_xlim(*x_lim)
    ax.set_ylim(*y_lim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(f"Computational graph of {names[id(root)]}")
    return fig
