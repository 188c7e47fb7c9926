r"""Gradient-descent optimizers with Keras's names, defaults and update rules.

Every optimizer follows one contract::

    opt = optimizers.Adam(learning_rate=1e-3)
    opt.apply_gradients([(dW, W), (db, b)])   # updates W and b IN PLACE, then opt.iterations += 1

* ``learning_rate`` is a float or a schedule: a callable of the iteration count
  (see :mod:`nnlib.schedules`), called with ``opt.iterations`` (0 on the first step), as Keras.
  Reading ``opt.learning_rate`` always gives the current float; assigning a float changes it
  (``callbacks.ReduceLROnPlateau`` does this).
* Per-variable state (momentum, moving averages) is kept in a dict keyed by ``id(var)``, created
  the first time a variable is seen, with the variable's shape and dtype.
* ``clipnorm`` (each gradient's L2 norm at most this), ``global_clipnorm`` (the norm of all
  gradients together) or ``clipvalue`` (each element in :math:`[-c, c]`) clip the gradients first;
  only one of them may be set, as in Keras.

Conventions, stated once here and in every docstring:

* **Momentum (Keras).** A velocity that *includes* the learning rate,
  :math:`v \leftarrow \mu v - \eta g,\ \theta \leftarrow \theta + v`; Nesterov in Keras's
  rewritten form :math:`\theta \leftarrow \theta + \mu v - \eta g` (no gradient at a look-ahead
  point). PyTorch instead keeps :math:`b \leftarrow \mu b + g,\ \theta \leftarrow \theta - \eta b`:
  the same trajectory for a constant learning rate.
* **Epsilon (Keras).** Adam, Adamax and Nadam add :math:`\epsilon` *outside* the square root,
  :math:`\sqrt{\hat v} + \epsilon` (Adam's :math:`\epsilon` is the paper's "epsilon hat", added
  after the bias correction is folded into the step size). RMSprop, Adagrad and Adadelta add it
  *inside*, :math:`\sqrt{s + \epsilon}`, as Keras 3 does. The Polish lecture notes write
  :math:`\sqrt{\hat s + \epsilon}` for Adam too, and write Adam's first moment with a minus sign
  (:math:`m \leftarrow \beta_1 m - (1-\beta_1) g,\ \theta \leftarrow \theta + \eta \hat m \oslash \dots`):
  the same step, different bookkeeping. With :math:`\epsilon = 10^{-7}` the results differ only when
  :math:`\hat s` is tiny.
"""
import inspect
import math

import numpy as np

from nnlib._registry import closest, lookup

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "Adamax", "Nadam",
           "OPTIMIZERS", "get"]


