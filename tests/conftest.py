"""Fixtures that write submissions into tmp_path and grade them; the assignments the tests
grade (the worksheet, and the engine's tiny one); the `sandbox` marker and its guard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader import assignment, sandbox
from grader.grading import Options, grade_path

ROOT = Path(__file__).resolve().parent.parent

# The backpropagation worksheet, for the tests about it (its numbers, its catalogue, the
# series' notebooks). A test's totals and points are read from it, never written as numbers:
# `BACKPROP.max_score`, `BACKPROP.max_score - points("dJdW2")`.
BACKPROP = assignment.load("backprop")
SOLUTION = BACKPROP.model_answer_path.read_text(encoding="utf-8")
STUB = BACKPROP.stub_path.read_text(encoding="utf-8")

# The engine's own tiny assignment (tests/data/solutions/tiny, its stub in
# tests/data/exercises/tiny): for the tests that need an assignment, not this worksheet.
TINY = assignment.load(ROOT / "tests" / "data" / "solutions" / "tiny")
TINY_SOLUTION = TINY.model_answer_path.read_text(encoding="utf-8")
TINY_STUB = TINY.stub_path.read_text(encoding="utf-8")
TINY_ARGS = ("--assignment", str(TINY.folder))  # the command line's way of naming it

# The worksheet most tests grade: the engine has no default assignment.
BACKPROP = assignment.load("backprop")
# Short limits keep the hostile cases quick; the cases themselves are bounded too.
LIMITS = sandbox.Limits(timeout=2.0, memory_mb=1024)
FAST = Options(BACKPROP, limits=LIMITS)
TINY_FAST = Options(TINY, limits=LIMITS)


def points(*question_ids: str, of: assignment.Assignment = BACKPROP) -> float:
    """The points of these questions, as the assignment gives them: what a test expects lost
    (or earned) on them."""
    return sum(of.question(q).points for q in question_ids)


def with_solution(extra: str) -> str:
    """The model answer with `extra` appended: a later `def` replaces the model's function."""
    return SOLUTION + "\n\n" + extra


def with_tiny_solution(extra: str) -> str:
    """The tiny assignment's model answer with `extra` appended."""
    return TINY_SOLUTION + "\n\n" + extra


