r"""Build the course: one source per lesson, four languages, nbgrader's own student versions.

Commands (``nn-course`` is ``python -m autograder.build``)::

    nn-course build [LESSON ...]    regenerate everything below (the default command)
    nn-course status [LESSON ...]   translation status; exit 1 if a released lesson is incomplete
    nn-course check                 rebuild into a temporary folder; exit 1 naming stale files

For every lesson ``course/lessons/NN-topic.py`` (jupytext percent format, markdown in English) the
build writes, never to be edited by hand:

- ``course/locale/NN-topic.pot`` and the merged ``course/locale/<lang>/LC_MESSAGES/NN-topic.po``
  for uk, ru, pl (see :mod:`autograder.i18n_catalogs`);
- ``solutions/<lang>/NN-topic.ipynb`` for en, uk, ru, pl: markdown translated, code cells shared,
  nbgrader metadata from the cell roles, ``metadata["course"] = {"lesson", "lang"}``, no outputs,
  cell ids ``f"{lesson}-{index}"``;
- ``course/source/NN-topic/NN-topic.ipynb``: the English one, nbgrader's master copy;
- ``lessons/<lang>/NN-topic.ipynb``: the student version cut by nbgrader's ``GenerateAssignment``
  (solutions replaced by the stub, hidden tests removed, checksums) with ``course/nbgrader_config.py``.

When a lesson is renamed or removed, a full build deletes its old notebooks and template, and
``check`` reports them as "orphaned"; its ``.po`` catalogs are kept (translators' work) and named,
to be renamed with the lesson or deleted by hand.

Cell roles, on the ``# %%`` line of a code cell::

    # %% exercise="weighted_sum" role="solution"          -> nbgrader solution cell "weighted_sum"
    # %% exercise="weighted_sum" role="tests" points=2    -> nbgrader graded cell "test_weighted_sum"
"""
import argparse
import difflib
import json
import logging
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import i18n_catalogs as catalogs

LANGUAGES = ("en", "uk", "ru", "pl")
SOURCE_LANGUAGE = "en"
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)
LESSON_ID = re.compile(r"\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
ROLE_KEYS = ("exercise", "role", "points")
JUPYTEXT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker")  # layout of the .py only
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_]\w*)["']""")

log = logging.getLogger(__name__)


class BuildError(Exception):
    r"""A lesson source, catalog or course file the build cannot use; the message says which and why."""


@dataclass(frozen=True)
class Layout:
    r"""Where a course checkout keeps each file (``root`` is the repository root)."""
    root: Path

    @property
    def lessons_dir(self):
        return self.root / "course" / "lessons"

    @property
    def released(self):
        return self.lessons_dir / "RELEASED"

    @property
    def nbgrader_config(self):
        return self.root / "course" / "nbgrader_config.py"

    def lesson_source(self, lesson):
        return self.lessons_dir / f"{lesson}.py"

    def template(self, lesson):
        return self.root / "course" / "locale" / f"{lesson}.pot"

    def catalog(self, lesson, lang):
        return self.root / "course" / "locale" / lang / "LC_MESSAGES" / f"{lesson}.po"

    def solution(self, lesson, lang):
        return self.root / "solutions" / lang / f"{lesson}.ipynb"

    def master(self, lesson):
        return self.root / "course" / "source" / lesson / f"{lesson}.ipynb"

    def student(self, lesson, lang):
        return self.root / "lessons" / lang / f"{lesson}.ipynb"


# ----------------------------------------------------------------------------------------- sources

def find_lessons(root):
    r"""Ids of the lessons in ``course/lessons/`` (``NN-topic.py`` files), sorted."""
    folder = Layout(Path(root)).lessons_dir
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.py") if LESSON_ID.fullmatch(p.stem))


def read_released(root):
    r"""Lesson ids listed in ``course/lessons/RELEASED`` (one per line; blank lines and ``#`` comments skipped)."""
    path = Layout(Path(root)).released
    if not path.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _select(root, lessons):
    r"""``lessons`` (all when empty), each checked to have a source."""
    known = find_lessons(root)
    for lesson in lessons or ():
        if lesson not in known:
            where = Layout(Path(root)).lessons_dir
            raise BuildError(f"no lesson {lesson!r} in {where}; lessons: {', '.join(known) or 'none'}")
    return list(lessons) if lessons else known


def read_lesson(path):
    r"""The jupytext notebook of a lesson source (percent format)."""
    import jupytext

    path = Path(path)
    if not path.exists():
        raise BuildError(f"no lesson source {path}")
    return jupytext.read(path, fmt="py:percent")


