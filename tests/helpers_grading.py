r"""Shared helpers of the grading-pipeline tests: a freshly built course in a temporary folder,
and submissions made from the built notebooks.

    root = build_course(tmp_path)                  # nn-course build into tmp_path, course/ ready for nbgrader
    nb = correct("01-neuron", "uk", root)          # the student version with the reference answers filled in
    set_answer(nb, "weighted_sum", "def weighted_sum(x, w, b):\n    return 0.0")
    submit(root / "course", "alice", "01-neuron", nb)
    result = grade(root / "course")                # pipeline.run with short limits, no progress bars
"""
import copy
import json
import re
import shutil
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
LESSONS = ("01-neuron", "06-activations")
LANGUAGES = ("en", "uk", "ru", "pl")
MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def build_course(tmp_path):
    r"""Build the repository's lessons into ``tmp_path`` (``nn-course build``'s own code) and add the
    course's nbgrader config: ``tmp_path/course`` is a complete nbgrader course with no submissions."""
    from autograder.build import build

    root = Path(tmp_path)
    shutil.copytree(REPO / "course" / "lessons", root / "course" / "lessons")
    shutil.copytree(REPO / "course" / "locale", root / "course" / "locale")
    shutil.copy(REPO / "course" / "nbgrader_config.py", root / "course" / "nbgrader_config.py")
    build(root)
    return root


def student_version(lesson, lang, root):
    r"""The student notebook of ``lesson`` in ``lang`` (``lessons/<lang>/``, stubs, no hidden tests)."""
    return nbformat.read(Path(root) / "lessons" / lang / f"{lesson}.ipynb", as_version=4)


def answers(lesson, lang, root):
    r"""``{grade_id: source}`` of the reference solutions (``solutions/<lang>/``), markers removed."""
    notebook = nbformat.read(Path(root) / "solutions" / lang / f"{lesson}.ipynb", as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: MARKERS.sub("", cell.source)
            for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")}


def correct(lesson, lang, root):
    r"""The student version with every answer cell holding the reference solution."""
    notebook = student_version(lesson, lang, root)
    for grade_id, source in answers(lesson, lang, root).items():
        set_answer(notebook, grade_id, source)
    return notebook


def set_answer(notebook, grade_id, source):
    r"""Replace the source of the answer (solution) cell ``grade_id``; returns the notebook."""
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return notebook
    raise KeyError(f"no cell {grade_id!r}")


def cell(notebook, grade_id):
    r"""The cell whose nbgrader grade_id is ``grade_id``."""
    for c in notebook.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(grade_id)


def points_of(lesson, root):
    r"""``{grade_id: points}`` of the test cells of a lesson (from the master notebook)."""
    master = nbformat.read(Path(root) / "course" / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"]) for c in master.cells
            if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")}


def exercises_of(lesson, root):
    r"""``{exercise name: test grade_id}``: the answer cells and the test cell that checks each."""
    master = nbformat.read(Path(root) / "course" / "source" / lesson / f"{lesson}.ipynb", as_version=4)
    found = {}
    for c in master.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            for name in re.findall(r"""check\(\s*["'](\w+)["']""", c.source):
                found.setdefault(name, meta["grade_id"])
    return found


def submit(course, student, lesson, notebook=None, data=None, name=None):
    r"""Put a submission in ``course/submitted/<student>/<lesson>/`` (a notebook, or raw ``data`` bytes)."""
    folder = Path(course) / "submitted" / student / lesson
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{lesson}.ipynb")
    if notebook is not None:
        data = nbformat.writes(notebook, version=4).encode("utf-8")
    path.write_bytes(data if data is not None else b"")
    return path


def grade(course, workers=2, force=False, lessons=None, zip_dir=None, exchange=False, **limits):
    r"""``pipeline.run`` on ``course`` with short sandbox limits and no progress bars."""
    from autograder.pipeline import Options, run
    from autograder.sandbox import Limits

    settings = dict(wall_seconds=8.0, cpu_seconds=6, cell_seconds=3.0, call_seconds=3.0, memory_bytes=512 << 20)
    settings.update(limits)
    return run(Options(course=Path(course), lessons=lessons, zip_dir=zip_dir, exchange=exchange, workers=workers,
                       force=force, progress=False, limits=Limits(**settings)))


def feedback_html(course, student, lesson):
    return (Path(course) / "feedback" / student / lesson / f"{lesson}.html").read_text(encoding="utf-8")


def autograded(course, student, lesson):
    return nbformat.read(Path(course) / "autograded" / student / lesson / f"{lesson}.ipynb", as_version=4)


def cell_output_text(notebook, grade_id):
    r"""All text of a test cell's outputs (streams, results, errors) in the autograded notebook."""
    parts = []
    for output in cell(notebook, grade_id).outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "execute_result":
            parts.append(str(output.data.get("text/plain", "")))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "\n".join(parts)


def gradebook_dump(course):
    r"""The gradebook's contents without database ids and times: students, submissions, every
    grade and comment, in a stable order (to compare two runs)."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}", "nn-from-the-neuron-up") as gb:
        rows.append(("students", sorted(s.id for s in gb.students)))
        rows.append(("assignments", sorted((a.name, [n.name for n in a.notebooks]) for a in gb.assignments)))
        for assignment in sorted(a.name for a in gb.assignments):
            for sub in sorted(gb.assignment_submissions(assignment), key=lambda s: s.student.id):
                for nb in sub.notebooks:
                    grades = sorted((g.cell.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade,
                                     g.max_score) for g in nb.grades)
                    comments = sorted((c.cell.name, c.auto_comment, c.manual_comment) for c in nb.comments)
                    rows.append((assignment, sub.student.id, str(sub.timestamp), nb.name, grades, comments))
    return json.loads(json.dumps(rows, default=str))


def with_cell_removed(notebook, grade_id):
    nb = copy.deepcopy(notebook)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nb
