"""The warm worker: every submission still gets a fresh process, and nothing leaks between them
(submissions of the tiny assignment, tests/data: any assignment would do)."""

import dataclasses
import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT, TINY, TINY_FAST, TINY_SOLUTION, points, with_tiny_solution
from grader.sandbox import workers as processes


def test_one_submission_cannot_touch_the_next(grade_tiny):
    tamper = with_tiny_solution(
        "import builtins, numpy as np\n"
        "builtins.LEFT_BEHIND = True\n"
        "np.sum = lambda *a, **k: 0\n"
        "np.sqrt = lambda z: z\n")
    grade_tiny(tamper, "first.py")
    probe = with_tiny_solution(
        "import builtins\n"
        "if hasattr(builtins, 'LEFT_BEHIND'):\n"
        "    raise SystemExit('state leaked from an earlier submission')\n")
    result = grade_tiny(probe, "second.py")
    assert result.score == TINY.max_score and not result.load_errors


def test_the_worker_program_is_a_package_of_its_own_never_the_grader_package():
    probe = processes.child_boot().replace("main(sys.argv[1:])\n", "") + (
        "import sys\n"
        f"child = sys.modules[{processes.CHILD_PACKAGE!r}]\n"
        "print(callable(child.worker.serve), callable(child.runner.runner_main),"
        " callable(child.wire.make_encoder), child.__path__ == [" + repr(processes.CHILD_FOLDER) + "],"
        " any(m == 'grader' or m.startswith('grader.') for m in sys.modules),"
        " any(p.rstrip('/').endswith(('sandbox', 'child')) for p in sys.path))\n")
    done = subprocess.run([sys.executable, "-I", "-c", probe], capture_output=True, text=True,
                          cwd="/", timeout=120)
    assert done.stdout.split() == ["True", "True", "True", "True", "False", "False"], done.stderr


def _package(folder, word):
    """A package as the worker's boot loads one: `main` prints a word from a sibling module."""
    folder.mkdir(exist_ok=True)
    (folder / "__init__.py").write_text("")
    (folder / "words.py").write_text(f"WORD = {word!r}\n")
    (folder / "__main__.py").write_text("from .words import WORD\n\ndef main(argv):\n    print(WORD, *argv)\n")


@pytest.mark.sandbox
def test_the_worker_program_runs_its_modules_as_they_are_now_not_as_cached(tmp_path):
    _package(tmp_path / "child", "cached")
    boot = processes.child_boot(folder=str(tmp_path / "child"))
    run = lambda: subprocess.run([sys.executable, "-I", "-c", boot, "serve", "7"], capture_output=True,
                                 text=True, timeout=120).stdout.strip()
    assert run() == "cached serve 7" and list((tmp_path / "child" / "__pycache__").glob("words.*.pyc"))
    _package(tmp_path / "child", "edited since")
    assert run() == "edited since serve 7"


def test_the_worker_program_writes_no_bytecode_where_the_grader_would_not(tmp_path):
    _package(tmp_path / "child", "ran")
    boot = processes.child_boot(write_bytecode=False, folder=str(tmp_path / "child"))
    done = subprocess.run([sys.executable, "-I", "-c", boot], capture_output=True, text=True, timeout=120)
    assert done.stdout == "ran\n" and not (tmp_path / "child" / "__pycache__").exists()


def test_a_worker_that_dies_is_replaced(grade_tiny, monkeypatch):
    monkeypatch.setattr(processes, "_idle", [])
    assert grade_tiny(TINY_SOLUTION).score == TINY.max_score
    [worker] = processes._idle
    worker.process.kill()
    worker.process.wait()
    assert grade_tiny(TINY_SOLUTION, "again.py").score == TINY.max_score
    assert worker not in processes._idle and len(processes._idle) == 1


def test_without_warm_workers_a_fresh_interpreter_does_the_same(grade_tiny, monkeypatch):
    monkeypatch.setenv("BACKPROP_GRADER_WARM", "0")
    result = grade_tiny(with_tiny_solution("def norm(v):\n    return np.sum(square(v))\n"))
    assert result.score == TINY.max_score - points("norm", of=TINY)  # unit, built on it, carried
    assert [q.diagnosis.id for q in result.questions if q.diagnosis] == ["norm.squared"]


