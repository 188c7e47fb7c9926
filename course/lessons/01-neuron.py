# %% [markdown]
# # Lesson 1. The artificial neuron
#
# A neural network is built from one simple part repeated many times: the neuron. In this lesson you will
#
# - compute the output of a neuron by hand and with `nnlib`;
# - write a whole layer of neurons as a single matrix product;
# - measure how much faster vectorised NumPy code is than a Python loop;
# - build the logic gates AND and OR from threshold neurons, as McCulloch and Pitts did in 1943.
#
# Four functions are graded. Write each one in its cell, in place of `raise NotImplementedError()`, and run the test cell below it.

# %% [markdown]
# Run the next cell first. It imports NumPy, Matplotlib, the course library `nnlib` and the function `check` that tests your answers.

# %%
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from autograder.checks import check
from nnlib import activations, layers, neuron

# %% [markdown]
# ## 1. The neuron model
#
# A neuron receives $n$ inputs $x_1, \dots, x_n$. Each input has a **weight** $w_i$: how strongly, and with which sign, that input counts. The neuron adds up the weighted inputs together with a **bias** $b$:
#
# $$z = \sum_{i=1}^{n} w_i x_i + b$$
#
# and passes this **weighted sum** $z$ through an **activation function** $f$:
#
# $$y = f(z) = f\Big(\sum_{i=1}^{n} w_i x_i + b\Big)$$
#
# The weights and the bias are the parameters that a network learns from data; the activation function is chosen when the network is designed.

# %% [markdown]
# Why a bias? Without it, $z = 0$ whenever all inputs are 0, so at that point the output is stuck at $f(0)$ whatever the neuron learns. The bias shifts $z$ and lets the neuron choose where it switches on; in section 5 it becomes the threshold of a logic gate.

# %% [markdown]
# ### A worked example
#
# Take a neuron with three inputs:
#
# $$x = (2.0,\ 1.0,\ 3.0), \qquad w = (0.4,\ -0.6,\ 0.2), \qquad b = 0.1$$
#
# The weighted sum is
#
# $$z = 0.4 \cdot 2.0 + (-0.6) \cdot 1.0 + 0.2 \cdot 3.0 + 0.1 = 0.8 - 0.6 + 0.6 + 0.1 = 0.9$$
#
# and with the sigmoid activation $\sigma(z) = \dfrac{1}{1 + e^{-z}}$ the output is
#
# $$y = \sigma(0.9) = \frac{1}{1 + e^{-0.9}} \approx 0.7109$$
#
# The next cell computes the same numbers with NumPy and `nnlib.activations`.

# %%
x = np.array([2.0, 1.0, 3.0])
w = np.array([0.4, -0.6, 0.2])
b = 0.1

z = np.dot(w, x) + b
y = activations.sigmoid(z)
print(f"z = {z:.4f}")
print(f"y = sigmoid(z) = {y:.4f}")

# %% [markdown]
# In Keras, and in `nnlib`, which follows Keras, one neuron is a `Dense` layer with one unit. Its weights live in a **kernel** of shape $(n, 1)$ and its bias has shape $(1,)$. Loaded with our $w$ and $b$, it gives the same output. A layer works on a batch of samples, so $x$ becomes one row, of shape $(1, 3)$:

# %%
unit = layers.Dense(1, activation="sigmoid")
unit.build((3,))
unit.set_weights([w.reshape(3, 1), np.array([b])])
print(unit.forward(x.reshape(1, 3)))

# %% [markdown]
# ### Exercise 1: `weighted_sum` (2 points)
#
# Write `weighted_sum(x, w, b)`, which returns the weighted sum of one neuron:
#
# $$z = \sum_{i=1}^{n} w_i x_i + b$$
#
# - `x`: the inputs, a NumPy array of shape `(n,)`;
# - `w`: the weights, shape `(n,)`;
# - `b`: the bias, a number;
# - returns: one number, $z$.
#
# Use `np.dot` (or the `@` operator) instead of a Python loop.

