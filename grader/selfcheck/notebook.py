"""`check()`: a student grades the functions of their running notebook against the same cases.

    from grader import check
    check("dJdW2")   # one function
    check("Q6")      # the functions that answer a worksheet question
    check()          # all of them

It runs in the student's own process, for speed and convenience: it is a self-check, not a
grade. The grade is the sandboxed one (`grade`), which never trusts the student's process.
"""

from __future__ import annotations

import sys
import traceback
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from grader import sandbox
from grader.assignment import DEFAULT, Assignment, installed, load
from grader.grading import Options, Runner, grade_submission
from grader.intake.loading import Submission
from grader.results import SubmissionResult
from grader.sandbox import Tracer, own_cost_values, reordered_names, series_adapter
from grader.sandbox import plain_name as _plain_name
from grader.sandbox.child.protocol import OWN_COST
from grader.selfcheck import handout_runtime as runtime


def _plain(value: Any) -> Any:
    """A returned value as the sandbox would deliver it: numbers, lists, float arrays (the
    student check file's own reading, so that both self-checks read answers alike)."""
    return runtime.plain(value, unsupported=sandbox.Unsupported)


def _traced(nodes: list) -> tuple[sandbox.Traced, ...]:
    """The tracer's records, already plain values here, as the grader reads them."""
    return tuple(sandbox.Traced(node["f"], None if node.get("args") is None else tuple(node["args"]),
                                "raised" if "raised" in node else "returned", node.get("value"),
                                _traced(node.get("calls", [])), node.get("raised"))
                 for node in nodes)


def in_process(namespace: dict[str, Any]) -> Runner:
    """A runner answering the grader's calls with the namespace's functions, in this process.
    While it runs, the graded functions of the namespace are traced as in the sandbox (so that
    credit is carried forward the same way); they are put back afterwards."""
    def run(cells: list[sandbox.Cell], calls: list[sandbox.Call], limits: sandbox.Limits,
            confinement: sandbox.Confinement, modules: tuple[sandbox.Module, ...],
            contract: sandbox.Contract) -> sandbox.RunResult:
        answering = _Answering(namespace, contract, limits)
        try:
            outcomes = {call.key: answering.answer(call) for call in calls}
        finally:
            namespace.update(answering.originals)
        defined = tuple(sorted(k for k, v in namespace.items() if callable(v) and not k.startswith("_")))
        return sandbox.RunResult(outcomes, (), defined, "", 0)

    return run


class _Answering:
    """One run's answers from a namespace: its graded functions traced (the originals kept to
    be put back), the series' class asked where it answers a question."""

    def __init__(self, namespace: dict[str, Any], contract: sandbox.Contract, limits: sandbox.Limits) -> None:
        self.namespace = namespace
        self.params = dict(contract.params)
        self.own_cost = contract.own_cost_spec  # how J of the student's own functions is made
        self.one_number = (contract.one_number, frozenset(contract.one_number_inside))
        self.tracer = Tracer(lambda value, budget: _plain(value), self.params, limits.max_answer_bytes)
        self.series = series_adapter({"class": contract.series_class, "questions": contract.series_questions,
                                      "adapter": contract.series_adapter}, namespace, self.tracer.wrap)
        self.originals = {name: namespace[name] for name, _ in contract.graded
                          if isinstance(namespace.get(name), types.FunctionType)}
        namespace.update({name: self.tracer.wrap(question, self.originals[name])
                          for name, question in contract.graded if name in self.originals})

    def answer(self, call: sandbox.Call) -> sandbox.CallOutcome:
        if call.group == OWN_COST:
            return self._own_cost(call)
        if call.read:
            return self._read(call)
        function, via = self._function(call)
        if function is None:
            return sandbox.CallOutcome("missing", message="not defined")
        return self._call(call, function, via)

    def _own_cost(self, call: sandbox.Call) -> sandbox.CallOutcome:
        """J around the weights, for where a wrong gradient goes wrong."""
        functions = [self.originals.get(n, self.namespace.get(n)) for n in call.names]
        if not all(callable(f) for f in functions):
            return sandbox.CallOutcome("missing", message="not defined")
        try:
            values = own_cost_values(self.own_cost, dict(zip(call.names, functions, strict=True)), call.args)
            return sandbox.CallOutcome("returned", value=np.array(values))
        except Exception as exc:
            return sandbox.CallOutcome("raised", message=f"{type(exc).__name__}: {exc}", error=type(exc).__name__)

    def _read(self, call: sandbox.Call) -> sandbox.CallOutcome:
        """A question answered by constants: their values."""
        if any(n not in self.namespace for n in call.names):
            return sandbox.CallOutcome("missing", message="not defined")
        return sandbox.CallOutcome("returned", value=_plain([self.namespace[n] for n in call.names]))

    def _function(self, call: sandbox.Call) -> tuple[Callable[..., Any] | None, str | None]:
        """The student's function for the call (the original, not its traced stand-in), else
        the series' class's answer to the question ("class"), else None."""
        function = next((self.originals.get(n, self.namespace[n]) for n in call.names
                         if callable(self.namespace.get(n))), None)
        if function is not None:
            return function, None
        adapter = self.series(call.group) if self.series is not None else None
        return (adapter, "class") if adapter is not None else (None, None)

    def _call(self, call: sandbox.Call, function: Callable[..., Any], via: str | None) -> sandbox.CallOutcome:
        """The call made, traced, given the model's answers where it asks for them (see
        grading.given_keys); its parameters matched by name when they are the stub's reordered."""
        args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in call.args]
        stub = self.params.get(call.group, ())
        reordered = reordered_names(function, stub) if via is None else None
        given: dict[str, list[tuple[Any, Any]]] = {}
        for question_id, given_args, answer in call.given:
            given.setdefault(question_id, []).append((given_args, answer))
        # As in the sandbox (calls.Answerer.make): the student's own J first, and where that
        # raises, J's row passed on as one number inside the assignment's [one_number] questions.
        passing = self.one_number[0] if call.group in self.one_number[1] else None
        first: Exception | None = None
        for attempt in ((None, passing) if passing else (None,)):
            self.tracer.given = given or None
            self.tracer.one_number = attempt
            self.tracer.start()
            tried = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
            try:
                if reordered is None:
                    value = function(*tried)
                else:
                    by_plain = {_plain_name(n): a for n, a in zip(stub, tried, strict=False)}
                    value = function(**{n: by_plain[_plain_name(n)] for n in reordered})
            except Exception as exc:
                first = first or exc
                continue
            return sandbox.CallOutcome("returned", value=_plain(value), via=via, trace=self._trace(),
                                       reordered=reordered and tuple(reordered))
        assert first is not None
        return _raised(first, self._trace(), via)

    def _trace(self) -> tuple[sandbox.Traced, ...]:
        trace = _traced(self.tracer.finish())
        self.tracer.given = None
        return trace


