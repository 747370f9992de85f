"""Find the submissions in the paths an instructor names: one entry per student."""

from __future__ import annotations

from dataclasses import dataclass
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


def _visible(path: Path) -> bool:
    return not path.name.startswith(".") and path.name not in _SKIPPED_DIRS


def _gradable_files(folder: Path) -> list[Path]:
    """Every .py or .ipynb under a student's folder, hidden and cache folders skipped."""
    found = []
    for child in sorted(folder.iterdir()):
        if not _visible(child):
            continue
        if child.is_dir():
            found += _gradable_files(child)
        elif child.suffix in SUFFIXES:
            found.append(child)
    return found


def _folder_entry(folder: Path) -> Entry:
    files = _gradable_files(folder)
    if len(files) == 1:
        return Entry(folder.name, files[0])
    if not files:
        return Entry(folder.name, folder, error="the folder holds no .py or .ipynb file")
    named = [f for f in files if f.stem == ASSIGNMENT]
    if len(named) == 1:
        return Entry(folder.name, named[0])
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
            entries.append(Entry(child.stem, child))
    return entries


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
    return [Entry(rename(e), e.path, e.error) if counts[e.student] > 1 else e for e in entries]
