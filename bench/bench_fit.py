"""One epoch of training on scikit-learn's 8x8 digits: nnlib's Sequential.fit against the same loop.

Run ``python bench/bench_fit.py``. The network is 64-64-10 (ReLU, softmax), sparse categorical
crossentropy, Adam (Keras defaults), batch 32, shuffled, on the 1797 digits scaled to [0, 1].
Three contestants, timed in the same run (median of repeats, after a warm-up epoch; nnlib and NumPy
take turns, so a busy machine slows both alike):

* ``nnlib``: ``model.fit(x, y, epochs=1, batch_size=32, verbose=0)``;
* ``numpy``: the same loop hand-written in plain NumPy below (forward, the fused softmax-crossentropy
  gradient, backward, Adam in place), which also records the epoch loss and accuracy as fit does;
* ``torch``: the same model and loop in PyTorch on the CPU, only if ``torch`` can be imported.

The ratio nnlib/numpy is the price of the library's generality (layer objects, checks, callbacks).
"""
import argparse
import math
import statistics
import time

import numpy as np


def load_data(dtype):
    from sklearn.datasets import load_digits
    digits = load_digits()
    return (digits.data / 16.0).astype(dtype), digits.target.astype(np.intp)


def glorot(rng, fan_in, fan_out, dtype):
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype)


class NumpyMLP:
    """64-64-10 ReLU/softmax network and its Adam state, trained by a hand-written loop."""

    def __init__(self, dtype, seed=0, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        rng = np.random.default_rng(seed)
        self.params = [glorot(rng, 64, 64, dtype), np.zeros(64, dtype), glorot(rng, 64, 10, dtype),
                       np.zeros(10, dtype)]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.lr, self.beta_1, self.beta_2, self.epsilon = lr, beta_1, beta_2, epsilon

    def epoch(self, x, y, batch_size, rng):
        w1, b1, w2, b2 = self.params
        n = len(x)
        order = rng.permutation(n)
        total_loss, correct = 0.0, 0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            xb, yb = x[index], y[index]
            rows = np.arange(len(index))
            z1 = xb @ w1 + b1
            a1 = np.maximum(z1, 0)
            z2 = a1 @ w2 + b2
            e = np.exp(z2 - z2.max(axis=1, keepdims=True))
            p = e / e.sum(axis=1, keepdims=True)
            total_loss -= float(np.log(np.clip(p[rows, yb], 1e-7, 1.0)).sum())
            correct += int((p.argmax(axis=1) == yb).sum())
            dz2 = p.copy()
            dz2[rows, yb] -= 1.0
            dz2 /= len(index)
            dw2, db2 = a1.T @ dz2, dz2.sum(axis=0)
            dz1 = (dz2 @ w2.T) * (z1 > 0)
            dw1, db1 = xb.T @ dz1, dz1.sum(axis=0)
            self.adam([dw1, db1, dw2, db2])
        return total_loss / n, correct / n

    def adam(self, grads):
        self.t += 1
        alpha = self.lr * math.sqrt(1 - self.beta_2 ** self.t) / (1 - self.beta_1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m += (1 - self.beta_1) * (g - m)
            v += (1 - self.beta_2) * (g * g - v)
            p -= alpha * m / (np.sqrt(v) + self.epsilon)


def nnlib_model(dtype, seed=0):
    from nnlib import layers, models
    model = models.Sequential([layers.Dense(64, activation="relu", input_shape=(64,), seed=seed, dtype=dtype),
                               layers.Dense(10, activation="softmax", seed=seed + 1, dtype=dtype)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def torch_epoch_fn(x, y, batch_size, dtype):
    try:
        import torch
    except ImportError:
        return None
    import os
    torch.set_num_threads(os.cpu_count() or 1)
    torch_dtype = torch.float32 if dtype == np.float32 else torch.float64
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)).to(torch_dtype)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    gen = torch.Generator().manual_seed(0)

    def epoch():
        order = torch.randperm(len(xt), generator=gen)
        total, correct = 0.0, 0
        for start in range(0, len(xt), batch_size):
            index = order[start:start + batch_size]
            xb, yb = xt[index], yt[index]
            opt.zero_grad()
            logits = net(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(index)
            correct += int((logits.argmax(1) == yb).sum())
        return total / len(xt), correct / len(xt)
    return epoch


def median_ms(contestants, repeats):
    """Median wall time in ms of each function, running them in turn (so a busy machine slows all alike)."""
    for fn in contestants.values():
        fn()  # warm-up
    times = {label: [] for label in contestants}
    for _ in range(repeats):
        for label, fn in contestants.items():
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    return {label: 1000 * statistics.median(t) for label, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    args = parser.parse_args()
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    for dtype in dtypes:
        x, y = load_data(dtype)
        model = nnlib_model(dtype)
        hand = NumpyMLP(dtype)
        rng = np.random.default_rng(0)
        seeds = iter(range(10**9))
        contestants = {
            "nnlib fit": lambda: model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0, seed=next(seeds)),
            "numpy loop": lambda: hand.epoch(x, y, args.batch_size, rng),
        }
        results = median_ms(contestants, args.repeats)
        # PyTorch runs on its own afterwards: its idle worker threads keep spinning for a while after
        # each call and would slow down whatever ran next.
        torch_epoch = torch_epoch_fn(x, y, args.batch_size, dtype)
        results["torch"] = median_ms({"torch": torch_epoch}, args.repeats)["torch"] if torch_epoch else None
        print(f"\nOne epoch, 8x8 digits ({len(x)} samples), 64-64-10, batch {args.batch_size}, Adam, "
              f"{np.dtype(dtype).name}, median of {args.repeats}")
        for label, ms in results.items():
            print(f"  {label:<11} {'torch not installed' if ms is None else f'{ms:8.2f} ms'}")
        base = results["numpy loop"]
        print(f"  ratio nnlib/numpy: {results['nnlib fit'] / base:.3f}")
        if results["torch"] is not None:
            print(f"  ratio nnlib/torch: {results['nnlib fit'] / results['torch']:.3f}")


if __name__ == "__main__":
    main()
