r"""Hyper-parameter search on one train/validation split, as the notes advise: "try the
hyper-parameters (learning rate, annealing, batch size, dropout rate), tuned on val".

::

    def build(learning_rate, rate):
        model = models.Sequential([layers.Input(64), layers.Dense(64, activation="relu"),
                                   layers.Dropout(rate), layers.Dense(10, activation="softmax")])
        model.compile(optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
        return model

    trials = tuning.grid_search(build, {"learning_rate": [1e-3, 1e-2], "rate": [0.0, 0.2],
                                        "batch_size": [32, 64]}, x, y, epochs=10)
    trials[0].params, trials[0].score          # the best combination and its val_loss

Each combination trains a fresh model from ``build(**params)`` (a compiled ``Sequential``) on the
same training part and is scored on the same validation part (``validation_split`` or
``validation_data``), by ``monitor`` at its best epoch. The fit arguments ``batch_size`` and
``epochs`` may be searched too; every other name goes to ``build``. ``mode="auto"`` maximises a
monitor whose name contains "acc" and minimises the others. ``random_search`` tries ``n_trials``
combinations drawn from the same lists instead of all of them.
"""
import itertools
import math
from typing import NamedTuple

import numpy as np

from nnlib._checks import NonFiniteError
from nnlib.callbacks import _resolve_mode

__all__ = ["Trial", "grid_search", "random_search"]

FIT_ARGUMENTS = ("batch_size", "epochs")


class Trial(NamedTuple):
    """One combination tried: its ``params``, its ``score`` (``monitor`` at the best epoch) and the
    ``history`` dict of its training. A combination whose training failed (it diverged, say) has the
    worst score (``inf`` when minimising, ``-inf`` when maximising) and the message in ``error``."""
    params: dict
    score: float
    history: dict
    error: str = ""


def _check_space(space):
    if not isinstance(space, dict) or not space:
        raise ValueError("the search space must be a non-empty dict: name -> list of values to try")
    for name, values in space.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"the values to try for {name!r} must be a non-empty list, got {values!r}")


def _run(build, combinations, x, y, epochs, batch_size, validation_split, validation_data, monitor, mode, seed):
    if validation_data is None and not 0 < validation_split < 1:
        raise ValueError("a search needs held-out data: validation_split in (0, 1) or validation_data=(x_val, y_val)")
    mode = _resolve_mode(mode, monitor)
    worst = math.inf if mode == "min" else -math.inf
    trials = []
    for params in combinations:
        fit_args = {"epochs": epochs, "batch_size": batch_size}
        fit_args.update({k: v for k, v in params.items() if k in FIT_ARGUMENTS})
        model = build(**{k: v for k, v in params.items() if k not in FIT_ARGUMENTS})
        try:   # a combination that diverges overflows: no warnings, its error is kept in the Trial
            with np.errstate(over="ignore", invalid="ignore"):
                history = model.fit(x, y, validation_split=validation_split, validation_data=validation_data,
                                    verbose=0, seed=seed, **fit_args).history
        except (NonFiniteError, FloatingPointError, OverflowError) as err:   # not a mistake in the call
            trials.append(Trial(dict(params), worst, {}, f"{type(err).__name__}: {err}"))
            continue
        if monitor not in history:
            raise ValueError(f"monitor {monitor!r} is not among the logs of the training: {sorted(history)}")
        values = [v for v in history[monitor] if math.isfinite(v)]
        score = (min(values) if mode == "min" else max(values)) if values else worst
        trials.append(Trial(dict(params), float(score), history))
    return sorted(trials, key=lambda t: t.score if mode == "min" else -t.score)


def grid_search(build, grid, x, y, epochs=10, batch_size=32, validation_split=0.2, validation_data=None,
                monitor="val_loss", mode="auto", seed=0):
    """Train and score every combination of ``grid`` (name -> list of values); return the
    :class:`Trial` list, best first."""
    _check_space(grid)
    names = list(grid)
    combinations = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]
    return _run(build, combinations, x, y, epochs, batch_size, validation_split, validation_data, monitor, mode, seed)


def random_search(build, space, x, y, n_trials=10, epochs=10, batch_size=32, validation_split=0.2,
                  validation_data=None, monitor="val_loss", mode="auto", seed=0):
    """Train and score ``n_trials`` combinations drawn at random (``seed``) from ``space`` (name -> list
    of values), without repeats; return the :class:`Trial` list, best first."""
    _check_space(space)
    names = list(space)
    every = list(itertools.product(*(range(len(space[n])) for n in names)))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(every), size=min(n_trials, len(every)), replace=False)
    combinations = [{n: space[n][i] for n, i in zip(names, every[k])} for k in chosen]
    return _run(build, combinations, x, y, epochs, batch_size, validation_split, validation_data, monitor, mode, seed)
