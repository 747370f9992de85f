"""The `grade` command as a user runs it: report shape, exit status, a clean stdout."""

import json

import pytest

from conftest import BACKPROP, ROOT, run_cli, run_json, with_solution

SOLUTION_PATH = str(ROOT / "solutions" / "backprop" / "backprop.py")
STUB_PATH = str(ROOT / "exercises" / "backprop" / "backprop.py")


@pytest.mark.sandbox
def test_model_answer_scores_full_marks_in_the_json_report():
    report = run_json(SOLUTION_PATH)
    assert report["assignment"] == "backprop" and report["seed"] == 0
    (submission,) = report["submissions"]
    assert submission["student"] == "backprop" and submission["path"] == SOLUTION_PATH
    assert (submission["status"], submission["error"]) == ("graded", None)
    assert submission["score"] == submission["max_score"] == BACKPROP.max_score
    for question in submission["questions"]:
        assert set(question) >= {"id", "worksheet", "score", "max_score", "status", "feedback"}
        assert question["status"] == "passed" and question["score"] == question["max_score"]


@pytest.mark.sandbox
def test_untouched_stub_scores_zero_and_is_still_graded():
    (submission,) = run_json(STUB_PATH)["submissions"]
    assert (submission["status"], submission["score"]) == ("graded", 0)
    statuses = {q["id"]: q["status"] for q in submission["questions"]}
    assert statuses.pop("a2_rows_and_columns") == "wrong"  # constants left at None
    assert set(statuses.values()) == {"raised"}


@pytest.mark.sandbox
def test_table_shows_each_question_with_its_worksheet_reference_and_the_total():
    result = run_cli(SOLUTION_PATH)
    assert result.returncode == 0
    assert "dJdW2" in result.stdout and "Q11, Q14-Q16" in result.stdout
    assert f"total: {BACKPROP.max_score:g} / {BACKPROP.max_score:g}" in result.stdout


@pytest.mark.sandbox
def test_student_prints_never_reach_stdout(tmp_path):
    noisy = with_solution(
        "import sys\n"
        "print('HELLO FROM THE STUDENT ' * 50)\n"
        "sys.stderr.write('ERR FROM THE STUDENT\\n')\n"
        "_dz3dW2 = dz3dW2\n"
        "def dz3dW2(a2):\n"
        "    print('{not json')\n"
        "    return _dz3dW2(a2)\n"
    )
    path = tmp_path / "noisy.py"
    path.write_text(noisy)
    result = run_cli(str(path), "--format", "json")
    assert result.returncode == 0
    report = json.loads(result.stdout)  # still valid JSON
    excerpt = report["submissions"][0].pop("output")
    assert "STUDENT" not in json.dumps(report) and "STUDENT" not in result.stderr
    assert report["submissions"][0]["score"] == BACKPROP.max_score
    assert "HELLO FROM THE STUDENT" in excerpt  # kept, capped, for the feedback
    assert len(excerpt) < 5000


@pytest.mark.sandbox
def test_seed_is_reported_and_changes_nothing_for_a_right_answer():
    report = run_json(SOLUTION_PATH, "--seed", "42")
    assert report["seed"] == 42 and report["submissions"][0]["score"] == BACKPROP.max_score


@pytest.mark.sandbox
def test_syntax_error_exits_zero_with_status_error(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def forward(:\n")
    (submission,) = run_json(str(path))["submissions"]
    assert submission["status"] == "error" and "line 1" in submission["error"]


@pytest.mark.sandbox
def test_missing_path_is_a_one_line_error_and_a_nonzero_exit(tmp_path):
    result = run_cli(str(tmp_path / "nope.py"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "nope.py" in result.stderr


@pytest.mark.sandbox
def test_bad_option_is_a_usage_error():
    result = run_cli(SOLUTION_PATH, "--timeout", "soon")
    assert result.returncode == 2 and "Traceback" not in result.stderr


@pytest.mark.sandbox
def test_sandbox_info_lists_the_protections_in_force():
    result = run_cli("--sandbox-info")
    assert result.returncode == 0
    assert "[x] a separate process for every submission" in result.stdout
    assert "[x] memory limit: 1024 MB" in result.stdout
    import os

    if os.geteuid() == 0:
        assert "[x] runs as a user of the grader's own, one per worker" in result.stdout
        assert "[x] own PID namespace" in result.stdout


def test_every_command_has_help_with_an_example():
    from click.testing import CliRunner

    from grader.cli import main

    for name, command in main.commands.items():
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example:" in result.output, name


@pytest.mark.sandbox
def test_a_path_named_like_nothing_special_runs_the_default_command(tmp_path):
    (tmp_path / "keyboard.py").write_text("")
    result = run_cli(str(tmp_path / "keyboard.py"), "--format", "json")
    assert json.loads(result.stdout)["submissions"][0]["error"] == "the file is empty"


@pytest.mark.sandbox
def test_a_report_written_to_dev_stdout_grades_as_to_a_file():
    # `-o /dev/stdout` once named /dev as the report's private folder: hidden from the
    # submission, /dev/null and /dev/urandom went with it and every sandbox failed to start.
    result = run_cli(SOLUTION_PATH, "--format", "csv", "-o", "/dev/stdout")
    assert result.returncode == 0, result.stderr
    (row,) = [line for line in result.stdout.splitlines() if line.startswith("backprop,")]
    assert f",graded,{BACKPROP.max_score:g},{BACKPROP.max_score:g}," in row and "sandbox failure" not in row


def test_every_format_is_a_choice_with_its_help_and_renders_a_run():
    """The registry is walked, as the command walks it: each format is offered by `--format`,
    said in `--help`, and renders a run (here of results that were never graded)."""
    from grader import assignment
    from grader.reports.formats import FORMATS, GradedRun, help_text
    from grader.reports.lms import LeftOut
    from grader.reports.summary import ClassStats
    from grader.reports.table import submission_json
    from grader.results import SubmissionResult

    backprop = assignment.load("backprop")
    usage = run_cli("run", "--help").stdout
    assert "[" + "|".join(FORMATS) + "]" in usage.replace("\n", "").replace(" ", "")
    for name, chosen in FORMATS.items():
        assert f"{name}: " in help_text() or f"{name}, " in help_text()
        results = [SubmissionResult(student, f"{student}.py", error="not graded", possible=backprop.max_score)
                   for student in (["ann"] if chosen.one_submission else ["ann", "ben"])]
        summary = ClassStats(backprop) if chosen.summary else None
        for result in results:
            if summary is not None:
                summary.add(result)
        run = GradedRun(backprop, 0, len(results), lambda results=results: iter(results),
                        lambda results=results: iter(map(submission_json, results)), summary)
        left_out = LeftOut()
        text = "".join(chosen.render(run, left_out))
        assert text.strip(), name
        assert chosen.one_submission or "ben" in text or "ben" in left_out.unknown, (name, text)
