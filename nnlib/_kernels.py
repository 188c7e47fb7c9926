r"""The loops NumPy cannot express well: 2-D convolution and pooling, forward and backward.

Every array here is NCHW (batch, channels, height, width), already padded: the layers pad and
transpose, these kernels only slide windows. Convolution is cross-correlation, as in every deep
learning library; for an input :math:`x` (N, C, H, W), kernel :math:`w` (F, C, KH, KW) and strides
:math:`(s_h, s_w)`:

.. math::
    y_{n,f,i,j} = \sum_{c=0}^{C-1} \sum_{p=0}^{K_H-1} \sum_{q=0}^{K_W-1} w_{f,c,p,q}\, x_{n,c,\,s_h i + p,\,s_w j + q},
    \qquad O_H = \left\lfloor \frac{H - K_H}{s_h} \right\rfloor + 1

and backward, with :math:`\delta = \partial L / \partial y` (N, F, OH, OW):

.. math::
    \frac{\partial L}{\partial w_{f,c,p,q}} = \sum_{n,i,j} \delta_{n,f,i,j}\, x_{n,c,\,s_h i + p,\,s_w j + q},
    \qquad
    \frac{\partial L}{\partial x_{n,c,\,s_h i + p,\,s_w j + q}} \mathrel{+}= \sum_f w_{f,c,p,q}\, \delta_{n,f,i,j}

Each operation comes three times:

* ``*_naive``: plain Python loops, one scalar at a time, written to be read (the reference of the tests);
* ``*_numba``: loops compiled by Numba (``nnlib._backend.njit``);
* ``*_numpy``: vectorised NumPy, used when ``nnlib._backend.use_numba()`` is False.

The dispatchers without suffix (``conv2d_forward``, ``max_pool2d_backward``, ...) pick the Numba or
the NumPy version. What is fastest was measured (``bench/bench_conv.py``, 2 cores, float32):

* Convolution, both paths: "im2col". Copy every window into a column of a matrix ``cols``
  (C*KH*KW, N*OH*OW), so that the convolution is one matrix product, done by BLAS (vectorised,
  multi-threaded); backward is two more products and "col2im", which adds the columns back into the
  image. This beats direct Numba loops over the seven indices 3 to 6 times on the course's shapes,
  even with a single input channel. So the "Numba" convolution is Numba im2col/col2im around BLAS
  products: Numba copies 2 to 5 times faster than NumPy's strided copies. The batch is processed
  in blocks of about ``BLOCK_BYTES`` of ``cols``, which keeps the scratch memory in cache. The
  work arrays come from a ``Scratch`` that a caller can keep (``Conv2D`` does): fresh memory costs a
  page fault per 4 KB, which on these shapes took as long as the arithmetic; the forward pass leaves
  ``cols`` there for the backward pass on the same ``x``. The bias is added while the product is
  copied back to NCHW and its gradient is a matrix-vector product of ``dy``'s rows with ones; ``dW`` is
  computed transposed, :math:`\operatorname{im2col}(x)\,\delta^T`, a product BLAS splits over its
  threads (:math:`\delta \operatorname{im2col}(x)^T` it runs on one); ``input_grad=False`` skips ``dx``.
  Both cores work through threads of nnlib's own: the batch is split into ``THREADS`` shares (one
  per core), and each thread runs its share's copies and products, with BLAS limited to one thread
  per product (``single_thread_blas``). With one BLAS product split over the cores and the copies
  in between on one core, the copies ran 3 to 5 times slower than alone (the data they touch was
  just in the other core's cache) and one core waited during each copy; the shares made the step
  about 1.2 times faster. ``Sequential`` keeps BLAS on one thread while a model with convolution
  layers runs, because OpenBLAS's second thread busy-waits for about 0.1 s after a Dense layer's
  product and takes a core from these threads. (Numba's ``parallel=True`` loops were slower: their
  threads and BLAS's spun against each other on 2 cores.)
* Max pooling: direct Numba loops, 3 to 5 times faster than the NumPy version.
* Average pooling: direct Numba loops; NumPy's strided sums are about as fast here.
"""
import concurrent.futures
import contextlib
import math
import os
import sys
import threading
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from nnlib._backend import njit, use_numba


class PoolOutput(NamedTuple):
    """What ``max_pool2d_forward`` returns: the pooled ``y`` (N, C, OH, OW) and, for backward, the
    position of each maximum inside its window, ``argmax`` (N, C, OH, OW), as ``p * PW + q``."""
    y: np.ndarray
    argmax: np.ndarray


def output_size(size, window, stride):
    r"""Number of window positions along one axis: :math:`\lfloor (n - k)/s \rfloor + 1`."""
    if size < window:
        raise ValueError(f"window of size {window} does not fit in an input of size {size}")
    return (size - window) // stride + 1


