r"""Small data sets for the lessons, all made or bundled locally: nothing is downloaded.

* logic gates (AND, OR, NAND, NOR, XOR, XNOR) and the five points of the Polish worked example;
* digits as bitmaps: 3x5 (the English lecture's example 2) and 14x12 (drawn for this course), plus
  the 14x12 grid of numbers the Russian lecture shows ("how a network sees an image");
* Iris and the 8x8 digits bundled with scikit-learn (imported only when asked for);
* 2-D toy problems generated with NumPy: moons, circles, spirals, blobs (seeded);
* procedural grayscale images for the convolution lesson;
* the helpers :func:`one_hot` and :func:`train_test_split`.

Labels are int64 arrays, features float64; images are float64 in [0, 1].
"""
import math

import numpy as np

from nnlib._registry import lookup

# ---------------------------------------------------------------------------------------------
# Logic gates and the worked example
# ---------------------------------------------------------------------------------------------

LOGIC_GATES = {
    "and": lambda a, b: a & b,
    "or": lambda a, b: a | b,
    "nand": lambda a, b: 1 - (a & b),
    "nor": lambda a, b: 1 - (a | b),
    "xor": lambda a, b: a ^ b,
    "xnor": lambda a, b: 1 - (a ^ b),
}


def logic_gate(name):
    r"""Truth table of a two-input gate: ``X`` (4, 2) float64 rows 00, 01, 10, 11 and ``y`` (4,) int64.

    E.g. AND is :math:`y = x_1 \wedge x_2`, XOR :math:`y = x_1 \oplus x_2` (not linearly separable).
    """
    gate = lookup(LOGIC_GATES, name, "logic gate")
    bits = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)
    y = np.array([gate(a, b) for a, b in bits], dtype=np.int64)
    return bits.astype(np.float64), y


def xor():
    """The XOR truth table: ``X`` (4, 2), ``y`` (4,) = [0, 1, 1, 0]."""
    return logic_gate("xor")


def polish_example():
    r"""The five points of the Polish lecture's worked example: ``X`` (5,) and ``y`` (5,) float64.

    One linear neuron :math:`out = w_1 x + w_0` with :math:`w_1 = 0.1, w_0 = 0` has MSE 15.71 on them.
    """
    X = np.array([0.06, 0.87, 0.6, 0.71, 0.02])
    y = np.array([3.17, 4.73, 4.26, 4.57, 3.02])
    return X, y


# ---------------------------------------------------------------------------------------------
# Bitmap digits
# ---------------------------------------------------------------------------------------------

# Row by row, 3 pixels wide and 5 high; "1", "9" and "0" are the lecture's, the others in its style.
DIGITS_3X5 = {
    0: "111101101101111",
    1: "001001001001001",
    2: "111001111100111",
    3: "111001111001111",
    4: "101101111001001",
    5: "111100111001111",
    6: "111100111101111",
    7: "111001001001001",
    8: "111101111101111",
    9: "111101111001111",
}


def bitmap_digits_3x5(one_hot=True):
    r"""Digits 0-9 as 3x5 bitmaps: ``X`` (10, 15) float64 (row-major pixels), targets for digit ``d``.

    With ``one_hot`` the targets are ``Y`` (10, 10) with :math:`y_{d,j} = 1` if :math:`j = d`, else 0;
    otherwise ``y`` (10,) = 0..9. Reshape a row to (5, 3) to see the digit.
    """
    X = np.array([[float(c) for c in DIGITS_3X5[d]] for d in range(10)])
    y = np.arange(10, dtype=np.int64)
    return X, (_to_one_hot(y, 10) if one_hot else y)


