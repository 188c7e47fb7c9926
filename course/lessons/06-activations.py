# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 6. Activation functions
#
# A neuron computes a weighted sum $z = \sum_i w_i x_i + b$ and passes it through an **activation function**: $y = f(z)$.
# This lesson answers three questions:
#
# 1. why a network needs a *nonlinear* $f$ at all;
# 2. which activation functions exist, what they look like and what their derivatives are;
# 3. why the choice of $f$ decides whether a deep network can learn (the vanishing gradient).
#
# You will write six functions yourself: `sigmoid`, `sigmoid_grad`, `relu`, `relu_grad`, `leaky_relu` and `softmax`.

# %%
import warnings

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from autograder.checks import check
from autograder.formulas import localize
from nnlib import activations, plot

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Why a nonlinearity?
#
# Suppose $f$ is the identity, $f(z) = z$. One layer computes $XW_1 + b_1$, and two layers compute
#
# $$(XW_1 + b_1)\,W_2 + b_2 = X\,\underbrace{W_1 W_2}_{W} + \underbrace{b_1 W_2 + b_2}_{b}.$$
#
# That is again **one** linear layer, with weights $W = W_1 W_2$ and bias $b = b_1 W_2 + b_2$.
# However many linear layers we stack, the network stays a linear model: it separates classes by a straight line
# (a hyperplane) and cannot even learn XOR.

# %%
rng = np.random.default_rng(0)
X = rng.normal(size=(5, 3))  # 5 samples with 3 features
W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=4)
W2, b2 = rng.normal(size=(4, 2)), rng.normal(size=2)

two_layers = (X @ W1 + b1) @ W2 + b2
one_layer = X @ (W1 @ W2) + (b1 @ W2 + b2)
print("largest difference:", np.abs(two_layers - one_layer).max())

# %% [markdown]
# The difference is of the order of $10^{-16}$: rounding error only. The two-layer network and the one-layer network
# are the same function.
#
# A nonlinear $f$ between the layers breaks this collapse, and that is what makes depth useful. Already a
# *sum of shifted sigmoids* builds a staircase, and with enough steps of suitable heights it approximates any
# continuous curve (the idea behind the universal approximation theorem):
#
# $$f(x) = \sigma\bigl(k(x + \tfrac{1}{2})\bigr) + \sigma\bigl(k(x - \tfrac{1}{2})\bigr) + \sigma\bigl(k(x - \tfrac{3}{2})\bigr) + \dots$$
#
# Each term is one hidden neuron; the output neuron adds them up. The steepness $k$ is the neuron's weight.

# %%
x = np.linspace(-2, 6, 400)
shifts = np.arange(-0.5, 5.0, 1.0)  # six sigmoids, centred at -1/2, 1/2, 3/2, ..., 9/2
fig, ax = plt.subplots(figsize=(6, 3))
for k in (1, 4, 20):
    ax.plot(x, sum(activations.sigmoid(k * (x - s)) for s in shifts), label=f"k = {k}")
ax.set_xlabel("$x$")
ax.set_ylabel("$f(x)$")
ax.legend()
plt.show()

# %% [markdown]
# With $k = 1$ the sum is a smooth ramp; with $k = 20$ it is a staircase of six steps.

# %% [markdown]
# ## 2. The catalogue of activation functions
#
# nnlib keeps every activation function of the lecture notes in registries, as Keras and scikit-learn do:
#
# - `activations.ACTIVATIONS[name]` is the function $f(x)$;
# - `activations.DERIVATIVES[name]` is its derivative $f'(x)$, which takes the **input** $x$ (not the output $y$);
# - `activations.LATEX[name]` is its formula.
#
# `activations.get(name)` and `activations.get_derivative(name)` look them up by their Keras names.

# %%
x = np.array([-2.0, -0.5, 0.0, 1.5])
f = activations.get("leaky_relu")
df = activations.get_derivative("leaky_relu")
print("x     =", x)
print("f(x)  =", f(x))
print("f'(x) =", df(x))

# %% [markdown]
# Here is the whole family: each function (solid line) with its derivative (dashed line) on $[-4, 4]$.

