"""Find the submissions in the paths an instructor names: one entry per student."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from grader.assignment import ASSIGNMENT
from grader.loading import SUFFIXES

_SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints"}


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


# Canvas: login_[LATE_]userid_attachmentid_originalname, e.g. smithjane_12345_6789012_backprop.py
_CANVAS = re.compile(r"^(?P<login>[^_\s]+?)(?:_late)?_(?P<user>\d+)_(?P<attachment>\d+)_(?P<rest>.+)$",
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


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _SKIPPED_DIRS


def gradable_files(folder: Path) -> list[Path]:
    """Every .py or .ipynb under a student's folder, hidden and cache folders skipped."""
    found = []
    for child in sorted(folder.iterdir()):
        if not _visible(child):
            continue
        if child.is_dir():
            found += gradable_files(child)
        elif child.suffix in SUFFIXES:
            found.append(child)
    return found


_IMPORT = re.compile(r"(?:^|[\s;\"'])(?:from|import)\s+([A-Za-z_]\w*)")


def _imported_modules(files: list[Path]) -> dict[Path, set[str]]:
    """For each file, the module names the other files import (read as text, bounded)."""
    from grader.loading import MAX_NOTEBOOK_BYTES, SubmissionError, read_bytes

    names: dict[Path, set[str]] = {}
    for file in files:
        try:
            text = read_bytes(file, MAX_NOTEBOOK_BYTES).decode("utf-8", "replace")
        except SubmissionError:
            text = ""
        names[file] = set(_IMPORT.findall(text))
    return {file: set().union(*(n for other, n in names.items() if other != file)) for file in files}


def _latest(files: list[Path]) -> Path:
    return max(files, key=lambda f: ((lms_student(f.name) or ("", 0))[1], f.stat().st_mtime))


def _folder_entry(folder: Path) -> Entry:
    lms = lms_student(folder.name)
    student = lms[0] if lms else folder.name
    files = gradable_files(folder)
    recency = (0, folder.stat().st_mtime) if lms else None
    if len(files) == 1:
        return Entry(student, files[0], recency=recency, folder=folder)
    if not files:
        return Entry(student, folder, error="the folder holds no .py or .ipynb file", recency=recency)
    named = [f for f in files if f.stem == ASSIGNMENT]
    if len(named) == 1:
        return Entry(student, named[0], recency=recency, folder=folder)
    # A notebook and the modules it imports (partFour.py beside it): the .py files another
    # file imports are modules, not the hand-in.
    imported = _imported_modules(files)
    candidates = [f for f in files if not (f.suffix == ".py" and f.stem in imported.get(f, ()))]
    if len(candidates) == 1 and not lms:
        return Entry(student, candidates[0], recency=recency, folder=folder)
    if lms:  # an LMS keeps every upload: the latest one is the submission
        return Entry(student, _latest(files), recency=recency, folder=folder)
    listed = ", ".join(str(f.relative_to(folder)) for f in files)
    return Entry(folder.name, folder, error=f"several files could be the submission ({listed}); "
                                              f"name the one to grade {ASSIGNMENT}.py or {ASSIGNMENT}.ipynb")


def _directory_entries(directory: Path) -> list[Entry]:
    entries = []
    for child in sorted(directory.iterdir()):
        if not _visible(child):
            continue
        if child.is_dir():
            entries.append(_folder_entry(child))
        elif child.suffix in SUFFIXES:
            lms = lms_student(child.name)
            if lms:
                entries.append(Entry(lms[0], child, recency=(lms[1], child.stat().st_mtime)))
            else:
                entries.append(Entry(child.stem, child))
    return _latest_per_student(entries)


def _latest_per_student(entries: list[Entry]) -> list[Entry]:
    """Of several LMS entries for one student, keep the latest gradable one."""
    kept: dict[str, Entry] = {}
    others = []
    for entry in entries:
        if entry.recency is None:
            others.append(entry)
            continue
        current = kept.get(entry.student)
        gradable_first = (entry.error is None, entry.recency)  # a gradable upload beats any other
        if current is None or gradable_first > (current.error is None, current.recency):
            kept[entry.student] = entry
    return others + list(kept.values())


def discover(paths: list[Path]) -> list[Entry]:
    """Entries for files and class folders, sorted by student; names made unique."""
    entries: list[Entry] = []
    for path in paths:
        if not path.exists():
            raise DiscoveryError(f"no such file or folder: {path}")
        if path.is_dir():
            found = _directory_entries(path)
            if not found:
                raise DiscoveryError(f"no submissions (.py, .ipynb or student folders) in {path}")
            entries += found
        else:
            entries.append(Entry(path.stem, path))
    seen: set[Path] = set()
    distinct = [e for e in entries if not (e.path.resolve() in seen or seen.add(e.path.resolve()))]
    named = _unique(distinct, lambda e: e.path.name)
    return sorted(_unique(named, lambda e: str(e.path)), key=lambda e: (e.student.lower(), str(e.path)))


def _unique(entries: list[Entry], rename) -> list[Entry]:
    """alice.py and alice.ipynb are two rows: entries sharing a name get `rename(entry)`."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.student] = counts.get(entry.student, 0) + 1
    return [replace(e, student=rename(e)) if counts[e.student] > 1 else e for e in entries]
