r"""``nn-grade``: grade the course's submissions with nbgrader, in the sandbox, in parallel.

::

    nn-grade release [--course course] [--lessons 01-neuron ...] [--exchange]
    nn-grade run [--course course] [--exchange] [--zip DIR] [--lessons 01-neuron ...] [--workers N]
                 [--force] [--timeout S] [--memory MIB] [--quiet]

``release`` (:mod:`autograder.release`) writes ``release/<lesson>/`` with the student version in
the four languages (English at the top, ``uk/``, ``ru/``, ``pl/`` beside it); ``--exchange`` then
releases it through nbgrader's exchange. Otherwise hand the folder out yourself.

``run`` does the eight steps of :mod:`autograder.pipeline` and prints a summary: how many
verdicts were computed or reused, the problems found in submissions, and where
``reports/grades.csv`` and ``reports/report.html`` are. Run it again after adding submissions:
what did not change is not graded again. A run that was killed simply resumes.

``--exchange`` collects the submissions from nbgrader's exchange first (nbgrader's
``ExchangeCollect``). ``--zip DIR`` collects archives first with nbgrader's ZipCollectApp: put the files downloaded
from your LMS (``.zip`` archives or notebooks) in ``DIR/<lesson>/archive/``; each notebook must be
named ``<student>__<lesson>.ipynb`` (two underscores; e.g. ``alice__01-neuron.ipynb``). They are
copied to ``course/submitted/<student>/<lesson>/<lesson>.ipynb``, replacing an earlier copy.

Exit codes: 0 done (problems of submissions are reported, not fatal), 1 the grader itself
failed on some submission (see the report), 2 the course cannot be graded (message on stderr).
"""
import argparse
import os
import sys
from pathlib import Path


def default_course():
    r"""``./course`` when it exists, else the ``course/`` folder of the checkout this package is in."""
    here = Path.cwd() / "course"
    return here if here.is_dir() else Path(__file__).resolve().parents[1] / "course"


def parser():
    p = argparse.ArgumentParser(prog="nn-grade", description="Grade the course's submissions (nbgrader + sandbox).")
    commands = p.add_subparsers(dest="command", metavar="{release,run}")
    release = commands.add_parser("release", help="write release/<lesson>/ in four languages; --exchange: release it")
    release.add_argument("--course", type=Path, default=None, help="the nbgrader course folder (default: ./course)")
    release.add_argument("--lessons", nargs="+", default=None, help="lesson ids (default: every lesson in source/)")
    release.add_argument("--exchange", action="store_true",
                         help="also release through nbgrader's exchange (c.Exchange.root in nbgrader_config.py)")
    run = commands.add_parser("run", help="collect, check, grade, autograde, feedback, export, report")
    run.add_argument("--course", type=Path, default=None, help="the nbgrader course folder (default: ./course)")
    run.add_argument("--exchange", action="store_true", help="collect from nbgrader's exchange first")
    run.add_argument("--zip", dest="zip_dir", type=Path, default=None,
                     help="collect DIR/<lesson>/archive/ first (files named <student>__<lesson>.ipynb)")
    run.add_argument("--lessons", nargs="+", default=None, help="lesson ids (default: every lesson in source/)")
    run.add_argument("--workers", type=int, default=None, help="grading processes (default: number of CPUs)")
    run.add_argument("--force", action="store_true", help="regrade everything instead of resuming")
    run.add_argument("--timeout", type=float, default=None, help="wall-clock seconds per notebook (default 60)")
    run.add_argument("--memory", type=int, default=None, help="memory limit per notebook in MiB (default 1024)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def limits_from(args):
    from autograder.sandbox import Limits

    changes = {}
    if args.timeout is not None:
        changes["wall_seconds"] = args.timeout
        changes["cpu_seconds"] = max(1, int(args.timeout))
        changes["cell_seconds"] = min(Limits.cell_seconds, args.timeout)
        changes["call_seconds"] = min(Limits.call_seconds, args.timeout)
    if args.memory is not None:
        changes["memory_bytes"] = args.memory << 20
    return Limits(**changes)


def summary(result):
    lines = [f"verdicts: {result.verdicts_computed} computed, {result.verdicts_reused} reused; "
             f"autograded: {result.autograded}; feedback: {result.feedback}"]
    if result.problems:
        lines.append(f"{len(result.problems)} problems (see the report):")
        lines += [f"  {p.reason}" for p in result.problems]
    for (student, lesson), (score, top) in sorted(result.scores.items()):
        lines.append(f"  {student:<24} {lesson:<20} {score:g} / {top:g}")
    lines.append(f"grades: {result.grades_csv}")
    lines.append(f"report: {result.report_html}")
    return "\n".join(lines)


def release_command(args):
    from autograder.pipeline import PipelineError
    from autograder.release import release

    course = args.course or default_course()
    try:
        released = release(course, args.lessons, exchange=args.exchange)
    except PipelineError as err:
        print(f"nn-grade: error: {err}", file=sys.stderr)
        return 2
    for lesson, paths in released.items():
        where = "released through nbgrader's exchange" if args.exchange else "ready to hand out"
        print(f"{lesson}: {paths[0].parent} {where} ({len(paths)} languages)")
    return 0


def main(argv=None):
    r"""Entry point of ``nn-grade``; returns the exit code."""
    from autograder.pipeline import Options, PipelineError, run

    args = parser().parse_args(argv)
    if args.command == "release":
        return release_command(args)
    if args.command != "run":
        parser().print_help()
        return 2
    if args.workers is not None and args.workers < 1:
        print("nn-grade: error: --workers must be at least 1", file=sys.stderr)
        return 2
    options = Options(course=args.course or default_course(), lessons=args.lessons, zip_dir=args.zip_dir,
                      exchange=args.exchange,
                      workers=args.workers or os.cpu_count(), force=args.force, progress=not args.quiet,
                      limits=limits_from(args))
    try:
        result = run(options)
    except PipelineError as err:
        print(f"nn-grade: error: {err}", file=sys.stderr)
        return 2
    print(summary(result))
    failed = [p for p in result.problems if p.kind in ("grader_failed", "autograde_failed", "feedback_failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
