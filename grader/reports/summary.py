"""The class summary, accumulated one submission at a time: what an instructor re-teaches, how
each question behaved, and the answers shared too closely to look at.

Per question: the mean and the share at full marks, and every student who lost points there,
accounted for once, with the points they lost: a catalogued mistake (diagnosed, by name), the
same wrong answer as a classmate that no catalogue entry explains (grouped, with one worked
example: the next entries for the catalogue), not answered, or other (named too: an error
raised, time run out, a wrong answer no classmate gave...). A question worth 0 points (an
earlier part the assignment builds on: gradient checking's Part 4) counts a student who got it
wrong as not at full marks, so that a wrong earlier part is seen, not an invisible 0 of 0.

Item analysis: per question the mean, the share at full marks and the discrimination, the
corrected point-biserial correlation (Pearson's r of the question's item score, the share of its
cases passed, with the rest of the total: the total less that question's score), each with a
note where it separates nobody or is answered best by the weakest; per case, the pass rate.

Answers shared too closely: groups of students whose identical wrong answers (the same
`answer_digest`, to the digits shown) no other student gave and no catalogue entry explains,
on two questions or more, ranked by how unlikely the coincidence is (the product of each shared
answer's frequency in the class). Only the instructor's reports show them.

Pure: results in, numbers out; the renderers in `table` and `html` show it. The summary does not
depend on the order results are added in (a class graded in parallel adds them as they finish):
points are summed exactly, ties are ranked by name, groups list students by name, the item
analysis reads the students in the order of their names.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from grader.assignment import Assignment
from grader.results import CaseResult, QuestionResult, Status, SubmissionResult, display_number, printable

# Discrimination (item-rest r) below which a question is said to separate nobody, in magnitude;
# at or below its negative, a question is said to be answered best by the weakest.
WEAK_DISCRIMINATION = 0.2
# A case whose pass rate is this much below its question's best case's is pointed out.
HARD_CASE_GAP = 0.25
_EXAMPLE_CHARS = 240


def _units(points: float) -> int:
    """Points in ten-thousandths (scores are rounded to 4 places): exact sums."""
    return round(points * 10_000)


def _points(units: int) -> float | int:
    return display_number(units / 10_000)


@dataclass
class Loss:
    """One way a question's points were lost across the class: the students, the points, and
    for a wrong answer the worked example of each student (the same answer gives the same one)."""

    students: list[str] = field(default_factory=list)
    units: int = 0
    examples: dict[str, str] = field(default_factory=dict)

    def add(self, student: str, units: int, example: str = "") -> None:
        self.students.append(student)
        self.units += units
        if example:
            self.examples[student] = example

    @property
    def example(self) -> str:
        """The worked example of the student first by name: the same whatever the order."""
        return self.examples[min(self.examples, key=_by_name)] if self.examples else ""

    @property
    def names(self) -> list[str]:
        return sorted(self.students, key=_by_name)


@dataclass
class CaseStats:
    """One case of a question across the class."""

    id: str
    label: str
    worksheet: bool
    passed: int = 0
    seen: int = 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.seen if self.seen else 0.0


@dataclass
class QuestionStats:
    """One question across the class."""

    id: str
    points: float
    worksheet: str
    total_units: int = 0  # points in ten-thousandths (scores are rounded to 4 places): an exact sum
    full: int = 0
    lost: int = 0  # students not at full marks (on a question of 0 points: with a case wrong)
    lost_units: int = 0
    diagnosed: int = 0
    not_answered: int = 0
    diagnoses: Counter = field(default_factory=Counter)  # summary -> students
    diagnosis_ids: Counter = field(default_factory=Counter)  # catalogue id -> students
    mistakes: dict[str, Loss] = field(default_factory=dict)  # catalogue id -> its loss
    summaries: dict[str, str] = field(default_factory=dict)  # catalogue id -> its summary
    answers: dict[str, list[str]] = field(default_factory=dict)  # wrong answer digest -> students
    answer_losses: dict[str, Loss] = field(default_factory=dict)  # wrong answer digest -> its loss
    unanswered_loss: Loss = field(default_factory=Loss)
    reasons: dict[str, Loss] = field(default_factory=dict)  # what else went wrong -> its loss
    cases: dict[str, CaseStats] = field(default_factory=dict)

    def groups(self) -> list[list[str]]:
        """Students who gave the same wrong answer that no catalogue entry explains, largest
        group first."""
        return sorted((sorted(students, key=_by_name) for students in self.answers.values() if len(students) > 1),
                      key=lambda students: (-len(students), [_by_name(s) for s in students]))

    @property
    def grouped(self) -> int:
        return sum(len(students) for students in self.groups())

    @property
    def other(self) -> int:
        return self.lost - self.diagnosed - self.grouped - self.not_answered

    def losses(self) -> list[dict[str, Any]]:
        """Every way the question's points were lost, most points first (then most students,
        then by name): each catalogued mistake, each group of one uncatalogued wrong answer
        (with its worked example), not answered, and the rest, each named."""
        found: list[dict[str, Any]] = []
        for mistake_id, loss in self.mistakes.items():
            found.append({"kind": "catalogued", "what": self.summaries[mistake_id], "id": mistake_id,
                          "loss": loss})
        lone = Loss()
        for loss in self.answer_losses.values():
            if len(loss.students) > 1:
                found.append({"kind": "same wrong answer", "what": "the same wrong answer, which no catalogue "
                              "entry explains", "loss": loss, "example": loss.example})
            else:
                for student in loss.students:
                    lone.add(student, loss.units)
        if lone.students:
            found.append({"kind": "other", "what": "a wrong answer of their own, no classmate's", "loss": lone})
        if self.unanswered_loss.students:
            found.append({"kind": "not answered", "what": "not answered", "loss": self.unanswered_loss})
        found += [{"kind": "other", "what": reason, "loss": loss} for reason, loss in self.reasons.items()]
        return sorted(found, key=lambda item: (-item["loss"].units, -len(item["loss"].students),
                                               item["kind"], item["what"], [_by_name(s) for s in item["loss"].names]))


def _by_name(student: str) -> tuple[str, str]:
    """Students in the order a class is listed in (case aside, as `discovery` sorts them)."""
    return student.lower(), student


def ranked(counter: Counter, top: int | None = None) -> list[tuple[Any, int]]:
    """A counter's entries, most first, ties by key: the same whatever order they were counted in."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]


