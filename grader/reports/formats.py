"""The reports `grade --format` writes: a registry of pure renderers over one value, `GradedRun`
(what a run graded), so that a new format is one function and one entry in `FORMATS`, never a
branch in the command.

A renderer takes the run and a `LeftOut` (the students a grade file could not hold, which the
command says on standard error) and returns the report's text in pieces, written as they come:
a class is read back one result at a time, never held whole. It may be called again for the
same run (the report written to standard output when its file could not take it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from grader.assignment import Assignment
from grader.reports import gradescope, lms
from grader.reports import table as report
from grader.reports.lms import LeftOut
from grader.reports.summary import ClassStats
from grader.results import Report, SubmissionResult


@dataclass(frozen=True)
class GradedRun:
    """What one run graded, as every report reads it."""

    assignment: Assignment
    seed: int
    count: int  # submissions graded
    # The results in the order of the run's entries, read back afresh at each call.
    results: Callable[[], Iterator[SubmissionResult]]
    # Their entries in the JSON report as they were kept (`table.submission_json`), likewise.
    json_entries: Callable[[], Iterator[str]]
    summary: ClassStats | None = None  # counted as results came, for a format that asks (`Format.summary`)
    elapsed: float = 0.0  # seconds the grading took
    column: str | None = None  # the assignment's column in an LMS gradebook; None: its title
    lms_points: float | None = None  # the LMS assignment's maximum, grades scaled to it; None: its points


Renderer = Callable[[GradedRun, LeftOut], Iterable[str]]


@dataclass(frozen=True)
class Format:
    """One value of `--format`: its renderer and what the command does for it besides."""

    render: Renderer
    about: str  # its line in `grade run --help`
    one_submission: bool = False  # only for a run of exactly one submission
    summary: bool = False  # the class summary is counted as results come (`GradedRun.summary`)
    prepare: Callable[[], None] | None = None  # run on a thread while the first submissions are graded
    lms: bool = False  # an LMS's grade file: takes --assignment-name (Canvas) and --lms-points


def table(run: GradedRun, left_out: LeftOut) -> Iterable[str]:
    """A score card for one submission, the class table for several."""
    submissions: Iterable[SubmissionResult] = list(run.results()) if run.count == 1 else run.results()
    return [report.to_table(Report(run.assignment, run.seed, submissions)) + "\n"]


def json_report(run: GradedRun, left_out: LeftOut) -> Iterable[str]:
    """Everything, with the class summary: the entries as they were kept, not made again."""
    if run.summary is None:
        raise ValueError("the JSON report needs the class summary counted as results came")
    return report.json_document(run.assignment.name, run.seed, run.json_entries(), run.summary)


def csv_report(run: GradedRun, left_out: LeftOut) -> Iterable[str]:
    return report.csv_chunks(Report(run.assignment, run.seed, run.results()))


def canvas(run: GradedRun, left_out: LeftOut) -> Iterable[str]:
    column = run.column or run.assignment.title
    return lms.canvas_chunks(run.results(), column, run.assignment.max_score, left_out, run.lms_points)


def moodle(run: GradedRun, left_out: LeftOut) -> Iterable[str]:
    return lms.moodle_chunks(run.results(), run.assignment.max_score, left_out, lms_points=run.lms_points)


def _only(run: GradedRun) -> SubmissionResult:
    return next(iter(run.results()))


def gradescope_results(run: GradedRun, left_out: LeftOut) -> Iterable[str]:
    document = gradescope.results_json(_only(run), run.elapsed, run.assignment)
    return [json.dumps(document, indent=2) + "\n"]


def prairielearn_results(run: GradedRun, left_out: LeftOut) -> Iterable[str]:
    from grader.reports import prairielearn

    return [json.dumps(prairielearn.results_json(_only(run), run.assignment), indent=2) + "\n"]


_AUTOGRADER = "the results.json of that autograder, for one submission"

FORMATS: Mapping[str, Format] = MappingProxyType({
    "table": Format(table, "a score card (one file) or the class table", prepare=report.prepare_table),
    "json": Format(json_report, "everything", summary=True),
    "csv": Format(csv_report, "the gradebook"),
    "canvas": Format(canvas, "Canvas's gradebook import", lms=True),
    "moodle": Format(moodle, "Moodle's offline grading worksheet", lms=True),
    "gradescope": Format(gradescope_results, _AUTOGRADER, one_submission=True),
    "prairielearn": Format(prairielearn_results, _AUTOGRADER, one_submission=True),
})


def help_text() -> str:
    """Each format and what it writes, for `--help`; formats that write alike share a line."""
    names_by_about: dict[str, list[str]] = {}
    for name, chosen in FORMATS.items():
        names_by_about.setdefault(chosen.about, []).append(name)
    return "; ".join(f"{', '.join(names)}: {about}" for about, names in names_by_about.items()) + "."
