r"""Intake: look at what a student handed in before anything grades it, and make it safe to grade.

A submission is the folder ``submitted/<student>/<lesson>/`` holding ``<lesson>.ipynb`` (and maybe a
``timestamp.txt``). A lesson released in four languages (``nn-grade release``) also holds
``uk/``, ``ru/`` and ``pl/``, each with its own ``<lesson>.ipynb``: the student works in one of them
and hands in the whole folder, and :func:`choose_notebook` picks the copy that holds the answers.
:func:`inspect_submission` reads it WITHOUT trusting it and returns a :class:`Submission`: the notebook rebuilt from its cells into a clean nbformat-4 notebook, and a list
of :class:`Problem` (student, lesson, path, reason), each naming the file and what is wrong with it.
A problem never stops the run: the pipeline reports it and goes on with the next submission.

What is checked, and what happens (the instructor's copy always wins):

=============================  ==================================================================
input                          outcome
=============================  ==================================================================
empty folder                   not graded (0 points): "the submission folder was empty"
no ``<lesson>.ipynb``           not graded: "missing notebook" (other notebooks are named)
answers in several languages   the copy with the most answers is graded; the others are reported
not JSON / not UTF-8 text      not graded: "not a notebook: ... is not valid JSON"
``nbformat`` major != 4        not graded: "notebook format version 3 is not supported"
larger than 32 MiB             not graded
extra files / notebooks        ignored and reported (they never reach the grader)
file name not UTF-8            ignored and reported with its bytes escaped
student folder unusable        skipped and reported (not UTF-8, or a comma/wildcard in the id)
test cell deleted              the instructor's cell is put back; feedback says it was restored
solution cell deleted          the empty stub is put back (0 points for that exercise)
test cell edited               the instructor's source is used; feedback says so
locked cell edited             the instructor's source is used
grade metadata/points changed  the instructor's nbgrader metadata is used; reported
cell of an unknown grade_id    its nbgrader metadata is removed (it earns nothing); reported
duplicated grade_id            later copies lose their nbgrader metadata; reported
malformed cells                rebuilt (source joined, bad metadata dropped) or skipped; reported
=============================  ==================================================================

A problem the student should hear about has an English msgid in :data:`FEEDBACK` (translated in
the feedback); a fatal one becomes "not graded: <reason>" in every test cell.

The "instructor's copy" is the released notebook ``release/<lesson>/<lesson>.ipynb`` cut by nbgrader
(graded cells with their checksums, tests without the hidden part); nbgrader itself then puts the
hidden tests back from its gradebook during ``autograde`` (``OverwriteCells``). Code cells are the
same in the four languages, so one released notebook checks a submission in any language.
"""
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import NamedTuple
from pathlib import Path

from autograder.messages import N_

LANGUAGES = ("en", "uk", "ru", "pl")
NBGRADER_KEYS = ("grade", "solution", "locked", "points", "grade_id", "task", "cell_type")
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
KEPT_CELL_METADATA = ("tags", "editable", "deletable")
# What nbgrader's submit and collect write beside the notebooks (read by nbgrader, not graded)
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")
IGNORED_DIRS = (".ipynb_checkpoints",)

NOTEBOOK_MAX_BYTES = 32 << 20
SECRET = re.compile(r"^[0-9a-f]{16,256}$")     # nbgrader submit writes secrets.token_hex(64)
STUDENT_ID = re.compile(r"^[^,*?\[\]/\\\s][^,*?\[\]/\\]{0,127}$")

