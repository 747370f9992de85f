"""Pure: a one-page HTML class report with inline SVG charts; nothing is fetched at view time.

Read on a phone as well as on a desk: the page is as wide as the screen, the charts scale down
to it, and a table too wide for it scrolls sideways inside its own box, never the page. For
everyone: every table has a caption, a header row (`<thead>`, `scope`) and row headers; what a
number is is written beside it, not left to a tooltip; each chart says its numbers in words."""

from __future__ import annotations

import html
import statistics
from collections.abc import Iterable, Sequence

from grader.assignment import Assignment, Question
from grader.reports.summary import ClassStats, QuestionStats, ranked
from grader.results import QuestionResult, SubmissionResult, display_number, printable

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; overflow-wrap: break-word; }
@media (max-width: 600px) { body { margin: 1em .75em; } tbody th .ref { display: block; } }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
.scroll { overflow-x: auto; max-width: 100%; } .scroll + .scroll { margin-top: 1.5em; }
table { border-collapse: collapse; } th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; }
caption { caption-side: top; text-align: left; padding: 0 0 .4em; color: #444; }
.scroll caption { position: sticky; left: 0; max-width: calc(100vw - 5em); }
th { text-align: left; background: #f4f4f4; } tbody th { font-weight: normal; background: none; }
thead th, thead td { vertical-align: bottom; } .ref { font-weight: normal; font-size: 11px; color: #555; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } th.n { text-align: right; }
td.full { background: #e6f4ea; } td.zero { background: #fce8e6; } td.part { background: #fef7e0; }
.error { color: #b3261e; } .flags { color: #8a4b00; }
.charts { display: flex; gap: 1em 3em; flex-wrap: wrap; }
figure { margin: 1em 0; min-width: 0; max-width: 100%; } figure svg { display: block; max-width: 100%; height: auto; }
table.gradebook th, table.gradebook td { padding: 3px 5px; } table.gradebook thead th { font-size: 12px; }
section { margin-top: 1.5em; } section h3 { font-size: 1.05em; margin-bottom: .3em; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
                   white-space: nowrap; }
"""


def _cell(score: float, points: float) -> str:
    kind = "full" if score >= points else "zero" if score == 0 else "part"
    return f'<td class="n {kind}">{display_number(score):g}</td>'


def _question_cell(q: QuestionResult) -> str:
    """A question's score; on a question of 0 points (an earlier part the assignment builds
    on), said wrong where a case is: never a green 0 of 0 for a wrong answer."""
    if not q.question.points and q.cases and q.passed_cases < len(q.cases):
        return '<td class="n zero">0 (wrong)</td>'
    return _cell(q.score, q.question.points)


def _table(ident: str, caption: str, head: str, body: str, kind: str = "", focusable: bool = True,
           caption_class: str = "", columns: str = "") -> str:
    """A table with its caption, header rows and body, in a box that scrolls sideways when
    the table is wider than the screen (the page itself never does). The box is named by the
    caption, and `focusable` lets a keyboard scroll it."""
    table_class = f' class="{kind}"' if kind else ""
    shown = f' class="{caption_class}"' if caption_class else ""
    focus = ' tabindex="0"' if focusable else ""
    return (f'<div class="scroll" role="region" aria-labelledby="{ident}"{focus}><table{table_class}>'
            f'<caption id="{ident}"{shown}>{caption}</caption>{columns}<thead>{head}</thead><tbody>{body}</tbody>'
            "</table></div>")


def _ticks(top: int) -> list[int]:
    """Whole-number ticks from 0 to at least `top`: at most six of them."""
    step = max(1, -(-top // 5))
    return list(range(0, top + step, step))


def _svg(ident: str, width: int, height: int, title: str, desc: str) -> str:
    """An SVG chart's opening: it scales to the width it is given (its viewBox), and is one
    image to a screen reader, named by its title and what its numbers are."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="{ident}-title {ident}-desc">'
            f'<title id="{ident}-title">{html.escape(title)}</title><desc id="{ident}-desc">{html.escape(desc)}</desc>')


def _students(count: int) -> str:
    return f"{count} student{'s' * (count != 1)}"


def histogram_words(totals: list[float], max_score: float) -> tuple[str, str]:
    """The histogram in words: its title, and how many students are in each range that has any."""
    bins = _bins(totals, max_score)
    title = f"Histogram of the totals of {_students(len(totals))} graded, out of {display_number(max_score):g}"
    ranges = [f"{_students(count)} from {display_number(index * max_score / 10):g} to "
              f"{display_number((index + 1) * max_score / 10):g}" for index, count in enumerate(bins) if count]
    if not ranges:
        return title, "No student was graded."
    return title, "; ".join(ranges) + ("; none in the other ranges." if len(ranges) < 10 else ".")


def _bins(totals: list[float], max_score: float) -> list[int]:
    bins = [0] * 10
    for total in totals:
        bins[min(9, int(total / max_score * 10))] += 1
    return bins


def histogram_svg(totals: list[float], max_score: float, width: int = 440, height: int = 200) -> str:
    """Counts of totals in ten bins from 0 to the maximum score, with both axes labelled."""
    bins = _bins(totals, max_score)
    ticks = _ticks(max(bins))
    top = ticks[-1] or 1
    left, plot = 44, height - 20  # room for the count axis; room above the tallest bar
    bar = (width - left - 10) / 10
    parts = [_svg("totals", width, height + 30, *histogram_words(totals, max_score))]
    for tick in ticks:  # the count axis: gridlines and their numbers
        y = height - plot * tick / top
        parts.append(f'<line x1="{left - 4}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 7}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{tick}</text>')
    parts.append(f'<line x1="{left}" y1="{height - plot}" x2="{left}" y2="{height}" stroke="#444"/>'
                 f'<line x1="{left}" y1="{height}" x2="{width - 10}" y2="{height}" stroke="#444"/>'
                 f'<text x="12" y="{height - plot / 2:.1f}" font-size="11" text-anchor="middle" '
                 f'transform="rotate(-90 12 {height - plot / 2:.1f})">students</text>')
    for index, count in enumerate(bins):
        h = plot * count / top
        x = left + index * bar
        parts.append(f'<rect x="{x + 2:.1f}" y="{height - h:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                     f'fill="#4a78c2"><title>{display_number(index * max_score / 10):g}-'
                     f'{display_number((index + 1) * max_score / 10):g}: {count}</title></rect>')
        if count:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - h - 3:.1f}" font-size="11" '
                         f'text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x:.1f}" y="{height + 14}" font-size="10" text-anchor="middle">'
                     f'{display_number(index * max_score / 10):g}</text>')
    parts.append(f'<text x="{left + 10 * bar:.1f}" y="{height + 14}" font-size="10" text-anchor="middle">'
                 f'{display_number(max_score):g}</text>')
    parts.append(f'<text x="{left + 5 * bar:.1f}" y="{height + 28}" font-size="11" text-anchor="middle">'
                 'total score</text></svg>')
    return "".join(parts)


def questions_words(questions: Sequence[Question], means: list[float]) -> tuple[str, str]:
    """The per-question chart in words: its title, and each question's mean as a share of its points."""
    shares = [f"{q.id} {_share(mean, q.points):.0%}" for q, mean in zip(questions, means, strict=True)]
    return "Mean score per question, as a share of its points", "; ".join(shares) + "."


def _share(mean: float, points: float) -> float:
    return mean / points if points else 0


def questions_svg(questions: Sequence[Question], means: list[float], width: int = 460) -> str:
    """One horizontal bar per question: the class mean as a share of its points."""
    row = 22
    height = row * len(questions) + 10
    parts = [_svg("means", width, height, *questions_words(questions, means))]
    for index, (question, mean) in enumerate(zip(questions, means, strict=True)):
        share = _share(mean, question.points)
        y = 5 + index * row
        parts.append(f'<text x="0" y="{y + 14}" font-size="11">{html.escape(question.id)}</text>')
        parts.append(f'<rect x="150" y="{y + 3}" width="{(width - 200) * share:.1f}" height="{row - 8}" '
                     f'fill="#4a78c2"><title>{html.escape(question.id)}: mean score {mean:.3g} of '
                     f'{display_number(question.points):g}</title></rect>')
        parts.append(f'<text x="{150 + (width - 200) * share + 4:.1f}" y="{y + 14}" '
                     f'font-size="11">{share:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _breakable(name: str) -> str:
    """A question id that may wrap after its underscores, so a table fits a narrow window."""
    return "_<wbr>".join(html.escape(part) for part in name.split("_"))


def _student_section(anchor: str, s: SubmissionResult) -> str:
    """A student's feedback, as the text score card shows it: each question, then the notes."""
    from grader.reports.table import afterword

    name = html.escape(printable(s.student))
    if s.error is not None:
        body = f'<p class="error">not graded: {html.escape(printable(s.error))}</p>'
    else:
        rows = "".join(  # the worksheet's reference beside the question's id (under it on a phone)
            f'<tr><th scope="row"><code>{_breakable(q.question.id)}</code> <span class="ref">'
            f"{html.escape(q.question.worksheet)}</span></th>{_question_cell(q)}"
            f"<td>{html.escape(printable(q.feedback))}</td></tr>"
            for q in s.questions)
        head = ('<tr><th scope="col">question (worksheet)</th><th scope="col" class="n">score</th>'
                '<th scope="col">feedback</th></tr>')
        body = _table(f"{anchor}-caption", f"{name}: score and feedback, question by question", head, rows,
                      focusable=False, caption_class="visually-hidden")
    notes = afterword(s) if s.error is None else [f"flags: {', '.join(s.flags)}"] if s.flags else []
    listed = "".join(f"<li>{html.escape(line)}</li>" for line in notes)
    total = "" if s.error is not None else f": {display_number(s.score):g} / {display_number(s.max_score):g}"
    return (f'<section id="{anchor}"><h3>{name}{total}</h3>{body}' + (f"<ul>{listed}</ul>" if listed else "")
            + '<p><a href="#gradebook">back to the gradebook</a></p></section>')


def to_html(submissions: Iterable[SubmissionResult], assignment: Assignment, title: str | None = None) -> str:
    title = title or assignment.title
    questions = assignment.questions
    stats = ClassStats(assignment)
    rows, sections, notes = _gradebook(submissions, stats, len(questions))
    means = [stats.mean(q.id) for q in questions]
    head = ('<tr><th scope="col">student</th><th scope="col" class="n">total</th>'
            + "".join(f'<th scope="col">{_breakable(q.id)}</th>' for q in questions) + "</tr>"
            '<tr><td colspan="2" class="ref">worksheet</td>'
            + "".join(f'<th scope="col" class="ref">{html.escape(q.worksheet)}</th>' for q in questions) + "</tr>")
    gradebook = _table("gradebook-caption", f"Each student's total (of {display_number(assignment.max_score):g}), "
                       "then their score on each question: green at full marks, red at none, yellow "
                       "in between", head, "".join(rows), kind="gradebook")
    notes_html = f"<h2>Notes</h2><ul>{''.join(notes)}</ul>" if notes else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}: class report</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}: class report</h1>
