"""The instructor's view of a class (issue 29): every lost point named, with a worked example
for a wrong answer several students share; the item analysis; answers shared too closely, for
the instructor only. Graded once, on a class written as students write: the model answer with
their mistakes in place."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from test_html import _cells, parse

from conftest import BACKPROP, SOLUTION, points, run_cli


def _edit(source: str, *changes: tuple[str, str]) -> str:
    for old, new in changes:
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


# Each a line of the model answer and what a student wrote instead.
TRANSPOSED_DJDW2 = ("return np.dot(a2.T, delta3)", "return np.dot(delta3.T, a2)")  # catalogued
DOUBLED_DJDW1 = ("return np.dot(X.T, delta2)", "return 2 * np.dot(X.T, delta2)")  # not catalogued
CUBED_PRIME = ("return np.exp(-z) / ((1 + np.exp(-z)) ** 2)",  # not catalogued
               "return np.exp(-z) / ((1 + np.exp(-z)) ** 3)")
SUMMED_FIRST = ("return np.dot(a2.T, delta3)",  # not catalogued: the sums taken before the product
                "return np.sum(a2, axis=0, keepdims=True).T * np.sum(delta3, axis=0, keepdims=True)")
ABS_DJDW1 = ("return np.dot(X.T, delta2)", "return np.dot(X.T, np.abs(delta2))")
AVERAGED_COST = ("return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)",
                 "return 0.5 * np.mean((y - yHat) ** 2, axis=0, keepdims=True)")  # catalogued
NO_COST = ("return 0.5 * np.sum((y - yHat) ** 2, axis=0, keepdims=True)", "raise NotImplementedError")
W2_UNTRANSPOSED = ("return np.dot(delta3, W2.T) * sigmoid_prime(z2)",
                   "return np.dot(delta3, W2) * sigmoid_prime(z2)")  # catalogued
PRIME_TRANSPOSED = ("return np.dot(delta3, W2.T) * sigmoid_prime(z2)",  # raises where the shapes differ
                    "return np.dot(delta3, W2.T) * sigmoid_prime(z2).T")

CLASS = {
    "ana": (),  # right throughout
    "ben": (TRANSPOSED_DJDW2,),  # ben and cy share a common catalogued mistake: never listed
    "cy": (TRANSPOSED_DJDW2, AVERAGED_COST),
    "dee": (DOUBLED_DJDW1, CUBED_PRIME),  # the planted pair: two uncommon uncatalogued answers
    "eli": (CUBED_PRIME, DOUBLED_DJDW1),
    "fay": (ABS_DJDW1,),  # a wrong answer of her own
    "gus": (SUMMED_FIRST,),  # gus and hal share one uncatalogued answer: a group, not a pair
    "hal": (SUMMED_FIRST, NO_COST),
    "ivy": (PRIME_TRANSPOSED,),
    "jo": (AVERAGED_COST, W2_UNTRANSPOSED, ("def dz3dW2(a2):\n", "def _dz3dW2_later(a2):\n")),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once (the table read back from the store): the JSON report, the
    table, the item analysis's CSV, the HTML report and the Markdown feedback."""
    root = tmp_path_factory.mktemp("class_view")
    folder = root / "class"
    folder.mkdir()
    for student, changes in CLASS.items():
        (folder / f"{student}.py").write_text(_edit(SOLUTION, *changes), encoding="utf-8")
    common = (str(folder), "-q", "--cache-dir", str(root / "store"))
    report = run_cli(*common, "--format", "json", "--feedback-dir", str(root / "feedback"),
                     "--html", str(root / "report.html"), "--item-analysis", str(root / "items.csv"))
    assert report.returncode == 0, report.stderr
    table = run_cli(*common)  # from the store: nothing graded again
    assert table.returncode == 0, table.stderr
    return {"json": json.loads(report.stdout), "table": table.stdout, "root": root,
            "items": list(csv.DictReader(io.StringIO((root / "items.csv").read_text(encoding="utf-8")))),
            "html": (root / "report.html").read_text(encoding="utf-8"),
            "feedback": {p.name: p.read_text(encoding="utf-8") for p in (root / "feedback").iterdir()}}


