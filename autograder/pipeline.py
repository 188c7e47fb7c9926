r"""The grading pipeline around nbgrader: parallel, resumable, safe against hostile submissions.

``nn-grade run`` (:func:`run`) takes a course folder (``course/``: ``nbgrader_config.py``,
``source/<lesson>/<lesson>.ipynb`` written by ``nn-course build``, ``submitted/<student>/<lesson>/``)
through eight steps:

1. **assignments** -- nbgrader's ``GenerateAssignment`` puts each lesson into the gradebook and
   ``release/`` (skipped when the master notebook has not changed since the last run);
2. **collect** -- with ``--exchange``: nbgrader's ``ExchangeCollect`` copies each student's newest
   submission from nbgrader's exchange into ``submitted/<student>/<lesson>/``, refusing folders
   with symbolic links or another owner (:mod:`autograder.exchange`); with ``--zip DIR``:
   nbgrader's ``ZipCollectApp`` moves the files of
   ``DIR/<lesson>/archive/`` (zip archives or notebooks) named ``<student>__<lesson>.ipynb``
   (:data:`ZIP_PATTERN`) into ``submitted/<student>/<lesson>/<lesson>.ipynb``;
3. **intake** -- :mod:`autograder.intake` reads each submission without trusting it and stages the
   clean notebook nbgrader will see in ``intake/<student>/<lesson>/``; problems are collected;
4. **verdicts** -- in parallel (``--workers``, processes), :func:`autograder.verdict.grade_notebook`
   runs each notebook's solution cells in the sandbox and compares with nnlib; each record is
   written atomically to ``autograded-verdicts/<student>/<lesson>.json``. A record whose key (hash
   of the staged notebook, the instructor's tests, the seed, the grader's code) matches is reused;
5. **autograde** -- nbgrader's ``Autograde``, one submission at a time in this process (the only
   writer of ``gradebook.db``), with :class:`autograder.nbgrader_plugin.SandboxVerdicts` in place
   of ``Execute``, always with ``force``: a submission whose autograde did not finish (a killed
   run) is simply redone. A marker in ``.nn-grade/autograded/`` records what was autograded;
6. **feedback** -- nbgrader's ``GenerateFeedback`` per (lesson, language), groups in parallel, with
   the localised template of :mod:`autograder.feedback_template`; each HTML moved into
   ``feedback/`` atomically; redone only when the record, the gradebook entry (formgrader edits
   included) or the template changed; with ``--exchange``, nbgrader's ``ExchangeReleaseFeedback``
   hands the pages of exchange submissions back to the exchange;
7. **export** -- nbgrader's ``CsvExportPlugin``: ``reports/grades.csv``, one row per student and
   lesson whatever the language;
8. **report** -- :mod:`autograder.report`: ``reports/report.html`` (plots and the problems table).

Kill-safety: every file is written through a temporary file and ``os.replace``; the gradebook is
only written in step 5, by nbgrader, per submission, and a submission is marked done only after
nbgrader finished it. A run killed at any point and started again ends with the same gradebook.
A lock file (``.nn-grade/lock``) keeps two runs off one course.
"""
import contextlib
import copy
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from autograder import intake
from autograder.messages import N_
from autograder.nbgrader_plugin import make_record, read_record, record_path, write_record

STAGING = "intake"
VERDICTS = "autograded-verdicts"
STATE = ".nn-grade"
REPORTS = "reports"
# ZipCollectApp's FileNameCollectorPlugin.named_regexp (matched against the extracted file's path):
# ``.../<student>__<lesson>.ipynb``, e.g. ``alice__01-neuron.ipynb``; the student id may hold
# letters, digits, ``.``, ``-``, ``_`` and ``@`` (not two underscores in a row).
ZIP_PATTERN = r".*/(?P<student_id>[A-Za-z0-9.@-]+(?:_[A-Za-z0-9.@-]+)*)__(?P<file_id>\d{2}-[A-Za-z0-9-]+\.ipynb)$"
GRADER_FAILED = N_("the grader failed on this submission; your instructor has been told")
GRADER_CODE = ("compare.py", "verdict.py", "sandbox.py", "harness.py", "messages.py", "exercise.py", "intake.py",
               "exercises/*.py", "locale/*/LC_MESSAGES/autograder.po")
