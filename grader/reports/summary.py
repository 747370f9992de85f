"""The class summary, accumulated one submission at a time: what an instructor re-teaches.

Per question: the mean and the share at full marks, and every student who lost points there,
accounted for once: a catalogued mistake (diagnosed), the same wrong answer as a classmate that
no catalogue entry explains (grouped: the next entries for the catalogue), not answered, or
other. Pure: results in, numbers out; the renderers in `report` and `html_report` show it. The
summary does not depend on the order results are added in (a class graded in parallel adds them
as they finish): points are summed exactly, ties are ranked by name, groups list students by
name.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from grader.assignment import Assignment
from grader.results import SubmissionResult, display_number, printable


@dataclass
class QuestionStats:
    """One question across the class."""

    id: str
    points: float
    worksheet: str
    total_units: int = 0  # points in ten-thousandths (scores are rounded to 4 places): an exact sum
    full: int = 0
    lost: int = 0
    diagnosed: int = 0
    not_answered: int = 0
    diagnoses: Counter = field(default_factory=Counter)  # summary -> students
    diagnosis_ids: Counter = field(default_factory=Counter)  # catalogue id -> students
    answers: dict[str, list[str]] = field(default_factory=dict)  # wrong answer digest -> students

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


def _by_name(student: str) -> tuple[str, str]:
    """Students in the order a class is listed in (case aside, as `discovery` sorts them)."""
    return student.lower(), student


def ranked(counter: Counter, top: int | None = None) -> list[tuple[Any, int]]:
    """A counter's entries, most first, ties by key: the same whatever order they were counted in."""
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]


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

    def add(self, result: SubmissionResult) -> None:
        self.count += 1
        if result.error is not None:
            return
        self.totals.append(result.score)
        self.missing_packages.update(set(result.missing_packages))
        if result.could_not_run:
            for package in sorted(set(result.missing_packages)) or ["a module"]:
                self.could_not_run.setdefault(package, []).append(result.student)
        for graded in result.questions:
            stats = self.questions[graded.question.id]
            stats.total_units += round(graded.score * 10_000)
            if graded.score >= graded.question.points:
                stats.full += 1
                continue
            stats.lost += 1
            if graded.diagnosis is not None:
                stats.diagnosed += 1
                stats.diagnoses[graded.diagnosis.summary] += 1
                stats.diagnosis_ids[graded.diagnosis.id] += 1
            elif graded.unanswered:
                stats.not_answered += 1
            elif graded.answer_digest is not None:
                stats.answers.setdefault(graded.answer_digest, []).append(result.student)

    @property
    def graded(self) -> int:
        return len(self.totals)

    def mean(self, question_id: str) -> float:
        return self.questions[question_id].total_units / 10_000 / self.graded if self.graded else 0.0

    def share_full(self, question_id: str) -> float:
        return self.questions[question_id].full / self.graded if self.graded else 0.0

    def common_mistakes(self, per_question: int = 3) -> list[tuple[str, str, int]]:
        """(question id, mistake summary, students) for the most common diagnoses."""
        return [(stats.id, summary, count) for stats in self.questions.values()
                for summary, count in ranked(stats.diagnoses, per_question)]

    def uncatalogued(self) -> list[tuple[str, list[str]]]:
        """(question id, students) for each group of identical wrong answers nobody explains."""
        return [(stats.id, students) for stats in self.questions.values() for students in stats.groups()]

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
        }