class Optimizer:
    r"""The part every optimizer shares: learning rate, iteration count, clipping, per-variable state.

    A subclass sets ``name``, and defines ``_init_state(var) -> dict`` (its state arrays, e.g.
    ``{"m": zeros, "v": zeros}``) and ``_update(g, var, state, lr, t)`` (one step for one variable,
    in place; ``t = iterations + 1`` is the 1-based step number of the boxes below).
    """

    name = "optimizer"
    _hyper = ()  # names of the hyper-parameters get_config reports

    def __init__(self, learning_rate, clipnorm=None, clipvalue=None, global_clipnorm=None, **legacy):
        if legacy:
            raise TypeError(self._unknown_argument(next(iter(legacy))))
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        chosen = {key: value for key, value in clips.items() if value is not None}
        if len(chosen) > 1:
            raise ValueError(f"Only one of clipnorm, clipvalue and global_clipnorm can be set; got {sorted(chosen)}")
        for key, value in chosen.items():
            if not value > 0:
                raise ValueError(f"{key} must be positive, got {value!r}")
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.iterations = 0
        self._states = {}  # id(var) -> (var, state dict); var is kept so its id is never reused

    def _unknown_argument(self, name):
        """The message for an argument the constructor does not take: Keras 2's ``lr`` and ``decay``
        (older lecture notes use them) get their Keras 3 replacement, a typo the closest name."""
        renamed = {"lr": "learning_rate", "decay": "a learning-rate schedule from nnlib.schedules"}
        known = [p for p in inspect.signature(type(self).__init__).parameters if p not in ("self", "legacy")]
        better = renamed.get(name) or closest(name, known)
        return (f"{type(self).__name__}() got an unexpected argument {name!r}"
                + (f"; use {better} instead" if better else "") + f". It takes: {', '.join(known)}")

    @property
    def learning_rate(self):
        """The current learning rate as a float (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
            return
        if callable(self._learning_rate):
            raise TypeError(
                f"{type(self).__name__} was created with a learning-rate schedule "
                f"({type(self._learning_rate).__name__}), so its learning rate cannot be set to a number; "
                "pass a new schedule, or create the optimizer with a float learning rate.")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"learning_rate must be a number or a schedule (callable of the step), "
                            f"got {type(value).__name__}") from None
        if not (value >= 0 and math.isfinite(value)):
            raise ValueError(f"learning_rate must be a finite number >= 0, got {value}")
        self._learning_rate = value

    def apply_gradients(self, grads_and_vars):
        r"""Update each ``var`` in place from its gradient ``grad``; pairs with ``grad=None`` are skipped.

        ``grads_and_vars``: iterable of ``(grad, var)``, each ``grad`` with its ``var``'s shape.
        """
        pairs = []
        for g, var in grads_and_vars:   # check everything before changing anything
            if g is None:
                continue
            if not isinstance(var, np.ndarray):
                raise TypeError(f"{self.name}: variables are updated in place and must be NumPy arrays, "
                                f"got {type(var).__name__}")
            if type(g) is not np.ndarray:
                g = np.asarray(g)
            if g.shape != var.shape:
                raise ValueError(f"{self.name}: gradient has shape {g.shape} but its variable has "
                                 f"shape {var.shape}; they must match")
            pairs.append((g, var))
        if self.clipnorm is not None or self.clipvalue is not None or self.global_clipnorm is not None:
            pairs = list(zip(self._clip([g for g, _ in pairs]), [var for _, var in pairs]))
        lr = self.learning_rate
        t = self.iterations + 1
        self._begin_step(t)
        states = self._states
        for g, var in pairs:
            entry = states.get(id(var))
            if entry is None:
                entry = states[id(var)] = (var, self._init_state(var))
            self._update(g, var, entry[1], lr, t)
        self.iterations += 1

    def _clip(self, grads):
        if self.clipnorm is not None:
            return [g * (self.clipnorm / max(float(np.sqrt(np.sum(np.square(g)))), self.clipnorm)) for g in grads]
        if self.global_clipnorm is not None:
            norm = float(np.sqrt(sum(np.sum(np.square(g)) for g in grads)))
            scale = self.global_clipnorm / max(norm, self.global_clipnorm)
            return [g * scale for g in grads]
        if self.clipvalue is not None:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _begin_step(self, t):
        """Hook run once per step before the variables are updated (Nadam keeps a running product)."""

    def _init_state(self, var):
        return {}

    def _update(self, g, var, state, lr, t):
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments, for ``repr`` and ``summary``."""
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": lr if not callable(lr) else repr(lr),
                **{k: getattr(self, k) for k in self._hyper},
                **{k: getattr(self, k) for k in ("clipnorm", "clipvalue", "global_clipnorm")
                   if getattr(self, k) is not None}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum. Keras's rule.

    .. math::
        \begin{aligned}
        &\rule{110mm}{0.4pt} \\
        &\textbf{input}: \eta \text{ (learning rate)},\ \mu \text{ (momentum)},\ \theta_0 \text{ (params)},\
            f(\theta) \text{ (objective)},\ \textit{nesterov} \\
        &\textbf{initialise}: v_0 \leftarrow 0 \text{ (velocity)} \\[-1.ex]
        &\rule{110mm}{0.4pt} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\hspace{5mm} g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\hspace{5mm} \textbf{if}\ \mu = 0: \quad \theta_t \leftarrow \theta_{t-1} - \eta g_t \\
        &\hspace{5mm} \textbf{else}: \\
        &\hspace{10mm} v_t \leftarrow \mu v_{t-1} - \eta g_t \\
        &\hspace{10mm} \textbf{if}\ \textit{nesterov}: \quad \theta_t \leftarrow \theta_{t-1} + \mu v_t - \eta g_t \\
        &\hspace{10mm} \textbf{else}: \quad \theta_t \leftarrow \theta_{t-1} + v_t \\
        &\textbf{return}\ \theta_t \\[-1.ex]
        &\rule{110mm}{0.4pt}
        \end{aligned}

    Momentum convention (Keras): the velocity includes the learning rate, as in the Russian and
    Polish notes (:math:`m \leftarrow \beta m - \eta \nabla J,\ \theta \leftarrow \theta + m`).
    The notes write Nesterov with the gradient at the look-ahead point
    :math:`\nabla J(\theta + \beta m)`; Keras (and this class) use the equivalent rewritten form
    above, where the stored :math:`\theta` is the look-ahead point, so one gradient per step suffices.
    No epsilon. Keras defaults: ``learning_rate=0.01, momentum=0.0, nesterov=False``.
    """

    name = "SGD"
    _hyper = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **legacy):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, **legacy)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be a float in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _init_state(self, var):
        return {"velocity": np.zeros_like(var)} if self.momentum else {}

    def _update(self, g, var, state, lr, t):
        if not self.momentum:
            var -= lr * g
            return
        v = state["velocity"]
        v *= self.momentum
        v -= lr * g
        if self.nesterov:
            var += self.momentum * v - lr * g
        else:
            var += v


class Adagrad(Optimizer):
    r"""Adagrad: a per-element step size that shrinks with the sum of squared gradients. Keras's rule.

    .. math::
        \begin{aligned}
        &\rule{110mm}{0.4pt} \\
        &\textbf{input}: \eta \text{ (learning rate)},\ s_0 \text{ (initial accumulator value)},\
            \epsilon,\ \theta_0 \text{ (params)},\ f(\theta) \text{ (objective)} \\
        &\textbf{initialise}: s \leftarrow s_0 \text{ (every element)} \\[-1.ex]
        &\rule{110mm}{0.4pt} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\hspace{5mm} g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\hspace{5mm} s_t \leftarrow s_{t-1} + g_t \odot g_t \\
        &\hspace{5mm} \theta_t \leftarrow \theta_{t-1} - \eta\, g_t \oslash \sqrt{s_t + \epsilon} \\
        &\textbf{return}\ \theta_t \\[-1.ex]
        &\rule{110mm}{0.4pt}
        \end{aligned}

    Epsilon convention: inside the square root, as Keras 3's Adagrad (the Russian notes write
    :math:`\eta / \sqrt{\text{accumulated}}` with no epsilon). No momentum.
    Keras defaults: ``learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7``.
    """

    name = "adagrad"
    _hyper = ("initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, **legacy):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, **legacy)
        if initial_accumulator_value < 0:
            raise ValueError(f"initial_accumulator_value must be >= 0, got {initial_accumulator_value}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _init_state(self, var):
        return {"accumulator": np.full_like(var, self.initial_accumulator_value)}

    def _update(self, g, var, state, lr, t):
        s = state["accumulator"]
        s += g * g
        var -= lr * g / np.sqrt(s + self.epsilon)


class RMSprop(Optimizer):
    r"""RMSprop: divide the gradient by a moving root-mean-square of recent gradients. Keras's rule.

    .. math::
        \begin{aligned}
        &\rule{110mm}{0.4pt} \\
        &\textbf{input}: \eta \text{ (learning rate)},\ \rho \text{ (decay)},\ \mu \text{ (momentum)},\
            \epsilon,\ \textit{centered},\ \theta_0,\ f(\theta) \\
        &\textbf{initialise}: s_0 \leftarrow 0 \text{ (mean square)},\ \bar g_0 \leftarrow 0
            \text{ (mean gradient)},\ b_0 \leftarrow 0 \text{ (momentum buffer)} \\[-1.ex]
        &\rule{110mm}{0.4pt} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\hspace{5mm} g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\hspace{5mm} s_t \leftarrow \rho s_{t-1} + (1 - \rho)\, g_t \odot g_t \\
        &\hspace{5mm} \textbf{if}\ \textit{centered}: \quad
            \bar g_t \leftarrow \rho \bar g_{t-1} + (1 - \rho) g_t, \quad
            d_t \leftarrow s_t - \bar g_t \odot \bar g_t + \epsilon \\
        &\hspace{5mm} \textbf{else}: \quad d_t \leftarrow s_t + \epsilon \\
        &\hspace{5mm} \Delta_t \leftarrow \eta\, g_t \oslash \sqrt{d_t} \\
        &\hspace{5mm} \textbf{if}\ \mu > 0: \quad b_t \leftarrow \mu b_{t-1} + \Delta_t, \quad
            \theta_t \leftarrow \theta_{t-1} - b_t \\
        &\hspace{5mm} \textbf{else}: \quad \theta_t \leftarrow \theta_{t-1} - \Delta_t \\
        &\textbf{return}\ \theta_t \\[-1.ex]
        &\rule{110mm}{0.4pt}
        \end{aligned}

    Epsilon convention: inside the square root, :math:`\sqrt{s + \epsilon}`, as Keras 3 and as the
    Polish notes write RMSProp. Momentum convention (Keras's RMSprop): the buffer holds scaled steps,
    :math:`b \leftarrow \mu b + \Delta`. Keras defaults: ``learning_rate=0.001, rho=0.9,
    momentum=0.0, epsilon=1e-7, centered=False``.
    """

    name = "rmsprop"
    _hyper = ("rho", "momentum", "epsilon", "centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, **legacy):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, **legacy)
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)

    def _init_state(self, var):
        state = {"velocity": np.zeros_like(var)}
        if self.momentum > 0:
            state["momentum"] = np.zeros_like(var)
        if self.centered:
            state["average_gradient"] = np.zeros_like(var)
        return state

    def _update(self, g, var, state, lr, t):
        s = state["velocity"]
        s *= self.rho
        s += (1 - self.rho) * (g * g)
        if self.centered:
            avg = state["average_gradient"]
            avg *= self.rho
            avg += (1 - self.rho) * g
            denominator = s - avg * avg + self.epsilon
        else:
            denominator = s + self.epsilon
        increment = lr * g / np.sqrt(denominator)
        if self.momentum > 0:
            b = state["momentum"]
            b *= self.momentum
            b += increment
            var -= b
        else:
            var -= increment


class Adadelta(Optimizer):
    r"""Adadelta: RMSprop whose step size is a moving RMS of past updates. Keras's rule.

    .. math::
        \begin{aligned}
        &\rule{110mm}{0.4pt} \\
        &\textbf{input}: \eta \text{ (learning rate)},\ \rho \text{ (decay)},\ \epsilon,\
            \theta_0 \text{ (params)},\ f(\theta) \text{ (objective)} \\
        &\textbf{initialise}: s_0 \leftarrow 0 \text{ (mean square gradient)},\
            u_0 \leftarrow 0 \text{ (mean square update)} \\[-1.ex]
        &\rule{110mm}{0.4pt} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\hspace{5mm} g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\hspace{5mm} s_t \leftarrow \rho s_{t-1} + (1 - \rho)\, g_t \odot g_t \\
        &\hspace{5mm} \Delta_t \leftarrow -\sqrt{u_{t-1} + \epsilon} \odot g_t \oslash \sqrt{s_t + \epsilon} \\
        &\hspace{5mm} u_t \leftarrow \rho u_{t-1} + (1 - \rho)\, \Delta_t \odot \Delta_t \\
        &\hspace{5mm} \theta_t \leftarrow \theta_{t-1} + \eta \Delta_t \\
        &\textbf{return}\ \theta_t \\[-1.ex]
        &\rule{110mm}{0.4pt}
        \end{aligned}

    Epsilon convention: inside both square roots, as in Zeiler's paper and Keras. No momentum.
    Keras defaults: ``learning_rate=0.001, rho=0.95, epsilon=1e-7`` (the paper's form is
    ``learning_rate=1.0``).
    """

    name = "adadelta"
    _hyper = ("rho", "epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **legacy):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, **legacy)
        self.rho = float(rho)
        self.epsilon = float(epsilon)

    def _init_state(self, var):
        return {"accumulated_grad": np.zeros_like(var), "accumulated_delta_var": np.zeros_like(var)}

    def _update(self, g, var, state, lr, t):
        s, u = state["accumulated_grad"], state["accumulated_delta_var"]
        s *= self.rho
        s += (1 - self.rho) * (g * g)
        delta = -np.sqrt(u + self.epsilon) * g / np.sqrt(s + self.epsilon)
        u *= self.rho
        u += (1 - self.rho) * (delta * delta)
        var += lr * delta


class Adam(Optimizer):
    r"""Adam: momentum on the gradient plus RMSprop's scaling, both bias-corrected. Keras's rule.

    .. math::
        \begin{aligned}
        &\rule{110mm}{0.4pt} \\
        &\textbf{input}: \eta \text{ (learning rate)},\ \beta_1, \beta_2 \text{ (decays)},\ \epsilon,\
            \theta_0 \text{ (params)},\ f(\theta) \text{ (objective)},\ \textit{amsgrad} \\
        &\textbf{initialise}: m_0 \leftarrow 0 \text{ (first moment)},\ v_0 \leftarrow 0
            \text{ (second moment)},\ \hat v^{\max}_0 \leftarrow 0 \\[-1.ex]
        &\rule{110mm}{0.4pt} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\hspace{5mm} g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\hspace{5mm} m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        &\hspace{5mm} v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g_t \odot g_t \\
        &\hspace{5mm} \textbf{if}\ \textit{amsgrad}: \quad
            \hat v^{\max}_t \leftarrow \max(\hat v^{\max}_{t-1}, v_t), \quad v_t \leftarrow \hat v^{\max}_t \\
        &\hspace{5mm} \alpha_t \leftarrow \eta \sqrt{1 - \beta_2^t} \,/\, (1 - \beta_1^t) \\
        &\hspace{5mm} \theta_t \leftarrow \theta_{t-1} - \alpha_t\, m_t \oslash (\sqrt{v_t} + \epsilon) \\
        &\textbf{return}\ \theta_t \\[-1.ex]
        &\rule{110mm}{0.4pt}
        \end{aligned}

    This is :math:`\theta \leftarrow \theta - \eta\, \hat m \oslash (\sqrt{\hat v} + \hat\epsilon)` with
    :math:`\hat m = m / (1 - \beta_1^t)`, :math:`\hat v = v / (1 - \beta_2^t)` and
    :math:`\hat\epsilon = \epsilon \sqrt{1 - \beta_2^t}`.

    Epsilon convention (Keras): outside the square root, and it is the paper's "epsilon hat" (added
    after the bias correction is folded into :math:`\alpha_t`). The Polish notes write
    :math:`\theta \leftarrow \theta + \eta\, \hat m \oslash \sqrt{\hat s + \epsilon}` with
    :math:`m \leftarrow \beta_1 m - (1 - \beta_1) g` (a minus sign kept in :math:`m`): the same
    direction, epsilon inside the root. Momentum here is the moving average :math:`m`.
    Keras defaults: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False``.
    """

    name = "adam"
    _hyper = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, **legacy):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, **legacy)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _init_state(self, var):
        state = {"m": np.zeros_like(var), "v": np.zeros_like(var)}
        if self.amsgrad:
            state["v_hat"] = np.zeros_like(var)
        return state

    def _update(self, g, var, state, lr, t):
        m, v = state["m"], state["v"]
        alpha = lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m += (1 - self.beta_1) * (g - m)
        v += (1 - self.beta_2) * (g * g - v)
        if self.amsgrad:
            np.maximum(state["v_hat"], v, out=state["v_hat"])
            v = state["v_hat"]
        var -= alpha * m / (np.sqrt(v) + self.epsilon)


class Adamax(Optimizer):
    r"""Adamax: Adam with the infinity norm in place of the root mean square. Keras's rule.

    .. math::
        \begin{aligned}
        &\rule{110mm}{0.4pt} \\
        &\textbf{input}: \eta \text{ (learning rate)},\ \beta_1, \beta_2 \text{ (decays)},\ \epsilon,\
            \theta_0 \text{ (params)},\ f(\theta) \text{ (objective)} \\
        &\textbf{initialise}: m_0 \leftarrow 0 \text{ (first moment)},\ u_0 \leftarrow 0
            \text{ (infinity norm)} \\[-1.ex]
        &\rule{110mm}{0.4pt} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\hspace{5mm} g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\hspace{5mm} m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        &\hspace{5mm} u_t \leftarrow \max(\beta_2 u_{t-1}, |g_t|) \\
        &\hspace{5mm} \theta_t \leftarrow \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\, m_t \oslash (u_t + \epsilon) \\
        &\textbf{return}\ \theta_t \\[-1.ex]
        &\rule{110mm}{0.4pt}
        \end{aligned}

    Epsilon convention (Keras): added to :math:`u_t` (there is no square root). Keras defaults:
    ``learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7``.
    """

    name = "adamax"
    _hyper = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, **legacy):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, **legacy)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)

    def _init_state(self, var):
        return {"m": np.zeros_like(var), "u": np.zeros_like(var)}

    def _update(self, g, var, state, lr, t):
        m, u = state["m"], state["u"]
        m += (1 - self.beta_1) * (g - m)
        np.maximum(self.beta_2 * u, np.abs(g), out=u)
        var -= (lr / (1 - self.beta_1 ** t)) * m / (u + self.epsilon)


class Nadam(Optimizer):
    r"""Nadam: Adam with Nesterov momentum (Dozat, 2016), with Keras's momentum schedule.

    .. math::
        \begin{aligned}
        &\rule{110mm}{0.4pt} \\
        &\textbf{input}: \eta \text{ (learning rate)},\ \beta_1, \beta_2 \text{ (decays)},\ \epsilon,\
            \theta_0 \text{ (params)},\ f(\theta) \text{ (objective)} \\
        &\textbf{initialise}: m_0 \leftarrow 0,\ v_0 \leftarrow 0,\ \Pi_0 \leftarrow 1
            \text{ (product of momentum factors)} \\[-1.ex]
        &\rule{110mm}{0.4pt} \\
        &\textbf{for}\ t = 1, 2, \ldots\ \textbf{do} \\
        &\hspace{5mm} g_t \leftarrow \nabla_\theta f_t(\theta_{t-1}) \\
        &\hspace{5mm} \mu_t \leftarrow \beta_1 \left(1 - \tfrac{1}{2}\, 0.96^{t}\right), \quad
            \mu_{t+1} \leftarrow \beta_1 \left(1 - \tfrac{1}{2}\, 0.96^{t+1}\right) \\
        &\hspace{5mm} \Pi_t \leftarrow \Pi_{t-1}\, \mu_t \\
        &\hspace{5mm} m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1)\, g_t \\
        &\hspace{5mm} v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2)\, g_t \odot g_t \\
        &\hspace{5mm} \hat m_t \leftarrow \frac{\mu_{t+1}\, m_t}{1 - \Pi_t \mu_{t+1}}
            + \frac{(1 - \mu_t)\, g_t}{1 - \Pi_t} \\
        &\hspace{5mm} \hat v_t \leftarrow v_t / (1 - \beta_2^t) \\
        &\hspace{5mm} \theta_t \leftarrow \theta_{t-1} - \eta\, \hat m_t \oslash (\sqrt{\hat v_t} + \epsilon) \\
        &\textbf{return}\ \theta_t \\[-1.ex]
        &\rule{110mm}{0.4pt}
        \end{aligned}

    Epsilon convention (Keras): outside the square root. Momentum: the Nesterov look-ahead is the
    :math:`\mu_{t+1} m_t` term. Keras defaults: ``learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7``.
    """

    name = "nadam"
    _hyper = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, **legacy):
        super().__init__(learning_rate, clipnorm, clipvalue, global_clipnorm, **legacy)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self._u_product = 1.0

    def _mu(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** t)

    def _begin_step(self, t):
        self._u_product *= self._mu(t)

    def _init_state(self, var):
        return {"m": np.zeros_like(var), "v": np.zeros_like(var)}

    def _update(self, g, var, state, lr, t):
        m, v = state["m"], state["v"]
        mu_t, mu_next = self._mu(t), self._mu(t + 1)
        product = self._u_product
        m += (1 - self.beta_1) * (g - m)
        v += (1 - self.beta_2) * (g * g - v)
        m_hat = (mu_next / (1 - product * mu_next)) * m + ((1 - mu_t) / (1 - product)) * g
        v_hat = v / (1 - self.beta_2 ** t)
        var -= lr * m_hat / (np.sqrt(v_hat) + self.epsilon)


OPTIMIZERS = {
    "sgd": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adadelta": Adadelta,
    "adam": Adam,
    "adamax": Adamax,
    "nadam": Nadam,
}


def get(identifier):
    """Return an optimizer: a Keras name ("adam", "SGD", ...) gives a new one with Keras defaults;
    an :class:`Optimizer` instance passes through unchanged. Unknown names suggest the closest."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if not isinstance(identifier, str):
        raise TypeError(f"optimizer must be a name such as 'adam' or an Optimizer instance, "
                        f"got {type(identifier).__name__}")
    return lookup(OPTIMIZERS, identifier, "optimizer")()
