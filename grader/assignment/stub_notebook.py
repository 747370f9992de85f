"""Build an assignment's stub notebook from its stub .py, so the two never drift apart.

    python -m grader.assignment.stub_notebook [ASSIGNMENT]          # rewrite exercises/backprop/backprop.ipynb
    python -m grader.assignment.stub_notebook --check [ASSIGNMENT]  # exit 1 if the notebook is out of date

ASSIGNMENT is an installed assignment's name (default: backprop) or an assignment's folder.

Each function of the stub becomes a Markdown cell (its question, from the docstring), a
code cell (the function exactly as in the .py file) and a self-check cell (`check("forward")`);
a group of constants becomes a Markdown cell from the comment above it, a code cell and a
self-check cell. The introduction says how to self-check in the notebook, with
`<hand-in>_check.py` from `grade student-check`: where the stub's own docstring says how to
check the .py (`python backprop_check.py backprop.py`), that paragraph and its command are left
out of the notebook, which says it its own way. Students never run `grade`: the grader holds
the model answer and is not theirs to install. Cell ids are fixed so that the output is the
same on every run.
"""

from __future__ import annotations

import ast
import sys

import nbformat
from nbformat import NotebookNode

from grader.assignment import DEFAULT, Assignment, AssignmentError, load

SELF_CHECK = """### Checking your work as you go

Put `{module}.py` (your instructor hands it out) beside this notebook and run the cell
below once. Then run the `check(...)` cell after each question: it checks your function on the
worksheet's numbers and on practice cases of other sizes, and says what is wrong.
`check()` checks everything; `check("Q6")` checks a worksheet question. The check cells are not
graded and may stay in what you hand in; your grade comes from the grader, on more cases."""


def _comment_above(lines: list[str], lineno: int) -> tuple[str, int]:
    """The comment block right above a line (1-based), as text, and its first line number."""
    start = lineno - 1
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    block = [line.lstrip("# ").rstrip() for line in lines[start:lineno - 1]]
    return " ".join(block), start + 1


def _without_the_py_check(intro: str, check_file: str) -> str:
    """The stub's introduction less its paragraphs naming the self-check file and the commands
    (indented blocks) right after them: how to check a .py, which the notebook says its own way."""
    kept: list[str] = []
    after_check = False
    for paragraph in intro.split("\n\n"):
        if check_file in paragraph or (after_check and paragraph.startswith((" ", "\t"))):
            after_check = True
            continue
        after_check = False
        kept.append(paragraph)
    return "\n\n".join(kept)


def build(source: str, assignment: Assignment) -> str:
    """The notebook's JSON text for a stub's source of the assignment."""
    module = f"{assignment.handin}_check"
    tree = ast.parse(source)
    lines = source.splitlines()
    intro = _without_the_py_check(ast.get_docstring(tree) or "", f"{module}.py")
    body = tree.body[1:] if intro else tree.body
    first_block = next(i for i, node in enumerate(body) if isinstance(node, (ast.FunctionDef, ast.Assign)))
    preamble = "\n".join(lines[body[0].lineno - 1:body[first_block].lineno - 1]).strip()

    title, _, rest_of_intro = intro.partition("\n")
    cells = [nbformat.v4.new_markdown_cell(f"# {title.rstrip('.')}\n\n{rest_of_intro.strip()}"),
             nbformat.v4.new_markdown_cell(SELF_CHECK.format(module=module)),
             nbformat.v4.new_code_cell(f"from {module} import check"),
             nbformat.v4.new_code_cell(preamble),
             *_question_cells(body[first_block:], lines, assignment)]
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number:02d}"
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    return nbformat.writes(notebook) + "\n"


def _question_cells(body: list[ast.stmt], lines: list[str], assignment: Assignment) -> list[NotebookNode]:
    """For each function, and each group of constants, of the stub's body: its question as
    Markdown, its code, and a self-check cell when it is a question of the assignment."""
    questions = {q.id for q in assignment.questions}
    # A group of constants is checked as the question that reads them.
    by_constant = {name: q.id for q in assignment.questions for name in q.constants}
    cells = []
    index = 0
    while index < len(body):
        node = body[index]
        question: str | None
        if isinstance(node, ast.FunctionDef):
            text, code, question = _function_block(node, lines)
            index += 1
        else:
            group = _constants_from(body, index)
            text, code, question = _constants_block(group, lines, by_constant)
            index += len(group)
        cells.append(nbformat.v4.new_markdown_cell(text))
        cells.append(nbformat.v4.new_code_cell(code))
        if question in questions:  # a check after each question, as Otter's notebooks have
            cells.append(nbformat.v4.new_code_cell(f'check("{question}")'))
    return cells


def _function_block(node: ast.FunctionDef, lines: list[str]) -> tuple[str, str, str]:
    """A function's heading (from its docstring), its code exactly as written, its question."""
    doc = ast.get_docstring(node) or ""
    heading, _, rest = doc.partition("\n")
    text = f"## `{node.name}`: {heading}" + ("\n\n" + rest.strip() if rest.strip() else "")
    return text, "\n".join(lines[node.lineno - 1:node.end_lineno]), node.name


def _constants_from(body: list[ast.stmt], index: int) -> list[ast.Assign]:
    """The run of assignments that starts at `index`: one group of constants."""
    group = []
    for node in body[index:]:
        if not isinstance(node, ast.Assign):
            break
        group.append(node)
    if not group:
        raise ValueError(f"line {body[index].lineno}: after the first question the stub holds only "
                         f"functions and constants, not {type(body[index]).__name__}")
    return group


def _constants_block(group: list[ast.Assign], lines: list[str],
                     by_constant: dict[str, str]) -> tuple[str, str, str | None]:
    """A group of constants, explained by the comment above it: that comment as its heading,
    the code with the comment, and the question that reads them (None: none does)."""
    comment, start = _comment_above(lines, group[0].lineno)
    names = [target.id for node in group for target in node.targets if isinstance(target, ast.Name)]
    text = "## " + ", ".join(f"`{name}`" for name in names) + f": {comment}"
    code = "\n".join(lines[start - 1:group[-1].end_lineno])
    return text, code, next((by_constant[name] for name in names if name in by_constant), None)


def main(argv: list[str]) -> int:
    names = [a for a in argv if not a.startswith("--")]
    try:
        assignment = load(names[0] if names else DEFAULT)
    except AssignmentError as exc:
        print(exc, file=sys.stderr)
        return 1
    text = build(assignment.stub_path.read_text(encoding="utf-8"), assignment)
    if "--check" in argv:
        if not assignment.notebook_path.is_file() or assignment.notebook_path.read_text(encoding="utf-8") != text:
            print(f"{assignment.notebook_path} is out of date: run "
                  f"python -m grader.assignment.stub_notebook {assignment.name}")
            return 1
        return 0
    assignment.notebook_path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
