"""Pure: the one line of feedback a question gets, from its case results and what was found.

The order is that of a good teaching assistant: what is missing, then the mistake by name,
then a mistake carried forward from an earlier question (naming the first wrong function in the
chain), then an answer right only on the worksheet's numbers, then the plain comparison; then
what is worth knowing even when it is right (parameters in another order, float32).
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.assignment import Assignment, Question
from grader.judge import wording
from grader.judge.absence import Absence, Reason
from grader.judge.catalogue import Mistake
from grader.judge.verdict import SizedFor
from grader.results import CaseResult, Status


def _names(assignment: Assignment, functions: tuple[str, ...]) -> str:
    parts = [f"{name} ({assignment.question(name).worksheet})" for name in functions]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _verb(functions: tuple[str, ...]) -> str:
    return "is" if len(functions) == 1 else "are"


@dataclass(frozen=True)
class Findings:
    """What was found about a question's answer besides its cases' verdicts."""

    diagnosis: Mistake | None = None  # the catalogued mistake the answers match
    near_miss: str | None = None  # a defined name that is the missing function under another name
    series_class: bool = False  # the series' class is defined: it answers some questions
    fragment: str | None = None  # the missing function, pasted outside its class (it takes self)
    reordered: tuple[str, ...] | None = None  # the stub's parameters, in the student's order
    sized_for: SizedFor | None = None  # right only where a size is the worksheet's (see verdict.sized_for)
    published_only: bool = False  # right only where the answers are published (see verdict.published_only)
    absent: Absence | None = None  # why the function the student wrote is not there when graded
    # The other graded functions top-level code replaced, which a call of this one may have met.
    replaced: tuple[Absence, ...] = ()


def question_feedback(assignment: Assignment, question: Question, cases: tuple[CaseResult, ...],
                      found: Findings) -> str:
    """The question's line: its main sentence (see the module's order), then what is worth
    knowing besides."""
    text = _main_line(assignment, question, cases, found)
    if found.replaced and any(c.status is Status.RAISED and c.error == "TypeError" for c in cases):
        text += _replaced(found.replaced)
    if found.reordered and cases[0].status is not Status.MISSING:
        stub = _parameters(assignment, question)
        text += (f". Your parameters ({', '.join(found.reordered)}) are the stub's in another order "
                 f"({', '.join(stub)}): graded by name, but keep the stub's order")
    if any(c.precision for c in cases) and all(c.status is Status.PASSED for c in cases):
        kind = next(c.precision for c in cases if c.precision)
        text += f". Computed in {kind}: right to {kind}'s precision"
    return text


def _replaced(replaced: tuple[Absence, ...]) -> str:
    """A call that raised a TypeError ("'numpy.ndarray' object is not callable") where
    top-level code replaced graded functions with values: probably it called one of them."""
    names = [r.name for r in replaced]
    places = " and ".join(dict.fromkeys(r.at for r in replaced))
    return f". Probably because {places} replaced your {_listed(names)} (see {_them(names)})"


def _listed(names: list[str] | tuple[str, ...]) -> str:
    """The names in words: a; a and b; a, b and c."""
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _them(names: list[str] | tuple[str, ...]) -> str:
    return "it" if len(names) == 1 else "them"


def _absent(absent: Absence) -> str:
    """Why a function the student wrote is not there, and what to do."""
    name, defined = absent.name, absent.defined_at
    if absent.reason == Reason.DELETED:
        return (f"not defined when graded: {absent.at} deletes your {name}, defined at {defined} "
                f"(`{absent.statement}`); remove that line")
    if absent.reason == Reason.REPLACED:
        return (f"not a function when graded: {absent.at} assigns to {name} (`{absent.statement}`) after your "
                f"function's definition at {defined}; give that variable another name")
    lead = f"not defined when graded: your {name} at {defined}"
    if absent.reason == Reason.NOT_REACHED:  # a failure: raised, ran out of time, ended the process
        why = "Python stops a file" if absent.unit == "file" else "a cell stops"
        return (f"{lead} was never reached: the {absent.unit} stopped at {absent.at} ({absent.detail}), "
                f"as {why} at its first error; fix that line")
    if absent.reason == Reason.GUARDED:  # in Jupyter __name__ is "__main__": the block runs there
        runs = "runs in Jupyter but not when the grader runs your notebook" if absent.unit == "cell" \
            else "does not run when the grader imports your file"
        return f"{lead} is inside `{absent.statement}` ({absent.at}), which {runs}; move it above that block"
    if absent.reason == Reason.NESTED:
        return (f"{lead} is inside your function {absent.detail} ({absent.at}), so it exists only while "
                f"{absent.detail} runs; move it to the top level")
    if absent.reason == Reason.METHOD:
        return (f"{lead} is a method of your class {absent.detail} ({absent.at}); the grader calls a plain "
                f"function: define {name} at the top level too")
    problem = f" ({absent.detail}, at {absent.at})" if absent.detail else ""
    return f"{lead} is in a cell Python can't compile{problem}, so none of that cell ran; fix the error"


def _main_line(assignment: Assignment, question: Question, cases: tuple[CaseResult, ...], found: Findings) -> str:
    failing = [c for c in cases if c.status is not Status.PASSED]
    if not failing:
        return _right(assignment, cases)
    # The case that failed on its own, not one skipped because an earlier case failed.
    first = next((c for c in failing if not c.skipped), failing[0])
    if first.status is Status.MISSING:
        return _missing(assignment, question, found)
    return _wrong(assignment, cases, failing, first, found)


def _right(assignment: Assignment, cases: tuple[CaseResult, ...]) -> str:
    """Every case passed: on its own, or given the student's own wrong earlier functions."""
    carried = _carried(cases)
    unavailable = _carried(tuple(c for c in cases if c.carried_kind == "could not run"))
    if unavailable and unavailable == carried:
        return (f"could not run here only because your {_names(assignment, carried)} could not, for a module "
                f"missing where this is graded (said there); nothing wrong found here: credit carried forward")
    matrix = _carried(tuple(c for c in cases if c.carried_kind == "matrix"))
    if matrix and matrix == carried:
        return (f"fails only because your {_names(assignment, carried)} {'returns' if len(carried) == 1 else 'return'} "
                f"an np.matrix, on which `*` and `**` mean other things. Right given arrays: credit carried "
                f"forward here; fix {' and '.join(carried)}")
    crash = next((c for c in cases if c.carried_kind in ("crash", "could not run", "matrix")), None)
    if crash is not None:
        return (f"fails only because your {_names(assignment, carried)} {_verb(carried)} wrong: on "
                f"{crash.case_label}, what {'it' if len(carried) == 1 else 'they'} gave breaks "
                f"the rest. Right given {_them(carried)}: credit carried forward here; fix {' and '.join(carried)}")
    if carried:
        return (f"right given your own {_names(assignment, carried)}, which {_verb(carried)} wrong: credit carried "
                f"forward here; fix {' and '.join(carried)}")
    return wording.right(len(cases))


