"""`grade audit`: one-change variants of a model answer, each the change it names; the shipped
worksheets pass their own audit; a deliberately weak assignment is reported with the variant
that survives it, the line it changed and a case that would catch it; catalogue entries that
are not diagnosed as themselves alone are named; and the command's errors are one line.

Auditing a worksheet whole, on this project's two cores: backprop about 10 s (327 variants),
gradient-checking about 90 s (422 variants, a wrong numerical gradient taking half a second to
judge). The test of gradient-checking audits one variant in eight of each function's by each
operator (`--every 8`: 84 variants, every kind of change to every function still among them),
in about 15 s; `grade audit --assignment gradient-checking` audits it whole."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import BACKPROP, TINY, run_cli
from grader import assignment, audit
from grader.audit import mutation as variants
from grader.audit import report
from grader.judge import catalogue

# --- the variants, from source ---------------------------------------------------------------

SOURCE = textwrap.dedent('''\
    """A model answer."""
    import numpy as np


    def helper(a, b):
        """Not graded, but called."""
        return a + b


    def graded(X, W, d):
        """Q1: the docstring is never changed: 0.5 * X."""
        z = np.dot(X.T, d)
        h = 0.5 * np.sum(z ** 2, axis=0, keepdims=True)
        return -(X @ W) * h + helper(z, d)


    def other(X, W):
        return X.mean() * W
''')


def _changes(function: str = "graded", kinds=None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for mutant in variants.mutants(SOURCE, (function,), kinds):
        found.setdefault(mutant.operator, []).append(f"{mutant.before} -> {mutant.after}")
    return found


def test_each_operator_makes_the_change_it_names():
    changes = _changes()
    expected = {
        variants.TRANSPOSE_DROPPED: "z = np.dot(X.T, d) -> z = np.dot(X, d)",
        variants.TRANSPOSE_ADDED: "z = np.dot(X.T, d) -> z = np.dot(X.T, d.T)",
        variants.SWAPPED: "z = np.dot(X.T, d) -> z = np.dot(d, X.T)",
        variants.ELEMENTWISE: "z = np.dot(X.T, d) -> z = X.T * d",
        variants.MATRIX: "return -(X @ W) * h + helper(z, d) -> return -(X @ W) @ h + helper(z, d)",
        variants.SUM_MEAN: "h = 0.5 * np.sum(z ** 2, axis=0, keepdims=True) -> "
                           "h = 0.5 * np.mean(z ** 2, axis=0, keepdims=True)",
        variants.AXIS: "h = 0.5 * np.sum(z ** 2, axis=0, keepdims=True) -> "
                       "h = 0.5 * np.sum(z ** 2, keepdims=True, axis=1)",
        variants.KEEPDIMS: "h = 0.5 * np.sum(z ** 2, axis=0, keepdims=True) -> "
                           "h = 0.5 * np.sum(z ** 2, axis=0, keepdims=False)",
        variants.SIGN: "return -(X @ W) * h + helper(z, d) -> return X @ W * h + helper(z, d)",
        variants.CONSTANT: "h = 0.5 * np.sum(z ** 2, axis=0, keepdims=True) -> "
                           "h = 1.0 * np.sum(z ** 2, axis=0, keepdims=True)",
        variants.SIBLING: "z = np.dot(X.T, d) -> z = np.dot(W.T, d)",
        variants.HELPER: "return -(X @ W) * h + helper(z, d) -> return -(X @ W) * h + other(z, d)",
    }
    assert set(changes) == set(variants.OPERATORS) - {variants.MEAN_SUM}
    assert _changes("other")[variants.MEAN_SUM] == ["return X.mean() * W -> return X.sum() * W"]
    for operator, change in expected.items():
        assert change in changes[operator], (operator, changes[operator])
    # More of each: @ made elementwise, a minus added to what is returned, 2 -> 1 and 3, z for h.
    assert "return -(X @ W) * h + helper(z, d) -> return -(X * W) * h + helper(z, d)" in changes[variants.ELEMENTWISE]
    assert "return -(X @ W) * h + helper(z, d) -> return -(-(X @ W) * h + helper(z, d))" in changes[variants.SIGN]
    assert {"h = 0.5 * np.sum(z ** 1, axis=0, keepdims=True)", "h = 0.5 * np.sum(z ** 3, axis=0, keepdims=True)"} <= \
        {c.split(" -> ")[1] for c in changes[variants.CONSTANT]}
    assert "return -(X @ W) * h + helper(z, d) -> return -(X @ W) * z + helper(z, d)" in changes[variants.SIBLING]


def test_a_variant_changes_one_expression_and_nothing_else():
    found = list(variants.mutants(SOURCE, ("graded",)))
    assert len({m.source for m in found}) == len(found)  # each distinct
    for mutant in found:
        before, after = SOURCE.splitlines(), mutant.source.splitlines()
        assert len(before) == len(after)
        assert [i + 1 for i, (b, a) in enumerate(zip(before, after)) if a != b] == [mutant.line]
        assert mutant.change == f"line {mutant.line}: `{mutant.before}` → `{mutant.after}`"
        assert "docstring" in mutant.source and "def other" in mutant.source
    # A name is never swapped for a variable set only later, nor a function for itself.
    assert not any(m.line == 12 and "h" in m.after.split("=")[1] for m in found)
    assert not any("graded(" in m.after for m in found)


def test_a_name_is_swapped_only_for_a_sibling_of_its_kind():
    kinds = {"graded": {"X": ("array", 2), "W": ("array", 2), "d": ("array", 2), "z": ("array", 2),
                        "h": "float"}}
    swapped = _changes(kinds=kinds)[variants.SIBLING]
    assert "z = np.dot(X.T, d) -> z = np.dot(W.T, d)" in swapped
    returned = "return -(X @ W) * h + helper(z, d)"
    assert f"{returned} -> return -(X @ W) * z + helper(z, d)" not in swapped  # h, a float, is never z
    assert f"{returned} -> return -(X @ W) * h + helper(h, d)" not in swapped  # nor z h
    assert f"{returned} -> return -(X @ W) * h + helper(X, d)" in swapped
    added = _changes(kinds=kinds)[variants.TRANSPOSE_ADDED]
    assert not any("h.T" in change for change in added)


def test_the_kinds_come_from_the_model_answer_running():
    kinds = audit._kinds(BACKPROP, ("cost_function_prime", "dJdW1_shape"))
    assert kinds["cost_function_prime"]["d3"] == ("array", 2)
    assert kinds["dJdW1_shape"]["input_layer_size"] == "int"


def test_a_variant_that_no_longer_ends_is_left_to_the_sandbox(monkeypatch):
    monkeypatch.setattr(audit, "CALL_SECONDS", 0.2)
    namespace = {"square": lambda v: [0 for _ in iter(int, 1)]}
    check = next(c for c in audit._checks(TINY, 0, ()) if c.question.id == "square")
    assert audit._differs(namespace, check, None)


# --- the shipped worksheets pass their own audit ---------------------------------------------

def _passes(audited: audit.Audit) -> None:
    assert audited.model == ""
    assert not audited.survivors, report.text(audited)
    assert all(o.verdict in (audit.KILLED, audit.SET_ASIDE) for o in audited.outcomes), report.text(audited)
    assert [e for e in audited.entries if not e.ok] == []
    assert audited.passed


@pytest.mark.sandbox
def test_backprop_passes_its_own_audit():
    audited = audit.run(BACKPROP, jobs=2)
    _passes(audited)
    questions = {q.id for q in BACKPROP.questions if not q.constants}
    assert {o.mutant.function for o in audited.outcomes} == questions
    assert {o.mutant.operator for o in audited.outcomes} == set(variants.OPERATORS) - {variants.MEAN_SUM}
    assert len(audited.entries) == len(catalogue.load(None, BACKPROP))
    # The equivalent ones are rewrites: each agrees with the model answer (3 * 0.5 is 0.5 * 3).
    aside = {o.mutant.after for o in audited.outcomes if o.verdict == audit.SET_ASIDE}
    assert "return sigmoid_prime(z2) * np.dot(delta3, W2.T)" in aside


@pytest.mark.sandbox
def test_gradient_checking_passes_its_own_audit():
    checking = assignment.load("gradient-checking")
    audited = audit.run(checking, jobs=2, every=8)
    _passes(audited)
    assert {(o.mutant.function, o.mutant.operator) for o in audited.outcomes} == \
        {(m.function, m.operator) for m in audit.variants(checking)}


# --- a deliberately weak assignment ----------------------------------------------------------

def _weak(tmp_path: Path) -> Path:
    """The tiny assignment, weakened: the notes' vector has no negative entry, and the one
    seeded case is a single number (positive with seed 0): nothing asks split for a negative
    part. And two catalogue entries that can't be diagnosed as themselves."""
    folder = tmp_path / "solutions" / "weak"
    shutil.copytree(TINY.folder, folder)
    cases = (folder / "cases.py").read_text(encoding="utf-8")
    cases = cases.replace("[3.0, -4.0, 12.0]", "[3.0, 4.0, 12.0]").replace("for k in (1, 5)]", "for k in (1,)]")
    (folder / "cases.py").write_text(cases, encoding="utf-8")
    with (folder / "misconceptions.toml").open("a", encoding="utf-8") as catalogue:
        catalogue.write(textwrap.dedent('''
            [[mistake]]
            id = "norm.squared_again"
            question = "norm"
            answer = "np.sum(v ** 2)"
            summary = "the same as norm.squared"
            explain = "This is the squared length again."

            [[mistake]]
            id = "unit.right"
            question = "unit"
            answer = "expected"
            summary = "no mistake at all"
            explain = "This is right."
        '''))
    return folder


