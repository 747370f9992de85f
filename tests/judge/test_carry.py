"""Verdicts to trust on hard cases: carried-forward credit only where it is earned, blame on the
root, crashes inherited like wrong values, parameters in another order, float32, names that
mean the same, infinities, and what a student is shown."""

import json
import textwrap

import numpy as np
import pytest

from conftest import BACKPROP, FAST, SOLUTION, points, run_cli, scores, statuses, with_solution
from grader.grading import Options
from grader.judge import compare


def _feedback(result, question_id: str) -> str:
    return next(q.feedback for q in result.questions if q.question.id == question_id)


def _question(result, question_id: str):
    return next(q for q in result.questions if q.question.id == question_id)


# 1. Carried-forward credit can't be farmed.
ZEROS = textwrap.dedent("""\
    def sigmoid_prime(z):
        return np.zeros_like(z)

    def delta3(y, yHat, z3):
        return np.zeros_like(y)

    def delta2(delta3, W2, z2):
        return np.zeros_like(z2)

    def cost_function_prime(X, y, W1, W2):
        return np.zeros_like(W1), np.zeros_like(W2)
    """)


def test_zeros_that_never_call_the_wrong_function_get_no_carried_credit(grade):
    result = grade(with_solution(ZEROS))
    for question_id in ("sigmoid_prime", "delta3", "delta2", "cost_function_prime"):
        assert scores(result)[question_id] == 0, _feedback(result, question_id)
        assert "carried forward here" not in _feedback(result, question_id)
    assert result.score == BACKPROP.max_score - points("sigmoid_prime", "delta3", "delta2", "cost_function_prime")


def test_an_error_that_makes_the_question_trivial_carries_no_credit_and_says_so(grade):
    # delta3 does call the (zero) sigmoid_prime, so it is right given it, but all zeros.
    result = grade(with_solution("def sigmoid_prime(z):\n    return np.zeros_like(z)\n"))
    assert scores(result)["delta3"] == 0
    feedback = _feedback(result, "delta3")
    assert feedback.startswith("right given your own sigmoid_prime (Q6), but its error leaves this "
                               "answer constant where the right one is not: no credit carried forward")


def test_a_rerun_cannot_be_told_apart_because_there_is_none(grade):
    # Its sigmoid_prime answers right when forward ran first in the process (the grading run),
    # and doubled otherwise, as in a separate run for carried-forward credit; delta3 is wrong
    # by that same factor. Credit must come from what delta3 itself used: right values.
    source = with_solution(textwrap.dedent("""\
        _seen = []
        _forward = forward

        def forward(X, W1, W2):
            _seen.append(1)
            return _forward(X, W1, W2)

        def sigmoid_prime(z):
            right = np.exp(-z) / ((1 + np.exp(-z)) ** 2)
            return right if _seen else 2 * right

        def delta3(y, yHat, z3):
            return -(y - yHat) * 2 * sigmoid_prime(z3)
        """))
    result = grade(source)
    assert scores(result)["sigmoid_prime"] == points("sigmoid_prime")
    assert scores(result)["delta3"] == 0 and "carried" not in _feedback(result, "delta3")


def test_an_infinite_replay_credits_nothing(grade):
    result = grade(with_solution("def sigmoid_prime(z):\n    return np.full_like(z, np.inf)\n"))
    assert scores(result)["delta3"] == 0 and "carried forward here" not in _feedback(result, "delta3")


@pytest.mark.parametrize("got, expected, right", [
    (np.array([5.0]), np.array([np.inf]), False),
    (np.array([np.inf]), np.array([np.inf]), True),
    (np.array([-np.inf]), np.array([np.inf]), False),
    (np.array([np.nan]), np.array([np.nan]), False),
    (np.array([np.inf]), np.array([5.0]), False),
])
def test_non_finite_values_match_only_themselves(got, expected, right):
    assert (compare.compare_array(got, expected) is None) is right


# 2. An inherited crash is treated like an inherited wrong value.
DELTA2_TRANSPOSED = "def delta2(delta3, W2, z2):\n    return (np.dot(delta3, W2.T) * sigmoid_prime(z2)).T\n"


