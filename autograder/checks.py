r"""Instant feedback in the student's notebook: ``check("sigmoid", sigmoid)``.

A lesson's test cell runs::

    from autograder.checks import check
    check("sigmoid", sigmoid)                 # the visible cases: fixed inputs, values shown
    ### BEGIN HIDDEN TESTS
    check("sigmoid", sigmoid, hidden=True)    # randomized cases; expected values never shown
    ### END HIDDEN TESTS

``check`` calls the student's function and the exercise's nnlib reference on the same inputs,
prints a short summary in the notebook's language to stdout (``✓ sigmoid: 3/3 visible cases
pass``, or for each failing case: the input, what went wrong, expected and returned values, the
hint) and raises ``AssertionError`` with the same text when a case fails, so an untouched stub
fails ``nbgrader validate``. It returns ``None`` (a value would become the cell's result, which
nbgrader reads as partial credit).

This is feedback only: the grade is computed again by :mod:`autograder.verdict`, which runs the
submitted code in a sandbox and never trusts the student's kernel.

Which language? The code cells are identical in the four notebooks and the kernel cannot see the
notebook's metadata, so :func:`detect_language` looks, in this order, at

1. ``JPY_SESSION_NAME``: JupyterLab puts the notebook's path in the kernel's environment; its
   ``metadata["course"]["lang"]`` is read (absolute path, or relative to the working directory);
2. the working directory's name when it is ``uk``, ``ru``, ``pl`` or ``en`` (the notebooks live in
   ``lessons/<lang>/`` and ``solutions/<lang>/``, and nbval/nbclient start kernels in the
   notebook's folder);
3. the ``COURSE_LANG`` environment variable;
4. English.

Hidden mode draws its cases from the seed in ``AUTOGRADER_SEED`` (0 when unset), the same way as
the grader (:func:`autograder.compare.hidden_cases`). Warnings raised while checking never reach
stderr (nbgrader gives no credit to a cell that writes to stderr): a RuntimeWarning of the student's
function (overflow, invalid value, division by zero) becomes the case's failing reason instead.
"""
import json
import os
import types
import warnings
from pathlib import Path

import numpy as np

from autograder.compare import (CallResult, Failure, copy_case, failures_report, find_exercise, hidden_cases,
                                judge)
from autograder.messages import LANGUAGES, N_, normalize_language, translate

FORBIDDEN_MODULES = ("nnlib", "autograder")


def _notebook_language(path):
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f).get("metadata", {})
        lang = meta.get("course", {}).get("lang")
    except (OSError, ValueError, AttributeError):
        return None
    return lang if lang in LANGUAGES else None


def detect_language(environ=None, cwd=None):
    """The notebook's language: JPY_SESSION_NAME's metadata, the folder name, COURSE_LANG, else "en"."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else Path(cwd)
    session = environ.get("JPY_SESSION_NAME")
    if session:
        path = Path(session)
        for candidate in ([path] if path.is_absolute() else [cwd / path, cwd / path.name]):
            if candidate.is_file():
                lang = _notebook_language(candidate)
                if lang:
                    return lang
    if cwd.name in LANGUAGES:
        return cwd.name
    if environ.get("COURSE_LANG"):
        return normalize_language(environ["COURSE_LANG"])
    return "en"


def hidden_seed(environ=None):
    """The hidden cases' seed in the kernel: ``AUTOGRADER_SEED`` or 0."""
    environ = os.environ if environ is None else environ
    try:
        return int(environ.get("AUTOGRADER_SEED", "0"))
    except ValueError:
        return 0


def uses_reference(func):
    """True when ``func`` is, or reads a global or closure variable that is, part of nnlib or the autograder."""
    def module_of(obj):
        if isinstance(obj, types.ModuleType):
            return obj.__name__
        return getattr(obj, "__module__", None) or ""

    if str(module_of(func)).split(".")[0] in FORBIDDEN_MODULES:
        return True
    code = getattr(func, "__code__", None)
    scope = getattr(func, "__globals__", {})
    stack, names = [code] if code else [], set()
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    used = [scope[n] for n in names if n in scope]
    used += [cell.cell_contents for cell in getattr(func, "__closure__", None) or () if _filled(cell)]
    return any(str(module_of(obj)).split(".")[0] in FORBIDDEN_MODULES for obj in used)


def _filled(cell):
    try:
        cell.cell_contents
    except ValueError:  # an empty closure cell
        return False
    return True


def call_reference(exercise, case):
    """The reference's result for ``case`` (on its own copy of the inputs, warnings silenced)."""
    args, kwargs = copy_case(case)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return exercise.reference(*args, **kwargs)


def call_student(func, case):
    """Call the student's function on a copy of the case: a :class:`CallResult`, never an exception
    (except KeyboardInterrupt, so the student can interrupt a function that hangs)."""
    args, kwargs = copy_case(case)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            value = func(*args, **kwargs)
        except Exception as exc:  # the student's error is the feedback
            return CallResult("error", None, type(exc).__name__, str(exc)[:300])
    found = []
    for w in caught:
        if issubclass(w.category, RuntimeWarning) and str(w.message) not in found:
            found.append(str(w.message))
    return CallResult("ok", value, warnings=tuple(found))


def run_check(name, func, hidden=False, lang="en", seed=0):
    """Run the cases of exercise ``name`` against ``func``; return ``(passed, report_text)``."""
    exercise = find_exercise(name)
    cases = hidden_cases(exercise, seed) if hidden else list(exercise.visible())
    if not callable(func):
        results = [CallResult("not_callable", error_message=name)] * len(cases)
    elif uses_reference(func):
        results = [CallResult("nnlib")] * len(cases)
    else:
        results = [call_student(func, case) for case in cases]
    failures, passed = [], 0
    for number, (case, result) in enumerate(zip(cases, results), start=1):
        expected = call_reference(exercise, case)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            outcome = judge(exercise, case, result, expected, hidden)
        if outcome.passed:
            passed += 1
        else:
            failures.append(Failure(number, case, outcome, hidden, expected,
                                    result.value if result.status == "ok" else None))
    total = len(cases)
    lines = failures_report(failures, lang, exercise.hint)
    summary = (N_("{mark} {name}: {passed}/{total} hidden cases pass") if hidden
               else N_("{mark} {name}: {passed}/{total} visible cases pass"))
    head = translate(summary, lang, mark="✓" if passed == total else "✗", name=name, passed=passed, total=total)
    return passed == total, "\n".join([head] + lines)


class CheckFailed(AssertionError):
    """A failed check. Its message is the whole report; in Jupyter the traceback box shows only the
    summary line, because the report itself was just printed above it."""

    def _render_traceback_(self):  # IPython's hook for how an exception is displayed
        return [f"{type(self).__name__}: {str(self).splitlines()[0]}"]


def check(name, func, hidden=False):
    """Check the student's ``func`` against exercise ``name``; print the report, raise if a case fails."""
    lang = detect_language()
    ok, report = run_check(name, func, hidden=hidden, lang=lang, seed=hidden_seed())
    print(report, flush=True)
    if not ok:
        raise CheckFailed(report)