@pytest.mark.sandbox
def test_a_weak_assignment_is_reported_with_its_survivor(tmp_path):
    weak = assignment.load(_weak(tmp_path))
    audited = audit.run(weak, jobs=2)
    assert not audited.passed and audited.model == ""
    survivor, = audited.survivors
    assert survivor.mutant.function == "split"
    assert survivor.mutant.change == ("line 30: `return np.maximum(v, 0), np.minimum(v, 0)` → "
                                      "`return np.maximum(v, 0), -np.minimum(v, 0)`")
    catch = survivor.catch
    assert catch is not None and catch.question == "split" and catch.seed in audited.extra_seeds
    # The case named is one where the split's negative part is not zero: it catches the variant.
    case = next(c for c in weak.seeded_cases(catch.seed) if c.label == catch.case)
    assert (case.values["v"] < 0).any()
    problems = {e.id: e.problem for e in audited.entries if not e.ok}
    assert problems == {"norm.squared_again": "diagnosed as norm.squared, which takes its diagnosis",
                        "unit.right": "not diagnosed: it agrees with the model answer on every case"}
    text = report.text(audited)
    assert "Survived (full marks though wrong): 1" in text
    assert f"a case that catches it: split on {catch.case} of seed {catch.seed}" in text
    assert "norm.squared_again (norm): diagnosed as norm.squared, which takes its diagnosis" in text
    assert text.rstrip().endswith("Not passed: 1 variant survived; 2 catalogue entries are not diagnosed as "
                                  "themselves alone.")


