"""nnlib: the course's reference neural-network library in NumPy (and Numba for the loops).

The public API follows Keras names, because the lectures teach Keras::

    from nnlib import layers, models, optimizers
    model = models.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

Submodules are imported lazily, so ``import nnlib`` stays fast (no Numba, Matplotlib or
scikit-learn until a submodule that needs them is used).
"""
import importlib

__version__ = "0.1.0"

__all__ = [
    "activations", "callbacks", "conv", "datasets", "gradcheck", "graph", "initializers",
    "layers", "losses", "metrics", "models", "neuron", "optimizers", "plot", "regularizers", "schedules", "tuning",
]


def __getattr__(name):
    if name in __all__:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'nnlib' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
