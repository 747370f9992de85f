"""Grade many submissions in parallel; every result is saved the moment it exists.

Each submission already runs in its own sandboxed process, so the pool here is of threads that
wait on those processes. One submission that fails in any way becomes its own "error" row and
never stops the others.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from grader import sandbox
from grader.assignment import Assignment
from grader.grading import Options, grade_submission
from grader.intake.discovery import Entry
from grader.intake.loading import SubmissionError, load
from grader.results import ErrorKind, SubmissionResult
from grader.store import ResultStore, options_identity

if TYPE_CHECKING:
    from grader.reports.summary import ClassStats


@dataclass(frozen=True)
class Graded:
    result: SubmissionResult
    from_store: bool  # graded in an earlier run, the file unchanged since
    entry: str = ""  # the result's entry in the JSON report (`report.submission_json`), made once


# A result's entry in the JSON report: an honest one takes a few KB (every text a result holds
# is bounded: answers are described, never quoted whole). Past this, the result is not kept.
MAX_ENTRY = 4 * 1024 * 1024


def _not_gradable(entry: Entry, problem: SubmissionError, options: Options) -> SubmissionResult:
    return SubmissionResult(entry.student, str(entry.path), error=str(problem), error_kind=ErrorKind.SUBMISSION,
                            notes=entry.notes,
                            late=entry.late, lms=entry.lms, possible=options.assignment.max_score)


def _internal_error(entry: Entry, options: Options, problem: str) -> SubmissionResult:
    """The grader's own failure on one entry: its row says so (and it is not stored)."""
    return SubmissionResult(entry.student, str(entry.path), late=entry.late, lms=entry.lms,
                            error=f"internal grader error: {problem}", error_kind=ErrorKind.INTERNAL, notes=entry.notes,
                            possible=options.assignment.max_score)


def grade_one(entry: Entry, options: Options, store: ResultStore | None, force: bool) -> Graded:
    """One entry, graded (see `_graded`) and its report entry made: whatever fails here, the
    entry gets a row saying so, and the class goes on."""
    from grader.reports.table import submission_json

    try:
        graded = _graded(entry, options, store, force)
    except Exception as exc:  # the grader's own failure (a MemoryError, say): one row, not the class
        graded = Graded(_internal_error(entry, options, f"{type(exc).__name__}: {exc}"), False)
    try:
        text = submission_json(graded.result)
        if len(text) > MAX_ENTRY:
            raise ValueError(f"its report entry takes {len(text):,} characters, more than {MAX_ENTRY:,}")
    except Exception as exc:
        result = _internal_error(entry, options, f"its result could not be kept ({type(exc).__name__}: "
                                                 f"{str(exc)[:200]})")
        return Graded(result, False, submission_json(result))
    return replace(graded, entry=text)


def _graded(entry: Entry, options: Options, store: ResultStore | None, force: bool) -> Graded:
    """One entry, from the store when what it hands in is unchanged, else graded and stored.
    The hand-in is read once, bounded, and never through a link, before anything else."""
    if entry.error is not None:
        return Graded(SubmissionResult(entry.student, str(entry.path), error=entry.error,
                                       error_kind=ErrorKind.SUBMISSION,
                                       flags=entry.flags, notes=entry.notes, late=entry.late,
                                       lms=entry.lms, possible=options.assignment.max_score), False)
    try:
        submission = load(entry.path, entry.student, entry.folder, options.assignment.check_modules)
    except SubmissionError as exc:
        return Graded(_not_gradable(entry, exc, options), False)
    # Which file was chosen among several is said first, in every report.
    submission = replace(submission, notes=entry.notes + submission.notes)
    key = None
    if store is not None:
        identity = f"{os.path.abspath(entry.path)};{entry.notes};{entry.late};{entry.lms};{options_identity(options)}"
        key = store.key(submission.content(), identity)
        if not force:
            stored = store.get(key, entry.student, str(entry.path), options.assignment)
            if stored is not None:
                return Graded(stored, True)
    try:
        result = grade_submission(submission, options)
        # What discovery saw (a link beside the files) is flagged with what the run saw.
        result = replace(result, late=entry.late, lms=entry.lms,
                         flags=tuple(dict.fromkeys(entry.flags + result.flags)))
    except SubmissionError as exc:  # a .py that can't compile: known once it ran (not stored)
        return Graded(_not_gradable(entry, exc, options), False)
    except Exception as exc:  # the grader's own failure: report it, keep going, don't store it
        return Graded(_internal_error(entry, options, f"{type(exc).__name__}: {exc}"), False)
    if store is not None and key is not None and not result.error_is_transient:
        store.put(key, result)
    return Graded(result, False)


