r"""Intake: every kind of malformed submission gets a problem naming the file and the reason, the rest
of the notebook is repaired with the instructor's cells, and nothing raises."""
import copy
import json
import os

import nbformat
import pytest

from helpers_grading import REPO, cell, correct, with_cell_removed

from autograder import intake

LESSON = "01-neuron"


@pytest.fixture(scope="module")
def release():
    # the student version nbgrader cut from the master: what course/release/<lesson>/ holds
    return nbformat.read(REPO / "lessons" / "en" / f"{LESSON}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def good():
    return correct(LESSON, "uk", REPO)


def hand_in(tmp_path, files, student="alice"):
    folder = tmp_path / "submitted" / student / LESSON
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = os.fsencode(folder) + b"/" + name if isinstance(name, bytes) else folder / name
        with open(path, "wb") as handle:
            handle.write(data)
    return folder


def notebook_bytes(nb):
    return nbformat.writes(nb, version=4).encode("utf-8")


def inspect(tmp_path, release, files):
    return intake.inspect_submission("alice", LESSON, hand_in(tmp_path, files), release)


def kinds(sub):
    return [p.kind for p in sub.problems]


def test_a_clean_submission_has_no_problem_and_keeps_its_language(tmp_path, release, good):
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(good)})
    assert sub.problems == [] and sub.gradable and sub.lang == "uk"
    assert [c.source for c in sub.notebook.cells] == [c.source for c in good.cells]
    assert sub.notebook.metadata["course"] == {"lesson": LESSON, "lang": "uk"}
    assert len(sub.digest) == 64


@pytest.mark.parametrize("files, kind, words", [
    ({}, "empty", "folder is empty"),
    ({"work.ipynb": b"{}"}, "missing_notebook", "missing notebook (found: work.ipynb)"),
    ({f"{LESSON}.ipynb": b"\x89PNG\r\n"}, "not_json", "not valid JSON"),
    ({f"{LESSON}.ipynb": b'{"cells": 3}'}, "not_json", "no list of cells"),
    ({f"{LESSON}.ipynb": b'[1, 2]'}, "not_json", "no list of cells"),
    ({f"{LESSON}.ipynb": json.dumps({"nbformat": 3, "cells": [], "metadata": {}}).encode()}, "nbformat",
     "version 3 is not supported"),
    ({f"{LESSON}.ipynb": json.dumps({"nbformat": "4", "cells": [], "metadata": {}}).encode()}, "nbformat",
     "version '4' is not supported"),
])
def test_unusable_submissions_are_not_graded_with_a_reason(tmp_path, release, files, kind, words):
    sub = inspect(tmp_path, release, files)
    assert not sub.gradable and sub.fatal_reason.kind == kind
    problem = sub.fatal_reason
    assert words in problem.reason and problem.path.startswith(f"submitted/alice/{LESSON}")
    assert (problem.student, problem.lesson) == ("alice", LESSON)
    assert kind in intake.FEEDBACK


def test_too_large_notebooks_are_refused(tmp_path, release, monkeypatch):
    monkeypatch.setattr(intake, "NOTEBOOK_MAX_BYTES", 100)
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": b" " * 101})
    assert sub.fatal_reason.kind == "too_large" and "more than" in sub.fatal_reason.reason


def test_extra_files_and_bad_names_are_reported_and_ignored(tmp_path, release, good):
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(good), "copy.ipynb": b"{}",
                                      "data.csv": b"1,2", b"\xff\xfeweird.txt": b"x"})
    assert sub.gradable
    reasons = {p.kind: p for p in sub.problems}
    assert sorted(kinds(sub)) == ["bad_file_name", "extra_file", "extra_file"]
    assert "\\xff\\xfeweird.txt" in reasons["bad_file_name"].path and "not valid UTF-8" in reasons["bad_file_name"].reason
    assert any("copy.ipynb: an extra notebook" in p.reason for p in sub.problems)


