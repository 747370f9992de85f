"""Hostile and broken submissions: one test per threat, each bounded in time.

Every hostile submission here limits itself (loops and sleeps that end within a minute,
allocations a 24 GB machine survives, children that exit on their own), so a regression in the
sandbox makes a test fail or run slow, never harms the machine running it.
"""

import csv
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    BACKPROP,
    FAST,
    NORMAL_USER,
    ROOT,
    SOLUTION,
    live_processes_running,
    points,
    run_as_user,
    run_cli,
    scores,
    shared_folder,
    statuses,
    with_solution,
)
from grader import assignment, sandbox
from grader.grading import Options, grade_path
from grader.results import submission_from_dict
from grader.sandbox import client
from grader.sandbox import workers as processes

ONE_SECOND = Options(BACKPROP, limits=sandbox.Limits(timeout=1.0))
FULL = BACKPROP.max_score  # what the model answer earns: a threat that costs nothing leaves it so
AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="namespaces and a separate user need root")
# Each way the grader may find itself: root with namespaces (CI, an autograder container),
# root without them, a normal user whose kernel allows user namespaces, and one whose doesn't.
MODES = ["namespaces", "no-namespaces", "as-user", "as-user-no-userns"]


@pytest.fixture(params=MODES)
def mode(request, monkeypatch):
    if not AS_ROOT:
        pytest.skip("the tests take each mode from root")
    if request.param == "no-namespaces":
        monkeypatch.setenv("BACKPROP_GRADER_NAMESPACES", "0")
    return request.param


@pytest.fixture
def graded(mode, tmp_path):
    """graded(source) -> SubmissionResult, graded in the test's mode: in this process as root,
    or by the `grade` command run by a normal user."""

    def _graded(source: str, name: str = "alice.py", options: Options = FAST):
        if not mode.startswith("as-user"):
            path = tmp_path / name
            path.write_text(source)
            return grade_path(path, options)
        folder = shared_folder()
        try:
            path = folder / name
            path.write_text(source)
            path.chmod(0o644)
            env = {"BACKPROP_GRADER_USERNS": "0"} if mode == "as-user-no-userns" else {}
            done = run_as_user([sys.executable, "-m", "grader", str(path), "--no-cache", "--format",
                                "json", "--timeout", str(options.limits.timeout)], cwd=folder, env=env)
            assert done.returncode == 0, done.stderr
            return submission_from_dict(json.loads(done.stdout)["submissions"][0], BACKPROP)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return _graded


def question(result, question_id):
    return next(q for q in result.questions if q.question.id == question_id)


# 1. An infinite loop at import.
def test_01_loop_at_import_is_a_timeout(grade):
    started = time.monotonic()
    result = grade(with_solution("import time\nend = time.time() + 30\nwhile time.time() < end:\n    pass\n"),
                   options=ONE_SECOND)
    assert time.monotonic() - started < 15
    assert result.score == FULL and "ran for more than 1 s" in result.load_errors[0].message


# 2. An infinite loop inside one function, swallowing every exception.
def test_02_loop_in_a_function_catching_everything_costs_that_question(grade):
    source = with_solution(
        "import time\n"
        "def delta3_shape(n, o):\n"
        "    end = time.time() + 30\n"
        "    while time.time() < end:\n"
        "        try:\n"
        "            pass\n"
        "        except BaseException:\n"
        "            pass\n")
    started = time.monotonic()
    result = grade(source, options=ONE_SECOND)
    assert time.monotonic() - started < 15
    assert statuses(result)["delta3_shape"] == "timeout" and result.score == FULL - points("delta3_shape")


# 3. sys.exit, os._exit and a segfault, in a function and at top level.
@pytest.mark.parametrize("ending", ["import sys; sys.exit(3)", "import os; os._exit(3)",
                                    "import ctypes; ctypes.string_at(0)"])
def test_03_ending_the_process_in_a_function_costs_that_question(grade, ending):
    result = grade(with_solution(f"def dz3dW2(a2):\n    {ending}\n"))
    assert scores(result)["dz3dW2"] == 0 and result.score == FULL - points("dz3dW2")


