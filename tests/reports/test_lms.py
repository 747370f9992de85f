"""Grade files Canvas and Moodle import without edits, checked column by column against their
documented formats (see grader/lms.py and the README); nobody dropped silently. The class hands
in the tiny assignment (tests/data): the files' formats are the same for any."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import TINY, TINY_ARGS, TINY_SOLUTION, points, run_cli, with_tiny_solution
from grader.reports import lms
from grader.results import CaseResult, QuestionResult, Status, SubmissionResult

BOB = with_tiny_solution("def norm(v):\n    return np.sum(square(v))\n")  # its norm wrong, and only that
FULL, BOB_SCORE = TINY.max_score, TINY.max_score - points("norm", of=TINY)


@pytest.fixture(scope="module")
def download(tmp_path_factory) -> Path:
    """A folder holding a Canvas download, a Moodle one and a file from neither."""
    root = tmp_path_factory.mktemp("download")
    (root / "smithjane_12345_6789012_tiny.py").write_text(TINY_SOLUTION)
    (root / "doejohn_LATE_22222_7000001_tiny.py").write_text(BOB)
    (root / "kimlee_44444_7000002_tiny.py").write_text("def square(:\n")
    moodle = root / "Ann Lee_33333_assignsubmission_file_"
    moodle.mkdir()
    (moodle / "tiny.py").write_text(BOB)
    (root / "Bo Chen_33334_assignsubmission_file_").mkdir()
    (root / "Bo Chen_33334_assignsubmission_file_" / "tiny.py").write_text(TINY_SOLUTION)
    (root / "Cy Park_33335_assignsubmission_file_").mkdir()
    (root / "Cy Park_33335_assignsubmission_file_" / "tiny.py").write_text("def square(:\n")
    (root / "alice.py").write_text(TINY_SOLUTION)
    return root


def _grade(download: Path, *args: str):
    done = run_cli(str(download), *TINY_ARGS, "--no-cache", "--timeout", "5", *args)
    assert done.returncode == 0, done.stderr
    return list(csv.reader(io.StringIO(done.stdout))), done.stderr


@pytest.mark.sandbox
def test_the_canvas_file_is_canvas_gradebook_import_format(download):
    rows, stderr = _grade(download, "--format", "canvas")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", TINY.title]
    assert rows[1] == ["    Points Possible", "", "", "", "", f"{FULL:g}"]
    by_id = {row[1]: row for row in rows[2:]}
    assert by_id == {"12345": ["smithjane", "12345", "", "", "", f"{FULL:g}"],
                     "22222": ["doejohn", "22222", "", "", "", f"{BOB_SCORE:g}"],
                     "44444": ["kimlee", "44444", "", "", "", ""]}
    unknown = next(line for line in stderr.splitlines() if line.startswith("not in the Canvas file"))
    assert all(name in unknown for name in ("Ann Lee (33333)", "alice", "Bo Chen (33334)"))
    assert "in the Canvas file with no grade (could not be graded; see the report): kimlee (44444)" in stderr


@pytest.mark.sandbox
def test_the_canvas_column_is_the_assignment_named(download):
    rows, _ = _grade(download, "--format", "canvas", "--assignment-name", "HW 3: vectors")
    assert rows[0][5] == "HW 3: vectors"


@pytest.mark.sandbox
def test_the_moodle_file_is_moodles_offline_grading_worksheet(download):
    rows, stderr = _grade(download, "--format", "moodle")
    assert rows[0] == ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
                       "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
                       "Feedback comments"]
    by_id = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert set(by_id) == {"Participant 33333", "Participant 33334", "Participant 33335"}
    ann = by_id["Participant 33333"]
    assert ann["Full name"] == "Ann Lee"
    assert (ann["Grade"], ann["Maximum Grade"]) == (f"{BOB_SCORE:.2f}", f"{FULL:.2f}")
    # Moodle stores the comment as HTML: its lines are <br>, not newlines it would run together.
    assert ann["Feedback comments"].startswith(f"{BOB_SCORE:g} / {FULL:g}<br>norm (0 / {points('norm', of=TINY):g}): ")
    assert "\n" not in ann["Feedback comments"]
    assert by_id["Participant 33334"]["Grade"] == f"{FULL:.2f}"
    # A hand-in that could not be graded: no grade, and the student is told why.
    cy = by_id["Participant 33335"]
    assert cy["Grade"] == "" and cy["Feedback comments"].startswith("Not graded: SyntaxError")

    # Moodle's importer skips a grade older than the one it holds: the grade's time is now, in
    # UTC and saying so (Moodle's strtotime would read a time without a zone in the server's).
    stamp = datetime.strptime(ann["Last modified (grade)"], "%A, %d %B %Y, %I:%M %p UTC")
    assert abs((datetime.now(timezone.utc).replace(tzinfo=None) - stamp).total_seconds()) < 3600
    for name in ("smithjane (12345)", "doejohn (22222)", "kimlee (44444)", "alice"):
        assert name in stderr
    assert "in the Moodle file with no grade (could not be graded; see the report): Cy Park (33335)" in stderr


@pytest.mark.sandbox
def test_grades_are_scaled_to_the_lms_maximum_on_request(download):
    rows, _ = _grade(download, "--format", "canvas", "--lms-points", "100")
    assert rows[1][5] == "100"
    assert {row[1]: row[5] for row in rows[2:]}["22222"] == f"{round(BOB_SCORE * 100 / FULL, 2):g}"
    rows, _ = _grade(download, "--format", "moodle", "--lms-points", "100")
    ann = dict(zip(rows[0], next(row for row in rows if row[0] == "Participant 33333")))
    assert (ann["Grade"], ann["Maximum Grade"]) == (f"{BOB_SCORE * 100 / FULL:.2f}", "100.00")


@pytest.mark.sandbox
def test_the_gradebook_and_json_keep_who_is_who_in_the_lms(download):
    import json

    done = run_cli(str(download), *TINY_ARGS, "--no-cache", "--format", "json", "--timeout", "5")
    rows = {r["student"]: r for r in json.loads(done.stdout)["submissions"]}
    assert rows["doejohn (22222)"]["lms"] == {"system": "canvas", "id": "22222"}
    assert rows["doejohn (22222)"]["late"] is True
    assert rows["Ann Lee (33333)"]["lms"] == {"system": "moodle", "id": "33333"}
    assert rows["alice"]["lms"] is None


# --- the renderers alone: what Moodle's importer does with each column ---------------------

def _result(feedback: str = "", error: str | None = None) -> SubmissionResult:
    """A Moodle participant's result: every question of the tiny assignment right but `norm`."""
    questions = tuple(
        QuestionResult(q, (CaseResult("c", "case", Status.WRONG if q.id == "norm" else Status.PASSED),),
                       feedback if q.id == "norm" else "correct")
        for q in TINY.questions)
    return SubmissionResult("Ann Lee (33333)", "tiny.py", error=error, questions=() if error else questions,
                            lms=("moodle", "33333"), possible=TINY.max_score)


