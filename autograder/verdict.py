r"""Grade one student notebook: run the solution cells in the sandbox, compare in the grader.

    verdict = grade_notebook(student_nb, test_cells, seed=student_seed("alice", "01-neuron"))
    verdict.cells["test_sigmoid"].score, verdict.cells["test_sigmoid"].lines
    apply_verdict(student_nb, verdict)     # write the feedback into the test cells' outputs

What is run. Only the student's SOLUTION cells (code cells whose ``metadata.nbgrader.solution``
is true), in notebook order, in one namespace where ``np`` (NumPy) and ``math`` are already
imported. Nothing else of the student's notebook runs (demos, plots, the import cell, their
copies of the test cells), so exercise code must live in the solution cells.

What is checked. ``test_cells`` maps each test cell's ``grade_id`` to ``(source, points)`` taken
from the INSTRUCTOR's notebook (``course/source/<lesson>/<lesson>.ipynb``), never from the
student's copy. Its source is parsed with :mod:`ast` for ``check("name", func)`` calls: visible
ones, and hidden ones (``hidden=True`` or inside ``### BEGIN/END HIDDEN TESTS``). Each check
contributes the exercise's visible cases, or its hidden cases drawn from the per-student
``seed``. Every case is one call in a single sandbox run (:mod:`autograder.sandbox`); the
grader computes the expected values with the nnlib references in its own process and compares
(:func:`autograder.compare.judge`). A test cell's score is ``points * passed / total`` over its
cases (:func:`autograder.compare.score_cases`).

Using the reference. An exercise whose solution cell imports or names ``nnlib`` (found by
:mod:`ast`), or whose calls touch the sandbox's ``nnlib`` stub, earns nothing: all its cases fail.

Feedback. Per test cell, localised lines (the notebook's ``metadata.course.lang``): the cases
passed, for failing cases the input, what went wrong, expected values for visible cases only,
the hint, errors of the solution cell, and what the sandbox reported (time limit, memory, crash,
early exit, output cut). :func:`cell_outputs` turns them into outputs that nbgrader scores
correctly (full credit: stdout only; partial: an ``execute_result`` holding the score; none: an
``error`` output).

Seeds. :func:`student_seed` derives a stable 63-bit seed from (student id, lesson) with SHA-256,
mixed with the course secret (:func:`course_secret`: ``$AUTOGRADER_SECRET``, the file named by
``$AUTOGRADER_SECRET_FILE``, or ``<course_dir>/.autograder_secret``) so students cannot
precompute one another's hidden cases.
"""
import ast
import hashlib
import json
import os
import re
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from autograder.compare import (Failure, copy_case, failures_report, find_exercise, hidden_cases, judge,
                                score_cases)
from autograder.messages import normalize_language, translate
from autograder.sandbox import Call, Limits, run_submission

FORBIDDEN = ("nnlib", "autograder")
HIDDEN_BEGIN = re.compile(r"BEGIN HIDDEN TESTS", re.IGNORECASE)
HIDDEN_END = re.compile(r"END HIDDEN TESTS", re.IGNORECASE)


class CheckSpec(NamedTuple):
    """One ``check("exercise", function, hidden=...)`` call of an instructor's test cell."""
    exercise: str
    function: str
    hidden: bool


@dataclass
class CellVerdict:
    """The grade of one test cell and its localised feedback lines."""
    grade_id: str
    score: float
    max_score: float
    passed: int
    total: int
    lines: list = field(default_factory=list)
    exercises: list = field(default_factory=list)


