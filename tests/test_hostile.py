r"""Hostile and broken submissions: the run completes, each gets its exact score and feedback that says
what happened, and no other student's grade moves.

Every case is a submission of lesson 01-neuron (10 points: weighted_sum 2, dense_forward 3,
add_bias_column 2, threshold_neuron 3) by its own student, built from the correct answers with one
thing changed. All of them are graded in ONE run, together with two control students; a second
course holding only the controls is graded too, and the controls' gradebook entries must be equal.
"""
import hashlib
import os
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers_grading import (REPO, answers, autograded, build_course, cell, cell_output_text, correct, grade,
                             gradebook_dump, set_answer, submit, with_cell_removed)

from autograder.compare import hidden_cases
from autograder.exercises import EXERCISES
from autograder.verdict import course_secret, student_seed

LESSON = "01-neuron"
TN = "def threshold_neuron(X, w, threshold):\n"
WS = "def weighted_sum(x, w, b):\n"
WRONG_WS = WS + "    return 0.0\n"


@dataclass
class Hostile:
    r"""One hostile submission: how to make it, its exact score, and what its feedback must say."""
    student: str
    build: object          # (root, course) -> None: writes course/submitted/<student>/01-neuron/
    score: float
    says: tuple            # substrings of the feedback page (English)


def answer(cell_id, source):
    r"""A submission: the correct notebook with one answer cell replaced."""
    def build(student, root, course):
        nb = correct(LESSON, "en", root)
        set_answer(nb, cell_id, source)
        submit(course, student, LESSON, nb)
    return build


def edited(change):
    r"""A submission: the correct notebook passed through ``change(nb, root, course)``."""
    def build(student, root, course):
        nb = correct(LESSON, "en", root)
        nb = change(nb, root, course) or nb
        submit(course, student, LESSON, nb)
    return build


def raw(files):
    r"""A submission folder with exactly these files: ``{name (str or bytes): bytes or callable(root)}``."""
    def build(student, root, course):
        folder = Path(course) / "submitted" / student / LESSON
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path = os.fsencode(folder) + b"/" + name if isinstance(name, bytes) else folder / name
            with open(path, "wb") as handle:
                handle.write(data(root) if callable(data) else data)
    return build


def _correct_bytes(root):
    return nbformat.writes(correct(LESSON, "en", root), version=4).encode("utf-8")


def _hardcoded(root):
    ex = EXERCISES["weighted_sum"]
    table = {tuple(np.asarray(c.args[0]).ravel().tolist()): float(ex.reference(*c.args, **c.kwargs))
             for c in ex.visible()}
    return WS + f"    table = {table!r}\n    return table.get(tuple(np.asarray(x).ravel().tolist()), 0.0)\n"


def hardcoded_score(course):
    r"""Hard-coded visible answers: all visible cases pass, hidden ones (other inputs) fail."""
    ex = EXERCISES["weighted_sum"]
    visible = list(ex.visible())
    hidden = hidden_cases(ex, student_seed("hardcoded_visible", LESSON, course_secret(course)))
    return 8 + round(2 * len(visible) / (len(visible) + len(hidden)), 2)


def _forge_outputs(nb, root, course):
    test = cell(nb, "test_weighted_sum")
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="✓ weighted_sum: 8/8 cases pass\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]
    set_answer(nb, "weighted_sum", WRONG_WS)


def _forge_verdict(nb, root, course):
    fake = json.dumps({"format": "nn-grade-verdict/1", "student": "forge_verdict", "lesson": LESSON,
                       "verdict": {"cells": {"test_weighted_sum": {"score": 2, "max_score": 2, "lines": ["ok"]}}}})
    targets = [str(course / "autograded-verdicts" / "forge_verdict" / f"{LESSON}.json"),
               f"../autograded-verdicts/forge_verdict/{LESSON}.json", "/tmp/forged-verdict.json"]
    source = (f"for _path in {targets!r}:\n    try:\n        import os\n"
              f"        os.makedirs(os.path.dirname(_path) or '.', exist_ok=True)\n"
              f"        open(_path, 'w').write({fake!r})\n    except Exception:\n        pass\n" + WRONG_WS)
    set_answer(nb, "weighted_sum", source)


