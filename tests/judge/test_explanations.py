"""A diagnosis never states the answer (docs/feedback.md, the README): no shipped catalogue
entry's explanation holds its question's right answer, neither as the model answer computes it
nor as the model answer's docstring writes it in the notes' notation.

Mechanically, for each question a catalogue entry explains:

- the answer as code: the model answer's returned expression, each part of a returned tuple,
  and what a returned name was assigned (`numgrad[p] = ...`, `yHat = sigmoid(z3)`), unparsed;
- the answer as the notes write it: the right side of each `=` in the model answer's
  docstring for that function ("dJ/dW2 = (a2)^T delta3, the sum over the examples" gives
  "(a2)^T delta3"), up to the first comma, full stop, colon or "over"/"for"/"with".

Both sides are read in one notation-neutral form (`neutral`): case, spacing, the ways of
writing a layer's index (z(3), z3), a transpose (.T, ^T), a power (**, ^), a product (*, @, or
nothing), epsilon (ε, e), f and f' for the sigmoid and its derivative, numpy's `np.`. An
explanation may still name the student's own wrong formula, or the one factor that is missing
("f'(z(3)) is missing"): what is wrong is the diagnosis. What the test can't see, a method
written out in words, is kept out by reading: the explanations say what is wrong and point at
the notes' question.
"""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from grader import assignment
from grader.assignment import Assignment, Kind
from grader.judge import catalogue

SHIPPED = [assignment.load(folder) for folder in assignment.installed()]


def neutral(text: str, aliases: dict[str, str]) -> str:
    """`text` in a form where the notes' notation and the code read alike: lower case, one
    way of writing each symbol, a space kept only between two words."""
    text = text.lower()
    for alias, name in sorted(aliases.items(), key=lambda item: -len(item[1])):
        text = re.sub(rf"\b{re.escape(name.lower())}\b", alias.lower(), text)  # sigmoid_prime: fprime
    for old, new in (("−", "-"), ("–", "-"), ("ε", "e"), ("δ", "delta"), ("ᵀ", "^t"), ("‖", "|"),
                     ("²", "^2"), ("·", " "), ("×", " "), ("np.linalg.", ""), ("np.", ""), ("**", "^"),
                     ("*", " "), ("@", " "), ("f'", "fprime")):
        text = text.replace(old, new)
    text = re.sub(r"\bepsilon\b|\beps\b", "e", text)
    text = re.sub(r"\.t\b", "^t", text)  # a2.T is a(2)^T
    text = re.sub(r"([a-z])_?\((\d)\)", r"\1\2", text)  # a layer's index: z(3), W(2), delta(3)
    text = text.replace("_", "")
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"(?<![a-z0-9.])(\d+(?:\.\d+)?) (?=[a-z])", r"\1", text)  # 2 e is 2e
    # A single term in parentheses, where they are not a call's: (a2)^t, / (2e).
    while (unwrapped := re.sub(r"(?<![a-z0-9'])\(\s*([a-z0-9^']+)\s*\)", r"\1", text)) != text:
        text = unwrapped
    return re.sub(r" (?=[^a-z0-9'])|(?<=[^a-z0-9']) ", "", text)  # spaces only between words


def _function(work: Assignment, question_id: str) -> ast.FunctionDef | None:
    function = getattr(work.reference, question_id, None)
    if not inspect.isfunction(function):
        return None
    node = ast.parse(inspect.getsource(function)).body[0]
    return node if isinstance(node, ast.FunctionDef) else None


def _assigned(function: ast.FunctionDef, name: str) -> list[ast.expr]:
    """What the function assigns to `name`'s entries (`numgrad[p] = ...`: the answer, where
    `numgrad = np.zeros(...)` only makes room for it), else to `name` itself."""
    whole, entries = [], []
    for node in ast.walk(function):
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name) and target.id == name:
                    whole.append(node.value)
                elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) \
                        and target.value.id == name:
                    entries.append(node.value)
    return entries or whole