@dataclass
class NotebookVerdict:
    """The grades of one notebook, per test cell ``grade_id``, plus what the sandbox reported."""
    lesson: str
    lang: str
    seed: int
    cells: dict = field(default_factory=dict)
    sandbox: dict = field(default_factory=dict)

    @property
    def score(self):
        return round(sum(c.score for c in self.cells.values()), 2)

    @property
    def max_score(self):
        return round(sum(c.max_score for c in self.cells.values()), 2)

    def to_dict(self):
        data = asdict(self)
        data["score"], data["max_score"] = self.score, self.max_score
        return data

    @classmethod
    def from_dict(cls, data):
        cells = {k: CellVerdict(**v) for k, v in data["cells"].items()}
        return cls(data["lesson"], data["lang"], int(data["seed"]), cells, dict(data.get("sandbox", {})))

    def save(self, path):
        """Write as JSON atomically (a temporary file in the same folder, then ``os.replace``)."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.to_dict(), f, ensure_ascii=False, indent=1, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


# --- seeds ------------------------------------------------------------------------------------------

def course_secret(course_dir=None, environ=None):
    """The course's secret for seeds: ``$AUTOGRADER_SECRET``, ``$AUTOGRADER_SECRET_FILE``'s content,
    ``<course_dir>/.autograder_secret``, else ``""`` (seeds then depend on student and lesson only)."""
    environ = os.environ if environ is None else environ
    if environ.get("AUTOGRADER_SECRET"):
        return environ["AUTOGRADER_SECRET"]
    for path in (environ.get("AUTOGRADER_SECRET_FILE"), course_dir and Path(course_dir) / ".autograder_secret"):
        if path and Path(path).is_file():
            return Path(path).read_text(encoding="utf-8").strip()
    return ""


def student_seed(student_id, lesson, secret=None):
    """A stable 63-bit seed for (student, lesson): SHA-256 of the secret, the student and the lesson."""
    secret = course_secret() if secret is None else secret
    digest = hashlib.sha256(f"{secret}\0{student_id}\0{lesson}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


# --- reading notebooks ------------------------------------------------------------------------------

def parse_test_cell(source):
    """The ``check(...)`` calls of a test cell's source, in order, as :class:`CheckSpec`.

    A call is hidden when it passes ``hidden=True`` or sits between nbgrader's
    ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``. Raises ValueError for a check whose
    exercise name is not a string literal.
    """
    hidden_lines, inside = set(), False
    for number, line in enumerate(source.splitlines(), start=1):
        if HIDDEN_BEGIN.search(line):
            inside = True
        elif HIDDEN_END.search(line):
            inside = False
        elif inside:
            hidden_lines.add(number)
    specs = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name != "check":
            continue
        if not node.args or not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, str):
            raise ValueError(f"line {node.lineno}: check() needs the exercise name as a string literal")
        exercise = node.args[0].value
        func = node.args[1] if len(node.args) > 1 else None
        hidden = node.lineno in hidden_lines or any(
            k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)
        if len(node.args) > 2 and isinstance(node.args[2], ast.Constant):
            hidden = hidden or node.args[2].value is True
        spec = CheckSpec(exercise, func.id if isinstance(func, ast.Name) else exercise, hidden)
        specs.append(((node.lineno, node.col_offset), spec))
    return [spec for _, spec in sorted(specs)]


def solution_cells(nb):
    """``[(grade_id, source)]`` of the notebook's code solution cells, in order."""
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and meta.get("solution"):
            cells.append((str(meta.get("grade_id", "")), str(cell.get("source", ""))))
    return cells


