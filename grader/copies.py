"""Every copy of the answer key on this machine that the grader can know of.

The model answers (`assignments/`, a folder per assignment), the grader's own package (which
computes from them) and the misconception catalogues exist wherever the grader was installed from or to: the copy that is
running, the installed distribution's files (a `pip install` puts a second copy in
site-packages; Gradescope's `setup.sh` does exactly that beside `/autograder/source`), an
editable install's source tree, any folder on the import path that holds them, and the
site-packages of every Python the grader can know of (the one a venv was made from, other
versions under the same prefixes, the user's). Each copy is
hidden from the sandbox and blocked by its audit hook; `grade seal` makes them unreadable to
other users for machines without namespaces.
"""

from __future__ import annotations

import csv
import os
import sys
from functools import lru_cache
from pathlib import Path

DISTRIBUTION = "backprop-grader"
# What marks a folder as a copy of ours, not some other package of the same name.
_MARKERS = {"grader": ("_child.py", "grading.py"),
            "assignments": ("__init__.py", "backprop/assignment.toml", "backprop/solution/backprop.py")}


def _ours(folder: Path, name: str) -> bool:
    return folder.is_dir() and all((folder / marker).is_file() for marker in _MARKERS[name])


@lru_cache(maxsize=1)
def package_copies() -> tuple[str, ...]:
    """Real paths of every copy of the `grader` and `assignments` folders found."""
    from grader import assignment

    found = {Path(__file__).resolve().parent, assignment.INSTALLED.resolve()}
    for folder in _package_folders():
        for base, file in _installed_files(folder):
            parts = Path(file).parts
            if len(parts) > 1 and parts[0] in _MARKERS:  # the folder the file's first part names
                found.add((base / parts[0]).resolve())
        for name in _MARKERS:
            candidate = folder / name
            if _ours(candidate, name):
                found.add(candidate.resolve())
    return tuple(sorted(str(p) for p in found if p.exists()))


def _package_folders() -> list[Path]:
    """Every folder a copy may have been installed to or run from: the import path and the
    working folder, and the site-packages of every Python the grader can know of. A grader run
    from a venv still leaves the Python the venv was made from, whose site-packages a student
    reaches by walking the standard library's folder; a `pip install` for another Python
    version, or for the user, is as readable."""
    import sysconfig

    folders = [entry or "." for entry in sys.path] + [os.getcwd()]
    prefixes = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix, "/usr", "/usr/local"}
    for prefix in sorted(prefixes):
        for key in ("purelib", "platlib"):
            folders.append(sysconfig.get_path(key, vars={"base": prefix, "platbase": prefix}))
        for lib in ("lib", "lib64"):
            folders += _glob_folders(Path(prefix, lib), "python3*", ("site-packages", "dist-packages"))
    user_base = os.environ.get("PYTHONUSERBASE") or os.path.expanduser("~/.local")
    folders += _glob_folders(Path(user_base, "lib"), "python3*", ("site-packages",))
    return [Path(f) for f in dict.fromkeys(folders) if os.path.isdir(f)]


def _glob_folders(parent: Path, pattern: str, names: tuple[str, ...]) -> list[str]:
    """parent/<pattern>/<name> for each name, where they exist."""
    try:
        versions = sorted(parent.glob(pattern))
    except OSError:
        return []
    return [str(v / name) for v in versions for name in names if (v / name).is_dir()]


def _installed_files(folder: Path) -> list[tuple[Path, str]]:
    """The files our distribution's RECORD lists in one folder, each with the folder it is
    relative to: what importlib.metadata would read, read without it (it imports the email
    package, a tenth of the grader's start)."""
    wanted = DISTRIBUTION.replace("-", "_").lower()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    files = []
    for name in sorted(names):
        stem, _, suffix = name.rpartition(".")
        if suffix != "dist-info" or stem.split("-")[0].replace("-", "_").lower() != wanted:
            continue
        try:
            record = (folder / name / "RECORD").read_text(encoding="utf-8")
        except OSError:
            continue
        files += [(folder, row[0]) for row in csv.reader(record.splitlines()) if row and row[0]]
    return files


@lru_cache(maxsize=16)  # asked once per submission, the same for a whole class
def answer_key_copies(catalogues: tuple[str, ...] = (), assignment_folder: Path | None = None) -> tuple[str, ...]:
    """Every copy of the package and the model answers, the catalogue files in use and the
    folder of the assignment being graded (an instructor's own, outside the package)."""
    extra = [os.path.realpath(c) for c in catalogues]
    if assignment_folder is not None:
        extra.append(os.path.realpath(assignment_folder))
    return tuple(sorted({*package_copies(), *extra}))


def seal(paths: tuple[str, ...]) -> list[str]:
    """Make each path, and everything in it, readable by its owner only; return the paths
    whose mode changed."""
    changed = []
    for path in paths:
        targets = [path]
        if os.path.isdir(path):
            for root, folders, files in os.walk(path):
                targets += [os.path.join(root, name) for name in folders + files]
        for target in targets:
            mode = os.lstat(target).st_mode
            if not os.path.islink(target) and mode & 0o077:
                os.chmod(target, mode & 0o7700)
                changed.append(target)
    return changed
