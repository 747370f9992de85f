"""Where instructors and students already work: Gradescope, Jupyter, LMS downloads, HTML."""

import html
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from conftest import BACKPROP, ROOT, SOLUTION, notebook_text, points, run_cli, with_solution
from grader import assignment
from grader.intake.discovery import discover, lms_student
from grader.reports import gradescope

BOB = (ROOT / "examples" / "class" / "bob.py").read_text()
BOB_SCORE = BACKPROP.max_score - points("dJdW2")  # the worksheet's Q11 mistake: left out delta(3)


# 1. Gradescope
def _check_results_json(document: dict) -> None:
    """Field by field, as the autograder specification defines results.json."""
    assert isinstance(document["score"], float)
    assert isinstance(document["execution_time"], int) and document["execution_time"] >= 1
    assert isinstance(document["output"], str)
    assert document["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert document["stdout_visibility"] in ("hidden", "visible")
    assert len(document["tests"]) == len(BACKPROP.questions)
    for number, test in enumerate(document["tests"], start=1):
        assert set(test) == {"name", "number", "score", "max_score", "status", "output", "visibility"}
        assert test["number"] == str(number)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        assert test["visibility"] == "visible" and test["output"]
    assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))


@pytest.mark.sandbox
def test_format_gradescope_prints_a_results_json(tmp_path):
    path = tmp_path / "bob.py"
    path.write_text(BOB)
    result = run_cli(str(path), "--format", "gradescope")
    document = json.loads(result.stdout)
    _check_results_json(document)
    assert document["score"] == BOB_SCORE
    dJdW2 = next(t for t in document["tests"] if t["name"] == "dJdW2 (Q11, Q14-Q16)")
    assert dJdW2["status"] == "failed" and "delta(3) is left out" in dJdW2["output"]


@pytest.mark.sandbox
def test_format_gradescope_wants_one_submission(tmp_path):
    (tmp_path / "a.py").write_text(SOLUTION)
    (tmp_path / "b.py").write_text(SOLUTION)
    result = run_cli(str(tmp_path), "--format", "gradescope")
    assert result.returncode == 2 and "grades one submission" in result.stderr