# 14 rows x 12 columns, "#" = ink (1.0), "." = paper (0.0); strokes two pixels wide.
DIGITS_14X12 = {
    0: ["............", "....####....", "...######...", "..##....##..", "..##....##..", "..##....##..",
        "..##....##..", "..##....##..", "..##....##..", "..##....##..", "..##....##..", "...######...",
        "....####....", "............"],
    1: ["............", ".....##.....", "....###.....", "...####.....", ".....##.....", ".....##.....",
        ".....##.....", ".....##.....", ".....##.....", ".....##.....", ".....##.....", ".....##.....",
        "...######...", "............"],
    2: ["............", "...######...", "..########..", "..##....##..", "........##..", "........##..",
        ".......##...", "......##....", ".....##.....", "....##......", "...##.......", "..##........",
        "..########..", "............"],
    3: ["............", "..#######...", "..########..", "........##..", "........##..", "........##..",
        "....######..", "....######..", "........##..", "........##..", "........##..", "..########..",
        "..#######...", "............"],
    4: ["............", "..##....##..", "..##....##..", "..##....##..", "..##....##..", "..##....##..",
        "..########..", "..########..", "........##..", "........##..", "........##..", "........##..",
        "........##..", "............"],
    5: ["............", "..########..", "..########..", "..##........", "..##........", "..##........",
        "..#######...", "..########..", "........##..", "........##..", "........##..", "..########..",
        "..#######...", "............"],
    6: ["............", "...#######..", "..########..", "..##........", "..##........", "..##........",
        "..#######...", "..########..", "..##....##..", "..##....##..", "..##....##..", "..########..",
        "...######...", "............"],
    7: ["............", "..########..", "..########..", "........##..", ".......##...", ".......##...",
        "......##....", "......##....", ".....##.....", ".....##.....", "....##......", "....##......",
        "....##......", "............"],
    8: ["............", "...######...", "..########..", "..##....##..", "..##....##..", "..##....##..",
        "...######...", "...######...", "..##....##..", "..##....##..", "..##....##..", "..########..",
        "...######...", "............"],
    9: ["............", "...######...", "..########..", "..##....##..", "..##....##..", "..##....##..",
        "..########..", "...#######..", "........##..", "........##..", "........##..", "..########..",
        "..#######...", "............"],
}


def digits_14x12(one_hot=False, flatten=False):
    """Digits 0-9 drawn on a 14x12 grid: ``X`` (10, 14, 12) float64 (1 = ink), and the targets.

    ``flatten`` gives ``X`` (10, 168); ``one_hot`` gives ``Y`` (10, 10) instead of ``y`` (10,).
    """
    X = np.array([[[1.0 if c == "#" else 0.0 for c in row] for row in DIGITS_14X12[d]] for d in range(10)])
    y = np.arange(10, dtype=np.int64)
    if flatten:
        X = X.reshape(10, -1)
    return X, (_to_one_hot(y, 10) if one_hot else y)


# The grid of the Russian lecture, as printed there: 1.0 is white paper, 0.0 black ink (a handwritten "a").
NOTES_GRID_14X12 = [
    [1.0, 1.0, 1.0, 0.9, 0.6, 0.6, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0],
    [1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.0, 1.0],
    [1.0, 0.2, 0.2, 0.5, 0.6, 0.6, 0.5, 0.0, 0.0, 0.5, 1.0, 1.0],
    [1.0, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.0, 0.0, 0.9, 1.0],
    [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 0.5, 1.0],
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.0, 0.5, 1.0],
    [1.0, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0],
    [0.9, 0.0, 0.0, 0.6, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 0.5, 1.0],
    [0.5, 0.0, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 0.5, 1.0],
    [0.5, 0.0, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.5, 1.0],
    [0.6, 0.0, 0.6, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0, 0.5, 1.0],
    [0.9, 0.1, 0.0, 0.6, 0.7, 0.7, 0.5, 0.0, 0.5, 0.0, 0.5, 1.0],
    [1.0, 0.7, 0.1, 0.0, 0.0, 0.0, 0.1, 0.9, 0.8, 0.0, 0.5, 1.0],
    [1.0, 1.0, 1.0, 0.8, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
]


def notes_grid_14x12():
    """The 14x12 grid of brightness values shown in the Russian lecture (1.0 = white), float64."""
    return np.array(NOTES_GRID_14X12)


# ---------------------------------------------------------------------------------------------
# scikit-learn's bundled data (no download)
# ---------------------------------------------------------------------------------------------

IRIS_FEATURE_NAMES = ("sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)")
IRIS_CLASS_NAMES = ("setosa", "versicolor", "virginica")


def iris(one_hot=False):
    r"""Fisher's Iris: ``X`` (150, 4) float64 (see ``IRIS_FEATURE_NAMES``), ``y`` (150,) in {0, 1, 2}.

    With ``one_hot`` the targets are ``Y`` (150, 3), :math:`y_{i,j} = 1` if sample :math:`i` is of class :math:`j`.
    """
    from sklearn.datasets import load_iris

    data = load_iris()
    X, y = data.data.astype(np.float64), data.target.astype(np.int64)
    return X, (_to_one_hot(y, 3) if one_hot else y)


