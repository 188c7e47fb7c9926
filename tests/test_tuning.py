"""nnlib.tuning: hyper-parameter search on one train/validation split, as the notes advise."""
import numpy as np
import pytest

from nnlib import datasets, layers, models, optimizers, tuning

X, Y = datasets.digits_8x8()
X, Y = X[:600], Y[:600]


def build(learning_rate=1e-3, units=16):
    model = models.Sequential([models.Input(64), layers.Dense(units, activation="relu", seed=0),
                               layers.Dense(10, activation="softmax", seed=1)])
    model.compile(optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", ["accuracy"])
    return model


def test_grid_search_tries_every_combination_and_ranks_them_on_validation():
    grid = {"learning_rate": [1e-4, 1e-2], "units": [4, 32], "batch_size": [64]}
    trials = tuning.grid_search(build, grid, X, Y, epochs=4)
    assert sorted((t.params["learning_rate"], t.params["units"]) for t in trials) == \
        [(1e-4, 4), (1e-4, 32), (1e-2, 4), (1e-2, 32)]
    scores = [t.score for t in trials]
    assert scores == sorted(scores)                                       # val_loss: lowest first
    assert trials[0].params == {"learning_rate": 1e-2, "units": 32, "batch_size": 64}
    assert trials[0].score == min(trials[0].history["val_loss"])
    by_accuracy = tuning.grid_search(build, {"learning_rate": [1e-4, 1e-2]}, X, Y, epochs=3, monitor="val_accuracy")
    assert by_accuracy[0].score >= by_accuracy[1].score and by_accuracy[0].params["learning_rate"] == 1e-2


def test_the_same_split_and_seed_give_the_same_scores():
    once = tuning.grid_search(build, {"units": [8]}, X, Y, epochs=2)
    again = tuning.grid_search(build, {"units": [8]}, X, Y, epochs=2)
    assert once[0].score == again[0].score


def test_random_search_draws_distinct_combinations():
    space = {"learning_rate": [1e-4, 1e-3, 1e-2], "units": [4, 8, 16]}
    trials = tuning.random_search(build, space, X, Y, n_trials=4, epochs=1, seed=3)
    combos = [(t.params["learning_rate"], t.params["units"]) for t in trials]
    assert len(combos) == len(set(combos)) == 4
    assert len(tuning.random_search(build, {"units": [4, 8]}, X, Y, n_trials=10, epochs=1)) == 2


def test_bad_searches_are_explained():
    with pytest.raises(ValueError, match="non-empty dict"):
        tuning.grid_search(build, {}, X, Y)
    with pytest.raises(ValueError, match="values to try for 'units' must be a non-empty list"):
        tuning.grid_search(build, {"units": 8}, X, Y)
    with pytest.raises(ValueError, match="needs held-out data"):
        tuning.grid_search(build, {"units": [8]}, X, Y, validation_split=0.0)
    with pytest.raises(ValueError, match="monitor 'val_auc' is not among the logs"):
        tuning.grid_search(build, {"units": [8]}, X, Y, epochs=1, monitor="val_auc")


def test_given_validation_data_is_used_instead_of_a_split():
    trials = tuning.grid_search(build, {"units": [8]}, X[:500], Y[:500], epochs=1, validation_data=(X[500:], Y[500:]))
    model = build(units=8)
    model.fit(X[:500], Y[:500], epochs=1, verbose=0, seed=0)
    assert trials[0].score == pytest.approx(model.evaluate(X[500:], Y[500:])[0])


def test_a_diverging_combination_ranks_last_and_says_why():
    def regression(learning_rate):
        model = models.Sequential([models.Input(64), layers.Dense(1, seed=0)])
        model.compile(optimizers.SGD(learning_rate), "mse")
        return model

    targets = Y.astype(float) * 100
    trials = tuning.grid_search(regression, {"learning_rate": [1e-5, 10.0]}, X, targets, epochs=10)
    best, worst = trials
    assert best.params["learning_rate"] == 1e-5 and best.error == "" and np.isfinite(best.score)
    assert worst.params["learning_rate"] == 10.0 and worst.score == float("inf")
    assert "inf" in worst.error or "nan" in worst.error.lower()


def test_a_mistake_in_the_call_is_raised_not_ranked():
    with pytest.raises(ValueError, match="same number of samples"):
        tuning.grid_search(build, {"units": [4, 8]}, X, Y[:10], epochs=1)