def test_timestamp_is_kept_for_nbgrader(tmp_path, release, good):
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(good),
                                      "timestamp.txt": b"2024-03-01 10:00:00.000000 UTC\n"})
    assert sub.timestamp == "2024-03-01 10:00:00.000000 UTC" and sub.problems == []
    path = intake.stage(sub, tmp_path / "intake", release)
    assert (path.parent / "timestamp.txt").read_text() == sub.timestamp


def test_a_deleted_test_cell_is_restored_in_place(tmp_path, release, good):
    nb = with_cell_removed(good, "test_dense_forward")
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(nb)})
    assert kinds(sub) == ["missing_test_cell"] and sub.problems[0].grade_id == "test_dense_forward"
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in sub.notebook.cells]
    assert ids.index("test_dense_forward") == ids.index("dense_forward") + 1
    assert cell(sub.notebook, "test_dense_forward").source == cell(release, "test_dense_forward").source


def test_a_deleted_answer_cell_comes_back_as_the_stub(tmp_path, release, good):
    nb = with_cell_removed(good, "weighted_sum")
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(nb)})
    assert kinds(sub) == ["missing_solution_cell"]
    assert "NotImplementedError" in cell(sub.notebook, "weighted_sum").source
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in sub.notebook.cells]
    assert ids.index("weighted_sum") == ids.index("test_weighted_sum") - 1


def test_edited_test_cells_and_changed_metadata_get_the_instructors_version(tmp_path, release, good):
    nb = copy.deepcopy(good)
    cell(nb, "test_weighted_sum").source = "print('trust me')"
    cell(nb, "test_dense_forward").metadata["nbgrader"]["points"] = 99
    cell(nb, "test_add_bias_column").metadata["nbgrader"].update(grade=False, locked=False)
    cell(nb, "weighted_sum").metadata["nbgrader"]["grade"] = True
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(nb)})
    found = {(p.kind, p.grade_id) for p in sub.problems}
    assert found == {("edited_test_cell", "test_weighted_sum"), ("changed_metadata", "test_dense_forward"),
                     ("changed_metadata", "test_add_bias_column"), ("changed_metadata", "weighted_sum")}
    points = next(p for p in sub.problems if p.grade_id == "test_dense_forward")
    assert "points 99 -> 3" in points.reason
    for grade_id in ("test_weighted_sum", "test_dense_forward", "test_add_bias_column", "weighted_sum"):
        assert cell(sub.notebook, grade_id).metadata["nbgrader"] == cell(release, grade_id).metadata["nbgrader"]
    assert cell(sub.notebook, "test_weighted_sum").source == cell(release, "test_weighted_sum").source
    assert cell(sub.notebook, "weighted_sum").source == cell(good, "weighted_sum").source  # the answer stays


def test_a_test_cell_turned_into_markdown_is_a_code_cell_again(tmp_path, release, good):
    nb = copy.deepcopy(good)
    test = cell(nb, "test_threshold_neuron")
    nb.cells[nb.cells.index(test)] = nbformat.v4.new_markdown_cell("gone", metadata=test.metadata, id=test.id)
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(nb)})
    restored = cell(sub.notebook, "test_threshold_neuron")
    assert restored.cell_type == "code" and restored.source == cell(release, "test_threshold_neuron").source
    assert {"changed_metadata", "edited_test_cell"} == set(kinds(sub))


def test_unknown_and_duplicated_graded_cells_lose_their_grading(tmp_path, release, good):
    nb = copy.deepcopy(good)
    nb.cells.append(nbformat.v4.new_code_cell("1", metadata={"nbgrader": {"grade": True, "grade_id": "bonus",
                                                                         "points": 50, "solution": False}}))
    twin = copy.deepcopy(cell(nb, "test_weighted_sum"))
    twin.id = "twin"
    nb.cells.append(twin)
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(nb)})
    assert sorted(kinds(sub)) == ["duplicate_cell", "unknown_graded_cell"]
    graded = [c.metadata["nbgrader"]["grade_id"] for c in sub.notebook.cells if "nbgrader" in c.metadata]
    assert sorted(graded) == sorted(intake.graded_cells(release))


