"""The sandbox as a grader without root runs it: Landlock, and RLIMIT_NPROC under the grader's own uid.

Run as root (as in CI), tests/test_sandbox.py exercises the namespace isolation first. This test
runs that whole file again in a child process under the unprivileged uid 65534 ("nobody"), where
"auto" isolation must fall back to Landlock. The child needs a Python 3 of the same minor version
that this uid may execute (the project's one usually lives under /root): the venv's packages are
put on its path. When there is none, the test says so in the skip reason.
"""
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534
VERSION = f"python{sys.version_info.major}.{sys.version_info.minor}"


def as_nobody(command, home, timeout):
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join([*site.getsitepackages(), str(REPO)]),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(command, cwd=home, env=env, user=NOBODY, group=NOBODY, extra_groups=[],
                          capture_output=True, text=True, timeout=timeout)


def interpreter_for_nobody(home):
    """A Python of this minor version that uid 65534 can run with the project importable, or the reasons not."""
    reasons = []
    for python in dict.fromkeys([os.path.realpath(sys.executable), f"/usr/bin/{VERSION}", f"/usr/local/bin/{VERSION}"]):
        if not os.path.exists(python):
            reasons.append(f"{python}: not installed")
            continue
        try:
            probe = as_nobody([python, "-c", "import numpy, pytest, nnlib, autograder.sandbox"], home, 60)
        except OSError as err:            # e.g. it lives under /root, which uid 65534 cannot enter
            reasons.append(f"{python}: {err.strerror}")
            continue
        if probe.returncode == 0:
            return python, reasons
        reasons.append(f"{python}: {(probe.stderr.strip().splitlines() or ['exit ' + str(probe.returncode)])[-1]}")
    return None, reasons


@pytest.mark.skipif(os.geteuid() != 0, reason="not root: tests/test_sandbox.py itself runs unprivileged here")
def test_sandbox_tests_pass_for_an_unprivileged_grader():
    home = Path(tempfile.mkdtemp(prefix="nn-nobody-", dir="/tmp"))
    try:
        os.chown(home, NOBODY, NOBODY)
        python, reasons = interpreter_for_nobody(home)
        if python is None:
            pytest.skip("no Python that uid 65534 can run with this project: " + "; ".join(reasons))
        run = as_nobody([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(home),
                         str(REPO / "tests" / "test_sandbox.py")], home, 600)
        report = run.stdout[-4000:] + run.stderr[-2000:]
        assert run.returncode == 0, report
        passed = re.search(r"(\d+) passed", run.stdout)
        assert passed and int(passed.group(1)) >= 10 and "skipped" not in run.stdout, report
    finally:
        shutil.rmtree(home, ignore_errors=True)
