"""Build an assignment's stub notebook from its stub .py, so the two never drift apart.

    python -m grader.assignment.stub_notebook [ASSIGNMENT]          # rewrite exercises/backprop/backprop.ipynb
    python -m grader.assignment.stub_notebook --check [ASSIGNMENT]  # exit 1 if the notebook is out of date

ASSIGNMENT is an installed assignment's name (default: backprop) or an assignment's folder.

Each function of the stub becomes a Markdown cell (its question, from the docstring), a
code cell (the function exactly as in the .py file) and a self-check cell (`check("forward")`);
a group of constants becomes a Markdown cell from the comment above it, a code cell and a
self-check cell. The introduction says how to self-check, with `<hand-in>_check.py` from
`grade student-check`. Cell ids are fixed so that the output is the
same on every run.
"""

from __future__ import annotations

import ast
import sys

import nbformat

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


def build(source: str, assignment: Assignment) -> str:
    """The notebook's JSON text for a stub's source of the assignment."""
    questions = {q.id for q in assignment.questions}
    # A group of constants is checked as the question that reads them.
    by_constant = {name: q.id for q in assignment.questions for name in q.constants}
    module = f"{assignment.handin}_check"
    tree = ast.parse(source)
    lines = source.splitlines()
    intro = ast.get_docstring(tree) or ""
    intro = intro.replace(f"grade {assignment.handin}.py", f"grade {assignment.handin}.ipynb")
    body = tree.body[1:] if intro else tree.body
    first_block = next(i for i, node in enumerate(body) if isinstance(node, (ast.FunctionDef, ast.Assign)))
    preamble = "\n".join(lines[body[0].lineno - 1:body[first_block].lineno - 1]).strip()

    title, _, rest_of_intro = intro.partition("\n")
    cells = [nbformat.v4.new_markdown_cell(f"# {title.rstrip('.')}\n\n{rest_of_intro.strip()}"),
             nbformat.v4.new_markdown_cell(SELF_CHECK.format(module=module)),
             nbformat.v4.new_code_cell(f"from {module} import check"),
             nbformat.v4.new_code_cell(preamble)]
    index = first_block
    while index < len(body):
        node = body[index]
        if isinstance(node, ast.FunctionDef):
            doc = ast.get_docstring(node) or ""
            heading, _, rest = doc.partition("\n")
            text = f"## `{node.name}`: {heading}" + ("\n\n" + rest.strip() if rest.strip() else "")
            code = "\n".join(lines[node.lineno - 1:node.end_lineno])
            question = node.name
            index += 1
        else:  # a group of constants, explained by the comment above it
            group = [node]
            while index + len(group) < len(body) and isinstance(body[index + len(group)], ast.Assign):
                group.append(body[index + len(group)])
            comment, start = _comment_above(lines, node.lineno)
            names = ", ".join(f"`{t.id}`" for g in group for t in g.targets if isinstance(t, ast.Name))
            text = f"## {names}: {comment}"
            code = "\n".join(lines[start - 1:group[-1].end_lineno])
            question = next((by_constant[t.id] for g in group for t in g.targets
                             if isinstance(t, ast.Name) and t.id in by_constant), None)
            index += len(group)
        cells.append(nbformat.v4.new_markdown_cell(text))
        cells.append(nbformat.v4.new_code_cell(code))
        if question in questions:  # a check after each question, as Otter's notebooks have
            cells.append(nbformat.v4.new_code_cell(f'check("{question}")'))
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number:02d}"
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    return nbformat.writes(notebook) + "\n"


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
            print(f"{assignment.notebook_path} is out of date: run python -m grader.assignment.stub_notebook {assignment.name}")
            return 1
        return 0
    assignment.notebook_path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
