"""nnlib._kernels: the Numba and NumPy paths agree with the naive loops, and with numerical gradients."""
import numpy as np
import pytest

from nnlib import _kernels as K
from nnlib.gradcheck import numerical_jvp, rel_error

# (N, C, H, W), (F, KH, KW), stride: square and rectangular, stride 1 and 2, a 1x1 kernel,
# and inputs whose size does not divide by the stride (the last rows and columns are skipped).
CONV_CASES = [
    ((2, 3, 7, 6), (4, 3, 3), 1),
    ((3, 1, 8, 8), (2, 3, 3), 2),
    ((2, 2, 9, 7), (3, 2, 4), (2, 1)),
    ((1, 4, 5, 5), (2, 1, 1), 1),
    ((2, 2, 6, 9), (3, 5, 2), (1, 3)),
]
POOL_CASES = [((2, 3, 6, 6), 2, None), ((2, 2, 7, 5), (2, 3), (2, 1)), ((1, 2, 5, 5), 3, 1)]


def conv_inputs(x_shape, w_shape, stride, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((w_shape[0], x_shape[1], w_shape[1], w_shape[2])).astype(dtype)
    y = K.conv2d_forward_naive(x, w, stride)
    dy = rng.standard_normal(y.shape).astype(dtype)
    return x, w, y, dy


@pytest.mark.parametrize("x_shape, w_shape, stride", CONV_CASES)
@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_conv_forward_and_backward_match_naive(x_shape, w_shape, stride, path):
    forward = getattr(K, f"conv2d_forward_{path}")
    backward = getattr(K, f"conv2d_backward_{path}")
    x, w, y, dy = conv_inputs(x_shape, w_shape, stride)
    np.testing.assert_allclose(forward(x, w, stride), y, rtol=1e-12, atol=1e-12)
    dx_ref, dw_ref = K.conv2d_backward_naive(x, w, dy, stride)
    dx, dw = backward(x, w, dy, stride)
    assert dx.shape == x.shape and dw.shape == w.shape
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, rtol=1e-12, atol=1e-12)


def test_conv_in_blocks_gives_the_same_as_one_block(monkeypatch):
    x, w, y, dy = conv_inputs((9, 2, 6, 6), (3, 3, 3), 1)
    dx_ref, dw_ref = K.conv2d_backward_naive(x, w, dy)
    monkeypatch.setattr(K, "BLOCK_BYTES", 1)  # one image per block
    assert len(K._blocks(9, 1000)) == 9
    for path in ("numba", "numpy"):
        np.testing.assert_allclose(getattr(K, f"conv2d_forward_{path}")(x, w), y, atol=1e-12)
        dx, dw = getattr(K, f"conv2d_backward_{path}")(x, w, dy)
        np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
        np.testing.assert_allclose(dw, dw_ref, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2, 3, 16])
@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_conv_shared_between_threads_gives_the_same_as_one_thread(path, threads, monkeypatch):
    x, w, y, dy = conv_inputs((7, 2, 6, 6), (3, 3, 3), 1, seed=8)
    dx_ref, dw_ref = K.conv2d_backward_naive(x, w, dy)
    monkeypatch.setattr(K, "BLOCK_BYTES", 5000)     # two images per block: 4 blocks for up to 16 threads
    monkeypatch.setattr(K, "THREADS", threads)
    shares = K._shares(7, 2 * 9 * 16 * 8)
    assert len(shares) == min(threads, 4)
    assert [n0 for share in shares for n0, _ in share][0] == 0
    assert sum(n1 - n0 for share in shares for n0, n1 in share) == 7    # every image once
    bias, db = np.arange(3.0), np.empty(3)
    scratch = K.Scratch()
    np.testing.assert_allclose(getattr(K, f"conv2d_forward_{path}")(x, w, 1, bias, scratch), y + bias[:, None, None],
                               atol=1e-12)
    dx, dw = getattr(K, f"conv2d_backward_{path}")(x, w, dy, 1, scratch, True, db)
    np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
    np.testing.assert_allclose(dw, dw_ref, atol=1e-12)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), atol=1e-12)