def as_pair(value, name):
    """Turn ``3`` into ``(3, 3)``; check a pair of positive integers."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in pair):
        raise ValueError(f"{name} must be a positive integer or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _window_slice(p, q, sh, sw, oh, ow):
    """Index of the pixels at offset (p, q) of every window: x[..., sh*i + p, sw*j + q] for all i, j."""
    return (slice(None), slice(None), slice(p, p + sh * (oh - 1) + 1, sh), slice(q, q + sw * (ow - 1) + 1, sw))


def _check_conv(x, w, stride):
    """Check shapes and dtypes; return C-contiguous x, w of one float dtype, the strides and output size."""
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 4:
        raise ValueError(f"conv2d expects x of shape (N, C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"conv2d expects w of shape (F, C, KH, KW), got shape {w.shape}")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"conv2d: x has {x.shape[1]} channels (shape {x.shape}) but w expects {w.shape[1]} "
                         f"(shape {w.shape})")
    sh, sw = as_pair(stride, "stride")
    dtype = np.result_type(x.dtype, w.dtype, np.float32)
    x = np.ascontiguousarray(x, dtype=dtype)
    w = np.ascontiguousarray(w, dtype=dtype)
    oh = output_size(x.shape[2], w.shape[2], sh)
    ow = output_size(x.shape[3], w.shape[3], sw)
    return x, w, sh, sw, oh, ow


def _check_dy(dy, expected, dtype):
    dy = np.asarray(dy, dtype=dtype)
    if dy.shape != tuple(expected):
        raise ValueError(f"dy has shape {dy.shape}, expected {tuple(expected)} (the shape of the forward output)")
    return dy


# --- convolution: naive reference ---------------------------------------------------------------

def conv2d_forward_naive(x, w, stride=1):
    r"""Cross-correlation, one multiply-add at a time: x (N, C, H, W), w (F, C, KH, KW) -> y (N, F, OH, OW).

    .. math::
        y_{n,f,i,j} = \sum_{c,p,q} w_{f,c,p,q}\, x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    x, w, sh, sw, oh, ow = _check_conv(x, w, stride)
    n_batch, n_ch = x.shape[:2]
    n_filt, _, kh, kw = w.shape
    y = np.zeros((n_batch, n_filt, oh, ow), dtype=x.dtype)
    for n in range(n_batch):
        for f in range(n_filt):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for c in range(n_ch):
                        for p in range(kh):
                            for q in range(kw):
                                total += w[f, c, p, q] * x[n, c, sh * i + p, sw * j + q]
                    y[n, f, i, j] = total
    return y


def conv2d_backward_naive(x, w, dy, stride=1):
    r"""Gradients of the cross-correlation, one term at a time: returns ``(dx, dw)``.

    .. math::
        \frac{\partial L}{\partial w_{f,c,p,q}} = \sum_{n,i,j} \delta_{n,f,i,j}\, x_{n,c,\,s_h i + p,\,s_w j + q},
        \qquad
        \frac{\partial L}{\partial x_{n,c,\,s_h i + p,\,s_w j + q}} \mathrel{+}= w_{f,c,p,q}\, \delta_{n,f,i,j}
    """
    x, w, sh, sw, oh, ow = _check_conv(x, w, stride)
    n_batch, n_ch = x.shape[:2]
    n_filt, _, kh, kw = w.shape
    dy = _check_dy(dy, (n_batch, n_filt, oh, ow), x.dtype)
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    for n in range(n_batch):
        for f in range(n_filt):
            for i in range(oh):
                for j in range(ow):
                    g = dy[n, f, i, j]
                    for c in range(n_ch):
                        for p in range(kh):
                            for q in range(kw):
                                dw[f, c, p, q] += g * x[n, c, sh * i + p, sw * j + q]
                                dx[n, c, sh * i + p, sw * j + q] += g * w[f, c, p, q]
    return dx, dw


# --- convolution: im2col, shared by the Numba and NumPy paths -----------------------------------

# The batch is processed in blocks of images whose im2col matrix takes about this many bytes: the
# block stays in the CPU cache between the copy and the matrix product, and the scratch memory stays
# small. (One im2col matrix for a whole batch is tens of MB.)
BLOCK_BYTES = 2 ** 21


# Up to this size, the forward pass leaves the im2col matrix of the whole batch in the caller's
# ``Scratch``, and the backward pass on the same ``x`` reads it instead of copying the windows again.
KEEP_COLS_BYTES = 2 ** 25


