"""What courses really get handed in: notebooks that plot, %pylab, the series' style (support
modules, method fragments, the class), leftover imports of packages that are not installed, a
folder with the student's own modules. Each scores what its code earns."""

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

from conftest import (
    BACKPROP,
    FAST,
    ROOT,
    SERIES_CLASS,
    SOLUTION,
    notebook_text,
    points,
    run_cli,
    scores,
    statuses,
    with_solution,
)
from grader.grading import grade_path

STUB = (ROOT / "exercises" / "backprop" / "backprop.py").read_text(encoding="utf-8")

# A package no grading machine here has: the test is about a package that is not installed.
MISSING = next((name for name in ("torch", "tensorflow", "jax", "mxnet")
                if importlib.util.find_spec(name) is None), None)
needs_missing = pytest.mark.skipif(MISSING is None, reason="every candidate package is installed")

# A method pasted at top level, as the series' notebook shows one before the whole class.
FRAGMENT = textwrap.dedent("""\
    # Part of the class (won't work alone):
    def costFunctionPrime(self, X, y):
        self.yHat = self.forward(X)
        delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.z3))
        dJdW2 = np.dot(self.a2.T, delta3)
    """)

# The questions the series' class answers, and their points.
SERIES_POINTS = points(*BACKPROP.series.questions)


def _function_sources(source: str, *names: str) -> list[str]:
    import ast

    return [ast.get_source_segment(source, node) for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and node.name in names]


def _solution_without(*names: str) -> str:
    """The model answer with some functions left out (so a class can answer them)."""
    import ast

    tree = ast.parse(SOLUTION)
    lines = SOLUTION.splitlines()
    for node in reversed(tree.body):
        if isinstance(node, ast.FunctionDef) and node.name in names:
            del lines[node.lineno - 1:node.end_lineno]
    return "\n".join(lines)


def test_the_series_part4_notebook_in_its_own_style_scores_what_its_class_earns(grade):
    source = notebook_text(
        "from IPython.display import YouTubeVideo\nYouTubeVideo('GlcnxUlrtek')",
        "%pylab inline\n#Import code from last time\nfrom partTwo import *",
        "def sigmoid(z):\n    return 1/(1+np.exp(-z))",
        "def sigmoidPrime(z):\n    return np.exp(-z)/((1+np.exp(-z))**2)",
        "testValues = np.arange(-5,5,0.01)\nplot(testValues, sigmoid(testValues), linewidth=2)\n"
        "plot(testValues, sigmoidPrime(testValues), linewidth=2)\ngrid(1)\n"
        "legend(['sigmoid', 'sigmoidPrime'])",
        FRAGMENT,
        SERIES_CLASS,
        "NN = Neural_Network()\ncost1 = NN.costFunction(X, y)\n"
        "dJdW1, dJdW2 = NN.costFunctionPrime(X, y)\nprint(cost1)",
    )
    result = grade(source, "part4.ipynb")
    assert result.load_errors == ()
    assert result.score == SERIES_POINTS
    assert {q: s for q, s in scores(result).items() if s} == {q: points(q) for q in BACKPROP.series.questions}
    assert "graded the series' Neural_Network class for forward, cost, cost_function_prime" in result.notes
    assert any(note.startswith("partTwo not handed in: the grader provided the series' data")
               for note in result.notes)
    assert not any("%pylab" in note for note in result.notes)  # honoured, not set aside


def test_pylab_gives_numpy_names_and_plotting_names_that_do_nothing(grade):
    answers = SOLUTION.replace("import numpy as np", "")
    answers = answers.replace("np.exp(", "exp(").replace("np.dot(", "dot(")
    source = notebook_text(
        "%pylab inline",
        answers,
        "z = linspace(-5, 5, 101)\nplot(z, sigmoid_prime(z)); xlabel('z'); title('f prime')\n"
        "fig, (left, right) = subplots(1, 2)\nleft.plot(z); right.hist(randn(100))\n"
        "line, = plot(z)\nsavefig('fprime.png')\nshow()\nassert norm(array([3.0, 4.0])) == 5",
    )
    result = grade(source, "pylab.ipynb")
    assert result.load_errors == () and result.score == BACKPROP.max_score


