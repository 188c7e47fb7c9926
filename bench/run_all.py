"""Run every benchmark in bench/ in turn (``make bench``). Each prints ratios measured in its own run."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("bench_import.py", "bench_conv.py", "bench_fit.py", "bench_grading.py"):
    print(f"\n=== {script} ===", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)
