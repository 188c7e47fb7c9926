r"""The untrusted side of grading: runs a student's code cells and calls, inside the sandbox.

Started by :func:`autograder.sandbox.run_submission` as::

    python -I -S -B harness.py INPUT_DIR RESULT_FD SITE_DIR...

(``-I``: no environment variables, no user site, no script directory on ``sys.path``; ``-S``: no
``site``, so no ``.pth`` file of the course's virtualenv can make ``nnlib`` importable). The
harness adds only ``SITE_DIR`` (where NumPy lives) to ``sys.path``, imports NumPy, replaces
``nnlib`` and ``autograder`` by stub modules that record any use and raise
``ImportError("graded code may not call the nnlib reference")``, then

1. executes every code cell of ``INPUT_DIR/manifest.json`` in one namespace (``np`` and ``math``
   pre-imported), each under a time limit, recording per cell the exception and a traceback trimmed
   to the student's own lines;
2. for each call of the manifest, looks the function up by name and calls it on the arguments
   from ``INPUT_DIR/args.npz`` under a time limit (``signal.setitimer``), recording the returned
   value, or the exception, and the RuntimeWarnings it raised. A function that hit the time limit
   once is not called again: its remaining calls are reported as timed out.

Results go back as JSON lines on the pipe ``RESULT_FD``, one event per cell and per call, arrays
as base64 ``.npy`` bytes written by ``np.save(allow_pickle=False)``; nothing is ever pickled. The
student's own output goes to stdout/stderr, which the grader reads separately and caps. The
student's code runs in this process and could tamper with anything here, so the grader treats
every byte it reads back as untrusted data: the verdict is computed in the grader's process.

This file uses the standard library (and NumPy) only: the project is not importable here. The
value encoding below is also imported by the grader (:mod:`autograder.sandbox`).
"""
import base64
import builtins
import io
import json
import math
import os
import signal
import sys
import time
import traceback
import types
import warnings

NNLIB_MESSAGE = "graded code may not call the nnlib reference"
FORBIDDEN = ("nnlib", "autograder")
MANIFEST = "manifest.json"
ARGS = "args.npz"
MAX_ITEMS = 1000
MAX_DEPTH = 6
MAX_TEXT = 500


# --- value encoding (shared with the grader) ---------------------------------------------------------

class Unsupported(Exception):
    """A value that cannot cross the sandbox boundary (e.g. an object array or a generator)."""


def encode(value, arrays, max_bytes, _depth=0):
    r"""JSON-able description of ``value``; its arrays go into ``arrays`` (name -> ndarray).

    Numbers keep their exact bits: floats as ``float.hex``, NumPy scalars and arrays as arrays
    (dtype kept). Containers: list, tuple, dict with string keys. Raises :class:`Unsupported`.
    """
    import numpy as np

    if _depth > MAX_DEPTH:
        raise Unsupported("nested too deeply")
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        if abs(value) >= 2**63:
            raise Unsupported("int too large")
        return {"t": "int", "v": int(value)}
    if isinstance(value, float):
        return {"t": "float", "v": float.hex(float(value))}
    if isinstance(value, str):
        return {"t": "str", "v": value[:MAX_TEXT]}
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufc" or arr.dtype.hasobject:
            raise Unsupported(f"array of dtype {arr.dtype}")
        used = sum(a.nbytes for a in arrays.values())
        if used + arr.nbytes > max_bytes:
            raise Unsupported(f"array of {arr.nbytes} bytes (too large)")
        name = f"a{len(arrays)}"
        arrays[name] = np.ascontiguousarray(arr)
        return {"t": "ndarray" if isinstance(value, np.ndarray) else "npscalar", "a": name}
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise Unsupported(f"{type(value).__name__} of {len(value)} items (too long)")
        return {"t": "list" if isinstance(value, list) else "tuple",
                "items": [encode(v, arrays, max_bytes, _depth + 1) for v in value]}
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS or not all(isinstance(k, str) for k in value):
            raise Unsupported("dict (only small dicts with str keys)")
        return {"t": "dict", "items": [[k[:MAX_TEXT], encode(v, arrays, max_bytes, _depth + 1)] for k, v in value.items()]}
    raise Unsupported(type(value).__name__)