def _reteach(graded, question: str) -> dict:
    return next(q for q in graded["json"]["summary"]["reteach"] if q["question"] == question)


def test_every_lost_point_is_named_and_the_questions_ranked_by_points_lost(graded):
    summary = graded["json"]["summary"]
    reteach = summary["reteach"]
    lost = [q["points_lost"] for q in reteach]
    assert lost == sorted(lost, reverse=True)
    for question in reteach:  # every lost point is in one of its losses
        assert sum(item["points_lost"] for item in question["losses"]) == pytest.approx(question["points_lost"])
        assert sum(item["count"] for item in question["losses"]) == question["students"]
    by_id = {q["id"]: q for q in summary["questions"]}
    for question in reteach:
        assert by_id[question["question"]]["lost_points"] == question["students"]
    dJdW2 = _reteach(graded, "dJdW2")
    kinds = {(item["kind"], item.get("id"), tuple(item["students"])) for item in dJdW2["losses"]}
    assert ("catalogued", "dJdW2.transposed", ("ben", "cy")) in kinds
    assert ("same wrong answer", None, ("gus", "hal")) in kinds
    [group] = [item for item in dJdW2["losses"] if item["kind"] == "same wrong answer"]
    # right on a case of one example (a sum of one is the product), wrong on the others
    assert 0 < group["points_lost"] < 2 * points("dJdW2")
    # The worked example: what they computed, on which case, against which shape.
    assert group["example"].startswith("on worksheet Q"), group["example"]
    assert "shape" in group["example"] or "expected" in group["example"]
    cost = _reteach(graded, "cost")
    assert {item["kind"]: item["students"] for item in cost["losses"]} == {
        "catalogued": ["cy", "jo"], "not answered": ["hal"]}


def test_the_table_says_what_to_re_teach_with_the_worked_example(graded):
    table = graded["table"]
    start = table.index("what to re-teach")
    block = table[start:table.index("\n\n", start)]
    assert "dJdW2 (Q11, Q14-Q16): " in block
    assert ("2 students gave the same wrong answer, which no catalogue entry explains: gus, hal\n"
            "      worked example: on worksheet Q") in block
    assert "computed delta(3)^T a(2), transposed (catalogued: dJdW2.transposed): ben, cy" in block
    assert "a wrong answer of their own, no classmate's: fay" in block
    assert re.search(r"raised ValueError: ivy", block), block
    assert "did not transpose W2 (catalogued: delta2.W2_not_transposed): jo" in block


def test_the_item_analysis_gives_discrimination_and_every_case_pass_rate(graded):
    analysis = graded["json"]["summary"]["item_analysis"]
    assert "point-biserial" in analysis["discrimination"]
    rows = {row["id"]: row for row in analysis["questions"]}
    assert rows["forward"]["discrimination"] is None and rows["forward"]["note"].startswith("separates nobody")
    assert rows["forward"]["full_marks"] == 1
    assert rows["cost"]["full_marks"] == pytest.approx(7 / 10)
    assert -1 <= rows["dJdW2"]["discrimination"] <= 1
    for row in rows.values():
        assert row["cases"] and all(0 <= c["pass_rate"] <= 1 and c["graded"] == 10 for c in row["cases"])
    # The CSV file: a row per question, then one per case, the same numbers.
    items = graded["items"]
    questions = [row for row in items if not row["case"]]
    assert [row["question"] for row in questions] == [q.id for q in BACKPROP.questions]
    cost = next(row for row in questions if row["question"] == "cost")
    assert float(cost["full_marks"]) == pytest.approx(0.7) and cost["discrimination"]
    cases = [row for row in items if row["case"] and row["question"] == "cost"]
    assert len(cases) == len(rows["cost"]["cases"]) and all(row["pass_rate"] for row in cases)


