"""Turn a hand-in on disk into cells of Python source, or a one-line reason why not."""

from __future__ import annotations

import io
import itertools
import os
import re
import stat
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from grader.intake import selfcheck_lines
from grader.intake.notebooks import NotebookError, honoured_magic, read_notebook
from grader.results import printable
from grader.sandbox import Cell, Module

MAX_SOURCE_BYTES = 2 * 1024 * 1024  # of Python: far beyond any honest answer to this worksheet
# A notebook also carries its outputs (plots are embedded images): only its code must be small.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
# A student's own modules (the other .py files of their folder) share the code's limit.
MAX_MODULES = 50


class SubmissionError(Exception):
    """The hand-in cannot be graded; the message is one line a person can act on."""

    def __str__(self) -> str:
        return printable(super().__str__())


@dataclass(frozen=True)
class Submission:
    student: str
    path: str
    cells: tuple[Cell, ...]
    notebook: bool = False
    notes: tuple[str, ...] = ()  # what the grader did to the source, for the student to see
    modules: tuple[Module, ...] = ()  # the student's own .py files, importable by name

    def content(self) -> bytes:
        """Everything of the hand-in that is run, as bytes: what its stored result is keyed by."""
        parts = [f"{c.filename}\0{c.source}" for c in self.cells]
        parts += [f"{m.filename}\0{m.source}" for m in self.modules]
        return "\0\0".join(parts).encode()


def _too_big(size: int, limit: int, what: str = "the file") -> SubmissionError:
    return SubmissionError(f"{what} is {size // 1024} KiB, more than the {limit // 1024} KiB a "
                           f"submission may be")


def read_chunks(path: Path, limit: int, size: int = 1 << 20) -> Iterator[bytes]:
    """A regular file's bytes, `size` at a time, never following a link at its last step and
    never blocking on a FIFO or a device; SubmissionError once it is past `limit` bytes (before
    any is read if its size says so)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise SubmissionError("the file is a symbolic link: hand in the file itself") from None
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        try:
            info = os.fstat(fd)
        except OSError as exc:
            raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError("not a regular file (a FIFO, device or socket): nothing to grade")
        if info.st_size > limit:
            raise _too_big(info.st_size, limit)
        read = 0
        while True:
            try:
                chunk = os.read(fd, min(size, limit + 1 - read))
            except OSError as exc:
                raise SubmissionError(f"cannot read the file: {exc.strerror or exc}") from None
            if not chunk:
                return
            read += len(chunk)
            if read > limit:  # it grew while being read
                raise _too_big(read, limit)
            yield chunk
    finally:
        os.close(fd)


def read_bytes(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file (see `read_chunks`), whole."""
    return b"".join(read_chunks(path, limit))


_OVERLAP = 256  # characters of one chunk's end searched again with the next


def text_matches(path: Path, pattern: re.Pattern, limit: int) -> set[str]:
    """What `pattern` finds (its first group) in a file read as text a chunk at a time, at
    most `limit` bytes: what a file names, found without holding it whole or parsing it."""
    found, tail = set(), ""
    for chunk in read_chunks(path, limit):
        text = tail + chunk.decode("utf-8", "replace")
        found.update(pattern.findall(text))
        tail = text[-_OVERLAP:]
    return found


def read_text(path: Path, limit: int = MAX_SOURCE_BYTES) -> str:
    """The file's text, decoded as Python would (UTF-8 unless a PEP 263 line says otherwise)."""
    data = read_bytes(path, limit)
    if not data.strip():
        raise SubmissionError("the file is empty")
    if b"\0" in data:
        raise SubmissionError("the file contains NUL bytes: it is not a text file "
                              "(was a binary or a zip handed in?)")
    problem: str | None = None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # Raised both for a bad declaration and for no declaration on non-UTF-8 bytes.
        encoding, problem = "utf-8", str(exc)
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


# A notebook exported as a script writes its magics as calls: `%pylab inline` becomes
# get_ipython().run_line_magic('pylab', 'inline') (or .magic('pylab inline') before IPython 7).
_EXPORTED_MAGIC = re.compile(
    r"""^(?P<indent>\s*)get_ipython\(\)\.(?:run_line_magic\(\s*['"](?P<name>\w+)['"]\s*,\s*['"](?P<args>[^'"]*)['"]\s*\)"""
    r"""|magic\(\s*['"](?P<old>\w+)\s*(?P<oldargs>[^'"]*)['"]\s*\))\s*$""")


def honour_exported_magics(source: str) -> str:
    """The magics the grader honours in a notebook (%pylab, %matplotlib), honoured in its
    exported script too, line for line."""
    if "get_ipython()" not in source:
        return source
    lines = source.split("\n")
    for index, line in enumerate(lines):
        match = _EXPORTED_MAGIC.match(line)
        if match:
            name = match["name"] or match["old"]
            args = (match["args"] if match["name"] else match["oldargs"]) or ""
            honoured = honoured_magic(match["indent"], f"%{name} {args}".strip())
            if honoured is not None:
                lines[index] = honoured
    return "\n".join(lines)


