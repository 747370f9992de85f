"""Assignments as folders: the second worksheet (gradient-checking) graded as the first is; the
engine's tiny assignment (tests/data) sound; and a third assignment, written here in the
earlier one-folder layout, graded by the same engine with no change to it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from conftest import BACKPROP, FAST, ROOT, SERIES_CLASS, TINY, TINY_SOLUTION, TINY_STUB, points, run_cli, scores
from grader import assignment
from grader.assignment import stub_notebook
from grader.grading import Options, grade_path
from grader.selfcheck.notebook import check

CHECKING = assignment.load("gradient-checking")
CHECKING_FAST = replace(FAST, assignment=CHECKING, catalogues=None)
MODEL = CHECKING.model_answer_path.read_text(encoding="utf-8")
CHECKING_POINTS = {"forward": 0, "cost": 0, "cost_function_prime": 0, "get_params": 1,
                   "set_params": 1, "compute_gradients": 2, "numerical_gradient": 3,
                   "relative_error": 1}


def _grade(write, source: str, options: Options = CHECKING_FAST, name: str = "gradient_checking.py"):
    return grade_path(write(source, name), options)


def _replaced(old: str, new: str) -> str:
    assert old in MODEL, old
    return MODEL.replace(old, new)


# --- the second assignment -----------------------------------------------------------------

def test_gradient_checking_is_installed_and_listed():
    assert {p.name for p in assignment.installed()} >= {"backprop", "gradient-checking"}
    listed = run_cli("assignments")
    assert listed.returncode == 0, listed.stderr
    assert "backprop (default)" in listed.stdout and "gradient-checking" in listed.stdout
    assert "hand in gradient_checking.py or gradient_checking.ipynb" in listed.stdout


def test_its_questions_and_points_come_from_its_folder():
    assert {q.id: q.points for q in CHECKING.questions} == CHECKING_POINTS
    assert CHECKING.max_score == sum(CHECKING_POINTS.values())


@pytest.mark.sandbox
def test_model_answer_full_stub_zero(write):
    model = _grade(write, MODEL)
    assert model.error is None and model.score == model.max_score == CHECKING.max_score, model
    assert all(q.status.value == "passed" for q in model.questions)
    stub = _grade(write, CHECKING.stub_path.read_text(encoding="utf-8"))
    assert stub.score == 0 and stub.max_score == CHECKING.max_score
    assert all(q.unanswered for q in stub.questions)


# Each catalogued mistake, written as a student writes it (not as the catalogue's formula).
MISTAKES = {
    "numerical_gradient.one_sided": (
        "        J_minus = np.sum(cost(y, forward(X, *set_params(params - perturb, *sizes))[3]))\n"
        "        numgrad[p] = (J_plus - J_minus) / (2 * epsilon)",
        "        J_here = np.sum(cost(y, forward(X, *set_params(params, *sizes))[3]))\n"
        "        numgrad[p] = (J_plus - J_here) / epsilon"),
    "numerical_gradient.divided_by_epsilon": (
        "numgrad[p] = (J_plus - J_minus) / (2 * epsilon)", "numgrad[p] = (J_plus - J_minus) / epsilon"),
    "numerical_gradient.perturbation_not_reset": (
        "    for p in range(params.size):\n        perturb = np.zeros(params.shape)",
        "    perturb = np.zeros(params.shape)\n    for p in range(params.size):"),
    "numerical_gradient.weights_not_restored": (
        "        perturb = np.zeros(params.shape)\n        perturb[p] = epsilon\n"
        "        J_plus = np.sum(cost(y, forward(X, *set_params(params + perturb, *sizes))[3]))\n"
        "        J_minus = np.sum(cost(y, forward(X, *set_params(params - perturb, *sizes))[3]))",
        "        params[p] += epsilon\n"
        "        J_plus = np.sum(cost(y, forward(X, *set_params(params, *sizes))[3]))\n"
        "        params[p] -= 2 * epsilon\n"
        "        J_minus = np.sum(cost(y, forward(X, *set_params(params, *sizes))[3]))"),
    "get_params.column_major": (
        "return np.concatenate((W1.ravel(), W2.ravel()))",
        "return np.concatenate((W1.T.flatten(), W2.T.flatten()))"),
    "get_params.W2_first": (
        "return np.concatenate((W1.ravel(), W2.ravel()))", "return np.concatenate((W2.ravel(), W1.ravel()))"),
    "set_params.column_major": (
        "    W1 = np.reshape(params[:end_of_W1], (input_layer_size, hidden_layer_size))\n"
        "    W2 = np.reshape(params[end_of_W1:end_of_W2], (hidden_layer_size, output_layer_size))",
        "    W1 = params[:end_of_W1].reshape(hidden_layer_size, input_layer_size).T\n"
        "    W2 = params[end_of_W1:end_of_W2].reshape(output_layer_size, hidden_layer_size).T"),
    "compute_gradients.column_major": (
        "    return get_params(dJdW1, dJdW2)",
        "    return np.concatenate([dJdW1.flatten(order='F'), dJdW2.flatten(order='F')])"),
    "relative_error.no_denominator": (
        "return np.linalg.norm(grad - numgrad) / np.linalg.norm(grad + numgrad)",
        "return np.sqrt(np.sum((grad - numgrad) ** 2))"),
    "relative_error.l1_norm": (
        "return np.linalg.norm(grad - numgrad) / np.linalg.norm(grad + numgrad)",
        "return np.abs(grad - numgrad).sum() / np.abs(grad + numgrad).sum()"),
    "relative_error.plain_sum": (
        "return np.linalg.norm(grad - numgrad) / np.linalg.norm(grad + numgrad)",
        "return sum(grad - numgrad) / sum(grad + numgrad)"),
    "numerical_gradient.all_at_once": ("perturb[p] = epsilon", "perturb[:] = epsilon"),
    "numerical_gradient.not_divided": (
        "numgrad[p] = (J_plus - J_minus) / (2 * epsilon)", "numgrad[p] = J_plus - J_minus"),
    "numerical_gradient.aliased_copies": (
        "        perturb = np.zeros(params.shape)\n        perturb[p] = epsilon\n"
        "        J_plus = np.sum(cost(y, forward(X, *set_params(params + perturb, *sizes))[3]))\n"
        "        J_minus = np.sum(cost(y, forward(X, *set_params(params - perturb, *sizes))[3]))",
        "        params_plus = params\n        params_plus[p] += epsilon\n"
        "        J_plus = np.sum(cost(y, forward(X, *set_params(params_plus, *sizes))[3]))\n"
        "        params_minus = params\n        params_minus[p] -= epsilon\n"
        "        J_minus = np.sum(cost(y, forward(X, *set_params(params_minus, *sizes))[3]))"),
    "numerical_gradient.pushes_cancel": (
        "        perturb = np.zeros(params.shape)\n        perturb[p] = epsilon\n"
        "        J_plus = np.sum(cost(y, forward(X, *set_params(params + perturb, *sizes))[3]))\n"
        "        J_minus = np.sum(cost(y, forward(X, *set_params(params - perturb, *sizes))[3]))",
        "        params_plus, params_minus = params, params\n"
        "        params_plus[p] += epsilon\n        params_minus[p] -= epsilon\n"
        "        J_plus = np.sum(cost(y, forward(X, *set_params(params_plus, *sizes))[3]))\n"
        "        J_minus = np.sum(cost(y, forward(X, *set_params(params_minus, *sizes))[3]))"),
    "get_params.W1_column_major": (
        "return np.concatenate((W1.ravel(), W2.ravel()))",
        "return np.concatenate((W1.flatten('F'), W2.flatten()))"),
    "set_params.W1_column_major": (
        "    W1 = np.reshape(params[:end_of_W1], (input_layer_size, hidden_layer_size))",
        "    W1 = np.reshape(params[:end_of_W1], (input_layer_size, hidden_layer_size), order='F')"),
}


@pytest.mark.sandbox
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_catalogued_mistake_is_diagnosed(write, mistake):
    question = mistake.split(".")[0]
    result = _grade(write, _replaced(*MISTAKES[mistake]))
    graded = {q.question.id: q for q in result.questions}[question]
    assert graded.diagnosis is not None and graded.diagnosis.id == mistake, graded.feedback
    assert graded.score < graded.question.points
    entry = next(m for m in __import__("grader.judge.catalogue", fromlist=["load"]).load(None, CHECKING)
                 if m.id == mistake)
    assert graded.feedback.startswith(entry.explain)


def test_every_catalogue_entry_has_a_test_here():
    from grader.judge import catalogue

    assert {m.id for m in catalogue.load(None, CHECKING)} == set(MISTAKES)


@pytest.mark.sandbox
def test_a_wrong_backpropagation_is_named_and_what_builds_on_it_keeps_its_credit(write):
    # Part 4's functions are worth nothing here, but a wrong one is named, and the unrolled
    # gradient built on it is right given it.
    result = _grade(write, _replaced("delta3 = -(y - yHat) * sigmoid_prime(z3)", "delta3 = -(y - yHat)"))
    by_id = {q.question.id: q for q in result.questions}
    assert by_id["cost_function_prime"].status.value == "wrong"
    assert by_id["compute_gradients"].score == 2
    assert "right given your own cost_function_prime (Part 4 (reused))" in by_id["compute_gradients"].feedback
    assert by_id["numerical_gradient"].score == 3  # it checks the cost, not backpropagation
    assert result.score == CHECKING.max_score


# The series' Part 5 form: Part 4's class (as test_real_handins writes it) with Part 5's
# methods, and computeNumericalGradient beside it.
SERIES_CLASS_FORM = '''
import numpy as np

X = np.array(([3, 5], [5, 1], [10, 2]), dtype=float)
y = np.array(([75], [82], [93]), dtype=float)
X = X / np.amax(X, axis=0)
y = y / 100


''' + SERIES_CLASS + '''
    def getParams(self):
        return np.concatenate((self.W1.ravel(), self.W2.ravel()))

    def setParams(self, params):
        W1_end = self.hiddenLayerSize * self.inputLayerSize
        self.W1 = np.reshape(params[0:W1_end], (self.inputLayerSize, self.hiddenLayerSize))
        W2_end = W1_end + self.hiddenLayerSize * self.outputLayerSize
        self.W2 = np.reshape(params[W1_end:W2_end], (self.hiddenLayerSize, self.outputLayerSize))

    def computeGradients(self, X, y):
        dJdW1, dJdW2 = self.costFunctionPrime(X, y)
        return np.concatenate((dJdW1.ravel(), dJdW2.ravel()))


def computeNumericalGradient(N, X, y):
    paramsInitial = N.getParams()
    numgrad = np.zeros(paramsInitial.shape)
    perturb = np.zeros(paramsInitial.shape)
    e = 1e-4
    for p in range(len(paramsInitial)):
        perturb[p] = e
        N.setParams(paramsInitial + perturb)
        loss2 = N.costFunction(X, y)
        N.setParams(paramsInitial - perturb)
        loss1 = N.costFunction(X, y)
        numgrad[p] = (loss2 - loss1) / (2 * e)
        perturb[p] = 0
    N.setParams(paramsInitial)
    return numgrad


NN = Neural_Network()
numgrad = computeNumericalGradient(NN, X, y)
grad = NN.computeGradients(X, y)
print(np.linalg.norm(grad - numgrad) / np.linalg.norm(grad + numgrad))
'''


@pytest.mark.sandbox
def test_the_series_class_form_is_graded_through_the_assignments_adapter(write):
    result = _grade(write, SERIES_CLASS_FORM, name="partFive.py")
    got = scores(result)
    assert {q: got[q] for q in CHECKING_POINTS if q != "relative_error"} == \
        {q: p for q, p in CHECKING_POINTS.items() if q != "relative_error"}
    assert any("graded the series' Neural_Network class for" in note and "numerical_gradient" in note
               for note in result.notes), result.notes
    relative = {q.question.id: q for q in result.questions}["relative_error"]
    assert relative.status.value == "missing"
    assert "the Neural_Network class answers forward, cost" in relative.feedback


# The series' computeNumericalGradient, as a student writes it with plain functions: J is
# their own cost, a row (1, outputLayerSize) as Part 4's table gives it.
SERIES_STYLE_NUMGRAD = """
def numerical_gradient(X, y, W1, W2, epsilon=1e-4):
    paramsInitial = get_params(W1, W2)
    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])
    numgrad = np.zeros(paramsInitial.shape)
    perturb = np.zeros(paramsInitial.shape)
    for p in range(len(paramsInitial)):
        perturb[p] = epsilon
        loss2 = cost(y, forward(X, *set_params(paramsInitial + perturb, *sizes))[3])
        loss1 = cost(y, forward(X, *set_params(paramsInitial - perturb, *sizes))[3])
        numgrad[p] = (loss2 - loss1) / (2 * epsilon)
        perturb[p] = 0
    return numgrad
