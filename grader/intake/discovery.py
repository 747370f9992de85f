"""Find the submissions in the paths an instructor names: one entry per student.

Nothing inside a class folder is followed: a symbolic link (to a classmate's file, to the
model answer, to `/`) is never read. A hand-in that is a link is an error row, flagged for the
instructor; a link inside a student's folder is skipped, said in a note, and the real files
are graded (flagged too when it is named like a hand-in). A FIFO, device or socket named like
a hand-in makes its student's row an error, flagged. A folder the instructor names on the
command line may itself be a link: that is their choice, not a student's.

Folders are looked into without recursion and within stated bounds (MAX_DEPTH levels,
MAX_STUDENT_ENTRIES entries in a student's folder, MAX_CLASS_ENTRIES in a class): what lies
beyond is said in a note, never an error for the class.
"""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from grader.assignment import Assignment
from grader.intake import which_file
from grader.intake.loading import kind_of
from grader.results import printable

_SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}
# How far and how much of a hand-in is looked into. An honest hand-in is a file or two at the top
# of its folder, or in the folder its zip made; a project handed in with its virtualenv holds
# thousands of files, and what is past these bounds is said in a note.
MAX_DEPTH = 8  # folder levels below a student's folder
MAX_STUDENT_ENTRIES = 1_000  # files and folders read in one student's folder, hidden ones too
MAX_CLASS_ENTRIES = 100_000  # in all of a class folder: its own entries and its students'
_SHOWN = 5  # links named in a note; the rest counted


class DiscoveryError(Exception):
    """A named path can't be used at all; the message is one line."""


@dataclass(frozen=True)
class Entry:
    """One student's hand-in: a file to grade, or the reason there is none to grade."""

    student: str
    path: Path
    error: str | None = None
    # The student's own folder, when they handed in a folder: its other .py files are theirs
    # to import. None for a file among classmates' files.
    folder: Path | None = None
    # Set for files named by an LMS download: entries of one student are ordered by it and
    # the latest is kept.
    recency: tuple | None = None
    flags: tuple[str, ...] = ()  # for the instructor: what the hand-in tried (a link)
    notes: tuple[str, ...] = ()  # which file was graded among several, and which set aside
    late: bool = False  # the LMS marked the upload late (Canvas's LATE)
    lms: tuple[str, str] | None = None  # ("canvas", user id) or ("moodle", participant number)


# Canvas: login_[LATE_]userid_attachmentid_originalname, e.g. smithjane_12345_6789012_backprop.py
_CANVAS = re.compile(r"^(?P<login>[^_\s]+?)(?P<late>_late)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<rest>.+)$",
                     re.IGNORECASE)
# Moodle: "Full Name_participantid_assignsubmission_file_" folders (or the same as a file prefix)
_MOODLE = re.compile(r"^(?P<name>.+?)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<rest>.*)$")


def lms_student(name: str) -> tuple[str, int] | None:
    """(student label, order within the student) for a Canvas or Moodle download name."""
    moodle = _MOODLE.match(name)
    if moodle:
        return f"{moodle['name']} ({moodle['user']})", 0
    canvas = _CANVAS.match(name)
    if canvas:
        return f"{canvas['login']} ({canvas['user']})", int(canvas["attachment"])
    return None


def lms_identity(name: str) -> tuple[str, str] | None:
    """(the LMS, the student's id there) from a download name: ("canvas", user id) or
    ("moodle", participant number), for the grade files those LMSs import."""
    moodle = _MOODLE.match(name)
    if moodle:
        return "moodle", moodle["user"]
    canvas = _CANVAS.match(name)
    if canvas:
        return "canvas", canvas["user"]
    return None


def lms_details(name: str) -> tuple[str, bool] | None:
    """(the name the student gave the file, whether the LMS marked it late) for a download name."""
    moodle = _MOODLE.match(name)
    if moodle:
        return moodle["rest"] or name, False
    canvas = _CANVAS.match(name)
    if canvas:
        return canvas["rest"], bool(canvas["late"])
    return None


def _visible(name: str) -> bool:
    return not name.startswith(".") and name not in _SKIPPED_DIRS


LINK_FLAG = "handed in a symbolic link"
SPECIAL_FLAG = "handed in a special file"


