# The self-check of `<hand-in>_check.py` (backprop_check.py), written into that file by `grade student-check` after
# the grader's own comparison code and words (grader/judge/compare.py, wording.py) and before the data (_DATA). It
# needs only numpy and the standard library, and it holds no reference code; the grader imports
# it only for the readers both self-checks share (plain, canonical). Messages of mistakes are
# stored encrypted under the wrong answer itself, so a student reads one only when their answer
# is that mistake (as with the grader).

from __future__ import annotations

import base64
import hashlib
import html
import json  # noqa: F401 - for _DATA, which `grade student-check` writes after this code
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:  # what the file around this code defines (see handout.build); never in that file
    from grader.judge.wording import NOT_ANSWERED, diagnosed, first_wrong, most_telling, right
    from grader.sandbox.child.calls import one_number_total
    from grader.selfcheck.handout_shim import Kind, Question, Unsupported

    def compare(question: Question, value: Any, expected: Any, *, precision: str | None = None,
                reveal: bool = True) -> str | None: ...

    def as_read(question: Question, value: Any, expected: Any) -> Any: ...

__all__ = ["check"]
# The questions, their cases and their mistakes, locked: `grade student-check` writes them after
# this code; none in the grader.
_DATA: dict[str, Any] = {"questions": []}


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "array" in value:
            return np.array(value["array"], dtype=float)
        return tuple(_decode(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def plain(value: Any, depth: int = 0, unsupported: Callable[[str], Any] | None = None) -> Any:
    """What the student's function returned, as the grader reads it: numbers, lists, float
    arrays. The grader's in-process `check()` uses it too, with its own `unsupported`."""
    unsupported = unsupported or Unsupported
    if depth > 32:
        return unsupported("deeply nested value")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(item, depth + 1, unsupported) for item in value]
    try:
        return np.array(np.ndarray.view(np.asarray(value), np.ndarray), dtype=float)
    except (TypeError, ValueError):
        return unsupported(type(value).__name__)


class _Raised:
    """The answer of a function that raised: what a mistake whose formula fails is keyed by."""


RAISED = _Raised()


def canonical(question_id: str, answers: list[Any]) -> bytes:
    """The answers on every case as text, to 4 significant digits: what a mistake is keyed by."""
    def one(value: Any) -> str:
        if value is RAISED:
            return "raised"
        if isinstance(value, list):
            return "[" + ",".join(one(v) for v in value) + "]"
        if isinstance(value, str):
            return repr(value.strip().lower())
        if value is None:
            return "None"
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):  # not numbers (a dict, an array of texts): its type
            return f"<{getattr(value, 'type_name', type(value).__name__)}>"
        return f"{array.shape}:" + ",".join(f"{x:.3e}" for x in array.ravel())

    return (question_id + "|" + "|".join(one(a) for a in answers)).encode()