"""


@pytest.mark.sandbox
def test_a_row_cost_is_one_number_inside_the_numerical_gradient_as_for_the_class(write):
    # Issue 27, 4: numpy 2 no longer puts a size-1 array into one entry of numgrad. The class
    # adapter reads J as one number (3/3); the same code as plain functions raised "setting an
    # array element with a sequence" (0/3). One convention for both forms.
    result = _grade(write, MODEL + "\n" + SERIES_STYLE_NUMGRAD)
    assert scores(result)["numerical_gradient"] == CHECKING_POINTS["numerical_gradient"], \
        {q.question.id: q.feedback for q in result.questions}
    assert scores(_grade(write, SERIES_CLASS_FORM, name="partFive.py"))["numerical_gradient"] == 3
    # A cost per example (not summed: the student's own mistake) is passed on as it is.
    unsummed = MODEL + "\n" + SERIES_STYLE_NUMGRAD + "\n\ndef cost(y, yHat):\n    return 0.5 * (y - yHat) ** 2\n"
    assert scores(_grade(write, unsummed))["numerical_gradient"] < 3


@pytest.mark.sandbox
def test_the_class_forms_mistake_is_found_too(write):
    # The series' class with the perturbation never reset: wrong through the class as well.
    result = _grade(write, SERIES_CLASS_FORM.replace("        perturb[p] = 0\n", ""), name="partFive.py")
    graded = {q.question.id: q for q in result.questions}["numerical_gradient"]
    assert graded.diagnosis is not None and graded.diagnosis.id == "numerical_gradient.perturbation_not_reset"


@pytest.mark.sandbox
def test_a_notebook_is_graded_and_the_stub_notebook_is_up_to_date(write):
    for work in map(assignment.load, assignment.installed()):
        built = stub_notebook.build(work.stub_path.read_text(encoding="utf-8"), work)
        assert work.notebook_path.read_text(encoding="utf-8") == built, work.name
    # The model answer laid out as the stub's notebook (with its check cells): full marks.
    notebook = stub_notebook.build(MODEL, CHECKING)
    sources = [cell.source for cell in nbformat.reads(notebook, as_version=4).cells]
    assert "from gradient_checking_check import check" in sources and 'check("numerical_gradient")' in sources
    result = _grade(write, notebook, name="gradient_checking.ipynb")
    assert result.score == CHECKING.max_score, result
    # Its check cells import gradient_checking_check, this assignment's self-check file: set
    # aside and listed, as backprop_check's are, not run as errors.
    assert result.load_errors == ()
    assert any("from gradient_checking_check import check" in note for note in result.notes), result.notes


def test_a_stub_statement_that_is_neither_a_function_nor_a_constant_is_named():
    stub = '"""A stub."""\nimport numpy as np\n\ndef forward(X):\n    """Q1."""\n\nif True:\n    pass\n'
    with pytest.raises(ValueError, match=r"line 7: .* not If"):
        stub_notebook.build(stub, CHECKING)


def test_check_in_a_notebook_grades_for_the_named_assignment():
    namespace: dict = {}
    exec(compile(MODEL, "gradient_checking.py", "exec"), namespace)
    card = check(namespace=namespace, assignment_name="gradient-checking")
    assert card.score == card.max_score == CHECKING.max_score
    # Unnamed, the assignment is the one whose functions are defined: this one, not Part 4's.
    assert check(namespace=namespace).max_score == CHECKING.max_score
    stub: dict = {}
    exec(compile(CHECKING.stub_path.read_text(), "stub.py", "exec"), stub)
    assert check(namespace=stub).max_score == CHECKING.max_score
    part4: dict = {}
    exec(compile(BACKPROP.stub_path.read_text(), "backprop.py", "exec"), part4)
    assert check(namespace=part4).max_score == BACKPROP.max_score
    assert check("Q9", namespace=namespace, assignment_name="gradient-checking").max_score == 1


@pytest.mark.sandbox
def test_what_is_written_for_it_is_titled_with_its_own_title(tmp_path):
    """Its feedback files, its class report, its self-check file and its PrairieLearn question
    are titled as its assignment.toml titles it, never as the backpropagation worksheet."""
    import sys

    from grader.selfcheck import handout

    hand_in = tmp_path / "class" / "ada.py"
    hand_in.parent.mkdir()
    hand_in.write_text(MODEL)
    feedback, page = tmp_path / "feedback", tmp_path / "report.html"
    done = run_cli(str(hand_in), "--assignment", "gradient-checking", "--no-cache",
                   "--feedback-dir", str(feedback), "--html", str(page))
    assert done.returncode == 0, done.stderr
    assert CHECKING.title != BACKPROP.title
    written = {
        "feedback": (feedback / "ada.md").read_text().splitlines()[0],
        "report": page.read_text(),
        "self-check": handout.build(handout.DEFAULT_PUBLIC_SEED, 0, None, None, CHECKING).splitlines()[0],
    }
    sys.path.insert(0, str(ROOT / "prairielearn"))
    try:
        import make_question
    finally:
        sys.path.remove(str(ROOT / "prairielearn"))
    written["prairielearn"] = make_question.info("x", 120, "gradient-checking")["title"]
    assert written["feedback"] == f"# {CHECKING.title}: feedback for ada"
    assert f"<h1>{CHECKING.title}: class report</h1>" in written["report"]
    assert written["self-check"] == f'"""{CHECKING.title}: a self-check. Put this file beside your notebook, then'
    assert written["prairielearn"] == CHECKING.title
    assert not [where for where, text in written.items() if BACKPROP.title in text or "Backprop" in text]