@pytest.fixture
def write(tmp_path):
    """write(source, name="alice.py") -> Path of a submission file in tmp_path."""

    def _write(source: str | bytes, name: str = "alice.py") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            path.write_bytes(source)
        else:
            path.write_text(source, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def grade(write):
    """grade(source, **options) -> SubmissionResult of that source written to a file."""

    def _grade(source: str | bytes, name: str = "alice.py", options: Options = FAST):
        return grade_path(write(source, name), options)

    return _grade


@pytest.fixture
def grade_tiny(write):
    """grade_tiny(source, **options) -> SubmissionResult of that source, for the tiny assignment."""

    def _grade(source: str | bytes, name: str = "tiny.py", options: Options = TINY_FAST):
        return grade_path(write(source, name), options)

    return _grade


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed `grade` command as a user runs it, in its own process."""
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def run_json(*args: str) -> dict:
    result = run_cli(*args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def scores(result) -> dict[str, float]:
    return {q.question.id: q.score for q in result.questions}


def statuses(result) -> dict[str, str]:
    return {q.question.id: q.status.value for q in result.questions}


@pytest.fixture(autouse=True)
def private_result_store(tmp_path_factory, monkeypatch):
    """Keep every test's stored results out of the user's cache, and apart from each other."""
    monkeypatch.setenv("BACKPROP_GRADER_CACHE", str(tmp_path_factory.mktemp("store")))


def notebook_text(*cells: str, markdown_first: str | None = None) -> str:
    """A v4 notebook whose code cells hold `cells`, in order."""
    import nbformat

    parts = [nbformat.v4.new_markdown_cell(markdown_first)] if markdown_first else []
    parts += [nbformat.v4.new_code_cell(source) for source in cells]
    return nbformat.writes(nbformat.v4.new_notebook(cells=parts))


# A grader run by a normal user, for real: the tests run as root, so they make a private mount
# namespace in which the Python installation is reachable (it may live under /root, which other
# users can't enter), then become that user and run the command.
NORMAL_USER = 65534
_AS_USER = r"""
import json, os, subprocess, sys
plan = json.loads(sys.argv[1])
for number, (blocker, needed) in enumerate(plan["covers"]):
    staged = []
    for index, path in enumerate(needed):
        stage = os.path.join(plan["stage"], f"{number}-{index}")
        os.makedirs(stage)
        subprocess.run(["mount", "--bind", path, stage], check=True)
        staged.append((path, stage))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", blocker], check=True)
    for path, stage in staged:
        os.makedirs(path, exist_ok=True)
        subprocess.run(["mount", "--move", stage, path], check=True)
os.setgroups([])
os.setgid(plan["uid"])
os.setuid(plan["uid"])
os.chdir(plan["cwd"])
os.execvpe(plan["args"][0], plan["args"], plan["env"])
"""


def shared_folder(prefix: str = "grader-test-") -> Path:
    """A new folder that every user may enter (the machine's /tmp may not be such a place)."""
    import tempfile

    base = next((b for b in ("/tmp", "/var/tmp", "/dev/shm")
                 if os.path.isdir(b) and os.stat(b).st_mode & 0o001), None)
    if base is None:
        pytest.skip("no temporary folder that other users may enter")
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    folder.chmod(0o755)
    return folder


def _covers(paths: list[str]) -> list[tuple[str, list[str]]]:
    """For each folder others can't enter on the way to a needed path: what must show through."""
    covers: dict[str, set[str]] = {}
    for path in paths:
        parts = Path(path).resolve().parts
        for depth in range(2, len(parts)):
            folder = str(Path(*parts[:depth]))
            if not os.stat(folder).st_mode & 0o001:
                covers.setdefault(folder, set()).add(str(Path(*parts[:depth + 1])))
                break
    return [(folder, sorted(needed)) for folder, needed in sorted(covers.items())]


def run_as_user(args: list[str], *, cwd: Path, env: dict | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a command as a normal user (uid 65534), as an instructor without root would."""
    import sysconfig

    if os.geteuid() != 0:
        pytest.skip("the tests become a normal user from root")
    # The grader these tests import, not whatever copy was last installed: a test of the
    # checkout must run the checkout's code as that user too.
    import grader

    under_test = str(Path(grader.__file__).resolve().parent.parent)
    needed = [sys.base_prefix, sys.prefix, sysconfig.get_paths()["purelib"], str(ROOT), under_test, str(cwd)]
    stage = shared_folder()
    plan = {"covers": _covers(needed), "stage": str(stage), "uid": NORMAL_USER, "cwd": str(cwd),
            "args": args, "env": {"PATH": os.environ["PATH"], "HOME": str(cwd), "LANG": "C.UTF-8",
                                  "PYTHONPATH": under_test,
                                  **(env or {})}}
    try:
        return subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                               "-c", _AS_USER, json.dumps(plan)], capture_output=True, text=True,
                              timeout=timeout)
    finally:
        import shutil

        shutil.rmtree(stage, ignore_errors=True)


def live_processes_running(text: str) -> set[int]:
    """Live (not zombie) processes whose command line contains `text`."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if text.encode() not in cmdline.read():
                    continue
            with open(f"/proc/{pid}/stat", "rb") as stat:
                if stat.read().rsplit(b")", 1)[1].split()[0] != b"Z":
                    found.add(int(pid))
        except OSError:
            pass
    return found



# --- the `sandbox` marker ------------------------------------------------------------------
# A test that starts or uses a sandbox worker (it grades a submission, in this process or
# through the `grade` command) is marked `sandbox`, so that `pytest -m "not sandbox"` answers
# in seconds. The mark comes with the fixtures that grade (GRADING_FIXTURES), a module's
# `pytestmark`, or the test's own `@pytest.mark.sandbox`. A test without it that starts a
# worker, here or in a command it runs, or runs a job on one, fails: the guard below. (A
# command run with an environment of its own, without this test's PYTHONPATH, is out of the
# guard's sight: the Gradescope layout's, a normal user's; those tests are marked by hand.)


GRADING_FIXTURES = {"grade", "grade_tiny"}
_GUARD = Path(__file__).resolve().parent / "_guard"

sys.path.insert(0, str(_GUARD))
import worker_record  # noqa: E402

worker_record.install()


def pytest_collection_modifyitems(items):
    for item in items:
        if GRADING_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.sandbox)


@pytest.fixture(autouse=True)
def no_worker_unless_marked(request, monkeypatch, tmp_path_factory):
    """In a test not marked `sandbox`: a record of the workers started (here and in the
    commands the test runs) and of the jobs run on one; the test fails if it is not empty."""
    if request.node.get_closest_marker("sandbox"):
        yield
        return
    from grader.sandbox import workers

    record = tmp_path_factory.mktemp("workers") / "record"
    monkeypatch.setenv(worker_record.RECORD, str(record))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (str(_GUARD), os.environ.get("PYTHONPATH")))))
    real_run = workers.Worker.run

    def recorded_run(self, job, deadline):
        worker_record.note("ran a job on a worker")
        return real_run(self, job, deadline)

    monkeypatch.setattr(workers.Worker, "run", recorded_run)
    yield
    if record.exists():
        said = "; ".join(record.read_text().splitlines())
        pytest.fail(f"this test is not marked `sandbox` but it {said}: mark it @pytest.mark.sandbox "
                    f"(or give it the `grade` fixture)", pytrace=False)


# The series' class as its Part 4 builds it, written afresh for these tests; `np` comes from
# whatever the notebook imported (%pylab, or an import).
SERIES_CLASS = textwrap.dedent("""\
    class Neural_Network(object):
        def __init__(self):
            self.inputLayerSize = 2
            self.outputLayerSize = 1
            self.hiddenLayerSize = 3
            self.W1 = np.random.randn(self.inputLayerSize, self.hiddenLayerSize)
            self.W2 = np.random.randn(self.hiddenLayerSize, self.outputLayerSize)

        def forward(self, X):
            self.z2 = np.dot(X, self.W1)
            self.a2 = self.sigmoid(self.z2)
            self.z3 = np.dot(self.a2, self.W2)
            return self.sigmoid(self.z3)

        def sigmoid(self, z):
            return 1 / (1 + np.exp(-z))

        def sigmoidPrime(self, z):
            return np.exp(-z) / ((1 + np.exp(-z)) ** 2)

        def costFunction(self, X, y):
            self.yHat = self.forward(X)
            return 0.5 * np.sum((y - self.yHat) ** 2, axis=0)

        def costFunctionPrime(self, X, y):
            self.yHat = self.forward(X)
            delta3 = np.multiply(-(y - self.yHat), self.sigmoidPrime(self.z3))
            dJdW2 = np.dot(self.a2.T, delta3)
            delta2 = np.dot(delta3, self.W2.T) * self.sigmoidPrime(self.z2)
            dJdW1 = np.dot(X.T, delta2)
            return dJdW1, dJdW2
    """)
