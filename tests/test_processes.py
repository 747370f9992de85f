"""The warm worker: every submission still gets a fresh process, and nothing leaks between them."""

import os
import subprocess
import sys

from conftest import ROOT, SOLUTION, with_solution
from grader import processes


def test_one_submission_cannot_touch_the_next(grade):
    tamper = with_solution(
        "import builtins, numpy as np\n"
        "builtins.LEFT_BEHIND = True\n"
        "np.dot = lambda *a, **k: 0\n"
        "np.exp = lambda z: z\n")
    grade(tamper, "first.py")
    probe = with_solution(
        "import builtins\n"
        "if hasattr(builtins, 'LEFT_BEHIND'):\n"
        "    raise SystemExit('state leaked from an earlier submission')\n")
    result = grade(probe, "second.py")
    assert result.score == 20 and not result.load_errors


def test_a_worker_that_dies_is_replaced(grade):
    assert grade(SOLUTION).score == 20
    worker = processes._local.worker
    worker.process.kill()
    worker.process.wait()
    assert grade(SOLUTION, "again.py").score == 20
    assert processes._local.worker is not worker


def test_without_warm_workers_a_fresh_interpreter_does_the_same(grade, monkeypatch):
    monkeypatch.setenv("BACKPROP_GRADER_WARM", "0")
    result = grade(with_solution("def dJdW2(a2, delta3):\n    return a2.T\n"))
    assert result.score == 18
    assert [q.diagnosis.id for q in result.questions if q.diagnosis] == ["dJdW2.missing_delta3"]


def test_the_benchmark_script_runs(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "-n", "8",
                             "--rounds", "1", "--only", "mistakes"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert "mistakes  8 files: grader" in result.stdout and "grader / floor" in result.stdout
    assert "every verdict as when graded alone (sample): True" in result.stdout
    assert "one `grade FILE`" in result.stdout