@pytest.fixture
def autograder(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    return root


def _run_autograder(root: Path) -> dict:
    result = run_cli("gradescope", "--submission", str(root / "submission"),
                     "--results", str(root / "results" / "results.json"), "--timeout", "5")
    assert result.returncode == 0, result.stderr
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.sandbox
def test_grade_gradescope_grades_the_submitted_notebook(autograder):
    (autograder / "submission" / "backprop.ipynb").write_text(
        notebook_text("%matplotlib inline\n%load_ext autoreload", SOLUTION))
    (autograder / "submission" / "scratch.py").write_text("print('not this one')\n")
    document = _run_autograder(autograder)
    _check_results_json(document)
    assert document["score"] == BACKPROP.max_score
    assert "IPython syntax not run: cell 1, line 2: %load_ext autoreload" in document["output"]
    assert "%matplotlib" not in document["output"]  # honoured: it has nothing to do


@pytest.mark.sandbox
def test_grade_gradescope_writes_valid_results_even_with_nothing_to_grade(autograder):
    (autograder / "submission" / "answers.pdf").write_bytes(b"%PDF")
    document = _run_autograder(autograder)
    _check_results_json(document)
    assert document["score"] == 0.0
    assert "no .py or .ipynb file was submitted (found: answers.pdf)" in document["output"]


@pytest.mark.sandbox
def test_grade_gradescope_reports_a_broken_file_and_flags(autograder):
    (autograder / "submission" / "backprop.py").write_text("def forward(:\n")
    document = _run_autograder(autograder)
    _check_results_json(document)
    assert "could not be graded: SyntaxError" in document["output"]
    (autograder / "submission" / "backprop.py").write_text(
        with_solution("try:\n    import solutions\nexcept ImportError:\n    pass\n"))
    assert "Flagged for the instructor: imported solutions" in _run_autograder(autograder)["output"]


def test_the_autograder_zip_holds_what_gradescope_needs(tmp_path):
    target = tmp_path / "autograder.zip"
    subprocess.run([sys.executable, str(ROOT / "gradescope" / "make_autograder.py"), "-o", str(target)],
                   check=True, capture_output=True)
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        for script in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(script).external_attr >> 16
            assert mode & stat.S_IXUSR, script
        assert {"pyproject.toml", "grader/cli.py", "grader/sandbox/child/__main__.py", "solutions/backprop/backprop.py",
                "solutions/backprop/misconceptions.toml"} <= names
        assert not any("__pycache__" in name for name in names)
        assert "grader gradescope" in archive.read("run_autograder").decode()



def test_the_builders_commands_write_what_students_see_into_the_entrypoint(tmp_path):
    """`--feedback` and `--visibility` (Gradescope's), `--feedback` (PrairieLearn's, which has no
    per-test visibility) reach the command each platform runs; what they do there is tested
    where the bundles grade (tests/hostile/test_round3_reports.py, 6)."""
    target = tmp_path / "autograder.zip"
    done = subprocess.run([sys.executable, str(ROOT / "gradescope" / "make_autograder.py"), "-o", str(target),
                           "--feedback", "no-expected", "--visibility", "after_due_date", "--seed", "5"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "feedback no-expected, tests after_due_date" in done.stdout
    with zipfile.ZipFile(target) as archive:
        run = archive.read("run_autograder").decode()
    assert all(option in run for option in ("--feedback no-expected", "--visibility after_due_date", "--seed 5"))
    done = subprocess.run([sys.executable, str(ROOT / "prairielearn" / "make_question.py"), str(tmp_path / "pl"),
                           "--image", "x", "--feedback", "score-only", "--seed", "5"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = (tmp_path / "pl" / "serverFilesCourse" / "backprop_grader" / "run.sh").read_text()
    assert "--feedback score-only" in run and "--seed 5" in run
    refused = subprocess.run([sys.executable, str(ROOT / "gradescope" / "make_autograder.py"), "-o", str(target),
                              "--visibility", "sometimes"], capture_output=True, text=True)
    assert refused.returncode == 2 and "invalid choice: 'sometimes'" in refused.stderr

def test_gradescope_submission_preference(tmp_path):
    (tmp_path / "notes.py").write_text("")
    (tmp_path / "work.ipynb").write_text("{}")
    assert gradescope.find_submission(tmp_path, assignment.load("backprop")).graded.path.name == "work.ipynb"
    (tmp_path / "backprop.py").write_text("")
    assert gradescope.find_submission(tmp_path, assignment.load("backprop")).graded.path.name == "backprop.py"


# 2. Jupyter self-check, in a real kernel
def test_check_in_an_executed_notebook(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    from grader.selfcheck import handout as student_check

    # The kernel imports this checkout's grader, not whichever copy this machine has installed.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))

    # The student notebook's own check cells use the file students are given.
    (tmp_path / "backprop_check.py").write_text(student_check.build(student_check.DEFAULT_PUBLIC_SEED, student_check.DEFAULT_SEEDED, None, None, BACKPROP))
    notebook = nbformat.read(ROOT / "exercises" / "backprop" / "backprop.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(BOB))
    notebook.cells.append(nbformat.v4.new_code_cell("from grader import check\ncheck('dJdW2')"))
    notebook.cells.append(nbformat.v4.new_code_cell("card = check()\nprint(card.score)\ncard"))
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    one, everything = notebook.cells[-2], notebook.cells[-1]
    html = one.outputs[0]["data"]["text/html"]
    dJdW2 = points("dJdW2")
    assert "<code>dJdW2</code>" in html and f"0 / {dJdW2:g}" in html and "<code>forward</code>" not in html
    assert f"self-check: 0 / {dJdW2:g}" in one.outputs[0]["data"]["text/plain"]
    printed = next(o for o in everything.outputs if o.get("name") == "stdout")["text"]
    assert float(printed) == BOB_SCORE
    table = next(o for o in everything.outputs if "data" in o)["data"]["text/html"]
    # a row per question, and the header's and the total's
    assert table.count("<tr>") == len(BACKPROP.questions) + 2 and "right given your own dJdW2" in table



def test_check_names_a_mistyped_question():
    from grader import check

    with pytest.raises(KeyError, match="no question 'dJdW3'"):
        check("dJdW3", namespace={})
    with pytest.raises(KeyError, match="no function answers worksheet question Q40"):
        check("Q40", namespace={})


# 3. The series' own class: tests/scenarios/series_neural_network_class.py


# 4. LMS downloads
@pytest.mark.parametrize("name, expected", [
    ("smithjane_12345_6789012_backprop.py", ("smithjane (12345)", 6789012)),
    ("smithjane_LATE_12345_6789012_backprop-1.ipynb", ("smithjane (12345)", 6789012)),
    ("Jane Smith_12345_assignsubmission_file_", ("Jane Smith (12345)", 0)),
    ("Jane Smith_12345_assignsubmission_file_backprop.py", ("Jane Smith (12345)", 0)),
    ("alice.py", None),
    ("backprop_v2.py", None),
])
def test_lms_names_are_parsed(name, expected):
    assert lms_student(name) == expected


def test_an_lms_download_is_one_row_per_student_with_the_latest_file(tmp_path):
    (tmp_path / "smithjane_12345_6789012_backprop.py").write_text("x = 1\n")
    (tmp_path / "smithjane_12345_6789099_backprop-1.py").write_text(SOLUTION)
    (tmp_path / "doejohn_LATE_22222_7000001_backprop.py").write_text(SOLUTION)
    moodle = tmp_path / "Ann Lee_33333_assignsubmission_file_"
    moodle.mkdir()
    (moodle / "draft.py").write_text("x = 1\n")
    os.utime(moodle / "draft.py", (1_000_000_000, 1_000_000_000))
    (moodle / "final.py").write_text(SOLUTION)
    (tmp_path / "Ann Lee_33333_assignsubmission_onlinetext_").mkdir()
    entries = {e.student: e for e in discover([tmp_path], BACKPROP)}
    assert set(entries) == {"smithjane (12345)", "doejohn (22222)", "Ann Lee (33333)"}
    assert entries["smithjane (12345)"].path.name == "smithjane_12345_6789099_backprop-1.py"
    assert entries["Ann Lee (33333)"].path.name == "final.py"
    assert all(e.error is None for e in entries.values())


# 5. The HTML class report
class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]

    def handle_data(self, data):
        self.text.append(data)


@pytest.mark.sandbox
def test_the_html_report_is_one_self_contained_page(tmp_path):
    page_path = tmp_path / "class.html"
    result = run_cli(str(ROOT / "examples" / "class"), "--html", str(page_path), "-q")
    assert result.returncode == 0, result.stderr
    page = _Page()
    page.feed(page_path.read_text())
    assert page.links and all(link.startswith("#") for link in page.links)  # nothing fetched at view time
    assert page.tags.count("svg") == 2 and page.tags.count("script") == 0
    text = " ".join(page.text)
    assert "8 submissions, 6 graded, 2 could not be graded" in text
    assert "1 left out delta(3)" in text and "alice" in text and "not graded" in text


@pytest.mark.sandbox
def test_the_html_report_links_every_student_to_their_feedback_and_shows_the_notes(tmp_path):
    import html as html_module

    page_path = tmp_path / "class.html"
    table = run_cli(str(ROOT / "examples" / "class"), "--html", str(page_path), "-q", "--no-cache")
    text = page_path.read_text()
    page = _Page()
    page.feed(text)
    anchors = [link[1:] for link in page.links if link.startswith("#student-")]
    assert len(anchors) >= 8 and all(f'<section id="{a}">' in text for a in anchors)
    # Every note of the text report (load errors, lines set aside, which file was graded)...
    notes = table.stdout.split("\nnotes:\n")[1].split("\n\n")[0].splitlines()
    assert len(notes) >= 6
    for line in notes:
        student, _, note = line.strip().partition(": ")
        assert html_module.escape(note) in text, note  # ...is on the page
    # The histogram has its axes: counts of students, and the total score.
    assert ">students</text>" in text and ">total score</text>" in text


@pytest.mark.sandbox
def test_feedback_files_carry_no_path_of_the_instructors_machine(tmp_path):
    klass = tmp_path / "my-course-2026" / "class"
    shutil.copytree(ROOT / "examples" / "class", klass)
    feedback = tmp_path / "feedback"
    run_cli(str(klass), "--feedback-dir", str(feedback), "-q", "--no-cache")
    files = list(feedback.glob("*.md"))
    assert len(files) == 8
    for file in files:
        content = file.read_text()
        assert str(tmp_path) not in content and "my-course-2026" not in content, file.name
        assert str(ROOT) not in content and "/root" not in content, file.name


@pytest.mark.sandbox
@pytest.mark.skipif(not shutil.which("chromium"), reason="needs Debian's chromium (.ci/run installs it)")
def test_the_html_report_as_a_person_sees_it_in_a_browser(tmp_path):
    """Laid out by a real browser 1280 pixels wide and 390 (a phone's): the page never scrolls
    sideways; at 1280 every student's total and the whole gradebook are on screen, at 390 the
    gradebook scrolls inside its own box and the charts shrink to fit; each name's link leads
    to that student's feedback; and a picture is made at each width."""
    page_path = tmp_path / "class.html"
    run_cli(str(ROOT / "examples" / "class"), "--html", str(page_path), "-q", "--no-cache")
    # The measurements are taken by a script added to a copy: the report itself has none.
    # Headless Chromium makes no window narrower than 500 pixels for --dump-dom, so each width
    # is an iframe's (a viewport as exact as a window's), whose script posts what it measured
    # to the page around it.
    (tmp_path / "probe.html").write_text(page_path.read_text().replace("</body>", _MEASURE + "</body>"))
    frames = tmp_path / "frames.html"
    frames.write_text(_FRAMES)
    browser = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'profile'}"]
    done = subprocess.run([*browser, "--window-size=1720,1000", "--virtual-time-budget=5000", "--dump-dom",
                           frames.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r'data-seen="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    seen = {s["window"]: s for s in json.loads(html.unescape(found.group(1)))}
    assert set(seen) == {1280, 390}, seen
    for width, s in seen.items():
        assert s["page_width"] <= s["viewport"] <= width, s  # no sideways scrolling of the page
        assert s["rows"] == 8 and s["links"] == s["rows"] and s["targets"] == s["rows"], s
        assert all(0 < right <= s["viewport"] for right in s["outside_boxes"]), s
    wide, phone = seen[1280], seen[390]
    assert max(wide["totals_right"]) <= wide["viewport"], wide
    assert wide["gradebook"][0] <= wide["gradebook"][1], wide  # the whole gradebook: nothing to scroll
    assert phone["gradebook"][0] > phone["gradebook"][1], phone  # the gradebook's box scrolls, not the page
    assert all(width > 300 and height > 150 for width, height in wide["charts"]), wide
    assert all(250 < width <= phone["viewport"] and height > 150 for width, height in phone["charts"]), phone
    for width in (1280, 390):
        shot = tmp_path / f"shot-{width}.png"
        subprocess.run([*browser, f"--window-size={width},2000", f"--screenshot={shot}", page_path.as_uri()],
                       capture_output=True, timeout=120)
        header = shot.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        assert (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")) == (width, 2000)


_FRAMES = """<!DOCTYPE html><html><body style="margin: 0">
<script>const seen = [];
addEventListener("message", e => { seen.push(JSON.parse(e.data));
                                   document.body.setAttribute("data-seen", JSON.stringify(seen)); });</script>
<iframe src="probe.html" style="border: 0; width: 1280px; height: 900px"></iframe>
<iframe src="probe.html" style="border: 0; width: 390px; height: 844px"></iframe>
</body></html>"""

_MEASURE = """<script>
const page = document.documentElement;
const rows = [...document.querySelectorAll("table.gradebook tbody tr")];
const box = document.querySelector("table.gradebook").parentElement;
const seen = {
  window: window.innerWidth,
  viewport: page.clientWidth,
  page_width: page.scrollWidth,
  // How far right each element outside a table's scrolling box reaches.
  outside_boxes: [...document.body.querySelectorAll("*")].filter(e => !e.closest(".scroll"))
                   .map(e => Math.ceil(e.getBoundingClientRect().right)).filter(right => right > 0),
  rows: rows.length,
  totals_right: rows.map(r => Math.round(r.children[1].getBoundingClientRect().right)),
  gradebook: [box.scrollWidth, box.clientWidth],
  links: rows.filter(r => r.querySelector("a")).length,
  targets: rows.filter(r => { const a = r.querySelector("a");
                              return a && document.getElementById(a.getAttribute("href").slice(1)); }).length,
  charts: [...document.querySelectorAll("svg")].map(s => [s.getBoundingClientRect().width,
                                                          s.getBoundingClientRect().height]),
};
parent.postMessage(JSON.stringify(seen), "*");
</script>"""
