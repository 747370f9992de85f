"""Benchmark: the grader against the floor of its design, side by side in one run.

    python benchmarks/bench.py                  # the table: 300 per class, --jobs 2, 3 rounds
    python benchmarks/bench.py -n 2000 --only correct --rounds 1   # memory at 2,000
    python benchmarks/bench.py -n 40 --rounds 1 --no-floor          # a quick look

Three classes of synthetic hand-ins: correct .py files, .py files with typical mistakes (one
or two each, as real classes have), and notebooks (correct, with a magic cell). For each, the
grader (`grade FOLDER --jobs 2 --no-cache`) and two references, in the same run:

* the floor: one process per submission with no isolation. A parent that imported numpy forks
  a child per file; the child runs the file, calls its functions on the grader's own cases and
  sends the results back as JSON through a pipe; two such parents at once. This is what a
  grader of this design cannot beat.
* the naive floor: a fresh `python -c "import numpy; exec(...)"` per file, no calls at all
  (what a grader without a warm process pays for start-ups alone).

Then one `grade FILE` against a bare `python -c "import numpy"`. Printed: medians of the rounds
and the ratios; peak memory of the grader's own process. Checked: every verdict of the class
run is the verdict of the same file graded alone (on a sample).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
    "def cost(y, yHat):\n    return 0.5 * np.mean((y - yHat) ** 2, axis=0, keepdims=True)\n",
    "def delta2(delta3, W2, z2):\n    return np.dot(delta3, W2) * sigmoid_prime(z2)\n",
    "def dJdW1(X, delta2):\n    return np.dot(X, delta2)\n",
    "def dJdyHat(y, yHat):\n    return y - yHat\n",
]
CLASSES = ("correct", "mistakes", "notebooks")


def build_class(folder: Path, kind: str, count: int) -> list[Path]:
    """`count` hand-ins of one kind, each a little different, as real ones are."""
    paths = []
    for index in range(count):
        source = f"# student {index}\n" + SOLUTION
        if kind == "mistakes":
            source += "\n\n" + MISTAKES[index % len(MISTAKES)]
            if index % 3 == 0:
                source += "\n\n" + MISTAKES[(index + 3) % len(MISTAKES)]
        path = folder / f"s{index:05d}.{'ipynb' if kind == 'notebooks' else 'py'}"
        if kind == "notebooks":
            import nbformat

            notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline"),
                                                       nbformat.v4.new_code_cell(source)])
            path.write_text(nbformat.writes(notebook))
        else:
            path.write_text(source)
        paths.append(path)
    return paths


def run_grader(folder: Path, jobs: int) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS in KiB of the grader's own process, and the report's rows."""
    measure = (
        "import resource, sys, runpy\n"
        "sys.argv = ['grade'] + sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_module('grader', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('MAXRSS %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = folder.parent / f"{folder.name}-report.json"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", measure, str(folder), "--jobs", str(jobs), "--no-cache", "-q",
         "--format", "json", "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"grader failed: {result.stderr[-2000:]}")
    rss = int(next(line.split()[1] for line in result.stderr.splitlines() if line.startswith("MAXRSS")))
    rows = {s["student"]: s for s in json.loads(out.read_text())["submissions"]}
    return wall, rss, rows


# The floor's child: run the file, make the calls, send the answers as JSON.
def _floor_child(source: str, calls: list, write_fd: int) -> None:
    import numpy as np

    def plain(value):
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, (np.floating, np.integer)):
            return value.item()
        return value if isinstance(value, (int, float, str, type(None))) else repr(value)

    namespace: dict = {"__name__": "submission"}
    try:
        exec(compile(source, "submission", "exec"), namespace)
    except BaseException:  # noqa: B036 - what was defined before stays
        pass
    answers = []
    for names, args, read in calls:
        try:
            if read:
                answers.append(plain([namespace[n] for n in names]))
                continue
            function = next(namespace[n] for n in names if callable(namespace.get(n)))
            answers.append(plain(function(*[a.copy() if hasattr(a, "copy") else a for a in args])))
        except BaseException as exc:  # noqa: B036
            answers.append(f"raised {type(exc).__name__}")
    data = json.dumps(answers).encode()
    while data:
        data = data[os.write(write_fd, data):]


