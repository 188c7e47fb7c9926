r"""Release lessons to students in the four languages, through nbgrader.

``nn-grade release [--lessons 01-neuron ...] [--exchange]`` (:func:`release`):

1. nbgrader's ``GenerateAssignment`` puts each lesson into the gradebook and writes
   ``release/<lesson>/<lesson>.ipynb``, the English student version (the first step of
   ``nn-grade run`` too);
2. the Ukrainian, Russian and Polish student versions that ``nn-course build`` wrote to
   ``lessons/<lang>/<lesson>.ipynb`` are copied to ``release/<lesson>/<lang>/<lesson>.ipynb``,
   after checking that their graded cells are the released ones (same ids, points, checksums);
3. with ``--exchange``: nbgrader's ``ExchangeReleaseAssignment`` copies ``release/<lesson>/`` to
   nbgrader's exchange (``c.Exchange.root`` of ``nbgrader_config.py``), where students fetch it.

Without the exchange (an LMS, e-mail), hand out the folder ``release/<lesson>/`` as it is. A
student opens the notebook of their language, and hands in the whole folder (``nbgrader submit``
does); :func:`autograder.intake.choose_notebook` grades the copy that holds the answers. A single
notebook ``<lesson>.ipynb`` in any language (``--zip``) is graded as before.
"""
from pathlib import Path

from autograder import intake
from autograder.exchange import release as release_to_exchange
from autograder.build import TRANSLATED
from autograder.pipeline import (Course, PipelineError, course_lock, ensure_gradebook, generate_assignments,
                                 nbgrader_config, nbgrader_logger, select_lessons)

GRADING_KEYS = ("grade_id", "points", "checksum", "solution", "grade", "locked")


def _graded_cells(notebook):
    return [{key: cell.metadata["nbgrader"].get(key) for key in GRADING_KEYS} | {"source": cell.source}
            for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade_id")]


def add_languages(course, lesson, lessons_dir):
    r"""Copy ``lessons_dir/<lang>/<lesson>.ipynb`` into ``release/<lesson>/<lang>/`` for uk, ru, pl;
    return the paths written. Raises :class:`PipelineError` when a translation is missing or its
    graded cells are not the released ones (then ``nn-course build`` was not run after a change)."""
    import nbformat

    released = nbformat.read(course.release(lesson), as_version=4)
    written = []
    for lang in TRANSLATED:
        source = Path(lessons_dir) / lang / f"{lesson}.ipynb"
        if not source.is_file():
            raise PipelineError(f"{source} is missing: run `nn-course build` to write the {lang} version of {lesson}")
        if _graded_cells(nbformat.read(source, as_version=4)) != _graded_cells(released):
            raise PipelineError(f"the graded cells of {source} differ from {course.release(lesson)}: "
                                "run `nn-course build`, then release again")
        target = course.release(lesson).parent / lang / f"{lesson}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        intake.atomic_write_bytes(target, source.read_bytes())
        written.append(target)
    return written


def release(course_dir, lessons=None, exchange=False, lessons_dir=None):
    r"""Release ``lessons`` (all by default) in four languages; with ``exchange``, to nbgrader's exchange
    too. ``lessons_dir`` holds the built student versions (default: ``lessons/`` beside the course).
    Returns ``{lesson: [paths written under release/]}``."""
    course = Course(Path(course_dir).resolve())
    if not course.root.is_dir():
        raise PipelineError(f"no course folder {course.root}")
    lessons_dir = Path(lessons_dir) if lessons_dir is not None else course.root.parent / "lessons"
    released = {}
    with course_lock(course):
        logger = nbgrader_logger(course)
        config = nbgrader_config(course)
        lessons = select_lessons(course, lessons)
        ensure_gradebook(course)
        generate_assignments(course, config, lessons, logger)
        for lesson in lessons:
            released[lesson] = [course.release(lesson)] + add_languages(course, lesson, lessons_dir)
            if exchange:
                release_to_exchange(config, lesson, logger)
    return released