def test_malformed_cells_are_repaired_or_skipped(tmp_path, release, good):
    data = json.loads(notebook_bytes(good))
    data["cells"][0]["source"] = ["line one\n", "line two"]     # a list of lines is fine (nbformat allows it)
    data["cells"][1]["source"] = [1, 2, 3]                       # not text
    data["cells"][2]["metadata"] = {"tags": "not a list", "collapsed": "yes"}
    data["cells"].insert(3, {"cell_type": "weird", "source": ""})
    data["cells"].insert(4, "not even a dict")
    for c in data["cells"]:
        if isinstance(c, dict):
            c.pop("id", None)                                    # nbformat 4.4: no ids
    data["nbformat_minor"] = 4
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": json.dumps(data).encode()})
    assert sub.gradable
    assert kinds(sub) == ["malformed_cell", "malformed_cell", "malformed_cell"]
    assert sub.notebook.cells[0].source == "line one\nline two" and sub.notebook.cells[1].source == ""
    assert len({c.id for c in sub.notebook.cells}) == len(sub.notebook.cells)
    nbformat.validate(sub.notebook)


def test_unknown_language_and_wrong_lesson(tmp_path, release, good):
    nb = copy.deepcopy(good)
    nb.metadata["course"] = {"lesson": "06-activations", "lang": "klingon"}
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(nb)})
    assert sub.lang == "en" and kinds(sub) == ["wrong_lesson"] and "06-activations" in sub.problems[0].reason


def test_stage_writes_a_placeholder_for_what_cannot_be_graded(tmp_path, release):
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": b"garbage"})
    path = intake.stage(sub, tmp_path / "intake", release)
    staged = nbformat.read(path, as_version=4)
    assert [c.source for c in staged.cells] == [c.source for c in release.cells]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_find_submissions_skips_what_is_not_a_submission(tmp_path):
    submitted = tmp_path / "submitted"
    (submitted / "alice" / LESSON).mkdir(parents=True)
    (submitted / "alice" / "99-nope").mkdir(parents=True)
    (submitted / "bob,eve" / LESSON).mkdir(parents=True)
    os.makedirs(os.fsencode(submitted) + b"/\xff\xfe" + f"/{LESSON}".encode())
    (submitted / "README.txt").write_text("hello")
    found, problems = intake.find_submissions(submitted, [LESSON, "06-activations"])
    assert [(s, l) for s, l, _ in found] == [("alice", LESSON)]
    reasons = " | ".join(p.reason for p in problems)
    assert "99-nope: not a lesson of this course" in reasons
    assert "'bob,eve' cannot be used by nbgrader" in reasons
    assert "not valid UTF-8" in reasons and "README.txt: not a student folder" in reasons


def test_problems_round_trip_through_dicts():
    problem = intake.Problem("a", LESSON, "p", "why", kind="extra_file", fields={"name": "x"})
    assert intake.Problem.from_dict(problem.to_dict()) == problem


def test_atomic_write_replaces_whole_files(tmp_path):
    path = tmp_path / "deep" / "file.txt"
    intake.atomic_write_text(path, "one")
    intake.atomic_write_text(path, "two")
    assert path.read_text() == "two" and os.listdir(path.parent) == ["file.txt"]


def test_an_edited_read_only_cell_is_restored(tmp_path, release, good):
    locked = copy.deepcopy(release)
    intro = next(c for c in locked.cells if c.cell_type == "markdown")
    intro.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "grade_id": "intro",
                                  "schema_version": 3}
    nb = copy.deepcopy(good)
    mine = next(c for c in nb.cells if c.cell_type == "markdown")
    mine.metadata["nbgrader"] = dict(intro.metadata["nbgrader"])
    mine.source = "I rewrote the lesson"
    sub = inspect(tmp_path, locked, {f"{LESSON}.ipynb": notebook_bytes(nb)})
    assert kinds(sub) == ["edited_locked_cell"] and "read-only cell 'intro' was edited" in sub.problems[0].reason
    assert cell(sub.notebook, "intro").source == intro.source


# --- a lesson released in four languages: release/<lesson>/{<lesson>.ipynb, uk/, ru/, pl/} -------------

