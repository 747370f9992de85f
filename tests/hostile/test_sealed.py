"""The answer key stays sealed where the grader really runs: Gradescope's layout, built as its
documentation describes it in a temporary root (the autograder zip unpacked in
autograder/source, the real setup.sh run as root with a Python of the layout's own, the real
run_autograder per submission); links and special files refused; gradebook cells safe."""

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from conftest import BACKPROP, ROOT, SOLUTION, run_cli, shared_folder

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs its autograder as root")

# A line only the model answer has: its presence in anything a student sees is a leak.
MODEL_LINE = "return dJdW1(X, d2), dJdW2(a2, d3)"


def _runtime_distributions() -> set[str]:
    """The grader's runtime dependencies, transitively, as installed here."""
    seen, todo = set(), ["backprop-grader"]
    while todo:
        name = todo.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a dependency for another Python version
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        for requirement in dist.requires or ():
            if "extra ==" not in requirement:
                todo.append(requirement.split(";")[0].split("[")[0].split(">")[0].split("<")[0]
                            .split("=")[0].split("!")[0].split("~")[0].strip())
    return seen - {"backprop-grader"}


def _layout_python(root: Path) -> Path:
    """A Python for the layout: a venv that sees the grader's dependencies (linked from this
    Python's) and pip, but no copy of the grader: the layout's setup.sh installs that."""
    venv = root / "python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    deps = root / "deps"
    deps.mkdir()
    system_site = Path(sysconfig.get_paths()["purelib"])
    for name in _runtime_distributions() | {"pip"}:
        dist = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops:
            if (system_site / top).exists() and not (deps / top).exists():
                (deps / top).symlink_to(system_site / top)
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "layout-deps.pth").write_text(f"{deps}\n")
    return venv / "bin"


def _modes_of_this_machines_copies() -> dict[str, int]:
    """The mode of every file of each copy this Python's grader knows of: the layout's Python is
    a venv of this one, so its `grade seal` finds (and rightly seals) a copy pip installed here."""
    from grader.sandbox import key_copies as copies

    modes = {}
    for copy in copies.package_copies():
        for folder, _, files in os.walk(copy):
            for path in [folder, *(os.path.join(folder, name) for name in files)]:
                modes[path] = os.lstat(path).st_mode
    return modes


def _put_back(modes: dict[str, int]) -> None:
    for path, mode in modes.items():
        try:
            if os.lstat(path).st_mode != mode:
                os.chmod(path, stat.S_IMODE(mode))
        except OSError:
            pass


@pytest.fixture(scope="module")
def gradescope_root():
    """autograder.zip unpacked in <root>/autograder/source, setup.sh run (pip install, seal),
    the folders Gradescope makes; removed afterwards."""
    # Somewhere any user may walk through, as anyone may walk into /autograder: a test in a
    # folder the student's user can't enter would pass whatever the grader did.
    root = shared_folder("gradescope-layout-")
    machine = _modes_of_this_machines_copies()
    try:
        sys.path.insert(0, str(ROOT / "gradescope"))
        import make_autograder

        archive = root / "autograder.zip"
        make_autograder.build(archive)
        source = root / "autograder" / "source"
        source.mkdir(parents=True)
        with zipfile.ZipFile(archive) as unpacked:
            unpacked.extractall(source)
        for folder in (root / "autograder", source):
            folder.chmod(0o755)
        for script in ("setup.sh", "run_autograder"):
            (source / script).chmod(0o755)
        for name in ("submission", "results"):
            (root / "autograder" / name).mkdir()
        bin_dir = _layout_python(root)
        env = {**os.environ, "AUTOGRADER": str(root / "autograder"),
               "PATH": f"{bin_dir}:{os.environ['PATH']}"}
        env.pop("PYTHONPATH", None)
        done = subprocess.run(["bash", str(source / "setup.sh")], env=env, capture_output=True,
                              text=True, timeout=600, cwd=ROOT)  # a checkout beside it: untouched
        assert all(os.stat(ROOT / name).st_mode & 0o005 == 0o005 for name in ("grader", "solutions"))
        assert done.returncode == 0, done.stdout + done.stderr
        yield root, env
    finally:
        shutil.rmtree(root, ignore_errors=True)
        _put_back(machine)  # the test leaves this machine's install as it found it


def _site_copies(root: Path) -> list[Path]:
    return sorted(p for p in (root / "python").rglob("site-packages/*")
                  if p.name == "grader")


