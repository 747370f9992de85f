"""PrairieLearn: the external grader's results.json, and where a grading job keeps its files.

Specification: PrairieLearn's "External Grading" documentation (docs/externalGrading.md in
PrairieLearn's repository). A job's container finds the student's files in /grade/student and
must write /grade/results/results.json: `score` in [0, 1] (required when gradable),
`gradable` (false: "invalid, not gradable", no attempt used), `format_errors` when not
gradable, `message`, `output`, and `tests`, each with name, description, points, max_points,
message and output, as the `<pl-external-grader-results>` element shows them. At most 1 MB.
"""

from __future__ import annotations

from typing import Any

from grader.assignment import Assignment
from grader.reports.table import case_lines
from grader.results import SubmissionResult, display_number

MAX_BYTES = 1_000_000  # PrairieLearn's limit on results.json
_MAX_OUTPUT = 20_000  # characters of the student's printed output passed on


def results_json(result: SubmissionResult, assignment: Assignment) -> dict[str, Any]:
    """The results.json document for one submission, graded or not. A hand-in that could not
    be run at all (a syntax error, nothing handed in, a link) is not gradable: PrairieLearn
    then counts no attempt, and shows why. One test per question of the assignment."""
    overall = [f"While loading your file, {e}: what was defined before it was graded."
               for e in result.load_errors]
    overall += list(result.notes)
    if result.flags:
        overall.append("Flagged for the instructor: " + ", ".join(result.flags))
    if result.error is not None:
        return {"gradable": False, "format_errors": [result.error, *overall],
                "message": f"Your submission could not be graded: {result.error}"}
    overall.append(f"Total: {display_number(result.score):g} / {display_number(result.max_score):g}")
    tests = []
    by_id = {q.question.id: q for q in result.questions}
    for question in assignment.questions:
        graded = by_id.get(question.id)
        feedback = graded.feedback if graded and graded.feedback else "score only"
        tests.append({
            "name": question.id,
            "description": f"worksheet {question.worksheet}",
            "points": float(graded.score if graded else 0.0),
            "max_points": float(question.points),
            "message": feedback,
            "output": "\n".join(case_lines(graded, "")) if graded and graded.feedback else "",
        })
    return {
        "gradable": True,
        "score": round(float(result.score) / float(result.max_score), 6),
        "message": "\n".join(overall),
        "output": result.output[:_MAX_OUTPUT],
        "tests": tests,
    }
