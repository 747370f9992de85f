"""Fixtures that write submissions into tmp_path and grade them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import sandbox
from grader.grading import Options, grade_path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (ROOT / "solutions" / "backprop.py").read_text(encoding="utf-8")
STUB = (ROOT / "exercises" / "backprop.py").read_text(encoding="utf-8")

# Short limits keep the hostile cases quick; the cases themselves are bounded too.
FAST = Options(limits=sandbox.Limits(timeout=2.0, memory_mb=1024))


def with_solution(extra: str) -> str:
    """The model answer with `extra` appended: a later `def` replaces the model's function."""
    return SOLUTION + "\n\n" + extra


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