def _raised(exc: Exception, trace: tuple[sandbox.Traced, ...], via: str | None) -> sandbox.CallOutcome:
    """A call that raised, as the sandbox says it: the exception's type and words, and the
    line of the student's code it was raised at."""
    text = str(exc)
    line = traceback.extract_tb(exc.__traceback__)[-1].lineno if exc.__traceback__ else None
    return sandbox.CallOutcome("raised", message=f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
                               line=line, via=via, trace=trace, error=type(exc).__name__)


class ScoreCard:
    """The self-check's result: an HTML table in Jupyter, text anywhere else."""

    def __init__(self, result: SubmissionResult, wanted: tuple[str, ...] | None):
        self.result = result
        self.questions = [q for q in result.questions if wanted is None or q.question.id in wanted]

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def max_score(self) -> float:
        return sum(q.question.points for q in self.questions)

    def __repr__(self) -> str:
        from grader.reports.table import questions_table

        return f"{questions_table(self.questions)}\nself-check: {self.score:g} / {self.max_score:g}"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td><code>{html.escape(q.question.id)}</code></td><td>{html.escape(q.question.worksheet)}</td>"
            f"<td style=\"text-align:right\">{q.score:g} / {q.question.points:g}</td>"
            f"<td style=\"text-align:left\">{'&#10004; ' if q.score >= q.question.points else ''}"
            f"{html.escape(q.feedback)}</td></tr>"
            for q in self.questions)
        return ("<table><tr><th>question</th><th>worksheet</th><th>score</th><th>feedback</th></tr>"
                f"{rows}<tr><td colspan=\"2\"><b>self-check</b></td><td style=\"text-align:right\">"
                f"<b>{self.score:g} / {self.max_score:g}</b></td><td style=\"text-align:left\">"
                "the grade is the sandboxed one, from <code>grade</code></td></tr></table>")


def _assignment_of(namespace: dict) -> Assignment:
    """The installed assignment whose questions the namespace answers the largest share of (a
    stub defines all of its own): the default one on a tie."""
    def share(assignment: Assignment) -> float:
        answered = sum(any(name in namespace for name in q.names) for q in assignment.questions)
        return answered / len(assignment.questions)

    assignments = [load(folder) for folder in installed()]
    return max(assignments, key=lambda assignment: (share(assignment), assignment.name == DEFAULT))


def check(question: str | None = None, namespace: dict | None = None, *,
          seed: int | None = None, feedback: str = "full",
          assignment_name: str | None = None) -> ScoreCard:
    """Grade the functions defined where check() is called (or in `namespace`); `question`
    picks a function ("dJdW2") or a worksheet question ("Q6", "q11"), else all are shown.
    `feedback` is "full", "published", "no-expected" or "score-only", as for `grade --feedback`;
    `assignment_name` an installed assignment or an assignment's folder (by default the
    installed one whose functions the notebook defines). The card is returned (a table in
    Jupyter), and printed where the call's line drops it (a script's `check("Q6")`)."""
    caller = sys._getframe(1)
    if namespace is None:
        namespace = caller.f_globals
    assignment = load(assignment_name) if assignment_name else _assignment_of(namespace)
    wanted = None
    if question is not None:  # KeyError saying what is accepted, for a typo
        wanted = tuple(q.id for q in assignment.questions_named(question))
    submission = Submission("notebook", "<self-check>", ())
    result = grade_submission(submission, Options(assignment, seed=seed, feedback=feedback),
                              runner=in_process(namespace))
    card = ScoreCard(result, wanted)
    if runtime.dropped(caller):
        print(card)
    return card