SANDBOX_VERDICTS_CHAIN = ("autograder.nbgrader_plugin.SandboxVerdicts", "nbgrader.preprocessors.IgnorePattern",
                          "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
                          "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
                          "nbgrader.preprocessors.CheckCellMetadata")


class PipelineError(Exception):
    r"""The course cannot be graded at all (no lessons, locked by another run...); message says why."""


@dataclass
class Options:
    r"""What ``nn-grade run`` was asked to do (see :func:`autograder.cli.main`)."""
    course: Path
    lessons: list = None
    zip_dir: Path = None
    exchange: bool = False          # collect from nbgrader's exchange first
    workers: int = None
    force: bool = False
    progress: bool = True
    limits: object = None           # autograder.sandbox.Limits; None = its defaults


@dataclass
class RunResult:
    r"""What a run did: the problems found, the scores in the gradebook, the files written."""
    problems: list = field(default_factory=list)
    scores: dict = field(default_factory=dict)       # (student, lesson) -> (score, max_score)
    verdicts_computed: int = 0
    verdicts_reused: int = 0
    autograded: int = 0
    feedback: int = 0
    grades_csv: Path = None
    report_html: Path = None
    seconds: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Course:
    r"""Where things are in a course folder."""
    root: Path

    def master(self, lesson):
        return self.root / "source" / lesson / f"{lesson}.ipynb"

    def release(self, lesson):
        return self.root / "release" / lesson / f"{lesson}.ipynb"

    @property
    def submitted(self):
        return self.root / "submitted"

    @property
    def staging(self):
        return self.root / STAGING

    @property
    def verdicts(self):
        return self.root / VERDICTS

    @property
    def state(self):
        return self.root / STATE

    @property
    def reports(self):
        return self.root / REPORTS

    @property
    def feedback(self):
        return self.root / "feedback"

    @property
    def db_url(self):
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def marker(self, step, student, lesson):
        return self.state / step / student / f"{lesson}.done"

    def lessons(self):
        folder = self.root / "source"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())


# ------------------------------------------------------------------------------------------ helpers