def test_an_error_in_one_thread_reaches_the_caller_after_every_thread_finished(monkeypatch):
    finished = []

    def work(k, blocks):
        if k == 1:
            raise RuntimeError("worker 1 failed")
        finished.append(k)

    with pytest.raises(RuntimeError, match="worker 1 failed"):
        K._in_parallel(work, [[(0, 1)], [(1, 2)], [(2, 3)]])
    assert sorted(finished) == [0, 2]


def test_blas_runs_on_one_thread_while_the_threads_share_a_batch():
    from threadpoolctl import threadpool_info

    seen = []
    K._in_parallel(lambda k, blocks: seen.append([d["num_threads"] for d in threadpool_info()
                                                   if d["user_api"] == "blas"]), [[(0, 1)], [(1, 2)]])
    assert seen and all(counts and set(counts) == {1} for counts in seen)


def test_a_forked_child_convolves_with_its_own_threads(monkeypatch):
    """A grader forks workers; a thread pool made before the fork has no threads in the child."""
    import multiprocessing

    monkeypatch.setattr(K, "BLOCK_BYTES", 5000)            # several blocks, so the threads are used
    x, w, y, _ = conv_inputs((8, 2, 6, 6), (3, 3, 3), 1, seed=9)
    K.conv2d_forward_numpy(x, w)
    assert K._pool is not None                             # the parent's pool exists before the fork
    with multiprocessing.get_context("fork").Pool(1) as pool:
        forked = pool.apply_async(K.conv2d_forward_numpy, (x, w)).get(timeout=60)
    np.testing.assert_allclose(forked, y, atol=1e-12)


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_an_empty_batch_gives_empty_outputs_and_zero_weight_gradients(path):
    x, w, dy = np.zeros((0, 2, 5, 5)), np.ones((3, 2, 3, 3)), np.zeros((0, 3, 3, 3))
    assert getattr(K, f"conv2d_forward_{path}")(x, w, 1, np.zeros(3), K.Scratch()).shape == (0, 3, 3, 3)
    db = np.full(3, np.nan)
    dx, dw = getattr(K, f"conv2d_backward_{path}")(x, w, dy, 1, None, True, db)
    assert dx.shape == x.shape and not dw.any() and not db.any()


def test_blas_limits_overlapping_in_two_threads_restore_the_original_count():
    """Thread A enters, thread B enters, A leaves, B leaves: BLAS ends as it began."""
    import threading

    from threadpoolctl import threadpool_info

    def counts():
        return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]

    before = counts()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    inside = []

    def thread_a():
        with K.single_thread_blas():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def thread_b():
        a_in.wait(10)
        with K.single_thread_blas():
            b_in.set()
            a_out.wait(10)
            inside.append(counts())               # A has left, B is still inside: still one thread

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert inside == [[1] * len(before)] and counts() == before


def test_a_child_forked_while_a_convolution_holds_the_lock_does_not_hang():
    import multiprocessing

    x, w, y, _ = conv_inputs((2, 2, 6, 6), (3, 3, 3), 1, seed=10)
    with K._pool_lock, K.single_thread_blas():            # as while another thread convolves
        with multiprocessing.get_context("fork").Pool(1) as pool:
            forked = pool.apply_async(K.conv2d_forward_numpy, (x, w)).get(timeout=60)
    np.testing.assert_allclose(forked, y, atol=1e-12)