def _unlock(mistake: dict[str, str], key_text: bytes) -> str | None:
    """The mistake's message, if the answers are that mistake's (`key_text`, their canonical
    form); else None."""
    if hashlib.sha256(b"match:" + key_text).hexdigest() != mistake["match"]:
        return None
    secret = base64.b64decode(mistake["message"])
    key = hashlib.sha256(b"key:" + key_text).digest()
    stream = b"".join(hashlib.sha256(key + i.to_bytes(4, "big")).digest()
                      for i in range(len(secret) // 32 + 1))
    return bytes(a ^ b for a, b in zip(secret, stream)).decode()  # noqa: B905 - part of the self-check file, which may run before Python 3.10


def _question(data: dict[str, Any]) -> Question:
    normalise = globals()[data["normalise"]] if data.get("normalise") else None
    return Question(Kind(data["kind"]), tuple(data["parts"]), tuple(data["constants"]), normalise,
                    data["rtol"], data["atol"], tuple((c, tuple(s)) for c, s in data["choices"]))


def _function(namespace: dict[str, Any], data: dict[str, Any]) -> Callable[..., Any] | None:
    for name in data["names"]:
        value = namespace.get(name)
        if callable(value):
            return value
    return None


def _kind(value: Any) -> str:
    """What a value is, for a sentence: "a numpy.ndarray", "an int", "None"."""
    if value is None:
        return "None"
    try:
        kind, module = str(type(value).__qualname__), str(type(value).__module__)
    except Exception:  # a class of the student's own that answers oddly
        return "a value that is not a function"
    kind = kind if module == "builtins" else f"{module.split('.')[0]}.{kind}"
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _near_miss(namespace: dict[str, Any], data: dict[str, Any]) -> str | None:
    """A function of the namespace that is the question's under another spelling, and no
    question's own."""
    wanted = {n.lower().replace("_", "") for n in data["synonyms"] + data["names"]}
    graded = {name for q in _DATA["questions"] for name in q["names"]}
    for name, value in namespace.items():
        if callable(value) and not name.startswith("_") and name.lower().replace("_", "") in wanted \
                and name not in graded:
            return name
    return None


class _Answer(NamedTuple):
    """What a function gave on one case."""

    value: Any  # as the grader reads it (see `plain`), or RAISED
    message: str = ""  # where it raised: "ErrorType: message (line N)"
    error: str | None = None  # where it raised: the exception's type


def _call(function: Callable[..., Any], args: list[Any], namespace: dict[str, Any] | None = None,
          one_number: str | None = None) -> _Answer:
    """The call, as the grader makes it: where it raises and `one_number` names a function of
    the namespace (the cost), once more with that function's row J passed on as one number."""
    first = _answer(function, args)
    own = namespace.get(one_number) if namespace is not None and one_number else None
    if first.value is not RAISED or not callable(own):
        return first

    def total(*call_args: Any, **kwargs: Any) -> Any:
        return one_number_total(own(*call_args, **kwargs))

    namespace[one_number] = total  # type: ignore[index]
    try:
        again = _answer(function, args)
    finally:
        namespace[one_number] = own  # type: ignore[index]
    return again if again.value is not RAISED else first


def _answer(function: Callable[..., Any], args: list[Any]) -> _Answer:
    args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            return _Answer(plain(function(*args)))
    except Exception as exc:  # the student's code: any error is feedback
        line = traceback.extract_tb(exc.__traceback__)[-1].lineno if exc.__traceback__ else None
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return _Answer(RAISED, text + (f" (line {line})" if line else ""), type(exc).__name__)


class QuestionCheck:
    """One question's self-check: score, max_score, feedback and each case's verdict."""

    def __init__(self, data: dict[str, Any], score: float, feedback: str,
                 cases: list[tuple[str, bool, str]], answered: bool = True) -> None:
        self.id = data["id"]
        self.worksheet = data["worksheet"]
        self.max_score = data["points"]
        self.score = score
        self.feedback = feedback
        self.cases = cases  # (label, passed, message)
        self.answered = answered  # False: not defined, or the stub's NotImplementedError still there

    def __repr__(self) -> str:
        return f"{self.id} ({self.worksheet}): {self.score:g} / {self.max_score:g}  {self.feedback}"


def _check_question(data: dict[str, Any], namespace: dict[str, Any], reveal: bool,
                    earlier: dict[str, QuestionCheck]) -> QuestionCheck:
    result = _verdict(data, namespace, reveal)
    wrong = [name for name in data["builds_on"] if name in earlier and earlier[name].score < earlier[name].max_score]
    if result.score < result.max_score and wrong and result.answered:
        verb = "is" if len(wrong) == 1 else "are"
        them = "it" if len(wrong) == 1 else "them"
        result.feedback += (f"; your {' and '.join(wrong)} {verb} wrong too, and this builds on "
                            f"{them}: fix {them} first (the grader gives credit for an answer right given your own)")
    return result


def _verdict(data: dict[str, Any], namespace: dict[str, Any], reveal: bool) -> QuestionCheck:
    """The question checked on its own: not there (and why), or each case's verdict."""
    if data["constants"]:
        if not all(name in namespace for name in data["constants"]):
            return QuestionCheck(data, 0, f"not defined: set {' and '.join(data['constants'])}", [], answered=False)
        answers = [_Answer(plain([namespace[n] for n in data["constants"]])) for _ in data["cases"]]
        return _checked(data, answers, reveal)
    function = _function(namespace, data)
    if function is None:
        return _not_a_function(data, namespace)
    return _checked(data, [_call(function, _decode(case["args"]), namespace, data.get("one_number"))
                           for case in data["cases"]], reveal)


def _not_a_function(data: dict[str, Any], namespace: dict[str, Any]) -> QuestionCheck:
    """No function under the question's names: one replaced by a variable, a near miss, or none."""
    bound = next((name for name in data["names"] if name in namespace), None)
    if bound is not None:  # written, then replaced by a variable?
        return QuestionCheck(data, 0, f"not a function when checked: {bound} is {_kind(namespace[bound])} "
                             f"here; if a line assigns to it after your function (as "
                             f"`dJdW1, dJdW2 = ...` would), give that variable another name", [])
    near = _near_miss(namespace, data)
    text = (f"not defined: found `{near}`; rename it to `{data['id']}`" if near
            else f"not defined: write a function named {data['id']}")
    return QuestionCheck(data, 0, text, [], answered=False)


def _checked(data: dict[str, Any], answers: list[_Answer], reveal: bool) -> QuestionCheck:
    """Each case's verdict (see `_case`), the score they earn and the question's feedback."""
    question = _question(data)
    verdicts = [_case(question, case, answer, reveal)
                for case, answer in zip(data["cases"], answers)]  # noqa: B905 - part of the self-check file, which may run before Python 3.10
    passed = sum(ok for _, ok, _ in verdicts)
    score = round(data["points"] * passed / len(verdicts), 4)
    if all(answer.error == "NotImplementedError" for answer in answers):
        return QuestionCheck(data, score, NOT_ANSWERED, verdicts, answered=False)
    return QuestionCheck(data, score, _feedback(data, question, answers, verdicts), verdicts)


def _case(question: Question, case: dict[str, Any], answer: _Answer, reveal: bool) -> tuple[str, bool, str]:
    """(label, passed, why not) for one case."""
    if answer.value is RAISED:
        return case["label"], False, answer.message
    message = compare(question, answer.value, _decode(case["expected"]), reveal=reveal)
    return case["label"], message is None, message or ""


def _feedback(data: dict[str, Any], question: Question, answers: list[_Answer],
              verdicts: list[tuple[str, bool, str]]) -> str:
    """The question's line, in the grader's words (wording.py): correct, the mistake by name
    (when the answers, read as the grader's diagnosis reads them, unlock one), or the first
    wrong case."""
    passed, total = sum(ok for _, ok, _ in verdicts), len(verdicts)
    if passed == total:
        return right(total)
    read = [answer.value if answer.value is RAISED else as_read(question, answer.value, _decode(case["expected"]))
            for answer, case in zip(answers, data["cases"])]  # noqa: B905 - part of the self-check file, which may run before Python 3.10
    key_text = canonical(data["id"], read)
    explained = most_telling((message, mistake["told_apart"]) for mistake in data["mistakes"]
                             for message in [_unlock(mistake, key_text)] if message)
    if explained:
        return diagnosed(explained, passed, total)
    label, _, message = next(v for v in verdicts if not v[1])
    return first_wrong(label, message, passed, total)


class CheckResult:
    """What `check()` returns: `score`, `max_score`, `questions`; a table in Jupyter, text elsewhere."""

    def __init__(self, questions: list[QuestionCheck]) -> None:
        self.questions = questions
        self.score = round(sum(q.score for q in questions), 4)
        self.max_score = sum(q.max_score for q in questions)

    def __repr__(self) -> str:
        width = max((len(q.id) for q in self.questions), default=8)
        lines = [f"{q.id:<{width}}  {q.worksheet:<18} {q.score:g} / {q.max_score:g}  {q.feedback}"
                 for q in self.questions]
        lines.append(f"self-check: {self.score:g} / {self.max_score:g} on the public cases ({_NOTE})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><code>{html.escape(q.id)}</code></td><td>{html.escape(q.worksheet)}</td>"
            f"<td style=\"text-align:right\">{q.score:g} / {q.max_score:g}</td>"
            f"<td style=\"text-align:left\">{'&#10004; ' if q.score >= q.max_score else ''}"
            f"{html.escape(q.feedback)}</td></tr>" for q in self.questions)
        return ("<table><tr><th>question</th><th>worksheet</th><th>score</th><th>feedback</th></tr>"
                f"{rows}<tr><td colspan=\"2\"><b>self-check</b></td><td style=\"text-align:right\">"
                f"<b>{self.score:g} / {self.max_score:g}</b></td><td style=\"text-align:left\">"
                f"{html.escape(_NOTE)}</td></tr></table>")


_NOTE = ("public cases only; your grade comes from the grader, on more cases, and may carry "
         "credit forward from your earlier answers")


def _selected(label: str | None) -> list[dict[str, Any]]:
    if label is None:
        return _DATA["questions"]
    wanted = str(label).strip()
    lowered = wanted.lower()
    chosen = [q for q in _DATA["questions"] if lowered in (n.lower() for n in [q["id"], *q["names"]])]
    if not chosen:
        number = wanted[1:] if wanted[:1] in ("Q", "q") else wanted
        if number.isdigit():
            chosen = [q for q in _DATA["questions"] if int(number) in q["numbers"]]
            if not chosen:
                raise KeyError(f"no function answers worksheet question Q{int(number)}")
    if not chosen:
        raise KeyError(f"no question {label!r}: name a function "
                       f"({', '.join(q['id'] for q in _DATA['questions'])}) or a worksheet question such as Q6")
    return chosen


def dropped(caller: Any) -> bool:
    """Whether the caller's frame drops the value of the call it is making: `check("Q6")` alone
    on a line of a script, which would show nothing. Read from the caller's bytecode (the call
    followed by POP_TOP); a line of Jupyter's or Python's prompt shows its value itself (it is
    compiled to print it, not to drop it), and `card = check()` or `print(check())` use it."""
    try:
        import dis

        # The instruction after the call (f_lasti: the call's own offset, or its last cache's).
        following = next(i for i in dis.get_instructions(caller.f_code) if i.offset > caller.f_lasti)
        return following.opname == "POP_TOP"
    except Exception:  # a Python whose bytecode reads otherwise: as before, nothing printed
        return False


def check(question: str | None = None, namespace: dict[str, Any] | None = None, *,
          feedback: str = "full") -> CheckResult:
    """Check the functions defined where check() is called (a notebook's, a script's) on the
    public cases. `question`: a function ("dJdW2") or a worksheet question ("Q6", "q11"); all
    of them when left out. `feedback="no-expected"` leaves the expected values out. The result
    is returned (a table in Jupyter), and printed where the call's line drops it (a script's
    `check("Q6")`)."""
    chosen = _selected(question)
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    earlier: dict[str, QuestionCheck] = {}
    results = []
    for data in _DATA["questions"]:  # in order: what a question builds on is checked first
        needed = data in chosen or any(data["id"] in q["builds_on"] for q in chosen)
        if needed:
            earlier[data["id"]] = _check_question(data, namespace, feedback == "full", earlier)
            if data in chosen:
                results.append(earlier[data["id"]])
    result = CheckResult(results)
    if dropped(sys._getframe(1)):
        print(result)
    return result


def _main() -> int:
    """`python backprop_check.py my_answers.py` (or this file's name): check a file's functions
    (it runs in this process)."""
    if len(sys.argv) != 2:
        print(f"usage: python {sys.argv[0]} YOUR_FILE.py")
        return 2
    namespace = {"__name__": "__student__"}
    with open(sys.argv[1], encoding="utf-8") as handle:
        exec(compile(handle.read(), sys.argv[1], "exec"), namespace)  # the student's own code
    print(check(namespace=namespace))
    return 0
