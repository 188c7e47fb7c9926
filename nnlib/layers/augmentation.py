r"""New, slightly changed training samples on every pass, as Keras's augmentation layers.

The notes list dataset augmentation among the regularisations: flipping, shifting or adding noise
to the training images shows the network more variety than the data set holds, so it overfits
less. Each layer changes its input only in training (``forward(x, training=True)``, which
``fit`` uses) and is the identity at inference. All three are linear in :math:`x` for the random
draw of a pass, so backward applies the adjoint of that same draw:

* ``GaussianNoise(stddev)``: :math:`y = x + \varepsilon,\ \varepsilon \sim \mathcal N(0, \sigma^2)`,
  :math:`\partial L/\partial x = \delta`;
* ``RandomFlip(mode)``: each image mirrored left-right and/or upside down with probability 1/2;
  backward mirrors :math:`\delta` the same way;
* ``RandomTranslation(height_factor, width_factor)``: each image shifted by a whole number of
  pixels, up to the factor times its height and width, the uncovered border filled with
  ``fill_value``; backward shifts :math:`\delta` back (what falls off the edge gets no gradient).

Images are (N, H, W, C), channels last, as Keras. ``seed`` fixes the draws; the generator is ``layer.rng``.
"""
from typing import NamedTuple

import numpy as np

from nnlib import initializers
from nnlib.layers.base import Layer


class _Augmentation(Layer):
    """What the three share: a seeded generator, the identity at inference, no weights."""
    base_name = "augmentation"

    def __init__(self, seed=None, name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self.seed = seed
        self.rng = initializers.rng_for(seed)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class NoiseCache(NamedTuple):
    """GaussianNoise forward values kept for backward: the input ``shape``."""
    shape: tuple


class GaussianNoise(_Augmentation):
    r"""Adds :math:`\mathcal N(0, \sigma^2)` noise to every input value in training.

    .. math::
        y = x + \varepsilon, \quad \varepsilon_i \sim \mathcal N(0, \sigma^2), \qquad \frac{\partial L}{\partial x} = \delta
    """
    base_name = "gaussian_noise"

    def __init__(self, stddev, seed=None, name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(seed, name, input_shape, trainable, dtype)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float, np.floating)) or not stddev >= 0:
            raise ValueError(f"GaussianNoise stddev must be a number >= 0, got {stddev!r}")
        self.stddev = float(stddev)

    def call(self, x, training=False):
        self.cache = NoiseCache(x.shape)
        if not training or self.stddev == 0:
            return x
        return x + self.rng.normal(0.0, self.stddev, size=x.shape).astype(x.dtype)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        self._check_dy_shape(dy, self.cache.shape)
        return dy

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class FlipCache(NamedTuple):
    """RandomFlip forward values kept for backward: which images were mirrored left-right
    (``horizontal`` (N,) bools) and upside down (``vertical``); ``None`` at inference."""
    horizontal: object
    vertical: object
    shape: tuple


def _flip(images, horizontal, vertical):
    """A copy of ``images`` (N, H, W, C) with the chosen ones mirrored (its own inverse and adjoint)."""
    out = images.copy()
    out[horizontal] = out[horizontal][:, :, ::-1]
    out[vertical] = out[vertical][:, ::-1]
    return out


class RandomFlip(_Augmentation):
    r"""Mirrors each image left-right and/or upside down, each with probability 1/2, in training.

    ``mode``: "horizontal" (left-right), "vertical" (upside down) or "horizontal_and_vertical"
    (Keras's default). Backward mirrors :math:`\delta` as the forward pass mirrored the image.
    """
    base_name = "random_flip"
    input_ndim = 3
    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, name=None, input_shape=None, trainable=True,
                 dtype="float64"):
        super().__init__(seed, name, input_shape, trainable, dtype)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip mode must be one of {', '.join(self.MODES)}; got {mode!r}")
        self.mode = mode

    def call(self, x, training=False):
        if not training:
            self.cache = FlipCache(None, None, x.shape)
            return x
        n = len(x)
        horizontal = self.rng.random(n) < 0.5 if "horizontal" in self.mode else np.zeros(n, bool)
        vertical = self.rng.random(n) < 0.5 if "vertical" in self.mode else np.zeros(n, bool)
        self.cache = FlipCache(horizontal, vertical, x.shape)
        return _flip(x, horizontal, vertical)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        horizontal, vertical, shape = self.cache
        self._check_dy_shape(dy, shape)
        return dy if horizontal is None else _flip(dy, horizontal, vertical)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class ShiftCache(NamedTuple):
    """RandomTranslation forward values kept for backward: each image's shift in pixels, ``rows``
    and ``cols`` (N,) ints (``None`` at inference), and the input ``shape``."""
    rows: object
    cols: object
    shape: tuple


def _shift(images, rows, cols, fill_value=0.0):
    """Each image (H, W, C) of ``images`` moved down by ``rows[n]`` and right by ``cols[n]`` pixels
    (negative: up, left); the uncovered border takes ``fill_value``."""
    out = np.full_like(images, fill_value)
    height, width = images.shape[1:3]
    for n, (dr, dc) in enumerate(zip(rows, cols)):
        if abs(dr) < height and abs(dc) < width:
            out[n, max(dr, 0):height + min(dr, 0), max(dc, 0):width + min(dc, 0)] = \
                images[n, max(-dr, 0):height + min(-dr, 0), max(-dc, 0):width + min(-dc, 0)]
    return out


class RandomTranslation(_Augmentation):
    r"""Shifts each image by a random whole number of pixels in training, as Keras's
    ``RandomTranslation(height_factor, width_factor)`` (with ``fill_mode="constant"``).

    Each image moves by :math:`d_r \in [-\operatorname{round}(f_h H), \operatorname{round}(f_h H)]` rows and
    :math:`d_c \in [-\operatorname{round}(f_w W), \operatorname{round}(f_w W)]` columns, drawn uniformly;
    the border it leaves takes ``fill_value``. Backward moves :math:`\delta` back by :math:`(-d_r, -d_c)`
    with zeros where nothing came from: the adjoint of the shift.
    """
    base_name = "random_translation"
    input_ndim = 3

    def __init__(self, height_factor, width_factor, fill_value=0.0, seed=None, name=None, input_shape=None,
                 trainable=True, dtype="float64"):
        super().__init__(seed, name, input_shape, trainable, dtype)
        for what, factor in (("height_factor", height_factor), ("width_factor", width_factor)):
            if isinstance(factor, bool) or not isinstance(factor, (int, float, np.floating)) or not 0 <= factor <= 1:
                raise ValueError(f"RandomTranslation {what} must be a fraction of the image in [0, 1], got {factor!r}")
        self.height_factor, self.width_factor = float(height_factor), float(width_factor)
        self.fill_value = float(fill_value)

    def call(self, x, training=False):
        if not training:
            self.cache = ShiftCache(None, None, x.shape)
            return x
        most_rows = int(round(self.height_factor * x.shape[1]))
        most_cols = int(round(self.width_factor * x.shape[2]))
        rows = self.rng.integers(-most_rows, most_rows + 1, size=len(x))
        cols = self.rng.integers(-most_cols, most_cols + 1, size=len(x))
        self.cache = ShiftCache(rows, cols, x.shape)
        return _shift(x, rows, cols, self.fill_value)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        rows, cols, shape = self.cache
        self._check_dy_shape(dy, shape)
        return dy if rows is None else _shift(dy, -rows, -cols, 0.0)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor,
                "fill_value": self.fill_value}