# %% exercise="weighted_sum" role="solution"
def weighted_sum(x, w, b):
    r"""Weighted sum of one neuron: $z = \sum_i w_i x_i + b$.

    x: (n,), w: (n,), b: number -> number.
    """
    ### BEGIN SOLUTION
    return np.dot(x, w) + b
    ### END SOLUTION


# %% exercise="weighted_sum" role="tests" points=2
check("weighted_sum", weighted_sum)
### BEGIN HIDDEN TESTS
check("weighted_sum", weighted_sum, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# What you should see: every check passes, and the next cell prints $z$ of the worked example, 0.9. A printout such as `0.9000000000000001` is the same number up to floating-point rounding.

# %%
print(weighted_sum(x, w, b))

# %% [markdown]
# ## 2. A layer: many neurons side by side
#
# Put $n_{out}$ neurons next to each other, all reading the same $n_{in}$ inputs. Neuron $j$ has its own weights $w_{1j}, \dots, w_{n_{in}j}$ and its own bias $b_j$. For $n_{in} = 4$ inputs and $n_{out} = 5$ neurons:
#
# $$\begin{aligned}
# y_1 &= f(x_1 w_{11} + x_2 w_{21} + x_3 w_{31} + x_4 w_{41} + b_1) \\
# y_2 &= f(x_1 w_{12} + x_2 w_{22} + x_3 w_{32} + x_4 w_{42} + b_2) \\
# &\;\;\vdots \\
# y_5 &= f(x_1 w_{15} + x_2 w_{25} + x_3 w_{35} + x_4 w_{45} + b_5)
# \end{aligned}$$
#
# The first index of $w_{ij}$ is the input, the second one the neuron.

# %% [markdown]
# ### The weight matrix
#
# Collect the weights in a matrix $W$ with one **column per neuron**:
#
# $$W = \begin{pmatrix}
# w_{11} & w_{12} & w_{13} & w_{14} & w_{15} \\
# w_{21} & w_{22} & w_{23} & w_{24} & w_{25} \\
# w_{31} & w_{32} & w_{33} & w_{34} & w_{35} \\
# w_{41} & w_{42} & w_{43} & w_{44} & w_{45}
# \end{pmatrix}$$
#
# Then the five weighted sums are one row vector times a matrix, plus the vector of biases $b = (b_1, \dots, b_5)$:
#
# $$(z_1, \dots, z_5) = (x_1, x_2, x_3, x_4)\, W + b, \qquad y_j = f(z_j)$$
#
# The activation $f$ acts on each element separately.

# %% [markdown]
# ### A batch of samples
#
# We rarely feed one sample at a time. Stack $N$ samples as the rows of a matrix $X$; then the layer, for all samples at once, is one matrix product:
#
# $$\underset{[N \times n_{out}]}{Y} = \underset{[N \times n_{in}]}{X} \cdot \underset{[n_{in} \times n_{out}]}{W} + b$$
#
# Row $k$ of $Y$ holds the layer's outputs for sample $k$. The inner sizes must match: the number of columns of $X$ (inputs per sample) equals the number of rows of $W$. NumPy adds the bias of shape $(n_{out},)$ to every row; this is called *broadcasting*.

# %%
rng = np.random.default_rng(0)
X_batch = rng.normal(size=(3, 4))  # N = 3 samples, n_in = 4 inputs
W_layer = rng.normal(size=(4, 5))  # n_in = 4 inputs, n_out = 5 neurons
b_layer = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
Y_batch = X_batch @ W_layer + b_layer
print("X:", X_batch.shape, " W:", W_layer.shape, " b:", b_layer.shape, " ->  Y = X @ W + b:", Y_batch.shape)

# %% [markdown]
# ### Exercise 2: `dense_forward` (3 points)
#
# Write `dense_forward(X, W, b)`, the weighted sums of a whole layer for a batch:
#
# $$Y = X W + b$$
#
# - `X`: the batch, shape `(N, n_in)`;
# - `W`: the weights, shape `(n_in, n_out)`, one column per neuron;
# - `b`: the biases, shape `(n_out,)`;
# - returns: an array of shape `(N, n_out)`.
#
# One line of NumPy is enough, with no loop. When the inputs are `float32`, the result must stay `float32`; the `@` operator takes care of that.

# %% exercise="dense_forward" role="solution"
def dense_forward(X, W, b):
    r"""Weighted sums of a layer for a batch: $Y = X W + b$.

    X: (N, n_in), W: (n_in, n_out), b: (n_out,) -> (N, n_out).
    """
    ### BEGIN SOLUTION
    return X @ W + b
    ### END SOLUTION


# %% exercise="dense_forward" role="tests" points=3
check("dense_forward", dense_forward)
### BEGIN HIDDEN TESTS
check("dense_forward", dense_forward, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# What you should see: every check passes. `dense_forward` is exactly what `layers.Dense` computes before its activation, so a `Dense` layer without activation, loaded with the same $W$ and $b$, must agree with your function:

# %%
dense = layers.Dense(5)
dense.build((4,))
dense.set_weights([W_layer, b_layer])
print("Dense gives the same Y:", np.allclose(dense.forward(X_batch), dense_forward(X_batch, W_layer, b_layer)))
print("parameters:", dense.count_params())

# %% [markdown]
# The layer has $4 \cdot 5 = 20$ weights and $5$ biases, $25$ parameters in all: the number that Keras's `model.summary()` shows for `Dense(5)` on 4 inputs.

# %% [markdown]
# ## 3. Why vectorise
#
# The product $X W$ stands for many multiplications and additions. NumPy runs them in compiled code; a Python `for` loop executes them one interpreted step at a time. The lecture's experiment: the dot product $\sum_i a_i c_i$ of two random vectors with $10^6$ elements, once with `np.dot` and once with a loop.

# %%
def dot_loop(a, c):
    """The dot product one element at a time, as plain Python."""
    total = 0.0
    for i in range(len(a)):
        total += a[i] * c[i]
    return total


def timed(func, *args, repeat=1):
    """(result, seconds): the fastest of `repeat` runs, since a first run may pay for warming up."""
    seconds = []
    for _ in range(repeat):
        tic = time.perf_counter()
        result = func(*args)
        seconds.append(time.perf_counter() - tic)
    return result, min(seconds)


a = rng.random(1_000_000)
c = rng.random(1_000_000)
dot_numpy, time_numpy = timed(np.dot, a, c, repeat=5)
dot_python, time_python = timed(dot_loop, a, c)
print(f"np.dot:      {dot_numpy:.4f} in {1000 * time_numpy:7.2f} ms")
print(f"Python loop: {dot_python:.4f} in {1000 * time_python:7.2f} ms")
print(f"the loop is {time_python / time_numpy:.0f} times slower")

# %% [markdown]
# The two sums agree up to rounding, but the loop is hundreds or even thousands of times slower; the exact ratio depends on the computer. That is why a layer is written as matrix operations over the whole batch, never as loops over samples or neurons.

# %% [markdown]
# ## 4. The bias trick
#
# The bias can be folded into the weight matrix. Give every sample one more input that is always 1, and add the biases to $W$ as one more row at the bottom:
#
# $$\tilde{x} = (x_1,\ x_2,\ x_3,\ x_4,\ 1), \qquad
# \tilde{W} = \begin{pmatrix} W \\ b \end{pmatrix} = \begin{pmatrix}
# w_{11} & \cdots & w_{15} \\
# \vdots & & \vdots \\
# w_{41} & \cdots & w_{45} \\
# b_1 & \cdots & b_5
# \end{pmatrix}$$
#
# Then $\tilde{x}\,\tilde{W} = x W + b$: for neuron $j$ the extra term is $1 \cdot b_j$. For a batch, $\tilde{X}$ is $X$ with a column of ones appended, of shape $[N \times (n_{in} + 1)]$, and the layer is a single product $Y = \tilde{X} \tilde{W}$. The bias has become an ordinary weight on a constant input.

# %% [markdown]
# ### Exercise 3: `add_bias_column` (2 points)
#
# Write `add_bias_column(X)`, which appends a column of ones on the right of `X`:
#
# - `X`: shape `(N, n)`;
# - returns: shape `(N, n + 1)`: the columns of `X`, then a last column of ones.
#
# Keep the dtype of `X`: create the ones with `np.ones((X.shape[0], 1), dtype=X.dtype)` and join the two with `np.hstack`.

# %% exercise="add_bias_column" role="solution"
def add_bias_column(X):
    r"""The bias trick: $\tilde{X} = (X \mid \mathbf{1})$.

    X: (N, n) -> (N, n + 1), ones in the last column, same dtype as X.
    """
    ### BEGIN SOLUTION
    return np.hstack([X, np.ones((X.shape[0], 1), dtype=X.dtype)])
    ### END SOLUTION


# %% exercise="add_bias_column" role="tests" points=2
check("add_bias_column", add_bias_column)
### BEGIN HIDDEN TESTS
check("add_bias_column", add_bias_column, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# What you should see: every check passes, and the bias trick gives the same layer output as $X W + b$:

# %%
X_tilde = add_bias_column(X_batch)
W_tilde = np.vstack([W_layer, b_layer])  # b as the last row: shape (n_in + 1, n_out)
print("X~:", X_tilde.shape, " W~:", W_tilde.shape)
print("X~ W~ equals X W + b:", np.allclose(X_tilde @ W_tilde, X_batch @ W_layer + b_layer))

# %% [markdown]
# ## 5. Threshold neurons: McCulloch and Pitts (1943)
#
# The first model of an artificial neuron was proposed by Warren McCulloch and Walter Pitts in the paper *A Logical Calculus of Ideas Immanent in Nervous Activity* (1943). Their neuron receives binary signals $x_i \in \{0, 1\}$ and **fires** (outputs 1) when the weighted sum reaches a threshold $\theta$:
#
# $$y = \begin{cases} 1, & \sum_i w_i x_i \ge \theta \\ 0, & \sum_i w_i x_i < \theta \end{cases} \;=\; \text{Heaviside}\Big(\sum_i w_i x_i - \theta\Big), \qquad \text{Heaviside}(z) = \begin{cases} 1, & z \ge 0 \\ 0, & z < 0 \end{cases}$$
#
# This is our neuron with the step function as its activation and the bias $b = -\theta$.

# %% [markdown]
# ### AND and OR
#
# With two inputs and both weights equal to 1, the threshold alone decides which logic function the neuron computes ($[\,\cdot\,]$ is 1 when the condition holds and 0 otherwise):
#
# $$x_1 \wedge x_2 = \big[\,x_1 + x_2 - \tfrac{3}{2} > 0\,\big], \qquad x_1 \vee x_2 = \big[\,x_1 + x_2 - \tfrac{1}{2} > 0\,\big]$$
#
# AND needs both inputs on: $1 + 1 = 2 > \tfrac{3}{2}$, while one input gives only $1$. For OR one input is already enough: $1 > \tfrac{1}{2}$. `nnlib.neuron.threshold_unit` computes the truth tables:

# %%
X_gate = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y_and = neuron.threshold_unit(X_gate, [1, 1], threshold=1.5)
y_or = neuron.threshold_unit(X_gate, [1, 1], threshold=0.5)
print("x1 x2 | AND OR")
for (x1, x2), out_and, out_or in zip(X_gate, y_and, y_or):
    print(f" {x1}  {x2} |  {out_and}   {out_or}")

# %% [markdown]
# McCulloch and Pitts drew the same gates as small networks in which neuron $C$ fires when at least two signals arrive ($\theta = 2$). For AND, $C$ has one connection from $A$ and one from $B$, so one active input is not enough; for OR, $C$ has two connections from each, so either input suffices. `neuron.mp_and` and `neuron.mp_or` are these networks, and `neuron.truth_table` lists the columns $A$, $B$, $C$:

# %%
for name, network in (("AND", neuron.mp_and), ("OR", neuron.mp_or)):
    print(name)
    print(neuron.truth_table(network, 2))

# %% [markdown]
# ### Exercise 4: `threshold_neuron` (3 points)
#
# Write `threshold_neuron(X, w, threshold)`, a McCulloch–Pitts neuron applied to a batch. For every sample $k$ (row of `X`):
#
# $$y_k = \begin{cases} 1, & \sum_i w_i x_{ki} \ge \theta \\ 0, & \sum_i w_i x_{ki} < \theta \end{cases}$$
#
# - `X`: the inputs, shape `(N, n)`, one sample per row;
# - `w`: the weights, shape `(n,)`;
# - `threshold`: the threshold $\theta$, a number;
# - returns: an integer array of shape `(N,)` holding 0 or 1.
#
# A sum exactly equal to the threshold fires: use `>=`, not `>`. Compare `X @ w` with the threshold and turn the booleans into integers with `.astype(int)`.

# %% exercise="threshold_neuron" role="solution"
def threshold_neuron(X, w, threshold):
    r"""McCulloch-Pitts neuron on a batch: $y_k = [\sum_i w_i x_{ki} \ge \theta]$.

    X: (N, n), w: (n,), threshold: number -> (N,) integers 0 or 1.
    """
    ### BEGIN SOLUTION
    return (X @ w >= threshold).astype(int)
    ### END SOLUTION


# %% exercise="threshold_neuron" role="tests" points=3
check("threshold_neuron", threshold_neuron)
### BEGIN HIDDEN TESTS
check("threshold_neuron", threshold_neuron, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# What you should see: every check passes, including the case where the sum equals the threshold (weights 1 and 1 with $\theta = 2$, the AND network above). With $\theta = 1.5$ your neuron computes AND, `[0 0 0 1]`:

# %%
print(threshold_neuron(X_gate, np.array([1.0, 1.0]), 1.5))

# %% [markdown]
# ## 6. The geometry: a line through the plane
#
# A neuron with two inputs fires on one side of the line $w_1 x_1 + w_2 x_2 + b = 0$ and stays silent on the other. For AND it is the line $x_1 + x_2 = \tfrac{3}{2}$: only the corner $(1, 1)$ lies above it. For OR it is the line $x_1 + x_2 = \tfrac{1}{2}$: only $(0, 0)$ lies below it. In the plots the neuron fires in the shaded region; the colour of each point and the label next to it give the neuron's output, and the title lists the outputs for $(0,0), (0,1), (1,0), (1,1)$.

# %%
GATE_NAMES = {(0, 0, 0, 1): "AND", (0, 1, 1, 1): "OR", (1, 1, 1, 0): "NAND", (1, 0, 0, 0): "NOR"}


def plot_threshold_neuron(ax, w1, w2, b):
    r"""Draw the neuron $y = [w_1 x_1 + w_2 x_2 + b \ge 0]$ on the square around the four binary inputs.

    Shaded: where it fires; black: the line $w_1 x_1 + w_2 x_2 + b = 0$; points: its outputs on X_gate.
    """
    grid = np.linspace(-0.5, 1.5, 201)
    fires = (w1 * grid[None, :] + w2 * grid[:, None] + b >= 0).astype(float)
    ax.imshow(fires, origin="lower", extent=(-0.5, 1.5, -0.5, 1.5), cmap="Blues", vmin=0, vmax=4)
    if w2 != 0:
        ax.plot(grid, -(w1 * grid + b) / w2, "k-")
    elif w1 != 0:
        ax.axvline(-b / w1, color="k")
    outputs = neuron.threshold_unit(X_gate, [w1, w2], threshold=-b)
    ax.scatter(X_gate[:, 0], X_gate[:, 1], c=outputs, cmap="coolwarm", vmin=0, vmax=1, s=150, edgecolors="k", zorder=3)
    for (x1, x2), out in zip(X_gate, outputs):
        ax.annotate(f"y={out}", (x1, x2), xytext=(10, 8), textcoords="offset points")
    key = tuple(int(v) for v in outputs)
    name = GATE_NAMES.get(key, "")
    ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xticks=[0, 1], yticks=[0, 1], xlabel="$x_1$", ylabel="$x_2$",
           title=f"$w_1$={w1:g}, $w_2$={w2:g}, $b$={b:g}:  y = {' '.join(map(str, key))}  {name}")


fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
plot_threshold_neuron(axes[0], 1.0, 1.0, -1.5)
plot_threshold_neuron(axes[1], 1.0, 1.0, -0.5)
plt.show()

# %% [markdown]
# ### Try it yourself
#
# Move the sliders $w_1$, $w_2$ and $b$: the neuron fires where $w_1 x_1 + w_2 x_2 + b \ge 0$. The title shows the outputs for $(0,0), (0,1), (1,0), (1,1)$ and the name of the gate when it is AND, OR, NAND or NOR. Find weights for all four. Without a running kernel (for example in a static viewer) you see only the starting picture, AND.

# %%
sliders = [widgets.FloatSlider(value=value, min=-2.0, max=2.0, step=0.1, description=name)
           for name, value in (("w1", 1.0), ("w2", 1.0), ("b", -1.5))]


def neuron_figure(w1, w2, b):
    """One plot of the threshold neuron, closed so that only the display handle below shows it."""
    fig, ax = plt.subplots(figsize=(5, 4.5))
    plot_threshold_neuron(ax, w1, w2, b)
    plt.close(fig)
    return fig


def redraw(change):
    view.update(neuron_figure(*(slider.value for slider in sliders)))


for slider in sliders:
    slider.observe(redraw, names="value")
display(widgets.HBox(sliders))
view = display(neuron_figure(1.0, 1.0, -1.5), display_id=True)

# %% [markdown]
# ### XOR: what one neuron cannot do
#
# Exclusive OR, $x_1 \oplus x_2$, is 1 when exactly one input is on: its outputs for $(0,0), (0,1), (1,0), (1,1)$ are $0, 1, 1, 0$. Try to find it with the sliders: it is impossible, because no straight line puts $(0,1)$ and $(1,0)$ on one side and $(0,0)$, $(1,1)$ on the other. The next cell confirms it by brute force. It tries $41^3 = 68921$ settings of $(w_1, w_2, b)$ on a grid from $-2$ to $2$, all at once with vectorised NumPy, and counts how many of them compute each gate.

# %%
grid = np.linspace(-2.0, 2.0, 41)
w1s, w2s, bs = (values.ravel() for values in np.meshgrid(grid, grid, grid, indexing="ij"))
# outputs[k, s]: the neuron with setting s on input k, shape (4, 68921)
outputs = (np.outer(X_gate[:, 0], w1s) + np.outer(X_gate[:, 1], w2s) + bs >= 0).astype(int)
for gate, target in (("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("XOR", [0, 1, 1, 0])):
    found = np.all(outputs == np.array(target)[:, None], axis=0).sum()
    print(f"{gate:>3}: {found:5d} of {bs.size} settings")

# %% [markdown]
# AND is found 1330 times and OR 2870 times, XOR never. A single neuron divides the plane by one straight line: it is a *linear classifier*. To compute XOR we need several neurons arranged in layers; that is where the next lessons go.

# %% [markdown]
# ## Summary
#
# - A neuron computes a weighted sum $z = \sum_i w_i x_i + b$ and passes it through an activation: $y = f(z)$.
# - A layer of $n_{out}$ neurons on a batch of $N$ samples is one matrix product, $Y = XW + b$, with shapes $[N \times n_{in}] \cdot [n_{in} \times n_{out}] \to [N \times n_{out}]$.
# - The bias trick appends a constant input 1 to $X$ and the row $b$ to $W$, so that $Y = \tilde{X}\tilde{W}$.
# - Vectorised NumPy is hundreds of times faster than a Python loop, or more.
# - With a step activation, a neuron is a McCulloch–Pitts threshold unit. It computes AND and OR but not XOR, because it separates its inputs by a single straight line.
