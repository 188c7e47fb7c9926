r"""Compare what a student's function returned with the reference: one verdict per case, no I/O.

Used in two places with the same rules: :func:`autograder.checks.check` in the student's kernel
(instant feedback) and :mod:`autograder.verdict` in the grader's process (the real grade).

:func:`compare_case` checks, in this order, stopping at the first problem:

1. the type: an array where the reference returns a ``numpy.ndarray``, a number where it returns a
   number, a tuple of the same length where it returns a tuple (compared item by item);
2. the shape: ``expected shape (3, 4), got (4, 3)``;
3. the dtype, when ``exercise.check_dtype`` (float32 in must stay float32 out);
4. NaN or inf where the reference is finite (reported with the first such index);
5. the values, with ``np.isclose(got, expected, rtol, atol)``; the report names the worst element
   (largest excess over the tolerance :math:`|g - e| - (\text{atol} + \text{rtol}\,|e|)`) and what
   came back there. The expected value is shown for VISIBLE cases only, never for hidden ones;
6. for a derivative exercise (``exercise.gradient_of = "sigmoid"``): agreement with the grader's own
   central-difference derivative of the forward function (:mod:`nnlib.gradcheck`), see
   :func:`gradient_mismatch`.

:func:`judge` wraps it for a call that may have failed (exception, time limit, numerical warning).
An :class:`Outcome` carries an English msgid and its string ``details``; :func:`failure_lines`
renders it in the student's language.
"""
import copy
import hashlib
import inspect
from typing import NamedTuple

import numpy as np

from autograder.messages import N_, translate

# Arguments that carry the upstream gradient of a backward exercise, ``f(x, dy)``.
UPSTREAM_NAMES = ("dy", "upstream", "grad_output", "dout")
# Tolerances of the numerical derivative check: central differences are accurate to ~1e-9
# relative in float64, but their round-off grows with the size of the summed output.
GRADIENT_STEP = 1e-6
GRADIENT_RTOL = 1e-4
GRADIENT_ATOL = 1e-6
GRADIENT_MAX_SIZE = 4096
MAX_FAILURES_SHOWN = 3


class Outcome(NamedTuple):
    """The verdict on one case: ``passed``, and if not, why (an English msgid and its fields)."""
    passed: bool
    reason_msgid: str
    details: dict


class CallResult(NamedTuple):
    r"""What came back from one call of a student's function.

    ``status`` is ``"ok"`` (returned ``value``), ``"error"`` (raised ``error_type``: ``error_message``),
    ``"timeout"`` (the per-call time limit), ``"missing"`` (the sandbox ended before this call),
    ``"undefined"`` (no such function), ``"not_callable"``, ``"unsupported"`` (a value the sandbox
    cannot send back, e.g. a generator) or ``"nnlib"`` (the call used the reference library).
    ``warnings`` holds the messages of the RuntimeWarnings (overflow, invalid value, ...) it raised.
    """
    status: str = "ok"
    value: object = None
    error_type: str = ""
    error_message: str = ""
    warnings: tuple = ()
    used_nnlib: bool = False


PASSED = Outcome(True, "", {})


def fail(msgid, **details):
    """A failed :class:`Outcome` with string details (they fill the msgid's placeholders)."""
    return Outcome(False, msgid, {k: str(v) for k, v in details.items()})


