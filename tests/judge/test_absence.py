"""A graded function the student wrote that is not there when graded (replaced or deleted by
their own top-level code, never reached after an error, inside a main guard or another
function, in a cell that can't compile): the feedback says why, not "not defined"."""

import nbformat
import pytest

from conftest import BACKPROP, FAST, points, with_solution
from grader.grading import grade_path
from grader.judge.absence import Failure, explain, read, unbound


def _where(cell, line):
    return f"cell {cell + 1}, line {line}"


def absent(*cells, names=("dJdW2",), failures=()):
    return explain(read(cells), names, failures, _where)


def replaced(*cells, names=("dJdW2",)):
    found = absent(*cells, names=names)
    return None if found is None else (found.at, found.statement, found.reason == "deleted")


DEF = "def dJdW2(a2, delta3):\n    return a2.T @ delta3\n"


@pytest.mark.parametrize("after, expected", [
    ("dJdW1, dJdW2 = 1, 2", ("cell 1, line 3", "dJdW1, dJdW2 = 1, 2", False)),
    ("for dJdW2 in range(3):\n    pass", ("cell 1, line 3", "for dJdW2 in range(3):", False)),
    ("if True:\n    try:\n        dJdW2 = 0\n    except Exception:\n        pass",
     ("cell 1, line 5", "dJdW2 = 0", False)),
    ("import numpy as dJdW2", ("cell 1, line 3", "import numpy as dJdW2", False)),
    ("from math import sqrt as dJdW2", ("cell 1, line 3", "from math import sqrt as dJdW2", False)),
    ("with open('f') as dJdW2:\n    pass", ("cell 1, line 3", "with open('f') as dJdW2:", False)),
    ("dJdW2 += 1", ("cell 1, line 3", "dJdW2 += 1", False)),
    ("[a, (b, *dJdW2)] = [1, (2, 3)]", ("cell 1, line 3", "[a, (b, *dJdW2)] = [1, (2, 3)]", False)),
    ("del dJdW2", ("cell 1, line 3", "del dJdW2", True)),
    # Not a rebinding at module level: a local of a function or a class, an index, an
    # annotation without a value, a method call.
    ("def train():\n    dJdW2 = 0\n    return dJdW2", None),
    ("class Net:\n    dJdW2 = 0", None),
    ("table = {}\ntable[dJdW2] = 1", None),
    ("dJdW2: int", None),
    ("dJdW2.__doc__ = 'mine'", None),
    # Replaced and then written again: the function is there.
    ("dJdW2 = 0\n" + DEF, None),
])
def test_the_statement_that_replaced_the_function_is_found(after, expected):
    assert replaced(DEF + after) == expected


def test_a_binding_before_the_definition_is_not_a_replacement():
    assert replaced("dJdW2 = None\n" + DEF) is None


def test_across_notebook_cells_in_the_order_they_run_and_past_a_cell_that_does_not_parse():
    assert replaced("import numpy as np", DEF, "def broken(:", "dJdW1, dJdW2 = 0, 0") == \
        ("cell 4, line 1", "dJdW1, dJdW2 = 0, 0", False)


def test_any_of_the_questions_names_and_a_long_statement_shortened():
    cells = [DEF.replace("dJdW2", "djdw2") + "djdw2 = " + "1 + " * 40 + "1"]
    found = explain(read(cells), ("dJdW2", "djdw2"), (), _where)
    assert found.name == "djdw2" and found.defined_at == "cell 1, line 1"
    assert len(found.statement) == 80 and found.statement.endswith("...")


def test_a_definition_after_the_error_that_stopped_its_cell_was_not_reached():
    cell = "import numpy as np\nprint(X)\n" + DEF
    found = absent(cell, failures=[Failure(0, 2, "NameError: name 'X' is not defined")])
    assert (found.reason, found.defined_at, found.at, found.detail) == \
        ("not reached", "cell 1, line 3", "cell 1, line 2", "NameError: name 'X' is not defined")
    # An error after it, or in another cell, did not stop it.
    assert absent(DEF + "print(X)\n", failures=[Failure(0, 3, "NameError")]) is None
    assert absent("print(X)", DEF, failures=[Failure(0, 1, "NameError")]) is None


def test_a_definition_under_a_main_guard_or_inside_a_function_or_in_a_cell_that_cannot_compile():
    guarded = absent("import numpy as np\nif __name__ == '__main__':\n    " + DEF.replace("\n    ", "\n        "))
    assert (guarded.reason, guarded.at, guarded.statement) == \
        ("guarded", "cell 1, line 2", "if __name__ == '__main__':")
    # What a main guard holds never runs: an assignment there replaces nothing.
    assert absent(DEF + "if '__main__' == __name__:\n    dJdW1, dJdW2 = 1, 2\n") is None
    nested = absent("def forward(X):\n    " + DEF.replace("\n    ", "\n        ") + "    return X\n")
    assert (nested.reason, nested.defined_at, nested.at, nested.detail) == \
        ("nested", "cell 1, line 2", "cell 1, line 1", "forward")
    broken = absent(DEF + "oops(:\n", failures=[Failure(0, 3, "SyntaxError: invalid syntax")])
    assert (broken.reason, broken.defined_at, broken.at, broken.detail) == \
        ("not compiled", "cell 1, line 1", "cell 1, line 3", "SyntaxError: invalid syntax")


def test_a_method_of_a_class_of_the_students_own_but_not_of_the_series_class():
    method = "class Net:\n    " + DEF.replace("(a2, delta3)", "(self, a2, delta3)").replace("\n    ", "\n        ")
    found = absent("import numpy as np", method)
    assert (found.reason, found.defined_at, found.at, found.detail) == \
        ("method", "cell 2, line 2", "cell 2, line 1", "Net")
    cells = ["import numpy as np", method.replace("class Net:", "class Neural_Network:")]
    assert explain(read(cells), ("dJdW2",), (), _where, known_classes=("Neural_Network",)) is None


