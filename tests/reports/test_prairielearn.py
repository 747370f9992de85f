"""PrairieLearn: the question folder the script writes, its entrypoint run on a grading job's
layout (in a temporary folder, not /grade), and results.json against PrairieLearn's documented
schema (docs/externalGrading.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BACKPROP, ROOT, SOLUTION, STUB, notebook_text, points, run_cli, with_solution

sys.path.insert(0, str(ROOT / "prairielearn"))
import make_question

_TEST_KEYS = {"name", "description", "points", "max_points", "message", "output"}


def _check_schema(document: dict) -> None:
    """What PrairieLearn reads: `score` in [0, 1] when gradable; `format_errors` when not;
    tests as <pl-external-grader-results> shows them; at most 1 MB."""
    assert len(json.dumps(document).encode()) < 1_000_000
    assert isinstance(document.get("gradable", True), bool)
    if document.get("gradable", True):
        assert 0.0 <= document["score"] <= 1.0
        assert isinstance(document["message"], str) and isinstance(document["output"], str)
        assert len(document["tests"]) == len(BACKPROP.questions)
        for test in document["tests"]:
            assert set(test) == _TEST_KEYS
            assert 0 <= test["points"] <= test["max_points"]
        assert abs(sum(t["points"] for t in document["tests"]) / BACKPROP.max_score - document["score"]) < 1e-6
    else:
        assert document["format_errors"] and all(isinstance(e, str) for e in document["format_errors"])


@pytest.fixture(scope="module")
def question(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pl")
    done = subprocess.run([sys.executable, str(ROOT / "prairielearn" / "make_question.py"), str(out),
                           "--image", "someone/backprop-grader"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return out


def test_the_question_folder_is_what_prairielearn_reads(question):
    info = json.loads((question / "questions" / "backprop" / "info.json").read_text())
    assert info["gradingMethod"] == "External" and info["type"] == "v3"
    options = info["externalGradingOptions"]
    assert options["enabled"] is True and options["image"] == "someone/backprop-grader"
    assert options["entrypoint"] == "/grade/serverFilesCourse/backprop_grader/run.sh"
    assert options["serverFilesCourse"] == ["backprop_grader/"] and 1 <= options["timeout"] <= 600
    html = (question / "questions" / "backprop" / "question.html").read_text()
    assert "<pl-file-upload" in html and "<pl-external-grader-results>" in html
    run = question / "serverFilesCourse" / "backprop_grader" / "run.sh"
    assert os.access(run, os.X_OK)
    # The image installs the grader and seals the answer key; nothing of it is in what the
    # course serves (serverFilesCourse is copied into every job, beside the student's files).
    dockerfile = (question / "image" / "Dockerfile").read_text()
    assert "pip install --no-cache-dir /opt/backprop-grader" in dockerfile and "grader seal" in dockerfile
    assert (question / "image" / "backprop-grader" / "solutions" / "backprop" / "backprop.py").read_text() == SOLUTION
    served = list((question / "serverFilesCourse").rglob("*")) + list((question / "questions").rglob("*"))
    assert not any(p.name == "backprop.py" or p.suffix == ".toml" for p in served)


def _job(tmp_path: Path, files: dict[str, str], run: Path) -> dict:
    """A grading job as PrairieLearn lays it out, graded by the question's entrypoint."""
    grade = tmp_path / "grade"
    (grade / "student").mkdir(parents=True)
    (grade / "data").mkdir()
    (grade / "data" / "data.json").write_text("{}")
    for name, text in files.items():
        (grade / "student" / name).write_text(text)
    # The entrypoint runs the grader installed where it runs (from /): as in the image, this
    # checkout's, not whichever copy this machine has installed.
    env = {**os.environ, "PL_GRADE_DIR": str(grade), "PYTHONPATH": str(ROOT),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(run)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((grade / "results" / "results.json").read_text())


@pytest.mark.sandbox
@pytest.mark.parametrize("files, score", [
    ({"backprop.py": SOLUTION}, 1.0),
    ({"backprop.ipynb": notebook_text("%matplotlib inline", SOLUTION, "check()")}, 1.0),
    ({"backprop.py": with_solution("def dJdW2(a2, delta3):\n    return a2.T\n")},
     1 - points("dJdW2") / BACKPROP.max_score),

    ({"backprop.py": STUB, "mywork.py": SOLUTION}, 1.0),
])
def test_the_entrypoint_grades_a_job_and_writes_results_prairielearn_reads(question, tmp_path, files, score):
    document = _job(tmp_path, files, question / "serverFilesCourse" / "backprop_grader" / "run.sh")
    _check_schema(document)
    assert document["gradable"] is True and document["score"] == pytest.approx(score)
    if score < 1:
        dJdW2 = next(t for t in document["tests"] if t["name"] == "dJdW2")
        assert dJdW2["points"] == 0 and "delta(3) is left out" in dJdW2["message"]
    if "mywork.py" in files:
        assert "graded mywork.py" in document["message"]


@pytest.mark.sandbox
@pytest.mark.parametrize("files, why", [
    ({"backprop.py": "def forward(:\n"}, "SyntaxError"),
    ({"answers.pdf": "%PDF"}, "no .py or .ipynb file was submitted"),
])
def test_a_job_that_cannot_be_run_is_not_gradable_and_costs_no_attempt(question, tmp_path, files, why):
    document = _job(tmp_path, files, question / "serverFilesCourse" / "backprop_grader" / "run.sh")
    _check_schema(document)
    assert document["gradable"] is False and why in document["format_errors"][0]


@pytest.mark.sandbox
def test_format_prairielearn_prints_the_same_document_for_one_file(tmp_path):
    path = tmp_path / "backprop.py"
    path.write_text(SOLUTION)
    done = run_cli(str(path), "--format", "prairielearn", "--no-cache")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    _check_schema(document)
    assert document["score"] == 1.0


def test_the_timeout_is_within_prairielearns_limit(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "prairielearn" / "make_question.py"),
                           str(tmp_path / "q"), "--image", "x", "--timeout", "900"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "600" in done.stderr


def _info(out: Path, name: str = "backprop") -> dict:
    return json.loads((out / "questions" / name / "info.json").read_text())


def test_two_assignments_questions_have_their_own_uuid_topic_and_tags(tmp_path):
    """Two questions in one course clash on a UUID, and a topic or tag of another assignment
    files one under the other: each comes from its own assignment."""
    from grader.assignment import load

    checking = load("gradient-checking")
    make_question.build(tmp_path / "a", "x")
    make_question.build(tmp_path / "b", "x", assignment="gradient-checking")
    one, other = _info(tmp_path / "a"), _info(tmp_path / "b", "gradient-checking")
    assert one["uuid"] != other["uuid"]
    assert (one["title"], one["topic"]) == (BACKPROP.title, BACKPROP.title)
    assert (other["title"], other["topic"]) == (checking.title, checking.title)
    assert "backprop" in one["tags"] and "gradient-checking" in other["tags"]
    assert "gradient-checking" not in one["tags"] and "backprop" not in other["tags"]


def test_a_question_written_again_has_a_new_uuid_unless_asked_to_keep_it(tmp_path):
    out = tmp_path / "pl"
    make_question.build(out, "x")
    first = _info(out)["uuid"]
    make_question.build(out, "x")
    second = _info(out)["uuid"]
    assert second != first  # a copy for another course, say: never the same question twice
    make_question.build(out, "x", keep_uuid=True)
    assert _info(out)["uuid"] == second  # the same question, updated
    make_question.build(out, "x", question_uuid=first.upper())
    assert _info(out)["uuid"] == first

    command = [sys.executable, str(ROOT / "prairielearn" / "make_question.py"), "--image", "x"]
    done = subprocess.run([*command, str(out), "--keep-uuid"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"question UUID {first} (kept)" in done.stdout and _info(out)["uuid"] == first
    refused = {
        "--keep-uuid: no question was written here before": [str(tmp_path / "empty"), "--keep-uuid"],
        "--uuid 'course-7' is not a UUID": [str(out), "--uuid", "course-7"],
        "--uuid and --keep-uuid: give one or the other": [str(out), "--uuid", first, "--keep-uuid"],
    }
    for message, arguments in refused.items():
        done = subprocess.run([*command, *arguments], capture_output=True, text=True)
        assert done.returncode == 2 and message in done.stderr, (message, done.stderr)
    assert not (tmp_path / "empty").exists() and _info(out)["uuid"] == first
