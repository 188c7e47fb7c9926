r"""nbgrader's feedback page in the student's language, without the hidden tests.

nbgrader renders feedback with ``nbgrader/server_extensions/formgrader/templates/feedback/
index.html.j2``, whose labels are English ("Score", "Test cell", "Student's answer", ...).
:func:`build_templates` copies that template once per language into a folder, the labels
translated through :func:`autograder.messages.translate` (the ``EXTRA`` msgids of the autograder
catalog), and :func:`exporter_config` points nbgrader's ``GenerateFeedback`` at it::

    names = build_templates(workdir, ["uk", "en"])        # {"uk": "feedback_uk", "en": "feedback_en"}
    config = exporter_config(workdir, "uk")              # merge into the GenerateFeedback config

Every code cell's source goes through the Jinja filter ``visible_tests``: only the part before the
line holding ``BEGIN HIDDEN TESTS`` is shown, so the source of hidden tests never reaches a
student (nbgrader's own template shows the whole test cell, hidden part included, because the
autograded notebook carries it). The page also gets ``<html lang="..">`` and nbgrader's automatic
comment "No response." translated.
"""
import html
import json
import shutil
from pathlib import Path

from autograder.messages import N_, translate

TEMPLATE_PREFIX = "feedback_"
HIDDEN_MARKER = "BEGIN HIDDEN TESTS"
NO_RESPONSE = N_("No response.")


def nbgrader_template_dir():
    r"""nbgrader's ``templates`` folder (holding ``feedback/index.html.j2`` and ``conf.json``)."""
    import nbgrader

    return Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"


def visible_tests(source):
    r"""The part of a cell's source that a student may see: the lines before the first line
    containing ``BEGIN HIDDEN TESTS`` (the whole source when there is none)."""
    lines = str(source).splitlines(keepends=True)
    for index, line in enumerate(lines):
        if HIDDEN_MARKER in line:
            return "".join(lines[:index]).rstrip("\n")
    return str(source)


def _label(msgid, lang):
    return html.escape(translate(msgid, lang), quote=False).replace("{", "&#123;").replace("}", "&#125;")


def localize(text, lang):
    r"""nbgrader's feedback template ``text`` with its English labels in ``lang`` and the
    ``visible_tests`` filter on every code cell's source."""
    score, top = _label("Score", lang), _label("(Top)", lang)
    test_cell, comments = _label("Test cell", lang), _label("Comments", lang)
    answer = _label("Student's answer", lang)
    replacements = [
        ('>Test cell</a> (Score: ', f">{test_cell}</a> ({score}: "),
        ('>Coding free-response</a> (Score: ', f">{_label('Coding free-response', lang)}</a> ({score}: "),
        ('>Written response</a> (Score: ', f">{_label('Written response', lang)}</a> ({score}: "),
        ('>Task</a> (Score: ', f">{_label('Task', lang)}</a> ({score}: "),
        ('>Comment</a>', f">{comments}</a>"),
        ('Late submission penalty (Score: ', f"{_label('Late submission penalty', lang)} ({score}: "),
        ('(Score: {{ resources.nbgrader.score', f"({score}: {{{{ resources.nbgrader.score"),
        ('Score: {{ cell.metadata.nbgrader.score', f"{score}: {{{{ cell.metadata.nbgrader.score"),
        ('>(Top)</a>', f">{top}</a>"),
        ("<span class=\"nbgrader-label\">Student's answer</span>",
         f'<span class="nbgrader-label">{answer}</span>'),
        ("<span class=\"nbgrader-label\">Student's task</span>",
         f'<span class="nbgrader-label">{_label("Task", lang)}</span>'),
        ('<span class="nbgrader-label">Grade cell: ', f'<span class="nbgrader-label">{test_cell}: '),
        ('<span class="nbgrader-label">Task: ', f'<span class="nbgrader-label">{_label("Task", lang)}: '),
        ("<b>Comments:</b> {{ cell.metadata.nbgrader.comment",
         f"<b>{comments}:</b> {{{{ cell.metadata.nbgrader.comment | no_response"),
        ("{{ cell.source | highlight_code(", "{{ cell.source | visible_tests | highlight_code("),
        ("<!DOCTYPE html>\n<html>", f'<!DOCTYPE html>\n<html lang="{lang}">'),
    ]
    for old, new in replacements:
        if old not in text:
            raise ValueError(f"nbgrader's feedback template changed: {old!r} not found; update "
                             "autograder/feedback_template.py")
        text = text.replace(old, new)
    leftovers = [word for word in ("Score:", "Test cell", "Student's answer", "(Top)", "Comments:")
                 if word in text and lang != "en"]
    if leftovers:
        raise ValueError(f"untranslated labels left in the feedback template: {leftovers}")
    return text


def build_templates(out_dir, languages):
    r"""Write ``out_dir/feedback_<lang>/`` (``index.html.j2`` + ``conf.json``) for each language;
    return ``{lang: template name}``. Rebuilt at every run from the installed nbgrader."""
    source = nbgrader_template_dir() / "feedback"
    text = (source / "index.html.j2").read_text(encoding="utf-8")
    conf = json.loads((source / "conf.json").read_text(encoding="utf-8"))
    names = {}
    for lang in languages:
        folder = Path(out_dir) / f"{TEMPLATE_PREFIX}{lang}"
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / "index.html.j2").write_text(localize(text, lang), encoding="utf-8")
        (folder / "conf.json").write_text(json.dumps(conf, indent=2) + "\n", encoding="utf-8")
        names[lang] = folder.name
    return names


def no_response_filter(lang):
    r"""The Jinja filter that translates nbgrader's automatic comment "No response."."""
    def no_response(comment):
        return translate(NO_RESPONSE, lang) if comment == NO_RESPONSE else comment
    return no_response


def exporter_config(out_dir, lang):
    r"""A traitlets Config making nbgrader's ``GenerateFeedback`` use the ``lang`` template of
    ``out_dir`` (built by :func:`build_templates`)."""
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = f"{TEMPLATE_PREFIX}{lang}"
    config.HTMLExporter.extra_template_basedirs = [str(Path(out_dir).resolve())]
    config.HTMLExporter.filters = {"visible_tests": visible_tests, "no_response": no_response_filter(lang)}
    return config