def test_cells_too_long_to_be_worth_reading_are_not_read():
    """A submission may be 2 MB: what it replaced is not worth a second of the grader's."""
    assert absent(DEF + "dJdW2 = 0\n" + "x = 1\n" * 100_000) is None
    assert absent(DEF + "dJdW2 = 0\n" + "x = 1\n" * 1_000) is not None


def test_nothing_is_said_of_a_function_never_written():
    assert absent("def other(a2, delta3):\n    return a2\n") is None


def test_names_read_but_bound_nowhere_are_what_the_code_expects_from_elsewhere():
    """A series module not handed in: what the cells use of it and never define themselves."""
    names = ("Neural_Network", "trainer", "computeNumericalGradient")
    cells = ["from partFour import *", "NN = Neural_Network()\nT = trainer(NN)\nnumgrad = f(NN)"]
    assert unbound(cells, names) == ("Neural_Network", "trainer")
    defined = [*cells, "class Neural_Network:\n    pass", "from partFive import trainer as trainer"]
    assert unbound(defined, names) == ()
    assert unbound(["def f(trainer):\n    return trainer()", "x = (", "Neural_Network()"], names) == ("Neural_Network",)
    assert unbound(["Neural_Network()\n" + "x = 1\n" * 100_000], names) == ()  # past what is read


SERIES_STYLE = """
X = np.array(([3, 5], [5, 1], [10, 2]), dtype=float) / np.array([10.0, 5.0])
y = np.array(([75], [82], [93]), dtype=float) / 100
W1, W2 = np.ones((2, 3)), np.ones((3, 1))
dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)
"""


@pytest.mark.sandbox
def test_the_series_way_of_naming_gradients_is_explained_where_it_costs_marks(tmp_path):
    """`dJdW1, dJdW2 = NN.costFunctionPrime(X, y)` in the series; with the stub's function names
    the functions are gone when graded, and cost_function_prime, which calls them, fails."""
    path = tmp_path / "alice.py"
    path.write_text(with_solution(SERIES_STYLE))
    statement = "dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)"
    line = with_solution(SERIES_STYLE).splitlines().index(statement) + 1
    result = grade_path(path, FAST)
    by_id = {q.question.id: q for q in result.questions}
    assert result.score == BACKPROP.max_score - points("dJdW1", "dJdW2", "cost_function_prime")

    assert by_id["dJdW2"].feedback.startswith(
        f"not a function when graded: line {line} assigns to dJdW2 "
        f"(`dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)`) after your function's definition at line ")
    assert by_id["dJdW2"].feedback.endswith("; give that variable another name")
    assert by_id["dJdW1"].feedback.startswith(f"not a function when graded: line {line} assigns to dJdW1")
    assert by_id["cost_function_prime"].feedback.endswith(
        f"Probably because line {line} replaced your dJdW2 and dJdW1 (see them)")
    assert {c.message for c in by_id["dJdW2"].cases} == {"not a function when graded"}  # each case too
    # Written, then replaced: not among the unanswered of the class summary.
    assert not by_id["dJdW2"].unanswered and not by_id["dJdW1"].unanswered


@pytest.mark.sandbox
def test_a_function_never_written_is_still_not_defined(tmp_path):
    path = tmp_path / "bob.py"
    path.write_text(with_solution("").replace("def dz3dW2(", "def other_name("))
    by_id = {q.question.id: q for q in grade_path(path, FAST).questions}
    assert by_id["dz3dW2"].feedback == "not defined: write a function named dz3dW2"
    assert by_id["dz3dW2"].unanswered


@pytest.mark.sandbox
def test_in_a_notebook_the_cell_is_named(tmp_path):
    from conftest import SOLUTION

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%pylab inline"),
        nbformat.v4.new_code_cell(SOLUTION),
        nbformat.v4.new_code_cell(SERIES_STYLE.strip() + "\nplot(dJdW1.ravel())"),
    ])
    path = tmp_path / "carol.ipynb"
    path.write_text(nbformat.writes(notebook))
    by_id = {q.question.id: q for q in grade_path(path, FAST).questions}
    assert by_id["dJdW2"].feedback.startswith("not a function when graded: cell 3, line 4 assigns to dJdW2")
    assert "after your function's definition at cell 2, line " in by_id["dJdW2"].feedback


@pytest.mark.sandbox
def test_in_a_notebook_a_cell_that_cannot_compile_and_one_stopped_by_an_error(tmp_path):
    from conftest import SOLUTION

    solution = SOLUTION.replace("def delta2(", "def _delta2_elsewhere(").replace("def dJdW1(", "def _dJdW1_other(")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(solution),
        nbformat.v4.new_code_cell("def delta2(delta3, W2, z2):\n    return delta3 @ W2.T * sigmoid_prime(z2)\n"
                                  "print('done'\n"),
        nbformat.v4.new_code_cell("plt.plot([1, 2])\ndef dJdW1(X, delta2):\n    return X.T @ delta2\n"),
    ])
    path = tmp_path / "dan.ipynb"
    path.write_text(nbformat.writes(notebook))
    by_id = {q.question.id: q for q in grade_path(path, FAST).questions}
    assert by_id["delta2"].feedback.startswith(
        "not defined when graded: your delta2 at cell 2, line 1 is in a cell Python can't compile (SyntaxError")
    assert by_id["dJdW1"].feedback == (
        "not defined when graded: your dJdW1 at cell 3, line 2 was never reached: the cell stopped at cell 3, "
        "line 1 (NameError: name 'plt' is not defined), as a cell stops at its first error; fix that line")
