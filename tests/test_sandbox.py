"""The sandbox that runs submitted code: correct results, contained attacks, no access to the course.

Run as root (as in CI's container) these tests exercise the "namespace" isolation (private mounts,
chroot, a fresh unprivileged uid, no network) and also the "landlock" one; run as an ordinary user
they exercise "landlock" (Linux 5.13+), which needs no privileges. The isolation the machine offers
is asserted, not skipped: a grader machine without either must fail here.
"""
import os
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from autograder import harness, sandbox
from autograder.sandbox import Call, Limits, run_submission

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(wall_seconds=10.0, cell_seconds=3.0, call_seconds=3.0)
IS_ROOT = os.geteuid() == 0
MODES = ["namespace", "landlock"] if IS_ROOT else ["landlock"]

DOUBLE = "def double(x):\n    return 2 * x\n"


def run(cells, calls=(), mode="auto", **limits):
    return run_submission(cells, list(calls), Limits(isolation=mode, **{**FAST, **limits}))


def test_the_strongest_isolation_available_is_used():
    expected = "namespace" if IS_ROOT else "landlock"
    assert sandbox.resolve_isolation("auto") == expected
    result = run([DOUBLE], [Call("double", 0, (np.ones(2),), {})])
    assert result.isolation == expected
    if IS_ROOT:
        assert result.uid is not None and result.uid != 0


def test_correct_solution_returns_exact_values_and_types():
    cells = [DOUBLE, "def pair(x, *, k=1):\n    return x, k * x.astype(np.float32), float(x.sum()), None\n"]
    x = np.array([[1.5, -2.0], [0.25, 3.0]])
    calls = [Call("double", 0, (x,), {}), Call("double", 1, (2.5,), {}), Call("double", 2, (np.float32(1.5),), {}),
             Call("pair", 0, (x,), {"k": 3}), Call("double", 3, ([1, 2],), {})]
    result = run(cells, calls)
    assert result.status == "ok" and result.returncode == 0
    assert all(c.error_type == "" for c in result.cells)
    values = [c.value for c in result.calls]
    np.testing.assert_array_equal(values[0], 2 * x)
    assert values[1] == 5.0 and type(values[1]) is float
    assert values[2] == np.float32(3.0) and values[2].dtype == np.float32
    got, scaled, total, nothing = values[3]
    np.testing.assert_array_equal(got, x)
    assert scaled.dtype == np.float32 and total == x.sum() and nothing is None
    assert values[4] == [1, 2, 1, 2]


def test_errors_are_recorded_per_cell_and_per_call_with_the_students_lines_only():
    cells = ["x = 1\ny = x / 0\n", DOUBLE, "def boom(v):\n    return v['missing']\n", "z = 5\n"]
    calls = [Call("double", 0, (1.0,), {}), Call("boom", 0, ({},), {}, "boom"), Call("nothing", 0, (), {}),
             Call("z", 0, (), {}, "z")]
    result = run(cells, calls)
    cell = result.cells[0]
    assert cell.error_type == "ZeroDivisionError" and cell.traceback == ((0, 2, "<module>", "y = x / 0"),)
    assert result.calls[0].value == 2.0
    assert result.calls[1].status == "error" and result.calls[1].error_type == "KeyError"
    assert result.calls[2].status == "undefined" and result.calls[3].status == "not_callable"


def test_a_slow_call_times_out_and_the_others_still_run():
    cells = [DOUBLE, "def slow(x):\n    while True:\n        pass\n"]
    start = time.monotonic()
    result = run(cells, [Call("slow", 0, (1,), {}, "slow"), Call("double", 0, (1.0,), {})], call_seconds=0.5)
    assert time.monotonic() - start < 5
    assert result.status == "ok"
    assert result.calls[0].status == "timeout" and result.calls[1].value == 2.0


def test_an_unstoppable_loop_hits_the_wall_clock_and_the_process_group_is_killed():
    code = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n"
    start = time.monotonic()
    result = run([code, DOUBLE], [Call("double", 0, (1.0,), {})], wall_seconds=1.5)
    assert time.monotonic() - start < 4
    assert result.status == "timeout" and result.calls[0].status == "missing"