def digits_8x8(one_hot=False, images=False):
    """scikit-learn's 1797 handwritten digits, scaled to [0, 1] (the originals count 0..16).

    ``X`` is (1797, 64), or (1797, 8, 8) with ``images``; ``y`` (1797,) in 0..9, or ``Y`` (1797, 10).
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    X = data.images.astype(np.float64) / 16.0
    if not images:
        X = X.reshape(len(X), 64)
    y = data.target.astype(np.int64)
    return X, (_to_one_hot(y, 10) if one_hot else y)


# ---------------------------------------------------------------------------------------------
# 2-D toy problems (NumPy only, seeded)
# ---------------------------------------------------------------------------------------------


def _check_count(n, name, minimum=1):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def _check_noise(noise):
    if not (isinstance(noise, (int, float)) and noise >= 0):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    return float(noise)


def _shuffled(X, y, rng):
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_moons(n_samples=200, noise=0.1, seed=0):
    r"""Two interleaving half circles: ``X`` (n, 2), ``y`` (n,) in {0, 1}.

    Class 0: :math:`(\cos t, \sin t)`; class 1: :math:`(1 - \cos t, \tfrac12 - \sin t)`, :math:`t \in [0, \pi]`,
    plus Gaussian noise of standard deviation ``noise``.
    """
    n = _check_count(n_samples, "n_samples", 2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    n_out = n // 2
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n - n_out)
    X = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)], np.c_[1 - np.cos(t_in), 0.5 - np.sin(t_in)]])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_out, n - n_out])
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def make_circles(n_samples=200, noise=0.05, factor=0.5, seed=0):
    r"""A circle of radius 1 (class 0) around one of radius ``factor`` (class 1): ``X`` (n, 2), ``y`` (n,)."""
    n = _check_count(n_samples, "n_samples", 2)
    noise = _check_noise(noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be between 0 and 1 (inner radius / outer radius), got {factor!r}")
    rng = np.random.default_rng(seed)
    n_out = n // 2
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n - n_out, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t_out), np.sin(t_out)], factor * np.c_[np.cos(t_in), np.sin(t_in)]])
    y = np.repeat(np.array([0, 1], dtype=np.int64), [n_out, n - n_out])
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(X, y, rng)


def make_spirals(n_samples=300, n_classes=3, noise=0.2, seed=0):
    r"""``n_classes`` interleaved spiral arms (the CS231n toy problem): ``X`` (n, 2), ``y`` (n,).

    Arm :math:`k`: radius :math:`r \in [0, 1]`, angle :math:`\theta = 4k + 4r + \varepsilon`,
    :math:`\varepsilon \sim \mathcal N(0, \text{noise}^2)`, point :math:`r(\sin\theta, \cos\theta)`.
    """
    n_classes = _check_count(n_classes, "n_classes", 2)
    n = _check_count(n_samples, "n_samples", n_classes)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    sizes = [n // n_classes + (k < n % n_classes) for k in range(n_classes)]
    parts, labels = [], []
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), m) + noise * rng.standard_normal(m)
        parts.append(np.c_[r * np.sin(theta), r * np.cos(theta)])
        labels.append(np.full(m, k, dtype=np.int64))
    return _shuffled(np.concatenate(parts), np.concatenate(labels), rng)


def make_blobs(n_samples=200, centers=3, cluster_std=1.0, center_box=(-10.0, 10.0), seed=0):
    r"""Gaussian clusters: ``X`` (n, 2), ``y`` (n,) = index of the centre each point was drawn around.

    ``centers`` is a count (centres drawn uniformly in ``center_box``) or an array (k, d) of centres.
    """
    rng = np.random.default_rng(seed)
    if isinstance(centers, (int, np.integer)):
        k = _check_count(centers, "centers", 1)
        centers = rng.uniform(center_box[0], center_box[1], size=(k, 2))
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2:
        raise ValueError(f"centers must be a count or an array of shape (k, d), got shape {centers.shape}")
    n = _check_count(n_samples, "n_samples", len(centers))
    sizes = [n // len(centers) + (k < n % len(centers)) for k in range(len(centers))]
    X = np.concatenate([c + cluster_std * rng.standard_normal((m, centers.shape[1]))
                        for c, m in zip(centers, sizes)])
    y = np.repeat(np.arange(len(centers), dtype=np.int64), sizes)
    return _shuffled(X, y, rng)


# ---------------------------------------------------------------------------------------------
# Images for the convolution lesson (float64 in [0, 1])
# ---------------------------------------------------------------------------------------------


def _grid(size):
    """Row and column coordinates scaled to [0, 1): arrays (size, size)."""
    r, c = np.mgrid[0:size, 0:size] / size
    return r, c


def _scene(size):
    """Gradient background, a bright square, a grey disc, a dark bar and a diagonal stripe."""
    r, c = _grid(size)
    img = 0.15 + 0.25 * c
    img[(r >= 0.12) & (r < 0.47) & (c >= 0.1) & (c < 0.45)] = 0.95
    img[(r - 0.62) ** 2 + (c - 0.68) ** 2 < 0.2 ** 2] = 0.6
    img[(r >= 0.84) & (r < 0.92)] = 0.0
    img[np.abs(r + c - 0.95) < 0.04] = 0.8
    return img


def _checkerboard(size):
    """8 x 8 black and white squares."""
    r, c = _grid(size)
    return ((np.floor(r * 8) + np.floor(c * 8)) % 2).astype(np.float64)


def _circle(size):
    """A white disc of radius 0.3 * size in the middle of a black square."""
    r, c = _grid(size)
    centre = (size - 1) / (2 * size)
    return (((r - centre) ** 2 + (c - centre) ** 2) < 0.3 ** 2).astype(np.float64)


def _stripes(size):
    """Vertical black and white stripes, 8 across (edges for a horizontal-gradient filter)."""
    _, c = _grid(size)
    return (np.floor(c * 16) % 2).astype(np.float64)


def _gradient(size):
    """A horizontal ramp from 0 (left) to 1 (right)."""
    return np.tile(np.linspace(0.0, 1.0, size), (size, 1))


SAMPLE_IMAGES = {
    "scene": _scene,
    "checkerboard": _checkerboard,
    "circle": _circle,
    "stripes": _stripes,
    "gradient": _gradient,
    "digit": None,  # scikit-learn's 8x8 digit number ``index``, enlarged (nearest neighbour)
}


def sample_image(name, size=64, index=0):
    """A grayscale test image (size, size) float64 in [0, 1], made procedurally (nothing downloaded).

    Names: "scene" (shapes with edges on a gradient), "checkerboard", "circle", "stripes",
    "gradient", and "digit" (scikit-learn's 8x8 digit number ``index`` enlarged to ``size``).
    """
    make = lookup(SAMPLE_IMAGES, name, "sample image")  # validates the name, suggests the closest
    size = _check_count(size, "size", 8)
    if make is not None:
        return make(size)
    images, _ = digits_8x8(images=True)
    if not 0 <= index < len(images):
        raise ValueError(f"index must be in 0..{len(images) - 1}, got {index!r}")
    pick = np.arange(size) * 8 // size
    return images[index][np.ix_(pick, pick)]


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def one_hot(y, num_classes=None):
    r"""Integer labels (N,) or (N, 1) to a one-hot matrix (N, C) float64: :math:`Y_{i,j} = [y_i = j]`.

    ``num_classes`` defaults to ``max(y) + 1``; labels must be integers in ``0..num_classes-1``.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (N,) or (N, 1), got {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("labels must be whole numbers (class indices), got non-integer values")
    elif y.dtype.kind not in "biu":
        raise TypeError(f"labels must be integers, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise ValueError(f"labels must be >= 0, found {int(y.min())}")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"label {int(y.max())} is out of range for num_classes={num_classes} "
                         f"(labels must be 0..{num_classes - 1})")
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


_to_one_hot = one_hot  # used by the loaders above, whose ``one_hot`` argument shadows the function


def train_test_split(X, y, test_size=0.25, seed=0, shuffle=True):
    """Split into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    ``test_size``: a fraction in (0, 1) (rounded up, as scikit-learn) or a number of samples.
    Rows are shuffled with ``seed`` first unless ``shuffle=False``.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must have the same number of samples, got {n} and {len(y)}")
    if isinstance(test_size, float):
        if not 0 < test_size < 1:
            raise ValueError(f"a fractional test_size must be in (0, 1), got {test_size}")
        n_test = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)):
        n_test = int(test_size)
    else:
        raise TypeError(f"test_size must be a float fraction or an int count, got {test_size!r}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_size={test_size!r} leaves {n_test} test and {n - n_test} training samples "
                         f"out of {n}; both must be at least 1")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