def test_pylab_names_numpy_submodules_and_loads_them_only_when_used(grade):
    # `from numpy import *`, which %pylab runs, names every submodule numpy loads only when
    # asked (f2py, testing, polynomial...): loading them all cost each notebook 130 ms.
    source = notebook_text(
        "%pylab inline",
        SOLUTION,
        "import sys\nloaded = lambda: sorted(m for m in ('numpy.f2py', 'numpy.polynomial') if m in sys.modules)\n"
        "print('before:', loaded())\n"
        "testing.assert_allclose(norm(array([3.0, 4.0])), 5.0)\n"
        "np.testing.assert_allclose(1.0, 1.0)\n"
        "from numpy.testing import assert_allclose\nimport numpy.testing as npt\n"
        "npt.assert_allclose(2.0, 2.0); assert_allclose(3.0, 3.0)\n"
        "assert polynomial.Polynomial([1, 2])(1.0) == 3.0\n"
        "print('after:', loaded())",
    )
    result = grade(source, "pylab.ipynb")
    assert result.load_errors == () and result.score == BACKPROP.max_score
    # (numpy.testing is not asked about: where a runner is another user without namespaces,
    # the worker loads it ahead.)
    assert "before: []" in result.output and "after: ['numpy.polynomial']" in result.output


def test_plotting_is_a_stand_in_even_inside_the_graded_functions(grade):
    plotting = textwrap.dedent("""\
        import numpy as np
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        import seaborn as sns
        from mpl_toolkits.mplot3d import Axes3D
        sns.set()
        plt.rcParams['figure.figsize'] = (8, 6)

        def sigmoid_prime(z):
            fig, ax = plt.subplots()
            ax.plot(z.ravel())
            plt.savefig('/tmp/should-not-exist.png')
            plt.show()
            return np.exp(-z) / ((1 + np.exp(-z)) ** 2)
        """)
    result = grade(notebook_text(SOLUTION.replace("def sigmoid_prime", "def _unused"), plotting),
                   "plots.ipynb")
    assert result.load_errors == () and result.score == BACKPROP.max_score


def test_display_and_youtube_cells_do_nothing(grade):
    display = textwrap.dedent("""\
        from IPython.display import display, Markdown, HTML, Image, YouTubeVideo, clear_output
        from IPython import display as ipd
        from IPython.core.display import Math
        YouTubeVideo('GlcnxUlrtek')
        display(Markdown('**backprop**'), HTML('<b>x</b>'))
        ipd.display(Image(filename='images/simpleNetwork.png'))
        clear_output(wait=True)
        Math(r'\\delta^{(3)}')
        """)
    result = grade(notebook_text(display, SOLUTION), "display.ipynb")
    assert result.load_errors == () and result.score == BACKPROP.max_score


def test_a_submission_that_does_not_plot_imports_no_plotting(grade):
    # If the grader imported matplotlib (or its stand-in) on every submission's behalf, this
    # student's Q1 answer would see it.
    probe = SOLUTION + textwrap.dedent("""\

        import sys as _sys

        def dJdW1_shape(input_layer_size, hidden_layer_size, output_layer_size):
            plotting = [m for m in _sys.modules if m.split('.')[0] in ('matplotlib', 'pylab', 'IPython')]
            return (input_layer_size, hidden_layer_size) if not plotting else (0, 0)
        """)
    assert scores(grade(probe))["dJdW1_shape"] == points("dJdW1_shape")


@needs_missing
def test_a_leftover_import_of_a_missing_package_costs_nothing(grade):
    result = grade(SOLUTION + f"\n\nimport {MISSING}  # tried it once\n")
    assert result.score == BACKPROP.max_score and result.load_errors == ()
    assert result.missing_packages == (MISSING,)
    assert sum(MISSING in note for note in result.notes) == 1


