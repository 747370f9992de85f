"""`grade student-check`: one self-contained file students check their work with, without the
answers.

The file (`backprop_check.py`) needs numpy alone. A student drops it beside their notebook and
runs `from backprop_check import check; check()` or `check("Q6")`. It holds:

- the grader's own comparison code (`grader/judge/compare.py`) and words (`grader/judge/wording.py`),
  copied in, so that a wrong answer is read, described and explained by the grader's own code;
- the public cases only: the worksheet's two, and as many seeded ones as the instructor
  chooses, from a public seed that is not the grading seed (the graded cases stay with `grade`);
  each with its arguments and the expected value, never the code that computes it;
- each catalogued mistake as a fingerprint of its answers on those cases (as the comparison
  reads them: `compare.as_read`), its explanation encrypted under those answers: a student
  reads it only when their answer, read so too, is that mistake, and no formula of a mistake
  (the right answer, rearranged) is in the file.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.assignment import Assignment, Case, Question, worksheet_numbers
from grader.judge import catalogue, compare, wording
from grader.sandbox import Unsupported, one_number_total
from grader.selfcheck import handout_runtime as runtime
from grader.selfcheck import handout_shim

DEFAULT_PUBLIC_SEED = 20240917  # any seed but the grading one
DEFAULT_SEEDED = 2


class StudentCheckError(Exception):
    """The file can't be built as asked; the message is one line."""