<p>{_overview(stats, assignment.max_score)}</p>
<div class="charts"><figure>{histogram_svg(stats.totals, assignment.max_score)}<figcaption>Totals</figcaption></figure>
<figure>{questions_svg(questions, means)}
<figcaption>Mean score per question, as a share of its points</figcaption></figure></div>
<h2>Per question, and the most common mistakes</h2>
{_summary_table(stats)}
{_reteach(stats)}
{_uncatalogued(stats)}
{_item_analysis(stats)}
{_shared(stats)}
{_could_not_run(stats)}
<h2 id="gradebook">Gradebook</h2>
<p>Each name links to that student's feedback below.</p>
{gradebook}
{notes_html}
<h2>Feedback, student by student</h2>
{"".join(sections)}
</body></html>
"""


def _gradebook(submissions: Iterable[SubmissionResult], stats: ClassStats,
               questions: int) -> tuple[list[str], list[str], list[str]]:
    """The gradebook's rows, each student's section and the notes' items, one submission at a
    time, each counted into `stats`."""
    from grader.reports.table import afterword

    rows: list[str] = []
    sections: list[str] = []
    notes: list[str] = []
    for number, s in enumerate(submissions, start=1):
        stats.add(s)
        anchor = f"student-{number}"
        name = f'<a href="#{anchor}">{html.escape(printable(s.student))}</a>'
        sections.append(_student_section(anchor, s))
        if s.error is not None:
            rows.append(f'<tr><th scope="row">{name}</th><td class="n error">not graded</td>'
                        f'<td colspan="{questions}" class="error">{html.escape(printable(s.error))}</td></tr>')
            notes.append(f'<li>{name}: {html.escape(printable(s.error))}</li>')
            continue
        flags = f' <span class="flags">({html.escape(", ".join(s.flags))})</span>' if s.flags else ""
        cells = "".join(_question_cell(q) for q in s.questions)
        rows.append(f'<tr><th scope="row">{name}{flags}</th><td class="n"><b>{display_number(s.score):g}</b></td>'
                    f"{cells}</tr>")
        notes += [f"<li>{name}: {html.escape(line)}</li>" for line in afterword(s)]
    return rows, sections, notes


def _summary_table(stats: ClassStats) -> str:
    """Per question: the mean score, the share at full marks, where the lost points went, the
    most common mistakes; each number's header says what it is."""
    graded = stats.graded
    head = ('<tr><th scope="col" rowspan="2">question</th><th scope="col" rowspan="2">worksheet</th>'
            '<th scope="col" rowspan="2" class="n">mean score</th>'
            '<th scope="col" rowspan="2" class="n">share at full marks</th>'
            '<th scope="colgroup" colspan="5">students who lost points</th>'
            '<th scope="col" rowspan="2">most common mistakes (students)</th></tr>'
            '<tr><th scope="col" class="n">all</th><th scope="col" class="n">diagnosed</th>'
            '<th scope="col" class="n">same wrong answer</th><th scope="col" class="n">not answered</th>'
            '<th scope="col" class="n">other</th></tr>')
    rows = "".join(
        f'<tr><th scope="row">{_breakable(q.id)}</th><td>{html.escape(q.worksheet)}</td>'
        f'<td class="n">{stats.mean(q.id):.3g} of {display_number(q.points):g} '
        f"({_share(stats.mean(q.id), q.points):.0%})</td>"
        f'<td class="n">{stats.share_full(q.id):.0%} ({q.full} of {graded})</td>'
        f'<td class="n">{q.lost}</td><td class="n">{q.diagnosed}</td><td class="n">{q.grouped}</td>'
        f'<td class="n">{q.not_answered}</td><td class="n">{q.other}</td>'
        f"<td>{'; '.join(f'{count} {html.escape(summary)}' for summary, count in ranked(q.diagnoses, 3))}</td></tr>"
        for q in stats.questions.values())
    caption = (f"Each question's mean score (of its points, and as a share of them), the share of the "
               f"{_students(graded)} graded who got full marks on it, how many students lost points on it "
               "and why, and the most common mistakes")
    colgroups = '<colgroup span="4"></colgroup><colgroup span="5"></colgroup><colgroup></colgroup>'
    return _table("questions-caption", caption, head, rows, kind="questions", columns=colgroups)