def uses_nnlib(source):
    """True when ``source`` imports or names ``nnlib``/``autograder`` (docstrings and comments don't count)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in FORBIDDEN for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FORBIDDEN:
            return True
        if isinstance(node, ast.Name) and node.id in FORBIDDEN:
            return True
        if isinstance(node, ast.Call) and any(
                isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.split(".")[0] in FORBIDDEN
                for a in node.args):
            return True
    return False


# --- grading ----------------------------------------------------------------------------------------

class _Case(NamedTuple):
    grade_id: str
    spec: CheckSpec
    number: int      # 1-based among the visible or among the hidden cases of this check
    case: object
    expected: object


def _expected(exercise, case):
    args, kwargs = copy_case(case)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return exercise.reference(*args, **kwargs)
        except Exception as exc:
            raise RuntimeError(f"the reference of exercise {exercise.name!r} failed on case "
                               f"{case.label!r}: {type(exc).__name__}: {exc}") from exc


def _sandbox_lines(result, limits, lang):
    """Lines about how the run itself went (same for every test cell that lost points)."""
    lines = []
    status = result.status
    if status == "timeout":
        lines.append(translate("The grader stopped your code after {seconds} s (the time limit for the whole notebook).",
                               lang, seconds=format(limits.wall_seconds, "g")))
    elif status == "cpu_limit":
        lines.append(translate("Your code used more than {seconds} s of CPU time and was stopped.",
                               lang, seconds=limits.cpu_seconds))
    elif status == "killed":
        lines.append(translate("Your code was killed (signal {signal}).", lang, signal=-(result.returncode or 0)))
    elif status == "crashed":
        lines.append(translate("The Python process running your code crashed (signal {signal}); running out of memory can cause this.",
                               lang, signal=-(result.returncode or 0)))
    elif status == "exit":
        lines.append(translate("Your code ended the process (exit code {code}) before grading finished: do not call os._exit() or kill the interpreter.",
                               lang, code=result.returncode))
    elif status == "setup_error":
        lines.append(translate("The grader could not run your code (an internal error); please tell your instructor.", lang))
    memory = any(c and c.error_type == "MemoryError" for c in result.cells) or any(
        c.status == "error" and c.error_type == "MemoryError" for c in result.calls)
    if memory:
        lines.append(translate("Your code ran out of memory: the grader allows {memory} MiB.",
                               lang, memory=limits.memory_bytes >> 20))
    if result.stdout_truncated or result.stderr_truncated:
        lines.append(translate("Your code printed more than {size} KiB; the rest of its output was not kept.",
                               lang, size=limits.output_bytes >> 10))
    if result.protocol_errors:
        lines.append(translate("Some results of your code could not be read back from the sandbox.", lang))
    return lines


def _cell_error_lines(report, lang):
    lines = [translate("Your solution cell raised {exc_type}: {exc_message}", lang,
                       exc_type=report.error_type, exc_message=report.error_message)]
    if report.error_type == "__timeout__":
        lines = [translate("Your solution cell took too long and was stopped (time limit).", lang)]
    for _cell, line, _name, code in report.traceback[-1:]:
        lines.append("  " + translate("line {line}: {code}", lang, line=line, code=code))
    return lines


def _plan_cases(test_cells, seed):
    """Every case to run, in test-cell order, with its expected value computed here."""
    plan = []
    for grade_id, (source, _points) in test_cells.items():
        specs = parse_test_cell(source)
        if not specs:
            raise ValueError(f"test cell {grade_id!r} has no check(\"name\", function) call to grade")
        for spec in specs:
            exercise = find_exercise(spec.exercise)
            cases = hidden_cases(exercise, seed) if spec.hidden else list(exercise.visible())
            for number, case in enumerate(cases, start=1):
                plan.append(_Case(grade_id, spec, number, case, _expected(exercise, case)))
    return plan


def _flagged(plan, solutions, result):
    """Exercises that use nnlib: their solution cell names it, or the sandbox saw them touch it.
    A solution cell that belongs to no graded exercise taints them all."""
    graded = {c.spec.exercise for c in plan}
    flagged = set()
    for index, (grade_id, source) in enumerate(solutions):
        report = result.cells[index] if index < len(result.cells) else None
        if uses_nnlib(source) or (report is not None and report.used_nnlib):
            flagged |= {grade_id} if grade_id in graded else graded
    flagged |= {c.spec.exercise for c, r in zip(plan, result.calls) if r.used_nnlib or r.status == "nnlib"}
    return flagged


def _grade_exercise(exercise, rows, flagged, lang):
    """Outcomes and feedback lines of one exercise's ``rows`` of (planned case, CallResult)."""
    if flagged:
        rows = [(c, r._replace(status="nnlib")) for c, r in rows]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        judged = [(c, r, judge(exercise, c.case, r, c.expected, c.spec.hidden)) for c, r in rows]
    passed = sum(o.passed for _, _, o in judged)
    lines = [translate("{mark} {name}: {passed}/{total} cases pass", lang, mark="✓" if passed == len(judged) else "✗",
                       name=exercise.name, passed=passed, total=len(judged))]
    if flagged:
        lines.append("  " + translate("{name} earns nothing for this exercise because it calls the nnlib reference",
                                      lang, name=exercise.name))
    else:
        failures = [Failure(c.number, c.case, o, c.spec.hidden, c.expected, r.value if r.status == "ok" else None)
                    for c, r, o in judged if not o.passed]
        lines += ["  " + line for line in failures_report(failures, lang, exercise.hint)]
    return [o for _, _, o in judged], lines