# How many threads share a batch: one per core this process may use. Each takes a contiguous share
# of the images and runs its copies and its single-threaded BLAS products on them.
THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _blocks(n_batch, bytes_per_image):
    """Ranges ``(n0, n1)`` of images covering the batch, each block about ``BLOCK_BYTES`` of im2col."""
    step = max(1, min(n_batch, BLOCK_BYTES // max(1, bytes_per_image)))
    return [(n0, min(n_batch, n0 + step)) for n0 in range(0, n_batch, step)]


def _shares(n_batch, bytes_per_image):
    """The batch dealt to at most ``THREADS`` workers: for each, its list of blocks ``(n0, n1)`` of
    contiguous images (as many workers as there are blocks, when there are fewer)."""
    if n_batch == 0:
        return []
    step = _blocks(n_batch, bytes_per_image)[0][1]
    workers = max(1, min(THREADS, -(-n_batch // step)))
    bounds = [n_batch * k // workers for k in range(workers + 1)]
    return [[(n0, min(end, n0 + step)) for n0 in range(begin, end, step)] for begin, end in zip(bounds, bounds[1:])]


_pool = None
_pool_lock = threading.Lock()     # one parallel convolution at a time
_blas_lock = threading.Lock()     # guards the two below: BLAS's thread count is process-wide
_blas_users = 0                   # how many threads are inside single_thread_blas()
_blas_limit = None                # threadpoolctl's limit, undone when the last of them leaves


def _after_fork_in_child():
    """A forked child has none of the parent's threads: no pool, and no lock held by one of them.
    (Forked in the middle of a convolution, the child keeps BLAS on one thread: slower, not wrong;
    calling into threadpoolctl here could wait on a lock a parent's thread held.)"""
    global _pool, _pool_lock, _blas_lock, _blas_users, _blas_limit
    _pool, _pool_lock, _blas_lock = None, threading.Lock(), threading.Lock()
    _blas_users, _blas_limit = 0, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


_controller = None, -1    # threadpoolctl's view of the loaded BLAS libraries, and len(sys.modules) then


def _blas_controller():
    """threadpoolctl's controller of the BLAS libraries loaded (finding them takes about 1 ms, so it
    is kept, and looked for again only after a module was imported: a new BLAS may have come with it)."""
    global _controller
    controller, modules = _controller
    if controller is None or modules != len(sys.modules):
        import threadpoolctl   # imported here: ``import nnlib`` stays fast

        controller = threadpoolctl.ThreadpoolController()
        _controller = controller, len(sys.modules)
    return controller


@contextlib.contextmanager
def single_thread_blas():
    """A context in which BLAS runs each product on one thread (``threadpoolctl``). The convolution
    uses it while its own threads share the batch; ``Sequential`` uses it while a model with
    convolution layers trains or predicts, because a second BLAS thread left busy-waiting after a
    Dense layer's product (OpenBLAS spins about 0.1 s) takes a core from the convolution's threads.

    Contexts may nest and overlap in several threads: the first to enter sets the limit, the last
    to leave restores what was there before.
    """
    global _blas_users, _blas_limit
    with _blas_lock:
        if _blas_users == 0:
            _take_openblas_control()
            _blas_limit = _blas_controller().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _take_openblas_control()
                _blas_limit.restore_original_limits()
                _blas_limit = None
                _take_openblas_control()   # and leave it to whoever sets a limit next


def _take_openblas_control():
    """threadpoolctl lets only one thread at a time set OpenBLAS's process-wide thread count, the
    first one that did, and ignores the others silently; our first entrant and last leaver may be
    different threads, so each clears that claim first (``_blas_lock`` is held)."""
    import threadpoolctl

    controller_class = getattr(threadpoolctl, "OpenBLASController", None)
    if controller_class is not None and hasattr(controller_class, "clear_controlling_thread"):
        controller_class.clear_controlling_thread(force=True)


def _in_parallel(work, shares):
    """Run ``work(k, blocks)`` for each worker's share of the batch and wait for all of them.

    One share runs in the calling thread, the others on a thread pool; meanwhile BLAS runs each
    product on one thread (the workers already occupy the cores). The Numba copies release the GIL
    (``nogil``), and so do NumPy's copies and BLAS. An exception in a worker reaches the caller
    after every worker has stopped writing.
    """
    global _pool
    if len(shares) <= 1:
        for k, blocks in enumerate(shares):   # an empty batch has no share at all
            work(k, blocks)
        return
    with _pool_lock, single_thread_blas():
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(max(1, THREADS - 1), thread_name_prefix="nnlib-conv")
        futures = [_pool.submit(work, k, blocks) for k, blocks in enumerate(shares) if k]
        try:
            work(0, shares[0])
        finally:
            concurrent.futures.wait(futures)
        for future in futures:
            future.result()


class Scratch:
    """Work arrays kept from call to call, by name: the im2col matrix of a block, its product, ...

    Memory that a process gets fresh from the system costs a page fault per 4 KB on first touch, and
    a convolution step needs several MB of temporaries: on the course's shapes, allocating them anew
    on every call can cost as much as the arithmetic. A caller that convolves again and again (a
    ``Conv2D`` layer keeps one in ``layer.scratch``) passes its ``Scratch`` to reuse the same memory.
    Each worker thread has its own arrays ("cols0", "cols1", ...).

    The forward pass also leaves there the im2col matrix of the whole batch (up to
    ``KEEP_COLS_BYTES``), and ``kept_cols_of`` = ``(x, kh, kw, sh, sw)`` says for which input: a
    backward pass on that same array object reuses it (the windows of ``x`` as it was in forward).
    """

    def __init__(self):
        self.buffers = {}
        self.kept_cols_of = None

    def array(self, name, shape, dtype, start=0):
        """An uninitialised C-contiguous array of ``shape``, carved from the buffer called ``name`` at
        element ``start`` (the buffer grows when it is too small; its old content is then lost)."""
        end = start + math.prod(shape)
        buffer = self.buffers.get(name)
        if buffer is None or buffer.dtype != dtype or buffer.size < end:
            buffer = self.buffers[name] = np.empty(end, dtype=dtype)
        return buffer[start:end].reshape(shape)


def _block_cols(x, n0, n1, kh, kw, sh, sw, n_rows, scratch, worker, path, kept):
    """The im2col matrix (C*KH*KW, B*OH*OW) of images n0..n1 of x. ``kept``: None (copied into the
    worker's block buffer "cols<worker>"), "fill" (copied into its place in the whole-batch matrix
    "kept_cols", for backward) or "read" (it is already there)."""
    per_image = output_size(x.shape[2], kh, sh) * output_size(x.shape[3], kw, sw)
    shape = (n_rows, (n1 - n0) * per_image)
    if kept is None:
        return path.im2col(x[n0:n1], kh, kw, sh, sw, scratch.array(f"cols{worker}", shape, x.dtype))
    cols = scratch.array("kept_cols", shape, x.dtype, start=n_rows * per_image * n0)
    return path.im2col(x[n0:n1], kh, kw, sh, sw, cols) if kept == "fill" else cols


def _conv_forward(x, w, sh, sw, oh, ow, bias, scratch, path):
    r"""y (N, F, OH, OW) block by block: :math:`Y = W \operatorname{im2col}(x) + b`, one BLAS product per
    block, the blocks shared by ``THREADS`` threads.

    ``path`` is ``_NUMBA`` or ``_NUMPY``: the copies (im2col, and the product's columns back to
    NCHW with the bias added) it uses. With a ``scratch``, the whole im2col matrix is kept for backward.
    """
    n_batch = x.shape[0]
    n_filt, n_ch, kh, kw = w.shape
    w_rows = w.reshape(n_filt, -1)                                           # (F, C*KH*KW)
    bias = np.zeros(n_filt, dtype=x.dtype) if bias is None else np.asarray(bias, dtype=x.dtype)
    if bias.shape != (n_filt,):
        raise ValueError(f"conv2d: bias has shape {bias.shape}, expected ({n_filt},) (one per filter)")
    y = np.empty((n_batch, n_filt, oh, ow), dtype=x.dtype)
    n_rows = w_rows.shape[1]
    keep = scratch is not None and n_rows * n_batch * oh * ow * x.itemsize <= KEEP_COLS_BYTES
    scratch = scratch or Scratch()
    scratch.kept_cols_of = None
    if keep:   # room for the whole batch at once, so that no block's matrix is lost when it grows
        scratch.array("kept_cols", (n_rows * n_batch * oh * ow,), x.dtype)

    def work(k, blocks):
        for n0, n1 in blocks:
            size = (n1 - n0) * oh * ow
            cols = _block_cols(x, n0, n1, kh, kw, sh, sw, n_rows, scratch, k, path, "fill" if keep else None)
            rows = np.matmul(w_rows, cols, out=scratch.array(f"rows{k}", (n_filt, size), x.dtype))  # (F, B*OH*OW)
            path.rows_to_nchw(rows, bias, y[n0:n1])

    _in_parallel(work, _shares(n_batch, n_rows * oh * ow * x.itemsize))
    if keep:
        scratch.kept_cols_of = (x, kh, kw, sh, sw)
    return y


def _conv_backward(x, w, dy, sh, sw, scratch, input_grad, bias_grad, path):
    r"""``(dx, dw)`` block by block: :math:`dW \mathrel{+}= \delta \operatorname{im2col}(x)^T`,
    :math:`dx = \operatorname{col2im}(W^T \delta)` (``dx`` is ``None`` when not ``input_grad``);
    :math:`\sum_{n,i,j} \delta_{n,f,i,j}` into ``bias_grad`` (F,) if given. Each thread sums its
    share's :math:`dW` and bias gradient; the shares are added in a fixed order."""
    n_batch = x.shape[0]
    n_filt, n_ch, kh, kw = w.shape
    oh, ow = dy.shape[2:]
    w_rows = w.reshape(n_filt, -1)
    n_rows = w_rows.shape[1]
    if bias_grad is not None and bias_grad.shape != (n_filt,):
        raise ValueError(f"conv2d: bias_grad has shape {bias_grad.shape}, expected ({n_filt},) (one per filter)")
    dx = np.zeros_like(x) if input_grad else None
    scratch = scratch or Scratch()
    kept = scratch.kept_cols_of
    kept = "read" if kept is not None and kept[0] is x and kept[1:] == (kh, kw, sh, sw) else None
    shares = _shares(n_batch, n_rows * oh * ow * x.itemsize)
    dw_t = np.zeros((len(shares), n_rows, n_filt), dtype=x.dtype)   # dW^T per worker: cols @ dy_rows^T is faster
    db = np.zeros((len(shares), n_filt))   # float64 across blocks; BLAS sums each block in x's dtype
    ones = np.ones(max((n1 - n0 for blocks in shares for n0, n1 in blocks), default=0) * oh * ow, dtype=x.dtype)

    def work(k, blocks):
        for n0, n1 in blocks:
            size = (n1 - n0) * oh * ow
            cols = _block_cols(x, n0, n1, kh, kw, sh, sw, n_rows, scratch, k, path, kept)
            dy_rows = path.nchw_to_rows(dy[n0:n1], scratch.array(f"rows{k}", (n_filt, size), x.dtype))  # (F, B*OH*OW)
            dw_t[k] += cols @ dy_rows.T
            if bias_grad is not None:   # row sums as a BLAS product with ones: 3 times faster than .sum(axis=1)
                db[k] += dy_rows @ ones[:size]
            if input_grad:
                dcols = np.matmul(w_rows.T, dy_rows, out=scratch.array(f"dcols{k}", cols.shape, x.dtype))
                path.col2im(dcols, kh, kw, sh, sw, dx[n0:n1])

    _in_parallel(work, shares)
    if bias_grad is not None:
        bias_grad[...] = db.sum(axis=0)
    return dx, np.ascontiguousarray(dw_t.sum(axis=0).T).reshape(w.shape)


# --- convolution: Numba ---------------------------------------------------------------------------

@njit
def _im2col_loops(x, kh, kw, sh, sw, cols):
    """Fill cols[(c*KH + p)*KW + q, (n*OH + i)*OW + j] = x[n, c, sh*i + p, sw*j + q]."""
    n_batch, n_ch = x.shape[0], x.shape[1]
    oh = (x.shape[2] - kh) // sh + 1
    ow = (x.shape[3] - kw) // sw + 1
    for c in range(n_ch):
        for p in range(kh):
            for q in range(kw):
                row = (c * kh + p) * kw + q
                for n in range(n_batch):
                    for i in range(oh):
                        start = (n * oh + i) * ow
                        r = sh * i + p
                        if sw == 1:  # contiguous: the compiler vectorises this copy
                            for j in range(ow):
                                cols[row, start + j] = x[n, c, r, j + q]
                        else:
                            for j in range(ow):
                                cols[row, start + j] = x[n, c, r, sw * j + q]


@njit
def _col2im_loops(dcols, kh, kw, sh, sw, dx):
    """Add each column of dcols back to the pixels it was copied from (the adjoint of im2col)."""
    n_batch, n_ch = dx.shape[0], dx.shape[1]
    oh = (dx.shape[2] - kh) // sh + 1
    ow = (dx.shape[3] - kw) // sw + 1
    for n in range(n_batch):  # one image channel at a time: dx[n, c] stays in the L1 cache
        for c in range(n_ch):
            for p in range(kh):
                for q in range(kw):
                    row = (c * kh + p) * kw + q
                    for i in range(oh):
                        start = (n * oh + i) * ow
                        r = sh * i + p
                        if sw == 1:
                            for j in range(ow):
                                dx[n, c, r, j + q] += dcols[row, start + j]
                        else:
                            for j in range(ow):
                                dx[n, c, r, sw * j + q] += dcols[row, start + j]


@njit
def _rows_to_nchw_loops(rows, bias, y):
    """y[n, f, i, j] = rows[f, (n*OH + i)*OW + j] + bias[f]: the product's columns back to NCHW."""
    n_batch, n_filt, oh, ow = y.shape
    for n in range(n_batch):
        for f in range(n_filt):
            b = bias[f]
            for i in range(oh):
                start = (n * oh + i) * ow
                for j in range(ow):
                    y[n, f, i, j] = rows[f, start + j] + b


@njit
def _nchw_to_rows_loops(dy, rows):
    """rows[f, (n*OH + i)*OW + j] = dy[n, f, i, j]: the gradient laid out as the product's columns."""
    n_batch, n_filt, oh, ow = dy.shape
    for n in range(n_batch):
        for f in range(n_filt):
            for i in range(oh):
                start = (n * oh + i) * ow
                for j in range(ow):
                    rows[f, start + j] = dy[n, f, i, j]


def im2col_numba(x, kh, kw, sh, sw, out=None):
    """cols (C*KH*KW, N*OH*OW) of a C-contiguous x (N, C, H, W), by a Numba loop (into ``out`` if given)."""
    n_batch, n_ch = x.shape[:2]
    oh, ow = output_size(x.shape[2], kh, sh), output_size(x.shape[3], kw, sw)
    cols = np.empty((n_ch * kh * kw, n_batch * oh * ow), dtype=x.dtype) if out is None else out
    _im2col_loops(x, kh, kw, sh, sw, cols)
    return cols


def col2im_numba(dcols, kh, kw, sh, sw, dx):
    """Add dcols (C*KH*KW, N*OH*OW) into the C-contiguous dx (N, C, H, W) in place, by a Numba loop."""
    n_batch, n_ch, height, width = dx.shape
    expected = (n_ch * kh * kw, n_batch * output_size(height, kh, sh) * output_size(width, kw, sw))
    if dcols.shape != expected or not dx.flags.c_contiguous:
        raise ValueError(f"col2im: dcols has shape {dcols.shape}, expected {expected}; dx must be C-contiguous")
    _col2im_loops(np.ascontiguousarray(dcols, dtype=dx.dtype), kh, kw, sh, sw, dx)


def _rows_to_nchw_numba(rows, bias, y):
    _rows_to_nchw_loops(rows, bias, y)


def _nchw_to_rows_numba(dy, out):
    _nchw_to_rows_loops(dy, out)
    return out


class _Path(NamedTuple):
    """The copies of one path of the im2col convolution (the matrix products are BLAS in both)."""
    im2col: object          # (x, kh, kw, sh, sw, out) -> cols
    col2im: object          # (dcols, kh, kw, sh, sw, dx): adds into dx
    rows_to_nchw: object    # (rows, bias, y): y = rows laid out as NCHW, plus the bias
    nchw_to_rows: object    # (dy, out) -> dy laid out as rows (F, N*OH*OW), in out


_NUMBA = _Path(im2col_numba, col2im_numba, _rows_to_nchw_numba, _nchw_to_rows_numba)


def conv2d_forward_numba(x, w, stride=1, bias=None, scratch=None):
    r"""Cross-correlation x (N, C, H, W), w (F, C, KH, KW), optional bias (F,) -> y (N, F, OH, OW):
    Numba im2col + BLAS. ``scratch``: a ``Scratch`` whose work arrays are reused.

    .. math::
        Y = W_{(F,\ C K_H K_W)}\ \operatorname{im2col}(x)_{(C K_H K_W,\ N O_H O_W)} + b
    """
    x, w, sh, sw, oh, ow = _check_conv(x, w, stride)
    return _conv_forward(x, w, sh, sw, oh, ow, bias, scratch, _NUMBA)


def conv2d_backward_numba(x, w, dy, stride=1, scratch=None, input_grad=True, bias_grad=None):
    r"""Gradients ``(dx, dw)`` of the cross-correlation: BLAS products, Numba im2col and col2im.
    ``input_grad=False`` skips :math:`dx` (returned as ``None``); an array ``bias_grad`` (F,)
    receives :math:`\partial L/\partial b_f = \sum_{n,i,j} \delta_{n,f,i,j}`.

    .. math::
        \frac{\partial L}{\partial W} = \delta\, \operatorname{im2col}(x)^T, \qquad
        \frac{\partial L}{\partial x} = \operatorname{col2im}(W^T \delta)
    """
    x, w, sh, sw, oh, ow = _check_conv(x, w, stride)
    dy = _check_dy(dy, (x.shape[0], w.shape[0], oh, ow), x.dtype)
    return _conv_backward(x, w, dy, sh, sw, scratch, input_grad, bias_grad, _NUMBA)


# --- convolution: NumPy ---------------------------------------------------------------------------

def im2col_numpy(x, kh, kw, sh, sw, out=None):
    """cols (C*KH*KW, N*OH*OW) of x (N, C, H, W), copied from a strided window view (into ``out`` if given)."""
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]   # (N, C, OH, OW, KH, KW)
    n_batch, n_ch, oh, ow = windows.shape[:4]
    if out is None:
        return windows.transpose(1, 4, 5, 0, 2, 3).reshape(n_ch * kh * kw, n_batch * oh * ow)
    np.copyto(out.reshape(n_ch, kh, kw, n_batch, oh, ow), windows.transpose(1, 4, 5, 0, 2, 3))
    return out


def col2im_numpy(dcols, kh, kw, sh, sw, dx):
    """Add dcols (C*KH*KW, N*OH*OW) into dx (N, C, H, W) in place: one strided add per kernel position."""
    n_batch, n_ch = dx.shape[:2]
    oh, ow = output_size(dx.shape[2], kh, sh), output_size(dx.shape[3], kw, sw)
    dcols = dcols.reshape(n_ch, kh, kw, n_batch, oh, ow)
    for p in range(kh):
        for q in range(kw):
            dx[_window_slice(p, q, sh, sw, oh, ow)] += dcols[:, p, q].transpose(1, 0, 2, 3)


def _rows_to_nchw_numpy(rows, bias, y):
    n_batch, n_filt, oh, ow = y.shape
    np.add(rows.reshape(n_filt, n_batch, oh, ow).transpose(1, 0, 2, 3), bias[:, None, None], out=y)


def _nchw_to_rows_numpy(dy, out):
    n_batch, n_filt, oh, ow = dy.shape
    np.copyto(out.reshape(n_filt, n_batch, oh, ow), dy.transpose(1, 0, 2, 3))
    return out


_NUMPY = _Path(im2col_numpy, col2im_numpy, _rows_to_nchw_numpy, _nchw_to_rows_numpy)


def conv2d_forward_numpy(x, w, stride=1, bias=None, scratch=None):
    r"""Cross-correlation x (N, C, H, W), w (F, C, KH, KW), optional bias (F,) -> y (N, F, OH, OW):
    NumPy im2col + BLAS. ``scratch``: a ``Scratch`` whose work arrays are reused.

    .. math::
        Y = W_{(F,\ C K_H K_W)}\ \operatorname{im2col}(x)_{(C K_H K_W,\ N O_H O_W)} + b
    """
    x, w, sh, sw, oh, ow = _check_conv(x, w, stride)
    return _conv_forward(x, w, sh, sw, oh, ow, bias, scratch, _NUMPY)


def conv2d_backward_numpy(x, w, dy, stride=1, scratch=None, input_grad=True, bias_grad=None):
    r"""Gradients ``(dx, dw)`` of the cross-correlation: BLAS products, NumPy im2col and col2im.
    ``input_grad=False`` skips :math:`dx` (returned as ``None``); an array ``bias_grad`` (F,)
    receives :math:`\partial L/\partial b_f = \sum_{n,i,j} \delta_{n,f,i,j}`.

    .. math::
        \frac{\partial L}{\partial W} = \delta\, \operatorname{im2col}(x)^T, \qquad
        \frac{\partial L}{\partial x} = \operatorname{col2im}(W^T \delta)
    """
    x, w, sh, sw, oh, ow = _check_conv(x, w, stride)
    dy = _check_dy(dy, (x.shape[0], w.shape[0], oh, ow), x.dtype)
    return _conv_backward(x, w, dy, sh, sw, scratch, input_grad, bias_grad, _NUMPY)


# --- max pooling ------------------------------------------------------------------------------------

def _pool_windows(pool, stride):
    """``(PH, PW, SH, SW)``: the pool size and the strides, which default to the pool size."""
    ph, pw = as_pair(pool, "pool_size")
    sh, sw = as_pair(stride if stride is not None else pool, "strides")
    return ph, pw, sh, sw


def _check_pool(x, pool, stride):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"pooling expects x of shape (N, C, H, W), got shape {x.shape}")
    ph, pw, sh, sw = _pool_windows(pool, stride)
    x = np.ascontiguousarray(x, dtype=np.result_type(x.dtype, np.float32))
    return x, ph, pw, sh, sw, output_size(x.shape[2], ph, sh), output_size(x.shape[3], pw, sw)


def _check_pool_backward(dy, x_shape, pool, stride, argmax=None):
    """Check that dy (and argmax) have the pooled shape of ``x_shape``: the compiled loops do not check bounds."""
    ph, pw, sh, sw = _pool_windows(pool, stride)
    x_shape = tuple(int(n) for n in x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    expected = x_shape[:2] + (output_size(x_shape[2], ph, sh), output_size(x_shape[3], pw, sw))
    dy = np.asarray(dy)
    dy = np.ascontiguousarray(dy, dtype=np.result_type(dy.dtype, np.float32))
    if dy.shape != expected:
        raise ValueError(f"dy has shape {dy.shape}, expected {expected} (the pooled shape of x {x_shape})")
    if argmax is not None:
        argmax = np.ascontiguousarray(argmax, dtype=np.int64)
        if argmax.shape != expected:
            raise ValueError(f"argmax has shape {argmax.shape}, expected {expected}")
        if argmax.size and (argmax.min() < 0 or argmax.max() >= ph * pw):
            raise ValueError(f"argmax values must lie in [0, {ph * pw}) for a {ph}x{pw} pool")
    return dy, x_shape, argmax, ph, pw, sh, sw


def max_pool2d_forward_naive(x, pool=2, stride=None):
    r"""Max pooling, one window at a time; ties go to the first maximum. Returns ``PoolOutput(y, argmax)``.

    .. math::
        y_{n,c,i,j} = \max_{p < P_H,\ q < P_W} x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    x, ph, pw, sh, sw, oh, ow = _check_pool(x, pool, stride)
    n_batch, n_ch = x.shape[:2]
    y = np.empty((n_batch, n_ch, oh, ow), dtype=x.dtype)
    argmax = np.empty((n_batch, n_ch, oh, ow), dtype=np.int64)
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):
                for j in range(ow):
                    best, where = x[n, c, sh * i, sw * j], 0
                    for p in range(ph):
                        for q in range(pw):
                            if x[n, c, sh * i + p, sw * j + q] > best:
                                best, where = x[n, c, sh * i + p, sw * j + q], p * pw + q
                    y[n, c, i, j] = best
                    argmax[n, c, i, j] = where
    return PoolOutput(y, argmax)


def max_pool2d_backward_naive(dy, argmax, x_shape, pool=2, stride=None):
    r"""Gradient of max pooling: each window's gradient goes to its maximum.

    .. math::
        \frac{\partial L}{\partial x_{n,c,\,s_h i + p^*,\,s_w j + q^*}} \mathrel{+}= \delta_{n,c,i,j},
        \quad (p^*, q^*) = \arg\max_{p,q} x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    dy, x_shape, argmax, ph, pw, sh, sw = _check_pool_backward(dy, x_shape, pool, stride, argmax)
    dx = np.zeros(x_shape, dtype=dy.dtype)
    n_batch, n_ch, oh, ow = dy.shape
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):
                for j in range(ow):
                    p, q = divmod(int(argmax[n, c, i, j]), pw)
                    dx[n, c, sh * i + p, sw * j + q] += dy[n, c, i, j]
    return dx


@njit
def _max_pool_loops(x, ph, pw, sh, sw, y, argmax):
    n_batch, n_ch, oh, ow = y.shape
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):
                for j in range(ow):
                    best = x[n, c, sh * i, sw * j]
                    where = 0
                    for p in range(ph):
                        for q in range(pw):
                            v = x[n, c, sh * i + p, sw * j + q]
                            if v > best:
                                best = v
                                where = p * pw + q
                    y[n, c, i, j] = best
                    argmax[n, c, i, j] = where


@njit
def _max_pool_backward_loops(dy, argmax, pw, sh, sw, dx):
    n_batch, n_ch, oh, ow = dy.shape
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):
                for j in range(ow):
                    a = argmax[n, c, i, j]
                    dx[n, c, sh * i + a // pw, sw * j + a % pw] += dy[n, c, i, j]


def max_pool2d_forward_numba(x, pool=2, stride=None):
    r"""Max pooling by a Numba loop. Returns ``PoolOutput(y, argmax)``.

    .. math::
        y_{n,c,i,j} = \max_{p < P_H,\ q < P_W} x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    x, ph, pw, sh, sw, oh, ow = _check_pool(x, pool, stride)
    y = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    argmax = np.empty(y.shape, dtype=np.int64)
    _max_pool_loops(x, ph, pw, sh, sw, y, argmax)
    return PoolOutput(y, argmax)


def max_pool2d_backward_numba(dy, argmax, x_shape, pool=2, stride=None):
    r"""Gradient of max pooling by a Numba loop: each window's gradient goes to its maximum."""
    dy, x_shape, argmax, _, pw, sh, sw = _check_pool_backward(dy, x_shape, pool, stride, argmax)
    dx = np.zeros(x_shape, dtype=dy.dtype)
    _max_pool_backward_loops(dy, argmax, pw, sh, sw, dx)
    return dx


def max_pool2d_forward_numpy(x, pool=2, stride=None):
    r"""Max pooling by whole-array operations, one per position in the window. Returns ``PoolOutput(y, argmax)``.

    .. math::
        y_{n,c,i,j} = \max_{p < P_H,\ q < P_W} x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    x, ph, pw, sh, sw, oh, ow = _check_pool(x, pool, stride)
    y = x[_window_slice(0, 0, sh, sw, oh, ow)].copy()
    for p in range(ph):
        for q in range(pw):
            np.maximum(y, x[_window_slice(p, q, sh, sw, oh, ow)], out=y)
    argmax = np.zeros(y.shape, dtype=np.int64)
    for k in reversed(range(ph * pw)):  # last to first: ties end on the first maximum
        p, q = divmod(k, pw)
        argmax = np.where(x[_window_slice(p, q, sh, sw, oh, ow)] == y, k, argmax)
    return PoolOutput(y, argmax)


def max_pool2d_backward_numpy(dy, argmax, x_shape, pool=2, stride=None):
    r"""Gradient of max pooling: for each position in the window, one strided add of the gradients
    whose maximum is there."""
    dy, x_shape, argmax, ph, pw, sh, sw = _check_pool_backward(dy, x_shape, pool, stride, argmax)
    dx = np.zeros(x_shape, dtype=dy.dtype)
    oh, ow = dy.shape[2:]
    for p in range(ph):
        for q in range(pw):
            dx[_window_slice(p, q, sh, sw, oh, ow)] += np.where(argmax == p * pw + q, dy, 0)
    return dx


# --- average pooling --------------------------------------------------------------------------------

def avg_pool2d_forward_naive(x, pool=2, stride=None):
    r"""Average pooling, one window at a time.

    .. math::
        y_{n,c,i,j} = \frac{1}{P_H P_W} \sum_{p,q} x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    x, ph, pw, sh, sw, oh, ow = _check_pool(x, pool, stride)
    n_batch, n_ch = x.shape[:2]
    y = np.zeros((n_batch, n_ch, oh, ow), dtype=x.dtype)
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):
                for j in range(ow):
                    total = 0.0
                    for p in range(ph):
                        for q in range(pw):
                            total += x[n, c, sh * i + p, sw * j + q]
                    y[n, c, i, j] = total / (ph * pw)
    return y


def avg_pool2d_backward_naive(dy, x_shape, pool=2, stride=None):
    r"""Gradient of average pooling: each window's gradient is shared equally by its pixels.

    .. math::
        \frac{\partial L}{\partial x_{n,c,\,s_h i + p,\,s_w j + q}} \mathrel{+}= \frac{\delta_{n,c,i,j}}{P_H P_W}
    """
    dy, x_shape, _, ph, pw, sh, sw = _check_pool_backward(dy, x_shape, pool, stride)
    dx = np.zeros(x_shape, dtype=dy.dtype)
    n_batch, n_ch, oh, ow = dy.shape
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):
                for j in range(ow):
                    for p in range(ph):
                        for q in range(pw):
                            dx[n, c, sh * i + p, sw * j + q] += dy[n, c, i, j] / (ph * pw)
    return dx


@njit
def _avg_pool_loops(x, ph, pw, sh, sw, y):
    n_batch, n_ch, oh, ow = y.shape
    scale = 1.0 / (ph * pw)
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):  # a whole output row at a time: the inner loops run along j
                for j in range(ow):
                    y[n, c, i, j] = 0.0
                for p in range(ph):
                    for q in range(pw):
                        for j in range(ow):
                            y[n, c, i, j] += x[n, c, sh * i + p, sw * j + q]
                for j in range(ow):
                    y[n, c, i, j] *= scale