def test_a_crash_caused_by_an_earlier_wrong_function_is_carried_and_names_it(grade):
    result = grade(with_solution(DELTA2_TRANSPOSED))
    assert scores(result)["delta2"] == 0
    assert scores(result)["dJdW1"] == points("dJdW1")  # given the model answer's delta2, it is right
    cfp = _question(result, "cost_function_prime")
    assert cfp.score == points("cost_function_prime") and statuses(result)["cost_function_prime"] == "passed"
    crashed = [c for c in cfp.cases if c.carried_kind == "crash"]
    assert crashed and all(c.carried_from == ("delta2",) for c in cfp.cases)
    assert cfp.feedback.startswith("fails only because your delta2 (Q17) is wrong: on worksheet Q11")
    assert "fix delta2" in cfp.feedback and "line" not in cfp.feedback
    assert all("line" not in c.message and "only because your delta2" in c.message for c in crashed)
    assert result.score == BACKPROP.max_score - points("delta2")


# 3. Blame lands on the root.
NO_SQUARE = "def sigmoid_prime(z):\n    return np.exp(-z) / (1 + np.exp(-z))\n"


def test_blame_names_the_first_wrong_function_in_the_chain(grade):
    result = grade(with_solution(NO_SQUARE))
    assert scores(result)["sigmoid_prime"] == 0
    for question_id in ("delta3", "delta2", "cost_function_prime"):
        feedback = _feedback(result, question_id)
        assert feedback.startswith("right given your own sigmoid_prime (Q6), which is wrong"), feedback
        assert "delta3 (" not in feedback and "delta2 (" not in feedback
    assert result.score == BACKPROP.max_score - points("sigmoid_prime")


def test_the_series_class_with_a_wrong_sigmoid_prime_carries_it_into_its_gradient(grade):
    from conftest import SERIES_CLASS

    wrong = SERIES_CLASS.replace("return np.exp(-z) / ((1 + np.exp(-z)) ** 2)",
                                 "return np.exp(-z) / (1 + np.exp(-z))")
    result = grade("import numpy as np\n\n" + wrong)
    assert scores(result)["sigmoid_prime"] == 0
    cfp = _question(result, "cost_function_prime")
    assert cfp.score == points("cost_function_prime")
    assert cfp.feedback.startswith("right given your own sigmoid_prime (Q6)")


# 4. Parameters in another order are called by name, never diagnosed.
REORDERED = textwrap.dedent("""\
    def dJdW2(delta3, a2):
        return np.dot(a2.T, delta3)

    def delta3(yHat, y, z3):
        return -(y - yHat) * sigmoid_prime(z3)

    def dJdyHat(yHat, y):
        return -(y - yHat)

    def cost_function_prime(X, y, W1, W2):  # calls them in its own order, as a student would
        z2, a2, z3, yHat = forward(X, W1, W2)
        d3 = delta3(yHat, y, z3)
        d2 = delta2(d3, W2, z2)
        return dJdW1(X, d2), dJdW2(d3, a2)
    """)


def test_parameters_in_another_order_are_called_by_name(grade):
    result = grade(with_solution(REORDERED))
    assert result.score == BACKPROP.max_score
    assert all(q.diagnosis is None for q in result.questions)
    assert "Your parameters (delta3, a2) are the stub's in another order (a2, delta3): graded by " \
           "name" in _feedback(result, "dJdW2")
    assert "Your parameters (yHat, y, z3)" in _feedback(result, "delta3")
    assert "Your parameters (yHat, y)" in _feedback(result, "dJdyHat")


@pytest.mark.sandbox
def test_parameters_in_another_order_are_not_counted_as_mistakes_in_a_class(tmp_path):
    (tmp_path / "ana.py").write_text(with_solution(REORDERED))
    (tmp_path / "ben.py").write_text(with_solution(REORDERED))
    result = run_cli(str(tmp_path), "--no-cache", "-q")
    assert result.returncode == 0 and "sign" not in result.stdout and "transposed" not in result.stdout


def test_a_recorded_call_by_keyword_or_in_another_order_still_carries_forward(grade):
    source = with_solution(NO_SQUARE + textwrap.dedent("""\

        def delta3(yHat, y, z3):
            return -(y - yHat) * sigmoid_prime(z=z3)
        """))
    result = grade(source)
    assert _feedback(result, "delta3").startswith("right given your own sigmoid_prime (Q6)")


