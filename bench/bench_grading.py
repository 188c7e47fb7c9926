"""Grading throughput: ``nn-grade run`` against stock serial ``nbgrader autograde``, same submissions.

Both grade the same N submissions (default 16: 8 students x 2 lessons, the four languages, some
answers wrong) of a course built fresh into a temporary folder:

- stock: ``nbgrader autograde <lesson>`` for each lesson with the course's own nbgrader_config.py,
  i.e. nbgrader's ``Execute``: every notebook runs top to bottom in a Jupyter kernel, one after the
  other (assignments generated beforehand, not timed);
- ours: ``nn-grade run --workers <cpus>``, timed as a whole: assignments, intake, sandboxed verdicts
  in parallel, nbgrader autograde with the verdicts, localised feedback, CSV export and report --
  more work than the stock command does.

Prints notebooks per minute for both and the ratio (target >= 3x on 2 cores), and checks that both
gave every submission the same total score. Run: ``python bench/bench_grading.py [N]``.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
LESSONS = ("01-neuron", "06-activations")
LANGUAGES = ("en", "uk", "ru", "pl")
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def build(root):
    """The course built by ``nn-course build``'s own code into ``root`` (``root/course`` is ready)."""
    from autograder.build import build as build_course

    shutil.copytree(REPO / "course" / "lessons", root / "course" / "lessons")
    shutil.copytree(REPO / "course" / "locale", root / "course" / "locale")
    shutil.copy(REPO / "course" / "nbgrader_config.py", root / "course" / "nbgrader_config.py")
    build_course(root)


def make_submissions(root, count):
    """``count`` submissions under ``root/course/submitted``: correct answers, every third student
    with one wrong answer per lesson."""
    made = 0
    student = 0
    while made < count:
        lang = LANGUAGES[student % len(LANGUAGES)]
        for lesson in LESSONS:
            if made == count:
                break
            nb = nbformat.read(root / "lessons" / lang / f"{lesson}.ipynb", as_version=4)
            solved = nbformat.read(root / "solutions" / lang / f"{lesson}.ipynb", as_version=4)
            answers = {c.metadata["nbgrader"]["grade_id"]: MARKERS.sub("", c.source) for c in solved.cells
                       if c.metadata.get("nbgrader", {}).get("solution")}
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in answers:
                    cell.source = answers[grade_id]
                    if student % 3 == 2 and grade_id in ("weighted_sum", "relu"):
                        cell.source = f"def {grade_id}(*args):\n    return 0.0\n"
            folder = root / "course" / "submitted" / f"student{student:02d}" / lesson
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{lesson}.ipynb")
            made += 1
        student += 1
    return made


def env():
    """The environment of the child commands: this interpreter's scripts (nbgrader, alembic) on PATH."""
    bindir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))


def nbgrader(course, *args):
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env(),
                          capture_output=True, text=True)


def scores(csv_path):
    with open(csv_path, encoding="utf-8") as handle:
        return {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(handle)}


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        build(tmp / "stock")
        count = make_submissions(tmp / "stock", count)
        shutil.copytree(tmp / "stock", tmp / "ours")
        stock, ours = tmp / "stock" / "course", tmp / "ours" / "course"

        for lesson in LESSONS:  # not timed: the assignments must exist before autograde
            done = nbgrader(stock, "generate_assignment", lesson, "--force")
            assert done.returncode == 0, done.stderr[-2000:]
        start = time.perf_counter()
        for lesson in LESSONS:
            done = nbgrader(stock, "autograde", lesson)
            assert done.returncode == 0, done.stderr[-2000:]
        stock_seconds = time.perf_counter() - start
        done = nbgrader(stock, "export", "--to", str(tmp / "stock.csv"))
        assert done.returncode == 0, done.stderr[-2000:]

        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "autograder.cli", "run", "--course", str(ours),
                               "--workers", str(workers), "--quiet"], env=env(), capture_output=True, text=True)
        ours_seconds = time.perf_counter() - start
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

        same = scores(tmp / "stock.csv") == scores(ours / "reports" / "grades.csv")

    stock_rate, our_rate = count / stock_seconds * 60, count / ours_seconds * 60
    ratio = our_rate / stock_rate
    print(f"grading {count} notebooks ({workers} CPUs)")
    print(f"  stock nbgrader autograde (kernel, serial)   {stock_seconds:7.1f} s  {stock_rate:7.1f} notebooks/min")
    print(f"  nn-grade run (sandbox, {workers} workers, all steps) {ours_seconds:7.1f} s  {our_rate:7.1f} notebooks/min")
    print(f"  ratio {ratio:.1f}x (target >= 3x); same scores as stock nbgrader: {same}")
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "grading.json").write_text(json.dumps({
        "notebooks": count, "workers": workers, "stock_seconds": round(stock_seconds, 2),
        "ours_seconds": round(ours_seconds, 2), "ratio": round(ratio, 2), "same_scores": same}, indent=1) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
