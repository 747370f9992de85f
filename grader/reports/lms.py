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
upload. The column names are those of an English-language Moodle site. Moodle's importer reads
"Last modified (grade)" with PHP's strtotime, in the server's time zone unless the text names
one: it is written in Moodle's own layout, in UTC, with "UTC" after it ("Monday, 03 June 2024,
02:05 PM UTC"; strtotime reads that as UTC whatever the server's zone). It skips a grade older
than the one it holds, and a grade above the assignment's maximum, without a word. Feedback
comments are stored as HTML (FORMAT_HTML): they are written as HTML, escaped, one `<br>` per
line.

Both files hold grades out of the assignment's maximum (its points), or, asked
(`lms_points`, `grade --lms-points N`), scaled to the LMS assignment's maximum.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

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


def _scaled(score: float, points: float, lms_points: float | None) -> float:
    """A score out of the assignment's points, out of the LMS's maximum when one is given
    (to 2 decimals: what both LMSs keep)."""
    return score if lms_points is None else round(score * lms_points / points, 2)


def canvas_chunks(results: Iterable[SubmissionResult], assignment: str, points: float,
                  left_out: LeftOut, lms_points: float | None = None) -> Iterator[str]:
    """Canvas's gradebook import: one row per student with a Canvas id. Scores out of
    `points`, or scaled to `lms_points` (the Canvas assignment's) when given."""
    def rows() -> Iterator[list[str]]:
        possible = points if lms_points is None else lms_points
        yield ["    Points Possible", "", "", "", "", f"{display_number(possible):g}"]
        for result in results:
            if (user_id := _lms_id(result, "canvas", left_out)) is not None:
                score = "" if result.error is not None else \
                    f"{display_number(_scaled(result.score, points, lms_points)):g}"
                yield [_safe(_name(result)), user_id, "", "", "", score]

    return _rows((*CANVAS_COLUMNS, _safe(assignment)), rows())


def _comment(result: SubmissionResult, lms_points: float | None = None) -> str:
    """The feedback comment, as the HTML Moodle stores it: the total (and the grade it makes
    out of the LMS's maximum, when scaled), then each question that lost points, a line each;
    for a hand-in that could not be graded, why. Every line escaped, lines joined by <br>."""
    if result.error is not None:
        lines = [f"Not graded: {result.error}"]
    else:
        total = f"{display_number(result.score):g} / {display_number(result.max_score):g}"
        if lms_points is not None:
            total += (f" (a grade of {display_number(_scaled(result.score, result.max_score, lms_points)):g}"
                      f" / {display_number(lms_points):g})")
        lines = [total]
        lines += [f"{q.question.id} ({display_number(q.score):g} / {display_number(q.question.points):g}): "
                  f"{q.feedback}" for q in result.questions if q.score < q.question.points]
    return "<br>".join(html.escape(printable(line)) for text in lines for line in text.splitlines())


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def moodle_time(moment: datetime) -> str:
    """A time as Moodle's worksheet writes one ("%A, %d %B %Y, %I:%M %p", English names
    whatever the locale), in UTC and saying so: Moodle's strtotime reads it as UTC."""
    utc = moment.astimezone(timezone.utc)
    return (f"{_DAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year}, "
            f"{(utc.hour - 1) % 12 + 1:02d}:{utc.minute:02d} {'AM' if utc.hour < 12 else 'PM'} UTC")


def moodle_chunks(results: Iterable[SubmissionResult], points: float, left_out: LeftOut,
                  now: datetime | None = None, lms_points: float | None = None) -> Iterator[str]:
    """Moodle's offline grading worksheet: one row per participant of a Moodle download. The
    grade's time is now (in UTC, said), so that Moodle takes it over the grade it holds.
    Grades out of `points`, or scaled to `lms_points` (the Moodle assignment's) when given."""
    stamp = moodle_time(now or datetime.now(timezone.utc))
    possible = points if lms_points is None else lms_points

    def rows() -> Iterator[list[str]]:
        for result in results:
            if (participant := _lms_id(result, "moodle", left_out)) is not None:
                graded = result.error is None
                yield [f"Participant {participant}", _safe(_name(result)), "",
                       "Submitted for grading" + (" (late)" if result.late else ""),
                       f"{_scaled(result.score, points, lms_points):.2f}" if graded else "", f"{possible:.2f}",
                       "Yes", "", stamp, _safe(_comment(result, lms_points))]

    return _rows(MOODLE_COLUMNS, rows())