def decode(spec, arrays, _depth=0):
    """Inverse of :func:`encode`; validates the description (raises ValueError when malformed)."""
    import numpy as np

    if not isinstance(spec, dict) or _depth > MAX_DEPTH + 1:
        raise ValueError("malformed value")
    kind = spec.get("t")
    if kind == "none":
        return None
    if kind == "bool" and isinstance(spec.get("v"), bool):
        return spec["v"]
    if kind == "int" and type(spec.get("v")) is int and abs(spec["v"]) < 2**63:
        return spec["v"]
    if kind == "float" and isinstance(spec.get("v"), str) and len(spec["v"]) < 40:
        return float.fromhex(spec["v"])
    if kind == "str" and isinstance(spec.get("v"), str):
        return spec["v"][:MAX_TEXT]
    if kind in ("ndarray", "npscalar"):
        arr = arrays.get(spec.get("a")) if isinstance(spec.get("a"), str) else None
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc" or arr.dtype.hasobject:
            raise ValueError("malformed array")
        return arr.copy() if kind == "ndarray" else arr.reshape(())[()]
    items = spec.get("items")
    if kind in ("list", "tuple") and isinstance(items, list) and len(items) <= MAX_ITEMS:
        values = [decode(v, arrays, _depth + 1) for v in items]
        return values if kind == "list" else tuple(values)
    if kind == "dict" and isinstance(items, list) and len(items) <= MAX_ITEMS:
        if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in items):
            raise ValueError("malformed dict")
        return {k: decode(v, arrays, _depth + 1) for k, v in items}
    raise ValueError(f"malformed value of kind {kind!r}")


def array_to_text(arr):
    """``.npy`` bytes of ``arr`` (``allow_pickle=False``), base64."""
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def array_from_text(text, max_bytes):
    """Inverse of :func:`array_to_text`, never unpickling and refusing more than ``max_bytes``."""
    import numpy as np

    if not isinstance(text, str) or len(text) > 4 * max_bytes // 3 + 1024:
        raise ValueError("array too large")
    return np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)


# --- the harness proper ---------------------------------------------------------------------------------

class _Timeout(BaseException):
    """Raised by the timer inside the student's code (BaseException: ``except Exception`` won't catch it)."""


def _on_alarm(signum, frame):
    raise _Timeout()


def _limited(seconds, func):
    """Run ``func()`` with a wall-clock limit; returns (value, exception or None)."""
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        return func(), None
    except BaseException as exc:  # everything the student's code raises, including SystemExit
        return None, exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _text(obj):
    value, exc = _limited(1.0, lambda: str(obj))
    return (value if exc is None and isinstance(value, str) else "?")[:MAX_TEXT]


def _describe_error(exc, sources):
    """``{"type", "message", "traceback"}`` with only the student's frames (cell, line, code)."""
    if isinstance(exc, _Timeout):
        return {"type": "__timeout__", "message": "", "traceback": []}
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<cell "):
            cell = int(frame.filename[6:-1])
            lines = sources[cell].splitlines()
            code = lines[frame.lineno - 1].strip() if frame.lineno and 0 < frame.lineno <= len(lines) else ""
            frames.append([cell, frame.lineno or 0, frame.name[:100], code[:200]])
    return {"type": type(exc).__name__[:100], "message": _text(exc), "traceback": frames[-5:]}


class _Blocker:
    """A meta-path finder that refuses ``nnlib`` and ``autograder`` (and records the attempt)."""

    def __init__(self, uses):
        self.uses = uses

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            self.uses.append(name)
            raise ImportError(NNLIB_MESSAGE, name=name)
        return None


def _stub(name, uses):
    """A module that records every use and refuses it: ``import nnlib`` is recorded (the import
    system reads ``__spec__``), ``nnlib.anything`` and ``from nnlib import x`` raise ImportError."""
    module = types.ModuleType(name)
    for attr in ("__spec__", "__loader__", "__package__", "__path__"):
        module.__dict__.pop(attr, None)

    def __getattr__(attr):
        if attr.startswith("__") and attr not in ("__spec__", "__path__"):
            raise AttributeError(attr)
        uses.append(f"{name}.{attr}")
        raise ImportError(NNLIB_MESSAGE, name=name)

    module.__getattr__ = __getattr__
    return module