def grade_all(entries: list[Entry], options: Options, *, jobs: int = 1,
              store: ResultStore | None = None, force: bool = False) -> Iterator[Graded]:
    """Yield each entry's result as it completes (not in entry order). Only a few entries are
    in flight at once, so no result is held after it has been yielded."""
    from concurrent.futures import FIRST_COMPLETED, wait

    from grader.sandbox import workers as processes

    jobs = max(1, jobs)
    processes.limit(jobs)  # `jobs` submissions run at once; twice as many threads load and judge
    queue = iter(entries)
    with ThreadPoolExecutor(max_workers=2 * jobs) as pool:
        running = set()
        try:
            while True:
                for entry in queue:
                    running.add(pool.submit(grade_one, entry, options, store, force))
                    if len(running) >= 3 * jobs:
                        break
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        except BaseException:  # KeyboardInterrupt above all: stop now, keep what is done
            for future in running:
                future.cancel()
            sandbox.cancel_all()
            raise


def grade_class(entries: list[Entry], options: Options, spool: Spool, *, jobs: int = 1,
                store: ResultStore | None = None, force: bool = False,
                feedback: FeedbackFolder | None = None, summary: ClassStats | None = None,
                on_graded: Callable[[], None] | None = None) -> int:
    """Grade `entries` into `spool` (see `grade_all`), each result's feedback file written and
    the class summary counted as it comes, `on_graded` called after each; the number of results
    kept from an earlier run. Interrupted, what was graded is in the spool."""
    from_store = 0
    for graded in grade_all(entries, options, jobs=jobs, store=store, force=force):
        spool.add(graded.result, graded.entry)
        if summary is not None:
            summary.add(graded.result)
        from_store += graded.from_store
        if feedback is not None:
            feedback.write(graded.result)
        if on_graded is not None:
            on_graded()
    return from_store


def grade_handed_in(folder: Path, options: Options) -> SubmissionResult:
    """The one submission an autograder (Gradescope, PrairieLearn) puts in a folder, graded; a
    result that says why whatever happens."""
    from grader.grading import grade_path
    from grader.reports import gradescope

    possible = options.assignment.max_score
    try:
        chosen = gradescope.find_submission(folder, options.assignment)
        path = chosen.graded.path
        result = grade_path(path, options, student=path.stem, folder=folder)
        return replace(result, notes=chosen.notes() + result.notes)
    except gradescope.NoSubmission as exc:
        return SubmissionResult("submission", str(folder), error=str(exc), error_kind=ErrorKind.SUBMISSION,
                                flags=exc.flags, possible=possible)
    except Exception as exc:  # the grader's own failure: still a results file that says so
        return SubmissionResult("submission", str(folder), possible=possible,
                                error=f"internal grader error: {type(exc).__name__}: {exc}",
                                error_kind=ErrorKind.INTERNAL)


def private_paths(paths: Iterable[Path], outputs: Iterable[Path | None]) -> tuple[str, ...]:
    """The folders no submission may read: each class folder named (or a file's folder), and
    every place the run writes (`outputs`: feedback, the folders of report files, the store)."""
    private = tuple(str(p.resolve() if p.is_dir() else p.resolve().parent) for p in paths)
    return private + tuple(str(p.resolve()) for p in outputs if p is not None and p.resolve() != Path("/"))


def report_folder(output: Path | None) -> Path | None:
    """The folder a report file is written into, private while submissions run; None for no
    file, or for a stream that is not a file in a folder (-o /dev/stdout, a named pipe)."""
    if output is None or (output.exists() and not output.is_file()):
        return None
    return output.parent