@needs_missing
def test_a_missing_package_costs_only_the_function_that_uses_it(grade):
    source = SOLUTION.replace("import numpy as np",
                              f"import numpy as np, {MISSING} as tt\nfrom {MISSING}.special import expit")
    source += "\n\ndef sigmoid_prime(z):\n    return expit(z) * (1 - expit(z))\n"
    result = grade(source)
    assert result.load_errors == ()
    assert scores(result)["sigmoid_prime"] == 0 and statuses(result)["sigmoid_prime"] == "raised"
    feedback = {q.question.id: q.feedback for q in result.questions}
    assert f"{MISSING} is not installed where this is graded: ask your instructor, or use numpy" \
        in feedback["sigmoid_prime"]
    assert "not defined" not in feedback["sigmoid_prime"]
    # What calls it could not run only because of it: carried forward, and not called wrong
    # (issue 27, 2: "could not run" is not "wrong").
    assert result.score == BACKPROP.max_score - points("sigmoid_prime")
    assert "could not run here only because your sigmoid_prime (Q6) could not" in feedback["delta3"]
    assert "is wrong" not in feedback["delta3"] and "fix sigmoid_prime" not in feedback["delta3"]
    assert "could not run here, which says nothing of your maths" in feedback["sigmoid_prime"]


@needs_missing
def test_a_missing_base_class_fails_its_class_statement_only(grade):
    source = SOLUTION + f"\n\nimport {MISSING}\n\nclass Net({MISSING}.nn.Module):\n    pass\n"
    result = grade(source)
    assert result.score == BACKPROP.max_score
    # It could not run here, which is not the student's error: said once, as a missing package.
    assert result.load_errors == () and result.missing_packages == (MISSING,)
    assert sum(f"{MISSING} is not installed where this is graded" in note for note in result.notes) == 1


def test_a_file_of_the_students_not_handed_in_is_named_as_such(grade):
    result = grade(SOLUTION + "\n\nfrom helpers import plot_cost\n")
    assert result.score == BACKPROP.max_score
    assert any("there is no module helpers where this is graded: if it is a file of yours, hand "
               "it in" in note for note in result.notes)


@pytest.mark.sandbox
def test_the_class_summary_counts_students_who_import_a_missing_package(tmp_path):
    missing = MISSING or "no_such_package_here"
    for name in ("ana", "ben", "cai"):
        (tmp_path / f"{name}.py").write_text(SOLUTION + f"\nimport {missing}\n")
    (tmp_path / "dee.py").write_text(SOLUTION)
    result = run_cli(str(tmp_path), "--no-cache", "-q")
    assert result.returncode == 0, result.stderr
    assert f"3 students import {missing}" in result.stdout
    csv_like = run_cli(str(tmp_path), "--no-cache", "--format", "json")
    document = json.loads(csv_like.stdout)
    assert sorted(s["student"] for s in document["submissions"] if s["missing_packages"]) == \
        ["ana", "ben", "cai"]


def test_a_method_fragment_is_not_taken_as_the_answer(grade):
    # The fragment alone: not an answer, and the feedback says why.
    result = grade(SOLUTION.replace("def cost_function_prime", "def _model_cfp") + "\n\n" +
                   "import numpy as np\n" + FRAGMENT)
    cfp = next(q for q in result.questions if q.question.id == "cost_function_prime")
    assert cfp.status.value == "missing"
    assert "`costFunctionPrime` takes self" in cfp.feedback and "outside its class" in cfp.feedback


def test_the_stub_left_as_handed_out_does_not_hide_the_series_class(grade):
    # The stub's forward, cost, sigmoid_prime and cost_function_prime still raise
    # NotImplementedError; the class pasted below answers them.
    answered = _solution_without("forward", "cost", "sigmoid_prime", "cost_function_prime")
    # Their own delta3 and delta2 compute f'(z) inline, as a student answering around the
    # stub's untouched sigmoid_prime would.
    answered = answered.replace("sigmoid_prime(", "_fprime(") + \
        "\n\ndef _fprime(z):\n    return np.exp(-z) / ((1 + np.exp(-z)) ** 2)\n"
    stub_parts = "\n\n\n".join(_function_sources(STUB, "forward", "cost", "sigmoid_prime",
                                                "cost_function_prime"))
    result = grade(answered + "\n\n\n" + stub_parts + "\n\n\n" + SERIES_CLASS)
    lost = {q.question.id: q.feedback for q in result.questions if q.score < q.question.points}
    assert result.score == BACKPROP.max_score, lost
    assert any(note.startswith("graded the series' Neural_Network class for forward, cost, "
                               "sigmoid_prime, cost_function_prime") for note in result.notes)


