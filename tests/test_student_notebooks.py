"""The student notebooks as a student first runs them, in every language.

Before any exercise is solved, every cell must run except the exercises' check cells (they report
the unsolved exercise, in the notebook's language) and the cells that call an unsolved exercise
function (its stub raises ``NotImplementedError``). A demonstration, plot or widget that breaks for
any other reason in the student version fails here; the solutions notebooks are run by nbval.
"""
import re
from pathlib import Path

import nbclient
import nbformat
import pytest

from autograder import build
from autograder.messages import translate

REPO = Path(__file__).resolve().parents[1]
LESSONS = build.find_lessons(REPO)


def run_student_notebook(lesson, lang):
    path = REPO / "lessons" / lang / f"{lesson}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(notebook, timeout=180, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook


def errors(cell):
    return [out for out in cell.get("outputs", []) if out.output_type == "error"]


@pytest.mark.parametrize("lang", build.LANGUAGES)
@pytest.mark.parametrize("lesson", LESSONS)
def test_untouched_student_notebook_fails_only_where_an_exercise_is_unsolved(lesson, lang):
    notebook = run_student_notebook(lesson, lang)
    graded = {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells
              if cell.metadata.get("nbgrader", {}).get("grade")}
    exercises = [cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells
                 if cell.metadata.get("nbgrader", {}).get("solution")]
    assert exercises and set(graded) == {f"test_{name}" for name in exercises}
    calls_an_exercise = re.compile(r"\b(?:%s)\(" % "|".join(map(re.escape, exercises)))
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or not errors(cell):
            continue
        [error] = errors(cell)
        where = f"{lesson} ({lang}) cell {index}: {cell.source.splitlines()[0]!r}"
        if cell in graded.values():
            name = cell.metadata["nbgrader"]["grade_id"][len("test_"):]
            assert error.ename == "CheckFailed", f"{where} raised {error.ename}: {error.evalue}"
            total = error.evalue.splitlines()[0].rsplit("/", 1)[1].split()[0]
            summary = translate("{mark} {name}: {passed}/{total} visible cases pass", lang,
                                mark="✗", name=name, passed=0, total=total)
            assert error.evalue.startswith(summary), f"{where}: {error.evalue.splitlines()[0]!r}"
        else:
            assert error.ename == "NotImplementedError" and calls_an_exercise.search(cell.source), \
                f"{where} raised {error.ename}: {error.evalue}"
    unchecked = [grade_id for grade_id, cell in graded.items() if not errors(cell)]
    assert unchecked == [], f"{lesson} ({lang}): these checks passed on the untouched stubs: {unchecked}"
