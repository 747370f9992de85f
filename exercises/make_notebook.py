"""Build exercises/backprop.ipynb from exercises/backprop.py, so the two never drift apart.

    python exercises/make_notebook.py          # rewrite the notebook
    python exercises/make_notebook.py --check  # exit 1 if the notebook is out of date

Each function of the stub becomes a Markdown cell (its question, from the docstring) and a
code cell (the function exactly as in the .py file). Cell ids are fixed so that the output is
the same on every run.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
STUB = HERE / "backprop.py"
NOTEBOOK = HERE / "backprop.ipynb"


def build(source: str) -> str:
    """The notebook's JSON text for a stub's source."""
    tree = ast.parse(source)
    lines = source.splitlines()
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    intro = ast.get_docstring(tree) or ""
    intro = intro.replace("grade backprop.py", "grade backprop.ipynb")
    docstring_end = tree.body[0].end_lineno if intro else 0
    preamble = "\n".join(lines[docstring_end:functions[0].lineno - 1]).strip()

    title, _, body = intro.partition("\n")
    cells = [nbformat.v4.new_markdown_cell(f"# {title.rstrip('.')}\n\n{body.strip()}"),
             nbformat.v4.new_code_cell(preamble)]
    for function in functions:
        doc = ast.get_docstring(function) or ""
        title, _, rest = doc.partition("\n")
        heading = f"## `{function.name}`: {title}"
        cells.append(nbformat.v4.new_markdown_cell(heading + ("\n\n" + rest.strip() if rest.strip() else "")))
        code = "\n".join(lines[function.lineno - 1:function.end_lineno])
        cells.append(nbformat.v4.new_code_cell(code))
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number:02d}"
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    return nbformat.writes(notebook) + "\n"


def main(argv: list[str]) -> int:
    text = build(STUB.read_text(encoding="utf-8"))
    if "--check" in argv:
        if NOTEBOOK.read_text(encoding="utf-8") != text:
            print(f"{NOTEBOOK.name} is out of date: run python exercises/make_notebook.py")
            return 1
        return 0
    NOTEBOOK.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
