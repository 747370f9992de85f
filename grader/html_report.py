"""Pure: a one-page HTML class report with inline SVG charts; nothing is fetched at view time."""

from __future__ import annotations

import html
from typing import Iterable

from grader.assignment import MAX_SCORE, QUESTIONS
from grader.summary import ClassStats
from grader.results import SubmissionResult, display_number, printable

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; } th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; }
th { text-align: left; background: #f4f4f4; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.full { background: #e6f4ea; } td.zero { background: #fce8e6; } td.part { background: #fef7e0; }
.error { color: #b3261e; } .flags { color: #8a4b00; } .charts { display: flex; gap: 3em; flex-wrap: wrap; }
"""


def _cell(score: float, points: float) -> str:
    kind = "full" if score >= points else "zero" if score == 0 else "part"
    return f'<td class="n {kind}">{display_number(score):g}</td>'


def histogram_svg(totals: list[float], width: int = 420, height: int = 200) -> str:
    """Counts of totals in ten bins from 0 to the maximum score."""
    bins = [0] * 10
    for total in totals:
        bins[min(9, int(total / MAX_SCORE * 10))] += 1
    top = max(bins) or 1
    bar = (width - 40) / 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" '
             f'role="img" aria-label="histogram of totals">']
    for index, count in enumerate(bins):
        h = (height - 20) * count / top  # room above the tallest bar for its count
        x = 30 + index * bar
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
                     f'fill="#4a78c2"><title>{display_number(index * MAX_SCORE / 10):g}-'
                     f'{display_number((index + 1) * MAX_SCORE / 10):g}: {count}</title></rect>')
        if count:
            parts.append(f'<text x="{x + bar / 2 - 2:.1f}" y="{height - h - 3:.1f}" font-size="11" '
                         f'text-anchor="middle">{count}</text>')
        parts.append(f'<text x="{x:.1f}" y="{height + 14}" font-size="10">'
                     f'{display_number(index * MAX_SCORE / 10):g}</text>')
    parts.append(f'<text x="{width - 14}" y="{height + 14}" font-size="10">{display_number(MAX_SCORE):g}</text>')
    parts.append(f'<text x="{width / 2}" y="{height + 28}" font-size="11" text-anchor="middle">'
                 'total score</text></svg>')
    return "".join(parts)


def questions_svg(means: list[float], width: int = 460) -> str:
    """One horizontal bar per question: the class mean as a share of its points."""
    row = 22
    height = row * len(QUESTIONS) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="mean score per question">']
    for index, (question, mean) in enumerate(zip(QUESTIONS, means)):
        share = mean / question.points if question.points else 0
        y = 5 + index * row
        parts.append(f'<text x="0" y="{y + 14}" font-size="11">{html.escape(question.id)}</text>')
        parts.append(f'<rect x="150" y="{y + 3}" width="{(width - 200) * share:.1f}" height="{row - 8}" '
                     f'fill="#4a78c2"><title>{question.id}: mean {mean:.3g} / '
                     f'{display_number(question.points):g}</title></rect>')
        parts.append(f'<text x="{150 + (width - 200) * share + 4:.1f}" y="{y + 14}" '
                     f'font-size="11">{share:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(submissions: Iterable[SubmissionResult], title: str = "Backpropagation worksheet") -> str:
    stats = ClassStats()
    rows = []
    for s in submissions:
        stats.add(s)
        name = html.escape(printable(s.student))
        if s.error is not None:
            rows.append(f'<tr><td>{name}</td><td colspan="{len(QUESTIONS) + 1}" class="error">'
                        f'not graded: {html.escape(s.error)}</td></tr>')
            continue
        flags = f' <span class="flags">({html.escape(", ".join(s.flags))})</span>' if s.flags else ""
        cells = "".join(_cell(q.score, q.question.points) for q in s.questions)
        rows.append(f"<tr><td>{name}{flags}</td>{cells}<td class=\"n\"><b>{display_number(s.score):g}</b></td></tr>")
    graded = stats.graded
    means = [stats.mean(q.id) for q in QUESTIONS]
    head = "".join(f'<th title="{html.escape(q.worksheet)}">{html.escape(q.id)}</th>' for q in QUESTIONS)
    summary_rows = "".join(
        f"<tr><td>{html.escape(q.id)}</td><td>{html.escape(q.worksheet)}</td>"
        f'<td class="n">{stats.mean(q.id):.3g} / {display_number(q.points):g}</td>'
        f'<td class="n">{stats.share_full(q.id):.0%}</td>'
        f'<td class="n">{q.lost}</td><td class="n">{q.diagnosed}</td><td class="n">{q.grouped}</td>'
        f'<td class="n">{q.not_answered}</td><td class="n">{q.other}</td>'
        f"<td>{'; '.join(f'{count} {html.escape(summary)}' for summary, count in q.diagnoses.most_common(3))}</td></tr>"
        for q in stats.questions.values())
    groups = "".join(
        f"<li><code>{html.escape(question)}</code>: {len(students)} students gave the same wrong "
        f"answer, which no catalogue entry explains: {html.escape(', '.join(students))}</li>"
        for question, students in stats.uncatalogued())
    groups = (f"<h2>The same wrong answer, unexplained: candidates for the catalogue</h2><ul>{groups}</ul>"
              if groups else "")
    import statistics

    overview = (f"{stats.count} submissions, {graded} graded, {stats.count - graded} could not be graded"
                + (f"; mean {statistics.mean(stats.totals):.3g}, median "
                   f"{statistics.median(stats.totals):.3g} of {display_number(MAX_SCORE):g}" if graded else ""))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}: class report</title>
<style>{_STYLE}</style></head><body>
<h1>{html.escape(title)}: class report</h1>
<p>{overview}</p>
<div class="charts"><figure>{histogram_svg(stats.totals)}<figcaption>Totals</figcaption></figure>
<figure>{questions_svg(means)}<figcaption>Mean score per question</figcaption></figure></div>
<h2>Per question, and the most common mistakes</h2>
<table><tr><th>question</th><th>worksheet</th><th>mean</th><th>full marks</th><th>lost points</th>
<th>diagnosed</th><th>same wrong</th><th>not answered</th><th>other</th><th>most common mistakes (students)</th></tr>
{summary_rows}</table>
{groups}
<h2>Gradebook</h2>
<table><tr><th>student</th>{head}<th>total</th></tr>
{"".join(rows)}</table>
</body></html>
"""