# %%
GALLERY = [
    "sigmoid", "tanh", "arctan", "relu", "leaky_relu",
    "prelu", "elu", "selu", "gelu", "swish",
    "mish", "softplus", "softsign", "hard_sigmoid", "hard_swish",
    "hard_tanh", "tanh_shrink", "soft_shrink", "hard_shrink", "binary_step",
]
x = np.linspace(-4, 4, 401)
fig, axes = plt.subplots(4, 5, figsize=(15, 10), sharex=True)
for name, ax in zip(GALLERY, axes.flat):
    plot.activation_with_derivative(name, x=x, ax=ax)
    ax.set_title(name)
    ax.set_xlabel("")
    if ax is not axes.flat[0]:
        ax.get_legend().remove()
fig.tight_layout()
plt.show()

# %% [markdown]
# The functions fall into three groups:
#
# - **squashing functions** (sigmoid, tanh, arctan, softsign, hard sigmoid, hard tanh) have bounded outputs, and their
#   derivative is a bump that falls to 0 on both sides: far from zero the neuron *saturates* and passes almost no gradient back;
# - the **ReLU family** (ReLU, leaky ReLU, PReLU, ELU, SELU) and its smooth relatives (GELU, swish, mish, softplus,
#   hard swish) grow without bound for $x > 0$, where the derivative is 1 or close to 1;
# - **shrinkage functions** (tanh-shrink, soft shrink, hard shrink) suppress small values, and the **binary step** of the
#   perceptron has derivative 0 everywhere: gradient descent cannot learn through it.

# %% [markdown]
# ### Formula table
#
# The table is built from `activations.LATEX` and `activations.DERIVATIVE_LATEX`, the formulas of nnlib's docstrings.
# Where a derivative has a kink (ReLU at 0, for example) it is not defined; nnlib takes the left derivative there.
# In the table $s = \ln(1 + e^{x})$ (mish), $a = -1$ and $b = 1$ (hard tanh), $\lambda = 0.5$ (shrink functions).

# %%
rows = ["| | $f(x)$ | $f'(x)$ |", "|---|---|---|"]
for name in GALLERY:
    formula = localize(activations.LATEX[name]).replace("|", r"\vert ")
    derivative = localize(activations.DERIVATIVE_LATEX[name]).replace("|", r"\vert ")
    rows.append(f"| `{name}` | ${formula}$ | ${derivative}$ |")
display(Markdown("\n".join(rows)))

# %% [markdown]
# ## 3. The sigmoid
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma'(x) = \sigma(x)\bigl(1 - \sigma(x)\bigr).$$
#
# The derivative follows from the quotient rule:
#
# $$\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2} = \frac{1}{1 + e^{-x}} \cdot \frac{e^{-x}}{1 + e^{-x}} = \sigma(x)\bigl(1 - \sigma(x)\bigr).$$
#
# The sigmoid maps every number into $(0, 1)$, so its output can be read as a probability (binary classification).
# Its derivative is largest at $x = 0$: $\sigma'(0) = 0.5 \cdot 0.5 = 0.25$.

# %%
x = np.array([-2.0, 0.0, 2.0])
print("sigmoid(x)  =", activations.sigmoid(x))
print("sigmoid'(x) =", activations.sigmoid_grad(x))

# %% [markdown]
# ### Overflow
#
# Written as above, the sigmoid computes $e^{-x}$. For $x = -1000$ that is $e^{1000}$, far beyond the largest float64
# number ($\approx 1.8 \cdot 10^{308} \approx e^{709.8}$); in float32 the limit is already $e^{88.7}$.
# NumPy then returns `inf` and warns:

# %%
x = np.array([-1000.0, 0.0, 1000.0])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    naive = 1 / (1 + np.exp(-x))
    exp89 = np.exp(np.float32(89.0))
print("naive sigmoid(x):  ", naive)
print("exp(89) in float32:", exp89)
for warning in caught:
    print("warning:", warning.message)

