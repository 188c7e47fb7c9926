r"""Convolution of an image with a small kernel, the operation convolutional networks are built on.

An image is a grid of numbers (one per pixel, or one per pixel and colour channel). A kernel is a
small grid of weights; sliding it over the image and taking, at each position, the sum of the
products gives a new image: blurred, sharpened, or with its edges picked out, depending on the kernel.

Deep-learning libraries (Keras, PyTorch) compute the *cross-correlation*, the kernel as it is:

.. math::
    (I \star K)_{i,j} = \sum_{m=0}^{k_h-1} \sum_{n=0}^{k_w-1} I_{i+m,\,j+n}\, K_{m,n}

Mathematics and signal processing call *convolution* the same sum with the kernel turned by 180°:

.. math::
    (I * K)_{i,j} = \sum_{m,n} I_{i+m,\,j+n}\, K_{k_h-1-m,\,k_w-1-n}

``convolve2d`` does what the libraries do (``flip=False``); ``flip=True`` gives the textbook
convolution. For a symmetric kernel (blur, sharpen, the Laplacian edge detectors) the two agree; a
network learns its kernels, so for it the difference does not matter either.

Output size along an axis of size :math:`n`, kernel :math:`k`, stride :math:`s`:

.. math::
    \text{valid: } \left\lfloor \frac{n - k}{s} \right\rfloor + 1, \qquad
    \text{same: } \left\lceil \frac{n}{s} \right\rceil, \qquad
    \text{full: } \left\lfloor \frac{n + k - 2}{s} \right\rfloor + 1

"same" pads with zeros as Keras and TensorFlow do (the extra row or column, if any, at the bottom
and right); "full" pads :math:`k - 1` zeros on every side.
"""
import math

import numpy as np

from nnlib import _kernels
from nnlib._checks import as_float_array
from nnlib._registry import lookup

MODES = ("valid", "same", "full")

#: The classic 3x3 kernels of the lecture notes, and the Sobel and Prewitt gradient filters.
KERNELS = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "edge_detection_1": np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], dtype=float),
    "edge_detection_2": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "edge_detection_3": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "box_blur": np.ones((3, 3)) / 9,
    "gaussian_blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sobel_x": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "sobel_y": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "prewitt_x": np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=float),
    "prewitt_y": np.array([[-1, -1, -1], [0, 0, 0], [1, 1, 1]], dtype=float),
}
for _kernel in KERNELS.values():
    _kernel.flags.writeable = False

#: What each kernel does, in a few words.
DESCRIPTIONS = {
    "identity": "leaves the image unchanged",
    "edge_detection_1": "diagonal differences: responds to corners and diagonal edges",
    "edge_detection_2": "the Laplacian (4-neighbour): responds to edges in every direction",
    "edge_detection_3": "the Laplacian (8-neighbour): stronger edges in every direction",
    "sharpen": "the pixel plus its difference from its neighbours: crisper edges",
    "box_blur": "the mean of the 3x3 neighbourhood",
    "gaussian_blur": "a weighted mean, approximating a Gaussian: a softer blur",
    "sobel_x": "horizontal gradient (vertical edges), smoothed vertically",
    "sobel_y": "vertical gradient (horizontal edges), smoothed horizontally",
    "prewitt_x": "horizontal gradient (vertical edges), plain average vertically",
    "prewitt_y": "vertical gradient (horizontal edges), plain average horizontally",
}

_FACTORS = {"box_blur": 9, "gaussian_blur": 16}


def get_kernel(name):
    """Return a writable copy of the named kernel (case-insensitive); an array passes through as a float copy."""
    if isinstance(name, str):
        return lookup(KERNELS, name, "kernel").copy()
    return as_float_array(name, "kernel", ndim=2).copy()


def kernel_latex(name):
    r"""The kernel as a LaTeX ``bmatrix``, with its normalising factor in front (``\frac{1}{9}`` for the box blur)."""
    key = name.lower()
    kernel = lookup(KERNELS, key, "kernel")
    factor = _FACTORS.get(key, 1)
    rows = [" & ".join(f"{v:g}" for v in row * factor) for row in kernel]
    body = r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"
    return (rf"\frac{{1}}{{{factor}}} " + body) if factor != 1 else body


def padding_amounts(size, window, stride=1, mode="valid"):
    r"""Zeros to add ``(before, after)`` along an axis of length ``size`` for ``mode``.

    "same" follows TensorFlow/Keras: the output has :math:`\lceil n/s \rceil` positions and needs
    :math:`\max((\lceil n/s \rceil - 1)s + k - n,\ 0)` zeros, the odd one at the end.
    """
    mode = _check_mode(mode)
    if mode == "valid":
        return 0, 0
    if mode == "full":
        return window - 1, window - 1
    total = max((math.ceil(size / stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _check_mode(mode):
    if not isinstance(mode, str) or mode.lower() not in MODES:
        raise ValueError(f"mode (padding) must be one of {', '.join(MODES)}; got {mode!r}")
    return mode.lower()


def convolve2d(image, kernel, mode="valid", stride=1, flip=False):
    r"""Slide ``kernel`` over ``image`` and return the map of weighted sums.

    ``image`` is (H, W), or (H, W, C) to filter every channel with the same kernel; ``kernel`` is a
    (k_h, k_w) array or the name of one in ``KERNELS`` ("sharpen", "sobel_x", ...). ``stride`` is
    an integer or a pair; ``flip=True`` turns the kernel by 180° (the textbook convolution).
    Returns (OH, OW) or (OH, OW, C), float64 (float32 for float32 input).

    .. math::
        (I \star K)_{i,j} = \sum_{m=0}^{k_h-1} \sum_{n=0}^{k_w-1} I_{s i+m,\, s j+n}\, K_{m,n}
    """
    image = as_float_array(image, "image")
    if image.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got shape {image.shape}")
    kernel = get_kernel(kernel) if isinstance(kernel, str) else as_float_array(kernel, "kernel")
    if kernel.ndim != 2:
        raise ValueError(f"kernel must have shape (kh, kw), got shape {kernel.shape}")
    mode = _check_mode(mode)
    sh, sw = _kernels.as_pair(stride, "stride")
    if flip:
        kernel = kernel[::-1, ::-1]
    kh, kw = kernel.shape
    planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)        # (C, H, W)
    top, bottom = padding_amounts(planes.shape[1], kh, sh, mode)
    left, right = padding_amounts(planes.shape[2], kw, sw, mode)
    padded = np.pad(planes, ((0, 0), (top, bottom), (left, right)))
    if padded.shape[1] < kh or padded.shape[2] < kw:
        raise ValueError(f"kernel of shape {kernel.shape} is larger than the image of shape {image.shape[:2]} "
                         f"(mode {mode!r}); use mode='same' or 'full', or a smaller kernel")
    dtype = image.dtype
    out = _kernels.conv2d_forward(padded[:, None].astype(dtype), kernel[None, None].astype(dtype), (sh, sw))[:, 0]
    return out[0] if image.ndim == 2 else np.ascontiguousarray(np.moveaxis(out, 0, -1))