def released_folder(root=REPO):
    """The files of a release in four languages, untouched: English at the top, the others in folders."""
    files = {f"{LESSON}.ipynb": (root / "lessons" / "en" / f"{LESSON}.ipynb").read_bytes()}
    for lang in ("uk", "ru", "pl"):
        files[f"{lang}/{LESSON}.ipynb"] = (root / "lessons" / lang / f"{LESSON}.ipynb").read_bytes()
    return files


def hand_in_tree(tmp_path, files):
    folder = tmp_path / "submitted" / "alice" / LESSON
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def test_the_language_the_student_worked_in_is_graded(tmp_path, release):
    files = released_folder()
    files[f"pl/{LESSON}.ipynb"] = notebook_bytes(correct(LESSON, "pl", REPO))
    files[f"pl/.ipynb_checkpoints/{LESSON}-checkpoint.ipynb"] = b"{}"
    folder = hand_in_tree(tmp_path, files)
    assert intake.choose_notebook(folder, LESSON, release) == (f"pl/{LESSON}.ipynb", [], [])
    sub = intake.inspect_submission("alice", LESSON, folder, release)
    assert sub.problems == [] and sub.gradable and sub.lang == "pl"
    assert cell(sub.notebook, "weighted_sum").source == cell(correct(LESSON, "pl", REPO), "weighted_sum").source


def test_without_answers_the_copy_that_was_run_is_graded_then_the_english_one(tmp_path, release):
    files = released_folder()
    folder = hand_in_tree(tmp_path, files)
    sub = intake.inspect_submission("alice", LESSON, folder, release)
    assert sub.problems == [] and sub.lang == "en"
    opened = nbformat.reads(files[f"uk/{LESSON}.ipynb"].decode(), as_version=4)   # run in Ukrainian, not solved
    next(c for c in opened.cells if c.cell_type == "code").execution_count = 1
    nbformat.write(opened, folder / "uk" / f"{LESSON}.ipynb")
    assert intake.inspect_submission("alice", LESSON, folder, release).lang == "uk"


def test_answers_in_two_languages_grade_the_fuller_one_and_say_so(tmp_path, release):
    files = released_folder()
    files[f"ru/{LESSON}.ipynb"] = notebook_bytes(correct(LESSON, "ru", REPO))
    one_answer = nbformat.read(REPO / "lessons" / "en" / f"{LESSON}.ipynb", as_version=4)
    one_answer = copy.deepcopy(one_answer)
    cell(one_answer, "weighted_sum").source = "def weighted_sum(x, w, b):\n    return 0.0"
    files[f"{LESSON}.ipynb"] = notebook_bytes(one_answer)
    sub = intake.inspect_submission("alice", LESSON, hand_in_tree(tmp_path, files), release)
    assert sub.lang == "ru" and kinds(sub) == ["several_languages"]
    problem = sub.problems[0]
    assert problem.fields == {"grade_id": "", "notebooks": f"ru/{LESSON}.ipynb, {LESSON}.ipynb",
                              "graded": f"ru/{LESSON}.ipynb"}
    assert f"answers in ru/{LESSON}.ipynb, {LESSON}.ipynb; ru/{LESSON}.ipynb was graded" in problem.reason


def test_a_broken_copy_in_a_language_folder_does_not_hide_the_answers(tmp_path, release):
    files = released_folder()
    files[f"uk/{LESSON}.ipynb"] = notebook_bytes(correct(LESSON, "uk", REPO))
    files[f"ru/{LESSON}.ipynb"] = b"not json"
    files["pl/notes.txt"] = b"my notes"
    sub = intake.inspect_submission("alice", LESSON, hand_in_tree(tmp_path, files), release)
    assert sub.gradable and sub.lang == "uk"
    reasons = sorted(p.reason for p in sub.problems)
    assert kinds(sub) == ["extra_file", "extra_file"] and "pl/notes.txt: an extra file" in reasons[0]
    assert f"ru/{LESSON}.ipynb: not a readable notebook; it was not graded" in reasons[1]