class Refused(Exception):
    """Something in a hand-in that is never read; `flag` is what the instructor is told."""

    def __init__(self, message: str, flag: str | None = None):
        super().__init__(message)
        self.flag = flag


def _kind(path: Path) -> str:
    """file, folder, link or special, never following a link."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "special"


class Allowance:
    """Entries still to be read: a class folder's, or one student's folder's (within what is
    left of the class's)."""

    def __init__(self, entries: int):
        self.given = self.left = entries

    def within(self, entries: int) -> Allowance:
        """A part of this allowance, at most `entries`: what it uses is taken from this one
        when it is `returned`."""
        return Allowance(min(entries, self.left))

    def returned(self, part: Allowance) -> None:
        self.left -= part.given - part.left


def _children(folder: Path, allowance: Allowance) -> tuple[list[Path], bool]:
    """A folder's visible entries, sorted, reading at most what the allowance has left (each
    entry read costs one, hidden or not); and whether some were left unread."""
    names, more = [], False
    try:
        with os.scandir(folder) as listing:
            for item in listing:
                if allowance.left <= 0:
                    more = True
                    break
                allowance.left -= 1
                if _visible(item.name):
                    names.append(item.name)
    except OSError as exc:
        raise Refused(f"the folder {folder.name} can't be read ({exc.strerror})") from None
    return sorted(folder / name for name in names), more


@dataclass(frozen=True)
class Found:
    """What a student's folder holds to grade, and what was not looked at."""

    files: tuple[Path, ...]
    links: tuple[Path, ...] = ()  # symbolic links skipped, relative to the folder
    notes: tuple[str, ...] = ()  # what was skipped: links, folders too deep, entries past the count

    @property
    def flags(self) -> tuple[str, ...]:
        """A link named like a hand-in was offered as one: the instructor is told."""
        return (LINK_FLAG,) if any(kind_of(link) for link in self.links) else ()


def _shown(paths: list[Path]) -> str:
    listed = ", ".join(printable(str(p))[:200] for p in paths[:_SHOWN])
    return listed + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")


def gradable_files(folder: Path, *, skip_links: bool = False, allowance: Allowance | None = None) -> Found:
    """Every .py or .ipynb under a student's folder, hidden and cache folders skipped, looked
    for level by level (no recursion) at most MAX_DEPTH levels down and MAX_STUDENT_ENTRIES
    entries in (or what `allowance` has left). A link is skipped with a note if `skip_links`
    (a class folder), else refused (Gradescope's promise). Raises Refused for a link refused,
    a special file named like a hand-in, or a folder that can't be read."""
    allowance = allowance or Allowance(MAX_STUDENT_ENTRIES)
    files: list[Path] = []
    links: list[Path] = []
    too_deep: list[Path] = []
    unread = False
    waiting = deque([(folder, 0)])
    while waiting and not unread:
        current, depth = waiting.popleft()
        children, unread = _children(current, allowance)
        for child in children:
            kind = _kind(child)
            where = child.relative_to(folder)
            if kind == "link":
                if not skip_links:
                    raise Refused(f"{printable(str(where))} is a symbolic link: links are not graded; "
                                  f"hand in the files themselves", LINK_FLAG)
                links.append(where)
            elif kind == "folder":
                if depth < MAX_DEPTH:
                    waiting.append((child, depth + 1))
                else:
                    too_deep.append(where)
            elif kind_of(child):
                if kind == "special":
                    raise Refused(f"{printable(str(where))} is not a regular file (a FIFO, device or "
                                  f"socket): nothing to grade", SPECIAL_FLAG)
                files.append(child)
    notes = []
    if links:
        notes.append(f"not followed, not graded: {_shown(links)} (symbolic link{'s' * (len(links) > 1)})")
    if too_deep:
        notes.append(f"not looked into: {_shown(too_deep)}, more than {MAX_DEPTH} folders deep")
    if unread or waiting:
        bound = ("all of a student's folder that is read" if allowance.given == MAX_STUDENT_ENTRIES
                 else f"what was left of the {MAX_CLASS_ENTRIES:,} read in a class")
        notes.append(f"looked at its first {allowance.given:,} files and folders only (hidden ones counted), "
                     f"{bound}: the rest was not read")
    return Found(tuple(sorted(files)), tuple(links), tuple(notes))


