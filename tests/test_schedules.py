"""Learning-rate schedules: Keras's ExponentialDecay values and the notes' step annealing."""
import math

import numpy as np
import pytest

from nnlib import callbacks, optimizers, schedules


def test_exponential_decay_smooth_and_staircase():
    smooth = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert smooth(0) == pytest.approx(0.1)
    assert smooth(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert smooth(10) == pytest.approx(0.05)
    assert smooth(25) == pytest.approx(0.1 * 0.5 ** 2.5)
    stairs = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [stairs(t) for t in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_exponential_decay_is_the_notes_annealing():
    # lr = lr0 * exp(-alpha t) is decay_rate = exp(-alpha) with decay_steps = 1.
    alpha = 0.3
    sched = schedules.ExponentialDecay(0.02, decay_steps=1, decay_rate=math.exp(-alpha))
    for t in range(6):
        assert sched(t) == pytest.approx(0.02 * math.exp(-alpha * t))


def test_step_decay():
    sched = schedules.StepDecay(1.0, every=3, factor=0.1)
    assert [sched(e) for e in range(7)] == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01])
    assert isinstance(sched(np.int64(4)), float)


def test_bad_arguments():
    with pytest.raises(ValueError, match="decay_steps must be positive"):
        schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5)
    with pytest.raises(ValueError, match="every must be positive"):
        schedules.StepDecay(0.1, every=0)


def test_schedule_drives_an_optimizer_per_step():
    opt = optimizers.SGD(schedules.StepDecay(1.0, every=2, factor=0.5))
    w = np.zeros(1)
    seen = []
    for _ in range(5):
        seen.append(opt.learning_rate)
        opt.apply_gradients([(np.ones(1), w)])
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert w[0] == pytest.approx(-3.25)


def test_one_argument_schedule_works_with_learning_rate_scheduler():
    class FakeModel:
        optimizer = optimizers.SGD(0.5)

    cb = callbacks.LearningRateScheduler(schedules.StepDecay(0.4, every=2, factor=0.5))
    cb.set_model(FakeModel())
    rates = []
    for epoch in range(5):
        cb.on_epoch_begin(epoch)
        rates.append(FakeModel.optimizer.learning_rate)
    assert rates == pytest.approx([0.4, 0.4, 0.2, 0.2, 0.1])


def test_docstrings_carry_latex():
    assert r"\lfloor" in schedules.ExponentialDecay.__doc__
    assert r"\lambda" in schedules.StepDecay.__doc__