def test_a_memory_bomb_meets_the_memory_limit():
    result = run(["big = [bytearray(10**8) for _ in range(30)]\n", DOUBLE], [Call("double", 0, (1.0,), {})],
                 memory_bytes=1 << 30)
    assert result.cells[0].error_type == "MemoryError"
    assert result.calls[0].value == 2.0


def test_a_fork_bomb_is_contained():
    # RLIMIT_NPROC holds for the sandbox's uid: a fresh uid as root ("namespace"), the grader's own
    # uid otherwise ("landlock"; root ignores RLIMIT_NPROC, so root never falls back to it in tests)
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    start = time.monotonic()
    result = run([code, DOUBLE], [Call("double", 0, (1.0,), {})], cell_seconds=1.0, wall_seconds=4.0, nproc=8)
    assert time.monotonic() - start < 6
    assert result.cells[0].error_type == "__timeout__" or result.status in ("timeout", "cpu_limit")
    if IS_ROOT:  # every process of the fresh uid is gone
        assert result.isolation == "namespace" and sandbox._pids_of(result.uid) == []


def test_sys_exit_is_caught_and_os_exit_ends_the_run_early():
    result = run(["import sys\nsys.exit(3)\n", DOUBLE], [Call("double", 0, (1.0,), {})])
    assert result.cells[0].error_type == "SystemExit" and result.calls[0].value == 2.0
    result = run([DOUBLE, "def quit_(x):\n    import os\n    os._exit(0)\n"],
                 [Call("quit_", 0, (1,), {}, "quit_"), Call("double", 0, (1.0,), {})])
    assert result.status == "exit" and [c.status for c in result.calls] == ["missing", "missing"]


def test_huge_output_is_capped():
    code = "print('x' * 10**7)\nimport os, sys\nos.write(2, b'y' * 10**7)\n"
    result = run([code, DOUBLE], [Call("double", 0, (1.0,), {})], output_bytes=4096)
    assert len(result.stdout) == 4096 and result.stdout_truncated
    assert len(result.stderr) == 4096 and result.stderr_truncated
    assert result.calls[0].value == 2.0


