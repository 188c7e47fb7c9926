r"""Layers on images (N, H, W, C): ``Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``; the sliding
windows themselves are computed by :mod:`nnlib._kernels`."""
from typing import NamedTuple

import numpy as np

from nnlib import _kernels, initializers
from nnlib.conv import padding_amounts
from nnlib.layers.base import Layer, _act_name, _as_shape, _positive_int

# --- images: shared helpers -------------------------------------------------------------------------

_DATA_FORMATS = ("channels_last", "channels_first")


def _check_data_format(data_format):
    if data_format not in _DATA_FORMATS:
        raise ValueError(f"data_format must be 'channels_last' (N, H, W, C) or 'channels_first' (N, C, H, W), "
                         f"got {data_format!r}")
    return data_format


def _check_padding(padding):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def _spatial_output(size, window, stride, padding):
    """Output length along one axis for 'valid' or 'same' padding."""
    before, after = padding_amounts(size, window, stride, padding)
    return _kernels.output_size(size + before + after, window, stride)


class _ImageLayer(Layer):
    """Shared by Conv2D and the pooling layers: data format, window, strides, padding."""
    input_ndim = 3

    def _setup_window(self, window, strides, padding, data_format, window_name):
        self.window = _kernels.as_pair(window, window_name)
        self.strides = _kernels.as_pair(window if strides is None else strides, "strides")
        self.padding = _check_padding(padding)
        self.data_format = _check_data_format(data_format)

    def _split(self, shape):
        """(height, width, channels) of one sample's shape, whatever the data format."""
        return (shape[0], shape[1], shape[2]) if self.data_format == "channels_last" else (shape[1], shape[2], shape[0])

    def _join(self, height, width, channels):
        return (height, width, channels) if self.data_format == "channels_last" else (channels, height, width)

    def _output_hw(self, height, width):
        return (_spatial_output(height, self.window[0], self.strides[0], self.padding),
                _spatial_output(width, self.window[1], self.strides[1], self.padding))

    def _pads(self, height, width):
        """(top, bottom, left, right) zeros around each image."""
        return (padding_amounts(height, self.window[0], self.strides[0], self.padding)
                + padding_amounts(width, self.window[1], self.strides[1], self.padding))

    def _to_nchw(self, x):
        return x.transpose(0, 3, 1, 2) if self.data_format == "channels_last" else x

    def _from_nchw(self, x):
        return x.transpose(0, 2, 3, 1) if self.data_format == "channels_last" else x

    def _nchw_to_format(self, shape):
        """An NCHW shape written in the layer's data format."""
        return (shape[0], shape[2], shape[3], shape[1]) if self.data_format == "channels_last" else tuple(shape)

    def _pad(self, x_nchw, pads, value=0.0):
        top, bottom, left, right = pads
        if not any(pads):
            return x_nchw
        return np.pad(x_nchw, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)

    @staticmethod
    def _unpad(dx_nchw, pads):
        top, bottom, left, right = pads
        return dx_nchw[:, :, top:dx_nchw.shape[2] - bottom, left:dx_nchw.shape[3] - right]

    def compute_output_shape(self, input_shape):
        height, width, channels = self._split(_as_shape(input_shape))
        return self._join(*self._output_hw(height, width), self._output_channels(channels))

    def _output_channels(self, channels):
        return channels

    def get_config(self):
        return {**super().get_config(), "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format}


# --- Conv2D -----------------------------------------------------------------------------------------

class Conv2DCache(NamedTuple):
    """Conv2D forward values kept for backward: the padded input ``x_padded`` (N, C, H', W'), the
    ``pads`` (top, bottom, left, right) added to it and the pre-activation ``z`` (in the layer's data format)."""
    x_padded: np.ndarray
    pads: tuple
    z: np.ndarray


class Conv2D(_ImageLayer):
    r"""2-D convolution (cross-correlation, as Keras): ``filters`` kernels slide over the image.

    ``x`` (N, H, W, C) -> ``y`` (N, OH, OW, filters) (channels_first: (N, C, H, W) -> (N, filters, OH, OW));
    ``kernel`` :math:`K` (kh, kw, C, filters), ``bias`` :math:`b` (filters,); ``padding`` "valid" or "same".

    .. math::
        z_{n,i,j,f} = b_f + \sum_{p,q,c} K_{p,q,c,f}\, x_{n,\,s_h i + p,\,s_w j + q,\,c}, \qquad y = f(z)

    .. math::
        \frac{\partial L}{\partial K_{p,q,c,f}} = \sum_{n,i,j} \frac{\partial L}{\partial z_{n,i,j,f}}\, x_{n,\,s_h i + p,\,s_w j + q,\,c},
        \qquad
        \frac{\partial L}{\partial b_f} = \sum_{n,i,j} \frac{\partial L}{\partial z_{n,i,j,f}}
    """
    base_name = "conv2d"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, name=None,
                 input_shape=None, seed=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self.filters = _positive_int(filters, "Conv2D filters")
        self._setup_window(kernel_size, strides, padding, data_format, "kernel_size")
        self.kernel_size = self.window
        self._setup_weights(activation, use_bias, kernel_initializer, bias_initializer, seed, kernel_regularizer,
                            bias_regularizer)
        self.scratch = _kernels.Scratch()   # the im2col work arrays, reused from step to step

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        height, width, channels = self._split(input_shape)
        rng = initializers.rng_for(self.seed)
        shape = self.kernel_size + (channels, self.filters)
        self.params = {"kernel": self._new_weight("kernel", self.kernel_initializer, shape, rng)}
        if self.use_bias:
            self.params["bias"] = self._new_weight("bias", self.bias_initializer, (self.filters,), rng)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.input_spec = self._join(None, None, channels)
        return input_shape

    def _output_channels(self, channels):
        return self.filters

    def call(self, x, training=False):
        x_nchw = self._to_nchw(x.astype(self.dtype, copy=False))
        pads = self._pads(*x_nchw.shape[2:])
        x_padded = np.ascontiguousarray(self._pad(x_nchw, pads))   # made contiguous once, for both passes
        if x_padded.shape[2] < self.kernel_size[0] or x_padded.shape[3] < self.kernel_size[1]:
            raise ValueError(f"Layer {self.name!r}: kernel {self.kernel_size} is larger than the (padded) image "
                             f"{x_padded.shape[2:]}; use padding='same' or a larger input")
        kernel = self.params["kernel"].transpose(3, 2, 0, 1)                  # (F, C, kh, kw)
        z = _kernels.conv2d_forward(x_padded, kernel, self.strides, self.params.get("bias"),
                                    self.scratch)                              # (N, F, OH, OW)
        z = self._from_nchw(z)
        self.cache = Conv2DCache(x_padded, pads, z)
        return z if self._act is None else self._act.forward(z)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        x_padded, pads, z = self.cache
        self._check_dy_shape(dy, z.shape)
        dz = self._to_nchw(dy if self._act is None or skip_activation else self._act.backward(z, dy))
        kernel = self.params["kernel"].transpose(3, 2, 0, 1)
        bias_grad = np.empty(self.filters, dtype=dz.dtype) if self.use_bias else None
        dx_padded, dkernel = _kernels.conv2d_backward(x_padded, kernel, dz, self.strides, self.scratch, input_grad,
                                                      bias_grad)
        self.grads["kernel"] = dkernel.transpose(2, 3, 1, 0)
        if self.use_bias:
            self.grads["bias"] = bias_grad
        if self.regularizers:
            self._add_penalty_gradients()
        return None if dx_padded is None else self._from_nchw(self._unpad(dx_padded, pads))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "activation": _act_name(self._act), "use_bias": self.use_bias}


