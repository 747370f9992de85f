"""Issue 28, 1: the README's "Writing an assignment" shows a whole assignment; this builds that
very example from the README's text and grades it as its section says: full marks for the model
answer, zero for the stub, the catalogued mistake named."""

import json
import re

import pytest

from conftest import ROOT, run_cli

SECTION = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## Writing an assignment", 1)[1] \
    .split("\n## ", 1)[0]
FILES = {match.group(2): match.group(1) + "\n" for match in re.finditer(r"```(?:toml|python)\n(# (\S+)\n.*?)```",
                                                                       SECTION, re.S)}


def test_the_section_shows_every_file_of_an_assignment():
    assert set(FILES) == {"solutions/softmax/assignment.toml", "solutions/softmax/cases.py",
                          "solutions/softmax/softmax.py", "solutions/softmax/misconceptions.toml",
                          "exercises/softmax/softmax.py"}


@pytest.mark.sandbox
def test_the_readmes_example_builds_and_grades_as_it_says(tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    folder = str(tmp_path / "solutions" / "softmax")

    def graded(path):
        done = run_cli(str(path), "--assignment", folder, "--format", "json", "--no-cache")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)["submissions"][0]

    model = graded(tmp_path / "solutions" / "softmax" / "softmax.py")
    assert model["score"] == model["max_score"] == 3
    assert graded(tmp_path / "exercises" / "softmax" / "softmax.py")["score"] == 0
    student = tmp_path / "class" / "softmax.py"
    student.parent.mkdir()
    student.write_text(FILES["solutions/softmax/softmax.py"].replace(
        "e / e.sum(axis=1, keepdims=True)", "np.exp(z) / np.sum(np.exp(z))"), encoding="utf-8")
    softmax = next(q for q in graded(student)["questions"] if q["id"] == "softmax")
    assert softmax["diagnosis"] == "softmax.whole_array"