# 5. Tolerance that fits the numbers: float32 is not hard-coding.
FLOAT32 = textwrap.dedent("""\
    def _f32(*arrays):
        return [np.asarray(a, dtype=np.float32) for a in arrays]

    def sigmoid_prime(z):
        (z,) = _f32(z)
        return np.exp(-z) / ((1 + np.exp(-z)) ** 2)

    def delta2(delta3, W2, z2):
        delta3, W2, z2 = _f32(delta3, W2, z2)
        return np.dot(delta3, W2.T) * sigmoid_prime(z2)

    def dJdW1(X, delta2):
        X, delta2 = _f32(X, delta2)
        return np.dot(X.T, delta2)

    def cost_function_prime(X, y, W1, W2):
        X, y, W1, W2 = _f32(X, y, W1, W2)
        z2 = X @ W1
        a2 = 1 / (1 + np.exp(-z2))
        z3 = a2 @ W2
        yHat = 1 / (1 + np.exp(-z3))
        d3 = -(y - yHat) * sigmoid_prime(z3)
        d2 = (d3 @ W2.T) * sigmoid_prime(z2)
        return X.T @ d2, a2.T @ d3
    """)


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_float32_answers_are_right_to_their_precision_on_every_seed(grade, seed):
    result = grade(with_solution(FLOAT32), options=Options(BACKPROP, seed=seed, limits=FAST.limits))
    lost = {q.question.id: q.feedback for q in result.questions if q.score < q.question.points}
    assert result.score == BACKPROP.max_score, lost
    assert "Computed in float32: right to float32's precision" in _feedback(result, "cost_function_prime")
    assert all("sized for" not in q.feedback for q in result.questions)


def test_a_near_zero_entry_is_judged_against_the_arrays_scale():
    expected = np.array([1.0, 2e-9])
    assert compare.compare_array(np.array([1.0, 6e-8]), expected) is None  # off by 1e-8 of the scale
    assert compare.compare_array(np.array([1.0, 1e-3]), expected) is not None


def test_off_by_rounding_is_not_called_hard_coded(grade):
    # Right on the worksheet; on the seeded cases off by a little more than rtol, not grossly.
    source = with_solution(textwrap.dedent("""\
        def dJdW2(a2, delta3):
            scale = 1.0 if a2.shape[1] == 3 else 1 + 3e-5
            return np.dot(a2.T, delta3) * scale
        """))
    result = grade(source)
    assert scores(result)["dJdW2"] < points("dJdW2") and "sized for" not in _feedback(result, "dJdW2")
    grossly = grade(with_solution(textwrap.dedent("""\
        def dJdW2(a2, delta3):
            return np.dot(a2.T, delta3) if a2.shape[1] == 3 else np.zeros((a2.shape[1], delta3.shape[1]))
        """)))
    assert "as if sized for 3 hidden units (wrong with 4, 2 and 5)" in _feedback(grossly, "dJdW2")
    assert scores(grossly)["dJdW2"] == 0  # right only where the answers are published: nothing


# 6. Names that mean the same.
@pytest.mark.parametrize("name, question_id", [
    ("sigmoid_derivative", "sigmoid_prime"), ("dsigmoid", "sigmoid_prime"),
    ("sigmoid_grad", "sigmoid_prime"), ("d_sigmoid", "sigmoid_prime"),
    ("forward_propagation", "forward"), ("hidden_delta", "delta2"), ("output_delta", "delta3"),
])
def test_a_function_under_a_name_that_means_the_same_is_named(grade, name, question_id):
    model = SOLUTION.replace(f"def {question_id}(", f"def {name}(")
    model = model.replace(f"{question_id}(z", f"{name}(z") if question_id == "sigmoid_prime" else model
    result = grade(model)
    assert _feedback(result, question_id) == f"not defined: found `{name}`; rename it to `{question_id}`"


# What a student sees.
def test_feedback_without_expected_values_hides_the_worksheets_numbers_and_shapes(grade):
    bob = with_solution("def dJdW2(a2, delta3):\n    return np.dot(a2.T, delta3) * 2\n"
                        "def dJdW1_shape(i, h, o):\n    return (i, h, o)\n")
    full = grade(bob)
    assert "0.0101512" in json.dumps([c.message for q in full.questions for c in q.cases])
    hidden = grade(bob, options=Options(BACKPROP, feedback="no-expected", limits=FAST.limits))
    text = json.dumps([[q.feedback] + [c.message for c in q.cases] for q in hidden.questions])
    assert "0.0101512" not in text and "expected" not in text
    assert "(2, 3)" not in text and "(3, 1)" not in text
    assert hidden.score == full.score