# What the student is told (an English msgid of the autograder catalog, translated at feedback time)
# for each kind of problem; kinds without an entry are only in the instructor's report. The
# reasons of fatal problems are short: the student reads them as "not graded: <reason>".
FEEDBACK = {
    "empty": N_("the submission folder was empty"),
    "missing_notebook": N_("the notebook {notebook} was not in the submission"),
    "not_json": N_("{notebook} is not a readable notebook (not valid JSON)"),
    "nbformat": N_("{notebook} has notebook format version {version}, which is not supported"),
    "too_large": N_("{notebook} is larger than {size} MiB"),
    "extra_file": N_("The extra file {name} was ignored."),
    "several_languages": N_("Your answers were in more than one language's notebook ({notebooks}); {graded} was graded."),
    "bad_file_name": N_("A file whose name is not valid UTF-8 was ignored."),
    "missing_test_cell": N_("The test cell {grade_id} was missing from your notebook; the instructor's version was restored and used."),
    "missing_solution_cell": N_("The answer cell {grade_id} was missing from your notebook; it counts as not answered."),
    "edited_test_cell": N_("The test cell {grade_id} was edited; the instructor's version was restored and used."),
    "edited_locked_cell": N_("The read-only cell {grade_id} was edited; the instructor's version was restored and used."),
    "changed_metadata": N_("The grading settings of cell {grade_id} were changed; the instructor's settings were used."),
    "unknown_graded_cell": N_("A cell claimed to be graded as {grade_id}, which this lesson does not have; it earns nothing."),
    "duplicate_cell": N_("The graded cell {grade_id} appeared more than once; only the first copy was used."),
    "malformed_cell": N_("A malformed cell ({where}) was repaired or skipped."),
}


@dataclass(frozen=True)
class Problem:
    r"""One thing wrong with a submission: who, which lesson, which file, and why (English).

    ``kind`` is a key of :data:`FEEDBACK`; ``fields`` fill that message's placeholders;
    ``grade_id`` names the graded cell it concerns ("" when none); ``fatal`` means the submission
    cannot be graded at all (it scores 0).
    """
    student: str
    lesson: str
    path: str
    reason: str
    kind: str = ""
    grade_id: str = ""
    fatal: bool = False
    fields: dict = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self):
        return {"student": self.student, "lesson": self.lesson, "path": self.path, "reason": self.reason,
                "kind": self.kind, "grade_id": self.grade_id, "fatal": self.fatal, "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data):
        return cls(**{k: data[k] for k in ("student", "lesson", "path", "reason", "kind", "grade_id", "fatal")},
                   fields=dict(data.get("fields", {})))


@dataclass
class Submission:
    r"""A submission after intake.

    ``notebook`` is the rebuilt notebook to grade (None when the submission cannot be graded: see
    ``problems``); ``lang`` its language (``metadata["course"]["lang"]``, "en" when unknown);
    ``digest`` the SHA-256 of the notebook file's bytes ("" when there is none); ``timestamp`` the
    text of ``timestamp.txt`` when the collector wrote one; ``secret`` the text of
    ``submission_secret.txt`` that ``nbgrader submit`` wrote (it keys the feedback nbgrader's
    exchange hands back).
    """
    student: str
    lesson: str
    folder: Path
    notebook: object = None
    lang: str = "en"
    digest: str = ""
    timestamp: str = ""
    secret: str = ""
    problems: list = field(default_factory=list)

    @property
    def gradable(self):
        return self.notebook is not None and not any(p.fatal for p in self.problems)

    @property
    def fatal_reason(self):
        return next((p for p in self.problems if p.fatal), None)


def display_name(name):
    r"""A file name fit for a report: invalid UTF-8 bytes (``os.listdir``'s surrogates) shown escaped."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def valid_name(name):
    r"""Whether ``name`` (from ``os.listdir``) is valid UTF-8."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def find_submissions(submitted_dir, lessons):
    r"""Every ``(student, lesson, folder)`` under ``submitted_dir`` for the given lessons, sorted, and
    the problems of the folders that cannot be a submission (bad names, unknown lessons, stray files)."""
    submitted_dir = Path(submitted_dir)
    found, problems = [], []
    if not submitted_dir.is_dir():
        return found, problems
    for student in sorted(os.listdir(submitted_dir)):
        student_dir = submitted_dir / student
        rel = f"submitted/{display_name(student)}"
        if not valid_name(student):
            problems.append(Problem(display_name(student), "", rel, f"{rel}: the student folder's name is not valid "
                                    "UTF-8; it was skipped", kind="bad_file_name"))
            continue
        if student_dir.is_dir() and not student.startswith(".") and not STUDENT_ID.match(student):
            problems.append(Problem(student, "", rel, f"{rel}: the student id {student!r} cannot be used by nbgrader "
                                    "(commas, wildcards or spaces at the start); it was skipped", kind="bad_file_name"))
            continue
        if not student_dir.is_dir() or student.startswith("."):
            if not student.startswith("."):
                problems.append(Problem(student, "", rel, f"{rel}: not a student folder (a file); it was ignored",
                                        kind="extra_file", fields={"name": student}))
            continue
        for lesson in sorted(os.listdir(student_dir)):
            folder = student_dir / lesson
            rel = f"submitted/{student}/{display_name(lesson)}"
            if lesson in lessons and folder.is_dir():
                found.append((student, lesson, folder))
            elif lesson != "timestamp.txt" and not lesson.startswith("."):
                problems.append(Problem(student, display_name(lesson), rel,
                                        f"{rel}: not a lesson of this course (lessons: {', '.join(lessons)}); "
                                        "it was ignored", kind="extra_file", fields={"name": display_name(lesson)}))
    return found, problems


def _problem(sub, path, kind, reason, grade_id="", fatal=False, **fields):
    fields.setdefault("grade_id", grade_id)
    sub.problems.append(Problem(sub.student, sub.lesson, path, reason, kind=kind, grade_id=grade_id,
                                fatal=fatal, fields={k: str(v) for k, v in fields.items()}))


def _work_done(path, stubs):
    r"""``(answers, runs)`` of the notebook at ``path``: how many answer cells differ from the released
    stubs ``stubs`` (``{grade_id: source}``), and how many code cells were run; ``(-1, -1)`` when
    the file is too large or not a notebook."""
    try:
        if path.stat().st_size > NOTEBOOK_MAX_BYTES:
            return -1, -1
        cells = json.loads(path.read_bytes().decode("utf-8"))["cells"]
        answers = runs = 0
        for cell in cells:
            grading = cell.get("metadata", {}).get("nbgrader", {})
            grade_id = grading.get("grade_id")
            if grading.get("solution") and grade_id in stubs and _source(cell.get("source", "")) != stubs[grade_id]:
                answers += 1
            runs += cell.get("cell_type") == "code" and cell.get("execution_count") is not None
        return answers, runs
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError):
        return -1, -1