def _where(lesson, index, cell):
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return f"{lesson}.py, cell {index} ({first[:50]!r})"


def nbgrader_metadata(metadata, where="cell"):
    r"""nbgrader metadata (schema 3) for a cell's jupytext metadata, or None for a plain cell.

    ``role="solution"`` -> ``{"solution": true, "grade": false, "locked": false, "grade_id": exercise}``;
    ``role="tests"`` -> ``{"grade": true, "solution": false, "locked": true, "points": N,
    "grade_id": "test_" + exercise}``.
    """
    role = metadata.get("role")
    if role is None:
        if "exercise" in metadata or "points" in metadata:
            raise BuildError(f'{where}: exercise/points given without role="solution" or role="tests"')
        return None
    exercise = metadata.get("exercise")
    if not isinstance(exercise, str) or not re.fullmatch(r"[A-Za-z_]\w*", exercise):
        raise BuildError(f'{where}: role={role!r} needs exercise="<function name>", got {exercise!r}')
    if role == "solution":
        return {"grade": False, "grade_id": exercise, "locked": False, "schema_version": 3, "solution": True}
    if role == "tests":
        points = metadata.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
            raise BuildError(f"{where}: a tests cell needs points=N (a positive number), got {points!r}")
        return {"grade": True, "grade_id": f"test_{exercise}", "locked": True, "points": points,
                "schema_version": 3, "solution": False}
    raise BuildError(f'{where}: unknown role {role!r}; use role="solution" or role="tests"')


def validate_lesson(lesson, notebook, registry=None):
    r"""Check the cell roles of a lesson before nbgrader sees it; raise BuildError naming the cell.

    ``registry`` (default: :data:`autograder.exercises.EXERCISES`) must know every exercise of a
    solution cell and every name passed to ``check("name", ...)`` in a tests cell.
    """
    if registry is None:
        from autograder.exercises import EXERCISES as registry
    grade_ids = {}
    for index, cell in enumerate(notebook.cells):
        where = _where(lesson, index, cell)
        grading = nbgrader_metadata(cell.metadata, where)
        role = cell.metadata.get("role")
        if grading is not None and cell.cell_type != "code":
            raise BuildError(f"{where}: role={role!r} is only for code cells, this is a {cell.cell_type} cell")
        if role == "solution" and not all(marker in cell.source for marker in SOLUTION_MARKERS):
            raise BuildError(f'{where}: a role="solution" cell needs the answer between '
                             f'"{SOLUTION_MARKERS[0]}" and "{SOLUTION_MARKERS[1]}"')
        for marker, allowed in [(m, "solution") for m in SOLUTION_MARKERS] + [(m, "tests") for m in HIDDEN_MARKERS]:
            if marker in cell.source and role != allowed:
                raise BuildError(f'{where}: "{marker}" is only allowed in a role="{allowed}" cell')
        if grading is None:
            continue
        if grading["grade_id"] in grade_ids:
            raise BuildError(f"{where}: grade_id {grading['grade_id']!r} already used by cell {grade_ids[grading['grade_id']]}")
        grade_ids[grading["grade_id"]] = index
        names = [cell.metadata["exercise"]] if role == "solution" else CHECK_CALL.findall(cell.source)
        if role == "tests" and not names:
            raise BuildError(f'{where}: a tests cell must call check("<exercise>", <function>)')
        for name in names:
            if name not in registry:
                close = difflib.get_close_matches(name, list(registry), n=1, cutoff=0.5)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise BuildError(f"{where}: unknown exercise {name!r}.{hint} Register it in autograder/exercises/.")


# --------------------------------------------------------------------------------------- notebooks

def build_notebook(lesson, source, lang, translated):
    r"""The ``lang`` notebook of a lesson: markdown from ``translated`` (``{english: translation}``,
    English when absent), code cells as in the source, nbgrader metadata, no outputs."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "course": {"lang": lang, "lesson": lesson},
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(source.cells):
        metadata = {k: v for k, v in cell.metadata.items() if k not in ROLE_KEYS + JUPYTEXT_KEYS}
        grading = nbgrader_metadata(cell.metadata, _where(lesson, index, cell))
        if grading is not None:
            metadata["nbgrader"] = grading
        cell_id = f"{lesson}-{index}"
        if cell.cell_type == "markdown":
            text = translated.get(cell.source, cell.source)
            notebook.cells.append(nbformat.v4.new_markdown_cell(text, metadata=metadata, id=cell_id))
        elif cell.cell_type == "code":
            notebook.cells.append(nbformat.v4.new_code_cell(cell.source, metadata=metadata, id=cell_id))
        else:
            notebook.cells.append(nbformat.v4.new_raw_cell(cell.source, metadata=metadata, id=cell_id))
    return notebook


def notebook_text(notebook):
    r"""The .ipynb text exactly as ``nbformat.write`` saves it (validated, trailing newline)."""
    import nbformat

    nbformat.validate(notebook)
    text = nbformat.writes(notebook, version=4)
    return text if text.endswith("\n") else text + "\n"


def nbgrader_config(config_file, course_root, db_url):
    r"""The course's nbgrader config (``course/nbgrader_config.py``) pointed at another course root and gradebook."""
    from traitlets.config.loader import PyFileConfigLoader

    config_file = Path(config_file)
    if not config_file.exists():
        raise BuildError(f"missing {config_file}: the nbgrader course configuration the student versions are cut with")
    config = PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.db_url = db_url
    config.CourseDirectory.assignment_id = "*"
    config.CourseDirectory.notebook_id = "*"
    return config


