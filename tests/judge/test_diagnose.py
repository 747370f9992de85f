"""Diagnoses, carried-forward credit, near-miss names and hard-coding, end to end: the
worksheet's catalogue on the worksheet, the engine's verdicts on the tiny assignment."""

import json
from dataclasses import replace

import pytest

from conftest import (
    BACKPROP,
    SOLUTION,
    TINY,
    TINY_ARGS,
    TINY_FAST,
    TINY_SOLUTION,
    points,
    run_cli,
    scores,
    statuses,
    with_solution,
    with_tiny_solution,
)
from grader.judge import catalogue

# One realistic student function per catalogued mistake: what a student would write.
MISTAKES = {
    "forward.missing_output_sigmoid":
        "def forward(X, W1, W2):\n    z2 = X @ W1\n    a2 = sigmoid(z2)\n    z3 = a2 @ W2\n    return z2, a2, z3, z3\n",
    "forward.missing_hidden_sigmoid":
        "def forward(X, W1, W2):\n    z2 = X @ W1\n    z3 = z2 @ W2\n    return z2, z2, z3, sigmoid(z3)\n",
    "cost.missing_half": "def cost(y, yHat):\n    return np.sum((y - yHat) ** 2, axis=0, keepdims=True)\n",
    "cost.mean": "def cost(y, yHat):\n    return 0.5 * np.mean((y - yHat) ** 2, axis=0, keepdims=True)\n",
    "cost.not_summed": "def cost(y, yHat):\n    return 0.5 * (y - yHat) ** 2\n",
    "shape.swapped": "def dJdW1_shape(i, h, o):\n    return (h, i)\n",
    "sigmoid_prime.applied_to_z": "def sigmoid_prime(z):\n    return z * (1 - z)\n",
    "sigmoid_prime.not_differentiated": "def sigmoid_prime(z):\n    return 1 / (1 + np.exp(-z))\n",
    "sigmoid_prime.no_square": "def sigmoid_prime(z):\n    return np.exp(-z) / (1 + np.exp(-z))\n",
    "delta3.sign": "def delta3(y, yHat, z3):\n    return (y - yHat) * sigmoid_prime(z3)\n",
    "delta3.missing_fprime": "def delta3(y, yHat, z3):\n    return -(y - yHat)\n",
    "delta3.fprime_of_yhat": "def delta3(y, yHat, z3):\n    return -(y - yHat) * sigmoid_prime(yHat)\n",
    "delta3.dot_product": "def delta3(y, yHat, z3):\n    return np.dot(-(y - yHat), sigmoid_prime(z3))\n",
    "dz3dW2.transposed": "def dz3dW2(a2):\n    return a2\n",
    "dJdW2.missing_delta3": "def dJdW2(a2, delta3):\n    return a2.T\n",
    "dJdW2.transposed": "def dJdW2(a2, delta3):\n    return np.dot(delta3.T, a2)\n",
    "dJdW2.elementwise": "def dJdW2(a2, delta3):\n    return a2 * delta3\n",
    "dJdW2.elementwise_transposed": "def dJdW2(a2, delta3):\n    return a2.T * delta3\n",
    "dJdW2.reshaped": "def dJdW2(a2, delta3):\n    return np.dot(a2.reshape(a2.shape[1], a2.shape[0]), delta3)\n",
    "dJdW2.summed_to_a_number": "def dJdW2(a2, delta3):\n    return np.sum(per_example_dJdW2(a2, delta3))\n",
    "dJdW2.mean": "def dJdW2(a2, delta3):\n    return np.dot(a2.T, delta3) / a2.shape[0]\n",
    "delta2.W2_not_transposed": "def delta2(delta3, W2, z2):\n    return np.dot(delta3, W2) * sigmoid_prime(z2)\n",
    "delta2.elementwise": "def delta2(delta3, W2, z2):\n    return delta3 * W2.T * sigmoid_prime(z2)\n",
    "delta2.fprime_of_a2": "def delta2(delta3, W2, z2):\n    a2 = sigmoid(z2)\n    return np.dot(delta3, W2.T) * sigmoid_prime(a2)\n",
    "delta2.missing_fprime": "def delta2(delta3, W2, z2):\n    return np.dot(delta3, W2.T)\n",
    "delta2.dot_product":
        "def delta2(delta3, W2, z2):\n    return np.dot(np.dot(delta3, W2.T), sigmoid_prime(z2))\n",
    "dJdW1.X_not_transposed": "def dJdW1(X, delta2):\n    return np.dot(X, delta2)\n",
    "dJdW1.mean": "def dJdW1(X, delta2):\n    return X.T @ delta2 / len(X)\n",
    "dJdW1.transposed": "def dJdW1(X, delta2):\n    return np.dot(delta2.T, X)\n",
    "dJdW1.reshaped": "def dJdW1(X, delta2):\n    return np.dot(X.reshape(X.shape[1], X.shape[0]), delta2)\n",
    "dJdyHat.sign": "def dJdyHat(y, yHat):\n    return y - yHat\n",
    "dJdyHat.half_kept": "def dJdyHat(y, yHat):\n    return -0.5 * (y - yHat)\n",
    "per_example_dJdW2.examples_last":
        "def per_example_dJdW2(a2, delta3):\n    return np.einsum('ij,ik->jki', a2, delta3)\n",
    "per_example_dJdW2.transposed":
        "def per_example_dJdW2(a2, delta3):\n    return np.array([np.outer(d, a) for a, d in zip(a2, delta3)])\n",
    "per_example_dJdW2.summed": "def per_example_dJdW2(a2, delta3):\n    return np.dot(a2.T, delta3)\n",
    "a2_rows_and_columns.swapped": "A2_ROWS = 'hidden unit'\nA2_COLUMNS = 'Examples'\n",
    "cost_function_prime.swapped":
        "_right = cost_function_prime\ndef cost_function_prime(X, y, W1, W2):\n    a, b = _right(X, y, W1, W2)\n    return b, a\n",
    "cost_function_prime.sign":
        "def cost_function_prime(X, y, W1, W2):\n    z2, a2, z3, yHat = forward(X, W1, W2)\n"
        "    d3 = (y - yHat) * sigmoid_prime(z3)\n    d2 = np.dot(d3, W2.T) * sigmoid_prime(z2)\n"
        "    return np.dot(X.T, d2), np.dot(a2.T, d3)\n",
    "cost_function_prime.regularised":  # the series' Part 7 class, as functions
        "def cost_function_prime(X, y, W1, W2):\n    Lambda = 0.0001\n"
        "    z2, a2, z3, yHat = forward(X, W1, W2)\n"
        "    d3 = np.multiply(-(y - yHat), sigmoid_prime(z3))\n"
        "    dJdW2 = np.dot(a2.T, d3) / X.shape[0] + Lambda * W2\n"
        "    d2 = np.dot(d3, W2.T) * sigmoid_prime(z2)\n"
        "    dJdW1 = np.dot(X.T, d2) / X.shape[0] + Lambda * W1\n    return dJdW1, dJdW2\n",
    "cost_function_prime.regularised_sum":
        "def cost_function_prime(X, y, W1, W2):\n    lam = 1e-4\n"
        "    z2, a2, z3, yHat = forward(X, W1, W2)\n    d3 = -(y - yHat) * sigmoid_prime(z3)\n"
        "    d2 = (d3 @ W2.T) * sigmoid_prime(z2)\n    return X.T @ d2 + lam * W1, a2.T @ d3 + lam * W2\n",
    "cost_function_prime.mean":
        "_right = cost_function_prime\ndef cost_function_prime(X, y, W1, W2):\n    a, b = _right(X, y, W1, W2)\n    return a / len(X), b / len(X)\n",
}


