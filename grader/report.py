"""Pure renderers: a Report in, text out. Nothing here grades or prints."""

from __future__ import annotations

import json
from typing import Any

from grader.results import QuestionResult, Report, SubmissionResult


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 4)


def question_dict(result: QuestionResult) -> dict[str, Any]:
    return {
        "id": result.question.id,
        "worksheet": result.question.worksheet,
        "score": float(result.score),
        "max_score": _number(result.question.points),
        "status": result.status.value,
        "feedback": result.feedback,
        "cases": [{"case": c.case_id, "status": c.status.value, "message": c.message}
                  for c in result.cases],
    }


def submission_dict(result: SubmissionResult) -> dict[str, Any]:
    return {
        "student": result.student,
        "path": result.path,
        "status": result.status,
        "error": result.error,
        "score": float(result.score),
        "max_score": _number(result.max_score),
        "flags": list(result.flags),
        "load_errors": [str(e) for e in result.load_errors],
        "output": result.output,
        "questions": [question_dict(q) for q in result.questions],
    }


def to_json(report: Report) -> str:
    document = {
        "assignment": report.assignment,
        "seed": report.seed,
        "submissions": [submission_dict(s) for s in report.submissions],
    }
    return json.dumps(document, indent=2, allow_nan=False)


def _score(result: QuestionResult) -> str:
    return f"{_number(result.score):g} / {_number(result.question.points):g}"


def score_card(result: SubmissionResult) -> str:
    """One submission: a row per question, the total, then what went wrong while loading."""
    from tabulate import tabulate

    header = f"{result.student} ({result.path})"
    if result.error is not None:
        return f"{header}\nnot graded: {result.error}"
    rows = [(q.question.id, q.question.worksheet, _score(q), q.feedback) for q in result.questions]
    table = tabulate(rows, headers=("question", "worksheet", "score", "feedback"),
                     maxcolwidths=[None, None, None, 70])
    lines = [header, table, f"total: {_number(result.score):g} / {_number(result.max_score):g}"]
    for error in result.load_errors:
        lines.append(f"while loading your file, {error} (what was defined before it was graded)")
    if result.flags:
        lines.append("flags: " + ", ".join(result.flags))
    return "\n".join(lines)


def to_table(report: Report) -> str:
    return "\n\n".join(score_card(s) for s in report.submissions)