@pytest.mark.parametrize("ending", ["import os; os._exit(0)", "import ctypes; ctypes.string_at(0)",
                                    "raise SystemExit"])
def test_03_ending_the_process_at_top_level_keeps_what_was_defined(grade, ending):
    result = grade(SOLUTION + f"\n{ending}\ndef dz3dW2(a2):\n    return 'never defined'\n")
    assert result.score == FULL
    assert len(result.load_errors) == 1


def test_03_a_segfault_is_named(grade):
    result = grade(with_solution("def dz3dW2(a2):\n    import ctypes\n    ctypes.string_at(0)\n"))
    assert statuses(result)["dz3dW2"] == "raised"
    messages = [c.message for c in question(result, "dz3dW2").cases]
    assert "the function was killed by SIGSEGV" in messages
    assert "the function was killed by SIGSEGV" in question(result, "dz3dW2").feedback


# 4. A memory hog.
def test_04_a_memory_hog_is_stopped_and_reported_as_out_of_memory(grade):
    limited = Options(BACKPROP, limits=sandbox.Limits(timeout=5, memory_mb=512))
    hog = "import numpy as np\ndef dz3dW2(a2):\n    return np.ones(300_000_000)\n"  # 2.4 GB
    result = grade(with_solution(hog), options=limited)
    assert result.score == FULL - points("dz3dW2")
    assert "out of memory" in question(result, "dz3dW2").cases[0].message


def test_04_a_memory_hog_at_top_level(grade):
    limited = Options(BACKPROP, limits=sandbox.Limits(timeout=5, memory_mb=512))
    result = grade(with_solution("import numpy as np\nbig = np.ones(300_000_000)\n"), options=limited)
    assert result.score == FULL and "out of memory" in result.load_errors[0].message


# 5. Output, and a huge return value.
@pytest.mark.sandbox
def test_05_output_is_capped_and_never_reaches_the_report(tmp_path):
    path = tmp_path / "loud.py"
    path.write_text(with_solution("import sys\nfor _ in range(2000):\n    print('x' * 5000)\n"
                                  "    sys.stderr.write('{\"not\": json\\n')\n"))
    result = run_cli(str(path), "--format", "json")
    report = json.loads(result.stdout)
    assert report["submissions"][0]["score"] == FULL
    assert len(report["submissions"][0]["output"]) < 5000
    # The report alone, not the 10 MB printed: its submission, and the class summary, whose item
    # analysis is a fixed size (questions times cases), whatever was printed.
    assert len(json.dumps(report["submissions"])) < 50_000 and len(result.stdout) < 100_000


def test_05_a_huge_return_value_is_refused(grade):
    huge = "import numpy as np\ndef dJdW2(a2, delta3):\n    return np.broadcast_to(1.0, (20000, 20000))\n"
    result = grade(with_solution(huge))
    assert statuses(result)["dJdW2"] == "wrong"
    assert "array of shape (20000, 20000)" in question(result, "dJdW2").cases[0].message
    assert result.score == FULL - points("dJdW2", "cost_function_prime")  # and cost_function_prime calls it


# 6. stdin.
def test_06_input_fails_at_once(grade):
    started = time.monotonic()
    result = grade(with_solution("name = input('your name? ')\n"), options=ONE_SECOND)
    assert time.monotonic() - started < 10
    assert "EOFError" in result.load_errors[0].message and result.score == FULL


# 7. Tampering.
def test_07_patching_numpy_and_json_changes_nothing(grade):
    tamper = (
        "import numpy as np, json, math\n"
        "np.allclose = np.isclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "np.asarray = np.array = lambda *a, **k: 'patched'\n"
        "json.dumps = lambda *a, **k: '{}'\n"
        "math.isclose = lambda *a, **k: True\n"
        "def dJdW2(a2, delta3):\n"
        "    return a2.T\n")
    result = grade(with_solution(tamper))
    assert not result.load_errors  # every patch ran
    assert scores(result)["dJdW2"] == 0 and scores(result)["forward"] == 1


def test_07_patching_builtins_changes_nothing(grade):
    tamper = (
        "import builtins\n"
        "builtins.isinstance = lambda *a: True\n"
        "builtins.len = lambda *a: 0\n"
        "builtins.float = lambda *a: 0.0\n")
    result = grade(with_solution(tamper))
    assert not result.load_errors and result.score == FULL