def _moodle_row(result: SubmissionResult, **options) -> dict[str, str]:
    text = "".join(lms.moodle_chunks([result], TINY.max_score, lms.LeftOut(), **options))
    header, row = csv.reader(io.StringIO(text))
    return dict(zip(header, row))


def test_moodle_comments_are_escaped_html_a_line_each():
    """Moodle's importer stores the comment as HTML (FORMAT_HTML): a newline would vanish and
    a student's `<b>` in an error message would be markup."""
    comment = _moodle_row(_result("wrong on 1 of 1 case\nyour norm returned <b>'a & b'</b>"))["Feedback comments"]
    norm = points("norm", of=TINY)
    assert comment == (f"{FULL - norm:g} / {FULL:g}<br>norm (0 / {norm:g}): wrong on 1 of 1 case<br>"
                       "your norm returned &lt;b&gt;&#x27;a &amp; b&#x27;&lt;/b&gt;")


def test_a_student_who_could_not_be_graded_is_told_why():
    row = _moodle_row(_result(error="SyntaxError: invalid syntax (tiny.py, line 1) <here>"))
    assert row["Grade"] == "" and row["Feedback comments"] == \
        "Not graded: SyntaxError: invalid syntax (tiny.py, line 1) &lt;here&gt;"


def test_the_grades_time_is_written_in_utc_and_says_so():
    """Moodle reads "Last modified (grade)" with PHP's strtotime, in the server's zone unless
    the text names one; its own layout with "UTC" after it is read as UTC."""
    berlin = timezone(timedelta(hours=2))
    assert lms.moodle_time(datetime(2024, 5, 1, 14, 34, tzinfo=berlin)) == "Wednesday, 01 May 2024, 12:34 PM UTC"
    assert lms.moodle_time(datetime(2024, 5, 1, 0, 5, tzinfo=timezone.utc)) == "Wednesday, 01 May 2024, 12:05 AM UTC"
    assert lms.moodle_time(datetime(2024, 12, 29, 23, 59, tzinfo=timezone.utc)) == "Sunday, 29 December 2024, 11:59 PM UTC"
    row = _moodle_row(_result(), now=datetime(2024, 5, 1, 14, 34, tzinfo=berlin))
    assert row["Last modified (grade)"] == "Wednesday, 01 May 2024, 12:34 PM UTC"


def test_scaled_to_the_lms_maximum_the_comment_still_counts_the_assignments_points():
    row = _moodle_row(_result("wrong"), lms_points=100)
    scaled = round((FULL - points("norm", of=TINY)) * 100 / FULL, 2)
    assert (row["Grade"], row["Maximum Grade"]) == (f"{scaled:.2f}", "100.00")
    assert row["Feedback comments"].startswith(
        f"{FULL - points('norm', of=TINY):g} / {FULL:g} (a grade of {scaled:g} / 100)<br>")
    canvas = list(csv.reader(io.StringIO("".join(lms.canvas_chunks(
        [_result("wrong")], "HW", TINY.max_score, lms.LeftOut(), lms_points=100)))))
    assert canvas[1][5] == "100"


def test_lms_points_is_refused_for_a_format_that_is_not_an_lms_file():
    from click.testing import CliRunner

    from grader.cli import main

    done = CliRunner().invoke(main, ["run", "nowhere.py", *TINY_ARGS, "--format", "csv", "--lms-points", "100"])
    assert done.exit_code == 2 and "--lms-points scales the grades of --format canvas or moodle" in done.output