def _sandbox_info(root: Path, env: dict, namespaces: bool = True, landlock: bool = True) -> str:
    env = {**env, "BACKPROP_GRADER_NAMESPACES": "1" if namespaces else "0",
           "BACKPROP_GRADER_LANDLOCK": "1" if landlock else "0"}
    done = subprocess.run(["python3", "-m", "grader", "--sandbox-info"], cwd=root / "autograder" / "source",
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _readable_in_layout(info: str, root: Path) -> list[str]:
    """The copies inside the layout that sandbox-info calls readable. (The layout's Python is a
    venv of the test machine's, so it also finds, and rightly reports, the test machine's own
    checkout, which only namespaces or Landlock hide: not the layout's business.)"""
    return [line for line in info.splitlines()
            if "READABLE by student code" in line and line.strip().startswith(os.path.realpath(root))]


def _run_autograder(root: Path, env: dict, source: str, name: str = "backprop.py",
                    namespaces: bool = True) -> dict:
    submission = root / "autograder" / "submission"
    shutil.rmtree(submission)
    submission.mkdir()
    (submission / name).write_text(source)
    env = {**env, "BACKPROP_GRADER_NAMESPACES": "1" if namespaces else "0"}
    done = subprocess.run([str(root / "autograder" / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "autograder" / "results" / "results.json").read_text())


# A submission that looks for the model answer along sys.path and where Gradescope keeps it,
# and raises what it finds, so that its own feedback would show it.
HUNTER = SOLUTION.replace("def forward(", "def _model_forward(") + '''

import os as _os
import sys as _sys


def _hunt():
    places = [p for p in _sys.path if p] + [_os.getcwd(), {autograder!r}]
    for place in places:
        for root, _, files in _os.walk(place):
            for name in files:
                if name == "backprop.py" or name.endswith(".toml"):
                    try:
                        with open(_os.path.join(root, name)) as handle:
                            text = handle.read()
                    except OSError:
                        continue
                    if "def cost_function_prime" in text and "def _hunt" not in text:  # not itself
                        return text
    return ""


def forward(X, W1, W2):
    found = _hunt()
    if found:
        raise RuntimeError(found[-3000:])
    return _model_forward(X, W1, W2)
'''


@pytest.mark.sandbox
@root_only
def test_every_copy_in_the_gradescope_layout_is_found_and_hidden(gradescope_root):
    root, env = gradescope_root
    info = _sandbox_info(root, env)
    source = root / "autograder" / "source"
    expected = [source / "grader", source / "solutions", *_site_copies(root)]
    assert len(expected) == 3  # the bundle's two and the package setup.sh pip-installed
    for copy in expected:
        assert f"{os.path.realpath(copy)}: hidden" in info, info
    assert "READABLE" not in info and "[x] every copy of the answer key out of a submission's reach" in info


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("namespaces", [True, False], ids=["namespaces", "no-namespaces"])
def test_a_submission_that_hunts_for_the_model_answer_finds_nothing(gradescope_root, namespaces):
    root, env = gradescope_root
    document = _run_autograder(root, env, HUNTER.format(autograder=str(root / "autograder")),
                               namespaces=namespaces)
    text = json.dumps(document)
    assert "def cost_function_prime" not in text and MODEL_LINE not in text
    assert document["score"] == BACKPROP.max_score


@pytest.mark.sandbox
@root_only
def test_setup_leaves_nothing_of_the_answer_key_readable_to_others(gradescope_root):
    root, env = gradescope_root
    for top in [root / "autograder" / "source", *_site_copies(root)]:
        for path in [top, *top.rglob("*")]:
            assert os.lstat(path).st_mode & 0o077 == 0, path
    # Without namespaces or Landlock the permissions are the wall: sandbox-info says so, copy
    # by copy...
    info = _sandbox_info(root, env, namespaces=False, landlock=False)
    layout_copies = [root / "autograder" / "source" / "grader", root / "autograder" / "source" / "solutions",
                     *_site_copies(root)]
    assert not _readable_in_layout(info, root), info
    for copy in layout_copies:
        assert f"{os.path.realpath(copy)}: unreadable (permissions)" in info, info
    # ...and says it when a copy is exposed: the test sees a leak when there is one. Landlock,
    # where the kernel has it, keeps even that copy out of reach.
    exposed = _site_copies(root)[0]
    subprocess.run(["chmod", "-R", "o+rX", str(exposed)], check=True)
    try:
        assert f"{os.path.realpath(exposed)}: READABLE by student code" in _sandbox_info(
            root, env, namespaces=False, landlock=False)
        assert f"{os.path.realpath(exposed)}: hidden (Landlock refuses to open it)" in _sandbox_info(
            root, env, namespaces=False)
    finally:
        done = subprocess.run(["python3", "-m", "grader", "seal"], cwd="/", env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert not _readable_in_layout(_sandbox_info(root, env, namespaces=False, landlock=False), root)


@pytest.mark.sandbox
@root_only
def test_a_submission_that_is_a_link_to_the_model_answer_is_refused_and_flagged(gradescope_root):
    root, env = gradescope_root
    submission = root / "autograder" / "submission"
    for target in [_site_copies(root)[0] / "solutions" / "backprop" / "backprop.py",
                   root / "autograder" / "source" / "solutions" / "backprop" / "backprop.py"]:
        shutil.rmtree(submission)
        submission.mkdir()
        (submission / "backprop.py").symlink_to(target)
        done = subprocess.run([str(root / "autograder" / "source" / "run_autograder")], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        document = json.loads((root / "autograder" / "results" / "results.json").read_text())
        assert document["score"] == 0.0
        assert "symbolic link" in document["output"]
        assert "Flagged for the instructor: handed in a symbolic link" in document["output"]
        assert "def cost_function_prime" not in json.dumps(document)


@pytest.mark.sandbox
def test_links_in_a_class_folder_are_never_followed_and_the_class_is_graded(tmp_path):
    """A hand-in that is a link, or a folder whose only hand-in is one, is an error row,
    flagged; a link beside real files is skipped with a note, and the files are graded."""
    klass = tmp_path / "class"
    klass.mkdir()
    (klass / "zoe").mkdir()
    (klass / "zoe" / "backprop.py").write_text(SOLUTION)
    (klass / "carl.py").symlink_to(ROOT / "solutions" / "backprop" / "backprop.py")
    (klass / "aaron").mkdir()
    (klass / "aaron" / "backprop.py").symlink_to(klass / "zoe" / "backprop.py")
    (klass / "victor").mkdir()
    (klass / "victor" / "backprop.py").write_text(SOLUTION)
    (klass / "victor" / "root").symlink_to("/")
    (klass / "mia").mkdir()
    (klass / "mia" / "build").mkdir()
    (klass / "mia" / "build" / "Debug").symlink_to("..")
    (klass / "mia" / "backprop.py").write_text(SOLUTION)
    result = run_cli(str(klass), "--no-cache", "--format", "json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    rows = {s["student"]: s for s in json.loads(result.stdout)["submissions"]}
    assert set(rows) == {"aaron", "carl", "mia", "victor", "zoe"}  # nobody merged, nobody lost
    assert rows["zoe"]["score"] == BACKPROP.max_score and rows["zoe"]["status"] == "graded"
    for student in ("aaron", "carl"):
        assert rows[student]["status"] == "error" and "symbolic link" in rows[student]["error"]
        assert rows[student]["flags"] == ["handed in a symbolic link"]
    for student, link in (("mia", "build/Debug"), ("victor", "root")):
        assert rows[student]["score"] == BACKPROP.max_score and rows[student]["flags"] == []
        assert f"not followed, not graded: {link} (symbolic link)" in rows[student]["notes"]


@pytest.mark.sandbox
def test_a_fifo_named_like_a_submission_gets_its_own_error_row_at_once(tmp_path):
    (tmp_path / "ana.py").write_text(SOLUTION)
    os.mkfifo(tmp_path / "carl.py")
    (tmp_path / "dee").mkdir()
    os.mkfifo(tmp_path / "dee" / "backprop.py")
    result = subprocess.run([sys.executable, "-m", "grader", str(tmp_path), "--no-cache", "--format",
                             "json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = {s["student"]: s for s in json.loads(result.stdout)["submissions"]}
    assert rows["ana"]["score"] == BACKPROP.max_score
    for student in ("carl", "dee"):
        assert rows[student]["status"] == "error" and "not a regular file" in rows[student]["error"]
        assert rows[student]["flags"] == ["handed in a special file"]


@pytest.mark.sandbox
def test_a_fifo_named_on_the_command_line_is_an_error_not_a_wait(tmp_path):
    os.mkfifo(tmp_path / "carl.py")
    result = subprocess.run([sys.executable, "-m", "grader", str(tmp_path / "carl.py"), "--no-cache"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "not a regular file" in result.stdout


@pytest.mark.sandbox
@pytest.mark.parametrize("name", ['=HYPERLINK("evil.example","open me")', "+SUM(A1)",
                                  "-2+3", "@cmd", "\tTAB"])
def test_gradebook_cells_a_spreadsheet_would_run_are_neutralised(tmp_path, name):
    (tmp_path / f"{name}.py").write_text(SOLUTION)
    (tmp_path / "ana.py").write_text(SOLUTION)
    result = run_cli(str(tmp_path), "--no-cache", "--format", "csv")
    rows = {row["score"] + row["student"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    student = next(row["student"] for row in rows.values() if row["student"] != "ana")
    # The apostrophe, or a control character written out as an escape: nothing a sheet runs.
    assert student == ("'" + name if not name.startswith("\t") else "\\t" + name[1:])
    assert not student.startswith(("=", "+", "-", "@", "\t", "\r"))
    path = next(row["path"] for row in rows.values() if row["student"] != "ana")
    assert not path.startswith(("=", "+", "-", "@", "\t"))
    assert {row["score"] for row in rows.values()} == {f"{BACKPROP.max_score:g}"}  # numbers stay numbers



def test_negative_numbers_stay_numbers_in_the_gradebook():
    from grader.reports.table import spreadsheet_safe

    assert spreadsheet_safe("-0.5") == "-0.5" and spreadsheet_safe("+3") == "+3"
    assert spreadsheet_safe("-1+1") == "'-1+1" and spreadsheet_safe("=1") == "'=1"


@pytest.mark.sandbox
def test_no_variable_of_the_graders_environment_reaches_the_feedback(tmp_path):
    path = tmp_path / "peek.py"
    path.write_text(SOLUTION + "\nimport os\nraise RuntimeError(repr(dict(os.environ)))\n")
    env = {**os.environ, "INSTRUCTOR_TOKEN": "s3cr3t-t0ken"}
    result = subprocess.run([sys.executable, "-m", "grader", str(path), "--no-cache", "--format", "json"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert "RuntimeError" in result.stdout and "s3cr3t-t0ken" not in result.stdout