def test_07_an_ndarray_subclass_that_lies_is_read_as_plain_data(grade):
    liar = (
        "import numpy as np\n"
        "class Liar(np.ndarray):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    @property\n"
        "    def shape(self):\n"
        "        return (3, 1)\n"
        "    def tolist(self):\n"
        "        return [[0.0101512]] * 3\n"
        "def dJdW2(a2, delta3):\n"
        "    return np.zeros((7, 7)).view(Liar)\n")
    result = grade(with_solution(liar))
    assert scores(result)["dJdW2"] == 0
    assert question(result, "dJdW2").cases[0].message.startswith("shape (7, 7), but the answer")


@pytest.mark.sandbox
def test_numpy_testing_works_in_every_mode(graded):
    # Loaded on first use where the runner can read the installation, loaded ahead where it
    # might not (another user without namespaces: numpy under /root, say).
    result = graded("import numpy as np\nnp.testing.assert_allclose(1.0, 1.0)\n" + SOLUTION)
    assert result.load_errors == () and result.score == FULL


# 8. Reaching for the answer key.
@pytest.mark.sandbox
@pytest.mark.parametrize("reach, flag", [
    ("import solutions.backprop as key", "imported solutions"),
    ("import importlib; key = importlib.import_module('solu' + 'tions.backprop')", "imported solutions"),
    ("from grader import assignment", "imported grader"),
    # The program that runs student code is loaded, under a private name, from the grader's
    # own folder: nothing more of it, nor of the grader through it, may be loaded.
    ("import sys; child = sys.modules[" + repr(processes.CHILD_PACKAGE) + "]; "
     "child.__path__.append(" + repr(str(Path(processes.__file__).parent.parent)) + "); "
     "import " + processes.CHILD_PACKAGE + ".grading as key", "imported grader"),
    ("import importlib; key = importlib.import_module(" + repr(processes.CHILD_PACKAGE + ".client") + ")",
     "imported grader"),
    (f"key = open({assignment.load('backprop').reference.__file__!r}).read()", "opened the grader's files"),
])
def test_08_the_answer_key_is_blocked_and_flagged(graded, reach, flag, mode):
    source = f"try:\n    {reach}\n    LEAKED = True\nexcept Exception:\n    LEAKED = False\n" \
             "def dz3dW2(a2):\n    return a2.T if not LEAKED else None\n"
    result = graded(source)
    assert flag in result.flags
    assert scores(result)["dz3dW2"] == 1  # the attempt failed: LEAKED stayed False


@pytest.mark.sandbox
def test_08_flags_show_in_every_report(tmp_path):
    path = tmp_path / "peek.py"
    path.write_text(with_solution("try:\n    import solutions\nexcept ImportError:\n    pass\n"))
    report = json.loads(run_cli(str(path), "--format", "json").stdout)
    assert report["submissions"][0]["flags"] == ["imported solutions"]
    rows = list(csv.DictReader(io.StringIO(run_cli(str(path), "--format", "csv").stdout)))
    assert rows[0]["flags"] == "imported solutions"
    assert "flags: imported solutions" in run_cli(str(path)).stdout


# 9. Processes left behind.
def _running(marker: str) -> bool:
    return bool(live_processes_running(marker))


@pytest.mark.sandbox
@pytest.mark.parametrize("where", ["function", "top level"])
def test_09_children_that_detach_and_exec_are_killed(graded, mode, where):
    marker = f"31.{os.getpid()}{len(where)}{len(mode)}"  # `sleep` ends by itself in 31 s anyway
    spawn = (
        "import os, time\n"
        "def spawn():\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            os.execvp('sleep', ['sleep', '{marker}'])\n"
        "        os._exit(0)\n"
        "    end = time.time() + 5\n"  # until the detached `sleep` really runs
        "    while time.time() < end:\n"
        "        for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "            try:\n"
        f"                if b'{marker}' in open(f'/proc/{{pid}}/cmdline', 'rb').read():\n"
        "                    return\n"
        "            except OSError:\n"
        "                pass\n"
    )
    call = "spawn()\n" if where == "top level" else "def dz3dW2(a2):\n    spawn()\n    return a2.T\n"
    result = graded(with_solution(spawn + call))
    assert result.score == FULL and "started a process" in result.flags
    assert not _running(marker)


