r"""Weight penalties L1 and L2, as Keras's ``kernel_regularizer=regularizers.l2(0.01)``.

A layer with a regularizer adds a penalty :math:`\Omega(W)` of its weights to the model's loss, and
its gradient to the weights' gradient, so training prefers small weights (the notes' "weight
penalty", a regularisation when there is no data to spare for cross-validation):

.. math::
    L_{\text{total}} = L + \Omega(W), \qquad
    \Omega(W) = \lambda_1 \sum_{ij} |W_{ij}| + \lambda_2 \sum_{ij} W_{ij}^2, \qquad
    \frac{\partial \Omega}{\partial W} = \lambda_1 \operatorname{sgn}(W) + 2 \lambda_2 W

(:math:`\operatorname{sgn}(0) = 0`: the subgradient Keras's L1 also takes at 0). L1 drives weights to
exactly zero; L2 ("weight decay") shrinks them all in proportion.

``get("l2")`` gives Keras's default strength 0.01; ``l1(0.001)``, ``l2(0.01)``, ``l1_l2(l1=0.01, l2=0.01)``
and ``L1L2(l1, l2)`` choose it. ``Dense`` and ``Conv2D`` take ``kernel_regularizer`` and ``bias_regularizer``.
"""
import math
from dataclasses import dataclass

import numpy as np

from nnlib._registry import lookup

__all__ = ["L1L2", "l1", "l2", "l1_l2", "REGULARIZERS", "get"]


@dataclass(frozen=True)
class L1L2:
    r"""The penalty :math:`\lambda_1 \sum |W| + \lambda_2 \sum W^2` of a weight array and its gradient."""
    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self):
        for name in ("l1", "l2"):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
                    or not (math.isfinite(value) and value >= 0)):
                raise ValueError(f"the {name} strength must be a finite number >= 0, got {value!r}")
            object.__setattr__(self, name, float(value))   # frozen: set once, as a plain float

    def __call__(self, weights):
        r""":math:`\Omega(W)`, a float."""
        return float(self.l1 * np.sum(np.abs(weights)) + self.l2 * np.sum(np.square(weights)))

    def gradient(self, weights):
        r""":math:`\partial \Omega / \partial W = \lambda_1 \operatorname{sgn}(W) + 2 \lambda_2 W`, shaped like ``weights``."""
        return (self.l1 * np.sign(weights) + (2 * self.l2) * weights).astype(weights.dtype, copy=False)


def l1(l1=0.01):
    r"""The L1 penalty :math:`\lambda_1 \sum |W|` (Keras's ``regularizers.l1``, default 0.01)."""
    return L1L2(l1=l1)


def l2(l2=0.01):
    r"""The L2 penalty :math:`\lambda_2 \sum W^2` (Keras's ``regularizers.l2``, default 0.01)."""
    return L1L2(l2=l2)


def l1_l2(l1=0.01, l2=0.01):
    r"""Both penalties (Keras's ``regularizers.l1_l2``, defaults 0.01 each)."""
    return L1L2(l1=l1, l2=l2)


REGULARIZERS = {"l1": l1, "l2": l2, "l1_l2": l1_l2, "l1l2": l1_l2}


def get(identifier):
    """A regularizer from ``None`` (none), a name ("l1", "l2", "l1_l2", with Keras's default strength
    0.01) or an ``L1L2`` (returned as it is)."""
    if identifier is None or isinstance(identifier, L1L2):
        return identifier
    if isinstance(identifier, str):
        return lookup(REGULARIZERS, identifier, "regularizer")()
    raise TypeError(f"a regularizer must be None, a name such as 'l2', or regularizers.l2(0.01); "
                    f"got {type(identifier).__name__}")