def _read_hidden(nb, root, course):
    master = course / "source" / LESSON / f"{LESSON}.ipynb"
    set_answer(nb, "weighted_sum", WS + f"    return float(len(open({str(master)!r}).read()))\n")


def _write_other(nb, root, course):
    victim = course / "submitted" / "control_correct" / LESSON / f"{LESSON}.ipynb"
    set_answer(nb, "weighted_sum", WS + f"    open({str(victim)!r}, 'w').write('{{}}')\n    return 0.0\n")


def _write_gradebook(nb, root, course):
    db = course / "gradebook.db"
    set_answer(nb, "weighted_sum", WS + "    import sqlite3\n"
               f"    sqlite3.connect({str(db)!r}).execute('update grade set auto_score = 100')\n    return 0.0\n")


def _remove(grade_id):
    return lambda nb, root, course: with_cell_removed(nb, grade_id)


def _edit_test(nb, root, course):
    cell(nb, "test_weighted_sum").source = "print('all good')"


def _test_to_markdown(nb, root, course):
    test = cell(nb, "test_dense_forward")
    index = nb.cells.index(test)
    nb.cells[index] = nbformat.v4.new_markdown_cell("nothing to see", metadata=test.metadata, id=test.id)


def _points(nb, root, course):
    cell(nb, "test_weighted_sum").metadata["nbgrader"]["points"] = 100


def _grade_flag(nb, root, course):
    meta = cell(nb, "test_add_bias_column").metadata["nbgrader"]
    meta["grade"], meta["locked"] = False, False


def _bonus_cell(nb, root, course):
    nb.cells.append(nbformat.v4.new_code_cell("print('free points')", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 50, "grade_id": "bonus", "schema_version": 3}}))


def _duplicate_test(nb, root, course):
    import copy

    twin = copy.deepcopy(cell(nb, "test_weighted_sum"))
    twin.id = "twin"
    nb.cells.append(twin)


def _v3(root):
    return json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}],
                       "cells": []}).encode()


