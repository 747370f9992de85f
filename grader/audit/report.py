"""`grade audit`'s report: an `Audit` as text for the instructor, or as a JSON document."""

from __future__ import annotations

from typing import Any

from grader.audit import KILLED, NOT_GRADED, SET_ASIDE, SURVIVED, Audit, Outcome, by_question


def _seeds(seeds: tuple[int, ...]) -> str:
    if not seeds:
        return "no more seeds"
    if list(seeds) == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 1:
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seed" + "s" * (len(seeds) > 1) + " " + ", ".join(map(str, seeds))


def _variant(outcome: Outcome) -> str:
    mutant = outcome.mutant
    return f"{mutant.change} ({mutant.operator})"


def text(audit: Audit) -> str:
    """The report an instructor reads: per question, the variants killed, survived and set
    aside; each survivor's changed line and a case that would catch it; the set-aside ones; then
    the catalogue, and the verdict."""
    assignment = audit.assignment
    sampled = f" (one in {audit.every} of each function's by each kind of change)" if audit.every > 1 else ""
    lines = [f"Audit of {assignment.title} ({assignment.folder}): {len(audit.outcomes)} one-change variants "
             f"of the model answer{sampled}, graded on the cases of seed {audit.seed} as hand-ins are; "
             f"those that agree with the model answer on them and on {_seeds(audit.extra_seeds)} "
             f"set aside as equivalent.", ""]
    rows: list[tuple[str, ...]] = [("question", "worksheet", "variants", KILLED, SURVIVED, SET_ASIDE)]
    totals = [0, 0, 0, 0]
    for question, verdicts in by_question(audit):
        counts = [sum(len(v) for v in verdicts.values()), len(verdicts[KILLED]), len(verdicts[SURVIVED]),
                  len(verdicts[SET_ASIDE])]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        rows.append((question.id, question.worksheet, *map(str, counts)))
    rows.append(("total", "", *map(str, totals)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
    lines.append("")

    survivors = audit.survivors
    lines.append(f"Survived (full marks though wrong): {len(survivors) or 'none'}")
    for outcome in survivors:
        catch = f"a case that catches it: {outcome.catch}" if outcome.catch else \
            "no seeded case of the extra seeds tells it apart"
        lines.append(f"  {outcome.mutant.function}: {_variant(outcome)}")
        lines.append(f"      {catch}")
    not_graded = [o for o in audit.outcomes if o.verdict == NOT_GRADED]
    if not_graded:
        lines.append(f"Not graded (the grader could not grade them): {len(not_graded)}")
        lines += [f"  {o.mutant.function}: {_variant(o)}: {o.error}" for o in not_graded]
    aside = [o for o in audit.outcomes if o.verdict == SET_ASIDE]
    lines.append(f"Set aside (equivalent: no case the seeded cases' generator makes tells them apart; one that "
                 f"is a mistake is one the generator can never catch): {len(aside) or 'none'}")
    lines += [f"  {o.mutant.function}: {_variant(o)}" for o in aside]
    lines.append("")

    wrong = [e for e in audit.entries if not e.ok]
    lines.append(f"Catalogue: {len(audit.entries)} entr{'y' if len(audit.entries) == 1 else 'ies'}, each applied "
                 f"as a student's answer: "
                 + ("each diagnosed as itself, and as nothing else." if not wrong else
                    f"{len(wrong)} not diagnosed as itself alone:"))
    lines += [f"  {e.id} ({e.question}): {e.problem}" for e in wrong]
    lines.append(f"The model answer: {audit.model or 'full marks, no diagnosis.'}")
    lines.append("")
    lines.append(_verdict(audit))
    return "\n".join(lines) + "\n"


def _verdict(audit: Audit) -> str:
    if audit.passed:
        return "Passed: no variant survived, and every catalogue entry is diagnosed as itself."
    problems = []
    if audit.survivors:
        problems.append(f"{len(audit.survivors)} variant{'s' * (len(audit.survivors) != 1)} survived")
    not_graded = sum(o.verdict == NOT_GRADED for o in audit.outcomes)
    if not_graded:
        problems.append(f"{not_graded} could not be graded")
    wrong = sum(not e.ok for e in audit.entries)
    if wrong:
        problems.append(f"{wrong} catalogue entr{'y is' if wrong == 1 else 'ies are'} not diagnosed as "
                        f"{'itself' if wrong == 1 else 'themselves'} alone")
    if audit.model:
        problems.append("the model answer is not graded full marks with no diagnosis")
    return "Not passed: " + "; ".join(problems) + "."


def document(audit: Audit) -> dict[str, Any]:
    """The report as a JSON document: every variant with its verdict, every entry checked."""
    assignment = audit.assignment
    questions = []
    for question, verdicts in by_question(audit):
        questions.append({"id": question.id, "worksheet": question.worksheet,
                          "variants": sum(len(v) for v in verdicts.values()),
                          **{verdict.replace(" ", "_"): len(found) for verdict, found in verdicts.items()}})
    return {
        "assignment": assignment.name,
        "title": assignment.title,
        "folder": str(assignment.folder),
        "seed": audit.seed,
        "extra_seeds": list(audit.extra_seeds),
        "every": audit.every,
        "passed": audit.passed,
        "questions": questions,
        "variants": [{
            "question": o.mutant.function, "operator": o.mutant.operator, "line": o.mutant.line,
            "before": o.mutant.before, "after": o.mutant.after, "verdict": o.verdict,
            "lost": list(o.lost),
            "catch": None if o.catch is None else {"question": o.catch.question, "seed": o.catch.seed,
                                                   "case": o.catch.case},
            **({"error": o.error} if o.error else {}),
        } for o in audit.outcomes],
        "catalogue": [{"id": e.id, "question": e.question, "ok": e.ok, "problem": e.problem,
                       "diagnosed": [{"question": q, "id": i} for q, i in e.diagnosed]} for e in audit.entries],
        "model_answer": {"ok": not audit.model, "problem": audit.model},
        "seconds": {k: round(v, 2) for k, v in audit.seconds.items()},
    }