@pytest.mark.sandbox
def test_the_benchmark_script_runs(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "-n", "8",
                             "--rounds", "1", "--only", "mistakes", "--cpu"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert "mistakes  8 files: grader" in result.stdout and "grader / floor" in result.stdout
    assert "every verdict as when graded alone (sample): True" in result.stdout
    assert "one `grade FILE`" in result.stdout
    # --cpu: milliseconds per file in each kind of process, every one of them seen to work
    cpu = next(line for line in result.stdout.splitlines() if "CPU ms per file" in line)
    spent = dict(re.findall(r"(grader|workers|fork servers|runners|parents|children) ([\d.]+)", cpu))
    assert set(spent) == {"grader", "workers", "fork servers", "runners", "parents", "children"}, cpu
    assert all(float(ms) > 0 for ms in spent.values()), cpu


def test_a_worker_started_before_the_options_are_known_grades_once_told_them(grade_tiny, monkeypatch):
    """`grade` starts a worker first thing, before it knows what to hide: that worker learns
    its settings when the grader does, and grades as any other."""
    monkeypatch.setattr(processes, "_idle", [])
    processes.start_early()
    early = processes._idle[0]
    assert early.key is None
    assert grade_tiny(TINY_SOLUTION).score == TINY.max_score
    assert processes._idle == [early] and early.key is not None and early.mode is not None


@pytest.mark.sandbox
def test_prewarm_tells_the_early_worker_its_settings_and_starts_only_the_rest(monkeypatch):
    monkeypatch.setattr(processes, "_idle", [])
    processes.start_early()
    early = processes._idle[0]
    try:
        processes.prewarm(2, ())
        assert len(processes._idle) == 2 and early in processes._idle
        assert all(w.key == processes.worker_key(()) for w in processes._idle)
    finally:
        for worker in processes._idle:
            worker.close()


def test_only_commands_that_grade_start_a_worker_early(monkeypatch):
    from grader import cli, entry

    started = []
    monkeypatch.setattr(processes, "start_early", lambda: started.append(True))
    monkeypatch.setattr(cli, "main", lambda: None)
    monkeypatch.setattr(entry, "_exit_now", lambda code: None)  # not this test's process
    for arguments, expected in ((["alice.py"], 1), (["--help"], 0), (["seal"], 0), ([], 0),
                                (["gradescope"], 1), (["key"], 0), (["--sandbox-info"], 0)):
        started.clear()
        monkeypatch.setattr(sys, "argv", ["grade", *arguments])
        entry.main()
        assert len(started) == expected, arguments


@pytest.mark.parametrize("code, status, said", [(None, 0, ""), (0, 0, ""), (3, 3, ""),
                                                ("Error: no such file", 1, "Error: no such file\n")])
def test_the_command_ends_as_its_exit_asks_with_everything_written(code, status, said):
    # The command ends without the interpreter's teardown: whatever it printed still arrives.
    script = (f"import sys\nfrom grader.entry import _exit_now\nsys.stdout.write('x' * 300_000)\n"
              f"_exit_now({code!r})\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (status, "x" * 300_000, said)


@pytest.mark.sandbox
def test_a_class_runs_on_as_many_workers_as_jobs_while_more_threads_judge(tmp_path, monkeypatch):
    """--jobs 2: two submissions run at once, on two workers, however many threads load and
    judge meanwhile; every worker goes back to the pool after its job."""
    from grader.batch import grade_all
    from grader.intake.discovery import discover

    monkeypatch.setattr(processes, "_idle", [])
    running, most = [0], [0]
    real_run = processes.Worker.run

    def counted(self, job, deadline):
        running[0] += 1
        most[0] = max(most[0], running[0])
        try:
            return real_run(self, job, deadline)
        finally:
            running[0] -= 1

    monkeypatch.setattr(processes.Worker, "run", counted)
    for index in range(8):
        (tmp_path / f"s{index}.py").write_text(TINY_SOLUTION)
    results = [g.result for g in grade_all(discover([tmp_path], TINY), TINY_FAST, jobs=2)]
    assert sorted(r.score for r in results) == [TINY.max_score] * 8
    assert 1 <= most[0] <= 2 and 1 <= len(processes._idle) <= 2  # never more than --jobs
    processes.close_all()


@pytest.mark.sandbox
def test_the_workers_a_batch_started_outlive_its_threads(tmp_path, monkeypatch):
    import time

    from grader.batch import grade_all
    from grader.intake.discovery import discover

    monkeypatch.setattr(processes, "_idle", [])
    for index in range(4):
        (tmp_path / f"s{index}.py").write_text(TINY_SOLUTION)
    try:
        assert all(g.result.error is None for g in grade_all(discover([tmp_path], TINY), TINY_FAST, jobs=2))
        time.sleep(1)
        assert processes._idle and [w.process.poll() for w in processes._idle] == [None] * len(processes._idle)
    finally:
        processes.close_all()


def test_private_paths_never_hide_the_folders_every_process_needs(grade_tiny):
    # /dev (the report's folder for -o /dev/stdout), /proc, /sys, or a folder above them:
    # hidden, the student's process could not start; they are left as the machine has them.
    options = dataclasses.replace(TINY_FAST, private_paths=("/dev", "/sys/kernel", "/proc/self"))
    result = grade_tiny(TINY_SOLUTION, options=options)
    assert result.error is None and result.score == result.max_score