CASES = [
    Hostile("infinite_loop", answer("threshold_neuron", TN + "    while True:\n        pass\n"), 7,
            ("0/9", "time limit")),
    Hostile("memory_bomb", answer("threshold_neuron", TN + "    block = bytearray(8 << 30)\n"), 7,
            ("out of memory", "MemoryError")),
    Hostile("memory_bomb_cell", answer("weighted_sum", "hog = [0] * (1 << 34)\n" + answers(LESSON, "en", REPO)
                                       ["weighted_sum"]), 8, ("MemoryError", "weighted_sum is not defined")),
    Hostile("fork_bomb", answer("threshold_neuron", TN + "    import os\n    while True:\n        os.fork()\n"), 7,
            ("BlockingIOError",)),
    Hostile("sys_exit", answer("threshold_neuron", TN + "    import sys\n    sys.exit(0)\n"), 7, ("SystemExit",)),
    Hostile("os_exit", answer("threshold_neuron", TN + "    import os\n    os._exit(0)\n"), 7,
            ("ended the process", "os._exit()")),
    Hostile("killed_kernel", answer("threshold_neuron", TN + "    import os\n    os.kill(os.getpid(), 9)\n"), 7,
            ("killed (signal 9)",)),
    Hostile("output_flood", answer("threshold_neuron", TN + "    print('spam ' * (2 << 20))\n"), 7,
            ("printed more than",)),
    Hostile("patch_numpy", answer("weighted_sum", "np.allclose = lambda *a, **k: True\n"
                                  "np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
                                  "np.testing.assert_allclose = lambda *a, **k: None\n" + WRONG_WS), 8,
            ("✗ weighted_sum: 0/8",)),
    Hostile("patch_builtins", answer("weighted_sum", "import builtins\nbuiltins.abs = lambda x: 0\n"
                                     "builtins.max = lambda *a, **k: 0\nbuiltins.AssertionError = Exception\n"
                                     + WRONG_WS), 8, ("✗ weighted_sum: 0/8",)),
    Hostile("patch_checks", answer("weighted_sum", "try:\n    import autograder.checks\n"
                                   "    autograder.checks.check = lambda *a, **k: None\nexcept Exception:\n    pass\n"
                                   + answers(LESSON, "en", REPO)["weighted_sum"]), 8, ("calls the nnlib reference",)),
    Hostile("patch_assertions", answer("weighted_sum", "def check(*args, **kwargs):\n    print('passed')\n"
                                       "AssertionError = Warning\n" + WRONG_WS), 8, ("✗ weighted_sum: 0/8",)),
    Hostile("fake_success", answer("weighted_sum", "print('✓ weighted_sum: 8/8 cases pass')\nprint('Score: 2 of 2')\n"
                                   + WS + "    print('All tests passed! Score: 10/10')\n    return -1.0\n"), 8,
            ("✗ weighted_sum: 0/8",)),
    Hostile("forge_outputs", edited(_forge_outputs), 8, ("✗ weighted_sum: 0/8",)),
    Hostile("forge_verdict", edited(_forge_verdict), 8, ("✗ weighted_sum: 0/8",)),
    Hostile("read_hidden", edited(_read_hidden), 8, ("FileNotFoundError|PermissionError",)),
    Hostile("write_other", edited(_write_other), 8, ("FileNotFoundError|PermissionError",)),
    Hostile("write_gradebook", edited(_write_gradebook), 8, ("OperationalError",)),
    Hostile("hardcoded_visible", lambda s, r, c: answer("weighted_sum", _hardcoded(r))(s, r, c), None,
            ("✗ weighted_sum: 3/8",)),
    Hostile("calls_nnlib", answer("weighted_sum", WS + "    from nnlib import neuron\n"
                                  "    return neuron.weighted_sum(x, w, b)\n"), 8, ("calls the nnlib reference",)),
    Hostile("nnlib_importlib", answer("weighted_sum", WS + "    import importlib\n"
                                      "    return importlib.import_module('nn' + 'lib').x\n"), 8,
            ("calls the nnlib reference",)),
    Hostile("not_json", raw({f"{LESSON}.ipynb": b"this is not { json"}), 0,
            ("not graded", "not a readable notebook")),
    Hostile("nbformat_3", raw({f"{LESSON}.ipynb": _v3}), 0, ("not graded", "notebook format version 3")),
    Hostile("missing_notebook", raw({"my-work.ipynb": _correct_bytes}), 0,
            ("not graded", "was not in the submission")),
    Hostile("empty_folder", raw({}), 0, ("not graded", "folder was empty")),
    Hostile("extra_files", raw({f"{LESSON}.ipynb": _correct_bytes, "scratch.ipynb": b"{}", "notes.txt": b"hi"}), 10,
            ("extra file scratch.ipynb was ignored", "extra file notes.txt was ignored")),
    Hostile("bad_file_name", raw({f"{LESSON}.ipynb": _correct_bytes, b"\xff\xfe-data.txt": b"x"}), 10,
            ("not valid UTF-8",)),
    Hostile("deleted_test_cell", edited(_remove("test_dense_forward")), 10,
            ("test cell test_dense_forward was missing", "restored")),
    Hostile("deleted_answer_cell", edited(_remove("weighted_sum")), 8, ("answer cell weighted_sum was missing",)),
    Hostile("edited_test_cell", edited(_edit_test), 10, ("test cell test_weighted_sum was edited",)),
    Hostile("test_cell_to_markdown", edited(_test_to_markdown), 10, ("grading settings of cell test_dense_forward",)),
    Hostile("changed_points", edited(_points), 10, ("grading settings of cell test_weighted_sum",)),
    Hostile("changed_grade_flag", edited(_grade_flag), 10, ("grading settings of cell test_add_bias_column",)),
    Hostile("bonus_cell", edited(_bonus_cell), 10, ("bonus, which this lesson does not have",)),
    Hostile("duplicated_test_cell", edited(_duplicate_test), 10, ("appeared more than once",)),
]
CONTROLS = {"control_correct": 10.0, "control_partial": 8.0}