def sha256(*parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def grader_code_hash():
    r"""Hash of the grader's own code and catalogs: a change of a reference or a message regrades."""
    package = Path(__file__).resolve().parent
    files = sorted({path for pattern in GRADER_CODE for path in package.glob(pattern)})
    return sha256(*[path.read_bytes() for path in files])


def read_marker(path):
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def nbgrader_config(course):
    r"""The course's nbgrader config (``nbgrader_config.py`` when present) pointed at ``course.root``."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config_file = course.root / "nbgrader_config.py"
    config = Config()
    if config_file.exists():
        config = PyFileConfigLoader(config_file.name, path=str(course.root)).load_config()
    config.CourseDirectory.root = str(course.root)
    config.CourseDirectory.db_url = course.db_url
    if "course_id" not in config.CourseDirectory:
        config.CourseDirectory.course_id = "nn-from-the-neuron-up"
    return config


def nbgrader_logger(course):
    r"""nbgrader's chatter goes to ``.nn-grade/nbgrader.log``, not to the terminal."""
    logger = logging.getLogger("nn-grade.nbgrader")
    path = str(course.state / "nbgrader.log")
    if not any(getattr(h, "baseFilename", None) == os.path.abspath(path) for h in logger.handlers):
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        course.state.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


@contextlib.contextmanager
def course_lock(course):
    r"""Hold ``.nn-grade/lock`` for the run (released by the kernel even when the run is killed)."""
    course.state.mkdir(parents=True, exist_ok=True)
    with open(course.state / "lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PipelineError(f"another nn-grade run is using {course.root} (lock {course.state / 'lock'})") from None
        yield


def _progress(iterable=None, total=None, desc="", enabled=True):
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not enabled, unit="nb", leave=True, dynamic_ncols=True)


def test_cells(master):
    r"""``{grade_id: (source, points)}`` of the instructor's test cells in the master notebook."""
    cells = {}
    for cell in master.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
            cells[grading["grade_id"]] = (cell.source, grading["points"])
    return cells


# ------------------------------------------------------------------------- 1. assignments, 2. collect

def alembic_head():
    r"""The gradebook schema version of the installed nbgrader, read in-process (nbgrader itself runs
    the ``alembic`` script, which need not be on PATH when the virtualenv is not activated)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.api import _temp_alembic_ini

    with _temp_alembic_ini("sqlite:///:memory:") as ini:
        return ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()


def ensure_gradebook(course):
    r"""Create ``gradebook.db`` as nbgrader would (tables + alembic version stamp) when it does not
    exist; built aside and moved in place, so a killed run never leaves half a database. Returns
    whether it was created."""
    import sqlalchemy
    from nbgrader.api import Base

    path = course.root / "gradebook.db"
    if path.exists() and path.stat().st_size > 0:
        return False
    # a new gradebook holds nothing: what earlier runs marked as autograded must be done again
    shutil.rmtree(course.state / "autograded", ignore_errors=True)
    tmp = course.state / f"gradebook.{os.getpid()}.db"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp}")
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        connection.execute(sqlalchemy.text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                           {"v": alembic_head()})
    engine.dispose()
    os.replace(tmp, path)
    return True


def generate_assignments(course, config, lessons, logger):
    r"""nbgrader's GenerateAssignment for each lesson whose master changed since the last run."""
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    for lesson in lessons:
        digest = sha256(course.master(lesson).read_bytes())
        marker = course.state / "assignments" / f"{lesson}.sha256"
        if read_marker(marker) == digest and course.release(lesson).exists():
            with Gradebook(course.db_url, config.CourseDirectory.course_id) as gb:
                try:
                    gb.find_notebook(lesson, lesson)
                    continue
                except MissingEntry:
                    pass
        cfg = copy.deepcopy(config)
        cfg.CourseDirectory.assignment_id = lesson
        cfg.CourseDirectory.notebook_id = "*"
        cfg.GenerateAssignment.force = True
        cfg.GenerateAssignment.create_assignment = True
        converter = GenerateAssignment(coursedir=CourseDirectory(config=cfg), config=cfg, log=logger)
        converter.start()
        intake.atomic_write_text(marker, digest)


def zip_collect(course, config, zip_dir, lessons, logger):
    r"""nbgrader's ZipCollectApp for each lesson folder of ``zip_dir`` (``zip_dir/<lesson>/archive/``)."""
    from nbgrader.apps.zipcollectapp import ZipCollectApp
    from nbgrader.coursedir import CourseDirectory

    collected = []
    for lesson in lessons:
        if not (Path(zip_dir) / lesson / "archive").is_dir():
            continue
        cfg = copy.deepcopy(config)
        cfg.CourseDirectory.assignment_id = lesson
        # ZipCollectApp joins the course root and the folder pattern BEFORE filling it in: relative path
        cfg.ZipCollectApp.downloaded_directory = os.path.relpath(Path(zip_dir).resolve(), course.root)
        cfg.ZipCollectApp.force = True
        cfg.ExtractorPlugin.force = True
        cfg.FileNameCollectorPlugin.named_regexp = ZIP_PATTERN
        app = ZipCollectApp(config=cfg)
        app.log = logger
        app.coursedir = CourseDirectory(config=cfg, parent=app)
        app.init_plugins()
        app.extract_archive_files()
        app.process_extracted_files()
        collected.append(lesson)
    return collected


# ------------------------------------------------------------------------------------ 3. intake

def run_intake(course, lessons):
    r"""Inspect and stage every submission; return ``([Submission], [Problem])``."""
    import nbformat

    found, problems = intake.find_submissions(course.submitted, lessons)
    releases = {lesson: nbformat.read(course.release(lesson), as_version=4) for lesson in lessons}
    submissions = []
    for student, lesson, folder in found:
        sub = intake.inspect_submission(student, lesson, folder, releases[lesson])
        intake.stage(sub, course.staging, releases[lesson])
        submissions.append(sub)
        problems.extend(sub.problems)
    return submissions, problems


# ----------------------------------------------------------------------------------- 4. verdicts

@dataclass(frozen=True)
class VerdictJob:
    r"""Everything a worker process needs to grade one submission (plain, picklable data)."""
    student: str
    lesson: str
    lang: str
    key: str
    staged: str
    record: str
    tests: dict
    seed: int
    limits: object
    not_graded: tuple = None        # (msgid, fields) when intake refused the submission
    notes: tuple = ()               # ((grade_id, msgid, fields), ...)


def grade_job(job):
    r"""Worker: grade one submission and write its record atomically; returns (student, lesson, error)."""
    import nbformat

    from autograder.verdict import grade_notebook

    error = ""
    verdict, not_graded = None, job.not_graded
    if not_graded is None:
        try:
            notebook = nbformat.read(job.staged, as_version=4)
            verdict = grade_notebook(notebook, job.tests, job.seed, job.limits, lang=job.lang)
        except Exception as exc:  # an instructor/grader bug: report it, grade nothing, go on
            error = f"{type(exc).__name__}: {exc}"
            not_graded = (GRADER_FAILED, {})
    # a failure of the grader itself is not kept for resume: the next run tries again
    retry = error or (verdict is not None and verdict.sandbox.get("status") == "setup_error")
    record = make_record(job.student, job.lesson, job.lang, "" if retry else job.key, verdict, not_graded, job.notes)
    write_record(job.record, record)
    return job.student, job.lesson, error


def make_jobs(course, submissions, lessons, limits, force=False):
    r"""The :class:`VerdictJob` of every submission, and the records that can be reused as they are."""
    import nbformat

    from autograder.verdict import course_secret, student_seed

    code = grader_code_hash()
    secret = course_secret(course.root)
    masters = {lesson: course.master(lesson).read_bytes() for lesson in lessons}
    tests = {lesson: test_cells(nbformat.reads(masters[lesson].decode("utf-8"), as_version=4)) for lesson in lessons}
    jobs, reused = [], []
    for sub in submissions:
        staged = course.staging / sub.student / sub.lesson / f"{sub.lesson}.ipynb"
        seed = student_seed(sub.student, sub.lesson, secret)
        fatal = sub.fatal_reason
        not_graded = (intake.FEEDBACK[fatal.kind], fatal.fields) if fatal else None
        notes = tuple((p.grade_id, intake.FEEDBACK[p.kind], p.fields) for p in sub.problems
                      if not p.fatal and p.kind in intake.FEEDBACK)
        key = sha256(staged.read_bytes(), masters[sub.lesson], seed, repr(limits), code, sub.lang,
                     json.dumps([not_graded, notes], sort_keys=True, default=str))
        path = record_path(course.verdicts, sub.student, sub.lesson)
        job = VerdictJob(sub.student, sub.lesson, sub.lang, key, str(staged), str(path), tests[sub.lesson],
                         seed, limits, not_graded, notes)
        record = None if force else read_record(path)
        (reused if record is not None and record.get("key") == key else jobs).append(job)
    return jobs, reused


def compute_verdicts(jobs, workers, progress=True):
    r"""Run :func:`grade_job` for every job on ``workers`` processes; return ``[(student, lesson, error)]``."""
    results = []
    if not jobs:
        return results
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    bar = _progress(total=len(jobs), desc="4/6 verdicts", enabled=progress)
    try:
        if workers == 1:
            for job in jobs:
                results.append(grade_job(job))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(grade_job, job): job for job in jobs}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        results.append(future.result())
                    except Exception as exc:  # the worker process itself died
                        results.append((job.student, job.lesson, f"worker failed: {type(exc).__name__}: {exc}"))
                    bar.update()
    finally:
        bar.close()
    return results