def test_answers_shared_too_closely_list_the_planted_pair_and_nobody_else(graded):
    shared = graded["json"]["summary"]["shared_answers"]
    assert "not a finding" in shared["about"]
    assert shared["groups"] == [{"students": ["dee", "eli"], "questions": ["sigmoid_prime", "dJdW1"],
                                 "likelihood": 0.04}]
    table = graded["table"]
    start = table.index("answers shared more closely than usual")
    print(table[start:])
    assert "  dee, eli: the same wrong answers on sigmoid_prime, dJdW1 (each given by 2 of 10: together " \
           "about 1 in 25)" in table[start:]
    assert "ben, cy" not in table[start:] and "gus, hal" not in table[start:]


def test_nothing_shared_reaches_a_students_feedback(graded):
    """The Markdown feedback files and each student's JSON entry never mention it."""
    for text in [*graded["feedback"].values(),
                 *(json.dumps(entry) for entry in graded["json"]["submissions"])]:
        lowered = text.lower()
        assert "shared" not in lowered and "closely" not in lowered and "look at (" not in lowered
    dee = next(text for name, text in graded["feedback"].items() if name.startswith("dee"))
    assert "eli" not in dee


def test_the_html_report_shows_the_instructors_view(graded):
    page = graded["html"]
    assert "What to re-teach" in page and "worked example" in page
    assert "Item analysis" in page and "Pass rate of each case" in page
    assert "Answers shared more closely than usual" in page
    tree = parse(page)
    for table in tree.all("table"):  # captions, header rows, a header naming each row, as every table
        assert [c.tag for c in table.kids() if c.tag != "colgroup"] == ["caption", "thead", "tbody"]
        for row in table.kids("tbody")[0].kids("tr"):
            assert row.kids()[0].tag == "th" and row.kids()[0].attrs["scope"] == "row"
    [shared] = [t for t in tree.all("table") if t.attrs.get("class") == "shared"]
    assert [_cells(row) for row in shared.kids("tbody")[0].kids("tr")] == [
        ["dee, eli", "sigmoid_prime, dJdW1", "about 1 in 25"]]
    [reteach] = [t for t in tree.all("table") if t.attrs.get("class") == "reteach"]
    gus_hal = [row.text() for row in reteach.kids("tbody")[0].kids("tr") if "gus, hal" in row.text()]
    assert len(gus_hal) == 1 and "worked example: on worksheet Q" in gus_hal[0]
    [heat] = [t for t in tree.all("table") if t.attrs.get("class") == "heat"]
    first = heat.kids("tbody")[0].kids("tr")[0]  # the question with the most points lost, each kind's in words
    assert _cells(first) == ["dJdW2", "4 points", "2.4 points", "-", "-"]


def _gradient_checking_class():
    """ann right throughout; ben's Part 4 gradient wrong (0 points), all else right given it."""
    from grader import assignment
    from grader.results import CaseResult, QuestionResult, Status, SubmissionResult

    work = assignment.load("gradient-checking")

    def answered(question, wrong: bool) -> QuestionResult:
        cases = tuple(CaseResult(f"c{i}", f"case {i}", Status.WRONG if wrong else Status.PASSED,
                                 "got 1, expected 2" if wrong else "") for i in range(2))
        return QuestionResult(question, cases, "wrong" if wrong else "correct")

    return work, [SubmissionResult(name, f"{name}.py", possible=work.max_score, questions=tuple(
        answered(q, name == "ben" and q.id == "cost_function_prime") for q in work.questions))
        for name in ("ann", "ben")]


