"""Release in four languages: ``nn-grade release`` writes release/<lesson>/ with every language,
nbgrader's exchange carries it to students and back, the pipeline grades the language each student
worked in, and each student fetches feedback in that language."""
import os
import shutil
import stat

import nbformat
import pytest

from helpers_grading import build_course, correct, feedback_html, grade, points_of

from autograder import cli, release
from autograder.messages import translate
from autograder.pipeline import PipelineError

LESSON = "01-neuron"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_course(tmp_path_factory.mktemp("release"))


@pytest.fixture
def root(built, tmp_path):
    return shutil.copytree(built, tmp_path / "checkout")


def released_through_an_exchange(root, tmp_path, check_owner=True):
    """Point the course at an exchange in ``tmp_path`` and release the lesson there; returns
    ``(course, exchange)``. ``check_owner=False``: one account submits for every student."""
    course, exchange = root / "course", tmp_path / "exchange"
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(exchange)!r}\nc.ExchangeCollect.check_owner = {check_owner}\n")
    assert cli.main(["release", "--course", str(course), "--lessons", LESSON, "--exchange"]) == 0
    return course, exchange


def test_release_writes_the_lesson_in_every_language(root, capsys):
    assert cli.main(["release", "--course", str(root / "course"), "--lessons", LESSON]) == 0
    assert f"{LESSON}: {root / 'course' / 'release' / LESSON} ready to hand out (4 languages)" in capsys.readouterr().out
    folder = root / "course" / "release" / LESSON
    top = nbformat.read(folder / f"{LESSON}.ipynb", as_version=4)
    assert top.metadata["course"]["lang"] == "en"
    for lang in ("uk", "ru", "pl"):
        copy = folder / lang / f"{LESSON}.ipynb"
        assert copy.read_bytes() == (root / "lessons" / lang / f"{LESSON}.ipynb").read_bytes()
        assert nbformat.read(copy, as_version=4).metadata["course"]["lang"] == lang
        assert release._graded_cells(nbformat.read(copy, as_version=4)) == release._graded_cells(top)
    assert "### BEGIN SOLUTION" not in (folder / "uk" / f"{LESSON}.ipynb").read_text(encoding="utf-8")


def test_a_stale_or_missing_translation_is_not_released(root, capsys):
    student = root / "lessons" / "ru" / f"{LESSON}.ipynb"
    notebook = nbformat.read(student, as_version=4)
    test_cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_weighted_sum")
    test_cell.metadata["nbgrader"]["points"] = 99
    nbformat.write(notebook, student)
    with pytest.raises(PipelineError, match=rf"graded cells of .*ru/{LESSON}.ipynb differ.*run `nn-course build`"):
        release.release(root / "course", [LESSON])
    student.unlink()
    assert cli.main(["release", "--course", str(root / "course")]) == 2
    assert f"ru/{LESSON}.ipynb is missing: run `nn-course build`" in capsys.readouterr().err