@njit
def _avg_pool_backward_loops(dy, ph, pw, sh, sw, dx):
    n_batch, n_ch, oh, ow = dy.shape
    scale = 1.0 / (ph * pw)
    for n in range(n_batch):
        for c in range(n_ch):
            for i in range(oh):
                for j in range(ow):
                    g = dy[n, c, i, j] * scale
                    for p in range(ph):
                        for q in range(pw):
                            dx[n, c, sh * i + p, sw * j + q] += g


def avg_pool2d_forward_numba(x, pool=2, stride=None):
    r"""Average pooling by a Numba loop.

    .. math::
        y_{n,c,i,j} = \frac{1}{P_H P_W} \sum_{p,q} x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    x, ph, pw, sh, sw, oh, ow = _check_pool(x, pool, stride)
    y = np.empty(x.shape[:2] + (oh, ow), dtype=x.dtype)
    _avg_pool_loops(x, ph, pw, sh, sw, y)
    return y


def avg_pool2d_backward_numba(dy, x_shape, pool=2, stride=None):
    r"""Gradient of average pooling by a Numba loop."""
    dy, x_shape, _, ph, pw, sh, sw = _check_pool_backward(dy, x_shape, pool, stride)
    dx = np.zeros(x_shape, dtype=dy.dtype)
    _avg_pool_backward_loops(dy, ph, pw, sh, sw, dx)
    return dx


def avg_pool2d_forward_numpy(x, pool=2, stride=None):
    r"""Average pooling: the sum of one strided slice per position in the window.

    .. math::
        y_{n,c,i,j} = \frac{1}{P_H P_W} \sum_{p,q} x_{n,c,\,s_h i + p,\,s_w j + q}
    """
    x, ph, pw, sh, sw, oh, ow = _check_pool(x, pool, stride)
    y = np.zeros(x.shape[:2] + (oh, ow), dtype=x.dtype)
    for p in range(ph):
        for q in range(pw):
            y += x[_window_slice(p, q, sh, sw, oh, ow)]
    return y / x.dtype.type(ph * pw)


def avg_pool2d_backward_numpy(dy, x_shape, pool=2, stride=None):
    r"""Gradient of average pooling: one strided add of :math:`\delta / (P_H P_W)` per window position."""
    dy, x_shape, _, ph, pw, sh, sw = _check_pool_backward(dy, x_shape, pool, stride)
    dx = np.zeros(x_shape, dtype=dy.dtype)
    oh, ow = dy.shape[2:]
    share = dy / (ph * pw)
    for p in range(ph):
        for q in range(pw):
            dx[_window_slice(p, q, sh, sw, oh, ow)] += share
    return dx


# --- dispatchers ------------------------------------------------------------------------------------

def conv2d_forward(x, w, stride=1, bias=None, scratch=None):
    """Cross-correlation x (N, C, H, W), w (F, C, KH, KW), optional bias (F,) -> y (N, F, OH, OW),
    Numba or NumPy path."""
    return (conv2d_forward_numba if use_numba() else conv2d_forward_numpy)(x, w, stride, bias, scratch)


def conv2d_backward(x, w, dy, stride=1, scratch=None, input_grad=True, bias_grad=None):
    """Gradients ``(dx, dw)`` of ``conv2d_forward`` (``dx`` is ``None`` when not ``input_grad``; the
    bias gradient into ``bias_grad`` if given), Numba or NumPy path."""
    return (conv2d_backward_numba if use_numba() else conv2d_backward_numpy)(x, w, dy, stride, scratch, input_grad,
                                                                             bias_grad)


def max_pool2d_forward(x, pool=2, stride=None):
    """Max pooling x (N, C, H, W) -> ``PoolOutput(y, argmax)``, Numba or NumPy path."""
    return (max_pool2d_forward_numba if use_numba() else max_pool2d_forward_numpy)(x, pool, stride)


def max_pool2d_backward(dy, argmax, x_shape, pool=2, stride=None):
    """Gradient of ``max_pool2d_forward`` (dx of shape ``x_shape``), Numba or NumPy path."""
    return (max_pool2d_backward_numba if use_numba() else max_pool2d_backward_numpy)(dy, argmax, x_shape, pool, stride)


def avg_pool2d_forward(x, pool=2, stride=None):
    """Average pooling x (N, C, H, W) -> y (N, C, OH, OW), Numba or NumPy path."""
    return (avg_pool2d_forward_numba if use_numba() else avg_pool2d_forward_numpy)(x, pool, stride)


def avg_pool2d_backward(dy, x_shape, pool=2, stride=None):
    """Gradient of ``avg_pool2d_forward`` (dx of shape ``x_shape``), Numba or NumPy path."""
    return (avg_pool2d_backward_numba if use_numba() else avg_pool2d_backward_numpy)(dy, x_shape, pool, stride)
