"""Time of ``import nnlib`` in a fresh interpreter, against ``import numpy`` measured in the same run.

Target: ``import nnlib`` under 0.3 s. nnlib imports NumPy, so the difference is nnlib's own cost.
Run: ``python bench/bench_import.py``.
"""
import statistics
import subprocess
import sys
import time

REPEATS = 7


def import_seconds(statement):
    """Median wall time of a fresh interpreter running ``statement``."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    empty = import_seconds("pass")
    numpy = import_seconds("import numpy")
    nnlib = import_seconds("import nnlib")
    core = import_seconds("import nnlib.models, nnlib.layers, nnlib.optimizers, nnlib.losses")
    # a difference below zero is the noise of the timer: nothing measurable, shown as 0
    numpy, nnlib, core = (max(t, empty) for t in (numpy, nnlib, core))
    print("import time (median of %d fresh interpreters, interpreter start-up subtracted)" % REPEATS)
    print(f"  import numpy                        {numpy - empty:6.3f} s")
    print(f"  import nnlib                        {nnlib - empty:6.3f} s  ({(nnlib - empty) / (numpy - empty):.2f}x numpy)  target < 0.3 s")
    print(f"  import nnlib.models/layers/...      {core - empty:6.3f} s  ({(core - empty) / (numpy - empty):.2f}x numpy)")


if __name__ == "__main__":
    main()
