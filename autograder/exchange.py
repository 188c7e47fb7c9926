r"""nbgrader's exchange, where students fetch lessons and hand them in: release, collect, feedback.

The exchange is a folder all users share (``c.Exchange.root``): the instructor releases into
``outbound/``, students submit into ``inbound/`` (writable by everyone), the instructor collects
from it and releases feedback into ``feedback/``. nbgrader's own classes do the work; collection
(:class:`CheckedCollect`) changes two things that grading safely needs:

* the copy never follows a symbolic link (:func:`copy_without_links`): nbgrader's copy follows
  links with the instructor's rights, so a link to ``course/source/<lesson>/<lesson>.ipynb``,
  even one swapped in while the copy runs, would hand in the solutions. Links, hard links, FIFOs
  and other special files are left out and reported; so are files over nbgrader's size limits
  (checked against what is actually copied), folders nested too deep and too many entries;
* a folder whose name's timestamp cannot be read is refused, and the student's ``timestamp.txt``
  is replaced by the one of the folder's name (nbgrader parses it again on the next collect).
  Both come from the student's side: a timestamp can be backdated, so a due date is only as
  good as the clock of whoever submitted;
* with ``check_owner`` (nbgrader's setting, on by default) a folder owned by another user than
  the student it names is refused before each student's newest submission is chosen, where
  nbgrader only writes a warning in its log: anyone can write into ``inbound/``, under any name.
  On a machine where one account submits for everyone (a test, a demonstration), set
  ``c.ExchangeCollect.check_owner = False``.

Releasing also sets the sticky bit on ``inbound/`` (as ``/tmp`` has), so that a student cannot
rename or delete another student's submission folder. What was refused or left out is reported as
problems; nothing stops the collection of the others.
"""
import copy
import fnmatch
import glob
import os
import shutil
import stat

from traitlets import List

from autograder import intake
from autograder.pipeline import PipelineError

try:
    import pwd
except ImportError:   # Windows: nbgrader's exchange does not run there anyway
    pwd = None


def run_step(step, config, lesson, logger, failure):
    r"""Run nbgrader's exchange ``step`` (a class such as ``ExchangeCollect``) for ``lesson``, return
    the step object; nbgrader's ``ExchangeError``, or an ``OSError`` on the exchange folder, becomes a
    :class:`~autograder.pipeline.PipelineError` that starts with ``failure``."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeError

    cfg = copy.deepcopy(config)
    cfg.CourseDirectory.assignment_id = lesson
    instance = step(coursedir=CourseDirectory(config=cfg), authenticator=Authenticator(config=cfg), config=cfg,
                    log=logger)
    try:
        instance.start()
    except (ExchangeError, OSError) as err:   # OSError: the exchange folder cannot be made or written
        raise PipelineError(f"{failure}: {err}") from None
    return instance


def release(config, lesson, logger):
    r"""nbgrader's ``ExchangeReleaseAssignment`` of ``release/<lesson>/`` (replacing an earlier release)."""
    from nbgrader.exchange.default import ExchangeReleaseAssignment

    config = copy.deepcopy(config)
    config.ExchangeReleaseAssignment.force = True
    step = run_step(ExchangeReleaseAssignment, config, lesson, logger,
                    f"nbgrader's exchange refused to release {lesson} (see .nn-grade/nbgrader.log)")
    # nbgrader makes inbound/ writable by everyone (mode 2733): with the sticky bit, as /tmp has, a
    # student can no longer rename or delete another student's submission folder
    inbound = step.inbound_path
    try:
        mode = os.stat(inbound).st_mode
        if not mode & stat.S_ISVTX:
            os.chmod(inbound, stat.S_IMODE(mode) | stat.S_ISVTX)
    except OSError as err:
        logger.warning("could not set the sticky bit on %s: %s", inbound, err)


# How deep and how many entries a submission may hold: a lesson's folder is a few notebooks deep.
MAX_DEPTH = 16
MAX_ENTRIES = 2000


