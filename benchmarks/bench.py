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
and the ratios; peak memory of the grader's own process; at the end, the ratios as a table
beside the targets. Checked: every verdict of the class run is the verdict of the same file
graded alone (on a sample).

    python benchmarks/bench.py --before ../old-checkout   # a column for an earlier version too
    python benchmarks/bench.py --cpu                       # where each class's CPU goes, too

With --cpu, one more run of each class (not timed) is watched, to say how many milliseconds of
CPU a file costs in each kind of process: the grader's own, its workers, their fork servers,
and the runners the fork servers forked (and whatever those started); beside it, the floor's
parents and children. The machine is CPU-bound when grading a class, so these sums are what a
ratio to the floor is made of.

With --before, the grader of that checkout runs in the same rounds, against the same floor,
so that the two columns are measured alike. Both checkouts are byte-compiled first, as an
installed package is (a checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile the
grader's modules at every start, and no installed grader does).
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

# The model answer, wherever the checkout being measured keeps it (solutions/<name>/ now and
# before the assignments became folders; assignments/<name>/solution/ between).
SOLUTION = (ROOT / "solutions" / "backprop" / "backprop.py").read_text()
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


def checkout_env(checkout: Path) -> dict:
    """The environment that runs the grader of `checkout`: its folder first on the path."""
    return {**os.environ, "PYTHONPATH": str(checkout)}


def byte_compile(checkout: Path) -> None:
    answers = [str(p) for p in (checkout / "assignments", checkout / "solutions") if p.exists()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "grader"),
                    *answers], check=True, capture_output=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})


def run_grader(folder: Path, jobs: int, checkout: Path = ROOT,
               watch: dict | None = None) -> tuple[float, int, dict]:
    """Wall seconds, peak RSS in KiB of the grader's own process, and the report's rows. With
    `watch` (a dict), the CPU seconds of each kind of process go into it (see _watched)."""
    measure = (
        "import resource, sys, runpy\n"
        "sys.argv = ['grade'] + sys.argv[1:]\n"
        "def say_peak():\n"
        # VmHWM, not ru_maxrss: ru_maxrss keeps the high-water mark of the parent this process
        # was forked from before its exec (the benchmark's own, after the floor ran).
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    try:\n"
        "        with open('/proc/self/status') as status:\n"
        "            peak = next(int(l.split()[1]) for l in status if l.startswith('VmHWM:'))\n"
        "    except (OSError, StopIteration):\n"
        "        pass\n"
        "    own = resource.getrusage(resource.RUSAGE_SELF)\n"
        "    sys.stderr.write('MAXRSS %d\\nCPU %f\\n' % (peak, own.ru_utime + own.ru_stime))\n"
        "    sys.stderr.flush()\n"
        # The command ends itself without the interpreter's teardown (os._exit) where it can:
        # the peak is said just before, and the command still ends its own way.
        "import grader.entry as entry\n"
        "if hasattr(entry, '_exit_now'):\n"
        "    exit_now = entry._exit_now\n"
        "    entry._exit_now = lambda code: (say_peak(), exit_now(code))\n"
        "try:\n"
        "    runpy.run_module('grader', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "say_peak()\n"
    )
    out = folder.parent / f"{folder.name}-report.json"
    started = time.perf_counter()
    command = [sys.executable, "-c", measure, str(folder), "--jobs", str(jobs), "--no-cache", "-q",
               "--format", "json", "-o", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                               cwd=checkout, env=checkout_env(checkout))
    if watch is None:
        stderr = process.communicate()[1]
    else:
        stderr = _watched(process, watch)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"grader failed: {stderr[-2000:]}")
    said = dict(line.split(None, 1) for line in stderr.splitlines() if line.startswith(("MAXRSS ", "CPU ")))
    if watch is not None:
        watch["grader"] = float(said["CPU"])
    rows = {s["student"]: s for s in json.loads(out.read_text())["submissions"]}
    return wall, int(said["MAXRSS"]), rows