# 10. Files.
@pytest.mark.sandbox
def test_10_student_code_writes_only_where_its_user_may(graded, mode):
    """As root, student code runs as a user of the grader's own: it writes nowhere the
    instructor can. Run by a normal user, it is that user: with namespaces, the shared temporary
    folders (where this one is) are its own; without, Landlock lets it write only its own
    folder (on a kernel without Landlock it could write the instructor's own folders: a
    documented limit). It never writes root's."""
    as_user = mode.startswith("as-user")
    instructor = shared_folder()
    os.chown(instructor, *(2 * (NORMAL_USER if as_user else 0,)))
    targets = [str(instructor / "instructor.txt"), str(ROOT / "pwned.txt"), "/root/pwned.txt"]
    marker = f"/tmp/private-{os.getpid()}-{mode}.txt"
    probe = (
        "import os\n"
        f"TARGETS = {targets!r}\n"
        "WROTE = []\n"
        f"for target in TARGETS + [{marker!r}]:\n"
        "    try:\n"
        "        with open(target, 'w') as out:\n"
        "            out.write('x')\n"
        "        WROTE.append(target)\n"
        "    except OSError:\n"
        "        pass\n"
        "with open('scratch.txt', 'w') as out:\n"
        "    out.write('its own folder is writable')\n"
        "def dz3dW2(a2):\n"
        "    raise RuntimeError(repr((WROTE, os.getcwd())))\n"
    )
    try:
        result = graded(with_solution(probe))
        message = question(result, "dz3dW2").cases[0].message
        wrote, scratch = eval(message.split(": ", 1)[1].rsplit(" (line", 1)[0])
        assert set(wrote) - {marker} == set()
        assert not (ROOT / "pwned.txt").exists() and not Path("/root/pwned.txt").exists()
        if mode in ("namespaces", "as-user"):  # its /tmp was its own: nothing of it is left
            assert scratch == "/tmp" and marker in wrote and not Path(marker).exists()
        else:
            assert not Path(scratch).exists()  # its scratch folder, removed afterwards
    finally:
        shutil.rmtree(instructor, ignore_errors=True)
        Path(marker).unlink(missing_ok=True)  # without namespaces /tmp is shared: documented


# 11. Network.
@pytest.mark.sandbox
def test_11_no_network(graded, mode):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    namespaces = mode in ("namespaces", "as-user")
    probe = (
        "import os\n"
        "import socket\n"
        "for connect in (lambda: socket.create_connection(('127.0.0.1', %d), timeout=2),\n"
        "                lambda: socket.socket().connect(('127.0.0.1', %d))):\n"
        "    try:\n"
        "        connect()\n"
        "    except Exception:\n"
        "        pass\n" % (port, port)
    )
    if namespaces:  # a shell reaches for the network too, below Python, where no hook applies
        probe += f"os.system('exec 3<>/dev/tcp/127.0.0.1/{port}')\n"
    result = graded(with_solution(probe))
    with pytest.raises(socket.timeout):
        server.accept()
    server.close()
    assert "used the network" in result.flags  # the audit hook, in every mode


# 12. Never root; never the machine's nobody either.
@pytest.mark.sandbox
def test_12_student_code_never_runs_as_root(graded, mode):
    result = graded(with_solution(
        "import os\ndef dz3dW2(a2):\n"
        "    status = open('/proc/self/status').read()\n"
        "    caps = [l.split()[1] for l in status.splitlines() if l.startswith('CapEff')][0]\n"
        "    raise RuntimeError(f'{os.getuid()} {caps}')\n"))
    uid, capabilities = question(result, "dz3dW2").cases[0].message.split(": ")[1].split(" ")[:2]
    if mode.startswith("as-user"):  # the instructor's user, with no capability at all
        assert int(capabilities, 16) == 0
    else:  # a user of the grader's own, not root and not the machine's nobody
        assert int(uid) not in (0, 65534) and int(uid) >= 2_000_000_000
        assert int(capabilities, 16) == 0