def copy_without_links(src, dest, ignore=(), max_file_bytes=None, max_total_bytes=None):
    """Copy the folder ``src`` to ``dest`` (made anew) without ever following a symbolic link, even
    one swapped in while the copy runs: every folder and file is opened relative to its parent's
    descriptor with ``O_NOFOLLOW``. Only regular files with a single link and folders are copied,
    at most ``MAX_DEPTH`` folders deep and ``MAX_ENTRIES`` entries in all; a file is copied up to the
    size it had when opened, and left out if it grew meanwhile. Names matching ``ignore`` (glob
    patterns) are left out silently. Returns what was not copied and why, as
    ``[(relative path, reason)]``; raises ``OSError`` only when ``src`` itself cannot be opened."""
    skipped, total, entries = [], 0, 0
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)

    def copy_file(folder_fd, name, target, path):
        nonlocal total
        fd = os.open(name, flags | os.O_NONBLOCK, dir_fd=folder_fd)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return skipped.append((path, "not a regular file"))
            if info.st_nlink > 1:   # a hard link may be another file of the machine, the solutions say
                return skipped.append((path, "a hard link"))
            if max_file_bytes is not None and info.st_size > max_file_bytes:
                return skipped.append((path, f"larger than {max_file_bytes} bytes"))
            if max_total_bytes is not None and total + info.st_size > max_total_bytes:
                return skipped.append((path, f"the submission passed {max_total_bytes} bytes"))
            total += info.st_size
            left = info.st_size
            with open(os.path.join(target, name), "wb") as out:
                while left > 0:
                    chunk = os.read(fd, min(left, 1 << 20))
                    if not chunk:
                        break
                    out.write(chunk)
                    left -= len(chunk)
            if left or os.fstat(fd).st_size != info.st_size:
                os.unlink(os.path.join(target, name))
                skipped.append((path, "it changed while it was copied"))
        finally:
            os.close(fd)

    def copy_folder(folder_fd, target, rel, depth):
        nonlocal entries
        os.makedirs(target, exist_ok=True)
        with os.scandir(folder_fd) as listing:
            names = sorted(entry.name for entry in listing)
        for name in names:
            path = os.path.join(rel, name) if rel else name
            if any(fnmatch.fnmatch(name, pattern) for pattern in ignore):
                continue
            entries += 1
            if entries > MAX_ENTRIES:
                return skipped.append((rel or ".", f"more than {MAX_ENTRIES} entries; the rest was left out"))
            try:
                mode = os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    if depth >= MAX_DEPTH:
                        skipped.append((path, f"deeper than {MAX_DEPTH} folders"))
                        continue
                    fd = os.open(name, flags | os.O_DIRECTORY, dir_fd=folder_fd)
                    try:
                        copy_folder(fd, os.path.join(target, name), path, depth + 1)
                    finally:
                        os.close(fd)
                elif stat.S_ISREG(mode):
                    copy_file(folder_fd, name, target, path)
                else:
                    skipped.append((path, "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"))
            except OSError as err:   # e.g. ELOOP: a link swapped in after the stat; EACCES: unreadable
                skipped.append((path, f"could not be read safely ({err.strerror})"))

    if os.path.exists(dest):
        shutil.rmtree(dest)
    root = os.open(src, flags | os.O_DIRECTORY)
    try:
        copy_folder(root, dest, "", 0)
    finally:
        os.close(root)
    return skipped


