"""Grade files an LMS imports as they are: Canvas's gradebook import and Moodle's offline
grading worksheet. Pure renderers: results in, text out, and the students left out said.

Canvas (Grades > Import, "How do I import grades in the Gradebook?"): a CSV whose first
columns are Student, ID, SIS User ID, SIS Login ID and Section, then one column per
assignment; a "Points Possible" row under the header, as in Canvas's own export. Canvas finds
each student by ID: the user id in the name of every file of a Canvas download
(`login_userid_attachmentid_name`). A column named for an assignment that does not exist yet
creates it, with those points.

Moodle (Assignment > View all submissions > "Upload grading worksheet", feedback type
"Offline grading worksheet" on): Moodle's importer (mod/assign/feedback/offline) reads the
columns Identifier ("Participant N", N the participant number in the download's folder
names), Grade and "Last modified (grade)", and Feedback comments when that feedback type is
on; the other columns of its worksheet are written as Moodle writes them and ignored on
upload. The column names are those of an English-language Moodle site.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from grader.results import SubmissionResult, display_number, printable

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
MOODLE_COLUMNS = ("Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                  "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                  "Feedback comments")


@dataclass
class LeftOut:
    """Students a grade file could not hold, each with why: the CLI says them on stderr."""

    unknown: list[str] = field(default_factory=list)  # no id in this LMS
    not_graded: list[str] = field(default_factory=list)  # in the file with no grade

    def lines(self, lms: str) -> list[str]:
        said: list[str] = []
        if self.unknown:
            said.append(f"not in the {lms} file, no {lms} id in their file or folder name: "
                        f"{', '.join(self.unknown)}")
        if self.not_graded:
            said.append(f"in the {lms} file with no grade (could not be graded; see the report): "
                        f"{', '.join(self.not_graded)}")
        return said


def _rows(header: Iterable[str], rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _safe(text: str, lines: bool = False) -> str:
    """Spreadsheet-safe, printable text (a student's name can start with =)."""
    from grader.reports.table import spreadsheet_safe

    return spreadsheet_safe(printable(text, lines=lines))


def _lms_id(result: SubmissionResult, system: str, left_out: LeftOut) -> str | None:
    """The student's id in `system`; None (the student left out, said) where they have none."""
    if result.lms is None or result.lms[0] != system:
        left_out.unknown.append(printable(result.student))
        return None
    if result.error is not None:
        left_out.not_graded.append(printable(result.student))
    return result.lms[1]


def _name(result: SubmissionResult) -> str:
    """The student's name as the download gave it ("Jane Smith (12345)" -> "Jane Smith")."""
    suffix = f" ({result.lms[1]})" if result.lms else ""
    return result.student[:-len(suffix)] if suffix and result.student.endswith(suffix) else result.student


def canvas_chunks(results: Iterable[SubmissionResult], assignment: str, points: float,
                  left_out: LeftOut) -> Iterator[str]:
    """Canvas's gradebook import: one row per student with a Canvas id."""
    def rows() -> Iterator[list[str]]:
        yield ["    Points Possible", "", "", "", "", f"{display_number(points):g}"]
        for result in results:
            if (user_id := _lms_id(result, "canvas", left_out)) is not None:
                score = "" if result.error is not None else f"{display_number(result.score):g}"
                yield [_safe(_name(result)), user_id, "", "", "", score]

    return _rows((*CANVAS_COLUMNS, _safe(assignment)), rows())


def _comment(result: SubmissionResult) -> str:
    """The feedback comment: the total, then each question that lost points, one line each."""
    lines = [f"{display_number(result.score):g} / {display_number(result.max_score):g}"]
    lines += [f"{q.question.id} ({display_number(q.score):g} / {display_number(q.question.points):g}): "
              f"{q.feedback}" for q in result.questions if q.score < q.question.points]
    return "\n".join(lines)


def moodle_chunks(results: Iterable[SubmissionResult], points: float, left_out: LeftOut,
                  now: datetime | None = None) -> Iterator[str]:
    """Moodle's offline grading worksheet: one row per participant of a Moodle download. The
    grade's time is now, so that Moodle takes it over the grade it holds."""
    stamp = (now or datetime.now()).strftime("%A, %d %B %Y, %I:%M %p")

    def rows() -> Iterator[list[str]]:
        for result in results:
            if (participant := _lms_id(result, "moodle", left_out)) is not None:
                graded = result.error is None
                yield [f"Participant {participant}", _safe(_name(result)), "",
                       "Submitted for grading" + (" (late)" if result.late else ""),
                       f"{result.score:.2f}" if graded else "", f"{points:.2f}", "Yes", "",
                       stamp, _safe(_comment(result), lines=True) if graded else ""]

    return _rows(MOODLE_COLUMNS, rows())