def ipython_calls(source: str) -> list[str]:
    """Lines of a notebook exported as a script that call IPython (its magics, shell escapes)."""
    return [f"line {number}: {printable(line.strip())}" for number, line in enumerate(source.splitlines(), 1)
            if "get_ipython()" in line and not line.lstrip().startswith("#")]


def self_check_note(where: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """One note listing the self-check lines set aside (a notebook may have one per question)."""
    if not where:
        return ()
    shown = "; ".join(where[:5]) + (f"; and {len(where) - 5} more" if len(where) > 5 else "")
    return (f"self-check lines not run (your grade is the grader's own check): {shown}",)


def load_python(path: Path, student: str | None, check_modules: tuple[str, ...]) -> Submission:
    """A .py file is one cell (whether Python can compile it is known once it runs: see
    `grading.grade_submission`)."""
    source = honour_exported_magics(read_text(path))
    functions, modules = selfcheck_lines.check_names([source], check_modules)
    source, checks = selfcheck_lines.set_aside(source, functions, modules, check_modules)
    notes = tuple(f"IPython call not run: {line}" for line in ipython_calls(source))
    notes += self_check_note([f"line {line}: {printable(text)}" for line, text in checks])
    return Submission(student or path.stem, str(path), (Cell(source, path.name),), notes=notes)


def own_modules(path: Path, folder: Path | None) -> tuple[tuple[Module, ...], tuple[str, ...]]:
    """The other .py files beside a hand-in inside the student's own folder, as modules its
    code may import (`from partFour import *`), and a note for each file that was left out.
    Without a folder of the student's own (a file in a class folder) there are none: the
    files beside it are classmates'."""
    if folder is None:
        return (), ()
    from grader.intake.discovery import MAX_STUDENT_ENTRIES

    with os.scandir(path.parent) as listing:  # links are never read: discovery said so already
        beside = sorted(path.parent / entry.name for entry in itertools.islice(listing, MAX_STUDENT_ENTRIES)
                        if entry.name.endswith(".py") and not entry.is_symlink())
    modules: list[Module] = []
    notes: list[str] = []
    total = 0
    for candidate in beside:
        if candidate == path or not candidate.stem.isidentifier():
            continue
        if len(modules) == MAX_MODULES:
            notes.append(f"more than {MAX_MODULES} other .py files: the rest can't be imported")
            break
        try:
            source = read_text(candidate, MAX_SOURCE_BYTES - total)
        except SubmissionError as exc:
            notes.append(f"{candidate.name} can't be imported: {exc}")
            continue
        total += len(source.encode())
        modules.append(Module(candidate.stem, source, candidate.name))
    return tuple(modules), tuple(notes)


def load_notebook(path: Path, student: str | None, check_modules: tuple[str, ...]) -> Submission:
    """A notebook is its code cells, IPython syntax set aside; a cell that can't compile is
    reported when it runs, and the cells after it still run."""
    try:
        code = read_notebook(path, read_text(path, MAX_NOTEBOOK_BYTES), check_modules)
    except NotebookError as exc:
        raise SubmissionError(str(exc)) from None
    size = sum(len(cell.source.encode()) for cell in code.cells)
    if size > MAX_SOURCE_BYTES:
        raise _too_big(size, MAX_SOURCE_BYTES, "the notebook's code")
    notes = tuple(f"IPython syntax not run: {line}" for line in code.ignored) + self_check_note(code.self_checks)
    return Submission(student or path.stem, str(path), code.cells, notebook=True, notes=notes)


SUFFIXES = (".py", ".ipynb")


def kind_of(path: Path) -> str | None:
    """".py" or ".ipynb" for a hand-in named so, in any case (`Backprop.PY`, as some systems
    and students write it); None for any other file."""
    suffix = path.suffix.lower()
    return suffix if suffix in SUFFIXES else None


def load(path: Path, student: str | None, folder: Path | None, check_modules: tuple[str, ...]) -> Submission:
    """Any supported hand-in, by its suffix (in any case); `folder` is the student's own folder,
    whose other .py files the hand-in may import; `check_modules` the names of the assignment's
    self-check file (`grade student-check`), whose lines are set aside."""
    if kind_of(path) == ".py":
        submission = load_python(path, student, check_modules)
    elif kind_of(path) == ".ipynb":
        submission = load_notebook(path, student, check_modules)
    else:
        raise SubmissionError(f"not a .py or .ipynb file: {path.name}")
    modules, notes = own_modules(path, folder)
    return replace(submission, modules=modules, notes=submission.notes + notes)