# %% [markdown]
# Here the answer happens to be right ($1/\infty = 0$), but a warning in every training step hides real problems, and
# the equivalent form $e^{x}/(1 + e^{x})$ gives $\infty/\infty$ = `nan` for $x = 1000$.
#
# The cure is never to exponentiate a positive number. With $z = e^{-|x|} \in (0, 1]$,
#
# $$\sigma(x) = \begin{cases} \dfrac{1}{1 + z} & x \ge 0, \\[2ex] \dfrac{z}{1 + z} & x < 0. \end{cases}$$
#
# Both branches are the sigmoid (for $x < 0$ multiply the numerator and the denominator of $\frac{1}{1 + e^{-x}}$ by $e^{x}$),
# and $z$ cannot overflow. Note that `np.where(condition, a, b)` computes both `a` and `b` for every element, so compute
# $z$ first and only then choose between $\frac{1}{1+z}$ and $\frac{z}{1+z}$.

# %% [markdown]
# ### Exercise 1: `sigmoid(x)` and `sigmoid_grad(x)` (4 points)
#
# Write two functions, using NumPy only:
#
# - `sigmoid(x)`: `x` is a NumPy array of any shape, float64 or float32. Return $\sigma(x)$ element by element, an array of
#   the same shape and dtype. It must be stable: no overflow warning and no `nan` for $|x|$ up to 1000.
#   Use $z = e^{-|x|}$ and `np.where` as shown above.
# - `sigmoid_grad(x)`: the derivative with respect to the **input** $x$, $\sigma'(x) = \sigma(x)\bigl(1 - \sigma(x)\bigr)$,
#   same shape and dtype as `x`. Call your `sigmoid`.

# %% exercise="sigmoid" role="solution"
def sigmoid(x):
    r"""Logistic sigmoid of every element of x, stable for |x| up to 1000.

    x: array of any shape (float64 or float32) -> array of the same shape and dtype.
    """
    ### BEGIN SOLUTION
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))
    ### END SOLUTION


# %% exercise="sigmoid" role="tests" points=2
check("sigmoid", sigmoid)
### BEGIN HIDDEN TESTS
check("sigmoid", sigmoid, hidden=True)
### END HIDDEN TESTS

# %% exercise="sigmoid_grad" role="solution"
def sigmoid_grad(x):
    r"""Derivative of the sigmoid with respect to its input x: sigma(x) * (1 - sigma(x)).

    x: array of any shape (float64 or float32) -> array of the same shape and dtype.
    """
    ### BEGIN SOLUTION
    s = sigmoid(x)
    return s * (1 - s)
    ### END SOLUTION


