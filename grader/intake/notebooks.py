"""Jupyter notebooks as cells of plain Python.

IPython syntax (line and cell magics, shell escapes, help) is never executed: each such line is
replaced by `pass` with the original kept as a comment, so indentation stays valid and line
numbers stay those of the notebook. Two magics are honoured instead, as one line of the Python
IPython itself runs for them: `%pylab` (numpy's names and the plotting names, which do nothing
when graded) and `%matplotlib` (nothing to do). A cell that is valid Python is left exactly as
written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.intake import selfcheck_lines
from grader.results import printable
from grader.sandbox import Cell

# Cell magics whose body is Python: the magic line goes, the body is graded.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
_IPYTHON_LINE = re.compile(
    r"""^(?P<indent>\s*)(?P<syntax>
        %%?\w.*                      # line or cell magic
      | !.*                          # shell escape
      | \w[\w.]*\s*=\s*[!%].*        # x = !ls, y = %who_ls
      | \?+[\w.]+\s*                 # ?name
      | [\w.]+\?{1,2}\s*             # name? and name??
    )$""",
    re.VERBOSE,
)


# What IPython runs for %pylab (IPython.core.pylabtools.import_pylab), on one line.
PYLAB = ("import numpy; import matplotlib; from matplotlib import pylab, mlab, pyplot; "
         "np = numpy; plt = pyplot; from matplotlib.pylab import *; from numpy import *; "
         "from IPython.display import display; from IPython.core.pylabtools import figsize, getfigs")


def honoured_magic(indent: str, syntax: str) -> str | None:
    """The line a magic the grader honours becomes, or None to set it aside."""
    words = syntax.split()
    if words[0] == "%matplotlib":
        return f"{indent}pass  # {syntax}: nothing to do when graded"
    if words[0] == "%pylab" and not indent:  # `import *` is allowed at top level only
        return f"{PYLAB}  # {syntax}: what IPython runs for it; plots do nothing when graded"
    return None


class NotebookError(Exception):
    """The file is not a notebook nbformat can read; the message is one line."""


@dataclass(frozen=True)
class NotebookCode:
    """The code cells of a notebook, ready to run, and the IPython lines that were set aside."""

    cells: tuple[Cell, ...]
    ignored: tuple[str, ...]  # "cell 2, line 1: %matplotlib inline"
    self_checks: tuple[str, ...] = ()  # "cell 3, line 1: check(\"Q6\")", set aside


def _compiles(source: str) -> bool:
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def strip_ipython(source: str) -> tuple[str, list[tuple[int, str]]]:
    """The cell as plain Python, and (line number, text) of each IPython line set aside."""
    if _compiles(source):
        return source, []
    lines = source.split("\n")
    first = lines[0].strip()
    if first.startswith("%%") and first[2:].split(" ")[0] not in _PYTHON_CELL_MAGICS:
        # %%bash, %%html, %%writefile...: the whole cell is another language.
        return "\n".join(f"# {line}" for line in lines), [(1, first)]
    ignored = []
    for number, line in enumerate(lines, start=1):
        match = _IPYTHON_LINE.match(line)
        if match:
            honoured = honoured_magic(match["indent"], match["syntax"].strip())
            if honoured is not None:
                lines[number - 1] = honoured
                continue
            ignored.append((number, match["syntax"].strip()))
            lines[number - 1] = f"{match['indent']}pass  # not run by the grader: {match['syntax']}"
    return "\n".join(lines), ignored


# More cells than any worksheet has: a notebook beyond this is refused before it is parsed,
# so that reading it never costs the grader more than a bounded time and memory.
MAX_CELLS = 2000


def read_notebook(path: Path, text: str, check_modules: tuple[str, ...]) -> NotebookCode:
    """Code cells of a v3 or v4 notebook (v3 upgraded), numbered from 1 among code cells, the
    lines that use the self-check modules `check_modules` (the assignment's) set aside. A v4
    notebook is read as JSON, its code cells taken as they are: nothing but them is needed."""
    import json

    cells_in_text = text.count('"cell_type"')
    if cells_in_text > MAX_CELLS:
        raise NotebookError(f"the notebook has {cells_in_text} cells, more than the {MAX_CELLS} "
                            f"a hand-in may have")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotebookError(f"not a valid notebook (not JSON: {str(exc)[:150]})") from None
    if not isinstance(document, dict) or document.get("nbformat") not in (3, 4):
        raise NotebookError("not a valid notebook (no nbformat 3 or 4 version)")
    if document["nbformat"] == 3:
        document = _upgraded(text)
    raw_cells = document.get("cells")
    if not isinstance(raw_cells, list) or not all(isinstance(c, dict) for c in raw_cells):
        raise NotebookError("not a valid notebook (its cells are not a list of cells)")
    ignored, self_checks = [], []
    code_cells = [c for c in raw_cells if c.get("cell_type") == "code"]
    sources = []
    for number, cell in enumerate(code_cells, start=1):
        source, set_aside = strip_ipython(cell_source(cell))
        sources.append(source)
        ignored += [f"cell {number}, line {line}: {printable(text)}" for line, text in set_aside]
    functions, modules = selfcheck_lines.check_names(sources, check_modules)
    cells = []
    for number, source in enumerate(sources, start=1):
        source, checks = selfcheck_lines.set_aside(source, functions, modules, check_modules)
        cells.append(Cell(source, cell_filename(path.name, number)))
        self_checks += [f"cell {number}, line {line}: {printable(text)}" for line, text in checks]
    return NotebookCode(tuple(cells), tuple(ignored), tuple(self_checks))


def _upgraded(text: str) -> dict:
    """A version 3 notebook as version 4 (nbformat knows the old layout)."""
    import nbformat

    try:
        return nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and version errors alike
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotebookError(f"not a valid notebook ({reason[:200]})") from None


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def cell_filename(notebook_name: str, number: int) -> str:
    """The name a cell's code is compiled under; tracebacks show it."""
    return f"{notebook_name} [cell {number}]"


# Said at the top of `grade extract`'s script: what the grader gives the code besides itself.
STANDINS_HEADER = """\
# The Python the grader runs for this notebook, cell by cell. When it is graded:
# - matplotlib, pylab, seaborn, mpl_toolkits and IPython are stand-ins: every plotting or
#   display call does nothing (installed or not), so plots cost nothing;
# - partOne ... partSix, unless handed in beside the notebook, hold only the series' data
#   (X, y and numpy as np), never anything graded;
# - a top-level import of a package not installed there binds a stand-in: only code that
#   uses it fails, with an error naming the package.
"""
_STANDIN_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?P<module>[A-Za-z_]\w*)[^#\\]*$")


def _annotate_standins(source: str) -> str:
    """Each one-line import of a stand-in module marked as such, as a trailing comment."""
    from grader.assignment import default
    from grader.sandbox import PLOTTING_ROOTS

    series = default().series  # (the series' modules are the same in every assignment shipped)
    series_modules = series.modules if series else ()
    lines = source.split("\n")
    for index, line in enumerate(lines):
        match = _STANDIN_IMPORT.match(line)
        if match and match["module"] in PLOTTING_ROOTS:
            lines[index] = f"{line}  # grader: a stand-in, plotting does nothing"
        elif match and match["module"] in series_modules:
            lines[index] = f"{line}  # grader: your {match['module']}.py if handed in, else the series' data only"
    return "\n".join(lines)


def to_script(code: NotebookCode) -> str:
    """The Python the grader runs, as one file with `# In[n]` markers between cells, the
    stand-ins it provides said as comments (comments only: the code is what runs)."""
    parts = [f"# In[{number}]:\n\n{_annotate_standins(cell.source)}\n"
             for number, cell in enumerate(code.cells, 1)]
    return STANDINS_HEADER + "\n\n" + "\n\n".join(parts)