def _reteach(stats: ClassStats) -> str:
    """What to re-teach: a row per way a question's points were lost, questions by the points
    lost across the class, each way named, with the worked example of a shared wrong answer;
    then the earlier parts (0 points) some students got wrong."""
    from grader.reports.table import _pts

    rows = []
    for q in stats.reteach():
        for item in q.losses():
            loss = item["loss"]
            what = html.escape(item["what"]) + (f" (catalogued: <code>{html.escape(item['id'])}</code>)"
                                                if item["kind"] == "catalogued" else "")
            example = f"<br><span class=\"ref\">worked example: {html.escape(item['example'])}</span>" \
                if item.get("example") else ""
            rows.append(f'<tr><th scope="row">{_breakable(q.id)} <span class="ref">{html.escape(q.worksheet)}</span>'
                        f'</th><td class="n">{_pts(loss.units)}</td><td class="n">{len(loss.students)}</td>'
                        f"<td>{what}{example}</td>"
                        f"<td>{html.escape(', '.join(map(printable, loss.names)))}</td></tr>")
    parts = []
    if rows:
        head = ('<tr><th scope="col">question (worksheet)</th><th scope="col" class="n">points lost</th>'
                '<th scope="col" class="n">students</th><th scope="col">lost to</th><th scope="col">who</th></tr>')
        parts.append("<h2>What to re-teach, every lost point named</h2>" + _heat_map(stats) + _table(
            "reteach-caption", "Every way points were lost, question by question, the questions with the most "
            "points lost across the class first: each catalogued mistake by name, each wrong answer several "
            "students share with one worked example, then the rest", head, "".join(rows), kind="reteach"))
    unscored = "".join(
        f"<li><code>{html.escape(q.id)}</code> ({html.escape(q.worksheet)}): {_students(q.lost)}: "
        f"{html.escape(', '.join(printable(s) for s in _wrong(q)))}</li>" for q in stats.unscored_wrong())
    if unscored:
        parts.append("<h2>Wrong in an earlier part this assignment builds on</h2><p>Worth 0 points here, so no "
                     f"points were lost, but what is built on it was credited only as carried forward.</p>"
                     f"<ul>{unscored}</ul>")
    return "".join(parts)