# 13. Bad files.
@pytest.mark.parametrize("content, reason", [
    (b"", "the file is empty"),
    (b"   \n\n", "the file is empty"),
    (bytes(range(256)) * 4, "NUL bytes"),
    (b"import numpy\x00\n", "NUL bytes"),
    ("# caf\u00e9\n".encode("latin-1") + SOLUTION.encode(), "not UTF-8 text (byte 0xe9"),
    (b"x = 1\n" * 400_000, "more than the"),
], ids=["empty", "blank", "binary", "nul", "latin-1", "huge"])
def test_13_bad_files_get_a_one_line_reason(grade, content, reason):
    result = grade(content, "bad.py")
    assert result.status == "error" and reason in result.error
    assert "\n" not in result.error


@pytest.mark.parametrize("source, reason", [
    ("def forward(:\n    pass\n", "SyntaxError: invalid syntax (line 1)"),
    (SOLUTION + "\nif True:\nreturn 1\n", "IndentationError: expected an indented block after 'if' statement"),
    ("x = " + "(" * 300 + ")" * 300 + "\n", "SyntaxError: too many nested parentheses"),
], ids=["syntax", "indentation", "nesting"])
def test_13_a_file_python_cannot_compile_is_not_graded_and_says_where(grade, tmp_path, source, reason):
    """Known once the sandbox has tried it (the grader compiles a file only when its run had a
    problem loading); reported as before: not graded, one line, where."""
    result = grade(source, "bad.py")
    assert result.status == "error" and result.error.startswith(reason), result.error
    assert result.questions == () and result.output == "" and "\n" not in result.error
    (tmp_path / "klass").mkdir()
    (tmp_path / "klass" / "bad.py").write_text(source)
    (tmp_path / "klass" / "good.py").write_text(SOLUTION)
    rows = json.loads(run_cli(str(tmp_path / "klass"), "--format", "json", "--no-cache").stdout)["submissions"]
    assert [(r["student"], r["status"], r["score"]) for r in rows] == [("bad", "error", 0.0), ("good", "graded", FULL)]
    assert rows[0]["error"] == result.error


def test_13_code_that_raises_syntax_error_itself_is_graded(grade):
    """A SyntaxError raised by code that compiles (compiling a string, a forged one) is a
    problem loading, not a file that can't compile: the rest of the file is graded."""
    result = grade(SOLUTION + "\ncompile('def (', 'x', 'exec')\n", "fine.py")
    assert result.status == "graded" and result.score == FULL
    assert [str(e) for e in result.load_errors][0].startswith("line ") and "SyntaxError" in str(result.load_errors[0])


def test_13_a_coding_declaration_is_honoured(grade):
    source = "# -*- coding: latin-1 -*-\n# caf\u00e9\n" + SOLUTION
    assert grade(source.encode("latin-1"), "latin.py").score == FULL


@pytest.mark.sandbox
def test_13_bad_files_in_a_class_each_get_their_own_row(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "a.py").write_text(SOLUTION)
    (root / "b.py").write_bytes(b"")
    (root / "c.py").write_bytes(b"\x00\x01")
    (root / "d.ipynb").write_bytes(b"\xff\xfe")
    rows = json.loads(run_cli(str(root), "--format", "json").stdout)["submissions"]
    assert [r["status"] for r in rows] == ["graded", "error", "error", "error"]


# 7, continued: student code can write to the event pipe too.
def test_forged_events_cost_only_the_forger(grade):
    forge = (
        "import os\n"
        "JUNK = (b'{\"event\": \"start\", \"call\": \"x\"}\\n{\"event\": \"result\", \"call\": 99999, '\n"
        "        b'\"status\": \"raised\", \"cell\": \"a\", \"line\": [1]}\\n{\"event\": \"stmt\", \"cell\": \"a\"}\\n'\n"
        "        b'{\"event\": \"isolation\", \"namespaces\": true}\\n[1, 2]\\n\"text\"\\n{not json\\n')\n"
        "for fd in range(3, 64):\n"
        "    try:\n"
        "        os.write(fd, JUNK)\n"
        "    except OSError:\n"
        "        pass\n"
        "def dz3dW2(a2):\n"
        "    for fd in range(3, 64):\n"
        "        try:\n"
        "            os.write(fd, JUNK)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return a2.T\n"
    )
    result = grade(with_solution(forge))
    # The channel is untrusted input: a forger's run ends there, flagged; only it pays.
    assert result.status == "graded" and result.score == 0
    assert result.flags == ("interfered with the grader",)
    assert "the submission interfered with the grader" in question(result, "forward").feedback