def _question_of(source: str) -> str:
    if "A2_ROWS" in source:
        return "a2_rows_and_columns"
    return source.split("def ")[-1].split("(")[0]


def test_every_catalogued_mistake_has_a_test_and_the_required_ids_exist():
    ids = {m.id for m in catalogue.load(None, BACKPROP)}
    assert ids == set(MISTAKES)
    assert {"dJdW2.missing_delta3", "dJdW2.transposed", "sigmoid_prime.applied_to_z",
            "sigmoid_prime.not_differentiated", "delta3.sign", "delta3.missing_fprime",
            "dz3dW2.transposed", "shape.swapped"} <= ids


@pytest.mark.parametrize("mistake_id", sorted(MISTAKES))
def test_the_mistake_is_diagnosed_and_nothing_else_is(grade, mistake_id):
    source = MISTAKES[mistake_id]
    question_id = _question_of(source)
    result = grade(with_solution(source))
    diagnoses = {q.question.id: q.diagnosis.id for q in result.questions if q.diagnosis}
    assert diagnoses == {question_id: mistake_id}
    explained = next(q for q in result.questions if q.question.id == question_id)
    assert explained.feedback.startswith(next(m.explain for m in catalogue.load(None, BACKPROP) if m.id == mistake_id))


@pytest.mark.parametrize("source", [
    "def delta3_shape(n, o):\n    return (o, n)\n",
    "def dJdW2_shape(i, h, o):\n    return [o, h]\n",
])
def test_shape_swapped_covers_every_shape_question(grade, source):
    result = grade(with_solution(source))
    assert [q.diagnosis.id for q in result.questions if q.diagnosis] == ["shape.swapped"]