# --- pooling ----------------------------------------------------------------------------------------

class _Pooling2D(_ImageLayer):
    """What the two pooling layers share: a window without weights, any number of channels."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last",
                 name=None, input_shape=None, trainable=True, dtype="float64"):
        super().__init__(name, input_shape, trainable, dtype)
        self._setup_window(pool_size, strides, padding, data_format, "pool_size")
        self.pool_size = self.window

    def build(self, input_shape):
        input_shape = super().build(input_shape)
        self.input_spec = self._join(None, None, self._split(input_shape)[2])
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


class MaxPoolCache(NamedTuple):
    """MaxPooling2D forward values kept for backward: the NCHW shape of the padded input, the
    ``pads`` (top, bottom, left, right) and where each maximum was, ``argmax`` (N, C, OH, OW)."""
    padded_shape: tuple
    pads: tuple
    argmax: np.ndarray


class MaxPooling2D(_Pooling2D):
    r"""Keeps the largest value of each ``pool_size`` window (strides default to the pool size).

    .. math::
        y_{n,i,j,c} = \max_{p,q}\, x_{n,\,s_h i + p,\,s_w j + q,\,c}, \qquad
        \frac{\partial L}{\partial x} = \delta \text{ at the position of each maximum, 0 elsewhere}

    With ``padding="same"`` the border is padded with :math:`-\infty`, which never wins.
    """
    base_name = "max_pooling2d"

    def call(self, x, training=False):
        x_nchw = self._to_nchw(x)
        pads = self._pads(*x_nchw.shape[2:])
        x_padded = self._pad(x_nchw, pads, value=-np.inf)
        y, argmax = _kernels.max_pool2d_forward(x_padded, self.pool_size, self.strides)
        self.cache = MaxPoolCache(x_padded.shape, pads, argmax)
        return self._from_nchw(y)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        padded_shape, pads, argmax = self.cache
        self._check_dy_shape(dy, self._nchw_to_format(argmax.shape))
        dx = _kernels.max_pool2d_backward(self._to_nchw(dy), argmax, padded_shape, self.pool_size, self.strides)
        return self._from_nchw(self._unpad(dx, pads))


class AvgPoolCache(NamedTuple):
    """AveragePooling2D forward values kept for backward: the NCHW shapes of the padded input and of
    the output, the ``pads`` and, with "same" padding, ``scale`` (OH, OW): window area / real pixels in it."""
    padded_shape: tuple
    output_shape: tuple
    pads: tuple
    scale: object


class AveragePooling2D(_Pooling2D):
    r"""Replaces each ``pool_size`` window by its mean (strides default to the pool size).

    .. math::
        y_{n,i,j,c} = \frac{1}{P_H P_W} \sum_{p,q} x_{n,\,s_h i + p,\,s_w j + q,\,c}, \qquad
        \frac{\partial L}{\partial x_{n,\,s_h i + p,\,s_w j + q,\,c}} \mathrel{+}= \frac{\delta_{n,i,j,c}}{P_H P_W}

    With ``padding="same"``, as in Keras, a border window averages only its real pixels.
    """
    base_name = "average_pooling2d"

    def call(self, x, training=False):
        x_nchw = self._to_nchw(x)
        pads = self._pads(*x_nchw.shape[2:])
        x_padded = self._pad(x_nchw, pads)
        y = _kernels.avg_pool2d_forward(x_padded, self.pool_size, self.strides)
        scale = None
        if any(pads):  # count the real pixels of each window: average-pool a map of ones
            ones = self._pad(np.ones((1, 1) + x_nchw.shape[2:], dtype=y.dtype), pads)
            scale = 1.0 / _kernels.avg_pool2d_forward(ones, self.pool_size, self.strides)[0, 0]
            y = y * scale
        self.cache = AvgPoolCache(x_padded.shape, y.shape, pads, scale)
        return self._from_nchw(y)

    def call_backward(self, dy, skip_activation=False, input_grad=True):
        padded_shape, output_shape, pads, scale = self.cache
        self._check_dy_shape(dy, self._nchw_to_format(output_shape))
        dy = self._to_nchw(dy)
        if scale is not None:
            dy = dy * scale
        dx = _kernels.avg_pool2d_backward(dy, padded_shape, self.pool_size, self.strides)
        return self._from_nchw(self._unpad(dx, pads))