# 2, continued: a file whose every function hangs costs a bounded time, not one per question.
def test_every_function_hanging_is_bounded_by_the_submission_budget(grade):
    functions = [q.id for q in BACKPROP.questions if not q.constants]
    hang = "import time\n" + "".join(f"def {name}(*args):\n    time.sleep(30)\n" for name in functions)
    started = time.monotonic()
    result = grade(hang, options=ONE_SECOND)
    assert time.monotonic() - started < 15  # 6 timeouts of 1 s, and process start-ups
    assert result.status == "graded" and result.score == 0
    timed_out = [q for q in result.questions if q.status.value == "timeout"]
    assert len(timed_out) == len(functions)
    assert any("time (6 s in all) ran out" in c.message for q in timed_out for c in q.cases)


# 10, continued: the private /tmp must not hide a Python that lives under /tmp (a venv).
@pytest.mark.sandbox
@needs_root
def test_a_python_installed_under_tmp_stays_usable_inside_the_sandbox(tmp_path):
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    assert site.startswith(str(tmp_path)) and sysconfig.get_paths()["purelib"] != site
    # The grader's own dependencies, from the interpreter running the tests (itself maybe a venv).
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    Path(site, "grader_dependencies.pth").write_text("\n".join(ours) + "\n")
    Path(site, "only_in_the_venv.py").write_text("VALUE = 42\n")
    submission = tmp_path / "class" / "alice.py"
    submission.parent.mkdir()
    submission.write_text(with_solution(
        "def dz3dW2(a2):\n    import only_in_the_venv  # imported late, inside the sandbox\n"
        "    return a2.T * only_in_the_venv.VALUE / 42\n"))
    result = subprocess.run([str(python), "-m", "grader", str(submission), "--format", "json",
                             "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    report = json.loads(result.stdout)["submissions"][0]
    assert report["score"] == FULL, next(q["feedback"] for q in report["questions"] if q["id"] == "dz3dW2")
    # The worker empties its private /tmp after each submission, never what shows through it.
    assert Path(site, "only_in_the_venv.py").exists() and (venv / "bin" / "python").exists()


@needs_root
def test_emptying_a_private_folder_never_enters_what_is_mounted_in_it(tmp_path):
    from grader.sandbox.child.system import wipe

    private, installation = tmp_path / "private", tmp_path / "installation"
    private.mkdir()
    (installation / "lib").mkdir(parents=True)
    (installation / "lib" / "numpy.py").write_text("# precious\n")
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(private)], check=True)
    try:
        shown = private / "venv" / "lib"
        shown.mkdir(parents=True)
        subprocess.run(["mount", "--bind", str(installation / "lib"), str(shown)], check=True)
        left = private / "a" / "b" / "c"
        left.mkdir(parents=True)
        (left / "student.txt").write_text("x")
        (private / "top.txt").write_text("x")
        wipe([str(private)])
        assert (installation / "lib" / "numpy.py").read_text() == "# precious\n"
        assert not (private / "a").exists() and not (private / "top.txt").exists()
        subprocess.run(["umount", str(shown)], check=True)
    finally:
        subprocess.run(["umount", "-l", str(private)], check=False)


def test_01_a_statement_that_hangs_mid_cell_is_found_and_only_it_is_lost(grade):
    # The file runs whole first; when it overruns, again a statement at a time to find which
    # one hangs; then up to it. What comes after it in the file is not defined, as in a
    # notebook cell that was interrupted.
    source = with_solution("import time\n"
                           "def dz3dW2(a2):\n    return 'defined before the hang'\n"
                           "end = time.time() + 30\nwhile time.time() < end:\n    pass\n"
                           "def dJdW2(a2, delta3):\n    return 'never defined'\n")
    started = time.monotonic()
    result = grade(source, options=ONE_SECOND)
    assert time.monotonic() - started < 15
    (error,) = result.load_errors
    assert "ran for more than 1 s" in error.message
    assert error.where == f"line {source.splitlines().index('while time.time() < end:') + 1}"
    assert scores(result)["dz3dW2"] == 0 and scores(result)["dJdW2"] == 2  # the model's dJdW2