def student_versions(config_file, notebooks, workdir):
    r"""Run nbgrader's GenerateAssignment on ``{(lesson, lang): ipynb text}``; return ``{(lesson, lang): bytes}``.

    One temporary course per language (``workdir/<lang>/source/<lesson>/<lesson>.ipynb``), one
    temporary gradebook for all, one GenerateAssignment per language, all in this process.
    """
    import sqlalchemy
    from nbgrader.api import Base as gradebook_tables
    from nbgrader.converters import GenerateAssignment
    from nbgrader.converters.base import NbGraderException
    from nbgrader.coursedir import CourseDirectory

    workdir = Path(workdir)
    db_url = f"sqlite:///{workdir / 'gradebook.db'}"
    # Create the gradebook's tables up front: nbgrader would otherwise spawn the `alembic` script
    # (2 s, and it must be on PATH) only to stamp a schema version this throw-away database never needs.
    engine = sqlalchemy.create_engine(db_url)
    gradebook_tables.metadata.create_all(engine)
    engine.dispose()
    nbgrader_log = logging.getLogger(f"{__name__}.nbgrader")
    released = {}
    for lang in sorted({lang for _, lang in notebooks}):
        course_root = workdir / lang
        lessons = sorted(lesson for lesson, l in notebooks if l == lang)
        for lesson in lessons:
            path = course_root / "source" / lesson / f"{lesson}.ipynb"
            path.parent.mkdir(parents=True)
            path.write_text(notebooks[lesson, lang], encoding="utf-8")
        config = nbgrader_config(config_file, course_root, db_url)
        converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config, log=nbgrader_log)
        try:
            converter.start()
        except NbGraderException as err:
            raise BuildError(f"nbgrader generate_assignment failed for {', '.join(lessons)} ({lang}): {err}") from None
        for lesson in lessons:
            released[lesson, lang] = (course_root / "release" / lesson / f"{lesson}.ipynb").read_bytes()
    return released


# ------------------------------------------------------------------------------------------- build

@dataclass(frozen=True)
class BuildResult:
    r"""Files a build produced (paths relative to the output root), those whose content changed, and
    the generated files of removed or renamed lessons that a full build deleted."""
    files: list
    changed: list
    removed: list


def _generated_paths(layout, lesson):
    r"""Every file the build writes for ``lesson`` except the translation catalogs."""
    return ([layout.template(lesson), layout.master(lesson)]
            + [layout.solution(lesson, lang) for lang in LANGUAGES]
            + [layout.student(lesson, lang) for lang in LANGUAGES])


def _lessons_on_disk(root):
    r"""Lesson ids that have generated files or catalogs in ``root``, with or without a source."""
    found = [p.stem for p in (root / "course" / "locale").glob("**/*.po*")]
    found += [p.name for p in (root / "course" / "source").glob("*")]
    found += [p.stem for folder in ("solutions", "lessons") for p in (root / folder).glob("*/*.ipynb")]
    return {name for name in found if LESSON_ID.fullmatch(name)}


def _made_by_the_build(path, lesson):
    """Whether ``path`` carries the build's mark: a notebook with ``metadata["course"]["lesson"]``, a
    template with the build's header. Anything else with a lesson's name (say, an assignment an
    instructor put in ``course/source/`` by hand) is not the build's to delete."""
    try:
        if path.suffix == ".pot":
            return "Generated by `nn-course build`" in path.read_text(encoding="utf-8")[:500]
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        return isinstance(metadata, dict) and (metadata.get("course") or {}).get("lesson") == lesson
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return False