@pytest.mark.sandbox
def test_its_student_check_file_grades_without_the_grader(tmp_path):
    made = run_cli("student-check", "--assignment", "gradient-checking", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checker = tmp_path / "gradient_checking_check.py"
    assert "def numerical_gradient" not in checker.read_text()
    (tmp_path / "answers.py").write_text(_replaced("numgrad[p] = (J_plus - J_minus) / (2 * epsilon)",
                                                   "numgrad[p] = (J_plus - J_minus) / epsilon"))
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-I", str(checker), "answers.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert "Every entry is twice what it should be" in done.stdout, done.stdout + done.stderr
    right = CHECKING.max_score - points("numerical_gradient", of=CHECKING)
    assert f"self-check: {right:g} / {CHECKING.max_score:g}" in done.stdout


def test_on_part_4s_q16_its_gradient_is_the_worksheets(write):
    # The numbers Part 4's Q16 gives (W(1), W(2) all ones), unrolled: dJ/dW(1) row by row, then
    # dJ/dW(2); and its numerical gradient agrees with them to about 1e-8.
    from grader.grading import plan

    q16 = {c.question.id: c.expected for c in plan(0, CHECKING) if c.case.id == "q16"}
    expected = [0.00121040] * 3 + [0.00239732] * 3 + [0.0136640] * 3
    assert q16["compute_gradients"] == pytest.approx(expected, rel=1e-5)
    assert q16["numerical_gradient"] == pytest.approx(expected, rel=1e-5)
    assert q16["relative_error"] < 1e-8


def test_its_answer_key_is_computed_from_its_model_answer():
    done = run_cli("key", "--assignment", "gradient-checking", "--format", "json")
    document = json.loads(done.stdout)
    assert document["assignment"] == "gradient_checking"
    unrolled = next(e for e in document["key"] if e["quantity"] == "the weights unrolled")
    assert unrolled["value"] == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]