@pytest.mark.parametrize("mode", MODES)
def test_the_course_files_cannot_be_read_and_nothing_outside_can_be_written(mode, tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("all the grades")
    secret.chmod(0o644)
    other = tmp_path / "other_student"
    other.mkdir()
    other.chmod(0o777)
    targets = [str(ROOT / "autograder" / "exercise.py"), str(ROOT / "nnlib" / "__init__.py"), str(secret)]
    for extra in ("course/source", "solutions"):
        folder = ROOT / extra
        if folder.is_dir():
            targets += [str(p) for p in sorted(folder.rglob("*.ipynb"))[:2]]
    assert all(os.access(t, os.R_OK) for t in targets)  # the grader itself can read them
    code = (
        "found = {}\n"
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        found[path] = open(path).read()[:20]\n"
        "    except OSError as exc:\n"
        "        found[path] = type(exc).__name__\n"
        "def leaked():\n"
        "    return [found[p] for p in sorted(found)]\n"
        "def write(path):\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('pwned')\n"
        "        return 'written'\n"
        "    except OSError as exc:\n"
        "        return type(exc).__name__\n"
        "def listdir(path):\n"
        "    try:\n"
        "        return ','.join(sorted(os.listdir(path)))\n"
        "    except OSError as exc:\n"
        "        return type(exc).__name__\n"
        "import os\n"
    )
    calls = [Call("leaked", 0, (), {}, "leaked"),
             Call("write", 0, (str(other / "answers.py"),), {}, "write"),
             Call("write", 1, (str(ROOT / "pwned.txt"),), {}, "write"),
             Call("write", 2, ("scratch.txt",), {}, "write"),
             Call("listdir", 0, (str(ROOT),), {}, "listdir")]
    result = run([code], calls, mode=mode)
    assert result.isolation == mode
    for outcome in result.calls[0].value:
        assert outcome in ("FileNotFoundError", "PermissionError")
    assert result.calls[1].value in ("FileNotFoundError", "PermissionError")
    assert result.calls[2].value in ("FileNotFoundError", "PermissionError", "OSError")
    assert result.calls[3].value == "written"  # its own working directory is writable
    listing = result.calls[4].value  # at most the mount point of NumPy's folder, never the course
    assert listing in ("FileNotFoundError", "PermissionError") or set(listing.split(",")) <= {".venv"}
    assert list(other.iterdir()) == [] and not (ROOT / "pwned.txt").exists()


@pytest.mark.parametrize("mode", MODES)
def test_no_network(mode):
    code = ("import socket\ndef connect():\n    try:\n        socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
            "        return 'connected'\n    except OSError as exc:\n        return type(exc).__name__\n")
    result = run([code], [Call("connect", 0, (), {}, "connect")], mode=mode)
    assert result.calls[0].value != "connected"


def test_nnlib_cannot_be_used_and_every_attempt_is_recorded():
    cells = ["import nnlib\n",
             "def via_import(x):\n    from nnlib.activations import sigmoid\n    return sigmoid(x)\n",
             "def via_importlib(x):\n    import importlib\n    return importlib.import_module('nnlib.activations')\n",
             "def reference(x):\n    from autograder.exercises import EXERCISES\n    return x\n",
             # removing the stubs does not help: nnlib is not on sys.path and its files are out of reach
             "def dig(x):\n    import sys\n    sys.modules.pop('nnlib', None)\n    sys.modules.pop('autograder', None)\n"
             "    sys.meta_path.pop(0)\n    import nnlib.activations\n    return nnlib.activations.sigmoid(x)\n",
             DOUBLE]
    names = ["via_import", "via_importlib", "reference", "dig", "double"]
    result = run(cells, [Call(n, 0, (1.0,), {}, n) for n in names])
    assert result.cells[0].used_nnlib and not result.cells[1].used_nnlib
    for call in result.calls[:4]:
        assert call.status == "error" and call.error_type in ("ImportError", "ModuleNotFoundError", "PermissionError")
    assert [c.used_nnlib for c in result.calls] == [True, True, True, False, False]
    assert result.calls[4].value == 2.0 and result.nnlib_used


def test_results_are_plain_data_never_unpickled():
    class Evil:
        def __reduce__(self):
            return (os.system, ("true",))

    arrays = {}
    with pytest.raises(harness.Unsupported):
        harness.encode(np.array([Evil()], dtype=object), arrays, 1 << 20)
    with pytest.raises(harness.Unsupported):
        harness.encode((x for x in range(3)), arrays, 1 << 20)
    import io
    import base64
    import pickle

    buf = io.BytesIO()
    np.save(buf, np.array([Evil()], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        harness.array_from_text(base64.b64encode(buf.getvalue()).decode(), 1 << 20)
    with pytest.raises(ValueError):
        harness.decode({"t": "ndarray", "a": "missing"}, {})
    with pytest.raises(ValueError):
        harness.decode({"t": "pickle", "v": base64.b64encode(pickle.dumps(1)).decode()}, {})
    spec = harness.encode({"a": (1, 2.5, np.float32(0.5), "s", [None, True])}, arrays, 1 << 20)
    assert harness.decode(spec, arrays) == {"a": (1, 2.5, np.float32(0.5), "s", [None, True])}


def test_unsupported_return_values_and_forged_result_lines_are_handled():
    # The result pipe keeps the grader's fd number, which depends on how many files the test
    # process has open (pytest-xdist opens many), so the forger tries every possible fd.
    cells = [DOUBLE, "def gen(x):\n    return (i for i in range(3))\n",
             "import os\nfor fd in range(3, 65536):\n    try:\n        os.write(fd, b'garbage\\n{\"event\": \"call\", \"id\": 99}\\n')\n"
             "    except OSError:\n        pass\n"]
    result = run(cells, [Call("double", 0, (1.0,), {}), Call("gen", 0, (1,), {}, "gen")])
    assert result.calls[0].value == 2.0
    assert result.calls[1].status == "unsupported"
    assert result.protocol_errors  # the garbage was noticed, not trusted


def test_scratch_directories_are_removed(tmp_path):
    run_submission([DOUBLE], [Call("double", 0, (1.0,), {})], Limits(**FAST), workdir=tmp_path)
    assert list(tmp_path.iterdir()) == []
    mode = stat.S_IMODE(os.stat(tmp_path).st_mode)
    assert mode & 0o700 == 0o700
