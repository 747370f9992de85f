"""Pure renderers: results in, text out. Nothing here grades, reads files or prints."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from typing import Iterable, Iterator

from grader.assignment import MAX_SCORE, QUESTIONS
from grader.results import QuestionResult, Report, SubmissionResult, display_number, submission_to_dict


def json_chunks(report: Report) -> Iterator[str]:
    """The JSON report in pieces, one submission at a time: a class is never held whole."""
    yield (f'{{\n  "assignment": {json.dumps(report.assignment)},\n  "seed": {report.seed},\n'
           f'  "submissions": [')
    for index, submission in enumerate(report.submissions):
        text = json.dumps(submission_to_dict(submission), indent=2, allow_nan=False)
        yield ("," if index else "") + "\n    " + text.replace("\n", "\n    ")
    yield "\n  ]\n}\n"


def _score(result: QuestionResult) -> str:
    return f"{display_number(result.score):g} / {display_number(result.question.points):g}"


def _total(result: SubmissionResult) -> str:
    return f"{display_number(result.score):g} / {display_number(result.max_score):g}"


def _afterword(result: SubmissionResult) -> list[str]:
    """What went wrong outside the questions, and what the grader changed, one line each."""
    lines = [f"while loading, {e} (what was defined before it was graded)"
             for e in result.load_errors]
    lines += result.notes
    if result.flags:
        lines.append("flags: " + ", ".join(result.flags))
    return lines


def questions_table(questions: Iterable[QuestionResult]) -> str:
    """A row per question: id, worksheet reference, score and the one-line feedback."""
    from tabulate import tabulate

    rows = [(q.question.id, q.question.worksheet, _score(q), q.feedback) for q in questions]
    return tabulate(rows, headers=("question", "worksheet", "score", "feedback"),
                    maxcolwidths=[None, None, None, 70])


def case_lines(question: QuestionResult, prefix: str) -> list[str]:
    """One line per case that is not simply right: its status and what was wrong."""
    return [f"{prefix}{c.case_label}: {c.status.value}" + (f": {c.message}" if c.message else "")
            for c in question.cases if c.status.value != "passed" or c.carried_from]


def score_card(result: SubmissionResult) -> str:
    """One submission: a row per question, the total, then what went wrong while loading."""
    header = f"{result.student} ({result.path})"
    if result.error is not None:
        return f"{header}\nnot graded: {result.error}"
    return "\n".join([header, questions_table(result.questions), f"total: {_total(result)}",
                      *_afterword(result)])




class ClassStats:
    """The class summary, accumulated one submission at a time."""

    def __init__(self) -> None:
        self.count = 0
        self.totals: list[float] = []  # one number per graded submission: the median needs them
        self.sums = [0.0] * len(QUESTIONS)
        self.full = [0] * len(QUESTIONS)
        self.mistakes: list[Counter] = [Counter() for _ in QUESTIONS]
        self.missing_packages: Counter = Counter()  # package -> students importing it

    def add(self, result: SubmissionResult) -> None:
        self.count += 1
        if result.error is not None:
            return
        self.missing_packages.update(set(result.missing_packages))
        self.totals.append(result.score)
        for index, question in enumerate(result.questions):
            self.sums[index] += question.score
            self.full[index] += question.score >= question.question.points
            if question.diagnosis is not None:
                self.mistakes[index][question.diagnosis.summary] += 1

    def common_mistakes(self, per_question: int = 3) -> list[tuple[str, str, int]]:
        """(question id, mistake summary, students) for the most common diagnoses."""
        return [(question.id, summary, count)
                for question, counter in zip(QUESTIONS, self.mistakes)
                for summary, count in counter.most_common(per_question)]

    def render(self) -> str:
        """Mean and median total, per question the mean and the share at full marks, then the
        most common mistakes: what to re-teach."""
        from tabulate import tabulate

        graded = len(self.totals)
        head = (f"class summary: {self.count} submission{'s' * (self.count != 1)}, {graded} "
                f"graded, {self.count - graded} could not be graded")
        if not graded:
            return head
        lines = [head, f"total: mean {statistics.mean(self.totals):.3g}, median "
                       f"{statistics.median(self.totals):.3g} (of {display_number(MAX_SCORE):g})"]
        rows = [(i + 1, q.id, q.worksheet,
                 f"{self.sums[i] / graded:.3g} / {display_number(q.points):g}",
                 f"{self.full[i] / graded:.0%}") for i, q in enumerate(QUESTIONS)]
        lines.append(tabulate(rows, headers=("#", "question", "worksheet", "mean", "full marks"),
                              disable_numparse=True))
        if self.missing_packages:
            lines += ["", "imported, but not found where this was graded (a package to install, "
                          "or a student's file not handed in):"]
            lines += [f"  {count} student{'s' * (count != 1)} import{'s' * (count == 1)} {package}"
                      for package, count in self.missing_packages.most_common()]
        mistakes = self.common_mistakes()
        if mistakes:
            lines += ["", "common mistakes (what to re-teach):"]
            lines += [f"  {question}: {count} student{'s' * (count != 1)} {summary}"
                      for question, summary, count in mistakes]
        return "\n".join(lines)


def class_table(report: Report) -> str:
    """One row per student with each question's score and the total, then the summary."""
    from tabulate import tabulate

    rows, problems, stats = [], [], ClassStats()
    for s in report.submissions:
        stats.add(s)
        if s.error is not None:
            rows.append([s.student, *[""] * len(QUESTIONS), "error"])
            problems.append(f"  {s.student}: {s.error}")
        else:
            rows.append([s.student, *[f"{display_number(q.score):g}" for q in s.questions],
                         f"{display_number(s.score):g}"])
            problems += [f"  {s.student}: {line}" for line in _afterword(s)]
    # Questions are numbered to keep the table narrow; the summary below says which is which.
    headers = ["student", *[str(number) for number in range(1, len(QUESTIONS) + 1)], "total"]
    align = ("left", *["right"] * (len(headers) - 1))
    lines = [tabulate(rows, headers=headers, colalign=align, disable_numparse=True)]
    if problems:
        lines += ["", "notes:", *problems]
    lines += ["", stats.render()]
    return "\n".join(lines)