_KINDS = (("catalogued", "catalogued mistakes"), ("same wrong answer", "the same wrong answer as a classmate"),
          ("not answered", "not answered"), ("other", "other"))


def _heat_map(stats: ClassStats) -> str:
    """Points lost by question and by kind of mistake, each cell shaded by its points (the
    darker, the more), its number written in it: the whole picture at a glance."""
    questions = stats.reteach()
    cells = {(q.id, kind): sum(item["loss"].units for item in q.losses() if item["kind"] == kind)
             for q in questions for kind, _ in _KINDS}
    top = max(cells.values(), default=0) or 1
    from grader.reports.table import _pts

    def cell(units: int) -> str:
        if not units:
            return '<td class="n">-</td>'
        strength = units / top
        text = "#fff" if strength > 0.6 else "#222"
        return (f'<td class="n" style="background: rgba(179, 38, 30, {0.1 + 0.8 * strength:.2f}); color: {text}">'
                f"{_pts(units)}</td>")

    head = '<tr><th scope="col">question</th>' + "".join(
        f'<th scope="col" class="n">{html.escape(name)}</th>' for _, name in _KINDS) + "</tr>"
    rows = "".join(f'<tr><th scope="row">{_breakable(q.id)}</th>'
                   + "".join(cell(cells[q.id, kind]) for kind, _ in _KINDS) + "</tr>" for q in questions)
    return _table("heat-caption", "Points lost across the class, by question (most first) and by kind of mistake: "
                  "the darker a cell, the more points", head, rows, kind="heat")