def _not_full(graded: QuestionResult) -> bool:
    """Points lost, or on a question of 0 points, a case not passed."""
    if graded.question.points:
        return graded.score < graded.question.points
    return graded.passed_cases < len(graded.cases)


def _reason(graded: QuestionResult) -> str:
    """What went wrong on a question no catalogue entry, no group and no blank explains."""
    failing = [c for c in graded.cases if c.status is not Status.PASSED]
    if any(c.could_not_run for c in failing):
        return "could not run here, for want of a module"
    if any(c.status is Status.TIMEOUT for c in failing):
        return "ran out of time"
    errors = sorted({_error(c) for c in failing if c.status is Status.RAISED})
    if errors:
        return f"raised {', '.join(errors)}"
    if any(c.status is Status.MISSING for c in failing):
        return "not there when graded"
    if any(c.carried_from for c in failing):
        return "wrong given their own wrong earlier function, with nothing of its own to credit"
    return "wrong"


def _error(case: CaseResult) -> str:
    """The type of the exception a case raised (kept in the result, never read from its words)."""
    return printable(case.error) if case.error else "an error"


def worked_example(graded: QuestionResult) -> str:
    """What a wrong answer computed, on which case, against which shape: the first failing
    case's message, with its case."""
    for case in graded.cases:
        if case.status is not Status.PASSED:
            text = printable(case.message)
            if len(text) > _EXAMPLE_CHARS:
                text = text[:_EXAMPLE_CHARS - 3] + "..."
            return f"on {printable(case.case_label)}: {text}" if text else ""
    return ""


def _harder(easiest: CaseStats, case: CaseStats) -> bool:
    """A case much harder than its question's easiest: a pass rate lower by HARD_CASE_GAP or
    more, and by two students at least (one student is no pattern)."""
    return easiest.pass_rate - case.pass_rate >= HARD_CASE_GAP and easiest.passed - case.passed >= 2


def discrimination(items: list[float], rests: list[float]) -> float | None:
    """Pearson's r of the item scores with the rest of the totals; None where either is the
    same for every student (nothing to correlate) or there are fewer than three."""
    if len(items) < 3 or len(set(items)) < 2 or len(set(rests)) < 2:
        return None
    return statistics.correlation(items, rests)


def discrimination_note(r: float | None, items: list[float]) -> str:
    if not items:
        return ""
    if len(set(items)) < 2:
        return "separates nobody: every student scored the same on it"
    if r is None:
        return "separates nobody: too few students, or the rest of the totals all the same"
    if r <= -WEAK_DISCRIMINATION:
        return "answered best by the weakest students (negative discrimination): look at the question or its cases"
    if abs(r) < WEAK_DISCRIMINATION:
        return f"separates almost nobody (|r| < {WEAK_DISCRIMINATION:g})"
    return ""


