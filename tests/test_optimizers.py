"""Each optimizer against its docstring's algorithm box, written out literally; plus convergence and errors."""
import math

import numpy as np
import pytest

from nnlib import optimizers, schedules

# A diagonal quadratic f(theta) = 1/2 sum a * (theta - c)^2 in two variables of different shapes.
RNG = np.random.default_rng(0)
A = [RNG.uniform(0.5, 3.0, (3, 4)), RNG.uniform(0.5, 3.0, (4,))]
C = [RNG.normal(size=(3, 4)), RNG.normal(size=(4,))]
START = [RNG.normal(size=(3, 4)), RNG.normal(size=(4,))]


def grad(i, theta):
    return A[i] * (theta - C[i])


def loss(thetas):
    return sum(0.5 * np.sum(a * (t - c) ** 2) for a, t, c in zip(A, thetas, C))


def run_optimizer(opt, steps):
    thetas = [s.copy() for s in START]
    for _ in range(steps):
        opt.apply_gradients([(grad(i, t), t) for i, t in enumerate(thetas)])
    return thetas


def run_box(rule, steps, **hyper):
    """Run ``rule(theta, g, state, t, **hyper)`` -> new theta, for each variable separately."""
    out = []
    for i, start in enumerate(START):
        theta, state = start.copy(), {}
        for t in range(1, steps + 1):
            theta = rule(theta, grad(i, theta), state, t, **hyper)
        out.append(theta)
    return out


# ---- the boxes, written literally (not sharing code with nnlib) -------------------------------

def sgd_box(theta, g, s, t, lr, momentum, nesterov):
    if momentum == 0:
        return theta - lr * g
    v = momentum * s.get("v", 0.0) - lr * g
    s["v"] = v
    return theta + momentum * v - lr * g if nesterov else theta + v


def adagrad_box(theta, g, s, t, lr, init, eps):
    acc = s.get("s", np.full_like(theta, init)) + g * g
    s["s"] = acc
    return theta - lr * g / np.sqrt(acc + eps)


def rmsprop_box(theta, g, s, t, lr, rho, momentum, eps, centered):
    ms = rho * s.get("s", 0.0) + (1 - rho) * g * g
    s["s"] = ms
    if centered:
        gbar = rho * s.get("gbar", 0.0) + (1 - rho) * g
        s["gbar"] = gbar
        d = ms - gbar * gbar + eps
    else:
        d = ms + eps
    delta = lr * g / np.sqrt(d)
    if momentum > 0:
        b = momentum * s.get("b", 0.0) + delta
        s["b"] = b
        return theta - b
    return theta - delta


def adadelta_box(theta, g, s, t, lr, rho, eps):
    sg = rho * s.get("s", 0.0) + (1 - rho) * g * g
    u = s.get("u", 0.0)
    delta = -np.sqrt(u + eps) * g / np.sqrt(sg + eps)
    s["s"], s["u"] = sg, rho * u + (1 - rho) * delta * delta
    return theta + lr * delta


def adam_box(theta, g, s, t, lr, b1, b2, eps, amsgrad):
    m = b1 * s.get("m", 0.0) + (1 - b1) * g
    v = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    s["m"], s["v"] = m, v
    if amsgrad:
        v = np.maximum(s.get("vmax", 0.0), v)
        s["vmax"] = v
    alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
    return theta - alpha * m / (np.sqrt(v) + eps)


def adamax_box(theta, g, s, t, lr, b1, b2, eps):
    m = b1 * s.get("m", 0.0) + (1 - b1) * g
    u = np.maximum(b2 * s.get("u", 0.0), np.abs(g))
    s["m"], s["u"] = m, u
    return theta - lr / (1 - b1 ** t) * m / (u + eps)