def block_reference(uses):
    """Make ``nnlib`` and ``autograder`` unusable in this process; every attempt is appended to ``uses``."""
    for name in list(sys.modules):
        if name.split(".")[0] in FORBIDDEN:
            del sys.modules[name]
    for name in FORBIDDEN:
        sys.modules[name] = _stub(name, uses)
    sys.meta_path.insert(0, _Blocker(uses))


def _call(func, args, kwargs):
    import numpy as np

    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    found = []
    for w in caught:
        if issubclass(w.category, RuntimeWarning) and str(w.message) not in found:
            found.append(str(w.message)[:200])
    return value, found[:5]


def main(argv):
    input_dir, result_fd, site_dirs = argv[1], int(argv[2]), argv[3:]
    sys.path.extend(site_dirs)
    import numpy as np

    with open(os.path.join(input_dir, MANIFEST), encoding="utf-8") as f:
        manifest = json.load(f)
    with np.load(os.path.join(input_dir, ARGS), allow_pickle=False) as npz:
        inputs = {name: npz[name] for name in npz.files}
    cells, calls = manifest["cells"], manifest["calls"]
    cell_seconds, call_seconds = float(manifest["cell_seconds"]), float(manifest["call_seconds"])
    max_bytes = int(manifest["result_bytes"])
    out = os.fdopen(result_fd, "w", encoding="utf-8", buffering=1)
    dumps = json.dumps

    def emit(event):
        try:
            out.write(dumps(event, allow_nan=False) + "\n")
        except Exception:  # a value that refuses to serialise must not stop the other results
            out.write(dumps({"event": event.get("event"), "id": event.get("id"), "error":
                             {"type": "__unsupported__", "message": "result", "traceback": []}}) + "\n")

    uses = []
    block_reference(uses)
    signal.signal(signal.SIGALRM, _on_alarm)
    namespace = {"__name__": "__main__", "__builtins__": builtins, "np": np, "math": math}
    emit({"event": "start"})
    timed_out = set()
    for index, source in enumerate(cells):
        before = len(uses)

        def run_cell(source=source, index=index):
            exec(compile(source, f"<cell {index}>", "exec"), namespace)

        _, exc = _limited(cell_seconds, run_cell)
        emit({"event": "cell", "index": index, "nnlib": len(uses) > before,
              "error": None if exc is None else _describe_error(exc, cells)})
    for call in calls:
        event = {"event": "call", "id": call["id"], "value": None, "arrays": {}, "error": None,
                 "warnings": [], "nnlib": False}
        func = namespace.get(call["function"])
        if call["function"] in timed_out:  # it hung once: don't wait for it again
            event["error"] = {"type": "__timeout__", "message": "", "traceback": []}
        elif func is None:
            event["error"] = {"type": "__undefined__", "message": call["function"], "traceback": []}
        elif not callable(func):
            event["error"] = {"type": "__not_callable__", "message": call["function"], "traceback": []}
        else:
            try:
                args = decode(call["args"], inputs)
                kwargs = decode(call["kwargs"], inputs)
            except ValueError as exc:
                raise SystemExit(f"harness: bad input for call {call['id']}: {exc}")
            before = len(uses)
            start = time.perf_counter()
            result, exc = _limited(call_seconds, lambda: _call(func, args, kwargs))
            event["seconds"] = round(time.perf_counter() - start, 6)
            event["nnlib"] = len(uses) > before
            if exc is not None:
                event["error"] = _describe_error(exc, cells)
                if isinstance(exc, _Timeout):
                    timed_out.add(call["function"])
            else:
                value, event["warnings"] = result
                arrays = {}
                try:
                    event["value"] = encode(value, arrays, max_bytes)
                    event["arrays"] = {name: array_to_text(a) for name, a in arrays.items()}
                except Unsupported as why:
                    event["error"] = {"type": "__unsupported__", "message": str(why)[:200], "traceback": []}
        emit(event)
    emit({"event": "done"})
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