# ---------------------------------------------------------------------------------- 5. autograde

def autograde_config(course, config):
    r"""The nbgrader config of step 5: staged notebooks in, verdicts instead of a kernel, force."""
    cfg = copy.deepcopy(config)
    cfg.CourseDirectory.submitted_directory = STAGING
    cfg.Autograde.autograde_preprocessors = list(SANDBOX_VERDICTS_CHAIN)
    cfg.Autograde.force = True
    cfg.Autograde.create_student = True
    cfg.SandboxVerdicts.verdict_directory = str(course.verdicts)
    return cfg


def autograde_one(course, config, student, lesson, logger):
    r"""nbgrader's Autograde of one staged submission (``force``: redone from scratch)."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    cfg = copy.deepcopy(config)
    cfg.CourseDirectory.student_id = student
    cfg.CourseDirectory.assignment_id = lesson
    cfg.CourseDirectory.notebook_id = "*"
    converter = Autograde(coursedir=CourseDirectory(config=cfg), config=cfg, log=logger)
    with warnings.catch_warnings():
        # nbgrader's add_submission builds its rows before adding them to the session (SAWarning)
        warnings.filterwarnings("ignore", message=".*not in session.*")
        converter.start()


def autograde_all(course, config, submissions, force, logger, progress=True):
    r"""Autograde, one after the other, every submission whose record changed since its last autograde."""
    cfg = autograde_config(course, config)
    done, failures = [], []
    todo = []
    for sub in submissions:
        record = read_record(record_path(course.verdicts, sub.student, sub.lesson))
        key = (record.get("key") or None) if record else None
        marker = course.marker("autograded", sub.student, sub.lesson)
        if force or key is None or read_marker(marker) != key or not _autograded_exists(course, sub):
            todo.append((sub, key, marker))
    for sub, key, marker in _progress(todo, desc="5/6 autograde", enabled=progress):
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
        try:
            autograde_one(course, cfg, sub.student, sub.lesson, logger)
        except Exception as exc:  # nbgrader's NbGraderException, or anything else: report, go on
            failures.append(intake.Problem(sub.student, sub.lesson, f"autograded/{sub.student}/{sub.lesson}",
                                           f"nbgrader autograde failed: {type(exc).__name__}: {exc}",
                                           kind="autograde_failed"))
            continue
        if key is not None:
            intake.atomic_write_text(marker, key)
        done.append(sub)
    return done, failures


def _autograded_exists(course, sub):
    return (course.root / "autograded" / sub.student / sub.lesson / f"{sub.lesson}.ipynb").exists()


# ----------------------------------------------------------------------------------- 6. feedback

@dataclass(frozen=True)
class FeedbackJob:
    r"""One nbgrader GenerateFeedback run: the submissions of one lesson in one language."""
    root: str
    config: object
    lesson: str
    lang: str
    students: tuple
    others: tuple       # the lesson's other autograded students (excluded from this run)
    templates: str


def feedback_job(job):
    r"""Worker: render the feedback of ``job.students`` in a scratch folder with the ``job.lang``
    template, then move each page into ``feedback/<student>/<lesson>/`` atomically. Returns
    ``(students written, problems)``."""
    from nbgrader.converters import GenerateFeedback
    from nbgrader.converters.base import NbGraderException
    from nbgrader.coursedir import CourseDirectory

    from autograder.feedback_template import exporter_config

    course = Course(Path(job.root))
    scratch_name = f"{STATE}/feedback-{os.getpid()}-{job.lesson}-{job.lang}"
    scratch = course.root / scratch_name
    shutil.rmtree(scratch, ignore_errors=True)
    cfg = copy.deepcopy(job.config)
    cfg.merge(exporter_config(job.templates, job.lang))
    cfg.CourseDirectory.feedback_directory = scratch_name
    cfg.CourseDirectory.assignment_id = job.lesson
    cfg.CourseDirectory.notebook_id = "*"
    cfg.CourseDirectory.student_id = job.students[0] if len(job.students) == 1 else "*"
    cfg.CourseDirectory.student_id_exclude = ",".join(job.others)
    cfg.GenerateFeedback.force = True
    written, problems = [], []
    try:
        GenerateFeedback(coursedir=CourseDirectory(config=cfg), config=cfg, log=nbgrader_logger(course)).start()
    except NbGraderException as exc:
        problems.append(intake.Problem("", job.lesson, "feedback", f"nbgrader generate_feedback failed for "
                                       f"{job.lesson} ({job.lang}): {exc}", kind="feedback_failed"))
    try:
        for student in job.students:
            page = scratch / student / job.lesson / f"{job.lesson}.html"
            if page.exists():
                intake.atomic_write_bytes(course.feedback / student / job.lesson / f"{job.lesson}.html",
                                          page.read_bytes())
                written.append(student)
            else:
                problems.append(intake.Problem(student, job.lesson, f"feedback/{student}/{job.lesson}",
                                               "no feedback was generated", kind="feedback_failed"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return written, problems


def generate_feedback(course, config, submissions, logger, workers=1, force=False, progress=True):
    r"""nbgrader's GenerateFeedback per (lesson, language) with the localised template, the groups
    in parallel processes (they only read the gradebook). A page is rendered again only when what
    it shows changed: its verdict record, its grades and comments in the gradebook (a grader may
    have edited them in formgrader), or the template. Returns ``(pages written, problems)``."""
    from autograder.feedback_template import build_templates

    templates = course.state / "templates"
    names = build_templates(templates, sorted({sub.lang for sub in submissions}))
    template_hash = sha256(*[(templates / name / "index.html.j2").read_bytes() for name in names.values()])
    state = gradebook_state(course, config)
    groups, keys = {}, {}
    for sub in submissions:
        if not _autograded_exists(course, sub):
            continue
        record = read_record(record_path(course.verdicts, sub.student, sub.lesson)) or {}
        key = sha256(record.get("key", ""), state.get((sub.student, sub.lesson), ""), template_hash, sub.lang)
        marker = course.marker("feedback", sub.student, sub.lesson)
        page = course.feedback / sub.student / sub.lesson / f"{sub.lesson}.html"
        if force or read_marker(marker) != key or not page.exists():
            groups.setdefault((sub.lesson, sub.lang), []).append(sub.student)
            keys[sub.student, sub.lesson] = (key, marker)
    jobs = [FeedbackJob(str(course.root), config, lesson, lang, tuple(students),
                        tuple(sorted(_autograded_students(course, lesson) - set(students))), str(templates))
            for (lesson, lang), students in sorted(groups.items())]
    written, problems = 0, []
    bar = _progress(total=sum(len(job.students) for job in jobs), desc="6/6 feedback", enabled=progress)

    def collect(job, outcome):
        nonlocal written
        students, found = outcome
        for student in students:
            key, marker = keys[student, job.lesson]
            intake.atomic_write_text(marker, key)
        written += len(students)
        problems.extend(found)
        bar.update(len(job.students))

    try:
        workers = max(1, min(workers or 1, len(jobs)))
        if workers == 1:
            for job in jobs:
                collect(job, feedback_job(job))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(feedback_job, job): job for job in jobs}
                for future in as_completed(futures):
                    job = futures[future]
                    try:
                        collect(job, future.result())
                    except Exception as exc:  # the worker process itself died
                        collect(job, ((), [intake.Problem("", job.lesson, "feedback", f"feedback worker failed: "
                                                          f"{type(exc).__name__}: {exc}", kind="feedback_failed")]))
    finally:
        bar.close()
    for sub in submissions:
        _copy_exchange_files(course, sub)
    return written, problems


def _copy_exchange_files(course, sub):
    """Put the submission's ``timestamp.txt`` and ``submission_secret.txt`` (as staged) beside its
    feedback page, where nbgrader's release_feedback reads them: every run, because a resubmission
    with the same notebook gets the same page but a new secret."""
    folder = course.feedback / sub.student / sub.lesson
    if not (folder / f"{sub.lesson}.html").exists():
        return
    for name in intake.NBGRADER_FILES:
        staged = course.staging / sub.student / sub.lesson / name
        if staged.is_file():
            if not (folder / name).is_file() or (folder / name).read_bytes() != staged.read_bytes():
                intake.atomic_write_bytes(folder / name, staged.read_bytes())
        elif (folder / name).exists():
            (folder / name).unlink()


def gradebook_state(course, config):
    r"""``{(student, lesson): hash}`` of every submission's grades and comments in the gradebook."""
    from nbgrader.api import Gradebook

    state = {}
    with Gradebook(course.db_url, config.CourseDirectory.course_id) as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                rows = sorted((g.cell.name, g.auto_score, g.manual_score, g.extra_credit) for nb in submission.notebooks
                              for g in nb.grades)
                rows += sorted((c.cell.name, c.auto_comment, c.manual_comment) for nb in submission.notebooks
                               for c in nb.comments)
                state[submission.student.id, assignment.name] = sha256(repr(rows), submission.late_submission_penalty)
    return state


