"""The course build: one jupytext source, four languages, nbgrader's student versions, translation status.

Most tests build the tiny fixture lesson tests/fixtures/build/90-double.py (with its uk/ru/pl
catalogs) in a temporary checkout; the last ones check the REAL course of this repository.
"""
import shutil
from pathlib import Path

import nbformat
import polib
import pytest

from autograder import build
from autograder.exercise import Case, Exercise

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "build"
LESSON = "90-double"
UK = {  # the fixture's Ukrainian catalog, by English msgid
    entry.msgid: entry.msgstr
    for entry in polib.pofile(str(FIXTURE / "locale" / "uk" / "LC_MESSAGES" / f"{LESSON}.po"))
}

DOUBLE = Exercise(
    name="double",
    reference=lambda x: 2 * x,
    visible=lambda: [Case(args=(1.5,))],
    hidden=lambda rng: [Case(args=(rng.normal(size=3),))],
)


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _code_cells(path):
    return [(c.id, c.source, c.metadata) for c in _cells(path) if c.cell_type == "code"]


def _make_checkout(root):
    """A checkout holding only the fixture lesson, its catalogs and the real nbgrader config."""
    lessons = root / "course" / "lessons"
    lessons.mkdir(parents=True)
    shutil.copy(FIXTURE / f"{LESSON}.py", lessons)
    (lessons / "RELEASED").write_text(f"{LESSON}\n")
    shutil.copytree(FIXTURE / "locale", root / "course" / "locale")
    shutil.copy(REPO / "course" / "nbgrader_config.py", root / "course")
    return root


@pytest.fixture(scope="module")
def registered():
    """The fixture exercise "double" in the exercise registry, for this module only."""
    from autograder import exercises

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(exercises.EXERCISES, "double", DOUBLE)
        yield


@pytest.fixture(scope="module")
def built(tmp_path_factory, registered):
    """A checkout of the fixture lesson, built once (tests must not modify it: copy it first)."""
    root = _make_checkout(tmp_path_factory.mktemp("course"))
    result = build.build(root)
    assert result.changed == result.files
    return root


@pytest.fixture
def copy_of_built(built, tmp_path):
    return Path(shutil.copytree(built, tmp_path / "course"))


def _layout(root):
    return build.Layout(Path(root))


def test_every_generated_file_is_written(built):
    layout = _layout(built)
    expected = [layout.template(LESSON), layout.master(LESSON)]
    expected += [layout.catalog(LESSON, lang) for lang in ("uk", "ru", "pl")]
    expected += [layout.solution(LESSON, lang) for lang in build.LANGUAGES]
    expected += [layout.student(LESSON, lang) for lang in build.LANGUAGES]
    assert sorted(p.relative_to(built) for p in expected) == build.build(built).files
    assert all(p.exists() for p in expected)


def test_template_has_one_entry_per_markdown_cell_and_no_timestamp(built):
    source = build.read_lesson(built / "course" / "lessons" / f"{LESSON}.py")
    markdown = [(i, c.source) for i, c in enumerate(source.cells) if c.cell_type == "markdown"]
    pot = polib.pofile(str(_layout(built).template(LESSON)))
    assert [(e.msgid, e.occurrences) for e in pot] == [(text, [(f"{LESSON}.py", str(i))]) for i, text in markdown]
    assert "POT-Creation-Date" not in pot.metadata
    assert "Creation-Date" not in _layout(built).template(LESSON).read_text()


def test_translated_markdown_appears_in_the_language_notebook(built):
    en = [c.source for c in _cells(_layout(built).solution(LESSON, "en")) if c.cell_type == "markdown"]
    uk = [c.source for c in _cells(_layout(built).solution(LESSON, "uk")) if c.cell_type == "markdown"]
    assert uk == [UK[text] for text in en]
    assert "Подвоєння числа" in uk[0]
    student_uk = [c.source for c in _cells(_layout(built).student(LESSON, "uk")) if c.cell_type == "markdown"]
    assert student_uk == uk


def test_code_cells_are_identical_across_languages(built):
    layout = _layout(built)
    for path_of in (layout.solution, layout.student):
        reference = _code_cells(path_of(LESSON, "en"))
        assert reference
        for lang in build.LANGUAGES:
            assert _code_cells(path_of(LESSON, lang)) == reference, (path_of.__name__, lang)