@pytest.mark.sandbox
def test_the_command_exits_1_for_a_weak_assignment_and_0_for_the_tiny_one(tmp_path):
    weak = run_cli("audit", "--assignment", str(_weak(tmp_path)), "--format", "json", "-q", "--jobs", "2")
    assert weak.returncode == 1, weak.stderr
    document = json.loads(weak.stdout)
    assert document["passed"] is False and document["assignment"] == "weak"
    survived = [v for v in document["variants"] if v["verdict"] == "survived"]
    assert [(v["question"], v["line"], v["after"]) for v in survived] == \
        [("split", 30, "return np.maximum(v, 0), -np.minimum(v, 0)")]
    assert survived[0]["catch"]["question"] == "split"
    split = next(q for q in document["questions"] if q["id"] == "split")
    assert split["survived"] == 1 and split["variants"] == split["killed"] + split["survived"] + split["set_aside"]
    tiny = run_cli("audit", "--assignment", str(TINY.folder), "--jobs", "2")
    assert tiny.returncode == 0, tiny.stdout + tiny.stderr
    assert "Survived (full marks though wrong): none" in tiny.stdout
    assert tiny.stdout.rstrip().endswith("Passed: no variant survived, and every catalogue entry is diagnosed as "
                                         "itself.")


# --- the command's errors (`grade audit` starts a worker early, as `grade` does) ---------------

@pytest.mark.sandbox
@pytest.mark.parametrize("args, said", [
    (("--assignment", "no-such-assignment"), "Error: no assignment 'no-such-assignment': installed are"),
    (("--question", "nope"), "Error: no question 'nope'; questions are forward"),
])
def test_an_assignment_that_cant_be_audited_is_one_line(args, said):
    result = run_cli("audit", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(said) and result.stderr.count("\n") == 1, result.stderr


@pytest.mark.sandbox
def test_a_folder_whose_cases_fail_is_one_line(tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(TINY.folder, folder)
    (folder / "cases.py").write_text("def worksheet_cases(reference):\n    return 1 / 0\n\n\n"
                                     "def seeded_cases(seed, reference):\n    return []\n", encoding="utf-8")
    result = run_cli("audit", "--assignment", str(folder))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "ZeroDivisionError" in result.stderr, result.stderr


def test_its_help_says_what_the_exit_status_means():
    result = run_cli("audit", "--help")
    said = " ".join(result.stdout.split())
    assert "Exit status: 0 when no variant survived" in said and "1 otherwise" in said


@pytest.mark.sandbox
def test_a_catalogue_formula_that_cant_be_evaluated_is_one_line(tmp_path):
    folder = tmp_path / "typo"
    shutil.copytree(TINY.folder, folder)
    with (folder / "misconceptions.toml").open("a", encoding="utf-8") as entries:
        entries.write('\n[[mistake]]\nid = "norm.typo"\nquestion = "norm"\nanswer = "np.sum(vv ** 2)"\n'
                      'summary = "a typo"\nexplain = "A typo."\n')
    result = run_cli("audit", "--assignment", str(folder))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("Error: misconceptions.toml, mistake 3 (norm.typo): answer uses vv")
    assert result.stderr.count("\n") == 1, result.stderr
