"""Convolution forward + backward: nnlib's Numba path and NumPy path against PyTorch CPU.

Two layers of a small MNIST network, float32, 3x3 kernels, stride 1, no padding:

* conv 1: x (64, 1, 28, 28), 8 filters   -> y (64, 8, 26, 26)
* conv 2: x (64, 8, 26, 26), 16 filters  -> y (64, 16, 24, 24)

One step is what training needs: the forward pass, then dx, dW and db from an upstream gradient.
nnlib is timed at the kernel level (``nnlib._kernels``, NCHW like PyTorch, the bias and its gradient
computed by the kernels, the work arrays kept in a ``Scratch`` from step to step as the layer keeps them);
the Conv2D layer (channels-first, so no transposes) is shown too, with its input checks, on the
dispatched path. Every timing is the median of several blocks of repeats, each after a warm-up, all
measured in this run.
PyTorch uses ``os.cpu_count()`` threads; nnlib shares the batch between one thread per core, each
with its own copies and one-thread BLAS products (``nnlib._kernels.THREADS``). PyTorch computes dx
too (its input requires grad), as nnlib always does.

On a busy machine the numbers move by tens of percent from run to run: compare ratios of one run.
PyTorch allocates its work tensors on every step; whether glibc serves them from fresh memory (a
page fault per 4 KB) or from its heap depends on what the process freed before (glibc's threshold
for fresh memory rises after a large array is freed). The agreement check runs first, so every
contender is timed in that steady state, the one of any program that has freed a large array: in a
fresh process PyTorch's step here took 4.5 ms instead of 2.

Run: ``python bench/bench_conv.py`` (PyTorch is optional: ``pip install torch``).
"""
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnlib import _kernels, layers  # noqa: E402

CONFIGS = [((64, 1, 28, 28), 8), ((64, 8, 26, 26), 16)]
KERNEL = 3
ROUNDS = 3
REPEATS = 10
WARMUP = 3
# Each block starts with at least this much warm-up: OpenBLAS's idle thread busy-waits for about 0.1 s
# after a product, and would otherwise slow down whichever contender runs next.
WARMUP_SECONDS = 0.3


def nnlib_step(forward, backward):
    """One forward + backward of the kernel functions ``forward``/``backward``, with the bias, reusing
    one ``Scratch`` for the work arrays from step to step, as the Conv2D layer does."""
    scratch = _kernels.Scratch()

    def step(x, w, b, dy):
        y = forward(x, w, 1, b, scratch)
        db = np.empty_like(b)
        dx, dw = backward(x, w, dy, 1, scratch, True, db)
        return y, dx, dw, db
    return step


def layer_step(x_shape, filters):
    layer = layers.Conv2D(filters, KERNEL, data_format="channels_first", dtype="float32", seed=0)
    layer.build(x_shape[1:])

    def step(x, w, b, dy):
        layer.forward(x, training=True)
        return layer.backward(dy)
    return step


def torch_step():
    """A PyTorch step, or None when PyTorch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count())
    cache = {}

    def step(x, w, b, dy):
        key = id(x), id(w), id(dy)
        if key not in cache:  # convert once: the conversion is not part of the step
            cache.clear()
            cache[key] = [torch.from_numpy(a).clone().requires_grad_(g) for a, g in ((x, True), (w, True), (b, True))] \
                + [torch.from_numpy(dy).clone()]
        tx, tw, tb, tdy = cache[key]
        tx.grad = tw.grad = tb.grad = None
        y = torch.nn.functional.conv2d(tx, tw, tb)
        y.backward(tdy)
        return y
    return step


def check_agreement(x, w, b, dy):
    """The two nnlib paths must agree before they are timed."""
    fast = nnlib_step(_kernels.conv2d_forward_numba, _kernels.conv2d_backward_numba)(x, w, b, dy)
    slow = nnlib_step(_kernels.conv2d_forward_numpy, _kernels.conv2d_backward_numpy)(x, w, b, dy)
    for a, c in zip(fast, slow):
        np.testing.assert_allclose(a, c, rtol=1e-3, atol=1e-3)


def time_in_blocks(steps, args):
    """Median milliseconds of each step in ``steps`` (name -> callable).

    Each contender runs a block of repeats after its own warm-up of at least ``WARMUP`` steps and
    ``WARMUP_SECONDS`` (its thread pool wakes up, the previous contender's idle threads stop spinning;
    PyTorch's and OpenBLAS's threads would fight for the cores if calls alternated one by one); the
    blocks rotate ``ROUNDS`` times so that a busy moment of the machine does not fall on one contender.
    """
    times = {name: [] for name in steps}
    for _ in range(ROUNDS):
        for name, step in steps.items():
            started, warmed = time.perf_counter(), 0
            while warmed < WARMUP or time.perf_counter() - started < WARMUP_SECONDS:
                step(*args)
                warmed += 1
            for _ in range(REPEATS):
                start = time.perf_counter()
                step(*args)
                times[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def describe_kernels():
    """Which arithmetic each side runs: the SIMD width of the BLAS kernels decides most of the ratio."""
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{d['internal_api']} {d.get('version')} ({d.get('architecture')} kernels)"
                         for d in threadpool_info() if d["user_api"] == "blas")
    except ImportError:
        blas = "unknown (threadpoolctl not installed)"
    line = f"NumPy's BLAS: {blas}"
    try:
        import torch
        line += f"; PyTorch CPU capability: {torch.backends.cpu.get_cpu_capability()}"
    except ImportError:
        pass
    return line


def main():
    rng = np.random.default_rng(0)
    torch = torch_step()
    print(describe_kernels())
    print(f"conv2d forward+backward (dx, dW, db), float32, {KERNEL}x{KERNEL} kernels, stride 1, valid; "
          f"median of {ROUNDS}x{REPEATS} repeats; {os.cpu_count()} CPU(s)")
    header = (f"{'config':34s} {'nnlib numba':>12s} {'nnlib numpy':>12s} {'Conv2D layer':>13s} {'torch':>10s}"
              f" {'nnlib/torch':>12s} {'numpy/numba':>12s}")
    print(header)
    print("-" * len(header))
    for x_shape, filters in CONFIGS:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        w = (rng.standard_normal((filters, x_shape[1], KERNEL, KERNEL), dtype=np.float32) * 0.1)
        b = rng.standard_normal(filters, dtype=np.float32)
        out_shape = (x_shape[0], filters, x_shape[2] - KERNEL + 1, x_shape[3] - KERNEL + 1)
        dy = rng.standard_normal(out_shape, dtype=np.float32)
        check_agreement(x, w, b, dy)
        steps = {
            "numba": nnlib_step(_kernels.conv2d_forward_numba, _kernels.conv2d_backward_numba),
            "numpy": nnlib_step(_kernels.conv2d_forward_numpy, _kernels.conv2d_backward_numpy),
            "layer": layer_step(x_shape, filters),
        }
        if torch is not None:
            steps["torch"] = torch
        ms = time_in_blocks(steps, (x, w, b, dy))
        name = f"{x_shape} x {filters} filters"
        if torch is not None:
            torch_cols = f" {ms['torch']:8.3f} ms {ms['numba'] / ms['torch']:11.2f}x"
        else:
            torch_cols = f" {'torch not installed':>23s}"
        print(f"{name:34s} {ms['numba']:9.3f} ms {ms['numpy']:9.3f} ms {ms['layer']:10.3f} ms"
              f"{torch_cols} {ms['numpy'] / ms['numba']:11.2f}x")
    if torch is None:
        print("torch not installed: pip install torch (CPU build) to compare")


if __name__ == "__main__":
    main()
