# The self-check of `<hand-in>_check.py` (backprop_check.py), written into that file by `grade student-check` after
# the grader's own comparison code (grader/compare.py) and before the data (_DATA). Not
# imported by the grader: it needs only numpy and the standard library, and it holds no
# reference code. Messages of mistakes are stored encrypted under the wrong answer itself, so a
# student reads one only when their answer is that mistake (as with the grader).
# ruff: noqa: F821 - Kind, Question, Unsupported, compare and _DATA come from the file around it

import base64
import hashlib
import html
import json  # for _DATA, which `grade student-check` writes after this code
import sys
import traceback

import numpy as np

__all__ = ["check"]


def _decode(value):
    if isinstance(value, dict):
        if "array" in value:
            return np.array(value["array"], dtype=float)
        return tuple(_decode(v) for v in value["tuple"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _plain(value, depth=0, unsupported=None):
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
        return [_plain(item, depth + 1, unsupported) for item in value]
    try:
        return np.array(np.ndarray.view(np.asarray(value), np.ndarray), dtype=float)
    except (TypeError, ValueError):
        return unsupported(type(value).__name__)


def _canonical(question_id, answers):
    """The answers on every case as text, to 4 significant digits: what a mistake is keyed by."""
    def one(value):
        if value is _RAISED:
            return "raised"
        if isinstance(value, list):
            return "[" + ",".join(one(v) for v in value) + "]"
        if isinstance(value, str):
            return repr(value.strip().lower())
        if value is None:
            return "None"
        array = np.asarray(value, dtype=float)
        return f"{array.shape}:" + ",".join(f"{x:.3e}" for x in array.ravel())

    return (question_id + "|" + "|".join(one(a) for a in answers)).encode()


def _unlock(mistake, canonical):
    """The mistake's message, if the answers are that mistake's; else None."""
    if hashlib.sha256(b"match:" + canonical).hexdigest() != mistake["match"]:
        return None
    secret = base64.b64decode(mistake["message"])
    key = hashlib.sha256(b"key:" + canonical).digest()
    stream = b"".join(hashlib.sha256(key + i.to_bytes(4, "big")).digest()
                      for i in range(len(secret) // 32 + 1))
    return bytes(a ^ b for a, b in zip(secret, stream)).decode()


_RAISED = object()


def _question(data):
    normalise = globals()[data["normalise"]] if data.get("normalise") else None
    return Question(Kind(data["kind"]), tuple(data["parts"]), tuple(data["constants"]), normalise,
                    data["rtol"], data["atol"], tuple((c, tuple(s)) for c, s in data["choices"]))


def _function(namespace, data):
    for name in data["names"]:
        value = namespace.get(name)
        if callable(value):
            return value
    return None


def _kind(value):
    """What a value is, for a sentence: "a numpy.ndarray", "an int", "None"."""
    if value is None:
        return "None"
    try:
        kind, module = str(type(value).__qualname__), str(type(value).__module__)
    except Exception:  # a class of the student's own that answers oddly
        return "a value that is not a function"
    kind = kind if module == "builtins" else f"{module.split('.')[0]}.{kind}"
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def _near_miss(namespace, data):
    wanted = {n.lower().replace("_", "") for n in data["synonyms"] + data["names"]}
    for name, value in namespace.items():
        if callable(value) and not name.startswith("_") and name.lower().replace("_", "") in wanted \
                and name not in _ALL_NAMES:
            return name
    return None


def _call(function, args):
    """(value, None) or (_RAISED, "ErrorType: message (line N)")."""
    args = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        with np.errstate(all="ignore"):
            return _plain(function(*args)), None
    except Exception as exc:  # the student's code: any error is feedback
        line = traceback.extract_tb(exc.__traceback__)[-1].lineno if exc.__traceback__ else None
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return _RAISED, text + (f" (line {line})" if line else "")


class QuestionCheck:
    """One question's self-check: score, max_score, feedback and each case's verdict."""

    def __init__(self, data, score, feedback, cases):
        self.id = data["id"]
        self.worksheet = data["worksheet"]
        self.max_score = data["points"]
        self.score = score
        self.feedback = feedback
        self.cases = cases  # (label, passed, message)

    def __repr__(self):
        return f"{self.id} ({self.worksheet}): {self.score:g} / {self.max_score:g}  {self.feedback}"


def _check_question(data, namespace, reveal, earlier):
    result = _verdict(data, namespace, reveal)
    wrong = [name for name in data["builds_on"] if name in earlier and earlier[name].score < earlier[name].max_score]
    answered = not result.feedback.startswith(("not answered yet", "not defined"))
    if result.score < result.max_score and wrong and answered:
        verb = "is" if len(wrong) == 1 else "are"
        result.feedback += (f"; your {' and '.join(wrong)} {verb} wrong too, and this builds on "
                            f"{'it' if len(wrong) == 1 else 'them'}: fix {'it' if len(wrong) == 1 else 'them'} "
                            f"first (the grader gives credit for an answer right given your own)")
    return result


def _verdict(data, namespace, reveal):
    question = _question(data)
    cases = data["cases"]
    if question.constants:
        if not all(name in namespace for name in data["constants"]):
            return QuestionCheck(data, 0, f"not defined: set {' and '.join(data['constants'])}", [])
        answers = [_plain([namespace[n] for n in data["constants"]]) for _ in cases]
        errors = [None] * len(cases)
    else:
        function = _function(namespace, data)
        bound = next((name for name in data["names"] if name in namespace), None)
        if function is None and bound is not None:  # written, then replaced by a variable?
            return QuestionCheck(data, 0, f"not a function when checked: {bound} is {_kind(namespace[bound])} "
                                 f"here; if a line assigns to it after your function (as "
                                 f"`dJdW1, dJdW2 = ...` would), give that variable another name", [])
        if function is None:
            near = _near_miss(namespace, data)
            text = (f"not defined: found `{near}`; rename it to `{data['id']}`" if near
                    else f"not defined: write a function named {data['id']}")
            return QuestionCheck(data, 0, text, [])
        answers, errors = zip(*(_call(function, _decode(case["args"])) for case in cases))
    verdicts = []
    for case, answer, error in zip(cases, answers, errors):
        if answer is _RAISED:
            verdicts.append((case["label"], False, error))
            continue
        message = compare(question, answer, _decode(case["expected"]), reveal=reveal)
        verdicts.append((case["label"], message is None, message or ""))
    passed = sum(ok for _, ok, _ in verdicts)
    score = round(data["points"] * passed / len(verdicts), 4)
    correct = f" ({passed}/{len(verdicts)} cases correct)" if len(verdicts) > 1 else ""
    if passed == len(verdicts):
        text = f"correct on all {len(verdicts)} cases" if len(verdicts) > 1 else "correct"
    elif all(not ok and message.startswith("NotImplementedError") for _, ok, message in verdicts):
        text = "not answered yet: the function still raises NotImplementedError"
    else:
        canonical = _canonical(data["id"], answers)
        explained = next((m for m in map(lambda e: _unlock(e, canonical), data["mistakes"]) if m), None)
        label, _, message = next(v for v in verdicts if not v[1])
        if explained:
            text = explained + correct
        elif len(verdicts) == 1:
            text = message
        else:
            text = f"{label}: {message}{correct}"
    return QuestionCheck(data, score, text, verdicts)


class CheckResult:
    """What `check()` returns: `score`, `max_score`, `questions`; a table in Jupyter, text elsewhere."""

    def __init__(self, questions):
        self.questions = questions
        self.score = round(sum(q.score for q in questions), 4)
        self.max_score = sum(q.max_score for q in questions)

    def __repr__(self):
        width = max((len(q.id) for q in self.questions), default=8)
        lines = [f"{q.id:<{width}}  {q.worksheet:<18} {q.score:g} / {q.max_score:g}  {q.feedback}"
                 for q in self.questions]
        lines.append(f"self-check: {self.score:g} / {self.max_score:g} on the public cases ({_NOTE})")
        return "\n".join(lines)

    def _repr_html_(self):
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


def _selected(label):
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


def check(question=None, namespace=None, *, feedback="full"):
    """Check the functions defined where check() is called (a notebook's, a script's) on the
    public cases. `question`: a function ("dJdW2") or a worksheet question ("Q6", "q11"); all
    of them when left out. `feedback="no-expected"` leaves the expected values out."""
    chosen = _selected(question)
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    earlier, results = {}, []
    for data in _DATA["questions"]:  # in order: what a question builds on is checked first
        needed = data in chosen or any(data["id"] in q["builds_on"] for q in chosen)
        if needed:
            earlier[data["id"]] = _check_question(data, namespace, feedback == "full", earlier)
            if data in chosen:
                results.append(earlier[data["id"]])
    return CheckResult(results)


def _main():
    """`python backprop_check.py my_answers.py` (or this file's name): check a file's functions (it runs in this process)."""
    if len(sys.argv) != 2:
        print(f"usage: python {sys.argv[0]} YOUR_FILE.py")
        return 2
    namespace = {"__name__": "__student__"}
    with open(sys.argv[1], encoding="utf-8") as handle:
        exec(compile(handle.read(), sys.argv[1], "exec"), namespace)  # the student's own code
    print(check(namespace=namespace))
    return 0
