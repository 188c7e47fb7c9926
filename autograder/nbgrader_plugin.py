r"""nbgrader's autograde without a kernel: test cells get their outputs from verdicts computed earlier.

nbgrader's ``Autograde`` runs two preprocessor chains: a sanitizing one (clear outputs, restore the
instructor's locked cells and test cells, hidden tests included, from the gradebook) and an
autograding one, whose first step ``Execute`` runs the notebook in a kernel. :class:`SandboxVerdicts`
takes the place of ``Execute``::

    c.Autograde.autograde_preprocessors = [SandboxVerdicts, IgnorePattern, ClearMetadataPreprocessor,
        LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.SandboxVerdicts.verdict_directory = "/path/course/autograded-verdicts"

It executes nothing. It reads the verdict record that ``nn-grade`` computed in the sandbox for
(student, lesson), ``<verdict_directory>/<student>/<lesson>.json`` (see :func:`write_record`), and
writes each test cell's outputs so that nbgrader's ``determine_grade`` (``nbgrader/utils.py``)
gives exactly the verdict's score:

- full marks: one stdout stream, the localised feedback (``"✓ sigmoid: 8/8 cases pass"``...);
- partial marks: that stream plus an ``execute_result`` whose ``text/plain`` is the score
  (``get_partial_grade`` reads it as a float between 0 and the cell's points);
- no marks: that stream plus an ``error`` output (``AssertionError``, localised text);
- no verdict, or a submission that could not be graded: an ``error`` output
  "not graded: <reason>" -- never full marks.

Notes of the intake (a test cell that was restored, an extra file ignored...) are printed first in
the cell they concern (general ones in the first test cell). nbgrader's other steps then work as
usual: ``SaveAutoGrades`` stores the scores, formgrader shows the outputs, ``generate_feedback``
renders them.
"""
import json
from pathlib import Path

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from traitlets import Unicode

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.messages import N_, normalize_language, translate

RECORD_FORMAT = "nn-grade-verdict/1"
NOT_GRADED = N_("not graded: {reason}")
NO_VERDICT = N_("no verdict was computed for this submission")
BAD_VERDICT = N_("the verdict file could not be read")
CELL_NOT_GRADED = N_("this test cell has no verdict")
NOTE_MARK = "⚠ "


def record_path(verdict_dir, student, lesson):
    r"""Where the verdict record of (student, lesson) lives: ``<verdict_dir>/<student>/<lesson>.json``."""
    return Path(verdict_dir) / student / f"{lesson}.json"


def make_record(student, lesson, lang, key, verdict=None, not_graded=None, notes=()):
    r"""The verdict record the pipeline writes and :class:`SandboxVerdicts` reads (a JSON dict).

    ``key``: the hash of what was graded (resume skips a submission whose record has the same key);
    ``verdict``: :class:`autograder.verdict.NotebookVerdict` or None; ``not_graded``: ``(msgid,
    fields)`` when the submission could not be graded; ``notes``: ``[(grade_id, msgid, fields)]``
    told to the student (``grade_id`` "" for the whole notebook).
    """
    return {
        "format": RECORD_FORMAT,
        "student": student,
        "lesson": lesson,
        "lang": normalize_language(lang),
        "key": key,
        "verdict": verdict.to_dict() if verdict is not None else None,
        "not_graded": {"msgid": not_graded[0], "fields": dict(not_graded[1])} if not_graded else None,
        "notes": [{"grade_id": g, "msgid": m, "fields": dict(f)} for g, m, f in notes],
    }