def _checked_collect_class():
    from nbgrader.exchange.default import ExchangeCollect
    from nbgrader.utils import parse_utc

    class CheckedCollect(ExchangeCollect):
        """nbgrader's collect, with the checks of the module docstring."""
        refused = List()   # (student, inbound folder name, reason)

        def init_src(self):
            """nbgrader's choice of each student's newest submission (the newest before the due date
            with ``before_duedate``), made among the folders that pass ``owner_refusal`` only, so
            that a folder planted under a student's name cannot hide their real submission."""
            from nbgrader.api import Gradebook, MissingEntry
            from nbgrader.exchange import ExchangeError

            if self.coursedir.course_id == "":
                raise ExchangeError("no course id: set c.CourseDirectory.course_id in nbgrader_config.py")
            self.inbound_path = os.path.join(self.root, self.coursedir.course_id, "inbound")
            if not os.path.isdir(self.inbound_path):
                raise ExchangeError(f"no inbound folder {self.inbound_path}")
            student_id = self.coursedir.student_id if self.coursedir.student_id else "*"
            pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
            by_student = {}
            for folder in sorted(glob.glob(pattern)):
                name = os.path.basename(folder)
                student = name.split("+", 1)[0]
                try:
                    record = self._path_to_record(folder)
                except Exception as err:   # nbgrader parses the timestamp in the name: anything may be there
                    self.refused.append((student, name, f"not collected: the name's timestamp cannot be read ({err})"))
                    continue
                reason = self.owner_refusal(folder, record["username"])
                if reason:
                    self.refused.append((record["username"], record["filename"], reason))
                else:
                    by_student.setdefault(record["username"], []).append(record)
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
                try:
                    duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
                except MissingEntry:
                    duedate = None
            self.duedate = duedate
            self.src_records = []
            for records in by_student.values():
                records = sorted(records, key=lambda r: r["timestamp"], reverse=True)
                if self.before_duedate and duedate is not None:
                    on_time = [r for r in records if r["timestamp"] <= parse_utc(duedate)]
                    records = on_time or records
                self.src_records.append(records[0])

        def owner_refusal(self, folder, student):
            """Why the inbound ``folder`` of ``student`` is refused for its owner, or ""."""
            if os.path.islink(folder) or not os.path.isdir(folder):
                return "not collected: the submission is not a folder"
            if self.check_owner and pwd is not None:
                uid = os.lstat(folder).st_uid
                try:
                    owner = pwd.getpwuid(uid).pw_name
                except KeyError:
                    owner = f"uid {uid}"
                if owner != student:
                    return (f"not collected: its folder belongs to the user {owner}, not to {student} (set "
                            "c.ExchangeCollect.check_owner = False where one account submits for everyone)")
            return ""

        def do_copy(self, src, dest, log=None):
            """Copy with :func:`copy_without_links` instead of nbgrader's copy, which follows links;
            what is left out is reported."""
            name = os.path.basename(src)
            student, _, timestamp = name.split("+")[:3]
            try:   # the student's own timestamp.txt is not trusted (nbgrader parses it on the next collect)
                skipped = copy_without_links(src, dest, [*self.coursedir.ignore, "timestamp.txt"],
                                             1000 * self.coursedir.max_file_size, 1000 * self.coursedir.max_dir_size)
            except OSError as err:
                os.makedirs(dest, exist_ok=True)
                skipped = [(".", f"could not be read safely ({err.strerror})")]
            with open(os.path.join(dest, "timestamp.txt"), "w", encoding="utf-8") as stamp:
                stamp.write(timestamp)   # already parsed by nbgrader when the folder was chosen
            self.refused.extend((student, name, f"{path} was left out: {why}") for path, why in skipped)

    return CheckedCollect


def collect(config, lessons, logger):
    r"""Each student's newest submission of each lesson from the exchange's inbound folder into
    ``submitted/<student>/<lesson>/`` (replacing an older one), through :class:`CheckedCollect`;
    returns the problems of the refused ones."""
    config = copy.deepcopy(config)
    config.ExchangeCollect.update = True
    problems, checked_collect = [], _checked_collect_class()
    for lesson in lessons:
        step = run_step(checked_collect, config, lesson, logger,
                        f"nbgrader's exchange could not collect {lesson} (was it released with "
                        "`nn-grade release --exchange`?)")
        problems += [intake.Problem(student, lesson, f"exchange inbound/{name}",
                                    f"inbound/{name}: {reason}", kind="refused_submission")
                     for student, name, reason in step.refused]
    return problems


def release_feedback(course, config, lessons, logger):
    r"""nbgrader's ``ExchangeReleaseFeedback``: the feedback pages of the submissions that came through
    the exchange (their folder keeps nbgrader's ``submission_secret.txt`` and ``timestamp.txt``) go
    to it, where each student gets theirs with ``nbgrader fetch_feedback``."""
    from nbgrader.exchange.default import ExchangeReleaseFeedback

    for lesson in lessons:
        pages = sorted(course.feedback.glob(f"*/{lesson}/{lesson}.html"))
        others = [page.parent.parent.name for page in pages
                  if not all((page.parent / name).is_file() for name in intake.NBGRADER_FILES)]
        if len(others) < len(pages):
            cfg = copy.deepcopy(config)
            cfg.CourseDirectory.student_id_exclude = ",".join(others)
            run_step(ExchangeReleaseFeedback, cfg, lesson, logger,
                     f"nbgrader's exchange could not take the feedback of {lesson}")