def _wrong(q: QuestionStats) -> list[str]:
    return sorted((s for item in q.losses() for s in item["loss"].students), key=lambda s: (s.lower(), s))


def _item_analysis(stats: ClassStats) -> str:
    """The item analysis: a row per question (mean, share at full marks, discrimination, note),
    then a row per case (its pass rate)."""
    if not stats.graded:
        return ""
    items = stats.item_analysis()
    head = ('<tr><th scope="col">question</th><th scope="col" class="n">mean score</th>'
            '<th scope="col" class="n">share at full marks</th><th scope="col" class="n">discrimination (r)</th>'
            '<th scope="col">note</th></tr>')
    rows = "".join(
        f'<tr><th scope="row">{_breakable(row["id"])}</th><td class="n">{row["mean"]:.3g} of {row["points"]:g}</td>'
        f'<td class="n">{row["full_marks"]:.0%}</td>'
        f'<td class="n">{"-" if row["discrimination"] is None else format(row["discrimination"], ".2f")}</td>'
        f'<td>{html.escape(row["note"])}</td></tr>' for row in items)
    questions = _table("items-caption", "Item analysis: each question's mean score, its share at full marks and "
                       "its discrimination, the correlation of its score with the rest of the total (from -1 to 1: "
                       "high when the stronger students get it right and the weaker do not)", head, rows,
                       kind="items")
    case_head = ('<tr><th scope="col">question, case</th><th scope="col">the worksheet\'s own</th>'
                 '<th scope="col" class="n">pass rate</th><th scope="col">note</th></tr>')
    case_rows = "".join(
        f'<tr><th scope="row">{_breakable(row["id"])}, {html.escape(printable(case["label"]))}</th>'
        f'<td>{"yes" if case["worksheet"] else "no"}</td>'
        f'<td class="n">{case["pass_rate"]:.0%} ({case["passed"]} of {case["graded"]})</td>'
        f'<td>{html.escape(case["note"])}</td></tr>' for row in items for case in row["cases"])
    cases = _table("cases-caption", "Pass rate of each case across the class: a case much harder than the rest "
                   "of its question says something about the teaching, or the case", case_head, case_rows,
                   kind="cases")
    return f"<h2>Item analysis</h2>{questions}{cases}"