def test_conv_backward_matches_numerical_gradients():
    x, w, _, dy = conv_inputs((2, 2, 6, 5), (3, 3, 2), 2, seed=3)
    dx, dw = K.conv2d_backward(x, w, dy, 2)
    assert rel_error(dx, numerical_jvp(lambda z: K.conv2d_forward(z, w, 2), x, dy)) < 1e-6
    assert rel_error(dw, numerical_jvp(lambda z: K.conv2d_forward(x, z, 2), w, dy)) < 1e-6


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_conv_keeps_float32(path):
    x, w, y, dy = conv_inputs((2, 3, 8, 8), (4, 3, 3), 1, dtype=np.float32)
    out = getattr(K, f"conv2d_forward_{path}")(x, w)
    dx, dw = getattr(K, f"conv2d_backward_{path}")(x, w, dy)
    assert out.dtype == dx.dtype == dw.dtype == np.float32
    np.testing.assert_allclose(out, y, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("stride", [1, 2, (2, 3)])
def test_im2col_paths_agree_and_col2im_is_its_adjoint(stride):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 7, 8))
    sh, sw = K.as_pair(stride, "stride")
    cols = K.im2col_numba(x, 3, 2, sh, sw)
    np.testing.assert_array_equal(cols, K.im2col_numpy(x, 3, 2, sh, sw))
    # col2im is the transpose of im2col: <im2col(x), c> == <x, col2im(c)>
    c = rng.standard_normal(cols.shape)
    for col2im in (K.col2im_numba, K.col2im_numpy):
        back = np.zeros_like(x)
        col2im(c, 3, 2, sh, sw, back)
        assert np.isclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)


def pool_input(shape, seed=0):
    """Distinct values (a permutation), so that no window has a tie."""
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64) / 10


@pytest.mark.parametrize("shape, pool, stride", POOL_CASES)
@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_max_pool_matches_naive(shape, pool, stride, path):
    x = pool_input(shape)
    y_ref, arg_ref = K.max_pool2d_forward_naive(x, pool, stride)
    y, arg = getattr(K, f"max_pool2d_forward_{path}")(x, pool, stride)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(arg, arg_ref)
    dy = np.random.default_rng(2).standard_normal(y.shape)
    dx_ref = K.max_pool2d_backward_naive(dy, arg_ref, x.shape, pool, stride)
    np.testing.assert_allclose(getattr(K, f"max_pool2d_backward_{path}")(dy, arg, x.shape, pool, stride), dx_ref,
                               atol=1e-12)
    assert rel_error(dx_ref, numerical_jvp(lambda z: K.max_pool2d_forward_naive(z, pool, stride).y, x, dy)) < 1e-6


@pytest.mark.parametrize("shape, pool, stride", POOL_CASES)
@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_avg_pool_matches_naive(shape, pool, stride, path):
    x = pool_input(shape, seed=1)
    y_ref = K.avg_pool2d_forward_naive(x, pool, stride)
    np.testing.assert_allclose(getattr(K, f"avg_pool2d_forward_{path}")(x, pool, stride), y_ref, atol=1e-12)
    dy = np.random.default_rng(3).standard_normal(y_ref.shape)
    dx_ref = K.avg_pool2d_backward_naive(dy, x.shape, pool, stride)
    np.testing.assert_allclose(getattr(K, f"avg_pool2d_backward_{path}")(dy, x.shape, pool, stride), dx_ref,
                               atol=1e-12)
    assert rel_error(dx_ref, numerical_jvp(lambda z: K.avg_pool2d_forward_naive(z, pool, stride), x, dy)) < 1e-6


def test_max_pool_worked_example_and_ties_go_to_the_first_maximum():
    x = np.array([[1, 3, 2, 2],
                  [4, 0, 2, 2],
                  [5, 6, 1, 1],
                  [7, 8, 1, 1]], dtype=float)[None, None]
    for forward in (K.max_pool2d_forward_naive, K.max_pool2d_forward_numba, K.max_pool2d_forward_numpy):
        y, arg = forward(x, 2)
        np.testing.assert_array_equal(y[0, 0], [[4, 2], [8, 1]])
        np.testing.assert_array_equal(arg[0, 0], [[2, 0], [3, 0]])  # all-equal windows: the top-left one
    dx = K.max_pool2d_backward(np.ones((1, 1, 2, 2)), arg, x.shape, 2)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])


