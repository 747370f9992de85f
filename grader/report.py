"""Pure renderers: results in, text out. Nothing here grades, reads files or prints."""

from __future__ import annotations

import csv
import io
import json
import statistics

from grader.assignment import QUESTIONS
from grader.results import QuestionResult, Report, SubmissionResult, _number, submission_to_dict


def to_json(report: Report) -> str:
    document = {
        "assignment": report.assignment,
        "seed": report.seed,
        "submissions": [submission_to_dict(s) for s in report.submissions],
    }
    return json.dumps(document, indent=2, allow_nan=False)


def _score(result: QuestionResult) -> str:
    return f"{_number(result.score):g} / {_number(result.question.points):g}"


def _total(result: SubmissionResult) -> str:
    return f"{_number(result.score):g} / {_number(result.max_score):g}"


def _afterword(result: SubmissionResult) -> list[str]:
    """What went wrong outside the questions, and what the grader changed, one line each."""
    lines = [f"while loading, {e} (what was defined before it was graded)"
             for e in result.load_errors]
    lines += result.notes
    if result.flags:
        lines.append("flags: " + ", ".join(result.flags))
    return lines


def score_card(result: SubmissionResult) -> str:
    """One submission: a row per question, the total, then what went wrong while loading."""
    from tabulate import tabulate

    header = f"{result.student} ({result.path})"
    if result.error is not None:
        return f"{header}\nnot graded: {result.error}"
    rows = [(q.question.id, q.question.worksheet, _score(q), q.feedback) for q in result.questions]
    table = tabulate(rows, headers=("question", "worksheet", "score", "feedback"),
                     maxcolwidths=[None, None, None, 70])
    return "\n".join([header, table, f"total: {_total(result)}", *_afterword(result)])


def _column(question_id: str) -> str:
    """A narrow header: ids break after their underscores."""
    return question_id.replace("_", "_\n")


def class_table(report: Report) -> str:
    """One row per student with each question's score and the total, then the summary."""
    from tabulate import tabulate

    rows = []
    for s in report.submissions:
        if s.error is not None:
            rows.append([s.student, *[""] * len(QUESTIONS), "error"])
        else:
            rows.append([s.student, *[f"{_number(q.score):g}" for q in s.questions],
                         f"{_number(s.score):g}"])
    headers = ["student", *[_column(q.id) for q in QUESTIONS], "total"]
    align = ("left", *["right"] * (len(headers) - 1))
    lines = [tabulate(rows, headers=headers, colalign=align, disable_numparse=True)]
    problems = [f"  {s.student}: {s.error}" for s in report.submissions if s.error is not None]
    problems += [f"  {s.student}: {line}" for s in report.submissions if s.error is None
                 for line in _afterword(s)]
    if problems:
        lines += ["", "notes:", *problems]
    lines += ["", class_summary(report)]
    return "\n".join(lines)


def class_summary(report: Report) -> str:
    """Mean and median total, per question the mean and the share at full marks."""
    from tabulate import tabulate

    graded = [s for s in report.submissions if s.error is None]
    failed = len(report.submissions) - len(graded)
    head = (f"class summary: {len(report.submissions)} submission"
            f"{'s' * (len(report.submissions) != 1)}, {len(graded)} graded, "
            f"{failed} could not be graded")
    if not graded:
        return head
    totals = [s.score for s in graded]
    max_score = graded[0].max_score
    lines = [head, f"total: mean {statistics.mean(totals):.3g}, median "
                   f"{statistics.median(totals):.3g} (of {_number(max_score):g})"]
    rows = []
    for index, question in enumerate(QUESTIONS):
        results = [s.questions[index] for s in graded]
        mean = statistics.mean(r.score for r in results)
        full = sum(r.score >= question.points for r in results) / len(results)
        rows.append((question.id, question.worksheet, f"{mean:.3g} / {_number(question.points):g}",
                     f"{full:.0%}"))
    lines.append(tabulate(rows, headers=("question", "worksheet", "mean", "full marks"),
                          disable_numparse=True))
    mistakes = common_mistakes(report)
    if mistakes:
        lines += ["", "common mistakes (what to re-teach):"]
        lines += [f"  {question}: {count} student{'s' * (count != 1)} {summary}"
                  for question, summary, count in mistakes]
    return "\n".join(lines)


def common_mistakes(report: Report, per_question: int = 3) -> list[tuple[str, str, int]]:
    """(question id, mistake summary, students) for the most common diagnoses, by question."""
    from collections import Counter

    found = []
    for index, question in enumerate(QUESTIONS):
        counts = Counter(s.questions[index].diagnosis.summary for s in report.submissions
                         if s.error is None and s.questions[index].diagnosis is not None)
        found += [(question.id, summary, count) for summary, count in counts.most_common(per_question)]
    return found


def to_table(report: Report) -> str:
    """A score card for one submission, the class table for several."""
    if len(report.submissions) == 1:
        return score_card(report.submissions[0])
    return class_table(report)


CSV_COLUMNS = ("student", "path", "status", "score", "max_score", *(q.id for q in QUESTIONS),
               "error", "flags")


def csv_row(result: SubmissionResult) -> list[str]:
    scores = {q.question.id: f"{_number(q.score):g}" for q in result.questions}
    return [result.student, result.path, result.status,
            f"{_number(result.score):g}" if result.error is None else "",
            f"{_number(result.max_score):g}",
            *(scores.get(q.id, "") for q in QUESTIONS),
            result.error or "", "; ".join(result.flags)]


def to_csv(report: Report) -> str:
    """The gradebook: one row per student, ready for a spreadsheet or an LMS import."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for submission in report.submissions:
        writer.writerow(csv_row(submission))
    return buffer.getvalue()


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
            lines += [f"- {c.case_label}: {c.status.value}" + (f": {c.message}" if c.message else "")
                      for c in q.cases if c.status.value != "passed"]
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