def write_record(path, record):
    r"""Write a record atomically (temporary file + ``os.replace``)."""
    from autograder.intake import atomic_write_text

    atomic_write_text(path, json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def read_record(path):
    r"""The record at ``path``, or None when it is missing or unreadable."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == RECORD_FORMAT else None


def _stream(text):
    from nbformat.v4 import new_output

    return new_output("stream", name="stdout", text=text if text.endswith("\n") else text + "\n")


def _error(text):
    from nbformat.v4 import new_output

    return new_output("error", ename="AssertionError", evalue=text, traceback=[f"AssertionError: {text}"])


def not_graded_outputs(reason, lang, notes=()):
    r"""Outputs of a test cell that earns nothing because it was not graded (``reason`` localised)."""
    text = translate(NOT_GRADED, lang, reason=reason)
    lines = [NOTE_MARK + note for note in notes] + [text]
    return [_stream("\n".join(lines)), _error(text)]


def verdict_outputs(cell_verdict, notes=()):
    r"""Outputs that make ``determine_grade`` return ``cell_verdict["score"]``, with ``notes`` first."""
    from nbformat.v4 import new_output

    lines = [NOTE_MARK + note for note in notes] + list(cell_verdict.get("lines", []))
    score, points = float(cell_verdict["score"]), float(cell_verdict["max_score"])
    outputs = [_stream("\n".join(lines) or "-")]
    if score >= points:
        return outputs
    if score <= 0:
        head = next((line for line in cell_verdict.get("lines", []) if line.strip()), "0")
        outputs.append(_error(head.strip()))
    else:
        outputs.append(new_output("execute_result", data={"text/plain": format(round(score, 2), "g")},
                                  metadata={}, execution_count=None))
    return outputs


def _notes_by_cell(record, test_ids, lang):
    r"""``{grade_id of a test cell: [localised note]}``: a note about a solution cell ``x`` goes to
    ``test_x`` when it exists, anything else to the first test cell."""
    by_cell = {grade_id: [] for grade_id in test_ids}
    first = test_ids[0] if test_ids else None
    for note in record.get("notes", []):
        grade_id = note.get("grade_id", "")
        target = grade_id if grade_id in by_cell else f"test_{grade_id}" if f"test_{grade_id}" in by_cell else first
        if target is not None:
            by_cell[target].append(translate(note.get("msgid", ""), lang, **note.get("fields", {})))
    return by_cell


class SandboxVerdicts(NbGraderPreprocessor):
    r"""Write each test cell's outputs from the sandbox verdict instead of executing the notebook."""

    verdict_directory = Unicode(
        "autograded-verdicts",
        help="Folder of the verdict records, <verdict_directory>/<student>/<lesson>.json "
             "(relative to the course root, where nbgrader runs)."
    ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        student = resources["nbgrader"]["student"]
        lesson = resources["nbgrader"]["assignment"]
        path = record_path(self.verdict_directory, student, lesson)
        record = read_record(path)
        course = nb.metadata.get("course", {}) if isinstance(nb.metadata.get("course"), dict) else {}
        lang = normalize_language((record or {}).get("lang") or course.get("lang"))
        test_cells = [cell for cell in nb.cells
                      if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
                      and not cell.metadata["nbgrader"].get("solution")]
        test_ids = [cell.metadata["nbgrader"].get("grade_id", "") for cell in test_cells]
        if record is None:
            reason = translate(NO_VERDICT if not path.exists() else BAD_VERDICT, lang)
            self.log.warning("%s/%s: not graded (%s): %s", student, lesson, path, reason)
            for cell in test_cells:
                cell.outputs = not_graded_outputs(reason, lang)
            return nb, resources
        notes = _notes_by_cell(record, test_ids, lang)
        verdict = record.get("verdict") or {}
        failure = record.get("not_graded")
        for cell, grade_id in zip(test_cells, test_ids):
            cell_verdict = verdict.get("cells", {}).get(grade_id)
            if failure:
                reason = translate(failure.get("msgid", ""), lang, **failure.get("fields", {}))
                cell.outputs = not_graded_outputs(reason, lang, notes[grade_id])
            elif cell_verdict is None:
                cell.outputs = not_graded_outputs(translate(CELL_NOT_GRADED, lang), lang, notes[grade_id])
            else:
                cell.outputs = verdict_outputs(cell_verdict, notes[grade_id])
            cell.execution_count = None
        return nb, resources
