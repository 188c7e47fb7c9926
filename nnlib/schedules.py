r"""Learning-rate schedules: callables of the step, passed as an optimizer's ``learning_rate``.

An optimizer calls ``schedule(opt.iterations)`` before every update (the step counts batches, from 0),
as Keras's ``LearningRateSchedule``. To change the rate once per epoch instead, give the schedule to
``callbacks.LearningRateScheduler``, which calls it with the epoch number.

The Russian notes call this *annealing*: "every n epochs multiply by :math:`\lambda < 1`"
(:class:`StepDecay`) or :math:`\eta = \eta_0 e^{-\alpha t}` (:class:`ExponentialDecay` with
``decay_rate`` :math:`= e^{-\alpha}` and ``decay_steps=1``).
"""
import math
from dataclasses import asdict, dataclass

__all__ = ["ExponentialDecay", "StepDecay"]


def _check_positive(**values):
    for key, value in values.items():
        if not value > 0:
            raise ValueError(f"{key} must be positive, got {value!r}")


@dataclass(frozen=True)
class ExponentialDecay:
    r"""Multiply the learning rate by ``decay_rate`` every ``decay_steps`` steps, smoothly (Keras).

    .. math::
        \eta(t) = \eta_0 \cdot r^{\,t / T}
        \qquad\text{or, with } \textit{staircase}, \qquad
        \eta(t) = \eta_0 \cdot r^{\lfloor t / T \rfloor}

    with :math:`\eta_0` = ``initial_learning_rate``, :math:`r` = ``decay_rate``,
    :math:`T` = ``decay_steps`` and :math:`t` the step (a scalar). Returns a float.
    """

    initial_learning_rate: float
    decay_steps: int
    decay_rate: float
    staircase: bool = False

    def __post_init__(self):
        _check_positive(initial_learning_rate=self.initial_learning_rate, decay_steps=self.decay_steps,
                        decay_rate=self.decay_rate)

    def __call__(self, step):
        exponent = float(step) / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate ** exponent

    def get_config(self):
        return asdict(self)


@dataclass(frozen=True)
class StepDecay:
    r"""Annealing by steps: multiply the learning rate by ``factor`` every ``every`` steps.

    .. math::
        \eta(t) = \eta_0 \cdot \lambda^{\lfloor t / n \rfloor}

    with :math:`\eta_0` = ``initial_learning_rate``, :math:`\lambda` = ``factor`` (usually below 1),
    :math:`n` = ``every`` and :math:`t` the step. Used by ``LearningRateScheduler`` the step is the
    epoch (the notes' "every n epochs"); used as an optimizer's ``learning_rate`` it counts batches,
    so pass ``every = n * steps_per_epoch``. Returns a float.
    """

    initial_learning_rate: float
    every: int
    factor: float = 0.5

    def __post_init__(self):
        _check_positive(initial_learning_rate=self.initial_learning_rate, every=self.every, factor=self.factor)

    def __call__(self, step):
        return self.initial_learning_rate * self.factor ** (int(step) // self.every)

    def get_config(self):
        return asdict(self)
