"""Every copy of the answer key on this machine that the grader can know of.

The model answers (`solutions/`, a folder per assignment; `grader/solutions` once installed, a
top-level `assignments` in installations before that), the grader's own package (which
computes from them) and the misconception catalogues exist wherever the grader was installed
from or to: the copy that is running, the installed distribution's files (a `pip install` puts a
second copy in site-packages; Gradescope's `setup.sh` does exactly that beside
`/autograder/source`), any folder on the import path that holds them, the site-packages of every
Python the grader can know of (the one a venv was made from, other versions under the same
prefixes, the user's), and the source tree pip installed it from (a checkout: its build/ and
.git hold the model answer too; an editable install's). Each copy is hidden from the sandbox
and blocked by its audit hook; `grade seal` makes the installed ones unreadable to other users
for machines with neither namespaces nor Landlock.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from functools import lru_cache
from pathlib import Path

DISTRIBUTION = "backprop-grader"
# The top-level folders a copy of ours is: the package, and the assignments' solutions as an
# installation before this layout (a top-level `assignments`) or a checkout has them.
_TOP_LEVEL = ("grader", "assignments", "solutions")


def _ours(folder: Path, name: str) -> bool:
    """A folder of that name is a copy of ours, not some other package's: the grader's has its
    orchestration and its sandbox (or, installed before its rooms, its child program); an
    assignments' folder holds at least one assignment (a folder with an assignment.toml)."""
    try:
        if not folder.is_dir():
            return False
        if name == "grader":
            rooms = (folder / "sandbox").is_dir() or (folder / "_child.py").is_file()  # (before the rooms)
            return (folder / "grading.py").is_file() and rooms
        return any((child / "assignment.toml").is_file() for child in folder.iterdir())
    except OSError:  # sealed against this user: taken for a copy (hiding it costs nothing)
        return True


@lru_cache(maxsize=1)
def package_copies() -> tuple[str, ...]:
    """Real paths of every copy of the `grader` and `assignments` folders found."""
    from grader import assignment

    found = {Path(__file__).resolve().parent.parent, assignment.INSTALLED.resolve()}
    for folder in _package_folders():
        for base, file in _installed_files(folder):
            parts = Path(file).parts
            if len(parts) > 1 and parts[0] in _TOP_LEVEL:  # the folder the file's first part names
                found.add((base / parts[0]).resolve())
        for name in _TOP_LEVEL:
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


def _our_dist_infos(folder: Path) -> list[Path]:
    """Our distribution's .dist-info folders in one folder: what importlib.metadata would
    find, found without it (it imports the email package, a tenth of the grader's start)."""
    wanted = DISTRIBUTION.replace("-", "_").lower()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in sorted(names):
        stem, _, suffix = name.rpartition(".")
        if suffix == "dist-info" and stem.split("-")[0].replace("-", "_").lower() == wanted:
            found.append(folder / name)
    return found


def _installed_files(folder: Path) -> list[tuple[Path, str]]:
    """The files our distribution's RECORD lists in one folder, each with the folder it is
    relative to."""
    files = []
    for info in _our_dist_infos(folder):
        try:
            record = (info / "RECORD").read_text(encoding="utf-8")
        except OSError:
            continue
        files += [(folder, row[0]) for row in csv.reader(record.splitlines()) if row and row[0]]
    return files


def _is_checkout(folder: Path) -> bool:
    """A source tree of this distribution: its pyproject.toml names it."""
    try:
        text = (folder / "pyproject.toml").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return f'name = "{DISTRIBUTION}"' in text


@lru_cache(maxsize=1)
def source_trees() -> tuple[str, ...]:
    """Real paths of the source trees the grader was installed from or runs in: each one pip
    recorded (a local install's direct_url.json names its folder: a checkout, whose build/ and
    .git hold the model answer too, or an editable install's), and the checkout around the
    running package. Hidden whole, like every copy; never `/`."""
    from urllib.parse import unquote, urlparse

    found = set()
    running = Path(__file__).resolve().parents[2]
    if _is_checkout(running):
        found.add(running)
    for folder in _package_folders():
        for info in _our_dist_infos(folder):
            try:
                url = json.loads((info / "direct_url.json").read_text(encoding="utf-8")).get("url", "")
            except (OSError, ValueError, AttributeError):
                continue
            parsed = urlparse(url) if isinstance(url, str) else None
            if parsed is not None and parsed.scheme == "file":
                tree = Path(unquote(parsed.path))
                if tree.is_dir():
                    found.add(tree.resolve())
    for tree in list(found):
        found.update(_git_relatives(tree))
    return tuple(sorted(str(p) for p in found if p != Path("/")))


def _git_relatives(tree: Path) -> set[Path]:
    """Every work tree of the repository a source tree belongs to, and its git folder: the
    main checkout (whose .git holds every past version of the model answer) and each worktree
    git lists (`git worktree add` makes siblings anywhere on the disk), found from the git
    folder's own files, without running git."""
    marker = tree / ".git"
    try:
        if marker.is_file():  # a worktree: "gitdir: <common>/worktrees/<name>"
            text = marker.read_text(encoding="utf-8", errors="replace").strip()
            own = Path(text.removeprefix("gitdir:").strip())
            own = own if own.is_absolute() else (tree / own)
            common_file = own / "commondir"
            common = (own / common_file.read_text(encoding="utf-8").strip()) if common_file.is_file() \
                else own.parent.parent
        elif marker.is_dir():
            common = marker
        else:
            return set()
        common = common.resolve()
        found = {common}
        if common.name == ".git":
            found.add(common.parent)  # the main checkout
        for gitdir in (common / "worktrees").glob("*/gitdir"):
            worktree = Path(gitdir.read_text(encoding="utf-8", errors="replace").strip()).parent
            if worktree.is_dir():
                found.add(worktree.resolve())
    except OSError:
        return set()
    return {path for path in found if path.is_dir() and path != Path("/")}


@lru_cache(maxsize=16)  # asked once per submission, the same for a whole class
def answer_key_copies(catalogues: tuple[str, ...] = (), assignment_folder: Path | None = None) -> tuple[str, ...]:
    """Every copy of the package and the model answers, the source trees they came from, the
    catalogue files in use and the folder of the assignment being graded (an instructor's own,
    outside the package)."""
    extra = [os.path.realpath(c) for c in catalogues]
    if assignment_folder is not None:
        extra.append(os.path.realpath(assignment_folder))
    return tuple(sorted({*package_copies(), *source_trees(), *extra}))


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