def nadam_box(theta, g, s, t, lr, b1, b2, eps):
    mu_t = b1 * (1 - 0.5 * 0.96 ** t)
    mu_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
    prod = s.get("prod", 1.0) * mu_t
    m = b1 * s.get("m", 0.0) + (1 - b1) * g
    v = b2 * s.get("v", 0.0) + (1 - b2) * g * g
    s["prod"], s["m"], s["v"] = prod, m, v
    m_hat = mu_next * m / (1 - prod * mu_next) + (1 - mu_t) * g / (1 - prod)
    v_hat = v / (1 - b2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


CASES = [
    ("sgd plain", lambda: optimizers.SGD(0.1), sgd_box, dict(lr=0.1, momentum=0.0, nesterov=False)),
    ("sgd momentum", lambda: optimizers.SGD(0.1, momentum=0.9), sgd_box,
     dict(lr=0.1, momentum=0.9, nesterov=False)),
    ("sgd nesterov", lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True), sgd_box,
     dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("adagrad", lambda: optimizers.Adagrad(0.1), adagrad_box, dict(lr=0.1, init=0.1, eps=1e-7)),
    ("rmsprop", lambda: optimizers.RMSprop(0.01), rmsprop_box,
     dict(lr=0.01, rho=0.9, momentum=0.0, eps=1e-7, centered=False)),
    ("rmsprop centered momentum", lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True), rmsprop_box,
     dict(lr=0.01, rho=0.9, momentum=0.5, eps=1e-7, centered=True)),
    ("adadelta", lambda: optimizers.Adadelta(1.0), adadelta_box, dict(lr=1.0, rho=0.95, eps=1e-7)),
    ("adam", lambda: optimizers.Adam(0.05), adam_box, dict(lr=0.05, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False)),
    ("adam amsgrad", lambda: optimizers.Adam(0.05, amsgrad=True), adam_box,
     dict(lr=0.05, b1=0.9, b2=0.999, eps=1e-7, amsgrad=True)),
    ("adamax", lambda: optimizers.Adamax(0.05), adamax_box, dict(lr=0.05, b1=0.9, b2=0.999, eps=1e-7)),
    ("nadam", lambda: optimizers.Nadam(0.05), nadam_box, dict(lr=0.05, b1=0.9, b2=0.999, eps=1e-7)),
]


@pytest.mark.parametrize("label, make, box, hyper", CASES, ids=[c[0] for c in CASES])
def test_optimizer_matches_its_docstring_box(label, make, box, hyper):
    opt = make()
    got = run_optimizer(opt, steps=7)
    want = run_box(box, steps=7, **hyper)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    assert opt.iterations == 7


def test_first_adam_step_has_size_learning_rate():
    # With bias correction, Adam's first step is lr * sign(g) (up to epsilon), whatever |g| is.
    w = np.array([1.0, -2.0, 3.0])
    optimizers.Adam(0.01).apply_gradients([(np.array([0.1, -5.0, 200.0]), w)])
    np.testing.assert_allclose(w, [0.99, -1.99, 2.99], rtol=1e-6)


def test_keras_defaults():
    assert optimizers.SGD().learning_rate == 0.01
    adam = optimizers.get("adam")
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    assert optimizers.RMSprop().rho == 0.9
    assert optimizers.Adadelta().rho == 0.95
    assert optimizers.Adagrad().initial_accumulator_value == 0.1


SETTINGS = {
    "sgd": dict(learning_rate=0.2, momentum=0.9),
    "adagrad": dict(learning_rate=0.5),
    "rmsprop": dict(learning_rate=0.01),
    "adadelta": dict(learning_rate=1.0),
    "adam": dict(learning_rate=0.05),
    "adamax": dict(learning_rate=0.05),
    "nadam": dict(learning_rate=0.05),
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_optimizer_minimises_a_quadratic(name):
    opt = type(optimizers.get(name))(**SETTINGS[name])
    start = loss(START)
    thetas = run_optimizer(opt, steps=3000)
    assert loss(thetas) < 1e-4 * start
    for t, c in zip(thetas, C):
        np.testing.assert_allclose(t, c, atol=0.02)


def test_get_names_instances_and_errors():
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("SGD"), optimizers.SGD)
    opt = optimizers.RMSprop()
    assert optimizers.get(opt) is opt
    with pytest.raises(ValueError, match=r"Did you mean 'adam'\?"):
        optimizers.get("adma")
    with pytest.raises(ValueError, match="rmsprop"):
        optimizers.get("rmsporp")
    with pytest.raises(TypeError, match="optimizer"):
        optimizers.get(3)