class ClassStats:
    """The class summary, accumulated one submission at a time."""

    def __init__(self, assignment: Assignment) -> None:
        self.max_score = assignment.max_score
        self.count = 0
        self.totals: list[float] = []  # one number per graded submission: the median needs them
        self.questions = {q.id: QuestionStats(q.id, q.points, q.worksheet) for q in assignment.questions}
        self.missing_packages: Counter = Counter()  # package -> students importing it
        # package -> the students who lost points to code that could not run for want of it
        self.could_not_run: dict[str, list[str]] = {}
        # student -> their total and each question's (item score: share of cases passed, score):
        # the item analysis
        self.items: dict[str, tuple[float, dict[str, tuple[float, float]]]] = {}
        self._seen: Counter = Counter()  # a name graded twice is kept apart in the item analysis

    def add(self, result: SubmissionResult) -> None:
        self.count += 1
        if result.error is not None:
            return
        self.totals.append(result.score)
        key = result.student if not self._seen[result.student] else f"{result.student}#{self._seen[result.student]}"
        self._seen[result.student] += 1
        self.items[key] = (result.score, {
            q.question.id: (q.passed_cases / len(q.cases) if q.cases else 0.0, q.score) for q in result.questions})
        self.missing_packages.update(set(result.missing_packages))
        if result.could_not_run:
            for package in sorted(set(result.missing_packages)) or ["a module"]:
                self.could_not_run.setdefault(package, []).append(result.student)
        for graded in result.questions:
            self._add_question(result.student, graded)

    def _add_question(self, student: str, graded: QuestionResult) -> None:
        stats = self.questions[graded.question.id]
        stats.total_units += _units(graded.score)
        for case in graded.cases:
            seen = stats.cases.setdefault(case.case_id, CaseStats(case.case_id, case.case_label, case.worksheet))
            seen.seen += 1
            seen.passed += case.status is Status.PASSED
        if not _not_full(graded):
            stats.full += 1
            return
        lost = _units(graded.question.points - graded.score)
        stats.lost += 1
        stats.lost_units += lost
        if graded.diagnosis is not None:
            stats.diagnosed += 1
            stats.diagnoses[graded.diagnosis.summary] += 1
            stats.diagnosis_ids[graded.diagnosis.id] += 1
            stats.summaries[graded.diagnosis.id] = graded.diagnosis.summary
            stats.mistakes.setdefault(graded.diagnosis.id, Loss()).add(student, lost)
        elif graded.unanswered:
            stats.not_answered += 1
            stats.unanswered_loss.add(student, lost)
        elif graded.answer_digest is not None:
            stats.answers.setdefault(graded.answer_digest, []).append(student)
            stats.answer_losses.setdefault(graded.answer_digest, Loss()).add(student, lost, worked_example(graded))
        else:
            stats.reasons.setdefault(_reason(graded), Loss()).add(student, lost)

    @property
    def graded(self) -> int:
        return len(self.totals)

    def mean(self, question_id: str) -> float:
        return self.questions[question_id].total_units / 10_000 / self.graded if self.graded else 0.0

    def share_full(self, question_id: str) -> float:
        return self.questions[question_id].full / self.graded if self.graded else 0.0

    def uncatalogued(self) -> list[tuple[str, list[str]]]:
        """(question id, students) for each group of identical wrong answers nobody explains."""
        return [(stats.id, students) for stats in self.questions.values() for students in stats.groups()]

    # What to re-teach

    def reteach(self) -> list[QuestionStats]:
        """The questions where points were lost, most points lost across the class first (ties
        in the assignment's order)."""
        order = {question_id: index for index, question_id in enumerate(self.questions)}
        return sorted((q for q in self.questions.values() if q.lost_units),
                      key=lambda q: (-q.lost_units, order[q.id]))

    def unscored_wrong(self) -> list[QuestionStats]:
        """Questions of 0 points (an earlier part the assignment builds on) some student got wrong."""
        return [q for q in self.questions.values() if not q.points and q.lost]

    # Item analysis

    def item_analysis(self) -> list[dict[str, Any]]:
        """Per question: the mean, the share at full marks, the discrimination (item-rest r)
        and a note; per case, its pass rate, and a note where it is much harder than the
        question's easiest case."""
        students = sorted(self.items, key=_by_name)
        rows = []
        for q in self.questions.values():
            answered = [s for s in students if q.id in self.items[s][1]]
            items = [self.items[s][1][q.id][0] for s in answered]
            rests = [self.items[s][0] - self.items[s][1][q.id][1] for s in answered]
            r = discrimination(items, rests)
            easiest = max(q.cases.values(), key=lambda c: c.pass_rate, default=None)
            best = easiest.pass_rate if easiest else 0.0
            rows.append({
                "id": q.id, "worksheet": q.worksheet, "points": display_number(q.points),
                "graded": len(answered), "mean": round(self.mean(q.id), 4),
                "full_marks": round(self.share_full(q.id), 4),
                "discrimination": None if r is None else round(r, 2),
                "note": discrimination_note(r, items),
                "cases": [{"case": c.id, "label": c.label, "worksheet": c.worksheet, "passed": c.passed,
                           "graded": c.seen, "pass_rate": round(c.pass_rate, 4),
                           "note": (f"much harder than the question's easiest case ({best:.0%} passed)"
                                    if easiest and _harder(easiest, c) else "")}
                          for c in q.cases.values()],
            })
        return rows

    # Answers shared too closely

    def shared_answers(self) -> list[dict[str, Any]]:
        """Groups of students whose identical wrong answers, which no other student gave and no
        catalogue entry explains, are on two questions or more; the least likely first (the
        product of each shared answer's frequency in the class, smallest first)."""
        together: dict[tuple[str, ...], list[str]] = {}
        for q in self.questions.values():
            for students in q.answers.values():
                if len(students) > 1:
                    together.setdefault(tuple(sorted(set(students), key=_by_name)), []).append(q.id)
        found = []
        for group, questions in together.items():
            if len(questions) < 2 or len(group) < 2:
                continue
            frequency = (len(group) / self.graded) ** len(questions)
            found.append({"students": list(group), "questions": questions, "likelihood": frequency})
        return sorted(found, key=lambda g: (g["likelihood"], [_by_name(s) for s in g["students"]]))

    def to_dict(self) -> dict[str, Any]:
        """The class summary object of the JSON report."""
        return {
            "submissions": self.count,
            "graded": self.graded,
            "not_graded": self.count - self.graded,
            "mean": round(statistics.mean(self.totals), 4) if self.totals else None,
            "median": round(statistics.median(self.totals), 4) if self.totals else None,
            "max_score": display_number(self.max_score),
            "missing_packages": dict(ranked(self.missing_packages)),
            "could_not_run": {package: sorted(printable(name) for name in students)
                              for package, students in sorted(self.could_not_run.items())},
            "questions": [{
                "id": s.id, "worksheet": s.worksheet, "mean": round(self.mean(s.id), 4),
                "full_marks": s.full, "lost_points": s.lost, "diagnosed": s.diagnosed,
                "grouped": s.grouped, "not_answered": s.not_answered, "other": s.other,
                "diagnoses": dict(ranked(s.diagnosis_ids)),
                "uncatalogued_groups": [{"students": [printable(name) for name in students], "count": len(students)}
                                        for students in s.groups()],
            } for s in self.questions.values()],
            "reteach": [{
                "question": q.id, "worksheet": q.worksheet, "points_lost": _points(q.lost_units),
                "students": q.lost,
                "losses": [{"kind": item["kind"], "what": item["what"],
                            **({"id": item["id"]} if "id" in item else {}),
                            "points_lost": _points(item["loss"].units), "count": len(item["loss"].students),
                            "students": [printable(s) for s in item["loss"].names],
                            **({"example": item["example"]} if "example" in item else {})}
                           for item in q.losses()],
            } for q in self.reteach()],
            "unscored_wrong": [{"question": q.id, "worksheet": q.worksheet,
                                "students": [printable(s) for s in _names(q)]}
                               for q in self.unscored_wrong()],
            "item_analysis": {
                "discrimination": "corrected point-biserial: Pearson's r of the question's item score (the "
                                  "share of its cases passed) with the rest of the total (the total less the "
                                  "question's score)",
                "questions": self.item_analysis(),
            },
            "shared_answers": {
                "about": "wrong answers identical to the digits shown, no other student's and no catalogued "
                         "mistake's, shared on two questions or more: something to look at, not a finding",
                "groups": [{"students": [printable(s) for s in g["students"]], "questions": g["questions"],
                            "likelihood": _likelihood(g["likelihood"])} for g in self.shared_answers()],
            },
        }


def _names(q: QuestionStats) -> list[str]:
    """The students not at full marks on a question, by name."""
    losses = [*q.mistakes.values(), *q.answer_losses.values(), q.unanswered_loss, *q.reasons.values()]
    return sorted((s for loss in losses for s in loss.students), key=_by_name)


def _likelihood(value: float) -> float:
    """A small number to 3 significant digits."""
    return float(f"{value:.3g}") if value > 0 and math.isfinite(value) else value
