"""Input checks shared by nnlib: each failure says what was expected and what came."""
import numpy as np


class NonFiniteError(ValueError):
    """An array holds NaN or inf: a training that diverged, usually (``nnlib.tuning`` catches it)."""


def as_float_array(x, name="x", ndim=None, min_ndim=None, allow_empty=False):
    """Convert ``x`` to a floating NumPy array, rejecting what nnlib cannot compute with.

    Integer and boolean input becomes float64; float32 stays float32. Rejects strings and
    objects, NaN and inf, empty arrays (unless ``allow_empty``) and a wrong number of axes.

    A finite float ndarray with the right number of axes, the common case inside a training loop,
    is returned at once, after one vectorised test; anything else takes the slow path below, which
    converts, and names what is wrong (the first NaN or inf, with its index).
    """
    if (type(x) is np.ndarray and x.dtype.kind == "f" and x.size and (ndim is None or x.ndim == ndim)
            and (min_ndim is None or x.ndim >= min_ndim) and np.isfinite(x).all()):
        return x
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be array-like of numbers: {exc}") from None
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape} ({arr.ndim} dimension(s))")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}); expected at least one element")
    if not np.all(np.isfinite(arr)):
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise NonFiniteError(f"{name} contains {bad} at index {tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])}")
    return arr


def check_shape(arr, expected, name="x"):
    """Raise if ``arr.shape`` does not match ``expected``; ``None`` in ``expected`` matches any size."""
    ok = len(arr.shape) == len(expected) and all(e is None or e == a for e, a in zip(expected, arr.shape))
    if not ok:
        shown = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
        raise ValueError(f"{name} has shape {tuple(arr.shape)}, expected {shown}")
    return arr


def check_same_shape(a, b, name_a="y_true", name_b="y_pred"):
    """Raise unless ``a`` and ``b`` have the same shape, naming both."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}; they must match")
