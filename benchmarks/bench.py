"""Benchmark: grade a synthetic class and compare with the naive floor.

    python benchmarks/bench.py                      # 300 submissions, --jobs 2
    python benchmarks/bench.py -n 2000 --jobs 2     # the memory check
    python benchmarks/bench.py --correct-only -n 300

The class is mostly correct submissions, some with typical mistakes, some notebooks and one
that hangs. Printed: submissions per second, wall time and the peak memory of the grader's
own process for the whole grading; then, in the same run, the naive floor: a fresh
`python -c "import numpy; exec(source)"` per submission with the same number of parallel
jobs (notebooks as their extracted script; the hanging one stopped at the same timeout).
The floor does no grading at all: it is the cost of one interpreter per submission.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOLUTION = (ROOT / "solutions" / "backprop.py").read_text()
MISTAKES = [
    "def dJdW2(a2, delta3):\n    return a2.T\n",
    "def sigmoid_prime(z):\n    return z * (1 - z)\n",
    "def delta3(y, yHat, z3):\n    return (y - yHat) * sigmoid_prime(z3)\n",
    "def dz3dW2(a2):\n    return a2\n",
]
HANG = "import time\nend = time.time() + 60\nwhile time.time() < end:\n    pass\n"


def build_class(folder: Path, count: int, correct_only: bool) -> list[Path]:
    import nbformat

    paths = []
    for index in range(count):
        # Each file differs (a comment), as real hand-ins do.
        source = f"# student {index}\n" + SOLUTION
        kind = "py"
        if not correct_only:
            if index % 10 == 3:
                source += "\n\n" + MISTAKES[index % len(MISTAKES)]
            if index % 10 == 7:
                kind = "ipynb"
            if index == count // 2:
                source = SOLUTION + "\n\n" + HANG
        path = folder / f"s{index:05d}.{kind}"
        if kind == "py":
            path.write_text(source)
        else:
            notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline"),
                                                       nbformat.v4.new_code_cell(source)])
            path.write_text(nbformat.writes(notebook))
        paths.append(path)
    return paths


def run_grader(folder: Path, jobs: int, timeout: float) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS in KiB of the grader's own process, and the parsed report."""
    measure = (
        "import resource, sys, runpy\n"
        "sys.argv = ['grade'] + sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_module('grader', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('MAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = folder.parent / "report.csv"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", measure, str(folder), "--jobs", str(jobs), "--no-cache", "-q",
         "--timeout", str(timeout), "--format", "csv", "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"grader failed: {result.stderr[-2000:]}")
    rss = int(next(line.split()[1] for line in result.stderr.splitlines() if line.startswith("MAXRSS")))
    rows = out.read_text().splitlines()[1:]
    return wall, rss, {"rows": len(rows), "full": sum(",graded,20,20," in r for r in rows)}


def naive_floor(paths: list[Path], jobs: int, timeout: float) -> float:
    from grader.notebooks import read_notebook, to_script

    def source_of(path: Path) -> str:
        if path.suffix == ".ipynb":
            return to_script(read_notebook(path, path.read_text()))
        return path.read_text()

    sources = [source_of(p) for p in paths]

    def one(source: str) -> None:
        try:
            subprocess.run([sys.executable, "-c", "import numpy; exec(open(0).read())"],
                           input=source, text=True, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, sources))
    return time.perf_counter() - started


def bare_numpy() -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        best = min(best, time.perf_counter() - started)
    return best


def one_file() -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", str(ROOT / "solutions" / "backprop.py"),
                        "--no-cache"], check=True, capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="submissions in the class")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=2.0, help="--timeout for the hanging one")
    parser.add_argument("--correct-only", action="store_true", help="only correct .py files")
    parser.add_argument("--no-floor", action="store_true", help="skip the naive floor")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        paths = build_class(folder, args.n, args.correct_only)
        wall, rss, summary = run_grader(folder, args.jobs, args.timeout)
        print(f"class: {args.n} submissions ({'all correct .py' if args.correct_only else 'mixed: 10% wrong, 10% notebooks, 1 hangs'}), --jobs {args.jobs}")
        print(f"grader: {wall:.2f} s wall, {args.n / wall:.1f} submissions/s, "
              f"peak memory of the grader's process {rss / 1024:.0f} MB "
              f"({summary['rows']} rows, {summary['full']} at full marks)")
        if not args.no_floor:
            floor = naive_floor(paths, args.jobs, args.timeout)
            print(f"naive floor (fresh python + import numpy per submission): {floor:.2f} s wall")
            print(f"grader / floor: {wall / floor:.3f}")
    numpy_start, single = bare_numpy(), one_file()
    print(f"one `grade FILE`: {single:.3f} s; bare `python -c 'import numpy'`: {numpy_start:.3f} s; "
          f"ratio {single / numpy_start:.2f}")


if __name__ == "__main__":
    main()