def answer_as_code(work: Assignment, question_id: str) -> set[str]:
    """The right answer as the model answer computes it (see the module's docstring)."""
    function = _function(work, question_id)
    if function is None:
        return set()
    todo = [node.value for node in ast.walk(function) if isinstance(node, ast.Return) and node.value is not None]
    seen: set[str] = set()
    found = set()
    while todo:
        expression = todo.pop()
        if isinstance(expression, ast.Name):
            if expression.id not in seen:
                seen.add(expression.id)
                todo += _assigned(function, expression.id)
            continue
        if isinstance(expression, ast.Tuple):
            todo += expression.elts  # each part is an answer too
            if all(isinstance(e, ast.Name) and _assigned(function, e.id) for e in expression.elts):
                continue  # (z2, a2, z3, yHat): the parts are the answers, not their names
        if not isinstance(expression, ast.Constant):
            found.add(neutral(ast.unparse(expression), work.catalogue_names))
    return found


_FORMULA = re.compile(r"(?<![=<>!])=(?!=)\s*(.+?)(?=,\s|;|:\s|\.\s|\.$|\s(?:over|for|with)\s|$)", re.S)


def answer_as_written(work: Assignment, question_id: str) -> set[str]:
    """The right answer as the model answer's docstring writes it (see the module's docstring)."""
    function = getattr(work.reference, question_id, None)
    doc = " ".join((inspect.getdoc(function) or "").split()) if inspect.isfunction(function) else ""
    return {neutral(m.group(1), work.catalogue_names) for m in _FORMULA.finditer(doc) if m.group(1).strip()}


def _explained() -> list[tuple[Assignment, catalogue.Mistake]]:
    return [(work, mistake) for work in SHIPPED for mistake in catalogue.load(None, work)
            if work.question(mistake.question).kind is not Kind.CHOICES]  # its answer is a word


@pytest.mark.parametrize("work, mistake", _explained(), ids=lambda x: getattr(x, "id", getattr(x, "name", "")))
def test_no_explanation_states_its_questions_answer(work, mistake):
    said = neutral(mistake.explain, work.catalogue_names)
    answers = answer_as_code(work, mistake.question) | answer_as_written(work, mistake.question)
    assert [answer for answer in answers if answer in said] == [], mistake.explain


def test_the_check_reads_the_answers_it_means_to():
    """What the test above holds explanations to, for a few questions: if the model answers'
    code or docstrings stopped reading as these, it would hold them to nothing."""
    assert {work.name for work in SHIPPED} >= {"backprop", "gradient-checking"}
    backprop = assignment.load("backprop")
    checking = assignment.load("gradient-checking")
    assert {"f(z3)", "f(z2)", "dot(x,w1)"} <= answer_as_code(backprop, "forward")
    assert "sum of 1/2(y-yhat)^2" in answer_as_written(backprop, "cost")
    assert "a2^t delta3" in answer_as_written(backprop, "dJdW2")
    assert "(inputlayersize,hiddenlayersize)" in answer_as_code(backprop, "dJdW1_shape")
    assert "(jplus-jminus)/2e" in answer_as_code(checking, "numerical_gradient")
    assert "(j(w+e)-j(w-e))/2e" in answer_as_written(checking, "numerical_gradient")
    assert "|grad-numgrad|/|grad+numgrad|" in answer_as_written(checking, "relative_error")
    # Each way of writing one formula reads as the same.
    for spelling in ("(J(w + ε) − J(w − ε)) / 2ε", "(J(w+epsilon) - J(w-epsilon)) / (2 * epsilon)",
                     "(J(w + e) - J(w - e))/(2e)"):
        assert neutral(spelling, {}) == "(j(w+e)-j(w-e))/2e"
    assert neutral("a(2)^T δ(3)", {}) == neutral("a2.T @ delta3", {}) == "a2^t delta3"
    assert neutral("yHat = f(z(3))", backprop.catalogue_names) == "yhat=f(z3)"
    assert neutral("yHat = sigmoid(z3)", backprop.catalogue_names) == "yhat=f(z3)"
    # Naming the missing factor is the diagnosis: f' is not f.
    assert "f(z3)" not in neutral("f'(z(3)) is missing", backprop.catalogue_names)
    assert "f(z2)" not in neutral("the output of z(2)", backprop.catalogue_names)