def test_one_minus_f_is_the_derivative_without_its_square(grade):
    result = grade(with_solution("def sigmoid_prime(z):\n    return 1 - sigmoid(z)\n"))
    assert [q.diagnosis.id for q in result.questions if q.diagnosis] == ["sigmoid_prime.no_square"]


def test_a_right_answer_never_gets_a_diagnosis(grade):
    result = grade(SOLUTION)
    assert all(q.diagnosis is None for q in result.questions)


# The engine's verdicts, on the tiny assignment (tests/data): its norm calls square, and
# its unit calls norm.

def _graded(result, question_id: str):
    return next(q for q in result.questions if q.question.id == question_id)


def test_an_unknown_mistake_gets_the_plain_comparison(grade_tiny):
    result = grade_tiny(with_tiny_solution("def square(v):\n    return v ** 2 + 0.5\n"))
    square = _graded(result, "square")
    assert square.diagnosis is None and "entries differ" in square.feedback


WRONG_NORM = "def norm(v):\n    return np.sum(square(v))\n"  # the catalogue's norm.squared


def test_error_carried_forward_gets_the_credit(grade_tiny):
    result = grade_tiny(with_tiny_solution(WRONG_NORM))
    assert scores(result)["norm"] == 0
    assert statuses(result)["unit"] == "passed" and scores(result)["unit"] == points("unit", of=TINY)
    unit = _graded(result, "unit")
    assert unit.feedback.startswith("right given your own norm (Q2), which is wrong")
    assert all(c.carried_from == ("norm",) for c in unit.cases)
    assert result.score == TINY.max_score - points("norm", of=TINY)


def test_no_carry_forward_takes_the_credit_away_but_still_explains(grade_tiny):
    result = grade_tiny(with_tiny_solution(WRONG_NORM), options=replace(TINY_FAST, carry_forward=False))
    assert scores(result)["unit"] == 0
    assert result.score == TINY.max_score - points("norm", "unit", of=TINY)
    assert "wrong only because your norm (Q2) is wrong" in _graded(result, "unit").feedback


def test_an_answer_wrong_in_itself_is_not_carried_forward(grade_tiny):
    result = grade_tiny(with_tiny_solution(WRONG_NORM + "def unit(v):\n    return -v / norm(v)\n"))
    assert scores(result)["unit"] == 0 and statuses(result)["unit"] == "wrong"


def test_a_number_question_built_on_a_wrong_function_gets_its_credit_too(grade_tiny):
    result = grade_tiny(with_tiny_solution("def square(v):\n    return 2 * v ** 2\n"))
    assert scores(result)["norm"] == points("norm", of=TINY), _graded(result, "norm").feedback
    assert _graded(result, "unit").feedback.startswith("right given your own square (Q1)")


def without(name: str, extra: str = "") -> str:
    """The tiny model answer without its function `name` (never written: a `del` would be said
    to have removed it), and `extra`."""
    return with_tiny_solution(extra).replace(f"def {name}(", f"def _{name}_not_handed_in(")


@pytest.mark.parametrize("defined, expected", [
    ("def outershape(n, m):\n    return (n, m)\n", "found `outershape`; rename it to `outer_shape`"),
    ("def Unit(v):\n    return v\n", "found `Unit`; rename it to `unit`"),
    ("def Outer_Shape(n, m):\n    return (n, m)\n", "found `Outer_Shape`; rename it to `outer_shape`"),
])
def test_near_miss_names_are_named(grade_tiny, defined, expected):
    name = "outer_shape" if "hape" in defined else "unit"
    graded = _graded(grade_tiny(without(name, defined)), name)
    assert graded.status.value == "missing" and graded.feedback == f"not defined: {expected}"


def test_another_contract_function_is_not_a_near_miss(grade_tiny):
    graded = _graded(grade_tiny(without("unit")), "unit")
    assert graded.feedback == "not defined: write a function named unit"