class Spool:
    """Finished results kept on disk, not in memory, until the report is written in order:
    a class of thousands costs the grader a few bytes per student. Results are written a
    chunk at a time (one write for many students, not one each). When the disk is full (or
    there is none to write to), results are kept in memory instead: none is lost."""

    CHUNK = 1 << 20  # bytes of results gathered before they are written

    def __init__(self, assignment: Assignment) -> None:
        import tempfile

        self.assignment = assignment  # the Assignment results are read back for

        self._file: IO[bytes] | None
        try:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open until close()
        except OSError:
            self._file = None
        self._where: dict[tuple[str, str], tuple[int, int] | bytes] = {}
        self._pending: list[tuple[tuple[str, str], bytes]] = []
        self._pending_bytes = 0
        self._end = 0  # where the next chunk goes
        self.in_memory = 0  # results the disk could not take

    def __len__(self) -> int:
        return len(self._where)

    def add(self, result: SubmissionResult, entry: str | None = None) -> None:
        """Keep a result, as its JSON report entry (`entry`, when it is made already)."""
        from grader.reports.table import submission_json

        # Kept as the JSON report writes it: that report is then copied, not written again.
        data = (entry or submission_json(result)).encode()
        key = (result.student, result.path)
        self._where[key] = data  # until its chunk is written
        self._pending.append((key, data))
        self._pending_bytes += len(data)
        if self._pending_bytes >= self.CHUNK:
            self._write_pending()

    def _write_pending(self) -> None:
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if not pending:
            return
        try:
            if self._file is None:
                raise OSError("no spool file")
            self._file.seek(self._end)
            self._file.write(b"".join(data for _, data in pending))
            self._file.flush()
        except OSError:
            self.in_memory += len(pending)  # they stay where they are: in memory
            return
        for key, data in pending:
            self._where[key] = (self._end, len(data))
            self._end += len(data)

    def _read(self, student: str, path: str) -> bytes:
        where = self._where[(student, path)]
        if isinstance(where, bytes):
            return where
        assert self._file is not None  # a result has a place in the file only once written there
        self._file.seek(where[0])
        return self._file.read(where[1])

    def get(self, student: str, path: str) -> SubmissionResult:
        import json

        from grader.results import submission_from_dict

        return submission_from_dict(json.loads(self._read(student, path)), self.assignment)

    def in_order(self, entries: list[Entry]) -> Iterator[SubmissionResult]:
        """The results of `entries`, in their order, read back one at a time."""
        self._write_pending()
        for entry in entries:
            yield self.get(entry.student, str(entry.path))

    def json_entries(self, entries: list[Entry]) -> Iterator[str]:
        """The JSON report's entries of `entries` (`report.submission_json`), in their order."""
        self._write_pending()
        for entry in entries:
            yield self._read(entry.student, str(entry.path)).decode()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


_PLAIN_LENGTH = 100  # characters of a name kept in its file's name


def feedback_file_name(student: str) -> str:
    """The name of a student's feedback file, from their name alone, so that it is the same
    whatever order a class finished in: the name itself when it is plain (lower-case ASCII
    letters, digits, `-`, `_`, `.`: no two plain names are one file, even on a disk that does
    not tell case apart), else its letters and digits, `+` and a short hash of the whole name
    (`Alice+3bc51062973c.md` beside `alice.md`, `bob_smith+....md` beside `bob_smith.md`). A
    plain name has no `+`: no student can name a file to take another's feedback file."""
    kept = "".join(c if c.isalnum() or c in "-_." else "_" for c in student[:_PLAIN_LENGTH]).lstrip(".")
    if kept == student and student.isascii() and student == student.lower():
        return f"{student}.md"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{kept or 'student'}+{digest}.md"


class FeedbackFolder:
    """One Markdown feedback file per student, named by `feedback_file_name`, titled with the
    assignment's title, and the students whose file could not be written (a full disk)."""

    def __init__(self, folder: Path, title: str):
        self.folder = folder
        self.title = title
        self.failed: list[str] = []

    def write(self, result: SubmissionResult) -> None:
        from grader.reports.table import to_markdown

        try:
            text = to_markdown(result, self.title)
            (self.folder / feedback_file_name(result.student)).write_text(text, encoding="utf-8")
        except OSError:
            self.failed.append(result.student)