def _autograded_students(course, lesson):
    folder = course.root / "autograded"
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if (p / lesson).is_dir()}


# ------------------------------------------------------------------------------------- 7. export

def export_grades(course, config, logger):
    r"""nbgrader's CsvExportPlugin into ``reports/grades.csv`` (atomically)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    course.reports.mkdir(parents=True, exist_ok=True)
    target = course.reports / "grades.csv"
    tmp = course.reports / f".grades.csv.{os.getpid()}.tmp"
    plugin = CsvExportPlugin(config=config, log=logger)
    plugin.to = str(tmp)
    with Gradebook(course.db_url, config.CourseDirectory.course_id) as gb:
        plugin.export(gb)
    os.replace(tmp, target)
    return target


def gradebook_scores(course, config):
    r"""``({(student, lesson): (score, max_score)}, {(student, lesson): {grade_id: (score, max)}})``
    as nbgrader's gradebook holds them."""
    from nbgrader.api import Gradebook

    totals, cells = {}, {}
    with Gradebook(course.db_url, config.CourseDirectory.course_id) as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                key = (submission.student.id, assignment.name)
                totals[key] = (round(float(submission.score), 2), round(float(submission.max_score), 2))
                cells[key] = {grade.cell.name: (round(float(grade.score), 2), round(float(grade.max_score), 2))
                              for notebook in submission.notebooks for grade in notebook.grades}
    return totals, cells


