"""Issue 27, 2: code that could not run here for want of a package is not wrong. The student is
told why and nothing downstream is called wrong; the instructor is told which students need
which package, in the class table, the CSV gradebook, the JSON summary and the HTML report."""

import csv
import io
import json

import pytest

from conftest import TINY, TINY_ARGS, run_cli, with_tiny_solution

# A right norm, written with a package that is not installed where grading runs; unit builds on it.
NEEDS_TORCH = with_tiny_solution('''
import torch


def norm(v):
    return float(torch.linalg.norm(torch.tensor(v)))
''')


@pytest.fixture
def klass(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "ada.py").write_text(NEEDS_TORCH, encoding="utf-8")
    (folder / "bo.py").write_text(with_tiny_solution(""), encoding="utf-8")
    return folder


@pytest.mark.sandbox
def test_the_instructor_is_told_who_needs_which_package(klass, tmp_path):
    html = tmp_path / "report.html"
    table = run_cli(str(klass), *TINY_ARGS, "--no-cache", "--html", str(html))
    assert "lost points only because their code could not run here" in table.stdout
    assert "  torch: ada" in table.stdout
    assert "Lost points only because their code could not run here" in html.read_text(encoding="utf-8")

    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(
        run_cli(str(klass), *TINY_ARGS, "--format", "csv").stdout))}
    assert rows["ada"]["could_not_run"] == "torch" and rows["bo"]["could_not_run"] == ""

    report = json.loads(run_cli(str(klass), *TINY_ARGS, "--format", "json").stdout)
    assert report["summary"]["could_not_run"] == {"torch": ["ada"]}
    ada = next(s for s in report["submissions"] if s["student"] == "ada")
    norm = next(q for q in ada["questions"] if q["id"] == "norm")
    assert all(c["could_not_run"] for c in norm["cases"])
    assert "could not run here" in norm["feedback"] and "torch is not installed" in norm["feedback"]
    unit = next(q for q in ada["questions"] if q["id"] == "unit")
    assert unit["score"] == TINY.question("unit").points
    assert "fix norm" not in unit["feedback"] and "is wrong" not in unit["feedback"]