# The answer key's values: a later stage's arguments hold answers (a dJdW2 call is given
# delta(3)), so they reach the student's process only once those questions are answered.
ANSWER_SCAN = '''
import gc, hashlib, sys, types
import numpy as np

ANSWERS = set({answers!r})

def _fingerprint(a):
    return hashlib.sha1(repr(a.shape).encode() + np.round(a, 9).tobytes()).hexdigest()[:16]

def _scan(where):
    """Every array this process holds that its frames lead to, against the answers."""
    seen, arrays, queue = set(), 0, []
    frame = sys._getframe()
    while frame is not None:
        queue += [frame.f_locals, frame.f_globals]
        frame = frame.f_back
    leaked = 0
    while queue and len(seen) < 400_000:
        item = queue.pop(0) if len(queue) < 1000 else queue.pop()
        if id(item) in seen or isinstance(item, (types.ModuleType, type)):
            continue
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            arrays += 1
            leaked += item.dtype == float and _fingerprint(item) in ANSWERS
            continue
        queue += gc.get_referents(item)
    print(f"SCAN {{where}} arrays={{arrays}} leaked={{leaked}} objects={{len(seen)}}")

_scan("load")

_FIRST, _forward = [], forward  # the model answer's, defined above

def forward(X, W1, W2):
    if not _FIRST:
        _FIRST.append(_scan("first call"))
    return _forward(X, W1, W2)
'''


def test_no_answer_reaches_the_process_before_its_question_is_answered(grade):
    """The first stage's calls are held by the fork server and reach each runner with the
    fork: scanning all it holds, at load and in its first call, finds none of the answers."""
    from grader.grading import plan

    work = BACKPROP
    answers = {hashlib.sha1(repr(check.expected.shape).encode() + np.round(check.expected, 9).tobytes()).hexdigest()[:16]
               for check in plan(work.default_seed, work)
               if isinstance(check.expected, np.ndarray) and check.expected.size > 1}
    assert len(answers) > 20
    source = ANSWER_SCAN.format(answers=sorted(answers))
    result = grade(with_solution(source))
    scans = [line.split()[1:] for line in result.output.splitlines() if line.startswith("SCAN ")]
    assert [scan[0] for scan in scans] == ["load", "first"], result.output
    assert all("leaked=0" in scan for scan in scans), scans
    # The scan sees what the process holds: the first stage's arguments, already at load.
    assert all(int(scan[-3].removeprefix("arrays=")) >= 50 for scan in scans), scans
    assert question(result, "forward").score == question(result, "forward").question.points


@pytest.mark.sandbox
def test_calls_whose_arguments_all_hold_answers_are_never_held_ahead():
    """The worker has the fork server hold the first stage sent; that stage is always stage 0
    (arguments that hold no answer), empty when a job has none: then nothing is held, and every
    call comes in its own stage, answered as before."""
    from grader.sandbox.child import wire as _wire

    calls = [sandbox.Call(0, ("double",), (np.ones(3),), "double", stage=1),
             sandbox.Call(1, ("double",), (np.arange(3.0),), "double", stage=2)]
    cells = [sandbox.Cell("def double(x):\n    return 2 * x\n", "s.py")]
    job = client._job(cells, calls, sandbox.Limits(timeout=2.0), sandbox.Confinement(), (), sandbox.Contract())
    header = _wire.decode(_wire.split_frames(job)[0][1], np)
    assert header["stages"] == [[], [[0, "double"]], [[1, "double"]]]
    run = sandbox.run(cells, calls, sandbox.Limits(timeout=2.0))
    assert [run.outcomes[k].value.tolist() for k in (0, 1)] == [[2.0] * 3, [0.0, 2.0, 4.0]]