def _is_link(path):
    """Whether ``path`` is a symbolic link; an entry that cannot even be looked at counts as one."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False
    except OSError:
        return True


def _regular_file(folder, rel):
    r"""Whether ``folder/rel`` is a readable file reached without a symbolic link (a link could point anywhere)."""
    path = Path(folder) / rel
    if any(_is_link(p) for p in [path, *path.parents[:len(Path(rel).parts) - 1]]):
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


class Choice(NamedTuple):
    """Which notebook of a submission to grade (``chosen``, relative to its folder; None when there is
    none), the copies ``passed_over`` although they held answers, and those ``unreadable``."""
    chosen: object
    passed_over: list
    unreadable: list


def choose_notebook(folder, lesson, release):
    r"""The :class:`Choice` of the notebook of the submission ``folder`` to grade.

    The candidates are ``<lesson>.ipynb`` and ``<lang>/<lesson>.ipynb`` for each language folder (a
    lesson released in four languages). The copy with the most answer cells changed from the
    released stubs wins; among equals, the one with the most cells run (the one the student
    worked in, so that the feedback is in their language), then the top-level one.
    """
    folder = Path(folder)
    name = f"{lesson}.ipynb"
    candidates = [rel for rel in [name] + [f"{lang}/{name}" for lang in LANGUAGES] if _regular_file(folder, rel)]
    if len(candidates) <= 1:
        return Choice(candidates[0] if candidates else None, [], [])
    stubs = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in release.cells
             if cell.metadata.get("nbgrader", {}).get("solution")}
    work = {rel: _work_done(folder / rel, stubs) for rel in candidates}
    ranked = sorted(candidates, key=lambda rel: (*work[rel], rel == name), reverse=True)
    return Choice(ranked[0], [rel for rel in ranked[1:] if work[rel][0] > 0],
                  [rel for rel in ranked[1:] if work[rel][0] < 0])


def inspect_submission(student, lesson, folder, release, course_dir=None):
    r"""Read ``folder`` (``submitted/<student>/<lesson>``) against the released notebook ``release``
    (a NotebookNode) and return the :class:`Submission` (never raises on bad student input)."""
    folder = Path(folder)
    sub = Submission(student=student, lesson=lesson, folder=folder)
    base = f"submitted/{student}/{lesson}"
    expected = f"{lesson}.ipynb"
    try:
        names = sorted(os.listdir(folder))
    except OSError as err:
        _problem(sub, base, "empty", f"{base}: cannot be read ({err.strerror}); nothing was graded", fatal=True)
        return sub
    visible = [n for n in names if not n.startswith(".") and n not in IGNORED_DIRS]
    if not visible:
        _problem(sub, base, "empty", f"{base}: the submission folder is empty; nothing was graded", fatal=True)
        return sub
    for name in visible:
        shown = display_name(name)
        if _is_link(folder / name):
            _problem(sub, f"{base}/{shown}", "extra_file",
                     f"{base}/{shown}: a symbolic link, not a file; it was ignored", name=shown)
        elif name in LANGUAGES and (folder / name).is_dir():
            _check_language_folder(sub, base, folder / name, expected)
        elif not valid_name(name):
            _problem(sub, f"{base}/{shown}", "bad_file_name",
                     f"{base}/{shown}: the file name is not valid UTF-8; the file was ignored")
        elif name == "submission_secret.txt":
            text = _read_text(folder / name, 256)
            if text is not None and SECRET.match(text):
                sub.secret = text
            else:
                _problem(sub, f"{base}/{name}", "extra_file", f"{base}/{name}: not a submission secret; ignored",
                         name=name)
        elif name == "timestamp.txt":
            text = _read_text(folder / name, 256)
            if text is None:
                _problem(sub, f"{base}/{name}", "extra_file", f"{base}/{name}: unreadable timestamp; ignored",
                         name=name)
            else:
                sub.timestamp = text[:64]
        elif name != expected and name not in NBGRADER_FILES:
            what = "an extra notebook" if name.endswith(".ipynb") else "an extra file"
            _problem(sub, f"{base}/{shown}", "extra_file",
                     f"{base}/{shown}: {what}, not part of the lesson; it was ignored", name=shown)
    chosen, passed_over, unreadable = choose_notebook(folder, lesson, release)
    for rel in unreadable:
        _problem(sub, f"{base}/{rel}", "extra_file", f"{base}/{rel}: not a readable notebook; it was not graded",
                 name=rel)
    if chosen is None:
        others = [display_name(n) for n in visible if n.endswith(".ipynb")]
        found = f" (found: {', '.join(others)})" if others else ""
        _problem(sub, f"{base}/{expected}", "missing_notebook",
                 f"{base}/{expected}: missing notebook{found}; nothing was graded", fatal=True, notebook=expected)
        return sub
    if passed_over:
        _problem(sub, base, "several_languages", f"{base}: answers in {', '.join([chosen] + passed_over)}; "
                 f"{chosen} was graded (it holds the most answers)",
                 notebooks=", ".join([chosen] + passed_over), graded=chosen)
    path = folder / chosen
    rel = f"{base}/{chosen}"
    size = path.stat().st_size
    if size > NOTEBOOK_MAX_BYTES:
        _problem(sub, rel, "too_large", f"{rel}: the notebook has {size} bytes, more than {NOTEBOOK_MAX_BYTES >> 20} MiB; "
                 "nothing was graded", fatal=True, notebook=chosen, size=NOTEBOOK_MAX_BYTES >> 20)
        return sub
    try:
        raw = path.read_bytes()
    except OSError as err:
        _problem(sub, rel, "not_json", f"{rel}: cannot be read ({err.strerror}); nothing was graded", fatal=True,
                 notebook=chosen)
        return sub
    sub.digest = hashlib.sha256(raw).hexdigest()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        _problem(sub, rel, "not_json", f"{rel}: not a notebook: the file is not valid JSON ({_short(err)}); "
                 "nothing was graded", fatal=True, notebook=chosen)
        return sub
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        _problem(sub, rel, "not_json", f"{rel}: not a notebook: the JSON has no list of cells; nothing was graded",
                 fatal=True, notebook=chosen)
        return sub
    version = data.get("nbformat")
    if version != 4:
        _problem(sub, rel, "nbformat", f"{rel}: notebook format version {version!r} is not supported "
                 "(nbformat 4 expected); nothing was graded", fatal=True, notebook=chosen, version=version)
        return sub
    sub.notebook = rebuild(sub, rel, data, release)
    return sub


def _check_language_folder(sub, base, language_dir, expected):
    r"""Report what a language folder ``<lang>/`` holds besides ``<lesson>.ipynb`` (it is ignored)."""
    try:
        names = sorted(os.listdir(language_dir))
    except OSError as err:
        _problem(sub, f"{base}/{language_dir.name}", "extra_file", f"{base}/{language_dir.name}: cannot be read "
                 f"({err.strerror}); it was ignored", name=language_dir.name)
        return
    for name in names:
        if _is_link(language_dir / name) or (
                name != expected and not name.startswith(".") and name not in IGNORED_DIRS):
            shown = f"{language_dir.name}/{display_name(name)}"
            _problem(sub, f"{base}/{shown}", "extra_file", f"{base}/{shown}: an extra file, not part of the lesson; "
                     "it was ignored", name=shown)


def _short(err, limit=120):
    text = str(err)
    return text if len(text) <= limit else text[:limit] + "…"


def _source(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return None


def _clean_metadata(metadata):
    kept = {}
    if not isinstance(metadata, dict):
        return kept
    for key in KEPT_CELL_METADATA:
        value = metadata.get(key)
        if key == "tags" and isinstance(value, list) and all(isinstance(t, str) for t in value):
            kept[key] = list(dict.fromkeys(value))
        elif key in ("editable", "deletable") and isinstance(value, bool):
            kept[key] = value
    if isinstance(metadata.get("nbgrader"), dict):
        kept["nbgrader"] = dict(metadata["nbgrader"])
    return kept


def graded_cells(notebook):
    r"""``{grade_id: (index, cell)}`` of the cells of ``notebook`` that carry nbgrader metadata."""
    cells = {}
    for index, cell in enumerate(notebook.cells):
        grading = cell.metadata.get("nbgrader")
        if isinstance(grading, dict) and grading.get("grade_id"):
            cells.setdefault(grading["grade_id"], (index, cell))
    return cells


def _is_test(grading):
    return bool(grading.get("grade")) and not grading.get("solution")


def rebuild(sub, rel, data, release):
    r"""A clean nbformat-4.5 notebook from the student's JSON ``data``: cells rebuilt one by one,
    graded cells checked against ``release`` and restored where they differ, missing ones put back."""
    import nbformat

    new = nbformat.v4
    master = graded_cells(release)
    notebook = new.new_notebook()
    notebook.metadata = {k: v for k, v in release.metadata.items() if k in ("kernelspec", "language_info")}
    course = data.get("metadata", {}).get("course") if isinstance(data.get("metadata"), dict) else None
    lang = course.get("lang") if isinstance(course, dict) else None
    if lang not in LANGUAGES:
        lang = "en"
    sub.lang = lang
    if isinstance(course, dict) and course.get("lesson") not in (None, sub.lesson):
        _problem(sub, rel, "wrong_lesson", f"{rel}: the notebook says it is lesson {course.get('lesson')!r}, "
                 f"handed in as {sub.lesson!r}; graded as {sub.lesson!r}")
    notebook.metadata["course"] = {"lesson": sub.lesson, "lang": lang}

    seen_ids, seen_grades = set(), set()
    for index, raw in enumerate(data["cells"]):
        where = f"cell {index}"
        if not isinstance(raw, dict) or raw.get("cell_type") not in ("code", "markdown", "raw"):
            _problem(sub, rel, "malformed_cell", f"{rel}: {where} is not a notebook cell; it was skipped", where=where)
            continue
        source = _source(raw.get("source", ""))
        if source is None:
            _problem(sub, rel, "malformed_cell", f"{rel}: {where} has a source that is not text; it was emptied",
                     where=where)
            source = ""
        metadata = _clean_metadata(raw.get("metadata"))
        cell_id = raw.get("id")
        if not isinstance(cell_id, str) or not CELL_ID.match(cell_id) or cell_id in seen_ids:
            cell_id = f"intake-{index}"
        seen_ids.add(cell_id)
        maker = {"code": new.new_code_cell, "markdown": new.new_markdown_cell, "raw": new.new_raw_cell}
        cell = maker[raw["cell_type"]](source, metadata=metadata, id=cell_id)
        grading = metadata.get("nbgrader")
        if grading is not None:
            cell = _check_graded_cell(sub, rel, cell, grading, master, seen_grades)
        notebook.cells.append(cell)
    _restore_missing(sub, rel, notebook, release, master, seen_grades)
    nbformat.validate(notebook)
    return notebook


def _check_graded_cell(sub, rel, cell, grading, master, seen):
    grade_id = grading.get("grade_id")
    claims = any(grading.get(k) for k in ("grade", "solution", "locked", "task"))
    if not isinstance(grade_id, str) or grade_id not in master:
        del cell.metadata["nbgrader"]
        if claims:
            shown = grade_id if isinstance(grade_id, str) else repr(grade_id)
            _problem(sub, rel, "unknown_graded_cell", f"{rel}: a cell claims grade_id {shown!r}, which the lesson "
                     "does not have; its nbgrader metadata was removed", grade_id=str(shown)[:64])
        return cell
    if grade_id in seen:
        del cell.metadata["nbgrader"]
        _problem(sub, rel, "duplicate_cell", f"{rel}: grade_id {grade_id!r} appears more than once; only the first "
                 "copy is graded", grade_id=grade_id)
        return cell
    seen.add(grade_id)
    _, original = master[grade_id]
    reference = original.metadata["nbgrader"]
    changed = [f"{key} {grading.get(key)!r} -> {reference.get(key)!r}" for key in NBGRADER_KEYS
               if key != "cell_type" and grading.get(key) != reference.get(key)]
    if cell.cell_type != original.cell_type:
        changed.append(f"cell type {cell.cell_type} -> {original.cell_type}")
        cell = _as_type(cell, original.cell_type)
    if changed:
        _problem(sub, rel, "changed_metadata", f"{rel}: cell {grade_id!r} had its grading settings changed "
                 f"({'; '.join(changed)}); the instructor's were used", grade_id=grade_id)
    cell.metadata["nbgrader"] = json.loads(json.dumps(reference))
    for key in ("editable", "deletable"):
        if key in original.metadata:
            cell.metadata[key] = original.metadata[key]
        else:
            cell.metadata.pop(key, None)
    if reference.get("locked") or _is_test(reference):
        if cell.source.strip() != original.source.strip():
            kind = "edited_test_cell" if _is_test(reference) else "edited_locked_cell"
            what = "test cell" if _is_test(reference) else "read-only cell"
            _problem(sub, rel, kind, f"{rel}: the {what} {grade_id!r} was edited; the instructor's version was used",
                     grade_id=grade_id)
        cell.source = original.source
    return cell


def _as_type(cell, cell_type):
    import nbformat

    maker = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
             "raw": nbformat.v4.new_raw_cell}[cell_type]
    return maker(cell.source, metadata=cell.metadata, id=cell.id)


def _restore_missing(sub, rel, notebook, release, master, present):
    r"""Put back, after the graded cell that precedes it in the release, every graded cell the student
    deleted (a test cell: the instructor's; a solution cell: the empty stub)."""
    import copy

    position = {}
    for index, cell in enumerate(notebook.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id:
            position[grade_id] = index
    previous = None
    ids = {cell.id for cell in notebook.cells}
    for grade_id, (_, original) in sorted(master.items(), key=lambda item: item[1][0]):
        if grade_id not in present:
            restored = copy.deepcopy(original)
            if restored.id in ids:
                restored.id = f"restored-{grade_id}"[:64]
            ids.add(restored.id)
            at = position[previous] + 1 if previous is not None else _first_graded(notebook, position)
            notebook.cells.insert(at, restored)
            for key, value in position.items():
                if value >= at:
                    position[key] = value + 1
            position[grade_id] = at
            grading = original.metadata["nbgrader"]
            if _is_test(grading):
                _problem(sub, rel, "missing_test_cell", f"{rel}: the test cell {grade_id!r} was deleted; the "
                         "instructor's version was restored and used", grade_id=grade_id)
            elif grading.get("solution"):
                _problem(sub, rel, "missing_solution_cell", f"{rel}: the answer cell {grade_id!r} was deleted; "
                         "it was restored empty (no answer)", grade_id=grade_id)
            else:
                _problem(sub, rel, "edited_locked_cell", f"{rel}: the read-only cell {grade_id!r} was deleted; "
                         "the instructor's version was restored", grade_id=grade_id)
        previous = grade_id


def _first_graded(notebook, position):
    return min(position.values()) if position else len(notebook.cells)


def stage(sub, staging_dir, release):
    r"""Write what nbgrader will autograde into ``staging_dir/<student>/<lesson>/``: the rebuilt
    notebook, or, when the submission cannot be graded, the released notebook as a placeholder
    (its verdict then says why it earns nothing). Atomic writes; returns the notebook's path."""
    import nbformat

    folder = Path(staging_dir) / sub.student / sub.lesson
    folder.mkdir(parents=True, exist_ok=True)
    notebook = sub.notebook if sub.gradable else _placeholder(release, sub)
    path = folder / f"{sub.lesson}.ipynb"
    atomic_write_text(path, nbformat.writes(notebook, version=4))
    stamp = folder / "timestamp.txt"
    if sub.timestamp and _valid_timestamp(sub.timestamp):
        atomic_write_text(stamp, sub.timestamp)
    elif stamp.exists():
        stamp.unlink()
    secret = folder / "submission_secret.txt"
    if sub.secret:
        atomic_write_text(secret, sub.secret)
    for name in os.listdir(folder):
        if name not in (path.name, stamp.name, secret.name if sub.secret else None):
            extra = folder / name
            if extra.is_file() or extra.is_symlink():
                extra.unlink()
    return path


def _read_text(path, limit):
    r"""The UTF-8 text of the small file ``path`` stripped, or None (unreadable, not text, too large)."""
    try:
        if path.stat().st_size > limit:
            return None
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _valid_timestamp(text):
    try:
        from nbgrader.utils import parse_utc

        parse_utc(text)
        return True
    except Exception:
        return False


def _placeholder(release, sub):
    import copy

    notebook = copy.deepcopy(release)
    notebook.metadata["course"] = {"lesson": sub.lesson, "lang": sub.lang}
    return notebook


def atomic_write_text(path, text):
    r"""Write ``text`` (UTF-8) to ``path`` through a temporary file and ``os.replace``."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path, data):
    r"""Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``:
    a reader (or a run killed half-way) sees the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
