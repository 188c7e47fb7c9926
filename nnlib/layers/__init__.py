r"""Layers with Keras's names and arguments, each with a forward and a backward pass.

Every layer follows one contract (the one of the CS231n assignments), which ``models.Sequential``
relies on::

    layer.build(input_shape)          # input_shape without the batch axis, e.g. (4,) or (28, 28, 1)
    y = layer.forward(x, training)    # x: (batch, *input_shape); builds on first call; keeps a cache
    dx = layer.backward(dy)           # dy = dL/dy -> dL/dx; fills layer.grads (same keys as layer.params)

For a layer :math:`y = f(x; \theta)` backward applies the chain rule with the upstream gradient
:math:`\delta = \partial L / \partial y`:

.. math::
    \frac{\partial L}{\partial x} = \left(\frac{\partial y}{\partial x}\right)^T \delta, \qquad
    \frac{\partial L}{\partial \theta} = \left(\frac{\partial y}{\partial \theta}\right)^T \delta

As in Keras (where ``__call__`` checks and ``call`` computes), ``forward`` and ``backward`` live in
the base class ``Layer``: they check their argument (finite floats, shapes, call order, building on
first use) and hand it to the layer's own ``call(x, training)`` and ``call_backward(dy)``, which
hold the math. ``Sequential.fit`` checks the data once and then calls ``call``/``call_backward``
directly. A layer written by hand may instead override ``forward`` and ``backward`` themselves.

Layers with an ``activation`` (Dense, Conv2D, Activation) compute :math:`y = f(z)` and also take
``backward(dy, skip_activation=True)``: then ``dy`` is :math:`\partial L/\partial z`, the gradient of the
pre-activation, and the activation's backward is skipped. ``Sequential`` uses it for the fused
softmax (or sigmoid) + crossentropy gradient :math:`(p - y)/N`; the name of the activation is
``layer.get_config()["activation"]``.

Conventions:

* Weights are float64 by default (NumPy's default, and what ``nnlib.gradcheck`` needs); pass
  ``dtype="float32"`` for speed. Layers with weights cast their input to that dtype.
* ``params`` and ``grads`` use Keras's names and order: ``kernel`` then ``bias``; ``gamma``, ``beta``.
  BatchNormalization's moving statistics live in ``state`` (not trained, but saved by ``get_weights``).
* Images are channels-last (N, H, W, C) as in Keras; ``data_format="channels_first"`` takes (N, C, H, W).
  Conv2D kernels are (kh, kw, in_channels, filters) in both cases, as in Keras.
* Names are automatic as in Keras: "dense", "dense_1", ...; ``reset_name_counters()`` restarts them.

Where they are, one kind per module (all are imported here, so ``layers.Dense`` as in Keras):

* :mod:`nnlib.layers.base`: ``Layer`` (the checks and bookkeeping every layer shares), ``Input``;
* :mod:`nnlib.layers.core`: ``Dense``, ``Activation``, ``Lambda``, ``Flatten``, ``Dropout``;
* :mod:`nnlib.layers.convolutional`: ``Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``;
* :mod:`nnlib.layers.normalization`: ``BatchNormalization``, ``Normalization``;
* :mod:`nnlib.layers.augmentation`: ``GaussianNoise``, ``RandomFlip``, ``RandomTranslation``.
"""
from nnlib._registry import lookup
from nnlib.layers.augmentation import GaussianNoise, RandomFlip, RandomTranslation
from nnlib.layers.base import Input, InputSpec, Layer, reset_name_counters
from nnlib.layers.convolutional import AveragePooling2D, Conv2D, MaxPooling2D
from nnlib.layers.core import Activation, Dense, Dropout, Flatten, Lambda
from nnlib.layers.normalization import BatchNormalization, Normalization

__all__ = ["Layer", "Input", "InputSpec", "Dense", "Activation", "Lambda", "Flatten", "Dropout", "Conv2D",
           "MaxPooling2D", "AveragePooling2D", "BatchNormalization", "Normalization", "GaussianNoise", "RandomFlip",
           "RandomTranslation", "LAYERS", "get", "reset_name_counters"]

#: Layer classes by name (case-insensitive in ``get``), e.g. to rebuild a model from its configs.
LAYERS = {cls.__name__.lower(): cls for cls in (Dense, Activation, Lambda, Conv2D, MaxPooling2D, AveragePooling2D,
                                                 Flatten, Dropout, BatchNormalization, Normalization, GaussianNoise,
                                                 RandomFlip, RandomTranslation)}


def get(identifier):
    """Return the layer class named ``identifier`` ("Dense", "conv2d", ...); a class passes through."""
    return lookup(LAYERS, identifier, "layer")