def _controls(root, course):
    submit(course, "control_correct", LESSON, correct(LESSON, "en", root))
    nb = correct(LESSON, "uk", root)
    set_answer(nb, "weighted_sum", WRONG_WS)
    submit(course, "control_partial", LESSON, nb)


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    root = build_course(tmp_path_factory.mktemp("hostile"))
    course = root / "course"
    _controls(root, course)
    for case in CASES:
        case.build(case.student, root, course)
    before = _digest(course / "submitted")
    result = grade(course)
    baseline_root = build_course(tmp_path_factory.mktemp("baseline"))
    _controls(baseline_root, baseline_root / "course")
    baseline = grade(baseline_root / "course")
    return root, course, result, (baseline_root / "course", baseline), before


def test_there_are_at_least_25_distinct_cases():
    assert len({case.student for case in CASES}) == len(CASES) >= 25


def test_the_run_completes_without_grader_failures(hostile_run):
    _, course, result, _, _ = hostile_run
    assert not [p for p in result.problems if p.kind.endswith("_failed")], result.problems
    students = {case.student for case in CASES} | set(CONTROLS)
    assert {s for s, _ in result.scores} == students
    assert (course / "reports" / "grades.csv").exists() and (course / "reports" / "report.html").exists()


@pytest.mark.parametrize("case", CASES, ids=[case.student for case in CASES])
def test_exact_score_and_feedback(hostile_run, case):
    _, course, result, _, _ = hostile_run
    expected = hardcoded_score(course) if case.score is None else case.score
    assert result.scores[case.student, LESSON] == (pytest.approx(expected), 10.0)
    page = html.unescape(re.sub(r"<[^>]+>", "", (course / "feedback" / case.student / LESSON /
                                                  f"{LESSON}.html").read_text(encoding="utf-8")))
    for text in case.says:  # "A|B": either
        assert any(option in page for option in text.split("|")), (case.student, text)
    assert "HIDDEN TESTS" not in page and "hidden=True" not in page


def test_other_students_grades_do_not_move(hostile_run):
    _, course, result, (baseline_course, baseline), before = hostile_run
    for student, score in CONTROLS.items():
        assert result.scores[student, LESSON] == (score, 10.0)
        assert baseline.scores[student, LESSON] == (score, 10.0)
    here = [row for row in gradebook_dump(course) if len(row) > 2 and row[1] in CONTROLS]
    there = [row for row in gradebook_dump(baseline_course)
             if len(row) > 2 and row[1] in CONTROLS]
    assert here == there and len(here) == 2


def test_submissions_and_records_were_not_touched_by_student_code(hostile_run):
    _, course, _, _, before = hostile_run
    assert _digest(course / "submitted") == before
    forged = json.loads((course / "autograded-verdicts" / "forge_verdict" / f"{LESSON}.json").read_text())
    assert forged["verdict"]["cells"]["test_weighted_sum"]["score"] == 0
    assert not Path("/tmp/forged-verdict.json").exists()


def test_intake_problems_are_in_the_report(hostile_run):
    _, course, result, _, _ = hostile_run
    page = (course / "reports" / "report.html").read_text(encoding="utf-8")
    kinds = {p.kind for p in result.problems}
    assert {"not_json", "nbformat", "missing_notebook", "empty", "extra_file", "bad_file_name", "missing_test_cell",
            "missing_solution_cell", "edited_test_cell", "changed_metadata", "unknown_graded_cell",
            "duplicate_cell"} <= kinds
    for problem in result.problems:
        assert html.escape(problem.reason) in page
    notebook = autograded(course, "deleted_test_cell", LESSON)
    assert "✓ dense_forward" in cell_output_text(notebook, "test_dense_forward")