def test_updates_in_place_and_keeps_dtype():
    w = np.ones((2, 2), dtype=np.float32)
    ref = w
    opt = optimizers.Adam(0.1)
    opt.apply_gradients([(np.ones((2, 2), dtype=np.float32), w)])
    assert ref is w and w.dtype == np.float32 and np.all(w < 1)


def test_state_is_per_variable():
    a, b = np.zeros(3), np.zeros(3)
    opt = optimizers.SGD(0.1, momentum=0.9)
    opt.apply_gradients([(np.ones(3), a), (-np.ones(3), b)])
    opt.apply_gradients([(np.ones(3), a), (-np.ones(3), b)])
    np.testing.assert_allclose(a, -b)
    np.testing.assert_allclose(a, [-0.1 - 0.19] * 3)


def test_learning_rate_schedule_is_called_with_iterations():
    schedule = schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(schedule)
    w = np.zeros(1)
    for _ in range(3):
        opt.apply_gradients([(np.ones(1), w)])
    np.testing.assert_allclose(w, [-(1.0 + 0.5 + 0.25)])
    assert opt.learning_rate == 0.125
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.1


def test_learning_rate_is_writable():
    opt = optimizers.Adam()
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ValueError, match=">= 0"):
        opt.learning_rate = -1.0


def test_clipping():
    g = np.array([3.0, 4.0])  # norm 5
    w = np.zeros(2)
    optimizers.SGD(1.0, clipnorm=1.0).apply_gradients([(g, w)])
    np.testing.assert_allclose(w, [-0.6, -0.8])
    w = np.zeros(2)
    optimizers.SGD(1.0, clipvalue=3.5).apply_gradients([(g, w)])
    np.testing.assert_allclose(w, [-3.0, -3.5])
    w1, w2 = np.zeros(1), np.zeros(1)
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients([(np.array([3.0]), w1), (np.array([4.0]), w2)])
    np.testing.assert_allclose([w1[0], w2[0]], [-0.6, -0.8])
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_shape_mismatch_and_non_array_variable():
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\) but its variable has shape \(2,\)"):
        optimizers.SGD().apply_gradients([(np.ones(3), np.zeros(2))])
    with pytest.raises(TypeError, match="NumPy arrays"):
        optimizers.SGD().apply_gradients([(1.0, 2.0)])


def test_docstrings_carry_the_box_and_conventions():
    for cls in (optimizers.SGD, optimizers.Adagrad, optimizers.RMSprop, optimizers.Adadelta,
                optimizers.Adam, optimizers.Adamax, optimizers.Nadam):
        doc = cls.__doc__
        assert r"\textbf{input}" in doc and r"\textbf{for}" in doc and r"\textbf{return}" in doc
        assert "convention" in doc.lower()
    assert "Polish" in optimizers.Adam.__doc__


@pytest.mark.parametrize("cls", [optimizers.SGD, optimizers.Adagrad, optimizers.RMSprop, optimizers.Adadelta,
                                 optimizers.Adam, optimizers.Adamax, optimizers.Nadam])
def test_keras_2_arguments_of_the_notes_say_what_to_write_instead(cls):
    with pytest.raises(TypeError, match=rf"{cls.__name__}\(\) got an unexpected argument 'lr'; use learning_rate "
                                        r"instead\. It takes: learning_rate, "):
        cls(lr=0.001)
    with pytest.raises(TypeError, match="'decay'; use a learning-rate schedule from nnlib.schedules instead"):
        cls(learning_rate=0.001, decay=1e-6)
    with pytest.raises(TypeError, match="'clip_norm'; use clipnorm instead"):
        cls(clip_norm=1.0)