def test_a_series_module_stand_in_never_holds_the_class_and_says_to_hand_it_in(grade):
    source = notebook_text("%pylab inline\nfrom partFour import *",
                           "NN = Neural_Network()\nnumgrad = NN.computeGradients(X, y)")
    result = grade(source, "part5.ipynb")
    assert result.score == 0
    assert any("NameError: name 'Neural_Network' is not defined" in e.message for e in result.load_errors)
    note = next(n for n in result.notes if n.startswith("partFour not handed in"))
    assert "not your Neural_Network" in note and "hand in partFour.py with your notebook" in note


@pytest.mark.sandbox
def test_a_folder_notebook_imports_its_own_module_and_not_a_classmates(tmp_path):
    ana = tmp_path / "class" / "ana"
    ana.mkdir(parents=True)
    (ana / "partFour.py").write_text("import numpy as np\n\nX = np.array([[0.3, 1.0], [0.5, 0.2], [1.0, 0.4]])\n"
                                     "y = np.array([[0.75], [0.82], [0.93]])\n\n" + SERIES_CLASS)
    (ana / "work.ipynb").write_text(notebook_text("%pylab inline\nfrom partFour import *",
                                                  "NN = Neural_Network()\nJ = NN.costFunction(X, y)"))
    ben = tmp_path / "class" / "ben"
    ben.mkdir()
    (ben / "backprop.ipynb").write_text(notebook_text("from partFour import *\nfrom work import *"))
    document = json.loads(run_cli(str(tmp_path / "class"), "--no-cache", "--format", "json").stdout)
    by_student = {s["student"]: s for s in document["submissions"]}
    assert by_student["ana"]["path"].endswith("work.ipynb")  # partFour.py is its module
    assert by_student["ana"]["score"] == SERIES_POINTS and by_student["ana"]["load_errors"] == []
    assert not any("not handed in" in note for note in by_student["ana"]["notes"])
    # ben can't import ana's files: `work` is nowhere for him, partFour is the data stand-in.
    assert by_student["ben"]["missing_packages"] == ["work"]
    assert any(note.startswith("there is no module work where this is graded")
               for note in by_student["ben"]["notes"])


@pytest.mark.sandbox
def test_a_lone_file_in_a_class_folder_gets_no_modules(tmp_path):
    (tmp_path / "ana.py").write_text(SOLUTION.replace("def forward", "def _unused") +
                                     "\nfrom ben import forward\n")
    (tmp_path / "ben.py").write_text(SOLUTION)
    result = grade_path(tmp_path / "ana.py", FAST)
    assert scores(result)["forward"] == 0


def test_extract_shows_the_stand_ins_and_the_magics_honoured(tmp_path):
    notebook = tmp_path / "series.ipynb"
    notebook.write_text(notebook_text("%pylab inline\nfrom partTwo import *",
                                      "import matplotlib.pyplot as plt\nplot([1, 2])\n%timeit dot(X, X.T)"))
    result = run_cli("extract", str(notebook))
    assert result.returncode == 0, result.stderr
    script = result.stdout
    assert "from matplotlib.pylab import *; from numpy import *" in script
    assert "# %pylab inline: what IPython runs for it" in script
    assert "from partTwo import *  # grader: your partTwo.py if handed in, else the series' data only" in script
    assert "import matplotlib.pyplot as plt  # grader: a stand-in, plotting does nothing" in script
    assert "pass  # not run by the grader: %timeit dot(X, X.T)" in script
    assert script.startswith("# The Python the grader runs for this notebook")