def test_notebook_metadata_ids_and_no_outputs(built):
    for lang in build.LANGUAGES:
        notebook = nbformat.read(_layout(built).solution(LESSON, lang), as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["course"] == {"lesson": LESSON, "lang": lang}
        assert notebook.metadata["kernelspec"]["name"] == "python3"
        assert [c.id for c in notebook.cells] == [f"{LESSON}-{i}" for i in range(len(notebook.cells))]
        for cell in notebook.cells:
            assert not {"exercise", "role", "points", "lines_to_next_cell"} & set(cell.metadata)
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
    assert _layout(built).master(LESSON).read_bytes() == _layout(built).solution(LESSON, "en").read_bytes()


def test_nbgrader_metadata_comes_from_the_cell_roles(built):
    cells = _cells(_layout(built).solution(LESSON, "pl"))
    graded = {c.metadata["nbgrader"]["grade_id"]: c for c in cells if "nbgrader" in c.metadata}
    assert set(graded) == {"double", "test_double"}
    assert graded["double"].metadata["nbgrader"] == {
        "solution": True, "grade": False, "locked": False, "grade_id": "double", "schema_version": 3}
    assert graded["test_double"].metadata["nbgrader"] == {
        "grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "test_double", "schema_version": 3}
    assert "### BEGIN SOLUTION" in graded["double"].source
    assert "### BEGIN HIDDEN TESTS" in graded["test_double"].source


def test_student_version_has_the_stub_and_no_solution_or_hidden_tests(built):
    reference = None
    for lang in build.LANGUAGES:
        cells = _cells(_layout(built).student(LESSON, lang))
        text = "\n".join(c.source for c in cells)
        assert "BEGIN SOLUTION" not in text and "return 2 * np.asarray(x)" not in text
        assert "HIDDEN TESTS" not in text and "hidden=True" not in text
        solution = next(c for c in cells if c.metadata.get("nbgrader", {}).get("solution"))
        assert solution.source == 'def double(x):\n    """Return 2 x, same shape as x."""\n' \
                                  "    # YOUR CODE HERE\n    raise NotImplementedError()"
        tests = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade"))
        assert tests.source == 'check("double", double)'
        assert tests.metadata["nbgrader"]["points"] == 2 and tests.metadata["nbgrader"]["checksum"]
        assert tests.metadata["editable"] is False
        # the graded cells (grade_ids, points, checksums) are the same in every language
        nbgrader_cells = [(c.id, c.source, c.metadata) for c in cells if "nbgrader" in c.metadata]
        reference = reference or nbgrader_cells
        assert nbgrader_cells == reference


def test_build_is_byte_for_byte_reproducible(built, tmp_path, registered):
    again = _make_checkout(tmp_path / "again")
    build.build(again)
    for rel in build.build(built).files:
        assert (again / rel).read_bytes() == (built / rel).read_bytes(), rel
    assert build.build(built).changed == []


def test_changed_paragraph_becomes_stale_and_status_fails(copy_of_built, capsys):
    root = copy_of_built
    source = root / "course" / "lessons" / f"{LESSON}.py"
    old = "You should see every case pass."
    new = "You should see every case pass, the visible ones and the hidden ones."
    source.write_text(source.read_text().replace(old, new) + "\n# %% [markdown]\n# A brand-new closing remark.\n")

    build.build(root)
    po = polib.pofile(str(_layout(root).catalog(LESSON, "uk")))
    entry = po.find(new)
    assert entry.fuzzy and entry.previous_msgid == old and entry.msgstr == UK[old]
    assert po.find(old) is None  # inherited, not left behind as obsolete
    assert po.find("A brand-new closing remark.").msgstr == ""
    uk_text = [c.source for c in _cells(_layout(root).solution(LESSON, "uk"))]
    assert new in uk_text and UK[old] not in uk_text  # a stale translation is not shown (as msgfmt)

    assert build.main(["--root", str(root), "status"]) == 1
    out = capsys.readouterr().out
    assert f"stale    {LESSON} uk cell 5: {new}" in out
    assert f"missing  {LESSON} ru cell 7: A brand-new closing remark." in out
    assert "Released lessons with missing or stale translations" in out

    (root / "course" / "lessons" / "RELEASED").write_text("")  # not released: reported, but no failure
    assert build.main(["--root", str(root), "status"]) == 0


def test_fixing_the_translation_clears_the_stale_entry(copy_of_built):
    root = copy_of_built
    source = root / "course" / "lessons" / f"{LESSON}.py"
    source.write_text(source.read_text().replace("every case pass.", "every case pass!"))
    build.build(root)
    path = _layout(root).catalog(LESSON, "pl")
    po = polib.pofile(str(path))
    entry = po.find("You should see every case pass!")
    assert entry.fuzzy
    entry.msgstr, entry.flags = "Wszystkie przypadki powinny przejść!", []
    po.save(str(path))
    build.build(root)
    assert [s.complete for s in build.status(root) if s.lang == "pl"] == [True]
    assert "Wszystkie przypadki powinny przejść!" in _layout(root).solution(LESSON, "pl").read_text()
    assert "#|" not in path.read_text()


def test_missing_catalog_is_created_with_empty_entries(copy_of_built):
    root = copy_of_built
    _layout(root).catalog(LESSON, "ru").unlink()
    build.build(root)
    po = polib.pofile(str(_layout(root).catalog(LESSON, "ru")))
    assert po.metadata["Language"] == "ru" and len(po) == 3
    assert all(e.msgstr == "" for e in po)
    ru = [c.source for c in _cells(_layout(root).solution(LESSON, "ru")) if c.cell_type == "markdown"]
    assert ru[0].startswith("# Doubling a number")  # falls back to English
    [ru_status] = [s for s in build.status(root) if s.lang == "ru"]
    assert (ru_status.translated, len(ru_status.missing)) == (0, 3)


def test_check_detects_a_hand_edited_generated_file(copy_of_built, capsys):
    root = copy_of_built
    assert build.check(root) == []
    assert build.main(["--root", str(root), "check"]) == 0
    student = _layout(root).student(LESSON, "uk")
    student.write_text(student.read_text().replace("raise NotImplementedError()", "return 2 * x"))
    _layout(root).solution(LESSON, "ru").unlink()
    expected = [(Path("lessons/uk/90-double.ipynb"), "differs"), (Path("solutions/ru/90-double.ipynb"), "missing")]
    assert build.check(root) == sorted(expected)
    capsys.readouterr()
    assert build.main(["--root", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert "stale: lessons/uk/90-double.ipynb (differs)" in out and "solutions/ru/90-double.ipynb (missing)" in out


def test_renamed_lesson_leaves_no_orphaned_notebooks_and_keeps_its_catalogs(copy_of_built, capsys):
    root = copy_of_built
    layout = _layout(root)
    old_files = build._generated_paths(layout, LESSON)
    source = layout.lesson_source(LESSON)
    source.rename(source.with_name("91-twice.py"))                  # the lesson is renamed
    orphaned = sorted(p.relative_to(root) for p in old_files)
    assert build.orphans(root) == orphaned
    assert {(rel, "orphaned") for rel in orphaned} <= set(build.check(root))
    catalogs = [Path(f"course/locale/{lang}/LC_MESSAGES/{LESSON}.po") for lang in ("pl", "ru", "uk")]
    assert build.orphan_catalogs(root) == catalogs
    assert build.main(["--root", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert "stale: lessons/en/90-double.ipynb (orphaned)" in out
    assert f"note: course/locale/uk/LC_MESSAGES/{LESSON}.po has no lesson source any more" in out

    assert build.main(["--root", str(root), "build", "91-twice"]) == 0   # one lesson: nothing is deleted
    assert all(p.exists() for p in old_files)
    assert build.main(["--root", str(root), "build"]) == 0
    out = capsys.readouterr().out
    assert "removed lessons/uk/90-double.ipynb (its lesson's source is gone)" in out
    assert f"kept course/locale/uk/LC_MESSAGES/{LESSON}.po" in out
    assert not any(p.exists() for p in old_files) and not layout.master(LESSON).parent.exists()
    assert all((root / rel).exists() for rel in catalogs)             # the translations are kept
    assert layout.student("91-twice", "pl").exists()
    assert build.orphans(root) == [] and build.check(root) == []


def test_a_build_without_lesson_sources_deletes_nothing(copy_of_built, capsys):
    root = copy_of_built
    generated = sorted(p for p in root.rglob("*.ipynb"))
    shutil.rmtree(root / "course" / "lessons")                      # a wrong --root, say
    assert build.orphans(root) == []
    for command in ("build", "check", "status"):
        assert build.main(["--root", str(root), command]) == 2
        assert "no lesson sources in" in capsys.readouterr().err
    assert sorted(p for p in root.rglob("*.ipynb")) == generated


def test_only_the_builds_own_files_count_as_orphans(copy_of_built):
    root = copy_of_built
    layout = _layout(root)
    handmade = root / "course" / "source" / "42-extra" / "42-extra.ipynb"      # an instructor's own assignment
    handmade.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), handmade)
    stale = layout.student("43-old", "uk")                                      # the build's, of a removed lesson
    stale.write_text(layout.student(LESSON, "uk").read_text().replace(LESSON, "43-old"))
    assert build.orphans(root) == [Path("lessons/uk/43-old.ipynb")]
    build.build(root)
    assert handmade.exists() and not stale.exists()


@pytest.mark.parametrize("header, body, message", [
    ('exercise="double" role="answer"', "x = 1", "unknown role 'answer'"),
    ('exercise="double" role="tests"', 'check("double", double)', "needs points=N"),
    ('role="solution"', "x = 1", "needs exercise="),
    ('exercise="double" role="solution"', "def double(x):\n    return 2 * x", "needs the answer between"),
    ("", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION", '"### BEGIN SOLUTION" is only allowed in a role="solution"'),
    ('exercise="double" role="solution"', "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
     "### BEGIN HIDDEN TESTS", '"### BEGIN HIDDEN TESTS" is only allowed in a role="tests"'),
    ('role="tests"', 'check("double", double)', "needs exercise="),
    ('exercise="dubble" role="solution"', "def dubble(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
     "unknown exercise 'dubble'. Did you mean 'double'?"),
    ('exercise="double" role="tests" points=1', 'check("duble", double)', "Did you mean 'double'?"),
])
def test_bad_cell_roles_are_reported_clearly(header, body, message, registered):
    import jupytext

    text = f"# %% [markdown]\n# Intro\n\n# %% {header}\n{body}\n"
    notebook = jupytext.reads(text, fmt="py:percent")
    with pytest.raises(build.BuildError, match="cell 1") as err:
        build.validate_lesson(LESSON, notebook)
    assert message in str(err.value)


def test_duplicate_grade_id_is_reported(registered):
    import jupytext

    cell = '# %% exercise="double" role="tests" points=1\ncheck("double", double)\n\n'
    with pytest.raises(build.BuildError, match="grade_id 'test_double' already used by cell 0"):
        build.validate_lesson(LESSON, jupytext.reads(cell * 2, fmt="py:percent"))


def test_unknown_lesson_is_reported(built):
    with pytest.raises(build.BuildError, match="no lesson '99-nothing'.*lessons: 90-double"):
        build.build(built, lessons=["99-nothing"])


def test_course_nbgrader_config():
    config = build.nbgrader_config(REPO / "course" / "nbgrader_config.py", "/tmp/elsewhere", "sqlite://")
    assert config.CourseDirectory.course_id == "nn-from-the-neuron-up"
    assert config.CourseDirectory.root == "/tmp/elsewhere"
    assert config.ClearSolutions.code_stub == {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    assert config.IncludeHeaderFooter.header == ""
    from traitlets.config.loader import PyFileConfigLoader

    own = PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "course")).load_config()
    assert own.CourseDirectory.root == str(REPO / "course")
    assert own.CourseDirectory.db_url == f"sqlite:///{REPO / 'course' / 'gradebook.db'}"
    ignored = (REPO / "course" / ".gitignore").read_text().split()
    assert {"gradebook.db", "submitted/", "autograded/", "feedback/", "release/", ".nbgrader.log"} <= set(ignored)


# ------------------------------------------------------------------------------- the real course

def test_real_course_generated_files_are_up_to_date():
    """`nn-course check` on this repository: the committed notebooks and catalogs match a fresh build."""
    stale = build.check(REPO)
    assert stale == [], f"stale generated files (run `nn-course build`): {stale}"


def test_real_course_code_cells_are_identical_across_languages():
    layout = build.Layout(REPO)
    for lesson in build.find_lessons(REPO):
        for path_of in (layout.solution, layout.student):
            reference = _code_cells(path_of(lesson, "en"))
            for lang in build.LANGUAGES:
                notebook = nbformat.read(path_of(lesson, lang), as_version=4)
                assert notebook.metadata["course"] == {"lesson": lesson, "lang": lang}
                assert _code_cells(path_of(lesson, lang)) == reference, (lesson, path_of.__name__, lang)


def test_real_course_released_lessons_are_fully_translated():
    released = build.read_released(REPO)
    lessons = build.find_lessons(REPO)
    assert set(released) <= set(lessons), f"released lessons without a source: {set(released) - set(lessons)}"
    report, ok = build.status_report(build.status(REPO), released)
    assert ok, report