def _stat(pid: int) -> tuple[float, float] | None:
    """A process's own CPU seconds and those of its children it has waited for."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _watched(process: subprocess.Popen, watch: dict) -> str:
    """Wait for the grader, looking every 20 ms at its workers (its children) and their fork
    servers (theirs): each one's CPU as last seen, the fork servers' with the runners they
    waited for. What a process spent after it was last seen is missed (20 ms at most)."""
    import threading

    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))
    reader.start()
    seen: dict[int, tuple[str, float, float]] = {}
    while process.poll() is None:
        for worker in _children(process.pid):
            for pid, role in [(worker, "workers"), *((f, "fork servers") for f in _children(worker))]:
                times = _stat(pid)
                if times is not None:
                    seen[pid] = (role, *times)
        time.sleep(0.02)
    reader.join()
    for role in ("workers", "fork servers", "runners"):
        watch[role] = 0.0
    for role, own, waited in seen.values():
        watch[role] += own
        if role == "fork servers":
            watch["runners"] += waited
    return errors[0] if errors else ""


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


def the_floor(sources: list[str], jobs: int, watch: dict | None = None) -> float:
    """Wall seconds for the floor: `jobs` parents that imported numpy, a fork per file. With
    `watch`, the CPU seconds of the parents and of their children go into it."""
    import resource

    import numpy  # noqa: F401 - imported before the forks, as a warm process would

    from grader.assignment import load
    from grader.grading import calls, plan

    backprop = load("backprop")
    checks = plan(0, backprop)
    call_list = [(list(c.names), list(check.args), c.read) for c, check in zip(calls(0, backprop), checks)]
    said, tell = os.pipe()
    started = time.perf_counter()
    workers = []
    for index in range(jobs):
        pid = os.fork()
        if pid == 0:
            try:
                os.close(said)
                before = resource.getrusage(resource.RUSAGE_SELF)
                _floor_worker(sources[index::jobs], call_list)
                own = resource.getrusage(resource.RUSAGE_SELF)
                children = resource.getrusage(resource.RUSAGE_CHILDREN)
                spent = (own.ru_utime + own.ru_stime - before.ru_utime - before.ru_stime,
                         children.ru_utime + children.ru_stime)
                os.write(tell, json.dumps(spent).encode() + b"\n")
            finally:
                os._exit(0)
        workers.append(pid)
    os.close(tell)
    for pid in workers:
        os.waitpid(pid, 0)
    wall = time.perf_counter() - started
    with os.fdopen(said) as reports:
        spent = [json.loads(line) for line in reports]
    if watch is not None:
        watch["parents"] = sum(parent for parent, _ in spent)
        watch["children"] = sum(children for _, children in spent)
    return wall


def naive_floor(sources: list[str], jobs: int) -> float:
    def one(source: str) -> None:
        subprocess.run([sys.executable, "-c", "import numpy; exec(open(0).read())"],
                       input=source, text=True, capture_output=True, timeout=60)

    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, sources))
    return time.perf_counter() - started


def sources_of(paths: list[Path]) -> list[str]:
    from grader.assignment import load
    from grader.intake.notebooks import read_notebook, to_script

    check_modules = load("backprop").check_modules
    return [to_script(read_notebook(p, p.read_text(), check_modules)) if p.suffix == ".ipynb" else p.read_text()
            for p in paths]


def best_of(command: list[str], times: int = 7, checkout: Path = ROOT) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=checkout, env=checkout_env(checkout))
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


TARGETS = {"correct": 2, "mistakes": 4, "notebooks": 3, "one": 3}
LABELS = {"correct": "correct .py, x the floor", "mistakes": "typical mistakes, x the floor",
          "notebooks": "notebooks, x the floor", "one": "one `grade FILE`, x `import numpy`"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="submissions in each class")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument("--only", choices=CLASSES, action="append", help="this class only (repeatable)")
    parser.add_argument("--no-floor", action="store_true", help="skip both floors")
    parser.add_argument("--before", type=Path, help="a checkout of an earlier version, measured alike")
    parser.add_argument("--cpu", action="store_true",
                        help="one more run of each class, watched: CPU per file by kind of process")
    args = parser.parse_args()

    checkouts = {"now": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    for checkout in checkouts.values():
        byte_compile(checkout)
    ratios: dict[str, dict[str, float]] = {name: {} for name in checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.only or CLASSES:
            folder = Path(tmp) / kind
            folder.mkdir()
            paths = build_class(folder, kind, args.n)
            sources = sources_of(paths)
            times = {name: [] for name in checkouts}
            peaks = {name: [] for name in checkouts}
            floor_times, naive_times, rows = [], [], {}
            for _ in range(args.rounds):  # interleaved: a slow minute of the machine hits all alike
                for name, checkout in checkouts.items():
                    wall, rss, found = run_grader(folder, args.jobs, checkout)
                    times[name].append(wall)
                    peaks[name].append(rss)
                    if name == "now":
                        rows = found
                if not args.no_floor:
                    floor_times.append(the_floor(sources, args.jobs))
                    naive_times.append(naive_floor(sources, args.jobs))
            floor = statistics.median(floor_times) if floor_times else None
            for name in checkouts:
                grader = statistics.median(times[name])
                line = (f"{kind:9} {args.n} files: grader{'' if name == 'now' else ' (' + name + ')'} "
                        f"{grader:.2f} s ({args.n / grader:.0f}/s, runs "
                        f"{', '.join(f'{t:.2f}' for t in times[name])}), peak {max(peaks[name]) / 1024:.0f} MB")
                if floor:
                    naive = statistics.median(naive_times)
                    ratios[name][kind] = grader / floor
                    line += (f"; floor {floor:.2f} s ({args.n / floor:.0f}/s); grader / floor "
                             f"{grader / floor:.2f}; naive floor {naive:.2f} s, grader / naive "
                             f"{grader / naive:.2f}")
                print(line, flush=True)
            print(f"          every verdict as when graded alone (sample): {same_alone(folder, rows)}",
                  flush=True)
            if args.cpu:
                for name, checkout in checkouts.items():
                    print(cpu_line(kind, name, folder, sources, args, checkout), flush=True)
    numpy_start = best_of([sys.executable, "-c", "import numpy"])
    for name, checkout in checkouts.items():
        single = best_of([sys.executable, "-m", "grader", str(ROOT / "solutions" / "backprop" / "backprop.py"),
                          "--no-cache"], checkout=checkout)
        ratios[name]["one"] = single / numpy_start
        print(f"one `grade FILE`{'' if name == 'now' else ' (' + name + ')'}: {single:.3f} s (best of 7); "
              f"bare `python -c 'import numpy'`: {numpy_start:.3f} s; ratio {single / numpy_start:.2f}")
    print()
    print(table(ratios, checkouts))


def cpu_line(kind: str, name: str, folder: Path, sources: list[str], args, checkout: Path) -> str:
    """Milliseconds of CPU per file in each kind of process, the grader's and the floor's."""
    def per_file(spent: dict[str, float]) -> str:
        parts = ", ".join(f"{role} {1000 * seconds / args.n:.1f}" for role, seconds in spent.items())
        return f"{parts} ({1000 * sum(spent.values()) / args.n:.1f} in all)"

    watched: dict[str, float] = {}
    run_grader(folder, args.jobs, checkout, watch=watched)
    line = f"          CPU ms per file{'' if name == 'now' else ' (' + name + ')'}: "
    if not watched["workers"]:  # a kernel without /proc/PID/task/TID/children
        return line + "its workers could not be watched here"
    line += per_file({role: watched[role] for role in ("grader", "workers", "fork servers", "runners")})
    if not args.no_floor:
        floor: dict[str, float] = {}
        the_floor(sources, args.jobs, watch=floor)
        line += f"; the floor: {per_file(floor)}"
    return line


def table(ratios: dict[str, dict[str, float]], checkouts: dict) -> str:
    """The issue's table: each ratio measured here, beside its target."""
    names = [n for n in ("before", "now") if n in checkouts]
    rows = [["measured here (--jobs 2, no cache)", *names, "target"]]
    for kind in (*CLASSES, "one"):
        if any(kind in ratios[n] for n in names):
            rows.append([LABELS[kind], *(f"{ratios[n][kind]:.2f}x" if kind in ratios[n] else "-"
                                         for n in names), f"<= {TARGETS[kind]}x"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