def test_the_autograder_can_carry_a_requirements_file(tmp_path):
    import zipfile

    requirements = tmp_path / "requirements.txt"
    requirements.write_text("scipy\n")
    target = tmp_path / "autograder.zip"
    subprocess.run([sys.executable, str(ROOT / "gradescope" / "make_autograder.py"), "-o", str(target),
                    "--requirements", str(requirements)], check=True, capture_output=True)
    with zipfile.ZipFile(target) as archive:
        assert archive.read("requirements.txt") == b"scipy\n"
        setup = archive.read("setup.sh").decode()
    assert '-r "$AUTOGRADER/source/requirements.txt"' in setup


def test_the_series_cost_scores_alike_as_a_file_and_under_pylab(grade):
    # Issue 27, 4: the series writes J = 0.5*sum((y-self.yHat)**2). In a .py `sum` is Python's,
    # one J per output; under %pylab it is numpy's, the total over the outputs too: the J whose
    # gradient a2^T delta3 is. The worksheet accepts both: with several outputs they differ.
    series = SERIES_CLASS.replace("0.5 * np.sum((y - self.yHat) ** 2, axis=0)", "0.5 * sum((y - self.yHat) ** 2)")
    assert series != SERIES_CLASS
    as_file = grade("import numpy as np\n\n" + series)
    as_notebook = grade(notebook_text("%pylab inline", series), "part4.ipynb")
    assert scores(as_file)["cost"] == scores(as_notebook)["cost"] == points("cost")
    assert as_file.score == as_notebook.score == SERIES_POINTS


def test_a_scalar_total_cost_is_accepted_beside_the_row(grade):
    result = grade(with_solution("def cost(y, yHat):\n    return 0.5 * np.sum((y - yHat) ** 2)\n"))
    assert scores(result)["cost"] == points("cost")
    wrong = grade(with_solution("def cost(y, yHat):\n    return np.sum((y - yHat) ** 2)\n"))
    assert scores(wrong)["cost"] == 0


@pytest.mark.sandbox
def test_a_class_drawing_random_weights_gets_the_same_feedback_every_run(tmp_path):
    # Issue 27, 5: weights drawn in __init__ under other names (w1, w2) than the adapter sets,
    # and a draw from `random`: wrong, but wrong the same way on every run. Each run is a new
    # grader: runners forked from one fork server share its generators' state, two runs did not.
    series = (SERIES_CLASS.replace("self.W1", "self.w1").replace("self.W2", "self.w2")
              .replace("return 1 / (1 + np.exp(-z))", "return 1 / (1 + np.exp(-z)) + random.random() * 1e-3"))
    (tmp_path / "backprop.py").write_text("import random\nimport numpy as np\n\n" + series, encoding="utf-8")
    runs = [json.loads(run_cli(str(tmp_path / "backprop.py"), "--format", "json", "--no-cache").stdout)
            ["submissions"][0] for _ in range(2)]
    feedback = [[q["feedback"] for q in run["questions"]] for run in runs]
    assert runs[0]["questions"][0]["score"] == 0 and "got" in feedback[0][0]
    assert feedback[0] == feedback[1]


@needs_missing
def test_a_cell_goes_on_past_a_line_that_uses_a_missing_package(grade):
    # Issue 27, 2 (review): the line using the package could not run here; the functions after
    # it in the same cell are defined, and graded, as where the package is installed.
    cell = (f"from {MISSING} import elementwise_grad\n"
            f"slope = elementwise_grad(lambda z: 1 / (1 + np.exp(-z)))\n"
            "checked = slope(np.zeros(3))\n\n"
            "def sigmoid_prime(z):\n    return np.exp(-z) / ((1 + np.exp(-z)) ** 2)\n")
    source = notebook_text("import numpy as np", SOLUTION.replace("def sigmoid_prime", "def _unused_prime"), cell)
    result = grade(source, "backprop.ipynb")
    assert result.score == BACKPROP.max_score, {q.question.id: q.feedback for q in result.questions}
    assert result.missing_packages == (MISSING,) and result.load_errors == ()