def _shared(stats: ClassStats) -> str:
    """Answers shared too closely: for the instructor to look at, never a finding."""
    groups = stats.shared_answers()
    if not groups:
        return ""
    head = ('<tr><th scope="col">students</th><th scope="col">questions</th>'
            '<th scope="col" class="n">how often by chance</th></tr>')
    rows = "".join(
        f'<tr><th scope="row">{html.escape(", ".join(map(printable, g["students"])))}</th>'
        f'<td>{html.escape(", ".join(g["questions"]))}</td>'
        f'<td class="n">about 1 in {1 / g["likelihood"]:.3g}</td></tr>' for g in groups)
    return ("<h2>Answers shared more closely than usual, to look at</h2><p>Identical wrong answers, to the digits "
            "shown, that no other student gave and no catalogued mistake explains, on two questions or more. A "
            "coincidence, or working together as allowed, is possible: this is something to look at, not a "
            "finding, and it is shown to no student.</p>"
            + _table("shared-caption", "Students whose wrong answers are the same on two questions or more, "
                     "the least likely first (the product of each shared answer's share of the class)",
                     head, rows, kind="shared"))


def _could_not_run(stats: ClassStats) -> str:
    if not stats.could_not_run:
        return ""
    items = "".join(f"<li><b>{html.escape(package)}</b>: "
                    f"{html.escape(', '.join(sorted(printable(n) for n in names)))}</li>"
                    for package, names in sorted(stats.could_not_run.items()))
    return ("<h2>Lost points only because their code could not run here</h2><p>Install the package where "
            f"grading runs and grade these students again: nothing else is needed.</p><ul>{items}</ul>")


def _uncatalogued(stats: ClassStats) -> str:
    """The groups of the same wrong answer no catalogue entry explains; empty if there is none."""
    groups = "".join(
        f"<li><code>{html.escape(question)}</code>: {len(students)} students gave the same wrong "
        f"answer, which no catalogue entry explains: {html.escape(', '.join(map(printable, students)))}</li>"
        for question, students in stats.uncatalogued())
    return (f"<h2>The same wrong answer, unexplained: candidates for the catalogue</h2><ul>{groups}</ul>"
            if groups else "")


def _overview(stats: ClassStats, max_score: float) -> str:
    graded = stats.graded
    overview = f"{stats.count} submissions, {graded} graded, {stats.count - graded} could not be graded"
    if graded:
        overview += (f"; mean {statistics.mean(stats.totals):.3g}, median "
                     f"{statistics.median(stats.totals):.3g} of {display_number(max_score):g}")
    return overview