def find_exercise(name):
    """The registered :class:`~autograder.exercise.Exercise` called ``name`` (clear error otherwise)."""
    from autograder.exercises import EXERCISES

    try:
        return EXERCISES[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(str(name), list(EXERCISES), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise KeyError(f"unknown exercise {name!r}.{hint} Known exercises: {', '.join(sorted(EXERCISES))}") from None


def hidden_cases(exercise, seed):
    """The hidden cases of ``exercise`` for ``seed``: the same in the kernel and in the grader.

    The generator is seeded with ``[seed, hash(name)]`` so each exercise gets its own stream.
    """
    key = int(hashlib.sha256(exercise.name.encode()).hexdigest()[:8], 16)
    return list(exercise.hidden(np.random.default_rng([int(seed) % 2**63, key])))


def copy_case(case):
    """Deep copies of a case's ``(args, kwargs)``: nobody's function may change another's input."""
    return copy.deepcopy(case.args), copy.deepcopy(case.kwargs)


# --- describing values ------------------------------------------------------------------------------

def format_value(value):
    """A short, readable rendering of a returned value (arrays abbreviated, 7 significant digits)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            return f"array of dtype {value.dtype}"
        with np.printoptions(precision=6, threshold=12, edgeitems=3, linewidth=100, floatmode="maxprec"):
            return np.array2string(value, separator=", ")
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format(float(value), ".7g")
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_type(value):
    """``numpy.ndarray of shape (3,)``, ``float``, ``list``, ``NoneType``..."""
    if isinstance(value, np.ndarray):
        return f"numpy.ndarray of shape {value.shape}"
    if isinstance(value, np.generic):
        return f"numpy.{type(value).__name__}"
    return type(value).__name__


def _index(idx):
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating, np.bool_)) or (
        isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf")


# --- comparing ---------------------------------------------------------------------------------------

def _compare_arrays(got, expected, exercise, hidden):
    if got.shape != expected.shape:
        return fail(N_("expected shape {expected_shape}, got {got_shape}"),
                    expected_shape=expected.shape, got_shape=got.shape)
    if exercise.check_dtype and got.dtype != expected.dtype:
        return fail(N_("expected dtype {expected_dtype}, got {got_dtype}"),
                    expected_dtype=expected.dtype, got_dtype=got.dtype)
    try:
        g = got.astype(np.float64) if got.dtype.kind != "c" else got
        e = expected.astype(np.float64) if expected.dtype.kind != "c" else expected
    except (TypeError, ValueError):
        return fail(N_("the result holds values that are not numbers (dtype {got_dtype})"), got_dtype=got.dtype)
    bad = ~np.isfinite(g) & np.isfinite(e)
    if bad.any():
        idx = tuple(np.argwhere(bad)[0])
        return fail(N_("the result is {got} at index {index}, where a finite number was expected"),
                    got=format_value(g[idx]), index=_index(idx))
    close = np.isclose(g, e, rtol=exercise.rtol, atol=exercise.atol, equal_nan=True)
    if close.all():
        return PASSED
    with np.errstate(all="ignore"):
        excess = np.abs(g - e) - (exercise.atol + exercise.rtol * np.abs(e))
    excess = np.where(close, -np.inf, np.nan_to_num(excess, nan=np.inf, posinf=np.inf))
    idx = np.unravel_index(int(np.argmax(excess)), g.shape)
    count = int((~close).sum())
    if hidden:
        return fail(N_("{count} of {size} values are wrong; e.g. at index {index} the result is {got}"),
                    count=count, size=g.size, index=_index(idx), got=format_value(got[idx]))
    return fail(N_("{count} of {size} values are wrong; e.g. at index {index} the result is {got}, expected {expected}"),
                count=count, size=g.size, index=_index(idx), got=format_value(got[idx]),
                expected=format_value(expected[idx]))


def _compare_scalars(got, expected, exercise, hidden):
    g, e = float(got), float(expected)
    if not np.isfinite(g) and np.isfinite(e):
        return fail(N_("the result is {got}, where a finite number was expected"), got=format_value(got))
    if np.isclose(g, e, rtol=exercise.rtol, atol=exercise.atol, equal_nan=True):
        return PASSED
    if hidden:
        return fail(N_("the result {got} is not the expected value"), got=format_value(got))
    return fail(N_("the result is {got}, expected {expected}"), got=format_value(got), expected=format_value(expected))


def compare_values(got, expected, exercise, hidden=False):
    """Compare one returned value with the reference's (recursing into tuples); an :class:`Outcome`."""
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        if not isinstance(got, np.ndarray):
            return fail(N_("expected a NumPy array (numpy.ndarray), got {got_type}"), got_type=describe_type(got))
        return _compare_arrays(got, expected, exercise, hidden)
    if _is_number(expected):
        if not _is_number(got):
            return fail(N_("expected a number, got {got_type}"), got_type=describe_type(got))
        return _compare_scalars(got, expected, exercise, hidden)
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return fail(N_("expected a tuple of {count} values, got {got_type}"),
                        count=len(expected), got_type=describe_type(got))
        if len(got) != len(expected):
            return fail(N_("expected a tuple of {count} values, got {got_count}"),
                        count=len(expected), got_count=len(got))
        for number, (g, e) in enumerate(zip(got, expected), start=1):
            outcome = compare_values(g, e, exercise, hidden)
            if not outcome.passed:
                return Outcome(False, outcome.reason_msgid, dict(outcome.details, item=str(number)))
        return PASSED
    if got is expected or (type(got) is type(expected) and got == expected):
        return PASSED
    return fail(N_("expected a {expected_type}, got {got_type}"),
                expected_type=describe_type(expected), got_type=describe_type(got))


def _forward_function(name):
    """The forward function a derivative is checked against: an exercise's reference, else nnlib's."""
    from autograder.exercises import EXERCISES

    if name in EXERCISES:
        return EXERCISES[name].reference
    from nnlib import activations

    return activations.get(name)


def gradient_mismatch(exercise, case, got):
    r"""Check a derivative against central differences of its forward function; ``None`` when fine.

    The derivative is taken with respect to the FIRST argument ``x``. An element-wise derivative
    ``f_grad(x, *params)`` must equal :math:`\partial/\partial x_i \sum_j f(x, \dots)_j`; a backward
    ``f_backward(x, dy, *params)`` (the reference names its upstream argument ``dy``) must equal the
    vector-Jacobian product, :func:`nnlib.gradcheck.numerical_jvp` with upstream ``dy``.
    Elements where the forward function has a kink (its left and right difference quotients differ,
    e.g. ReLU at 0) are skipped: there the derivative is a convention, checked against the reference.
    Returns ``(index, got, numerical)`` of the worst disagreement, or ``None``.
    """
    from nnlib.gradcheck import numerical_jvp

    forward = _forward_function(exercise.gradient_of)
    args, kwargs = copy_case(case)
    args = list(args)
    upstream = None
    try:
        names = list(inspect.signature(exercise.reference).parameters)
    except (TypeError, ValueError):
        names = []
    for pos, pname in enumerate(names):
        if pname in UPSTREAM_NAMES:
            if pname in kwargs:
                upstream = kwargs.pop(pname)
            elif pos < len(args):
                upstream = args.pop(pos)
            break
    x = np.array(args[0], dtype=np.float64)
    rest = args[1:]
    got = np.asarray(got)
    if got.shape != x.shape or x.size == 0 or x.size > GRADIENT_MAX_SIZE:
        return None

    def f(z):
        return np.asarray(forward(z, *rest, **kwargs), dtype=np.float64)

    with np.errstate(all="ignore"):
        y = f(x.copy())
        upstream = np.ones_like(y) if upstream is None else np.asarray(upstream, dtype=np.float64)
        h = GRADIENT_STEP
        central = numerical_jvp(f, x.copy(), upstream, h)
        right = numerical_jvp(f, x + h / 2, upstream, h / 2)
        left = numerical_jvp(f, x - h / 2, upstream, h / 2)
        scale = float(np.sum(np.abs(y * upstream))) if np.all(np.isfinite(y)) else np.inf
        smooth = np.isfinite(central) & (np.abs(right - left) <= 1e-3 * (1 + np.abs(central)) + 1e-7 * scale)
        g = got.astype(np.float64)
        tol = GRADIENT_ATOL + 1e-8 * scale + GRADIENT_RTOL * np.abs(central)
        wrong = smooth & ~(np.abs(g - central) <= tol)
    if not wrong.any():
        return None
    excess = np.where(wrong, np.nan_to_num(np.abs(g - central) - tol, nan=np.inf), -np.inf)
    idx = np.unravel_index(int(np.argmax(excess)), x.shape)
    return _index(idx), format_value(got[idx]), format_value(central[idx])


def compare_case(exercise, case, got, expected, hidden=False):
    """Compare a student's returned value ``got`` with the reference's ``expected`` for one case.

    ``hidden=True`` keeps every expected value out of the :class:`Outcome` (the student must not
    learn the hidden answers from the feedback).
    """
    outcome = compare_values(got, expected, exercise, hidden)
    if not outcome.passed or not exercise.gradient_of:
        return outcome
    mismatch = gradient_mismatch(exercise, case, got)
    if mismatch is None:
        return outcome
    index, got_text, numerical = mismatch
    if hidden:
        return fail(N_("the result is not the derivative of {forward}: it disagrees with the numerical derivative at index {index}"),
                    forward=exercise.gradient_of, index=index)
    return fail(N_("the result is not the derivative of {forward}: at index {index} it is {got}, the numerical derivative is {numerical}"),
                forward=exercise.gradient_of, index=index, got=got_text, numerical=numerical)


def judge(exercise, case, result, expected, hidden=False):
    """The :class:`Outcome` of one call: its failure if it failed, else :func:`compare_case`.

    A correct value computed with a numerical warning (e.g. ``overflow encountered in exp``) fails:
    a stable implementation computes it without one.
    """
    status = result.status
    if status == "nnlib" or result.used_nnlib:
        return fail(N_("it calls the nnlib reference, which graded code may not use"))
    if status == "error":
        if result.error_type == "NotImplementedError":
            return fail(N_("not implemented yet: replace `raise NotImplementedError()` with your code"))
        if result.error_type == "MemoryError":
            return fail(N_("ran out of memory (MemoryError)"))
        return fail(N_("raised {exc_type}: {exc_message}"), exc_type=result.error_type,
                    exc_message=result.error_message)
    if status == "timeout":
        return fail(N_("took too long and was stopped (time limit)"))
    if status == "missing":
        return fail(N_("no result: the grading process ended before this case ran"))
    if status == "undefined":
        return fail(N_("the function {name} is not defined"), name=result.error_message or exercise.name)
    if status == "not_callable":
        return fail(N_("{name} is not a function"), name=result.error_message or exercise.name)
    if status == "unsupported":
        return fail(N_("returned a {got_type}, which cannot be graded"), got_type=result.error_message)
    outcome = compare_case(exercise, case, result.value, expected, hidden)
    if outcome.passed and result.warnings:
        return fail(N_("numerical warning: {warning}"), warning=result.warnings[0])
    return outcome


def score_cases(outcomes, points):
    """Partial credit: ``points * passed / total``, rounded to 2 decimals (0 when there are no cases)."""
    outcomes = list(outcomes)
    if not outcomes:
        return 0.0
    passed = sum(1 for o in outcomes if o.passed)
    return round(float(points) * passed / len(outcomes), 2)


# --- rendering ---------------------------------------------------------------------------------------

def case_label(case, lang):
    """The case's input label in ``lang`` (the label is a msgid; ``label_args`` fill it)."""
    return translate(case.label, lang, **{k: str(v) for k, v in case.label_args.items()})


def reason_text(outcome, lang):
    """The outcome's reason in ``lang`` (``item 2 of the tuple: ...`` for tuple results)."""
    text = translate(outcome.reason_msgid, lang, **outcome.details)
    if "item" in outcome.details:
        text = translate("item {item} of the result: {reason}", lang, item=outcome.details["item"], reason=text)
    return text


def failure_lines(number, case, outcome, lang, hidden=False, expected=None, got=None):
    """Lines describing one failed case: which input, what went wrong, and (visible only) the values."""
    head = N_("Hidden case {number}: {label}") if hidden else N_("Case {number}: {label}")
    lines = [translate(head, lang, number=number, label=case_label(case, lang)),
             "  " + reason_text(outcome, lang)]
    about_values = {"got", "expected_shape", "index"} & set(outcome.details)
    if not hidden and about_values and isinstance(expected, np.ndarray) and expected.size <= 24:
        lines.append("  " + translate("expected: {value}", lang, value=_indent(format_value(expected))))
        if got is not None:
            lines.append("  " + translate("got: {value}", lang, value=_indent(format_value(got))))
    return lines


class Failure(NamedTuple):
    """A failed case, with what is needed to describe it (``expected`` is ignored for hidden cases)."""
    number: int
    case: object
    outcome: Outcome
    hidden: bool
    expected: object = None
    got: object = None


# Reasons that do not depend on the input: said once instead of once per case.
SAME_FOR_EVERY_CASE = {
    "it calls the nnlib reference, which graded code may not use",
    "not implemented yet: replace `raise NotImplementedError()` with your code",
    "took too long and was stopped (time limit)",
    "no result: the grading process ended before this case ran",
    "the function {name} is not defined",
    "{name} is not a function",
}


def failures_report(failures, lang, hint=""):
    """Lines about an exercise's failed cases: at most :data:`MAX_FAILURES_SHOWN` described, the
    rest counted, the hint last. A reason shared by all of them that does not depend on the input
    (e.g. NotImplementedError) is said once."""
    failures = list(failures)
    if not failures:
        return []
    reasons = {(f.outcome.reason_msgid, tuple(sorted(f.outcome.details.items()))) for f in failures}
    if len(reasons) == 1 and failures[0].outcome.reason_msgid in SAME_FOR_EVERY_CASE:
        return [reason_text(failures[0].outcome, lang)]
    lines = []
    for f in failures[:MAX_FAILURES_SHOWN]:
        lines += failure_lines(f.number, f.case, f.outcome, lang, f.hidden,
                               expected=None if f.hidden else f.expected, got=f.got)
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(translate("… and {count} more failing cases", lang, count=len(failures) - MAX_FAILURES_SHOWN))
    if hint:
        lines.append(translate("Hint: {hint}", lang, hint=translate(hint, lang)))
    return lines


def _indent(text):
    return text.replace("\n", "\n    ")