def to_table(report: Report) -> str:
    """A score card for one submission, the class table for several."""
    submissions = list(report.submissions) if isinstance(report.submissions, (list, tuple)) else None
    if submissions is not None and len(submissions) == 1:
        return score_card(submissions[0])
    return class_table(report)


CSV_COLUMNS = ("student", "path", "status", "score", "max_score", *(q.id for q in QUESTIONS),
               "error", "flags")


def csv_row(result: SubmissionResult) -> list[str]:
    scores = {q.question.id: f"{display_number(q.score):g}" for q in result.questions}
    return [result.student, result.path, result.status,
            f"{display_number(result.score):g}" if result.error is None else "",
            f"{display_number(result.max_score):g}",
            *(scores.get(q.id, "") for q in QUESTIONS),
            result.error or "", "; ".join(result.flags)]


def csv_chunks(report: Report) -> Iterator[str]:
    """The gradebook, a row at a time: one row per student, for a spreadsheet or an LMS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for submission in report.submissions:
        writer.writerow(csv_row(submission))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()



def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(result: SubmissionResult) -> str:
    """A student's feedback, to hand back as it is."""
    lines = [f"# Backpropagation worksheet: feedback for {result.student}", "",
             f"Submission: `{result.path}`", ""]
    if result.error is not None:
        lines += ["**Not graded.** " + result.error, "",
                  "Fix the problem above and hand in again: nothing in the file could be run."]
        return "\n".join(lines) + "\n"
    lines += [f"**Score: {_total(result)}**", "",
              "| question | worksheet | score | feedback |", "|---|---|---|---|"]
    lines += [f"| `{q.question.id}` | {q.question.worksheet} | {_score(q)} | {_md(q.feedback)} |"
              for q in result.questions]
    details = [q for q in result.questions if q.score < q.question.points]
    if details:
        lines += ["", "## What to look at", ""]
        for q in details:
            lines.append(f"### `{q.question.id}` ({q.question.worksheet})")
            lines.append("")
            lines += case_lines(q, "- ")
            lines.append("")
    extra = _afterword(result)
    if extra:
        lines += ["", "## Also", "", *[f"- {line}" for line in extra]]
    return "\n".join(lines).rstrip() + "\n"


def sandbox_info(isolation: dict, running_as_root: bool, memory_mb: int, timeout: float) -> str:
    """What protects the grader from a submission here, one line per protection."""
    def row(ok: bool, what: str, detail: str = "") -> str:
        return f"  [{'x' if ok else ' '}] {what}" + (f": {detail}" if detail else "")

    namespaces = bool(isolation.get("namespaces"))
    user = isolation.get("user")
    limits = isolation.get("limits", {})
    lines = [f"sandbox on this machine (grader running as {'root' if running_as_root else 'a normal user'}):",
             row(True, "a separate process for every submission; the grader's process never runs student code"),
             row(True, "answers cross as plain JSON numbers, rebuilt and judged in the grader"),
             row(True, "time limit per call and for loading", f"{timeout:g} s (--timeout), enforced by killing the process"),
             row(limits.get("RLIMIT_AS", -1) > 0, "memory limit", f"{memory_mb} MB (--memory-mb)"),
             row(True, "stdin closed, output captured and capped, CPU-time, file-size and open-file limits"),
             row(user not in (None, 0), "runs as an unprivileged user",
                 f"uid {user}" if user not in (None, 0) else "the grader is not root: runs as the grader's own user"),
             row(namespaces, "own PID namespace: no process outlives its grading",
                 "" if namespaces else "no: processes are stopped and killed by the supervisor instead"),
             row(namespaces, "own network namespace: no network",
                 "" if namespaces else "no: only Python sockets are blocked"),
             row(namespaces, "own mount namespace: private /tmp, hidden folders",
                 ", ".join(isolation.get("hidden", [])) or ("" if namespaces else "no: nothing hidden")),
             row(True, "importing grader or solutions, or opening their files, blocked and flagged",
                 "audit hook")]
    for problem in isolation.get("problems", []):
        lines.append(f"  warning: {problem}")
    if not running_as_root:
        lines.append("  (run as root, as in CI or an autograder container, for namespaces and a separate user)")
    return "\n".join(lines)