def test_a_wrong_earlier_part_of_0_points_shows_in_the_summary_and_the_gradebook():
    from grader.reports.html import to_html
    from grader.reports.summary import ClassStats
    from grader.reports.table import class_table, csv_chunks
    from grader.results import Report

    work, results = _gradient_checking_class()
    stats = ClassStats(work)
    for result in results:
        stats.add(result)
    assert stats.to_dict()["unscored_wrong"] == [
        {"question": "cost_function_prime", "worksheet": "Part 4 (reused)", "students": ["ben"]}]
    table = class_table(Report(work, 0, results))
    assert "  ben: Part 4 (reused), worth 0 points, wrong: cost_function_prime" in table
    assert "wrong in an earlier part this assignment builds on" in table
    assert "  cost_function_prime (Part 4 (reused)): 1 student\n" in table
    rows = list(csv.DictReader(io.StringIO("".join(csv_chunks(Report(work, 0, results))))))
    assert [row["notes"] for row in rows] == ["", "Part 4 (reused), worth 0 points, wrong: cost_function_prime"]
    page = to_html(results, work)
    assert page.count('<td class="n zero">0 (wrong)</td>') == 2  # the gradebook, and ben's own table
    assert "Wrong in an earlier part this assignment builds on" in page


def test_discrimination_is_the_item_rest_correlation_with_its_notes():
    from grader.reports.summary import discrimination, discrimination_note

    rests = [10.0, 8.0, 6.0, 4.0, 2.0]  # the rest of the totals, strongest first
    assert discrimination([1, 1, 1, 0, 0], rests) == pytest.approx(0.866, abs=1e-3)
    assert discrimination_note(0.866, [1, 1, 1, 0, 0]) == ""
    weakest = discrimination([0, 0, 1, 1, 1], rests)  # right only for the weakest
    assert weakest == pytest.approx(-0.866, abs=1e-3)
    assert discrimination_note(weakest, [0, 0, 1, 1, 1]).startswith("answered best by the weakest")
    assert discrimination([1, 1, 1, 1, 1], rests) is None
    assert discrimination_note(None, [1, 1, 1, 1, 1]).startswith("separates nobody: every student scored the same")
    assert discrimination_note(0.1, [1, 0, 1, 0, 1]).startswith("separates almost nobody")
    assert discrimination([1, 0], [1.0, 2.0]) is None  # too few students to say


def test_a_line_of_the_table_names_a_dozen_students_and_counts_the_rest():
    from grader.reports.summary import Loss
    from grader.reports.table import loss_line

    loss = Loss()
    for number in range(20):
        loss.add(f"s{number:02}", 10_000)
    line = loss_line({"kind": "not answered", "what": "not answered", "loss": loss})
    assert line.startswith("20 points, 20 students: not answered: s00, s01,")
    assert line.endswith("s11 and 8 more (all in the JSON summary and the HTML report)")


def test_a_case_much_harder_than_the_rest_of_its_question_is_pointed_out_when_two_or_more_fail_it():
    from grader.reports.summary import ClassStats
    from grader.results import CaseResult, QuestionResult, Status, SubmissionResult

    def student(name: str, fails_cost: bool) -> SubmissionResult:
        def cases(question):
            wrong = fails_cost and question.id == "cost"
            return tuple(CaseResult(f"c{i}", f"case {i}", Status.WRONG if wrong and i == 1 else Status.PASSED)
                         for i in range(2))
        return SubmissionResult(name, f"{name}.py", questions=tuple(
            QuestionResult(q, cases(q), "") for q in BACKPROP.questions))

    for failing, noted in ((1, False), (2, True)):
        stats = ClassStats(BACKPROP)
        for number in range(4):
            stats.add(student(f"s{number}", number < failing))
        cost = next(row for row in stats.item_analysis() if row["id"] == "cost")
        easy, hard = cost["cases"]
        assert (easy["pass_rate"], hard["pass_rate"]) == (1, (4 - failing) / 4)
        assert bool(hard["note"]) is noted and not easy["note"]
