"""Build the zip an instructor uploads to Gradescope as the assignment's autograder.

    python gradescope/make_autograder.py            # writes autograder.zip here
    python gradescope/make_autograder.py -o FILE
    python gradescope/make_autograder.py --requirements requirements.txt

The zip holds setup.sh and run_autograder at its root (as Gradescope requires) and the grader's
source, which setup.sh installs with pip. With --requirements, the packages listed there
(scipy, say) are installed too, and students' code may import them.
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ["pyproject.toml", "README.md", "grader", "assignments"]


def build(target: Path, requirements: Path | None = None) -> list[str]:
    """Write the zip; return the names it holds."""
    names = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        if requirements is not None:
            archive.write(requirements, "requirements.txt")
            names.append("requirements.txt")
        for script in ("setup.sh", "run_autograder"):
            info = zipfile.ZipInfo(script)
            info.external_attr = 0o100755 << 16  # executable, as Gradescope runs them directly
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (ROOT / "gradescope" / script).read_bytes())
            names.append(script)
        for item in SOURCE:
            path = ROOT / item
            files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()
                                                          and "__pycache__" not in p.parts)
            for file in files:
                name = file.relative_to(ROOT).as_posix()
                archive.write(file, name)
                names.append(name)
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the Gradescope autograder zip.")
    parser.add_argument("-o", "--output", type=Path, default=Path("autograder.zip"))
    parser.add_argument("--requirements", type=Path, default=None,
                        help="a pip requirements file of packages students may import")
    args = parser.parse_args()
    if args.requirements is not None and not args.requirements.is_file():
        parser.error(f"no such file: {args.requirements}")
    names = build(args.output, args.requirements)
    print(f"{args.output}: {len(names)} files; upload it as the assignment's autograder")


if __name__ == "__main__":
    main()