def _floor_worker(sources: list[str], calls: list) -> None:
    for source in sources:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            try:
                _floor_child(source, calls, write_fd)
            finally:
                os._exit(0)
        os.close(write_fd)
        chunks = []
        while chunk := os.read(read_fd, 1 << 16):
            chunks.append(chunk)
        os.close(read_fd)
        os.waitpid(pid, 0)
        json.loads(b"".join(chunks))


def the_floor(sources: list[str], jobs: int) -> float:
    """Wall seconds for the floor: `jobs` parents that imported numpy, a fork per file."""
    import numpy  # noqa: F401 - imported before the forks, as a warm process would

    from grader.grading import calls, plan

    checks = plan(0)
    call_list = [(list(c.names), list(check.args), c.read) for c, check in zip(calls(0), checks)]
    started = time.perf_counter()
    workers = []
    for index in range(jobs):
        pid = os.fork()
        if pid == 0:
            try:
                _floor_worker(sources[index::jobs], call_list)
            finally:
                os._exit(0)
        workers.append(pid)
    for pid in workers:
        os.waitpid(pid, 0)
    return time.perf_counter() - started


def naive_floor(sources: list[str], jobs: int) -> float:
    def one(source: str) -> None:
        subprocess.run([sys.executable, "-c", "import numpy; exec(open(0).read())"],
                       input=source, text=True, capture_output=True, timeout=60)

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, sources))
    return time.perf_counter() - started


def sources_of(paths: list[Path]) -> list[str]:
    from grader.notebooks import read_notebook, to_script

    return [to_script(read_notebook(p, p.read_text())) if p.suffix == ".ipynb" else p.read_text()
            for p in paths]


def best_of(command: list[str], times: int = 7) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - started)
    return best


def same_alone(folder: Path, rows: dict, sample: int = 6) -> bool:
    """The verdicts of a few files graded alone equal those of the class run."""
    def verdicts(row):
        return [(q["id"], q["score"], q["feedback"]) for q in row["questions"]]

    for path in sorted(folder.iterdir())[:sample]:
        alone = subprocess.run([sys.executable, "-m", "grader", str(path), "--no-cache", "--format", "json"],
                               capture_output=True, text=True, cwd=ROOT, check=True)
        row = json.loads(alone.stdout)["submissions"][0]
        if verdicts(row) != verdicts(rows[path.stem]):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="submissions in each class")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument("--only", choices=CLASSES, action="append", help="this class only (repeatable)")
    parser.add_argument("--no-floor", action="store_true", help="skip both floors")
    args = parser.parse_args()

    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.only or CLASSES:
            folder = Path(tmp) / kind
            folder.mkdir()
            paths = build_class(folder, kind, args.n)
            sources = sources_of(paths)
            grader_times, floor_times, naive_times, peaks = [], [], [], []
            rows = {}
            for _ in range(args.rounds):
                wall, rss, rows = run_grader(folder, args.jobs)
                grader_times.append(wall)
                peaks.append(rss)
                if not args.no_floor:
                    floor_times.append(the_floor(sources, args.jobs))
                    naive_times.append(naive_floor(sources, args.jobs))
            grader = statistics.median(grader_times)
            line = (f"{kind:9} {args.n} files: grader {grader:.2f} s ({args.n / grader:.0f}/s, "
                    f"runs {', '.join(f'{t:.2f}' for t in grader_times)}), peak {max(peaks) / 1024:.0f} MB")
            if not args.no_floor:
                floor, naive = statistics.median(floor_times), statistics.median(naive_times)
                line += (f"; floor {floor:.2f} s ({args.n / floor:.0f}/s); grader / floor "
                         f"{grader / floor:.2f}; naive floor {naive:.2f} s, grader / naive "
                         f"{grader / naive:.2f}")
            print(line, flush=True)
            print(f"          every verdict as when graded alone (sample): {same_alone(folder, rows)}",
                  flush=True)
            rows_out.append(line)
    numpy_start = best_of([sys.executable, "-c", "import numpy"])
    single = best_of([sys.executable, "-m", "grader", str(ROOT / "solutions" / "backprop.py"), "--no-cache"])
    print(f"one `grade FILE`: {single:.3f} s (best of 7); bare `python -c 'import numpy'`: "
          f"{numpy_start:.3f} s; ratio {single / numpy_start:.2f}")


if __name__ == "__main__":
    main()
