"""Notebooks: code cells in order, IPython syntax set aside, failing cells don't stop the rest."""

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import BACKPROP, ROOT, SOLUTION, notebook_text, run_cli, statuses
from grader import assignment, sandbox
from grader.assignment import stub_notebook as make_notebook
from grader.grading import Options
from grader.intake.notebooks import strip_ipython


def test_magics_shell_escapes_and_help_are_set_aside_and_listed(grade):
    source = notebook_text("%load_ext autoreload\n!pip install numpy\nnp.dot?", SOLUTION,
                           "%%time\nx = 1")
    result = grade(source, "carol.ipynb")
    assert result.score == BACKPROP.max_score
    assert result.notes == (
        "IPython syntax not run: cell 1, line 1: %load_ext autoreload",
        "IPython syntax not run: cell 1, line 2: !pip install numpy",
        "IPython syntax not run: cell 1, line 3: np.dot?",
        "IPython syntax not run: cell 3, line 1: %%time",
    )


def test_python_cells_are_left_exactly_as_written():
    source = "x = 10 % 3\ntext = '''\n!not a shell escape\n'''\n"
    assert strip_ipython(source) == (source, [])


def test_an_indented_magic_keeps_its_block_valid():
    stripped, ignored = strip_ipython("if True:\n    %time f()\n")
    compile(stripped, "<cell>", "exec")
    assert ignored == [(2, "%time f()")]


def test_a_cell_magic_of_another_language_is_set_aside_whole():
    stripped, ignored = strip_ipython("%%bash\necho hi\nrm -rf /\n")
    assert all(line.startswith("#") for line in stripped.splitlines())
    assert ignored == [(1, "%%bash")]


def test_a_failing_cell_is_reported_with_its_number_and_later_cells_still_run(grade):
    source = notebook_text("import numpy as np", "plt.plot([1, 2])", SOLUTION)
    result = grade(source, "nb.ipynb")
    assert result.score == BACKPROP.max_score
    (error,) = result.load_errors
    assert error.where == "cell 2, line 1" and "NameError" in error.message


def test_a_cell_with_a_syntax_error_is_reported_and_the_others_graded(grade):
    source = notebook_text(SOLUTION, "def broken(:\n    pass")
    result = grade(source, "nb.ipynb")
    assert result.status == "graded" and result.score == BACKPROP.max_score
    assert "cell 2" in result.load_errors[0].where and "SyntaxError" in result.load_errors[0].message


def test_errors_in_functions_point_at_the_cell_and_its_line(grade):
    source = notebook_text(SOLUTION, "x = 1\ndef dz3dW2(a2):\n    return a2.T @ undefined_name")
    result = grade(source, "nb.ipynb")
    assert statuses(result)["dz3dW2"] == "raised"
    message = [q for q in result.questions if q.question.id == "dz3dW2"][0].cases[0].message
    assert message.endswith("(cell 2, line 3)")


def test_invalid_notebook_json_is_an_error_with_a_reason(grade):
    result = grade('{"cells": [', "broken.ipynb")
    assert result.status == "error" and result.error.startswith("not a valid notebook")


def test_a_v3_notebook_is_upgraded_and_graded(grade):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "language": "python", "input": SOLUTION,
                                     "outputs": [], "metadata": {}}], "metadata": {}}]}
    assert grade(json.dumps(v3), "old.ipynb").score == BACKPROP.max_score