def test_score_only_feedback_shows_scores_and_nothing_else(grade):
    result = grade(with_solution(NO_SQUARE), options=Options(BACKPROP, feedback="score-only", limits=FAST.limits))
    assert result.score == BACKPROP.max_score - points("sigmoid_prime")
    assert all(q.feedback == "" and all(c.message == "" for c in q.cases) for q in result.questions)


@pytest.mark.sandbox
def test_the_feedback_option_reaches_the_cli(tmp_path):
    path = tmp_path / "bob.py"
    path.write_text(with_solution("def dJdW2(a2, delta3):\n    return np.dot(a2.T, delta3) * 2\n"))
    shown = run_cli(str(path), "--feedback", "no-expected", "--no-cache", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    assert "0.0101512" not in shown.stdout
    assert "0.0101512" in run_cli(str(path), "--no-cache", "--format", "json").stdout


def test_no_explanation_states_an_answer():
    from grader.judge import catalogue

    answers = ["f(z)(1 - f(z))", "f(z) (1 - f(z))", "(a(2))^T delta(3)", "a(2)^T delta(3)",
               "delta(3)^T a(2)", "X^T", "(W(2))^T", "W2.T", "-(y - yHat)", "(hiddenLayerSize, 1)",
               "(inputLayerSize, hiddenLayerSize)", "(hiddenLayerSize, outputLayerSize)",
               "f'(z(3))", "f'(z(2)),", "multiplied by"]
    for mistake in catalogue.load(None, BACKPROP):
        for answer in answers:
            if mistake.id.startswith(("delta3.missing", "delta2.missing")) and answer.startswith("f'"):
                continue  # naming what is missing is the diagnosis, not the answer
            assert answer not in mistake.explain, (mistake.id, answer)


# The class view accounts for every lost point, and finds the catalogue's next entries.
@pytest.mark.sandbox
def test_the_same_uncatalogued_wrong_answer_is_grouped_and_every_lost_point_accounted(tmp_path):
    doubled = "def dJdW1(X, delta2):\n    return 2 * np.dot(X.T, delta2)\n"
    for name in ("ana", "ben", "cai", "dee"):
        (tmp_path / f"{name}.py").write_text(with_solution(doubled))
    (tmp_path / "eve.py").write_text(with_solution("def dJdW1(X, delta2):\n    return 3 * X.T @ delta2\n"))
    (tmp_path / "fay.py").write_text(SOLUTION.replace("def dJdW1(", "def _not_yet("))
    (tmp_path / "gus.py").write_text(with_solution("def dJdW1(X, delta2):\n    return np.dot(X, delta2)\n"))
    (tmp_path / "hal.py").write_text(SOLUTION)
    table = run_cli(str(tmp_path), "--no-cache", "-q").stdout
    assert ("4 students gave the same wrong answer, which no catalogue entry explains: "
            "ana, ben, cai, dee\n      worked example: on ") in table
    document = json.loads(run_cli(str(tmp_path), "--no-cache", "--format", "json").stdout)
    dJdW1 = next(q for q in document["summary"]["questions"] if q["id"] == "dJdW1")
    assert (dJdW1["lost_points"], dJdW1["diagnosed"], dJdW1["grouped"], dJdW1["not_answered"],
            dJdW1["other"]) == (7 * points("dJdW1"), 1, 4, 1, 1)
    assert dJdW1["uncatalogued_groups"] == [{"students": ["ana", "ben", "cai", "dee"], "count": 4}]
    assert dJdW1["diagnoses"] == {"dJdW1.X_not_transposed": 1}
    assert document["summary"]["graded"] == 8
    page = tmp_path / "report.html"
    run_cli(str(tmp_path), "--no-cache", "-q", "--html", str(page))
    assert "4 students gave the same wrong answer, which no catalogue entry explains: ana, ben, " \
           "cai, dee" in page.read_text()


@pytest.mark.sandbox
def test_gradescope_shows_scores_only_when_asked(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "backprop.py").write_text(with_solution(NO_SQUARE))
    results = tmp_path / "results" / "results.json"
    done = run_cli("gradescope", "--submission", str(submission), "--results", str(results),
                   "--feedback", "score-only")
    assert done.returncode == 0, done.stderr
    document = json.loads(results.read_text())
    assert document["score"] == BACKPROP.max_score - points("sigmoid_prime")
    outputs = [t["output"] for t in document["tests"]]
    assert set(outputs) == {"score only: no feedback is shown for this question"}
