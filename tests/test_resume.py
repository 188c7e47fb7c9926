r"""Kill-safety: ``nn-grade run`` killed with SIGKILL part-way through the verdicts (step 4), restarted,
killed again part-way through nbgrader's autograde (step 5), and restarted to the end, leaves exactly
what an uninterrupted run leaves: the same exported grades, the same gradebook contents (no
duplicate or half-written record), the same autograded notebooks and feedback pages.
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers_grading import LESSONS, build_course, correct, grade, gradebook_dump, set_answer, submit

STUDENTS = 9
SLOW = "import time\ntime.sleep(0.3)\n"   # every sandbox run takes a while: the kill lands mid-step


def _submissions(root, course):
    for index in range(STUDENTS):
        lang = ("en", "uk", "ru", "pl")[index % 4]
        for lesson in LESSONS:
            nb = correct(lesson, lang, root)
            first = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
            first.source = SLOW + first.source
            if index % 3 == 1:  # some partly wrong
                wrong = "weighted_sum" if lesson == "01-neuron" else "relu"
                set_answer(nb, wrong, SLOW + f"def {wrong}(*args):\n    return 0.0\n")
            submit(course, f"s{index:02d}", lesson, nb)


def _command(course):
    return [sys.executable, "-m", "autograder.cli", "run", "--course", str(course), "--workers", "2", "--quiet",
            "--timeout", "10"]


def _run_to_end(course):
    done = subprocess.run(_command(course), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _kill_when(course, count_files, at_least):
    r"""Start a run and SIGKILL its whole process group once ``count_files()`` reaches ``at_least``."""
    process = subprocess.Popen(_command(course), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while count_files() < at_least:
            assert process.poll() is None, "the run ended before the kill"
            assert time.monotonic() < deadline, "the run never got there"
            time.sleep(0.01)
    finally:
        with_group = process.pid
        try:
            os.killpg(with_group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def _files(course, pattern):
    return lambda: len(list(Path(course).glob(pattern)))


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _records(course):
    r"""The verdict records, without the sandbox's run time (the only thing that differs run to run)."""
    records = {}
    for path in sorted((Path(course) / "autograded-verdicts").glob("*/*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        record["verdict"]["sandbox"].pop("seconds")
        records[str(path.relative_to(course))] = record
    return records


@pytest.fixture(scope="module")
def courses(tmp_path_factory):
    root = build_course(tmp_path_factory.mktemp("resume"))
    course = root / "course"
    _submissions(root, course)
    reference = tmp_path_factory.mktemp("reference") / "course"
    shutil.copytree(course, reference)
    _run_to_end(reference)
    return course, reference


def test_killed_twice_and_restarted_equals_uninterrupted(courses):
    course, reference = courses
    total = STUDENTS * len(LESSONS)
    records = _files(course, "autograded-verdicts/*/*.json")
    _kill_when(course, records, 3)                                   # 1. killed during the verdicts
    assert 3 <= records() < total
    markers = _files(course, ".nn-grade/autograded/*/*.done")
    _kill_when(course, markers, 3)                                   # 2. killed during nbgrader autograde
    assert records() == total and 3 <= markers() < total
    _run_to_end(course)                                              # 3. to the end
    assert markers() == total

    assert (course / "reports" / "grades.csv").read_text() == (reference / "reports" / "grades.csv").read_text()
    assert gradebook_dump(course) == gradebook_dump(reference)
    with sqlite3.connect(course / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM submitted_assignment").fetchone() == (total,)
    assert _tree(course / "autograded") == _tree(reference / "autograded")
    assert _tree(course / "feedback") == _tree(reference / "feedback")
    assert _records(course) == _records(reference)
    assert not list(course.rglob("*.tmp")), "no temporary file is left behind"


def test_a_finished_run_resumes_to_nothing(courses):
    course, reference = courses
    before = gradebook_dump(reference)
    result = grade(reference, wall_seconds=10.0, cpu_seconds=10, cell_seconds=10.0, call_seconds=10.0,
                   memory_bytes=1 << 30)
    assert result.verdicts_computed == 0 and result.autograded == 0 and result.feedback == 0
    assert result.verdicts_reused == STUDENTS * len(LESSONS)
    assert gradebook_dump(reference) == before


def test_a_grade_edited_in_formgrader_renders_that_feedback_again(courses):
    from nbgrader.api import Gradebook

    _, reference = courses
    with Gradebook(f"sqlite:///{reference / 'gradebook.db'}", "nn-from-the-neuron-up") as gb:
        comment = gb.find_comment("weighted_sum", "01-neuron", "01-neuron", "s00")
        comment.manual_comment = "Nice work on the bias!"
        gb.db.commit()
    result = grade(reference, wall_seconds=10.0, cpu_seconds=10, cell_seconds=10.0, call_seconds=10.0,
                   memory_bytes=1 << 30)
    assert (result.verdicts_computed, result.autograded, result.feedback) == (0, 0, 1)
    assert "Nice work on the bias!" in (reference / "feedback" / "s00" / "01-neuron" / "01-neuron.html").read_text()