def orphans(root):
    r"""Generated files of lessons whose source is gone (removed or renamed): the ``.pot`` template
    and the notebooks that carry the build's mark (relative paths, sorted). A full build deletes
    them and ``check`` reports them. Translation catalogs (``.po``) are never listed: they hold
    translators' work (see ``orphan_catalogs``). Without any lesson source (a wrong ``--root``?)
    nothing is an orphan."""
    root = Path(root)
    layout = Layout(root)
    current = set(find_lessons(root))
    if not current:
        return []
    return sorted(p.relative_to(root) for lesson in _lessons_on_disk(root) - current
                  for p in _generated_paths(layout, lesson) if p.exists() and _made_by_the_build(p, lesson))


def orphan_catalogs(root):
    r"""Translation catalogs (``.po``) of lessons whose source is gone: kept, for a maintainer to move
    to the lesson's new name or delete (relative paths, sorted)."""
    root = Path(root)
    layout = Layout(root)
    gone = _lessons_on_disk(root) - set(find_lessons(root))
    paths = (layout.catalog(lesson, lang) for lesson in gone for lang in TRANSLATED)
    return sorted(p.relative_to(root) for p in paths if p.exists())


def generate(root, lessons=None):
    r"""Everything the build writes, in memory: ``{relative path: bytes}`` (reads ``root``, writes nothing)."""
    root = Path(root)
    layout = Layout(root)
    outputs, notebooks = {}, {}
    for lesson in _select(root, lessons):
        source = read_lesson(layout.lesson_source(lesson))
        validate_lesson(lesson, source)
        pot = catalogs.template(lesson, source.cells)
        outputs[layout.template(lesson)] = str(pot).encode("utf-8")
        for lang in LANGUAGES:
            translated = {}
            if lang != SOURCE_LANGUAGE:
                po = catalogs.merge(pot, catalogs.load(layout.catalog(lesson, lang)), lesson, lang)
                outputs[layout.catalog(lesson, lang)] = str(po).encode("utf-8")
                translated = catalogs.translations(po)
            notebooks[lesson, lang] = notebook_text(build_notebook(lesson, source, lang, translated))
            outputs[layout.solution(lesson, lang)] = notebooks[lesson, lang].encode("utf-8")
        outputs[layout.master(lesson)] = notebooks[lesson, SOURCE_LANGUAGE].encode("utf-8")
    if notebooks:
        with tempfile.TemporaryDirectory(prefix="nn-course-") as workdir:
            for (lesson, lang), data in student_versions(layout.nbgrader_config, notebooks, workdir).items():
                outputs[layout.student(lesson, lang)] = data
    return {path.relative_to(root): data for path, data in outputs.items()}


def _require_lessons(root):
    """A ``BuildError`` when ``root`` has no lesson source: a wrong ``--root``, most likely."""
    if not find_lessons(root):
        raise BuildError(f"no lesson sources in {Layout(Path(root)).lessons_dir} (course/lessons/NN-topic.py): "
                         "nothing was built, checked or deleted; is --root the repository root?")


def build(root, out=None, lessons=None):
    r"""Generate every file of the lessons (all by default) from ``root`` and write them under ``out``
    (default ``root``); a file is rewritten only when its content changes. A build of all lessons into
    ``root`` also deletes the generated files of lessons whose source is gone (``orphans``)."""
    out = Path(out) if out is not None else Path(root)
    _require_lessons(root)
    outputs = generate(root, lessons)
    changed = []
    for rel, data in sorted(outputs.items()):
        path = out / rel
        if path.exists() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        changed.append(rel)
    removed = orphans(root) if not lessons and out == Path(root) else []
    for rel in removed:
        (out / rel).unlink()
    for folder in {(out / rel).parent for rel in removed if rel.parts[:2] == ("course", "source")}:
        if not any(folder.iterdir()):
            folder.rmdir()   # course/source/<lesson>/ held only the master copy
    return BuildResult(files=sorted(outputs), changed=changed, removed=removed)


def check(root):
    r"""Generated files of ``root`` that differ from a fresh build:
    ``[(relative path, "missing"|"differs"|"orphaned")]`` (orphaned: its lesson's source is gone)."""
    root = Path(root)
    _require_lessons(root)
    stale = [(rel, "orphaned") for rel in orphans(root)]
    for rel, data in sorted(generate(root).items()):
        path = root / rel
        if not path.exists():
            stale.append((rel, "missing"))
        elif path.read_bytes() != data:
            stale.append((rel, "differs"))
    return sorted(stale)


# ------------------------------------------------------------------------------------------ status

