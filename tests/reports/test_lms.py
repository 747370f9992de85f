"""Grade files Canvas and Moodle import without edits, checked column by column against their
documented formats (see grader/lms.py and the README); nobody dropped silently. The class hands
in the tiny assignment (tests/data): the files' formats are the same for any."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest

from conftest import TINY, TINY_ARGS, TINY_SOLUTION, points, run_cli, with_tiny_solution

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
    assert set(by_id) == {"Participant 33333", "Participant 33334"}
    ann = by_id["Participant 33333"]
    assert ann["Full name"] == "Ann Lee"
    assert (ann["Grade"], ann["Maximum Grade"]) == (f"{BOB_SCORE:.2f}", f"{FULL:.2f}")
    assert ann["Feedback comments"].startswith(f"{BOB_SCORE:g} / {FULL:g}\nnorm (0 / {points('norm', of=TINY):g}): ")
    assert by_id["Participant 33334"]["Grade"] == f"{FULL:.2f}"

    # Moodle's importer skips a grade older than the one it holds: the grade's time is now.
    stamp = datetime.strptime(ann["Last modified (grade)"], "%A, %d %B %Y, %I:%M %p")
    assert abs((datetime.now() - stamp).total_seconds()) < 3600
    for name in ("smithjane (12345)", "doejohn (22222)", "kimlee (44444)", "alice"):
        assert name in stderr


@pytest.mark.sandbox
def test_the_gradebook_and_json_keep_who_is_who_in_the_lms(download):
    import json

    done = run_cli(str(download), *TINY_ARGS, "--no-cache", "--format", "json", "--timeout", "5")
    rows = {r["student"]: r for r in json.loads(done.stdout)["submissions"]}
    assert rows["doejohn (22222)"]["lms"] == {"system": "canvas", "id": "22222"}
    assert rows["doejohn (22222)"]["late"] is True
    assert rows["Ann Lee (33333)"]["lms"] == {"system": "moodle", "id": "33333"}
    assert rows["alice"]["lms"] is None