def test_extract_writes_the_python_the_grader_runs_with_cell_markers(tmp_path):
    notebook = tmp_path / "carol.ipynb"
    notebook.write_text(notebook_text("%matplotlib inline\nimport numpy as np", "x = np.ones(2)\nprint(x)"))
    out = tmp_path / "carol.py"
    result = run_cli("extract", str(notebook), "-o", str(out))
    assert result.returncode == 0, result.stderr
    script = out.read_text()
    assert script.index("# In[1]:") < script.index("# In[2]:")
    assert "pass  # %matplotlib inline: nothing to do when graded" in script
    ran = subprocess.run([sys.executable, str(out)], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and ran.stdout.strip() == "[1. 1.]"


@pytest.mark.parametrize("name", ["alice.py", "Alice.PY"])
def test_extract_of_a_python_file_says_it_takes_a_notebook(tmp_path, name):
    """Not "not a valid notebook (not JSON ...)": a .py file has nothing to extract."""
    path = tmp_path / name
    path.write_text(SOLUTION)
    result = run_cli("extract", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"Error: extract takes a notebook (.ipynb): {name} is a Python file, graded as it is\n"


def test_extract_of_a_broken_notebook_is_a_one_line_error(tmp_path):
    notebook = tmp_path / "bad.ipynb"
    notebook.write_text("not json")
    result = run_cli("extract", str(notebook))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_student_notebook_is_in_sync_with_the_stub():
    stub = (ROOT / "exercises" / "backprop" / "backprop.py").read_text()
    built = make_notebook.build(stub, assignment.load("backprop"))
    assert (ROOT / "exercises" / "backprop" / "backprop.ipynb").read_text() == built


def test_the_student_notebook_has_every_question_and_scores_zero_until_answered(grade):
    path = ROOT / "exercises" / "backprop" / "backprop.ipynb"
    notebook = nbformat.read(path, as_version=4)
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for question in ("Q1.", "Q2.", "Q6.", "Q7, Q13.", "Q9, Q10.", "Q11, Q14-Q16.", "Q17.", "Your Mission"):
        assert question in markdown
    result = grade(path.read_text(), "backprop.ipynb")
    assert result.status == "graded" and result.score == 0


def test_the_student_notebook_answered_scores_full_marks(grade):
    notebook = nbformat.read(ROOT / "exercises" / "backprop" / "backprop.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(SOLUTION))  # answers replace the stubs
    assert grade(nbformat.writes(notebook), "answered.ipynb").score == BACKPROP.max_score


def test_a_notebook_with_large_outputs_is_graded(grade):
    # Plots are embedded in a notebook's outputs: megabytes that are not code.
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SOLUTION)])
    notebook.cells[0].outputs = [nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo" * 400_000})]  # about 4.4 MB
    text = nbformat.writes(notebook)
    assert len(text) > 4_000_000
    assert grade(text, "plots.ipynb").score == BACKPROP.max_score


def test_a_notebook_with_too_much_code_is_refused(grade):
    text = notebook_text(SOLUTION, "x = 1\n" * 400_000)
    result = grade(text, "huge.ipynb")
    assert result.status == "error" and result.error.startswith("the notebook's code is")


def test_a_future_import_in_one_cell_applies_to_the_cells_after_it(grade):
    # As in Jupyter: annotations are not evaluated once a cell said so, so a later cell may
    # name a type that is never defined.
    source = notebook_text("from __future__ import annotations",
                           SOLUTION + "\n\ndef dz3dW2(a2: NotDefinedAnywhere):\n    return a2.T\n")
    result = grade(source, "nb.ipynb")
    assert result.load_errors == () and result.score == BACKPROP.max_score


def test_a_cell_run_whole_that_raises_keeps_what_came_before_and_names_the_line(grade):
    # A cell runs whole, as Python runs a file; the statement that raised is found afterwards:
    # the line of a decorated function is its decorator's, and what follows never ran.
    cell = ("import functools\n"
            "def dz3dW2(a2):\n    return a2.T\n"
            "@functools.lru_cache(\n    maxsize=undefined_size)\n"
            "def cost(y, yHat):\n    return 0\n"
            "def dJdW2(a2, delta3):\n    return 'never defined'\n")
    result = grade(notebook_text(SOLUTION, cell), "nb.ipynb")
    (error,) = result.load_errors
    assert error.where == "cell 2, line 5" and "NameError" in error.message
    assert result.score == BACKPROP.max_score  # the model's cost and dJdW2 stand: the cell stopped before them


def test_a_cell_that_hangs_is_skipped_and_each_load_error_reported_once(grade):
    # The hanging cell runs whole, then again a statement at a time (to find the statement),
    # then up to it: the cells before it run three times, their error is still reported once.
    source = notebook_text("import numpy as np\nnot_defined_anywhere",
                           "import time\nend = time.time() + 30\nwhile time.time() < end:\n    pass",
                           SOLUTION)
    result = grade(source, "nb.ipynb", options=Options(BACKPROP, limits=sandbox.Limits(timeout=1.0)))
    assert [e.where for e in result.load_errors] == ["cell 1, line 2", "cell 2, line 3"]
    assert "ran for more than 1 s" in result.load_errors[1].message and result.score == BACKPROP.max_score
