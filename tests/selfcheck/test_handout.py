"""`grade student-check`: the file students check their work with holds no answers, needs no
grader, and says what the grader says."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from conftest import BACKPROP, FAST, ROOT, SOLUTION, STUB, points, run_cli, with_solution
from grader import assignment
from grader.grading import grade_submission, plan
from grader.intake.loading import Submission
from grader.judge import catalogue
from grader.sandbox import Cell
from grader.selfcheck import handout as student_check

MODEL_LINE = "return dJdW1(X, d2), dJdW2(a2, d3)"
# Where the grader can't be imported: what a student's machine is like.
_NO_GRADER = """
import sys
class _NoGrader:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("grader", "solutions", "assignments") or name.startswith("_assignment_"):
            raise ImportError("the grader is not installed here: " + name)
sys.meta_path.insert(0, _NoGrader())
"""


@pytest.fixture(scope="module")
def check_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("student")
    done = run_cli("student-check", "-o", str(folder / "backprop_check.py"))
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "2 practice cases" in done.stdout
    return folder / "backprop_check.py"


def _check(check_file: Path, source: str, question: str | None = None) -> dict:
    """check() on `source`'s functions in a fresh Python where the grader can't be imported:
    each question's score, max_score and feedback."""
    program = _NO_GRADER + f"""
import json
import os
sys.path.insert(0, {str(check_file.parent)!r})
from backprop_check import check
namespace = {{}}
exec(compile({source!r}, "answers.py", "exec"), namespace)
card = check({question!r}, namespace=namespace)
print(json.dumps({{"score": card.score, "max_score": card.max_score,
                  "questions": {{q.id: [q.score, q.max_score, q.feedback] for q in card.questions}}}}))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_file_needs_numpy_and_the_standard_library_only(check_file):
    tree = ast.parse(check_file.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported - set(sys.stdlib_module_names) == {"numpy"}


def test_the_model_answer_scores_full_marks_and_the_stub_none(check_file):
    right = _check(check_file, SOLUTION)
    assert right["score"] == right["max_score"] == BACKPROP.max_score
    assert all(feedback.startswith("correct") for _, _, feedback in right["questions"].values())
    stub = _check(check_file, STUB)
    assert stub["score"] == 0
    assert stub["questions"]["delta2"][2] == "not answered yet: the function still raises NotImplementedError"


@pytest.mark.sandbox
@pytest.mark.parametrize("mistake, question", [
    ("def dJdW2(a2, delta3):\n    return delta3.T @ a2\n", "dJdW2"),
    ("def dJdW2(a2, delta3):\n    return a2.T\n", "dJdW2"),
    ("def sigmoid_prime(z):\n    return z * (1 - z)\n", "sigmoid_prime"),
    ("def delta2(delta3, W2, z2):\n    return delta3 @ W2.T\n", "delta2"),
    ("def cost(y, yHat):\n    return np.sum((y - yHat) ** 2, axis=0, keepdims=True)\n", "cost"),
])
def test_a_mistake_gets_the_graders_own_words(check_file, mistake, question):
    source = with_solution(mistake)
    graded = grade_submission(Submission("s", "s.py", (Cell(source, "s.py"),)), FAST)
    said = next(q for q in graded.questions if q.question.id == question)
    assert said.diagnosis is not None  # a catalogued mistake: the grader names it
    checked = _check(check_file, source, question)["questions"][question]
    count = re.compile(r" \(\d+/\d+ cases correct\)")
    assert count.sub("", checked[2]) == count.sub("", said.feedback)
    assert checked[0] == 0


# A cost as students return it: without keepdims (one entry per output, (outputs,)), as
# lists, summed to one number in a (1, 1). The grader's diagnosis reads each as the comparison
# does (compare.as_read); the self-check file reads it with the same code, and says the same.
@pytest.mark.sandbox
@pytest.mark.parametrize("body, mistake_id", [
    ("np.sum((y - yHat) ** 2, axis=0)", "cost.missing_half"),
    ("0.5 * np.mean((y - yHat) ** 2, axis=0)", "cost.mean"),
    ("[list(row) for row in np.sum((y - yHat) ** 2, axis=0, keepdims=True)]", "cost.missing_half"),
    ("0.5 * (y - yHat) ** 2", "cost.not_summed"),
])
def test_a_wrong_cost_gets_one_explanation_from_the_grader_and_the_self_check(check_file, body, mistake_id):
    source = with_solution(f"def cost(y, yHat):\n    return {body}\n")
    graded = grade_submission(Submission("s", "s.py", (Cell(source, "s.py"),)), FAST)
    said = next(q for q in graded.questions if q.question.id == "cost")
    explain = next(m.explain for m in catalogue.load(None, BACKPROP) if m.id == mistake_id)
    assert said.diagnosis is not None and said.diagnosis.id == mistake_id
    checked = _check(check_file, source, "cost")["questions"]["cost"][2]
    count = re.compile(r" \(\d+/\d+ cases correct\)$")
    assert count.sub("", checked) == count.sub("", said.feedback) == explain


@pytest.mark.sandbox
def test_the_scalar_total_cost_is_right_for_the_grader_and_the_self_check(check_file):
    # Issue 27, 4: with several outputs the total over them is accepted beside the row, by both.
    source = with_solution("def cost(y, yHat):\n    return 0.5 * np.sum((y - yHat) ** 2, keepdims=True)\n")
    graded = grade_submission(Submission("s", "s.py", (Cell(source, "s.py"),)), FAST)
    said = next(q for q in graded.questions if q.question.id == "cost")
    assert said.score == said.question.points and said.feedback.startswith("correct")
    checked = _check(check_file, source, "cost")["questions"]["cost"]
    assert checked[2].startswith("correct"), checked


def test_an_answer_that_is_not_numbers_is_described_not_a_crash(check_file):
    """A dict (or an array of texts) returned: the file once ended in a TypeError reading it."""
    for value in ("{'J': 1}", "np.array(['J'])"):
        checked = _check(check_file, with_solution(f"def cost(y, yHat):\n    return {value}\n"), "cost")
        assert "which numpy cannot read as an array of numbers" in checked["questions"]["cost"][2]


def test_what_builds_on_a_wrong_answer_says_so(check_file):
    checked = _check(check_file, with_solution("def dJdW2(a2, delta3):\n    return a2.T\n"))
    assert "your dJdW2 is wrong too" in checked["questions"]["cost_function_prime"][2]


def test_a_function_replaced_by_a_variable_is_said_to_be_one(check_file):
    """The series' `dJdW1, dJdW2 = NN.costFunctionPrime(X, y)`, with the stub's names: the
    functions are arrays by the time the student checks."""
    checked = _check(check_file, with_solution(
        "X = np.ones((3, 2)); y = np.ones((3, 1)); W1, W2 = np.ones((2, 3)), np.ones((3, 1))\n"
        "dJdW1, dJdW2 = cost_function_prime(X, y, W1, W2)\n"))
    assert checked["questions"]["dJdW2"] == [0, points("dJdW2"), (
        "not a function when checked: dJdW2 is a numpy.ndarray here; if a line assigns to it after "
        "your function (as `dJdW1, dJdW2 = ...` would), give that variable another name")]
    assert checked["questions"]["dJdW1"][2].startswith("not a function when checked: dJdW1 is a numpy.ndarray")
    assert _check(check_file, with_solution("dJdW2 = 3\n"))["questions"]["dJdW2"][2].startswith(
        "not a function when checked: dJdW2 is an int here")
    assert _check(check_file, with_solution("dJdW2 = None\n"))["questions"]["dJdW2"][2].startswith(
        "not a function when checked: dJdW2 is None here")


def test_check_takes_worksheet_question_numbers(check_file):
    assert set(_check(check_file, SOLUTION, "Q17")["questions"]) == {"delta2", "dJdW1"}
    assert set(_check(check_file, SOLUTION, "q6")["questions"]) == {"sigmoid_prime"}


def test_no_reference_code_and_no_formula_of_a_mistake_is_in_the_file(check_file):
    text = check_file.read_text()
    assert MODEL_LINE not in text
    for question in BACKPROP.questions:
        assert f"def {question.id}(" not in text
    reference_lines = {line.strip() for line in SOLUTION.splitlines()
                       if line.strip().startswith("return ") and len(line.strip()) > 12}
    assert not [line for line in reference_lines if line in text]
    for mistake in catalogue.load(None, BACKPROP):
        assert mistake.explain not in text, mistake.id
        if len(mistake.answer) > 8:  # a formula, not a bare name such as `a2`
            assert mistake.answer not in text, mistake.id


def test_the_graded_cases_answers_are_not_in_the_file(check_file):
    text = check_file.read_text()
    hidden = [check.expected for check in plan(BACKPROP.default_seed, BACKPROP) if not check.case.worksheet
              and not check.question.constants]
    numbers = [float(x) for value in hidden
               for part in (value if isinstance(value, tuple) and not isinstance(value[0], int) else (value,))
               for x in np.ravel(np.asarray(part, dtype=float))]
    assert len(numbers) > 200
    leaked = [x for x in numbers if float(x).is_integer() is False and repr(x) in text]
    assert leaked == []
    # The test can see numbers when they are there: the worksheet's are.
    q11 = next(c for c in plan(BACKPROP.default_seed, BACKPROP) if c.question.id == "delta3" and c.case.id == "q11")
    assert repr(float(q11.expected[0, 0])) in text


@pytest.mark.sandbox
def test_the_public_seed_may_not_be_the_grading_seed(tmp_path):
    done = run_cli("student-check", "-o", str(tmp_path / "c.py"), "--public-seed", "7", "--seed", "7")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "public seed is the grading seed" in done.stderr
    assert not (tmp_path / "c.py").exists()


def test_more_practice_cases_on_request():
    text = student_check.build(student_check.DEFAULT_PUBLIC_SEED, 3, None, None, BACKPROP)
    assert "practice 3 (3 examples, layers 3-5-3)" in text


def _python_without_the_grader(root: Path) -> Path:
    """A venv where the grader is not installed: numpy and a Jupyter kernel only (linked from
    this Python's, through a .pth), as on a student's machine."""
    from importlib import metadata

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    deps = root / "deps"
    deps.mkdir()
    seen, todo = set(), ["ipykernel", "numpy"]
    while todo:
        try:
            dist = metadata.distribution(todo.pop())
        except metadata.PackageNotFoundError:
            continue  # a dependency for another platform
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        todo += [re.split(r"[\s;\[<>=!~(]", r, maxsplit=1)[0] for r in dist.requires or () if "extra ==" not in r]
        for top in {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (deps / top).exists():
                (deps / top).symlink_to(source)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "kernel-deps.pth").write_text(f"{deps}\n")
    return python


def test_the_student_notebook_self_checks_in_a_real_kernel_where_the_grader_is_not_installed(
        check_file, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    python = _python_without_the_grader(tmp_path)
    probe = subprocess.run([str(python), "-c", "import numpy, ipykernel\ntry:\n    import grader\n"
                            "except ImportError:\n    print('no grader')"], capture_output=True, text=True,
                           cwd=tmp_path)  # not beside a checkout of the grader
    assert probe.stdout.strip() == "no grader", probe.stderr
    spec = tmp_path / "jupyter" / "kernels" / "student"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "a student's Python", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    work = tmp_path / "work"
    work.mkdir()
    (work / "backprop_check.py").write_text(check_file.read_text())
    notebook = nbformat.read(ROOT / "exercises" / "backprop" / "backprop.ipynb", as_version=4)
    checks = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.source.startswith("check(")]
    assert len(checks) == len(BACKPROP.questions)  # a check after each question
    notebook.cells.append(nbformat.v4.new_code_cell(SOLUTION))
    notebook.cells.append(nbformat.v4.new_code_cell(
        "import importlib.util\ncard = check()\n"
        "print(card.score, card.max_score, importlib.util.find_spec('grader') is None)\ncard"))
    NotebookClient(notebook, timeout=120, kernel_name="student",
                   resources={"metadata": {"path": str(work)}}).execute()
    first = next(c for c in notebook.cells if c.source == 'check("forward")')
    assert "not answered yet" in first.outputs[0]["data"]["text/plain"]
    last = notebook.cells[-1]
    printed = next(o for o in last.outputs if o.get("name") == "stdout")["text"].split()
    assert [float(printed[0]), float(printed[1]), printed[2]] == [BACKPROP.max_score, BACKPROP.max_score, "True"]
    assert "<code>cost_function_prime</code>" in next(o for o in last.outputs if "data" in o)["data"]["text/html"]


def test_the_student_notebook_handed_in_with_its_check_cells_is_graded_unflagged(grade):
    notebook = nbformat.read(ROOT / "exercises" / "backprop" / "backprop.ipynb", as_version=4)
    for cell in notebook.cells:  # the student's work: each stub function replaced by the answer
        if cell.cell_type == "code" and cell.source.startswith(("def ", "# ")):
            cell.source = ""
    notebook.cells.append(nbformat.v4.new_code_cell(SOLUTION))
    result = grade(nbformat.writes(notebook), "backprop.ipynb")
    assert result.score == BACKPROP.max_score and result.flags == () and result.load_errors == ()
    assert any(note.startswith("self-check lines not run") for note in result.notes)


@pytest.mark.parametrize("name", ["backprop", "gradient-checking"])
def test_the_stub_and_its_notebook_send_students_to_the_self_check_not_to_grade(name, tmp_path):
    """Students do not install the grader (it holds the model answer): the stub and its
    notebook tell them to check their work with the file `grade student-check` writes, with a
    command that works."""
    from grader.assignment import load

    work = load(name)
    module = f"{work.handin}_check"
    stub = work.stub_path.read_text(encoding="utf-8")
    notebook = nbformat.read(work.notebook_path, as_version=4)
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    for told in (ast.get_docstring(ast.parse(stub)) or "", markdown):
        assert not re.search(r"^\s*grade\s", told, re.MULTILINE), told
    command = f"python {module}.py {work.handin}.py"
    assert command in stub and f"{module}.py" in markdown and f"from {module} import check" in \
        [cell.source for cell in notebook.cells]
    assert command not in markdown  # a notebook is checked in the notebook, not with its .py's command

    (tmp_path / f"{module}.py").write_text(student_check.build(student_check.DEFAULT_PUBLIC_SEED, 2, None, None, work))
    for answers, score in ((work.stub_path, 0), (work.model_answer_path, work.max_score)):
        (tmp_path / f"{work.handin}.py").write_text(answers.read_text(encoding="utf-8"))
        done = subprocess.run([sys.executable, *command.split()[1:]], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"self-check: {score:g} / {work.max_score:g} on the public cases" in done.stdout


@pytest.mark.parametrize("module", ["backprop_check", "grader"])
def test_check_alone_on_a_line_of_a_script_prints_its_card(check_file, tmp_path, module):
    """In a plain script `check("Q6")` showed nothing (only a prompt shows a line's value):
    its card is printed there, once; where the script uses the value it is not printed for it."""
    script = tmp_path / "answers.py"
    script.write_text(f"from {module} import check\n{SOLUTION}\n"
                      "check('Q6')\ncard = check('dJdW2')\nprint(f'kept {card.score:g}', 'sigmoid_prime' in repr(check('Q6')))\n")
    (tmp_path / "backprop_check.py").write_text(check_file.read_text())
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == f"kept {points('dJdW2'):g} True"
    shown = lines[:-1]  # check('Q6') alone, and only it
    assert any(line.startswith("sigmoid_prime") for line in shown) and not any("dJdW2" in line for line in shown)
    assert sum(line.startswith("self-check: ") for line in shown) == 1


@pytest.mark.sandbox
def test_the_handed_out_check_reads_a_row_j_as_the_grader_does(tmp_path):
    # Issue 27, 4 and 9: one convention everywhere. The series' computeNumericalGradient as plain
    # functions, J a row: the handed-out file gave 0/3 (numpy 2's "setting an array element with a
    # sequence") where the grader gives 3/3.
    done = run_cli("student-check", "--assignment", "gradient-checking", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checking = assignment.load("gradient-checking")
    model = checking.model_answer_path.read_text(encoding="utf-8")
    start, end = model.index("def numerical_gradient("), model.index("def relative_error(")
    series_style = model[:start] + (
        "def numerical_gradient(X, y, W1, W2, epsilon=1e-4):\n"
        "    params = get_params(W1, W2)\n"
        "    sizes = (W1.shape[0], W1.shape[1], W2.shape[1])\n"
        "    numgrad = np.zeros(params.shape)\n"
        "    perturb = np.zeros(params.shape)\n"
        "    for p in range(len(params)):\n"
        "        perturb[p] = epsilon\n"
        "        loss2 = cost(y, forward(X, *set_params(params + perturb, *sizes))[3])\n"
        "        loss1 = cost(y, forward(X, *set_params(params - perturb, *sizes))[3])\n"
        "        numgrad[p] = (loss2 - loss1) / (2 * epsilon)\n"
        "        perturb[p] = 0\n"
        "    return numgrad\n\n\n") + model[end:]
    (tmp_path / "gradient_checking.py").write_text(series_style, encoding="utf-8")
    ran = subprocess.run([sys.executable, "gradient_checking_check.py", "gradient_checking.py"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    line = next(line for line in ran.stdout.splitlines() if line.startswith("numerical_gradient"))
    assert "3 / 3" in line, ran.stdout + ran.stderr