@pytest.mark.sandbox
def test_a_file_graded_for_one_assignment_never_gets_its_result_for_another(tmp_path):
    (tmp_path / "work.py").write_text(MODEL)
    store = str(tmp_path / "store")
    first = run_cli(str(tmp_path / "work.py"), "--assignment", "gradient-checking", "--cache-dir", store,
                    "--format", "json")
    second = run_cli(str(tmp_path / "work.py"), "--cache-dir", store, "--format", "json")
    assert "unchanged since an earlier run" not in second.stderr
    assert json.loads(first.stdout)["submissions"][0]["max_score"] == CHECKING.max_score
    assert json.loads(second.stdout)["submissions"][0]["max_score"] == BACKPROP.max_score
    again = run_cli(str(tmp_path / "work.py"), "--assignment", "gradient-checking", "--cache-dir", store)
    assert "1 of 1 unchanged since an earlier run" in again.stderr
    assert f"total: {CHECKING.max_score:g} / {CHECKING.max_score:g}" in again.stdout


@pytest.mark.sandbox
def test_an_unknown_assignment_is_one_line_that_lists_the_installed_ones(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    done = run_cli(str(tmp_path / "a.py"), "--assignment", "backprop-2")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no assignment 'backprop-2': installed are backprop, gradient-checking" in done.stderr


# --- the engine's tiny assignment (tests/data): sound, and of every kind ------------

def test_the_tiny_assignment_has_a_question_of_every_kind_a_chain_and_a_catalogue():
    from grader.judge import carry, catalogue

    assert {q.kind for q in TINY.questions} == set(assignment.Kind)
    assert carry.dependencies(TINY, "norm") == ("square",) and carry.dependencies(TINY, "unit") == ("norm",)
    assert {m.question for m in catalogue.load(None, TINY)} == {"norm", "outer_shape"}
    assert TINY.stub_path.is_file() and TINY.notes_path.is_file()


def test_the_tiny_assignments_model_answer_earns_everything_and_its_stub_nothing(grade_tiny):
    model = grade_tiny(TINY_SOLUTION)
    assert model.error is None and model.score == model.max_score == TINY.max_score, model
    stub = grade_tiny(TINY_STUB)
    assert stub.score == 0 and all(q.unanswered for q in stub.questions if not q.question.constants)


# --- a third assignment, made here: the engine needs no change for it ----------------------

WARMUP_TOML = '''
title = "Vectors warm-up"
handin = "warmup"
rtol = 1e-6
atol = 1e-10

[sizes]
"numbers" = "len(v)"

[choices]
"rows" = ["row", "rows"]
"columns" = ["column", "columns"]

[[question]]
id = "double"
worksheet = "Q1"
points = 2
kind = "array"
arguments = "v,"

[[question]]
id = "length"
worksheet = "Q2-Q3"
points = 3
kind = "number"
arguments = "v,"

[[question]]
id = "orientation"
worksheet = "Q4"
points = 1
kind = "choices"
constants = ["V_IS_A"]
only_case = "given"
'''

WARMUP_CASES = '''
import numpy as np

from grader.assignment import Case


def worksheet_cases(reference):
    return [Case("given", "the notes' vector", None, True, {"v": np.array([3.0, 4.0, 12.0])})]


def seeded_cases(seed, reference):
    rng = np.random.default_rng(seed)
    return [Case(f"random{n}", f"random {n} ({n} numbers)", None, False, {"v": rng.normal(0, 1, n)})
            for n in (1, 5)]
'''

WARMUP_SOLUTION = '''
import numpy as np

V_IS_A = "row"


def double(v):
    return 2 * v


def length(v):
    return np.sqrt(np.sum(v ** 2))
'''

WARMUP_CATALOGUE = '''
[[mistake]]
id = "length.squared"
question = "length"
answer = "expected ** 2"
summary = "forgot the square root"
explain = "This is the squared length: take its square root."
'''


@pytest.fixture
def warmup(tmp_path) -> Path:
    folder = tmp_path / "warmup-assignment"
    (folder / "solution").mkdir(parents=True)
    (folder / "assignment.toml").write_text(WARMUP_TOML)
    (folder / "cases.py").write_text(WARMUP_CASES)
    (folder / "solution" / "warmup.py").write_text(WARMUP_SOLUTION)
    (folder / "misconceptions.toml").write_text(WARMUP_CATALOGUE)
    return folder


def _run_warmup(warmup: Path, source: str, *extra: str) -> dict:
    hand_in = warmup.parent / "class" / "warmup.py"
    hand_in.parent.mkdir(exist_ok=True)
    hand_in.write_text(source)
    done = run_cli(str(hand_in), "--assignment", str(warmup), "--format", "json", "--timeout", "2", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.sandbox
def test_a_folder_made_here_is_graded_by_the_engine_unchanged(warmup):
    report = _run_warmup(warmup, WARMUP_SOLUTION)
    assert report["assignment"] == "warmup-assignment"
    (submission,) = report["submissions"]
    assert submission["score"] == submission["max_score"] == 6
    assert [q["id"] for q in submission["questions"]] == ["double", "length", "orientation"]
    assert [len(q["cases"]) for q in submission["questions"]] == [3, 3, 1]

    wrong = _run_warmup(warmup, WARMUP_SOLUTION.replace("np.sqrt(np.sum(v ** 2))", "np.sum(v ** 2)")
                      .replace('"row"', '"Columns"'))
    by_id = {q["id"]: q for q in wrong["submissions"][0]["questions"]}
    assert by_id["double"]["score"] == 2
    assert by_id["length"]["diagnosis"] == "length.squared"
    assert by_id["length"]["feedback"].startswith("This is the squared length")
    assert by_id["orientation"]["score"] == 0 and "V_IS_A" in by_id["orientation"]["feedback"]
    # One number, however it comes back: a plain float, a 0-d or a one-entry array.
    loose = _run_warmup(warmup, WARMUP_SOLUTION.replace("return np.sqrt(np.sum(v ** 2))",
                                                  "return [float(np.sqrt(np.sum(v ** 2)))]"))
    assert loose["submissions"][0]["score"] == 6


@pytest.mark.sandbox
def test_the_warmup_assignments_class_report_and_gradebook_are_its_own(warmup, tmp_path):
    klass = tmp_path / "class-folder"
    klass.mkdir()
    (klass / "ann.py").write_text(WARMUP_SOLUTION)
    (klass / "ben.py").write_text("import numpy as np\n\ndef double(v):\n    return v + v\n")
    done = run_cli(str(klass), "--assignment", str(warmup), "--format", "csv", "--timeout", "2")
    assert done.returncode == 0, done.stderr
    rows = [line.split(",") for line in done.stdout.splitlines()]
    assert rows[0] == ["student", "path", "status", "score", "max_score", "double", "length",
                       "orientation", "error", "flags", "late", "could_not_run", "notes"]
    assert rows[1][:6] == ["ann", str(klass / "ann.py"), "graded", "6", "6", "2"]
    assert rows[2][3:8] == ["2", "6", "2", "0", "0"]
    report = tmp_path / "report.html"
    done = run_cli(str(klass), "--assignment", str(warmup), "--html", str(report), "--timeout", "2")
    assert done.returncode == 0, done.stderr
    page = report.read_text()
    assert "<title>Vectors warm-up: class report</title>" in page
    assert all(f'<th scope="col">{qid}</th>' in page and f'<th scope="col" class="ref">{ref}</th>' in page
               for ref, qid in (("Q1", "double"), ("Q2-Q3", "length"), ("Q4", "orientation")))
    assert "median 4 of 6" in page
    assert "total" in done.stdout and "(of 6)" in done.stdout


@pytest.mark.sandbox
def test_the_warmup_assignments_model_answer_is_out_of_a_submissions_reach(warmup):
    # An instructor's own folder is hidden and blocked like the installed assignments.
    thief = f"key = open({str(warmup / 'solution' / 'warmup.py')!r}).read()\n" + WARMUP_SOLUTION
    report = _run_warmup(warmup, thief)
    (submission,) = report["submissions"]
    assert "opened the grader's files" in submission["flags"], submission
    assert "V_IS_A" not in submission["output"]


@pytest.mark.sandbox
def test_the_warmup_assignments_hostile_submission_is_bounded(warmup):
    # A loop that never ends costs one question, not the run; the rest is graded.
    source = WARMUP_SOLUTION.replace("def double(v):\n    return 2 * v",
                                   "def double(v):\n    import time\n    time.sleep(30)\n    return 2 * v")
    report = _run_warmup(warmup, source, "--timeout", "1")
    by_id = {q["id"]: q for q in report["submissions"][0]["questions"]}
    assert by_id["double"]["status"] == "timeout" and by_id["double"]["score"] == 0
    assert by_id["length"]["score"] == 3 and by_id["orientation"]["score"] == 1


@pytest.mark.sandbox
def test_a_broken_assignment_folder_is_a_one_line_error(warmup):
    (warmup / "assignment.toml").write_text(WARMUP_TOML.replace('kind = "number"', 'kind = "scalar"'))
    done = run_cli(str(warmup / "cases.py"), "--assignment", str(warmup))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "kind 'scalar' is not one of array, shape, arrays, choices, number" in done.stderr
    (warmup / "assignment.toml").write_text(re.sub(r"points = \d", "points = 0", WARMUP_TOML))
    done = run_cli(str(warmup / "cases.py"), "--assignment", str(warmup))
    assert done.returncode == 2 and "the questions' points total 0" in done.stderr
    # A model answer without a question's function, and cases that fail: said at once, in a line.
    (warmup / "assignment.toml").write_text(WARMUP_TOML)
    (warmup / "solution" / "warmup.py").write_text(WARMUP_SOLUTION.replace("def length", "def norm"))
    done = run_cli(str(warmup / "cases.py"), "--assignment", str(warmup))
    assert done.returncode == 2 and "warmup.py: no length (question length)" in done.stderr
    (warmup / "solution" / "warmup.py").write_text(WARMUP_SOLUTION)
    (warmup / "cases.py").write_text(WARMUP_CASES.replace("rng.normal(0, 1, n)", "rng.normal(0, 1, n, 7)"))
    done = run_cli(str(warmup / "cases.py"), "--assignment", str(warmup))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "cases.py: making the cases raised TypeError" in done.stderr


# Issue 28, 1: every error in an assignment names the file, the question or mistake, and what
# to write instead; nothing in its files is ignored without a word.
@pytest.mark.sandbox  # (the command starts its worker before it reads the assignment)
@pytest.mark.parametrize("file, old, new, said", [
    ("cases.py", 'Case("given", "the notes\' vector", None, True,', 'Case("given", "the notes\' vector", True,',
     "case 'given': its fields are (id, label, network, worksheet, values)"),
    ("assignment.toml", 'arguments = "v,"', 'arguments = "w,"',
     "question 'double': arguments 'w,' on case 'given': NameError: name 'w' is not defined (the case's values are: v)"),
    ("assignment.toml", 'title = ', 'titel = "x"\ntitle = ', "unknown key 'titel', which nothing reads; did you mean 'title'?"),
    ("misconceptions.toml", "[[mistake]]", "[[misconception]]",
     "'misconception' is not read: each entry is a [[mistake]] table"),
    ("misconceptions.toml", 'answer = "expected ** 2"', 'answer = "vector ** 2"',
     "misconceptions.toml, mistake 1 (length.squared): answer uses vector, which a formula for length can't: it may use v,"),
    ("misconceptions.toml", 'summary = ', 'hint = "x"\nsummary = ', "(length.squared): unknown key 'hint', which nothing reads"),
    ("misconceptions.toml", 'summary = ', 'sumary = ', "(length.squared): unknown key 'sumary', which nothing reads; did you mean 'summary'?"),
    ("assignment.toml", 'points = 2', 'ponts = 2', "question 1: unknown key 'ponts', which nothing reads; did you mean 'points'?"),
    ("cases.py", '{"v": np.array([3.0, 4.0, 12.0])})', '{"v": np.array([3.0, 4.0, 12.0])}, True)',
     "case 'given': its fields are (id, label, network, worksheet, values)"),
])
def test_an_authors_mistake_is_one_line_naming_the_file_and_the_question(warmup, file, old, new, said):
    path = warmup / file
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    done = run_cli(str(warmup / "cases.py"), "--assignment", str(warmup))
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr, done.stderr
    assert said in done.stderr and len(done.stderr.strip().splitlines()[-1]) > 20, done.stderr


@pytest.mark.sandbox
def test_one_argument_may_be_written_without_its_comma(warmup):
    # "v" is the one argument v, as "v," is: not the rows of v (it was an AxisError, unexplained).
    toml = (warmup / "assignment.toml").read_text()
    assert toml.count('arguments = "v,"') >= 2
    (warmup / "assignment.toml").write_text(toml.replace('arguments = "v,"', 'arguments = "v"'))
    report = _run_warmup(warmup, WARMUP_SOLUTION)
    assert report["submissions"][0]["score"] == report["submissions"][0]["max_score"]


def test_the_warmup_assignments_answer_key_and_listing(warmup):
    done = run_cli("key", "--assignment", str(warmup), "--format", "json")
    assert done.returncode == 0, done.stderr
    key = {e["quantity"]: e["value"] for e in json.loads(done.stdout)["key"]}
    assert key["length (the notes' vector)"] == 13 and key["V_IS_A (the notes' vector)"] == "row"


# --- where courses run it: Gradescope's zip and PrairieLearn's question, for any assignment -

def test_a_gradescope_autograder_for_an_instructors_own_assignment(warmup, tmp_path):
    import subprocess
    import sys
    import zipfile

    target = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, str(ROOT / "gradescope" / "make_autograder.py"), "-o", str(target),
                           "--assignment", str(warmup)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        run = archive.read("run_autograder").decode()
    # The folder travels inside the grader's source, so setup.sh installs (and seals) it too.
    assert {"solutions/warmup-assignment/assignment.toml",
            "solutions/warmup-assignment/solution/warmup.py"} <= names
    assert run.rstrip().endswith("--assignment warmup-assignment")
    refused = subprocess.run([sys.executable, str(ROOT / "gradescope" / "make_autograder.py"), "-o",
                              str(tmp_path / "x.zip"), "--assignment", "nope"], capture_output=True, text=True)
    assert refused.returncode == 2 and "no assignment 'nope'" in refused.stderr


@pytest.mark.sandbox
def test_a_prairielearn_question_for_gradient_checking_grades_a_job(tmp_path):
    import os
    import subprocess
    import sys

    out = tmp_path / "pl"
    done = subprocess.run([sys.executable, str(ROOT / "prairielearn" / "make_question.py"), str(out),
                           "--image", "someone/backprop-grader", "--assignment", "gradient-checking"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    info = json.loads((out / "questions" / "gradient-checking" / "info.json").read_text())
    entry = info["externalGradingOptions"]["entrypoint"]
    assert entry == "/grade/serverFilesCourse/backprop_grader/run-gradient-checking.sh"
    assert "gradient_checking.py" in (out / "questions" / "gradient-checking" / "question.html").read_text()
    grade = tmp_path / "grade"
    (grade / "student").mkdir(parents=True)
    (grade / "student" / "gradient_checking.py").write_text(
        _replaced("numgrad[p] = (J_plus - J_minus) / (2 * epsilon)", "numgrad[p] = (J_plus - J_minus) / epsilon"))
    # The entrypoint runs the grader installed where it runs: this checkout's, as in the image.
    env = {**os.environ, "PL_GRADE_DIR": str(grade), "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    run = out / "serverFilesCourse" / "backprop_grader" / "run-gradient-checking.sh"
    ran = subprocess.run(["bash", str(run)], env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    document = json.loads((grade / "results" / "results.json").read_text())
    assert [t["name"] for t in document["tests"]] == list(CHECKING_POINTS)
    right = CHECKING.max_score - points("numerical_gradient", of=CHECKING)
    assert document["score"] == pytest.approx(right / CHECKING.max_score)


@pytest.mark.sandbox
@pytest.mark.parametrize("reach", [
    "import assignments",
    "import importlib; importlib.import_module('assign' + 'ments.backprop')",
    "import importlib; importlib.import_module('_assignment_gradient_checking_solution')",
])
def test_importing_the_model_answers_package_is_refused_and_flagged(write, reach):
    # Every name the model answers go by: the installed package, and the grader's own loaded
    # modules (a submission never shares the grader's memory, but the name is refused anyway).
    source = f"try:\n    {reach}\nexcept ImportError:\n    pass\n" + MODEL
    result = _grade(write, source)
    assert "imported solutions" in result.flags
    assert result.score == CHECKING.max_score



def test_a_question_with_atol_0_and_an_expected_zero_is_judged_without_dividing_by_it():
    # relative_error's atol is 0: a right answer of exactly 0 has no scale to be relative to.
    from grader.judge import compare

    question = CHECKING.question("relative_error")
    assert question.atol == 0
    assert compare.error_size(question, 0.5, 0.0) == 0.5
    assert compare.compare(question, 0.0, 0.0) is None
    assert compare.compare(question, 1e-12, 0.0).startswith("1 of 1 entries differ")


@pytest.mark.sandbox
def test_a_student_who_takes_js_one_number_themselves_is_graded_on_their_own_code(write):
    # Issue 27, 4 (review): J passed on as one number only where the student's own code raises
    # with its own J: `.item()` on J (right with one output, as the notes' network has) keeps working.
    own = SERIES_STYLE_NUMGRAD.replace("numgrad[p] = (loss2 - loss1) / (2 * epsilon)",
                                       "numgrad[p] = (loss2.sum() - loss1.sum()) / (2 * epsilon)")
    assert own != SERIES_STYLE_NUMGRAD
    result = _grade(write, MODEL + "\n" + own)
    assert scores(result)["numerical_gradient"] == CHECKING_POINTS["numerical_gradient"], \
        {q.question.id: q.feedback for q in result.questions}
    # The series' class with the student's own fix for numpy 2, (loss2 - loss1)[0]: its own code
    # runs, and [0] takes the first output only: right with one output, wrong with two.
    fixed = SERIES_CLASS_FORM.replace("numgrad[p] = (loss2 - loss1) / (2 * e)", "numgrad[p] = (loss2 - loss1)[0] / (2 * e)")
    assert fixed != SERIES_CLASS_FORM
    graded = {q.question.id: q for q in _grade(write, fixed, name="partFive.py").questions}["numerical_gradient"]
    assert "'float' object is not subscriptable" not in graded.feedback
    assert graded.passed_cases == 4 and graded.feedback.startswith("random 3 (4 examples, layers 3-5-2)"), graded.feedback


def test_check_reads_a_row_j_as_grade_does(capsys):
    # The in-process check() answers as the sandbox does: the student's own J first, then J's
    # row as one number where that raised (it scored 0/3 where grade gave 3/3).
    namespace: dict = {}
    exec(compile(MODEL + "\n" + SERIES_STYLE_NUMGRAD, "gradient_checking.py", "exec"), namespace)
    card = check("numerical_gradient", namespace=namespace, assignment_name="gradient-checking")
    assert card.score == card.max_score == CHECKING_POINTS["numerical_gradient"]