# %% exercise="sigmoid_grad" role="tests" points=2
check("sigmoid_grad", sigmoid_grad)
### BEGIN HIDDEN TESTS
check("sigmoid_grad", sigmoid_grad, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# Each check prints how many cases pass. `sigmoid_grad` is also compared with the numerical derivative
# $\frac{\sigma(x + h) - \sigma(x - h)}{2h}$, the way the grader checks every derivative. Your sigmoid should give
# exactly 0 and 1 at $x = \mp 1000$, without any warning.

# %% [markdown]
# ## 4. tanh and arctan
#
# $$\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = 2\sigma(2x) - 1, \qquad \tanh'(x) = 1 - \tanh^2(x).$$
#
# tanh is a sigmoid stretched to $(-1, 1)$ and centred at 0: its outputs have mean close to zero, which makes the next
# layer easier to train, and $\tanh'(0) = 1$ is four times $\sigma'(0)$.
#
# $\arctan(x)$, with $\arctan'(x) = \frac{1}{1 + x^2}$, is another centred squashing function with range
# $(-\frac{\pi}{2}, \frac{\pi}{2})$; its derivative decays slowly, as $1/x^2$ rather than exponentially.

# %%
x = np.linspace(-3, 3, 13)
print("max |tanh(x) - (2 sigmoid(2x) - 1)| =", np.abs(activations.tanh(x) - (2 * activations.sigmoid(2 * x) - 1)).max())
for name in ("sigmoid", "tanh", "arctan"):
    derivative = activations.DERIVATIVES[name]
    print(f"{name:8s} f'(0) = {derivative(np.array(0.0)):.4f}   f'(5) = {derivative(np.array(5.0)):.4f}")

# %% [markdown]
# At $x = 5$ all three derivatives are small: a saturated neuron hardly learns.

# %% [markdown]
# ## 5. ReLU and its family
#
# $$\operatorname{ReLU}(x) = \max(0, x), \qquad \operatorname{ReLU}'(x) = \begin{cases} 1 & x > 0 \\ 0 & x \le 0 \end{cases}$$
#
# ReLU costs one comparison, does not saturate for $x > 0$ (its derivative there is exactly 1) and is the default
# choice for hidden layers. At $x = 0$ the derivative is not defined; like TensorFlow and PyTorch, we take 0 there.

# %% [markdown]
# The weak spot of ReLU is $x < 0$, where the gradient is 0. A neuron whose weighted sum is negative for every input
# (a "dead" ReLU) never changes again. The variants give negative inputs a nonzero output:
#
# - **leaky ReLU**: $f(x) = x$ for $x > 0$ and $\alpha x$ otherwise, with a fixed small slope $\alpha$
#   (the `LeakyReLU` layer of Keras uses $\alpha = 0.3$, PyTorch uses 0.01);
# - **PReLU** (parametric ReLU): the same formula, but $\alpha$ is learned by backpropagation, one per neuron;
# - **RReLU** (randomized ReLU): during training $\alpha$ is drawn at random from $U(l, u)$, at inference it is $\frac{l + u}{2}$;
# - **ELU**: $\alpha(e^{x} - 1)$ for $x \le 0$, a smooth curve that tends to $-\alpha$;
# - **SELU**: $\lambda \cdot \operatorname{ELU}_\alpha(x)$ with $\lambda \approx 1.0507$ and $\alpha \approx 1.6733$, constants
#   chosen so that activations keep mean 0 and variance 1 from layer to layer.

# %%
x = np.array([-2.0, -0.5, 0.5, 2.0])
print("x          =", x)
for name in ("relu", "leaky_relu", "elu", "selu"):
    print(f"{name:10s} =", activations.get(name)(x))
print(f"SELU: lambda = {activations.SELU_SCALE:.4f}, alpha = {activations.SELU_ALPHA:.4f}")

# %% [markdown]
# ### Exercise 2: the ReLU family (3 points)
#
# Write three functions, using NumPy only. Each takes an array `x` of any shape (float64 or float32) and returns an array
# of the same shape and dtype:
#
# - `relu(x)`: $\max(0, x)$ element by element (hint: `np.maximum`);
# - `relu_grad(x)`: the derivative with respect to the input, 1 where $x > 0$ and 0 where $x \le 0$.
#   A comparison gives booleans: convert them with `.astype(x.dtype)`;
# - `leaky_relu(x, alpha=0.3)`: $x$ where $x > 0$, $\alpha x$ elsewhere.

# %% exercise="relu" role="solution"
def relu(x):
    r"""ReLU of every element: max(0, x).

    x: array of any shape (float64 or float32) -> array of the same shape and dtype.
    """
    ### BEGIN SOLUTION
    return np.maximum(x, 0)
    ### END SOLUTION


# %% exercise="relu" role="tests" points=1
check("relu", relu)
### BEGIN HIDDEN TESTS
check("relu", relu, hidden=True)
### END HIDDEN TESTS

# %% exercise="relu_grad" role="solution"
def relu_grad(x):
    r"""Derivative of ReLU with respect to its input x: 1 where x > 0, 0 where x <= 0.

    x: array of any shape (float64 or float32) -> array of the same shape and dtype.
    """
    ### BEGIN SOLUTION
    return (x > 0).astype(x.dtype)
    ### END SOLUTION


# %% exercise="relu_grad" role="tests" points=1
check("relu_grad", relu_grad)
### BEGIN HIDDEN TESTS
check("relu_grad", relu_grad, hidden=True)
### END HIDDEN TESTS

# %% exercise="leaky_relu" role="solution"
def leaky_relu(x, alpha=0.3):
    r"""Leaky ReLU of every element: x where x > 0, alpha * x elsewhere.

    x: array of any shape (float64 or float32), alpha: float -> array of the same shape and dtype as x.
    """
    ### BEGIN SOLUTION
    return np.where(x > 0, x, alpha * x)
    ### END SOLUTION


# %% exercise="leaky_relu" role="tests" points=1
check("leaky_relu", leaky_relu)
### BEGIN HIDDEN TESTS
check("leaky_relu", leaky_relu, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# For $x = (-2, -0.5, 0, 1.5)$ your functions should give $(0, 0, 0, 1.5)$, $(0, 0, 0, 1)$ and, with $\alpha = 0.3$,
# $(-0.6, -0.15, 0, 1.5)$.

# %% [markdown]
# ## 6. Smooth relatives of ReLU
#
# - **softplus** $\ln(1 + e^{x})$ is a smooth ReLU; its derivative is the sigmoid, and $\operatorname{softplus}(0) = \ln 2 \approx 0.6931$.
#   nnlib computes it as `np.logaddexp(0, x)`, which never overflows;
# - **swish** (also called SiLU) $x\,\sigma(x)$;
# - **GELU** $x\,\Phi(x)$, where $\Phi$ is the standard normal distribution function; it is used in transformers (BERT, GPT).
#   Its tanh approximation is $\frac{x}{2}\left(1 + \tanh\left(\sqrt{2/\pi}\,(x + 0.044715\,x^3)\right)\right)$;
# - **mish** $x \tanh\bigl(\ln(1 + e^{x})\bigr)$.
#
# Unlike ReLU they are smooth everywhere; swish, GELU and mish also dip slightly below zero for negative $x$.

# %%
x = np.linspace(-4, 4, 801)
gap = np.abs(activations.gelu(x) - activations.gelu(x, approximate=True)).max()
print(f"largest gap between exact GELU and its tanh approximation on [-4, 4]: {gap:.1e}")
for name in ("relu", "softplus", "swish", "gelu", "mish"):
    values = activations.get(name)(np.array([-1.0, 0.0, 1.0]))
    print(f"{name:8s} f(-1), f(0), f(1) =", values)

# %% [markdown]
# ## 7. Hard functions, shrinkage and the step
#
# - **Hard** (piecewise-linear) versions replace curves by straight segments and are cheap on phones (MobileNetV3):
#   hard sigmoid $\frac{\operatorname{ReLU6}(x + 3)}{6}$ (0 for $x \le -3$, 1 for $x \ge 3$, $\frac{x}{6} + \frac{1}{2}$ between),
#   hard swish $x \cdot \frac{\operatorname{ReLU6}(x + 3)}{6}$ and hard tanh, which clips $x$ to $[-1, 1]$.
# - **softsign** $\frac{x}{1 + |x|}$ squashes like tanh but approaches $\pm 1$ slowly.
# - **Shrinkage** functions set small values to zero (useful for denoising and sparse codes): tanh-shrink $x - \tanh(x)$,
#   soft shrink (moves $x$ by $\lambda$ towards 0) and hard shrink (zeroes $|x| \le \lambda$, keeps the rest); here $\lambda = 0.5$.
# - The **binary step** is the threshold unit of the perceptron. Its derivative is 0 everywhere (and undefined at 0), so
#   no gradient flows through it: that is why the perceptron has its own learning rule, and why networks trained by
#   gradient descent use smooth or piecewise-linear functions instead.

# %% [markdown]
# ## 8. Explorer
#
# Choose a function and the range of $x$. Where the function has a parameter ($\alpha$ of leaky ReLU, PReLU and ELU,
# $\lambda$ of the shrink functions), the third slider changes it. The picture shows the function (solid) and its
# derivative (dashed); without a running kernel you see the default picture.

# %%
PARAMETERS = {"leaky_relu": ("alpha", 0.3), "prelu": ("alpha", 0.25), "elu": ("alpha", 1.0),
              "soft_shrink": ("lambd", 0.5), "hard_shrink": ("lambd", 0.5)}


def explore(name, x_range, value):
    """Figure of activation `name` and its derivative on x_range, with its parameter set to `value`."""
    parameter = {PARAMETERS[name][0]: value} if name in PARAMETERS else {}
    x = np.linspace(*x_range, 401)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    plot.activation_with_derivative(activations.get(name, **parameter), x=x, ax=ax)
    ax.set_title(", ".join([name] + [f"{key} = {val:g}" for key, val in parameter.items()]))
    plt.close(fig)  # shown through the display handle below, not by the inline backend
    return fig


name_box = widgets.Dropdown(options=GALLERY, value="leaky_relu", description="f")
range_slider = widgets.FloatRangeSlider(value=(-5.0, 5.0), min=-10.0, max=10.0, step=0.5, description="x")
value_slider = widgets.FloatSlider(value=0.3, min=0.0, max=2.0, step=0.05, description="α, λ")


def on_name(change):
    value_slider.disabled = change["new"] not in PARAMETERS
    if change["new"] in PARAMETERS:
        value_slider.value = PARAMETERS[change["new"]][1]


def redraw(_):
    picture.update(explore(name_box.value, range_slider.value, value_slider.value))


name_box.observe(on_name, names="value")
for control in (name_box, range_slider, value_slider):
    control.observe(redraw, names="value")
display(widgets.HBox([name_box, range_slider, value_slider]))
picture = display(explore(name_box.value, range_slider.value, value_slider.value), display_id=True)

# %% [markdown]
# ## 9. Softmax
#
# For $K$ classes the output layer gives $K$ scores $z_1, \dots, z_K$ (logits). Softmax turns them into probabilities:
#
# $$\operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_{j=1}^{K} e^{z_j}}.$$
#
# Every output lies in $(0, 1)$, the outputs add up to 1, and the largest score gets the largest probability.
# Unlike the functions above, softmax is not element-wise: each output depends on the whole vector of scores.

# %%
z = np.array([1.0, 2.0, 3.0])
p = activations.softmax(z)
print("softmax(z) =", p, f"  sum = {p.sum():.4f}")

# %% [markdown]
# ### Overflow again
#
# Scores of several hundred are nothing unusual in an untrained network. For $z = (1000, 1001, 1002)$ the exponential
# $e^{1000}$ overflows to `inf`, and $\infty / \infty$ is `nan`:

# %%
z = np.array([1000.0, 1001.0, 1002.0])
with np.errstate(over="ignore", invalid="ignore"):  # silence the warnings; we print the damage instead
    print("exp(z)         =", np.exp(z))
    print("naive softmax  =", np.exp(z) / np.exp(z).sum())

# %% [markdown]
# Subtracting the same constant $c$ from all scores does not change softmax:
#
# $$\frac{e^{z_i - c}}{\sum_j e^{z_j - c}} = \frac{e^{-c}\,e^{z_i}}{e^{-c}\sum_j e^{z_j}} = \frac{e^{z_i}}{\sum_j e^{z_j}}.$$
#
# So take $c = \max_k z_k$. The largest exponential becomes $e^{0} = 1$, nothing overflows, and the denominator is at least 1.
# For $(1000, 1001, 1002)$ the shifted scores are $(-2, -1, 0)$ and the probabilities are $(0.0900, 0.2447, 0.6652)$,
# exactly those of $(1, 2, 3)$.

# %%
print(activations.softmax(np.array([[1000.0, 1001.0, 1002.0], [1.0, 2.0, 3.0]])))

# %% [markdown]
# ### Exercise 3: `softmax(x)` (3 points)
#
# Write `softmax(x)` with NumPy only. `x` is a 2-D array of shape $(N, K)$: $N$ samples with $K$ scores each, float64 or
# float32. Return an array of the same shape and dtype whose row $n$ is the softmax of row $n$ of `x`, so that every row
# adds up to 1. Subtract each row's maximum first (`x.max(axis=1, keepdims=True)`), so that scores of $\pm 1000$ give
# no warning and no `nan`.

# %% exercise="softmax" role="solution"
def softmax(x):
    r"""Softmax of every row of x, stable for large scores.

    x: array of shape (N, K) (float64 or float32) -> array of shape (N, K), same dtype; every row sums to 1.
    """
    ### BEGIN SOLUTION
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
    ### END SOLUTION


# %% exercise="softmax" role="tests" points=3
check("softmax", softmax)
### BEGIN HIDDEN TESTS
check("softmax", softmax, hidden=True)
### END HIDDEN TESTS

# %% [markdown]
# Every row of your result adds up to 1, a row of equal scores gives equal probabilities $\frac{1}{K}$, and the row
# $(1000, 1001, 1002)$ gives $(0.0900, 0.2447, 0.6652)$.

# %% [markdown]
# ## 10. The vanishing gradient
#
# Backpropagation goes from the last layer to the first and, by the chain rule, multiplies the gradient at every layer
# by the derivative of its activation:
#
# $$\delta^{l} = \bigl((W^{l+1})^{T} \delta^{l+1}\bigr) \odot f'(z^{l}).$$
#
# Since $\sigma'(x) \le 0.25$, every sigmoid layer shrinks the gradient about four times (unless the weights make up for it).
# After 10 layers the factor is $0.25^{10} \approx 9.5 \cdot 10^{-7}$: the first layers hardly learn.

# %%
print("max sigmoid'(x) =", activations.sigmoid_grad(np.array(0.0)))
print(f"0.25 ** 10      = {0.25 ** 10:.1e}")

# %% [markdown]
# An experiment: a stack of 10 dense layers of 64 neurons and a batch of 32 random inputs. We run the forward pass,
# send a random gradient back from the output, and measure the norm of $\partial L / \partial W^{l}$ in every layer $l$.
# The weights are drawn as the notes recommend: $\mathcal{N}(0, \frac{1}{n})$ (Xavier) for sigmoid and tanh,
# $\mathcal{N}(0, \frac{2}{n})$ (He) for ReLU, where $n = 64$ is the number of inputs of a layer.

# %%
def layer_gradient_norms(name, n_layers=10, width=64, seed=0):
    """Norm of dL/dW in every layer (first to last) of a stack of dense layers with activation `name`."""
    rng = np.random.default_rng(seed)
    f, df = activations.get(name), activations.get_derivative(name)
    scale = np.sqrt(2.0 / width) if name == "relu" else np.sqrt(1.0 / width)  # He or Xavier
    weights = [rng.normal(0.0, scale, size=(width, width)) for _ in range(n_layers)]

    a = rng.normal(size=(32, width))  # forward pass: keep every layer's input a and weighted sum z
    inputs, sums = [], []
    for W in weights:
        inputs.append(a)
        sums.append(a @ W)
        a = f(sums[-1])

    delta = rng.normal(size=a.shape)  # backward pass: dL/dy of the last layer
    norms = []
    for W, a, z in zip(weights[::-1], inputs[::-1], sums[::-1]):
        delta = delta * df(z)  # through the activation: dL/dz
        norms.append(np.linalg.norm(a.T @ delta))  # dL/dW of this layer
        delta = delta @ W.T  # dL/da, the gradient for the layer below
    return norms[::-1]


fig, ax = plt.subplots(figsize=(6, 3.5))
for name in ("sigmoid", "tanh", "relu"):
    norms = layer_gradient_norms(name)
    ax.semilogy(range(1, 11), norms, "o-", label=name)
    print(f"{name:8s} layer 1 / layer 10: {norms[0] / norms[-1]:.1e}")
ax.set_xlabel("$l$")
ax.set_ylabel(r"$\|\partial L / \partial W^{l}\|$")
ax.legend()
plt.show()

# %% [markdown]
# With sigmoid the gradient falls by about four times per layer, so the first layer gets a few millionths of the last
# layer's gradient. With tanh ($\tanh'(0) = 1$) and with ReLU (derivative 1 for $x > 0$) it stays of the same order
# through all ten layers.

# %% [markdown]
# ## Summary
#
# - Without a nonlinear activation a deep network is one linear model.
# - Hidden layers: ReLU or one of its relatives (leaky ReLU, ELU, GELU, swish) with He initialisation.
# - Output layer: sigmoid for two classes, softmax for several classes, the identity for regression.
# - Squashing functions saturate and shrink gradients ($\sigma'(x) \le 0.25$): deep sigmoid stacks barely learn.
# - Never exponentiate large positive numbers: the stable sigmoid uses $e^{-|x|}$, the stable softmax subtracts the maximum.