def test_right_only_where_a_size_is_the_worksheets_is_called_sized_for_it(grade_tiny):
    result = grade_tiny(with_tiny_solution("def outer_shape(n, m):\n    return (3, 2)\n"))
    # (right only where the answers are published, it also earns nothing: issue 27, 8)
    assert _graded(result, "outer_shape").feedback.startswith(
        "right only on the worksheet's own cases, whose answers are published, and on no other, where it answers as a table of them would, "
        "as if sized for 3 numbers (wrong with 1 and 5): no points for it, and your instructor sees it")
    assert any(flag.startswith("right only where the answers are published") and flag.endswith("outer_shape")
               for flag in result.flags)


def test_wrong_where_no_size_explains_it_is_not_called_sized_for_anything(grade_tiny):
    # Issue 27, 3: right on the worksheet's 3 numbers and on 5, wrong on 1: it is not sized for
    # 3 numbers, whatever else is wrong with it (before: "correct on the worksheet's numbers only").
    result = grade_tiny(with_tiny_solution(
        "def unit(v):\n    # a vector of one number is already a unit vector\n"
        "    return v / norm(v) if len(v) > 1 else v\n"))
    feedback = _graded(result, "unit").feedback
    assert "sized for" not in feedback and "worksheet's numbers only" not in feedback
    assert feedback.startswith("random (1 number)")


# Back on the worksheet: its chain of calls, and its numbers.

def test_carried_forward_through_a_chain_of_calls(grade):
    # cost_function_prime calls forward, then delta3 on forward's (wrong) yHat, then delta2 on
    # that delta3...: each link's arguments exist only once the previous one is answered.
    result = grade(with_solution(MISTAKES["forward.missing_output_sigmoid"]))
    assert scores(result)["forward"] == 0
    assert statuses(result)["cost_function_prime"] == "passed"
    cfp = next(q for q in result.questions if q.question.id == "cost_function_prime")
    assert "right given your own forward" in cfp.feedback


def test_numeric_messages_read_like_numpy(grade):
    result = grade(with_solution("def dJdW1(X, delta2):\n    return X.T @ delta2 * 1.01\n"))
    message = next(q for q in result.questions if q.question.id == "dJdW1").feedback
    # atol is rtol times the answer's scale (its largest entry, 0.00217404 here), at least 1e-8.
    assert message.startswith("worksheet Q11 (one example): 6 of 6 entries differ (rtol 1e-05, "
                              "atol 2.17e-08); worst [")
    assert "max abs error" in message and "max rel error 0.01" in message


@pytest.mark.sandbox
def test_the_json_report_names_the_diagnosis(tmp_path):
    path = tmp_path / "bob.py"
    path.write_text(with_tiny_solution(WRONG_NORM))
    report = json.loads(run_cli(str(path), *TINY_ARGS, "--format", "json").stdout)
    questions = {q["id"]: q for q in report["submissions"][0]["questions"]}
    assert questions["norm"]["diagnosis"] == "norm.squared"
    assert questions["square"]["diagnosis"] is None


@pytest.mark.sandbox
def test_an_instructor_can_extend_the_catalogue(tmp_path):
    extra = tmp_path / "ours.toml"
    extra.write_text('[[mistake]]\nid = "square.doubled"\nquestion = "square"\nanswer = "2 * v ** 2"\n'
                     'summary = "doubled it"\nexplain = "Twice too big: see Q1."\n')
    path = tmp_path / "s.py"
    path.write_text(with_tiny_solution("def square(v):\n    return 2 * v ** 2\n"))
    report = json.loads(run_cli(str(path), *TINY_ARGS, "--format", "json", "--catalogue", str(extra)).stdout)
    square = next(q for q in report["submissions"][0]["questions"] if q["id"] == "square")
    assert square["diagnosis"] == "square.doubled" and square["feedback"].startswith("Twice too big")


@pytest.mark.sandbox
def test_a_broken_catalogue_is_a_one_line_error(tmp_path):
    extra = tmp_path / "bad.toml"
    extra.write_text('[[mistake]]\nid = "x"\nquestion = "nope"\nanswer = "1"\nsummary = "s"\nexplain = "e"\n')
    (tmp_path / "s.py").write_text(TINY_SOLUTION)
    result = run_cli(str(tmp_path / "s.py"), *TINY_ARGS, "--catalogue", str(extra))
    assert result.returncode == 1 and "no question 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
