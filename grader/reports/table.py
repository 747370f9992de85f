"""Pure renderers: results in, text out. Nothing here grades, reads files or prints."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from grader.assignment import Assignment
from grader.reports.summary import ClassStats, ranked
from grader.results import QuestionResult, Report, SubmissionResult, display_number, printable, submission_to_dict

_COMPACT = json.JSONEncoder(allow_nan=False).encode  # json's C encoder: no indent


@lru_cache(maxsize=512)  # a few KB each: the grader's memory stays flat however big the class
def _indented_question(compact: str) -> str:
    """A question's entry, indented as the report nests it. A class mostly gets a question
    right the same way, so its text is made once per distinct entry (json's indenting
    encoder is Python, and was a tenth of the grader's time), found by its compact form."""
    return json.dumps(json.loads(compact), indent=2).replace("\n", "\n        ")


def submission_json(submission: SubmissionResult) -> str:
    """One submission's entry in the JSON report, as it is written there: exactly the text of
    `json.dumps(entry, indent=2)`, indented to its place in the report."""
    entry = submission_to_dict(submission)
    questions = entry.pop("questions")  # the last field
    # The other fields, their closing brace taken off: "questions" goes last, inside it.
    head = json.dumps(entry, indent=2, allow_nan=False).replace("\n", "\n    ").removesuffix("\n    }")
    listed = "[]" if not questions else "[\n        " + ",\n        ".join(
        _indented_question(_COMPACT(question)) for question in questions) + "\n      ]"
    return f'    {head},\n      "questions": {listed}\n    }}'


def json_document(assignment: str, seed: int, entries: Iterable[str], stats: ClassStats) -> Iterator[str]:
    """The JSON report in pieces, one submission at a time (a class is never held whole), from
    its entries already written (`submission_json`), then the class summary, read once the
    entries are done. The document is `json.dumps(report, indent=2)`, written in pieces."""
    yield f'{{\n  "assignment": {json.dumps(assignment)},\n  "seed": {seed},\n  "submissions": ['
    for index, text in enumerate(entries):
        yield ("," if index else "") + "\n" + text
    summary = json.dumps(stats.to_dict(), indent=2, allow_nan=False).replace("\n", "\n  ")
    yield f"\n  ],\n  \"summary\": {summary}\n}}\n"


def _score(result: QuestionResult) -> str:
    return f"{display_number(result.score):g} / {display_number(result.question.points):g}"


def _total(result: SubmissionResult) -> str:
    return f"{display_number(result.score):g} / {display_number(result.max_score):g}"


def unscored_wrong(result: SubmissionResult) -> str:
    """A wrong answer to a question of 0 points (an earlier part the assignment builds on,
    as gradient checking's Part 4), which a score of 0 of 0 would hide: "Part 4 (reused),
    worth 0 points, wrong: cost_function_prime"; empty when there is none."""
    wrong: dict[str, list[str]] = {}
    for q in result.questions:
        if not q.question.points and q.cases and q.passed_cases < len(q.cases):
            wrong.setdefault(q.question.worksheet, []).append(q.question.id)
    return "; ".join(f"{worksheet}, worth 0 points, wrong: {', '.join(ids)}" for worksheet, ids in wrong.items())


def afterword(result: SubmissionResult) -> list[str]:
    """What went wrong outside the questions, and what the grader changed, one line each."""
    lines = [unscored] if (unscored := unscored_wrong(result)) else []
    lines += [f"while loading, {printable(str(e))} (what was defined before it was graded)"
             for e in result.load_errors]
    lines += [printable(note) for note in result.notes]
    if result.flags:
        lines.append("flags: " + ", ".join(result.flags))
    return lines


def prepare_table() -> None:
    """Load what the table renderer needs (tabulate takes a tenth of a one-file run to import),
    on a thread of the caller's while the first submissions run."""
    import tabulate  # noqa: F401


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
    header = f"{printable(result.student)} ({printable(result.path)})"
    if result.error is not None:
        return f"{header}\nnot graded: {result.error}"
    return "\n".join([header, questions_table(result.questions), f"total: {_total(result)}",
                      *afterword(result)])




def render_summary(stats: ClassStats) -> str:
    """Mean and median total; per question the mean, the share at full marks, the points lost,
    where they went and the discrimination; what to re-teach, every lost point named; the item
    analysis's notes; then the answers shared too closely, for the instructor to look at."""
    from tabulate import tabulate

    graded = stats.graded
    head = (f"class summary: {stats.count} submission{'s' * (stats.count != 1)}, {graded} "
            f"graded, {stats.count - graded} could not be graded")
    if not graded:
        return head
    lines = [head, f"total: mean {statistics.mean(stats.totals):.3g}, median "
                   f"{statistics.median(stats.totals):.3g} (of {display_number(stats.max_score):g})"]
    items = {row["id"]: row for row in stats.item_analysis()}
    rows = [(i + 1, q.id, q.worksheet, f"{stats.mean(q.id):.3g} / {display_number(q.points):g}",
             f"{stats.share_full(q.id):.0%}", _discrimination(items[q.id]["discrimination"]), q.lost,
             f"{display_number(q.lost_units / 10_000):g}", q.diagnosed, q.grouped, q.not_answered, q.other)
            for i, q in enumerate(stats.questions.values())]
    lines.append(tabulate(rows, headers=("#", "question", "worksheet", "mean", "full", "r", "lost",
                                         "points", "diagnosed", "same wrong", "unanswered", "other"),
                          disable_numparse=True))
    lines.append("(full: share at full marks; r: discrimination, the correlation of the question with the "
                 "rest of the total; lost: the students not at full marks (on a question of 0 points: "
                 "wrong), each counted once: diagnosed, the same wrong answer as a classmate, unanswered, "
                 "or other; points: the points they lost)")
    if stats.missing_packages:
        lines += ["", "imported, but not found where this was graded (a package to install, "
                      "or a student's file not handed in):"]
        lines += [f"  {count} student{'s' * (count != 1)} import{'s' * (count == 1)} {package}"
                  for package, count in ranked(stats.missing_packages)]
    if stats.could_not_run:
        lines += ["", "lost points only because their code could not run here (install it where "
                      "grading runs and grade them again: nothing else is needed):"]
        lines += [f"  {package}: {', '.join(sorted(printable(name) for name in students))}"
                  for package, students in sorted(stats.could_not_run.items())]
    lines += reteach_lines(stats)
    lines += item_lines(items.values(), graded)
    lines += shared_lines(stats)
    return "\n".join(lines)


def _discrimination(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}"


def _students(count: int) -> str:
    return f"{count} student{'s' * (count != 1)}"


def _pts(units: int) -> str:
    value = display_number(units / 10_000)
    return f"{value:g} point{'s' * (value != 1)}"


# The students a line of the table names at most; the JSON summary and the HTML report name all.
NAMES_SHOWN = 12


def loss_line(item: dict, unscored: bool = False) -> str:
    """One way a question's points were lost: points (none on a question of 0 points),
    students, what (by name), who."""
    loss = item["loss"]
    shown = loss.names[:NAMES_SHOWN]
    names = ", ".join(map(printable, shown)) + (f" and {len(loss.names) - len(shown)} more (all in the JSON "
                                                "summary and the HTML report)" if len(loss.names) > len(shown) else "")
    points = "" if unscored else f"{_pts(loss.units)}, "  # a question of 0 points: no points to say
    if item["kind"] == "same wrong answer":
        lead = f"{_pts(loss.units)}: " if points else ""
        return (f"{lead}{len(loss.students)} students gave the same wrong answer, which no catalogue entry "
                f"explains: {names}")
    named = f"{item['what']} (catalogued: {item['id']})" if item["kind"] == "catalogued" else item["what"]
    return f"{points}{_students(len(loss.students))}: {named}: {names}"


def reteach_lines(stats: ClassStats) -> list[str]:
    """What to re-teach: each question where points were lost, most points first, and every
    way they were lost, each named, most points first; then the earlier parts (0 points) wrong."""
    lines: list[str] = []
    questions = stats.reteach()
    if questions:
        lines += ["", "what to re-teach, every lost point named (questions by the points lost across the "
                      "class, most first):"]
        for q in questions:
            lines.append(f"  {q.id} ({q.worksheet}): {_pts(q.lost_units)} lost by {_students(q.lost)}")
            lines += _loss_lines(q.losses(), unscored=False)
    unscored = stats.unscored_wrong()
    if unscored:
        lines += ["", "wrong in an earlier part this assignment builds on (worth 0 points here, so no points "
                      "lost; what builds on it was judged given their own answer, carried forward):"]
        for q in unscored:
            lines.append(f"  {q.id} ({q.worksheet}): {_students(q.lost)}")
            lines += _loss_lines(q.losses(), unscored=True)
    return lines


def _loss_lines(losses: Iterable[dict], unscored: bool) -> list[str]:
    """Each way a question's points were lost, with its worked example under it."""
    lines = []
    for item in losses:
        lines.append(f"    {loss_line(item, unscored=unscored)}")
        if item.get("example"):
            lines.append(f"      worked example: {item['example']}")
    return lines


def item_lines(items: Iterable[dict], graded: int = 0) -> list[str]:
    """The item analysis's notes: questions every student scored the same on (one line),
    questions that separate almost nobody or favour the weakest, and cases much harder than the
    rest of their question."""
    items = list(items)
    same = [row["id"] for row in items if row["note"].startswith("separates nobody: every student")]
    notes = [f"  every student scored the same on (separates nobody): {', '.join(same)}"] if same else []
    notes += [f"  {row['id']}: r {_discrimination(row['discrimination'])}: {row['note']}"
              for row in items if row["note"] and row["id"] not in same]
    notes += [f"  {row['id']}, {printable(case['label'])}: {case['pass_rate']:.0%} passed, {case['note']}"
              for row in items for case in row["cases"] if case["note"]]
    if not notes:
        return []
    rough = f"; with {graded} students r is rough, a hint to look" if 0 < graded < ROUGH_BELOW else ""
    return ["", "item analysis (r: the question's correlation with the rest of the total" + rough + "; every "
                "case's pass rate is in --item-analysis FILE, the JSON summary and the HTML report):", *notes]


# Fewer students than this, and a discrimination is said to be rough.
ROUGH_BELOW = 30


def shared_lines(stats: ClassStats) -> list[str]:
    """Answers shared too closely: something to look at, never a finding."""
    groups = stats.shared_answers()
    if not groups:
        return []
    lines = ["", "answers shared more closely than usual, for you to look at (identical wrong answers that no "
                 "other student gave and no catalogued mistake explains, on two questions or more; a "
                 "coincidence or working together are possible, and this is no finding of either):"]
    for group in groups:
        chance = 1 / group["likelihood"] if group["likelihood"] else float("inf")
        lines.append(f"  {', '.join(map(printable, group['students']))}: the same wrong answers on "
                     f"{', '.join(group['questions'])} (each given by {len(group['students'])} of "
                     f"{stats.graded}: together about 1 in {chance:.3g})")
    return lines


def class_table(report: Report) -> str:
    """One row per student with each question's score and the total, then the summary."""
    from tabulate import tabulate

    questions = report.assignment.questions
    rows, problems, stats = [], [], ClassStats(report.assignment)
    for s in report.submissions:
        stats.add(s)
        if s.error is not None:
            rows.append([printable(s.student), *[""] * len(questions), "error"])
            problems.append(f"  {printable(s.student)}: {printable(s.error)}")
        else:
            rows.append([printable(s.student), *[f"{display_number(q.score):g}" for q in s.questions],
                         f"{display_number(s.score):g}"])
            problems += [f"  {printable(s.student)}: {line}" for line in afterword(s)]
    # Questions are numbered to keep the table narrow; the summary below says which is which.
    headers = ["student", *[str(number) for number in range(1, len(questions) + 1)], "total"]
    align = ("left", *["right"] * (len(headers) - 1))
    lines = [tabulate(rows, headers=headers, colalign=align, disable_numparse=True)]
    if problems:
        lines += ["", "notes:", *problems]
    lines += ["", render_summary(stats)]
    return "\n".join(lines)


def to_table(report: Report) -> str:
    """A score card for one submission, the class table for several."""
    submissions = list(report.submissions) if isinstance(report.submissions, (list, tuple)) else None
    if submissions is not None and len(submissions) == 1:
        return score_card(submissions[0])
    return class_table(report)


def csv_columns(assignment: Assignment) -> tuple[str, ...]:
    return ("student", "path", "status", "score", "max_score", *(q.id for q in assignment.questions),
            "error", "flags", "late", "could_not_run", "notes")


_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(cell: str) -> str:
    """A cell no spreadsheet will run: text starting with =, +, -, @, a tab or a carriage
    return gets a leading apostrophe (OWASP's advice on CSV injection); numbers stay numbers."""
    if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_row(result: SubmissionResult, assignment: Assignment) -> list[str]:
    scores = {q.question.id: f"{display_number(q.score):g}" for q in result.questions}
    row = [result.student, result.path, result.status,
           f"{display_number(result.score):g}" if result.error is None else "",
           f"{display_number(result.max_score):g}",
           *(scores.get(q.id, "") for q in assignment.questions),
           result.error or "", "; ".join(result.flags), "late" if result.late else "",
           "; ".join(result.missing_packages) if result.could_not_run else "", unscored_wrong(result)]
    return [spreadsheet_safe(printable(cell)) for cell in row]


def csv_chunks(report: Report) -> Iterator[str]:
    """The gradebook, a row at a time: one row per student, for a spreadsheet or an LMS."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(csv_columns(report.assignment))
    for submission in report.submissions:
        writer.writerow(csv_row(submission, report.assignment))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()



ITEM_COLUMNS = ("question", "worksheet", "case", "label", "worksheet_case", "points", "graded", "mean", "full_marks",
                "pass_rate", "discrimination", "note")


def item_analysis_csv(stats: ClassStats) -> str:
    """The item analysis as a CSV file (`grade --item-analysis FILE`): a row per question (its
    mean in points, its share at full marks, its discrimination: the item-rest correlation),
    each followed by a row per case (its pass rate across the class), each with its note."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ITEM_COLUMNS)
    for row in stats.item_analysis():
        r = row["discrimination"]
        writer.writerow([row["id"], row["worksheet"], "", "", "", f"{row['points']:g}", row["graded"],
                         f"{row['mean']:g}", f"{row['full_marks']:g}", "", "" if r is None else f"{r:g}",
                         row["note"]])
        for case in row["cases"]:
            writer.writerow([row["id"], row["worksheet"], case["case"], spreadsheet_safe(printable(case["label"])),
                             "yes" if case["worksheet"] else "no", "", case["graded"], "", "",
                             f"{case['pass_rate']:g}", "", case["note"]])
    return buffer.getvalue()



# Markdown's own characters, each escaped to stand for itself (CommonMark lets any ASCII
# punctuation be escaped): no text becomes a tag, an entity, a link or an image (`[` and `<`
# begin every one), emphasis, code, math or a table's cell; `-`, `+`, `#` and `1.` begin a
# list or a heading only at the start of a line.
_MARKDOWN = re.compile(r"[\\`*_\[\]<>|~&$]|^(\s*)([-+#]|\d+[.)])")
# What a renderer links on its own (GitHub's autolinks: http://..., www..., an e-mail address,
# mailto: and xmpp:; others link any scheme://), and schemes that run or embed: made visibly
# plain text, as one quotes a link not to be followed (`https[:]//...`, `www[.]`, `a[@]b`).
_LINKS = re.compile(r"(?i)(www)\.|([a-z][a-z0-9+.-]*(?=://)|javascript|vbscript|data|file|mailto|xmpp):|@")


def _unlinked(match: re.Match) -> str:
    www, scheme = match.group(1), match.group(2)
    return f"{scheme}[:]" if scheme else f"{www}[.]" if www else "[@]"


def _markdown_escape(match: re.Match) -> str:
    if match.group(2):  # a list marker or heading at the start: its last character escaped
        return match.group(1) + match.group(2)[:-1] + "\\" + match.group(2)[-1]
    return "\\" + match.group()


def _md(text: str) -> str:
    """Any text in a Markdown file (a student's name, their exception messages, the feedback
    that quotes them) as inert Markdown, on one line: it reads as it is written, and nothing
    in it is markup, HTML or a link in CommonMark or GitHub's Markdown. (A renderer that links
    bare domain names, as markdown-it's linkify does, still links `example.com`, to http.)"""
    return _MARKDOWN.sub(_markdown_escape, _LINKS.sub(_unlinked, printable(text)))


def to_markdown(result: SubmissionResult, title: str) -> str:
    """A student's feedback on the assignment of that `title`, to hand back as it is. Every
    text in it but the grader's own headings goes through `_md` (the title too: an
    instructor's own assignment names itself)."""
    lines = [f"# {_md(title)}: feedback for {_md(result.student)}", "",
             f"Submission: {_md(Path(result.path).name)}", ""]
    if result.error is not None:
        lines += ["**Not graded.** " + _md(result.error), "",
                  "Fix the problem above and hand in again: nothing in the file could be run."]
        return "\n".join(lines) + "\n"
    lines += [f"**Score: {_total(result)}**", "",
              "| question | worksheet | score | feedback |", "|---|---|---|---|"]
    lines += [f"| `{q.question.id}` | {_md(q.question.worksheet)} | {_score(q)} | {_md(q.feedback)} |"
              for q in result.questions]
    details = [q for q in result.questions if q.score < q.question.points and q.feedback]
    if details:
        lines += ["", "## What to look at", ""]
        for q in details:
            lines.append(f"### `{q.question.id}` ({_md(q.question.worksheet)})")
            lines.append("")
            lines += [f"- {_md(line)}" for line in case_lines(q, "")]
            lines.append("")
    extra = afterword(result)
    if extra:
        lines += ["", "## Also", "", *[f"- {_md(line)}" for line in extra]]
    return "\n".join(lines).rstrip() + "\n"
