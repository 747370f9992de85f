"""Build the zip an instructor uploads to Gradescope as the assignment's autograder.

    python gradescope/make_autograder.py            # writes autograder.zip here
    python gradescope/make_autograder.py -o FILE
    python gradescope/make_autograder.py --requirements requirements.txt
    python gradescope/make_autograder.py --assignment gradient-checking
    python gradescope/make_autograder.py --assignment path/to/my-assignment

The zip holds setup.sh and run_autograder at its root (as Gradescope requires) and the grader's
source, which setup.sh installs with pip. With --requirements, the packages listed there
(scipy, say) are installed too, and students' code may import them. With --assignment, the
autograder grades that assignment (an installed one, or a folder of your own, which is put in
the zip beside the installed ones) instead of the backpropagation worksheet.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ["pyproject.toml", "README.md", "grader", "assignments"]


def assignment_files(name_or_folder: str) -> tuple[str, list[tuple[Path, str]]]:
    """The assignment's name, and the files to add for it (an instructor's own folder, under
    assignments/<name>/; none for an installed one). Loading it checks it is usable."""
    sys.path.insert(0, str(ROOT))
    from grader import assignment

    work = assignment.load(name_or_folder)
    return work.name, work.files_to_ship()


def build(target: Path, requirements: Path | None = None, assignment: str | None = None) -> list[str]:
    """Write the zip; return the names it holds."""
    name, own_files = assignment_files(assignment) if assignment else (None, [])
    names = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        if requirements is not None:
            archive.write(requirements, "requirements.txt")
            names.append("requirements.txt")
        for script in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(script)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            info.compress_type = zipfile.ZIP_DEFLATED
            text = (ROOT / "gradescope" / script).read_text(encoding="utf-8")
            if script == "run_autograder" and name is not None:
                text = text.rstrip("\n") + f" \\\n    --assignment {shlex.quote(name)}\n"
            archive.writestr(info, text)
            names.append(script)
        for item in SOURCE:
            path = ROOT / item
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                          and "__pycache__" not in p.parts)
            for file in files:
                name = file.relative_to(ROOT).as_posix()
                archive.write(file, name)
                names.append(name)
        for file, inside in own_files:
            archive.write(file, inside)
            names.append(inside)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the Gradescope autograder zip.")
    parser.add_argument("-o", "--output", type=Path, default=Path("autograder.zip"))
    parser.add_argument("--requirements", type=Path, default=None,
                        help="a pip requirements file of packages students may import")
    parser.add_argument("--assignment", default=None,
                        help="the assignment to grade: an installed one's name or a folder of your own "
                             "(default: the backpropagation worksheet)")
    args = parser.parse_args()
    if args.requirements is not None and not args.requirements.is_file():
        parser.error(f"no such file: {args.requirements}")
    try:
        names = build(args.output, args.requirements, args.assignment)
    except Exception as exc:  # an unusable assignment: AssignmentError, one line
        parser.error(str(exc))
    print(f"{args.output}: {len(names)} files; upload it as the assignment's autograder")


if __name__ == "__main__":
    main()