def test_exchange_round_trip_grades_each_students_language(root, tmp_path):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeFetchFeedback, ExchangeSubmit
    from traitlets.config import Config

    course, exchange = released_through_an_exchange(root, tmp_path, check_owner=False)   # one account for all
    inbound_mode = (exchange / "nn-from-the-neuron-up" / "inbound").stat().st_mode
    assert inbound_mode & stat.S_ISVTX and inbound_mode & 0o003          # everyone writes, nobody renames others'
    assert (exchange / "nn-from-the-neuron-up" / "outbound" / LESSON / "pl" / f"{LESSON}.ipynb").is_file()

    def student_side(student, step):
        cfg = Config()
        cfg.CourseDirectory.course_id = "nn-from-the-neuron-up"
        cfg.CourseDirectory.assignment_id = LESSON
        cfg.CourseDirectory.student_id = student
        cfg.Exchange.root = str(exchange)
        cfg.Exchange.cache = str(tmp_path / student / ".cache")      # the student's own record of submissions
        cfg.Exchange.assignment_dir = str(tmp_path / student)
        step(coursedir=CourseDirectory(config=cfg), authenticator=Authenticator(config=cfg), config=cfg).start()

    def as_student(student, work):
        (tmp_path / student).mkdir()
        student_side(student, ExchangeFetchAssignment)
        work(tmp_path / student / LESSON)
        student_side(student, ExchangeSubmit)

    def solve_in(lang):
        return lambda folder: nbformat.write(correct(LESSON, lang, root), folder / lang / f"{LESSON}.ipynb")

    as_student("alice", solve_in("pl"))
    as_student("bohdan", solve_in("uk"))
    as_student("carol", lambda folder: None)                        # fetched, handed in untouched
    result = grade(course, exchange=True, lessons=[LESSON])
    assert result.problems == []
    full = result.scores["alice", LESSON][1]
    assert {student: result.scores[student, LESSON][0] for student in ("alice", "bohdan", "carol")} == \
        {"alice": full, "bohdan": full, "carol": 0}
    for student, lang in (("alice", "pl"), ("bohdan", "uk"), ("carol", "en")):
        page = feedback_html(course, student, LESSON)
        assert translate("Score", lang) in page and f'lang="{lang}"' in page
        student_side(student, ExchangeFetchFeedback)                 # nbgrader fetch_feedback
        [returned] = (tmp_path / student / LESSON / "feedback").glob(f"*/{LESSON}.html")
        assert returned.read_text(encoding="utf-8") == page

    student_side("alice", ExchangeSubmit)                 # the same work again: a new timestamp and secret
    again = grade(course, exchange=True, lessons=[LESSON])
    assert again.problems == [] and again.scores["alice", LESSON] == result.scores["alice", LESSON]
    student_side("alice", ExchangeFetchFeedback)
    assert len(list((tmp_path / "alice" / LESSON / "feedback").glob(f"*/{LESSON}.html"))) == 2   # both submissions