@pytest.mark.parametrize("use", [True, False])
def test_dispatchers_follow_the_backend_choice(monkeypatch, use):
    monkeypatch.setattr(K, "use_numba", lambda: use)
    calls = []
    for name in ("conv2d_forward", "max_pool2d_forward", "avg_pool2d_forward"):
        chosen = f"{name}_{'numba' if use else 'numpy'}"
        monkeypatch.setattr(K, chosen, lambda *a, _n=chosen: calls.append(_n))
    x = np.ones((1, 1, 4, 4))
    K.conv2d_forward(x, np.ones((1, 1, 3, 3)))
    K.max_pool2d_forward(x)
    K.avg_pool2d_forward(x)
    suffix = "numba" if use else "numpy"
    assert calls == [f"conv2d_forward_{suffix}", f"max_pool2d_forward_{suffix}", f"avg_pool2d_forward_{suffix}"]


def test_bad_input_messages():
    x = np.ones((2, 3, 5, 5))
    with pytest.raises(ValueError, match=r"x has 3 channels .* but w expects 2"):
        K.conv2d_forward(x, np.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"expects x of shape \(N, C, H, W\), got shape \(3, 5, 5\)"):
        K.conv2d_forward(x[0], np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match="window of size 7 does not fit in an input of size 5"):
        K.conv2d_forward(x, np.ones((4, 3, 7, 7)))
    with pytest.raises(ValueError, match=r"dy has shape \(2, 4, 2, 2\), expected \(2, 4, 3, 3\)"):
        K.conv2d_backward(x, np.ones((4, 3, 3, 3)), np.ones((2, 4, 2, 2)))
    with pytest.raises(ValueError, match="stride must be a positive integer or a pair"):
        K.conv2d_forward(x, np.ones((4, 3, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="pool_size must be a positive integer or a pair"):
        K.max_pool2d_forward(x, pool=(2, 2, 2))
    # the compiled loops do not check bounds, so the wrappers must
    y, arg = K.max_pool2d_forward(x)
    for path in ("numba", "numpy", "naive"):
        backward = getattr(K, f"max_pool2d_backward_{path}")
        with pytest.raises(ValueError, match=r"dy has shape \(2, 3, 3, 3\), expected \(2, 3, 2, 2\)"):
            backward(np.ones((2, 3, 3, 3)), arg, x.shape)
        with pytest.raises(ValueError, match=r"argmax values must lie in \[0, 4\)"):
            backward(np.ones_like(y), arg + 4, x.shape)
        with pytest.raises(ValueError, match=r"dy has shape \(2, 3, 2\), expected"):
            getattr(K, f"avg_pool2d_backward_{path}")(np.ones((2, 3, 2)), x.shape)
    with pytest.raises(ValueError, match=r"col2im: dcols has shape \(3, 4\)"):
        K.col2im_numba(np.ones((3, 4)), 3, 3, 1, 1, np.zeros((2, 3, 5, 5)))


@pytest.mark.parametrize("path", ["numba", "numpy"])
def test_conv_bias_scratch_and_skipped_input_gradient(path, monkeypatch):
    forward = getattr(K, f"conv2d_forward_{path}")
    backward = getattr(K, f"conv2d_backward_{path}")
    monkeypatch.setattr(K, "BLOCK_BYTES", 2000)     # a few images per block, the last block smaller
    scratch = K.Scratch()
    for x_shape, w_shape, stride in CONV_CASES + [((7, 2, 6, 6), (3, 3, 3), 1)]:
        x, w, y, dy = conv_inputs(x_shape, w_shape, stride, seed=5)
        bias = np.arange(w.shape[0], dtype=float)
        np.testing.assert_allclose(forward(x, w, stride, bias, scratch), y + bias[:, None, None], atol=1e-12)
        dx_ref, dw_ref = K.conv2d_backward_naive(x, w, dy, stride)
        db = np.full(w.shape[0], np.nan)
        dx, dw = backward(x, w, dy, stride, scratch, True, db)
        np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
        np.testing.assert_allclose(dw, dw_ref, atol=1e-12)
        np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), atol=1e-12)
        no_dx, dw_only = backward(x, w, dy, stride, scratch, False)
        assert no_dx is None
        np.testing.assert_allclose(dw_only, dw_ref, atol=1e-12)
    with pytest.raises(ValueError, match=r"bias has shape \(4,\), expected \(3,\)"):
        forward(x, w, stride, np.zeros(4))
    with pytest.raises(ValueError, match=r"bias_grad has shape \(2,\), expected \(3,\)"):
        backward(x, w, dy, stride, scratch, True, np.zeros(2))