def test_symbolic_links_are_never_read(tmp_path, release, good):
    secret = tmp_path / "solution.ipynb"
    secret.write_bytes(notebook_bytes(correct(LESSON, "en", REPO)))
    folder = hand_in(tmp_path, {})
    (folder / f"{LESSON}.ipynb").symlink_to(secret)
    sub = intake.inspect_submission("alice", LESSON, folder, release)
    assert not sub.gradable and kinds(sub) == ["extra_file", "missing_notebook"]
    assert "a symbolic link, not a file; it was ignored" in sub.problems[0].reason
    (folder / f"{LESSON}.ipynb").unlink()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / f"{LESSON}.ipynb").write_bytes(secret.read_bytes())
    (folder / "uk").symlink_to(tmp_path / "elsewhere")                 # a linked language folder
    (folder / f"{LESSON}.ipynb").write_bytes(notebook_bytes(release))
    assert intake.choose_notebook(folder, LESSON, release) == (f"{LESSON}.ipynb", [], [])


def test_nbgraders_submission_secret_is_kept_for_its_feedback_exchange(tmp_path, release, good):
    secret = "ab12" * 32
    sub = inspect(tmp_path, release, {f"{LESSON}.ipynb": notebook_bytes(good), "submission_secret.txt": secret.encode()})
    assert sub.problems == [] and sub.secret == secret
    staged = intake.stage(sub, tmp_path / "staging", release)
    assert (staged.parent / "submission_secret.txt").read_text() == secret
    forged = inspect(tmp_path / "forged", release, {f"{LESSON}.ipynb": notebook_bytes(good),
                                                    "submission_secret.txt": b"../../gradebook.db"})
    assert forged.secret == "" and kinds(forged) == ["extra_file"]
    assert "submission_secret.txt: not a submission secret; ignored" in forged.problems[0].reason
    staged = intake.stage(forged, tmp_path / "staging", release)            # the same folder: the old secret goes
    assert not (staged.parent / "submission_secret.txt").exists()


def test_unreadable_language_folders_and_notebooks_are_reported_not_raised(tmp_path, release, monkeypatch):
    """What a grader without root meets (simulated, since root reads everything): a language folder
    it may not list, a notebook it may not read, an entry it may not even look at."""
    from pathlib import Path

    files = released_folder()
    files[f"pl/{LESSON}.ipynb"] = notebook_bytes(correct(LESSON, "pl", REPO))
    folder = hand_in_tree(tmp_path, files)
    real_listdir, real_lstat, real_read = os.listdir, os.lstat, Path.read_bytes

    def listdir(path):
        if str(path).endswith("/uk"):
            raise PermissionError(13, "Permission denied")
        return real_listdir(path)

    def lstat(path, *args, **kwargs):
        if str(path).endswith("/ru"):
            raise PermissionError(13, "Permission denied")
        return real_lstat(path, *args, **kwargs)

    def read_bytes(path):
        if str(path).endswith(f"pl/{LESSON}.ipynb"):
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(intake.os, "listdir", listdir)
    monkeypatch.setattr(intake.os, "lstat", lstat)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    sub = intake.inspect_submission("alice", LESSON, folder, release)
    reasons = " | ".join(p.reason for p in sub.problems)
    assert "uk: cannot be read (Permission denied); it was ignored" in reasons
    assert "ru: a symbolic link, not a file; it was ignored" in reasons       # could not be looked at
    assert f"pl/{LESSON}.ipynb: not a readable notebook; it was not graded" in reasons   # the English is graded
    assert sub.gradable and sub.lang == "en"
    only = tmp_path / "only"                                   # the unreadable copy is the only one
    hand_in(only, {})
    (only / "submitted" / "alice" / LESSON / "pl").mkdir()
    (only / "submitted" / "alice" / LESSON / "pl" / f"{LESSON}.ipynb").write_bytes(files[f"pl/{LESSON}.ipynb"])
    alone = intake.inspect_submission("alice", LESSON, only / "submitted" / "alice" / LESSON, release)
    assert f"pl/{LESSON}.ipynb: cannot be read (Permission denied); nothing was graded" in alone.fatal_reason.reason