def test_collecting_from_an_exchange_where_nothing_was_released_says_so(root, tmp_path, capsys):
    course = root / "course"
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(tmp_path / 'empty-exchange')!r}\n")
    assert cli.main(["run", "--course", str(course), "--exchange", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "nbgrader's exchange could not collect 01-neuron" in err and "nn-grade release --exchange" in err


def test_an_exchange_that_cannot_be_written_is_reported(root, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with open(root / "course" / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(f"\nc.Exchange.root = {str(blocker / 'exchange')!r}\n")
    assert cli.main(["release", "--course", str(root / "course"), "--exchange"]) == 2
    assert "nbgrader's exchange refused to release 01-neuron" in capsys.readouterr().err


def test_collection_never_follows_links_and_refuses_folders_under_another_users_name(root, tmp_path):
    """inbound/ is writable by everyone: a link to the solutions is left out of the copy, and a folder
    planted under a student's name is refused without hiding that student's own submission."""
    import pwd

    course, exchange = released_through_an_exchange(root, tmp_path)
    inbound = exchange / "nn-from-the-neuron-up" / "inbound"
    me = pwd.getpwuid(os.getuid()).pw_name
    linked = inbound / f"{me}+{LESSON}+2026-11-23 10:00:00.000000 UTC+abc"
    linked.mkdir()
    (linked / f"{LESSON}.ipynb").symlink_to(course / "source" / LESSON / f"{LESSON}.ipynb")   # the solutions
    os.mkfifo(linked / "pipe")                                               # would block a plain copy
    genuine = inbound / f"nobody+{LESSON}+2026-11-23 09:00:00.000000 UTC+ghi"  # nobody's own, older
    genuine.mkdir()
    nbformat.write(correct(LESSON, "en", root), genuine / f"{LESSON}.ipynb")
    for path in (genuine, genuine / f"{LESSON}.ipynb"):
        os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    planted = inbound / f"nobody+{LESSON}+2026-11-23 11:00:00.000000 UTC+def"   # newer, planted by me
    planted.mkdir()
    nbformat.write(nbformat.read(course / "release" / LESSON / f"{LESSON}.ipynb", as_version=4),
                   planted / f"{LESSON}.ipynb")
    result = grade(course, exchange=True, lessons=[LESSON])
    reasons = [p.reason for p in result.problems if p.kind == "refused_submission"]
    assert f"inbound/{linked.name}: {LESSON}.ipynb was left out: a symbolic link" in reasons
    assert f"inbound/{linked.name}: pipe was left out: not a regular file" in reasons
    assert any(r.startswith(f"inbound/{planted.name}: not collected: its folder belongs to the user {me}, not to "
                            "nobody") for r in reasons)
    full = sum(points_of(LESSON, root).values())
    assert result.scores == {(me, LESSON): (0.0, full), ("nobody", LESSON): (full, full)}


def test_a_link_swapped_in_after_the_check_is_not_followed(tmp_path, monkeypatch):
    """The race a student could run: the entry is a file when looked at, a link when opened."""
    from autograder import exchange

    src, secret = tmp_path / "submission", tmp_path / "solutions.ipynb"
    src.mkdir()
    secret.write_text("the solutions")
    (src / "notebook.ipynb").symlink_to(secret)
    (src / "sub").symlink_to(tmp_path)                                     # a linked folder as well
    real_stat = os.stat

    def stat_says_regular(name, *args, **kwargs):                         # as if checked before the swap
        info = real_stat(name, *args, **kwargs)
        if name == "notebook.ipynb":
            return real_stat(secret)
        return info

    monkeypatch.setattr(exchange.os, "stat", stat_says_regular)
    skipped = exchange.copy_without_links(str(src), str(tmp_path / "copy"))
    assert ("notebook.ipynb", "could not be read safely (Too many levels of symbolic links)") in skipped
    assert ("sub", "a symbolic link") in skipped
    assert sorted(os.listdir(tmp_path / "copy")) == []




def test_collection_survives_what_a_student_can_put_in_the_exchange(root, tmp_path):
    """A name whose timestamp is garbage, a timestamp.txt that is garbage, a hard link, folders
    nested too deep: each is refused or left out, and everyone else is still collected."""
    course, exchange = released_through_an_exchange(root, tmp_path, check_owner=False)
    inbound = exchange / "nn-from-the-neuron-up" / "inbound"
    (inbound / f"mallory+{LESSON}+garbage").mkdir()
    (inbound / f"mallory+{LESSON}+99999999999999999999999").mkdir()
    work = inbound / f"alice+{LESSON}+2026-11-23 10:00:00.000000 UTC+abc"
    work.mkdir()
    nbformat.write(correct(LESSON, "uk", root), work / f"{LESSON}.ipynb")
    (work / "timestamp.txt").write_text("garbage")
    os.link(course / "source" / LESSON / f"{LESSON}.ipynb", work / "solutions.ipynb")   # where hard links are allowed
    deep = work
    for _ in range(40):
        deep = deep / "d"
    deep.mkdir(parents=True)
    first = grade(course, exchange=True, lessons=[LESSON])
    again = grade(course, exchange=True, lessons=[LESSON])                 # the stored timestamp is readable
    full = sum(points_of(LESSON, root).values())
    assert first.scores == again.scores == {("alice", LESSON): (full, full)}
    reasons = " | ".join(p.reason for p in first.problems if p.kind == "refused_submission")
    assert "mallory+01-neuron+garbage: not collected: the name's timestamp cannot be read" in reasons
    assert "mallory+01-neuron+99999999999999999999999: not collected" in reasons
    assert "solutions.ipynb was left out: a hard link" in reasons
    assert "was left out: deeper than 16 folders" in reasons
    stamp = (course / "submitted" / "alice" / LESSON / "timestamp.txt").read_text()
    assert stamp == "2026-11-23 10:00:00.000000 UTC"


def test_a_file_that_grows_while_it_is_copied_is_left_out(tmp_path, monkeypatch):
    from autograder import exchange

    src = tmp_path / "submission"
    src.mkdir()
    (src / "notes.txt").write_bytes(b"x" * 100)
    real_fstat, calls = os.fstat, []

    def fstat_after_growth(fd):
        info = real_fstat(fd)
        calls.append(info.st_size)
        if len(calls) > 1:                                      # the check after the copy sees it bigger
            return os.stat_result((*info[:6], info.st_size + 10**9, *info[7:]))
        return info

    monkeypatch.setattr(exchange.os, "fstat", fstat_after_growth)
    assert exchange.copy_without_links(str(src), str(tmp_path / "copy")) == [("notes.txt", "it changed while it was copied")]
    assert os.listdir(tmp_path / "copy") == []