_IMPORT = re.compile(r"(?:^|[\s;\"'])(?:from|import)\s+([A-Za-z_]\w*)")


def _imported_modules(files: list[Path]) -> dict[Path, set[str]]:
    """For each file, the module names the other files import (read as text a chunk at a time,
    at most as much as a hand-in may be)."""
    from grader.intake.loading import MAX_NOTEBOOK_BYTES, SubmissionError, text_matches

    names: dict[Path, set[str]] = {}
    for file in files:
        try:
            names[file] = text_matches(file, _IMPORT, MAX_NOTEBOOK_BYTES)
        except SubmissionError:
            names[file] = set()
    return {file: set().union(*(n for other, n in names.items() if other != file)) for file in files}


def _candidates(files: list[Path], folder: Path, lms: bool, assignment: Assignment
                ) -> list[which_file.Candidate]:
    def order(file: Path) -> tuple:
        return ((lms_student(file.name) or ("", 0))[1], os.lstat(file).st_mtime) if lms else ()

    return [which_file.candidate(f, assignment, str(f.relative_to(folder)), order(f)) for f in files]


def _folder_entry(folder: Path, assignment: Assignment, class_allowance: Allowance) -> Entry:
    return replace(_folder_entry_of(folder, assignment, class_allowance), lms=lms_identity(folder.name))


def _folder_entry_of(folder: Path, assignment: Assignment, class_allowance: Allowance) -> Entry:
    lms = lms_student(folder.name)
    student = lms[0] if lms else folder.name
    recency = (0, os.lstat(folder).st_mtime) if lms else None
    if class_allowance.left <= 0:
        return Entry(student, folder, recency=recency,
                     error=f"not looked into: the class folder holds more than {MAX_CLASS_ENTRIES:,} files "
                           f"and folders in all; grade this folder on its own")
    allowance = class_allowance.within(MAX_STUDENT_ENTRIES)
    try:
        found = gradable_files(folder, skip_links=True, allowance=allowance)
    except Refused as refused:
        return Entry(student, folder, error=str(refused), recency=recency,
                     flags=(refused.flag,) if refused.flag else ())
    finally:
        class_allowance.returned(allowance)
    files, notes, flags = list(found.files), found.notes, found.flags
    if len(files) == 1:
        return Entry(student, files[0], recency=recency, folder=folder, notes=notes, flags=flags)
    if not files:
        error = (f"{printable(str(found.links[0]))} is a symbolic link: links are not graded; hand in the "
                 f"files themselves" if found.links else "the folder holds no .py or .ipynb file")
        return Entry(student, folder, error=error, recency=recency, notes=notes, flags=flags)
    chosen = pick(files, folder, bool(lms), assignment)
    if not lms and chosen.undecided:  # nothing tells them apart but their names: ask
        listed = ", ".join(str(c.path.relative_to(folder)) for c in (chosen.graded, *chosen.set_aside))
        return Entry(folder.name, folder, notes=notes, flags=flags,
                     error=f"several files could be the submission ({listed}); "
                           f"name the one to grade {assignment.handin}.py or {assignment.handin}.ipynb")
    return Entry(student, chosen.graded.path, recency=recency, folder=folder, flags=flags,
                 notes=notes + chosen.notes())


def pick(files: list[Path], folder: Path, lms: bool, assignment: Assignment) -> which_file.Choice:
    """The file of a student's folder to grade (see `which_file`). The .py files another file
    imports (partFour.py beside the notebook) are the student's modules, not the hand-in."""
    imported = _imported_modules(files) if len(files) > 1 else {}
    candidates = [f for f in files if not (kind_of(f) == ".py" and f.stem in imported.get(f, ()))] or files
    if len(candidates) == 1:
        return which_file.Choice(which_file.Candidate(candidates[0], candidates[0].name, 0, False, assignment), ())
    return which_file.choose(_candidates(candidates, folder, lms, assignment))