def _encode(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"array": value.astype(float).tolist()}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def _lock(message: str, canonical: bytes) -> dict[str, str]:
    """The message encrypted under the answers it explains (see handout_runtime's `_unlock`)."""
    key = hashlib.sha256(b"key:" + canonical).digest()
    data = message.encode()
    stream = b"".join(hashlib.sha256(key + i.to_bytes(4, "big")).digest() for i in range(len(data) // 32 + 1))
    return {"match": hashlib.sha256(b"match:" + canonical).hexdigest(),
            "message": base64.b64encode(bytes(a ^ b for a, b in zip(data, stream, strict=False))).decode()}


def public_cases(public_seed: int, seeded: int, assignment: Assignment) -> list[Case]:
    """The worksheet's cases and the first `seeded` networks of the public seed."""
    practice = []
    for case in assignment.seeded_cases(public_seed)[:seeded]:
        label = case.label.replace("random", "practice", 1)
        practice.append(Case(case.id.replace("random", "practice"), label, case.network, False,
                             case.values, case.provenance))
    return assignment.worksheet_cases() + practice


def _question_data(assignment: Assignment, question: Question, cases: list[Case],
                   mistakes: tuple[catalogue.Mistake, ...]) -> dict[str, Any]:
    """The question as the self-check file holds it: its cases' arguments and expected values,
    each catalogued mistake locked under its answers, and what the file's verdict needs."""
    reference = assignment.reference
    asked = [case for case in cases if question.only_case in (None, case.id)]
    rows, arguments, expected = [], [], []
    for case in asked:
        args = question.args_for(case)
        value = question.expected(reference, args)
        arguments.append(args)
        expected.append(value)
        rows.append({"label": case.label, "args": _encode(args), "expected": _encode(value)})
    locked = []
    for mistake in mistakes:
        answers = [catalogue.evaluate(mistake, assignment, args, value)
                   for args, value in zip(arguments, expected, strict=True)]
        if all(isinstance(a, catalogue.Failed) for a in answers):
            continue
        plain = [runtime.RAISED if isinstance(a, catalogue.Failed) else runtime.plain(a, unsupported=Unsupported)
                 for a in answers]
        told_apart = sum(a is not runtime.RAISED and not compare.agrees(question, a, value)
                         for a, value in zip(plain, expected, strict=True))
        if not told_apart:
            continue  # never told apart from the right answer on these cases: it explains nothing
        # Locked under the mistake's answers as the comparison reads them: the file reads the
        # student's so (runtime._feedback), as the grader's diagnosis reads both.
        read = [a if a is runtime.RAISED else compare.as_read(question, a, value)
                for a, value in zip(plain, expected, strict=True)]
        locked.append({**_lock(mistake.explain, runtime.canonical(question.id, read)), "told_apart": told_apart})
    return {
        "id": question.id, "worksheet": question.worksheet, "points": question.points,
        "kind": question.kind.value, "parts": list(question.parts),
        "constants": list(question.constants), "names": list(question.names),
        "synonyms": list(question.synonyms),
        "numbers": sorted(worksheet_numbers(question)),
        # Which earlier answers it builds on (what the worksheet's chain rule says): a failure
        # there is named, as the grader would carry credit forward from it.
        "builds_on": [] if question.constants else [
            q.id for q in assignment.questions
            if q.id in getattr(reference, question.id).__code__.co_names],
        "normalise": question.normalise.__name__ if question.normalise is not None else None,
        "rtol": question.rtol, "atol": question.atol,
        "choices": [[choice, list(spellings)] for choice, spellings in question.choices],
        "cases": rows, "mistakes": locked,
        # Inside this question's calls, the function whose row J is passed on as one number
        # where the student's own J raised, as the grader does (see [one_number]).
        "one_number": assignment.one_number[0] if assignment.one_number and question.id in assignment.one_number[1]
        else None,
    }


def _standalone(module: ModuleType) -> str:
    """A module's source as the self-check file holds it: without its docstring, its imports
    of the grader (and of __future__: the file has its own), and what it declares for type
    checking only (`if TYPE_CHECKING:`, the names the file around it defines)."""
    source = Path(str(module.__file__)).read_text(encoding="utf-8")
    tree = ast.parse(source)
    drop: set[int] = set()
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
            and isinstance(node.value.value, str) and node is tree.body[0]
        grader_import = isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("grader", "__future__"))
        typing_only = isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        if docstring or grader_import or typing_only:
            drop.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return "\n".join(line for number, line in enumerate(source.splitlines(), 1) if number not in drop)


_HEADER = '''"""{title}: a self-check. Put this file beside your notebook, then

    from {module} import check
    check()          # every question
    check("Q6")      # a worksheet question, or a function: check("{example}")

or run `python {module}.py your_answers.py`. It checks your functions on the worksheet's
numbers and {seeded} practice case{plural} of other sizes, with the grader's own comparison and
feedback. Your grade comes from the grader, on more cases. Needs numpy only.
Written by `grade student-check` (backprop-grader); it holds no model answer.
"""

from __future__ import annotations
'''


def _docstring_text(text: str) -> str:
    """`text` on one line, as it reads inside the file's opening docstring (an instructor's
    own title may hold a quote or a backslash)."""
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def build(public_seed: int, seeded: int, grading_seed: int | None, catalogues: tuple[str, ...] | None,
          assignment: Assignment) -> str:
    """The text of <hand-in>_check.py (backprop_check.py) for an assignment: `seeded` practice
    cases of `public_seed` (DEFAULT_PUBLIC_SEED, DEFAULT_SEEDED unless the instructor says);
    `grading_seed` and `catalogues` None: the assignment's own."""
    grading_seed = assignment.default_seed if grading_seed is None else grading_seed
    catalogues = (str(assignment.catalogue_path),) if catalogues is None else catalogues
    if public_seed == grading_seed:
        raise StudentCheckError(f"the public seed is the grading seed ({grading_seed}): students would "
                                f"see the graded cases' answers; choose another --public-seed")
    available = len(assignment.seeded_cases(public_seed))
    if not 0 <= seeded <= available:
        raise StudentCheckError(f"--seeded must be between 0 and {available}")
    from grader.grading import mistakes_by_question

    by_question = mistakes_by_question(tuple(catalogues), assignment)
    cases = public_cases(public_seed, seeded, assignment)
    data = {"questions": [_question_data(assignment, q, cases, by_question.get(q.id, ()))
                          for q in assignment.questions]}
    # The assignment's own readers of an answer (J as a plain number, say), by name.
    normalisers = dict.fromkeys(q.normalise for q in assignment.questions if q.normalise is not None)
    example = next((q.id for q in assignment.questions if not q.constants), assignment.questions[0].id)
    parts = [
        _HEADER.format(title=_docstring_text(assignment.title), module=f"{assignment.handin}_check",
                       example=example, seeded=seeded, plural="s" * (seeded != 1)),
        "# What grader/judge/compare.py takes from the rest of the grader.",
        _standalone(handout_shim),
        "",
        "# grader/judge/compare.py, as the grader runs it.",
        _standalone(compare),
        "",
        "# grader/judge/wording.py, as the grader runs it.",
        _standalone(wording),
        "",
        *(inspect.getsource(function) for function in normalisers),
        "# How the grader passes a row J on as one number (grader/sandbox/child/calls.py).",
        inspect.getsource(one_number_total),
        _standalone(runtime),
        "",
        f"_DATA = json.loads({json.dumps(json.dumps(data, separators=(',', ':')))})",
        "",
        'if __name__ == "__main__":',
        "    sys.exit(_main())",
        "",
    ]
    return "\n".join(parts)