def grade_notebook(nb, test_cells, seed, limits=None, lang=None, workdir=None):
    """Grade the student notebook ``nb`` against the instructor's ``test_cells``.

    ``test_cells``: ``{grade_id: (instructor source, points)}``. ``seed``: the student's seed
    (:func:`student_seed`). ``lang`` overrides the notebook's ``metadata.course.lang``; ``workdir``
    is where the sandbox puts its scratch folder. Returns a :class:`NotebookVerdict` with one
    :class:`CellVerdict` per test cell. Raises RuntimeError when a reference itself fails and
    ValueError for a test cell without ``check`` calls (instructor's bugs, never the student's).
    """
    limits = limits or Limits()
    course = nb.get("metadata", {}).get("course", {})
    lang = normalize_language(lang or course.get("lang"))
    plan = _plan_cases(test_cells, seed)
    solutions = solution_cells(nb)
    calls = [Call(c.spec.exercise, c.number, c.case.args, c.case.kwargs, c.spec.function) for c in plan]
    result = run_submission([source for _, source in solutions], calls, limits, workdir)
    flagged = _flagged(plan, solutions, result)
    graded = {c.spec.exercise for c in plan}
    sandbox_lines = _sandbox_lines(result, limits, lang)

    cells = {}
    for grade_id, (_source, points) in test_cells.items():
        mine = [(c, r) for c, r in zip(plan, result.calls) if c.grade_id == grade_id]
        outcomes, lines, exercises = [], [], list(dict.fromkeys(c.spec.exercise for c, _ in mine))
        for name in exercises:
            got, said = _grade_exercise(find_exercise(name), [(c, r) for c, r in mine if c.spec.exercise == name],
                                        name in flagged, lang)
            outcomes += got
            lines += said
            for index, (cell_grade_id, _src) in enumerate(solutions):  # errors of its solution cell
                report = result.cells[index] if index < len(result.cells) else None
                if report is not None and report.error_type and (cell_grade_id == name or cell_grade_id not in graded):
                    lines += ["  " + line for line in _cell_error_lines(report, lang)]
        score = score_cases(outcomes, points)
        passed = sum(o.passed for o in outcomes)
        if passed < len(outcomes):
            lines += sandbox_lines
        lines.append(translate("Score: {score} of {points}", lang, score=format(score, "g"),
                               points=format(float(points), "g")))
        cells[grade_id] = CellVerdict(grade_id, score, float(points), passed, len(outcomes), lines, exercises)

    sandbox = {"status": result.status, "isolation": result.isolation, "returncode": result.returncode,
               "seconds": result.seconds, "stdout_truncated": result.stdout_truncated,
               "stderr_truncated": result.stderr_truncated, "protocol_errors": list(result.protocol_errors),
               "nnlib_flagged": sorted(flagged)}
    return NotebookVerdict(str(course.get("lesson", "")), lang, int(seed), cells, sandbox)


# --- writing the verdict into the notebook ----------------------------------------------------------

def cell_outputs(cell):
    """nbformat outputs for a test cell that nbgrader's ``determine_grade`` scores as ``cell.score``.

    Full credit: the feedback on stdout. Partial credit: plus an ``execute_result`` holding the
    score. No credit: plus an ``error`` output.
    """
    from nbformat.v4 import new_output

    outputs = [new_output("stream", name="stdout", text="\n".join(cell.lines) + "\n")]
    if cell.score >= cell.max_score:
        return outputs
    if cell.score <= 0:
        head = cell.lines[0] if cell.lines else "failed"
        outputs.append(new_output("error", ename="AssertionError", evalue=head, traceback=[head]))
    else:
        outputs.append(new_output("execute_result", data={"text/plain": format(cell.score, "g")}, execution_count=None))
    return outputs


def apply_verdict(nb, verdict):
    """Replace the outputs of ``nb``'s test cells (by ``grade_id``) with the verdict's; returns ``nb``."""
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("cell_type") == "code" and grade_id in verdict.cells:
            cell.outputs = cell_outputs(verdict.cells[grade_id])
    return nb

