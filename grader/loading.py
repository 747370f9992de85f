"""Turn a hand-in on disk into cells of Python source, or a one-line reason why not."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

from grader.notebooks import NotebookError, read_notebook
from grader.sandbox import Cell

MAX_SOURCE_BYTES = 2 * 1024 * 1024  # of Python: far beyond any honest answer to this worksheet
# A notebook also carries its outputs (plots are embedded images): only its code must be small.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024


class SubmissionError(Exception):
    """The hand-in cannot be graded; the message is one line a person can act on."""


@dataclass(frozen=True)
class Submission:
    student: str
    path: str
    cells: tuple[Cell, ...]
    notebook: bool = False
    notes: tuple[str, ...] = ()  # what the grader did to the source, for the student to see


def _too_big(size: int, limit: int, what: str = "the file") -> SubmissionError:
    return SubmissionError(f"{what} is {size // 1024} KiB, more than the {limit // 1024} KiB a "
                           f"submission may be")


def read_text(path: Path, limit: int = MAX_SOURCE_BYTES) -> str:
    """The file's text, decoded as Python would (UTF-8 unless a PEP 263 line says otherwise)."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise _too_big(size, limit)
        data = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
    if not data.strip():
        raise SubmissionError("the file is empty")
    if b"\0" in data:
        raise SubmissionError("the file contains NUL bytes: it is not a text file "
                              "(was a binary or a zip handed in?)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # Raised both for a bad declaration and for no declaration on non-UTF-8 bytes.
        encoding, problem = "utf-8", str(exc)
    else:
        problem = None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SubmissionError(
            f"the file is not {exc.encoding.upper()} text (byte 0x{data[exc.start]:02x} at "
            f"offset {exc.start}) and has no usable coding declaration; save it as UTF-8") from None
    if problem is not None:
        raise SubmissionError(f"the file's coding declaration is not usable: {problem}")
    return text


def check_compiles(source: str, filename: str) -> None:
    """Raise SubmissionError for source Python cannot compile; compiling runs none of it."""
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        raise SubmissionError(f"{type(exc).__name__}: {exc.msg}{where}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SubmissionError(f"Python cannot compile the file: {exc}") from None


def ipython_calls(source: str) -> list[str]:
    """Lines of a notebook exported as a script that call IPython (its magics, shell escapes)."""
    return [f"line {number}: {line.strip()}" for number, line in enumerate(source.splitlines(), 1)
            if "get_ipython()" in line and not line.lstrip().startswith("#")]


def load_python(path: Path, student: str | None = None) -> Submission:
    """A .py file is one cell."""
    source = read_text(path)
    check_compiles(source, path.name)
    notes = tuple(f"IPython call not run: {line}" for line in ipython_calls(source))
    return Submission(student or path.stem, str(path), (Cell(source, path.name),), notes=notes)


def load_notebook(path: Path, student: str | None = None) -> Submission:
    """A notebook is its code cells, IPython syntax set aside; a cell that can't compile is
    reported when it runs, and the cells after it still run."""
    try:
        code = read_notebook(path, read_text(path, MAX_NOTEBOOK_BYTES))
    except NotebookError as exc:
        raise SubmissionError(str(exc)) from None
    size = sum(len(cell.source.encode()) for cell in code.cells)
    if size > MAX_SOURCE_BYTES:
        raise _too_big(size, MAX_SOURCE_BYTES, "the notebook's code")
    notes = tuple(f"IPython syntax not run: {line}" for line in code.ignored)
    return Submission(student or path.stem, str(path), code.cells, notebook=True, notes=notes)


SUFFIXES = (".py", ".ipynb")


def load(path: Path, student: str | None = None) -> Submission:
    """Any supported hand-in, by its suffix."""
    if path.suffix == ".py":
        return load_python(path, student)
    if path.suffix == ".ipynb":
        return load_notebook(path, student)
    raise SubmissionError(f"not a .py or .ipynb file: {path.name}")
