"""Pure: the one line of feedback a question gets, from its case results and what was found.

The order is that of a good teaching assistant: what is missing, then the mistake by name,
then a mistake carried forward from an earlier question, then an answer right only on the
worksheet's numbers, then the plain comparison.
"""

from __future__ import annotations

from grader import assignment
from grader.assignment import Question
from grader.catalogue import Mistake
from grader.results import CaseResult, Status


def _names(functions: tuple[str, ...]) -> str:
    parts = [f"{name} ({assignment.question(name).worksheet})" for name in functions]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def question_feedback(question: Question, cases: tuple[CaseResult, ...], *,
                      diagnosis: Mistake | None = None, near_miss: str | None = None,
                      series_class: bool = False, fragment: str | None = None) -> str:
    failing = [c for c in cases if c.status is not Status.PASSED]
    carried = tuple(dict.fromkeys(name for c in cases for name in c.carried_from))
    correct = f" ({len(cases) - len(failing)}/{len(cases)} cases correct)" if len(cases) > 1 else ""
    if not failing:
        if carried:
            verb = "is" if len(carried) == 1 else "are"
            return (f"right given your own {_names(carried)}, which {verb} wrong: credit carried "
                    f"forward here; fix {' and '.join(carried)}")
        return f"correct on all {len(cases)} cases" if len(cases) > 1 else "correct"
    first = failing[0]
    if first.status is Status.MISSING:
        if fragment:
            return (f"not defined: your `{fragment}` takes self, a method pasted outside its class; "
                    f"keep it in the Neural_Network class, or write the stub's {_signature(question)}")
        if near_miss:
            return f"not defined: found `{near_miss}`; rename it to `{question.id}`"
        if series_class:
            return (f"not defined: the Neural_Network class answers forward, sigmoid_prime, cost "
                    f"and cost_function_prime only; add the stub's {_signature(question)}")
        return f"not defined: write a function named {question.id}"
    if len(failing) == len(cases) and all(c.message.startswith("NotImplementedError") for c in failing):
        return "not answered yet: the function still raises NotImplementedError"
    if diagnosis is not None:
        return f"{diagnosis.explain}{correct}"
    if carried and all(c.carried_from for c in failing):
        verb = "is" if len(carried) == 1 else "are"
        return (f"wrong only because your {_names(carried)} {verb} wrong: right given them "
                f"(no credit carried forward in this grading){correct}")
    worksheet = [c for c in cases if c.worksheet]
    if worksheet and all(c.status is Status.PASSED for c in worksheet) and \
            all(c.status is Status.WRONG for c in failing):
        return ("correct on the worksheet's numbers only: is something hard-coded, or sized for "
                f"3 hidden units? {first.case_label}: {first.message}{correct}")
    if len(cases) == 1:  # a question asked once: no case to name, no tally to keep
        return first.message
    return f"{first.case_label}: {first.message}{correct}"


def _signature(question: Question) -> str:
    import inspect

    if question.constants:
        return " and ".join(question.constants)
    function = getattr(assignment.load_reference(), question.id)
    return f"{question.id}({', '.join(inspect.signature(function).parameters)})"


def near_miss(question: Question, defined: tuple[str, ...]) -> str | None:
    """A defined name that looks like a misspelling of the question's function."""
    import difflib

    contract = {name for q in assignment.QUESTIONS for name in q.names} | {"sigmoid"}
    candidates = [name for name in defined if name not in contract]

    def plain(name: str) -> str:
        return name.lower().replace("_", "")

    for wanted in question.names:
        for name in candidates:
            if plain(name) == plain(wanted):
                return name
    matches = difflib.get_close_matches(plain(question.id), [plain(c) for c in candidates],
                                        n=1, cutoff=0.85)
    if matches:
        return next(c for c in candidates if plain(c) == matches[0])
    return None