def file_entry(path: Path, student: str | None = None) -> Entry:
    """A hand-in that is one file: graded if it is a regular file, else an error row."""
    lms = lms_student(path.name)
    student = student or (lms[0] if lms else path.stem)
    info = os.lstat(path)
    recency = (lms[1], info.st_mtime) if lms else None
    details = lms_details(path.name)
    late = details is not None and details[1]
    identity = lms_identity(path.name)
    kind = _kind(path)
    if kind == "link":
        return Entry(student, path, recency=recency, flags=(LINK_FLAG,), lms=identity,
                     error="the hand-in is a symbolic link: links are not graded; hand in the file itself")
    if kind == "special":
        return Entry(student, path, recency=recency, flags=(SPECIAL_FLAG,), lms=identity,
                     error="not a regular file (a FIFO, device or socket): nothing to grade")
    return Entry(student, path, recency=recency, late=late, lms=identity)


def _directory_entries(directory: Path, assignment: Assignment, warnings: list[str]) -> list[Entry]:
    entries = []
    allowance = Allowance(MAX_CLASS_ENTRIES)
    children, unread = _children(directory, allowance)
    if unread:
        warnings.append(f"{printable(str(directory))} holds more than {MAX_CLASS_ENTRIES:,} entries: only "
                        f"the first {MAX_CLASS_ENTRIES:,} read were looked at; split the class")
    for child in children:
        kind = _kind(child)
        if kind == "folder":
            entries.append(_folder_entry(child, assignment, allowance))
        elif kind == "link" and not child.suffix:  # a link named like a student's folder
            entries.append(Entry(child.name, child, flags=(LINK_FLAG,),
                                 error="the hand-in is a symbolic link: links are not graded"))
        elif kind_of(child):
            entries.append(file_entry(child))
    return _latest_per_student(entries, assignment)


def _latest_per_student(entries: list[Entry], assignment: Assignment) -> list[Entry]:
    """Of several LMS entries for one student, the one that does the worksheet (see
    `which_file`), the latest upload only between equals; an error row only if none is gradable."""
    groups: dict[str, list[Entry]] = {}
    others = []
    for entry in entries:
        if entry.recency is None:
            others.append(entry)
        else:
            groups.setdefault(entry.student, []).append(entry)
    kept = []
    for group in groups.values():
        gradable = [e for e in group if e.error is None and e.folder is None]
        if len(gradable) < 2:  # folders chose among their own files already
            best = max(group, key=lambda e: (e.error is None, e.recency))
            kept.append(best)
            continue
        by_path = {e.path: e for e in gradable}
        chosen = which_file.choose([which_file.candidate(e.path, assignment,
                                                         (lms_details(e.path.name) or (e.path.name,))[0],
                                                         e.recency or ()) for e in gradable])
        entry = by_path[chosen.graded.path]
        kept.append(replace(entry, notes=chosen.notes()))
    return others + kept


def discover(paths: list[Path], assignment: Assignment,
             warnings: list[str] | None = None) -> list[Entry]:
    """Entries for files and class folders, sorted by student; names made unique. Two
    students are never merged into one: only the very same path named twice is. Which file of
    a folder is the hand-in depends on the assignment. `warnings` gets a line for each class
    folder looked at only in part."""
    warnings = [] if warnings is None else warnings
    entries: list[Entry] = []
    for path in paths:
        if not os.path.lexists(path):
            raise DiscoveryError(f"no such file or folder: {path}")
        if path.is_dir():  # a folder named by the instructor: followed if it is a link
            try:
                found = _directory_entries(Path(os.path.realpath(path)), assignment, warnings)
            except Refused as refused:
                raise DiscoveryError(str(refused)) from None
            if not found:
                raise DiscoveryError(f"no submissions (.py, .ipynb or student folders) in {path}")
            entries += found
        else:
            entries.append(file_entry(path))
    named = _unique(_once_each(entries), lambda e: e.path.name)
    return sorted(_unique(named, lambda e: str(e.path)), key=lambda e: (e.student.lower(), str(e.path)))


def _once_each(entries: list[Entry]) -> list[Entry]:
    """The entries, a path named twice (the very same file) kept once, where first named."""
    seen: set[str] = set()
    distinct = []
    for entry in entries:
        where = os.path.abspath(entry.path)
        if where not in seen:
            seen.add(where)
            distinct.append(entry)
    return distinct


def _unique(entries: list[Entry], rename: Callable[[Entry], str]) -> list[Entry]:
    """alice.py and alice.ipynb are two rows: entries sharing a name get `rename(entry)`."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.student] = counts.get(entry.student, 0) + 1
    return [replace(e, student=rename(e)) if counts[e.student] > 1 else e for e in entries]