def _missing(assignment: Assignment, question: Question, found: Findings) -> str:
    """The function is not there: why, when that is known, else what to write."""
    if found.absent is not None:  # written, but not there when graded
        return _absent(found.absent)
    if found.fragment:
        return (f"not defined: your `{found.fragment}` takes self, a method pasted outside its class; "
                f"keep it in the {_class_name(assignment)} class, or write the stub's "
                f"{_signature(assignment, question)}")
    if found.near_miss:
        return f"not defined: found `{found.near_miss}`; rename it to `{question.id}`"
    if found.series_class and assignment.series is not None:
        return (f"not defined: the {assignment.series.class_name} class answers "
                f"{_listed(assignment.series.questions)} only; add the stub's {_signature(assignment, question)}")
    if question.constants:
        return f"not defined: set {' and '.join(question.constants)}"
    return f"not defined: write a function named {question.id}"


def _wrong(assignment: Assignment, cases: tuple[CaseResult, ...], failing: list[CaseResult],
           first: CaseResult, found: Findings) -> str:
    """Some case is wrong or failed: the mistake by name, one carried forward, an answer
    sized for one of the worksheet's sizes, else what `first` shows."""
    passed, total = len(cases) - len(failing), len(cases)
    correct = wording.tally(passed, total)
    if len(failing) == len(cases) and all(c.error == "NotImplementedError" for c in failing):
        return wording.NOT_ANSWERED
    if found.diagnosis is not None:
        return wording.diagnosed(found.diagnosis.explain, passed, total)
    if all(c.could_not_run for c in failing):
        return (f"could not run here, which says nothing of your maths: {first.message}. Once it is "
                f"installed where grading runs, grading again is all it takes{correct}")
    trivial = _carried(tuple(c for c in failing if c.carried_kind == "trivial"))
    if trivial:
        return (f"right given your own {_names(assignment, trivial)}, but {'its' if len(trivial) == 1 else 'their'} "
                f"error leaves this answer constant where the right one is not: no credit carried "
                f"forward; fix {' and '.join(trivial)} first{correct}")
    carried = _carried(cases)
    if carried and all(c.carried_from for c in failing):
        return (f"wrong only because your {_names(assignment, carried)} {_verb(carried)} wrong: right given "
                f"{_them(carried)} (no credit carried forward in this grading){correct}")
    if found.published_only:
        own = next((c for c in failing if not c.worksheet), first)
        sized = found.sized_for
        size = f", as if sized for {sized} (wrong with {sized.others()})" if sized is not None else ""
        return (f"right only on the worksheet's own cases, whose answers are published, and on no other, where it "
                f"answers as a table of them would{size}: no points for it, and your instructor sees it. "
                f"{own.case_label}: {own.message}{correct}")
    if found.sized_for is not None:
        sized = found.sized_for
        return (f"right only with {sized}, as on the worksheet, and wrong with {sized.others()}: is "
                f"something sized for {sized} (a number written where a shape belongs)? "
                f"{first.case_label}: {first.message}{correct}")
    return wording.first_wrong(first.case_label, first.message, passed, total)