@pytest.mark.parametrize("path", ["numba", "numpy"])
@pytest.mark.parametrize("keep_bytes", [0, 2 ** 25])
def test_backward_reuses_the_forward_windows_only_for_the_same_input(path, keep_bytes, monkeypatch):
    forward = getattr(K, f"conv2d_forward_{path}")
    backward = getattr(K, f"conv2d_backward_{path}")
    monkeypatch.setattr(K, "KEEP_COLS_BYTES", keep_bytes)   # 0: nothing is kept, backward copies again
    monkeypatch.setattr(K, "BLOCK_BYTES", 3000)
    scratch = K.Scratch()
    x1, w, _, dy = conv_inputs((5, 2, 6, 7), (3, 3, 2), 1, seed=6)
    x2 = conv_inputs((5, 2, 6, 7), (3, 3, 2), 1, seed=7)[0]
    forward(x1, w, 1, None, scratch)
    assert (scratch.kept_cols_of is not None) == bool(keep_bytes)
    for x in (x2, x1, x2):                                   # another input never reads x1's windows
        dx_ref, dw_ref = K.conv2d_backward_naive(x, w, dy)
        dx, dw = backward(x, w, dy, 1, scratch)
        np.testing.assert_allclose(dw, dw_ref, atol=1e-12)
        np.testing.assert_allclose(dx, dx_ref, atol=1e-12)
    w2 = np.ones((3, 2, 2, 2))                               # another kernel size: the windows differ
    dy2 = np.ones((5, 3, 5, 6))
    np.testing.assert_allclose(backward(x1, w2, dy2, 1, scratch)[1], K.conv2d_backward_naive(x1, w2, dy2)[1],
                               atol=1e-12)


def test_scratch_arrays_grow_and_are_reused():
    scratch = K.Scratch()
    a = scratch.array("cols", (3, 4), np.float64)
    b = scratch.array("cols", (2, 5), np.float64)             # smaller: the same memory
    assert np.shares_memory(a, b) and b.shape == (2, 5) and b.flags.c_contiguous
    c = scratch.array("cols", (5, 5), np.float64)             # larger: a new buffer
    assert c.shape == (5, 5) and not np.shares_memory(a, c)
    assert scratch.array("cols", (2, 2), np.float32).dtype == np.float32


def test_layout_copies_agree_on_every_path():
    rng = np.random.default_rng(4)
    rows = rng.standard_normal((3, 2 * 4 * 5))                # (F, N*OH*OW)
    bias = rng.standard_normal(3)
    expected = rows.reshape(3, 2, 4, 5).transpose(1, 0, 2, 3) + bias[:, None, None]
    for to_nchw in (K._rows_to_nchw_loops, K._rows_to_nchw_loops.py_func, K._rows_to_nchw_numpy):
        y = np.empty((2, 3, 4, 5))
        to_nchw(rows, bias, y)
        np.testing.assert_array_equal(y, expected)
    dy = rng.standard_normal((2, 3, 4, 5)).transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)  # not contiguous
    for to_rows in (K._nchw_to_rows_loops, K._nchw_to_rows_loops.py_func, K._nchw_to_rows_numpy):
        out = np.empty((3, 40))
        to_rows(dy, out)
        np.testing.assert_array_equal(out, dy.transpose(1, 0, 2, 3).reshape(3, -1))
