r"""The instructor's report of a grading run: ``reports/report.html``, one self-contained page.

It shows, from nbgrader's exported ``grades.csv`` and gradebook:

- per lesson: students, submissions, mean and median score of the submissions (nbgrader's CSV
  also lists the students who handed in nothing, with 0);
- a histogram of the scores of each lesson's submissions (matplotlib, embedded as a base64 PNG);
- the pass rate of each exercise: the share of submissions with full marks on its test cell
  (a bar chart, also embedded);
- every student's score per lesson, with the language the notebook was handed in;
- the intake problems (student, lesson, file, reason), so nothing a student did wrong is silent.

Matplotlib is imported inside the plotting functions; figures are plain ``matplotlib.figure.Figure``
objects (no pyplot, no display needed).
"""
import base64
import csv
import html
import io
from pathlib import Path
from statistics import mean, median


def read_grades(path):
    r"""Rows of nbgrader's ``grades.csv`` as dicts, scores as floats."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("raw_score", "late_submission_penalty", "score", "max_score"):
            row[key] = float(row[key] or 0)
    return rows


def figure_png(fig):
    r"""A matplotlib figure as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def score_histograms(rows):
    r"""One histogram of the submissions' scores per lesson (a matplotlib Figure)."""
    from matplotlib.figure import Figure

    lessons = sorted({row["assignment"] for row in rows}) or ["-"]
    fig = Figure(figsize=(4 * len(lessons), 3))
    axes = fig.subplots(1, len(lessons), squeeze=False)
    for ax, lesson in zip(axes[0], lessons):
        mine = [row for row in rows if row["assignment"] == lesson]
        top = max((row["max_score"] for row in mine), default=1.0) or 1.0
        ax.hist([row["score"] for row in mine], bins=min(10, max(1, int(top))) + 1, range=(0, top),
                color="#4c72b0", edgecolor="white")
        ax.set_title(f"{lesson}: score distribution")
        ax.set_xlabel(f"score (of {top:g})")
        ax.set_ylabel("submissions")
    fig.tight_layout()
    return fig


def pass_rates(cell_scores):
    r"""``{(lesson, grade_id): (passed, total)}``: submissions with full marks on each test cell."""
    rates = {}
    for (_student, lesson), cells in cell_scores.items():
        for grade_id, (score, points) in cells.items():
            passed, total = rates.get((lesson, grade_id), (0, 0))
            rates[lesson, grade_id] = (passed + (score >= points), total + 1)
    return dict(sorted(rates.items()))


def pass_rate_chart(rates):
    r"""A horizontal bar chart of the pass rate of every exercise (a matplotlib Figure)."""
    from matplotlib.figure import Figure

    labels = [f"{lesson} {grade_id.removeprefix('test_')}" for lesson, grade_id in rates] or ["-"]
    values = [100 * passed / total if total else 0 for passed, total in rates.values()] or [0]
    fig = Figure(figsize=(7, 0.4 * len(labels) + 1.2))
    ax = fig.subplots()
    ax.barh(labels, values, color="#55a868")
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("submissions with full marks (%)")
    ax.set_title("pass rate per exercise")
    fig.tight_layout()
    return fig


def _table(header, rows):
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f3f3f3}img{max-width:100%}"""


def render(rows, cell_scores, problems, languages=None):
    r"""The report's HTML text."""
    languages = languages or {}
    lessons = sorted({row["assignment"] for row in rows})
    submitted_rows = [row for row in rows if (row["student_id"], row["assignment"]) in cell_scores]
    summary = []
    for lesson in lessons:
        students = sum(1 for row in rows if row["assignment"] == lesson)
        scores = [row["score"] for row in submitted_rows if row["assignment"] == lesson]
        top = max((row["max_score"] for row in rows if row["assignment"] == lesson), default=0)
        summary.append((lesson, students, len(scores), f"{mean(scores):.2f}" if scores else "-",
                        f"{median(scores):.2f}" if scores else "-", f"{top:g}"))
    rates = pass_rates(cell_scores)
    grade_rows = [(row["student_id"], row["assignment"], languages.get((row["student_id"], row["assignment"]), ""),
                   f"{row['score']:g}", f"{row['max_score']:g}") for row in rows]
    problem_rows = [(p.student, p.lesson, p.path, p.reason) for p in problems]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"><title>Grading report</title>',
        f"<style>{STYLE}</style></head><body>", "<h1>Grading report</h1>",
        "<h2>Lessons</h2>",
        _table(["lesson", "students", "submissions", "mean score (submissions)", "median score (submissions)",
                "max score"], summary),
        "<h2>Score distribution per lesson</h2>",
        f'<img id="score-distribution" alt="score distribution per lesson" '
        f'src="{figure_png(score_histograms(submitted_rows))}">',
        "<h2>Pass rate per exercise</h2>",
        f'<img id="pass-rate" alt="pass rate per exercise" src="{figure_png(pass_rate_chart(rates))}">',
        _table(["lesson", "test cell", "full marks", "submissions"],
               [(lesson, grade_id, passed, total) for (lesson, grade_id), (passed, total) in rates.items()]),
        f"<h2>Intake problems ({len(problem_rows)})</h2>",
        _table(["student", "lesson", "file", "reason"], problem_rows) if problem_rows else "<p>None.</p>",
        "<h2>Grades</h2>",
        _table(["student", "lesson", "language", "score", "max score"], grade_rows),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(path, grades_csv, cell_scores, problems, languages=None):
    r"""Write ``report.html`` atomically from ``grades.csv``, per-cell scores and the problems; return its path."""
    from autograder.intake import atomic_write_text

    path = Path(path)
    atomic_write_text(path, render(read_grades(grades_csv), cell_scores, problems, languages))
    return path