# ---------------------------------------------------------------------------------------- run

def clean_leftovers(course):
    r"""Remove what a killed run may have left half-done: temporary files of atomic writes and
    scratch folders (safe: the lock guarantees no other run is writing)."""
    for folder in (course.verdicts, course.state, course.staging, course.reports, course.feedback):
        if folder.is_dir():
            for path in folder.rglob(".*.tmp"):
                path.unlink(missing_ok=True)
    if course.state.is_dir():
        for path in course.state.glob("feedback-*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        for path in course.state.glob("gradebook.*.db"):
            path.unlink(missing_ok=True)


def select_lessons(course, wanted):
    known = course.lessons()
    if not known:
        raise PipelineError(f"no lessons in {course.root / 'source'}: run `nn-course build` first")
    if not wanted:
        return known
    unknown = [lesson for lesson in wanted if lesson not in known]
    if unknown:
        raise PipelineError(f"unknown lessons {', '.join(unknown)}; the course has {', '.join(known)}")
    return list(dict.fromkeys(wanted))


def run(options):
    r"""Run the whole pipeline (see the module docstring); return a :class:`RunResult`."""
    from autograder import exchange, report   # exchange imports this module: imported here, not at the top

    course = Course(Path(options.course).resolve())
    if not course.root.is_dir():
        raise PipelineError(f"no course folder {course.root}")
    result = RunResult()
    with course_lock(course):
        clean_leftovers(course)
        logger = nbgrader_logger(course)
        config = nbgrader_config(course)
        lessons = select_lessons(course, options.lessons)
        clock = time.perf_counter()

        def lap(name):
            nonlocal clock
            now = time.perf_counter()
            result.seconds[name] = round(now - clock, 3)
            clock = now

        ensure_gradebook(course)
        generate_assignments(course, config, lessons, logger)
        lap("assignments")
        if options.exchange:
            result.problems.extend(exchange.collect(config, lessons, logger))
        if options.zip_dir:
            zip_collect(course, config, options.zip_dir, lessons, logger)
        lap("collect")
        submissions, problems = run_intake(course, lessons)
        result.problems.extend(problems)
        lap("intake")

        jobs, reused = make_jobs(course, submissions, lessons, options.limits, options.force)
        for student, lesson, error in compute_verdicts(jobs, options.workers, options.progress):
            if error:
                result.problems.append(intake.Problem(student, lesson, f"{VERDICTS}/{student}/{lesson}.json",
                                                      f"the grader failed: {error}", kind="grader_failed"))
        result.verdicts_computed, result.verdicts_reused = len(jobs), len(reused)
        lap("verdicts")

        done, failures = autograde_all(course, config, submissions, options.force, logger, options.progress)
        result.autograded = len(done)
        result.problems.extend(failures)
        lap("autograde")

        result.feedback, failures = generate_feedback(course, config, submissions, logger, options.workers,
                                                      options.force, options.progress)
        result.problems.extend(failures)
        if options.exchange:
            exchange.release_feedback(course, config, lessons, logger)
        lap("feedback")

        result.grades_csv = export_grades(course, config, logger)
        lap("export")
        result.scores, cell_scores = gradebook_scores(course, config)
        languages = {(s.student, s.lesson): s.lang for s in submissions}
        result.report_html = report.write_report(course.reports / "report.html", result.grades_csv, cell_scores,
                                                 result.problems, languages)
        lap("report")
    return result
