r"""nbgrader's exchange, where students fetch lessons and hand them in: release, collect, feedback.

The exchange is a folder all users share (``c.Exchange.root``): the instructor releases into
``outbound/``, students submit into ``inbound/`` (writable by everyone), the instructor collects
from it and releases feedback into ``feedback/``. nbgrader's own classes do the copying; this
module adds what grading safely needs at collection (:class:`CheckedCollect`):

* a submission that holds a symbolic link is refused: nbgrader's copy follows links with the
  instructor's rights, so a link to ``course/source/<lesson>/<lesson>.ipynb`` would hand in the
  solutions;
* with ``check_owner`` (nbgrader's setting, on by default) a submission whose folder belongs to
  another user than the student it names is refused, where nbgrader only writes a warning in its
  log: anyone can write into ``inbound/``, under any name. On a machine where one account submits
  for everyone (a test, a demonstration), set ``c.ExchangeCollect.check_owner = False``.

Refused submissions are not collected (an earlier collected one stays) and are reported as problems.
"""
import copy
import os

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
    run_step(ExchangeReleaseAssignment, config, lesson, logger,
             f"nbgrader's exchange refused to release {lesson} (see .nn-grade/nbgrader.log)")


def _checked_collect_class():
    from nbgrader.exchange.default import ExchangeCollect

    class CheckedCollect(ExchangeCollect):
        """nbgrader's collect without the submissions it must not copy (see the module docstring)."""
        refused = List()   # (student, inbound folder name, reason)

        def init_src(self):
            super().init_src()
            kept = []
            for record in self.src_records:
                reason = self.refusal(os.path.join(self.inbound_path, record["filename"]), record["username"])
                if reason:
                    self.refused.append((record["username"], record["filename"], reason))
                else:
                    kept.append(record)
            self.src_records = kept

        def refusal(self, folder, student):
            """Why the inbound ``folder`` of ``student`` must not be collected, or ""."""
            if os.path.islink(folder):
                return "the submission is a symbolic link"
            for directory, subdirectories, files in os.walk(folder):
                for name in subdirectories + files:
                    if os.path.islink(os.path.join(directory, name)):
                        return f"it holds a symbolic link, {os.path.relpath(os.path.join(directory, name), folder)}"
            if self.check_owner and pwd is not None:
                try:
                    owner = pwd.getpwuid(os.lstat(folder).st_uid).pw_name
                except KeyError:
                    owner = f"uid {os.lstat(folder).st_uid}"
                if owner != student:
                    return (f"its folder belongs to the user {owner}, not to {student} (set "
                            "c.ExchangeCollect.check_owner = False where one account submits for everyone)")
            return ""

    return CheckedCollect


def collect(course, config, lessons, logger):
    r"""Each student's newest submission of each lesson from the exchange's inbound folder into
    ``submitted/<student>/<lesson>/`` (replacing an older one), through :class:`CheckedCollect`;
    returns the problems of the refused ones."""
    config = copy.deepcopy(config)
    config.ExchangeCollect.update = True
    problems = []
    for lesson in lessons:
        step = run_step(_checked_collect_class(), config, lesson, logger,
                        f"nbgrader's exchange could not collect {lesson} (was it released with "
                        "`nn-grade release --exchange`?)")
        problems += [intake.Problem(student, lesson, f"exchange inbound/{name}",
                                    f"inbound/{name}: not collected: {reason}", kind="refused_submission")
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
