"""Choose between the Numba-compiled kernels and their NumPy fallbacks.

``NNLIB_BACKEND=numpy`` forces the NumPy path; ``NNLIB_BACKEND=numba`` demands Numba (an error if it
is missing); unset, Numba is used when it can be imported. Numba is imported only when a kernel is
first needed, so ``import nnlib`` stays fast. Compiled kernels are cached on disk (``cache=True``).
"""
import functools
import importlib.util
import os


@functools.lru_cache(maxsize=None)
def use_numba():
    """Return True when the Numba kernels are to be used (read once per process)."""
    choice = os.environ.get("NNLIB_BACKEND", "").strip().lower()
    if choice not in ("", "numba", "numpy"):
        raise ValueError(f"NNLIB_BACKEND must be 'numba' or 'numpy', got {choice!r}")
    if choice == "numpy":
        return False
    available = importlib.util.find_spec("numba") is not None
    if choice == "numba" and not available:
        raise ImportError("NNLIB_BACKEND=numba but numba is not installed")
    return available


def njit(func):
    """Compile ``func`` with ``numba.njit(cache=True)`` on first call when Numba is in use.

    The undecorated Python function stays reachable as ``.py_func``, as with Numba's own dispatcher.
    """
    compiled = None

    @functools.wraps(func)
    def dispatch(*args):
        nonlocal compiled
        if compiled is None:
            import numba
            compiled = numba.njit(cache=True, nogil=True)(func)
        return compiled(*args)

    dispatch.py_func = func
    return dispatch