def status(root, lessons=None):
    r""":class:`autograder.i18n_catalogs.CatalogStatus` of every lesson and translated language,
    against the CURRENT source (the catalogs on disk merged in memory, as the next build would)."""
    root = Path(root)
    _require_lessons(root)
    layout = Layout(root)
    result = []
    for lesson in _select(root, lessons):
        pot = catalogs.template(lesson, read_lesson(layout.lesson_source(lesson)).cells)
        for lang in TRANSLATED:
            po = catalogs.merge(pot, catalogs.load(layout.catalog(lesson, lang)), lesson, lang)
            result.append(catalogs.status(po, lesson, lang))
    return result


def _excerpt(entry):
    cells = ", ".join(line for _, line in entry.occurrences)
    text = " ".join(entry.msgid.split())
    return f"cell {cells}: {text[:70] + '…' if len(text) > 70 else text}"


def status_report(statuses, released, limit=None):
    r"""The text ``nn-course status`` prints, and whether every released lesson is complete.

    ``limit`` caps the stale and missing entries listed per lesson and language (None: all).
    """
    lines = [f"{'lesson':<22}{'lang':<6}{'translated':>17}{'stale':>7}{'missing':>9}"]
    for s in statuses:
        mark = "  released" if s.lesson in released else ""
        share = f"{100 * s.share:.1f}% ({s.translated}/{s.total})"
        lines.append(f"{s.lesson:<22}{s.lang:<6}{share:>17}{len(s.stale):>7}{len(s.missing):>9}{mark}")
    for s in statuses:
        listed = [("stale", e) for e in s.stale] + [("missing", e) for e in s.missing]
        shown = listed if limit is None else listed[:limit]
        lines += [f"  {kind:<8} {s.lesson} {s.lang} {_excerpt(e)}" for kind, e in shown]
        if len(shown) < len(listed):
            lines.append(f"  ... and {len(listed) - len(shown)} more in {s.lesson} {s.lang} (--all lists every entry)")
    present = {s.lesson for s in statuses}
    problems = [f"{s.lesson} ({s.lang})" for s in statuses if s.lesson in released and not s.complete]
    problems += [f"{lesson} (no source course/lessons/{lesson}.py)" for lesson in released if lesson not in present]
    if problems:
        lines.append("Released lessons with missing or stale translations: " + ", ".join(problems))
    else:
        lines.append("Every released lesson is fully translated.")
    return "\n".join(lines), not problems


# --------------------------------------------------------------------------------------------- CLI

def default_root():
    r"""The current directory when it holds ``course/lessons``, else the checkout this package lives in."""
    cwd = Path.cwd()
    return cwd if (cwd / "course" / "lessons").is_dir() else Path(__file__).resolve().parents[1]


def main(argv=None):
    r"""Entry point of ``nn-course`` and ``python -m autograder.build``; returns the exit code."""
    parser = argparse.ArgumentParser(prog="nn-course", description="Build the course notebooks in four languages.")
    parser.add_argument("--root", type=Path, default=None,
                        help="repository root (default: the current directory if it holds course/lessons, else this checkout)")
    commands = parser.add_subparsers(dest="command", metavar="{build,status,check}")
    build_parser = commands.add_parser("build", help="regenerate catalogs and notebooks (default)")
    build_parser.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    status_parser = commands.add_parser("status", help="translation status; exit 1 if a released lesson is incomplete")
    status_parser.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    status_parser.add_argument("--all", action="store_true", help="list every stale and missing entry (default: 5 each)")
    commands.add_parser("check", help="exit 1 if a committed generated file is stale")
    args = parser.parse_args(argv)
    root = args.root or default_root()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "status":
            released = read_released(root)
            if args.lessons:
                released = [lesson for lesson in released if lesson in args.lessons]
            text, ok = status_report(status(root, args.lessons), released, limit=None if args.all else 5)
            print(text)
            return 0 if ok else 1
        if args.command == "check":
            stale = check(root)
            for rel, reason in stale:
                print(f"stale: {rel} ({reason})")
            for rel in orphan_catalogs(root):
                print(f"note: {rel} has no lesson source any more (kept: rename it with its lesson, or delete it)")
            print(f"{len(stale)} generated files are stale: run `nn-course build`." if stale
                  else "Generated files are up to date.")
            return 1 if stale else 0
        result = build(root, lessons=getattr(args, "lessons", None))
        print(f"{len(result.files)} files generated, {len(result.changed)} changed.")
        for rel in result.changed:
            print(f"  wrote {rel}")
        for rel in result.removed:
            print(f"  removed {rel} (its lesson's source is gone)")
        for rel in orphan_catalogs(root):
            print(f"  kept {rel}: its lesson's source is gone; rename it with its lesson, or delete it")
        return 0
    except BuildError as err:
        print(f"nn-course: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