def _carried(cases: tuple[CaseResult, ...]) -> tuple[str, ...]:
    """The student's wrong functions the cases' answers were built on, each once, in order."""
    return tuple(dict.fromkeys(name for c in cases for name in c.carried_from))


def _class_name(assignment: Assignment) -> str:
    return assignment.series.class_name if assignment.series is not None else "series'"


def _parameters(assignment: Assignment, question: Question) -> tuple[str, ...]:
    import inspect

    return tuple(inspect.signature(getattr(assignment.reference, question.id)).parameters)


def _signature(assignment: Assignment, question: Question) -> str:
    if question.constants:
        return " and ".join(question.constants)
    return f"{question.id}({', '.join(_parameters(assignment, question))})"


def _plain(name: str) -> str:
    return name.lower().replace("_", "")


def near_miss(assignment: Assignment, question: Question, defined: tuple[str, ...]) -> str | None:
    """A defined name that is the question's function under another name: a misspelling, or
    a name that means the same (`sigmoid_derivative` for `sigmoid_prime`)."""
    import difflib

    given = {name for name, value in vars(assignment.reference).items() if callable(value) and not name.startswith("_")}
    contract = {name for q in assignment.questions for name in q.names} | (given - {q.id for q in assignment.questions})
    candidates = [name for name in defined if name not in contract]
    for wanted in (*question.names, *question.synonyms):
        for name in candidates:
            if _plain(name) == _plain(wanted):
                return name
    matches = difflib.get_close_matches(_plain(question.id), [_plain(c) for c in candidates],
                                        n=1, cutoff=0.85)
    if matches:
        return next(c for c in candidates if _plain(c) == matches[0])
    return None
