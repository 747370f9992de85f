"""Hostile submissions, third round: one test (or more) per threat of the README's table, in its
numbering (issue 25). Every hostile submission bounds itself: loops and sleeps that end within
seconds, children that exit on their own, sockets and terminals the test owns and closes."""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import BACKPROP, FAST, ROOT, SOLUTION, points, run_as_user, scores, shared_folder, statuses, with_solution
from grader import sandbox
from grader.grading import Options, grade_path
from grader.results import submission_from_dict
from grader.sandbox import workers as processes

AS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not AS_ROOT, reason="the modes are taken from root")
MODEL_LINE = "return dJdW1(X, d2), dJdW2(a2, d3)"  # a line only the model answer has
# Each way the grader may find itself (test_hostile's four, and root of a user namespace that
# maps no user for the sandbox, as rootless Podman or Docker run it).
MODES = ["namespaces", "no-namespaces", "as-user", "as-user-no-userns", "userns-root"]


def _child():
    """The names of the program that runs student code (its system calls and its runner), for
    tests of its parts."""
    from grader.sandbox.child import runner, system

    return {**vars(system), **vars(runner)}


def grade_in(mode: str, folder: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The `grade` command on `folder` (a file or a class) in one of MODES, as JSON."""
    args = [sys.executable, "-m", "grader", str(folder), "--no-cache", "--format", "json", *extra]
    env = {**(env or {})}
    if mode == "no-namespaces":
        env["BACKPROP_GRADER_NAMESPACES"] = "0"
    if mode == "as-user-no-userns":
        env["BACKPROP_GRADER_USERNS"] = "0"
    if mode.startswith("as-user"):
        return run_as_user(args, cwd=folder if folder.is_dir() else folder.parent, env=env)
    import grader

    env = {**os.environ, "PYTHONPATH": str(Path(grader.__file__).resolve().parent.parent), **env}
    if mode == "userns-root":
        args = ["unshare", "--user", "--map-root-user", *args]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)


def graded_in(mode: str, source: str, *extra: str, name: str = "alice.py", env: dict | None = None):
    """(SubmissionResult, stderr) of `source` graded in `mode`, from a folder every user may enter."""
    folder = shared_folder()
    try:
        path = folder / name
        path.write_text(source)
        path.chmod(0o644)
        done = grade_in(mode, path, "--timeout", "2", *extra, env=env)
        assert done.returncode == 0, done.stderr
        return submission_from_dict(json.loads(done.stdout)["submissions"][0], BACKPROP), done.stderr
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def raised(result, question_id: str) -> str:
    """What a question's first case said (a probe raises what it found, to be read here)."""
    question = next(q for q in result.questions if q.question.id == question_id)
    return question.cases[0].message


# 1. The sandbox fails closed, and says what is in effect.

ESCAPE = textwrap.dedent("""\
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    FOUND = {"uid": os.getuid(),
             "CapEff": open("/proc/self/status").read().split("CapEff:")[1].split()[0]}
    FOUND["umount /tmp"] = libc.umount2(b"/tmp", 2)
    FOUND["unshare"] = libc.unshare(0x00020000)
    fd = libc.open(%r.encode(), 0)
    FOUND["key"] = fd >= 0 and libc.read(fd, ctypes.create_string_buffer(64), 64) > 0

    def dz3dW2(a2):
        raise RuntimeError(repr(FOUND))
    """)


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode", MODES)
def test_01_no_mode_lets_student_code_keep_a_capability_or_unmount_its_view(mode):
    key = str(ROOT / "solutions" / "backprop" / "backprop.py")
    result, _ = graded_in(mode, ESCAPE % key)
    found = eval(raised(result, "dz3dW2").split(": ", 1)[1].rsplit(" (line", 1)[0])
    assert found["CapEff"] == "0000000000000000", found
    assert found["umount /tmp"] == -1 and found["unshare"] == -1 and found["key"] is False, found
    if mode == "userns-root":  # root of a namespace that maps no pool user: root with nothing
        assert found["uid"] == 0


@pytest.mark.sandbox
@root_only
def test_01_in_a_user_namespace_that_maps_no_pool_user_info_reads_back_uid_0_and_no_capability():
    done = subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-m", "grader",
                           "--sandbox-info"], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    info = done.stdout
    assert "[ ] runs as a user of the grader's own: no: student code runs as root of the grader's " \
           "user namespace" in info and "(uid 0 read back)" in info
    assert "[x] no capability, now or after starting a program (no_new_privs): none held, no_new_privs on" in info
    assert "[x] own mount and IPC namespaces" in info and "READABLE" not in info


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode, said", [
    ("no-namespaces", "sandbox: no namespaces: BACKPROP_GRADER_NAMESPACES=0"),
    ("userns-root", "sandbox: student code runs as root of the grader's user namespace"),
    ("as-user-no-userns", "sandbox: student code runs as your own user, with your rights"),
])
def test_01_what_this_machine_lacks_is_said_at_the_top_of_the_run(mode, said):
    _, stderr = graded_in(mode, SOLUTION)
    assert stderr.startswith("sandbox: ") and said in stderr, stderr
    namespaced, stderr = graded_in("namespaces", SOLUTION)
    assert "sandbox:" not in stderr and namespaced.score == BACKPROP.max_score


def _isolate(plan: dict, **prepared) -> str:
    """Run the runner's isolate() in a child with `plan`; what it raised, or "isolated"."""
    child = _child()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            state = child["Prepared"](__import__("numpy"))
            for name, value in prepared.items():
                setattr(state, name, child["Filter"](value) if name == "seccomp" else value)
            child["isolate"](plan, state)
            os.write(write, b"isolated")
        except BaseException as exc:
            os.write(write, f"{type(exc).__name__}: {exc}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read, "rb") as said:
        return said.read().decode()


PLAN = {"env": {"PATH": "/usr/bin:/bin"}, "limits": {"memory_mb": 1024, "cpu_seconds": 60}}


@root_only
@pytest.mark.parametrize("plan, prepared, said", [
    # setresuid(-1) changes nothing: only reading back shows it
    ({**PLAN, "identity": "pool", "uid": 2**32 - 1, "gid": 2**32 - 1}, {},
     "SetupError: could not become a user of the grader's own"),
    # the grader's own user, when that user is root: its capabilities are still there
    ({**PLAN, "identity": "own"}, {}, "SetupError: could not drop every capability: CapPrm"),
    ({**PLAN, "identity": "no-capabilities"}, {"landlock": 10_000},
     "SetupError: could not confine file access with Landlock"),
    ({**PLAN, "identity": "no-capabilities"}, {"seccomp": b"\x06\x00\x00\x00"},
     "SetupError: could not install the syscall filter"),
])
def test_01_a_step_that_cannot_be_taken_stops_the_runner(plan, prepared, said):
    assert _isolate(plan, **prepared).startswith(said)


@pytest.mark.sandbox
@root_only
def test_01_a_step_that_fails_is_the_submissions_sandbox_failure_and_no_student_code_runs(tmp_path):
    """Rootless Podman as it would be if the grader took its pool users for granted: the setuid
    fails in the runner, which stops; the row says why, and the student's code never ran (its
    first line would have flagged a network use)."""
    path = tmp_path / "alice.py"
    path.write_text("import socket\ntry:\n    socket.socket()\nexcept OSError:\n    pass\n" + SOLUTION)
    script = textwrap.dedent(f"""\
        import json
        from pathlib import Path
        from grader import sandbox
        from grader.sandbox import workers as processes
        from grader.assignment import load
        from grader.grading import Options, grade_path
        processes.identity = lambda: "pool"  # as if the namespace had users to spare
        result = grade_path(Path({str(path)!r}), Options(load("backprop"), limits=sandbox.Limits(timeout=2.0)))
        print(json.dumps([result.error, result.flags, result.output]))
        """)
    done = subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-c", script],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    error, flags, output = json.loads(done.stdout)
    assert error.startswith("sandbox failure: could not become a user of the grader's own"), error
    assert flags == [] and output == ""


# 2. No credit without maths.

def _parts(result) -> dict[str, tuple[float, str]]:
    return {q.question.id: (q.score, q.cases[0].message) for q in result.questions}


def test_02_calling_an_earlier_function_so_that_it_raises_earns_nothing(grade):
    """delta3, delta2 and cost_function_prime set a flag on which sigmoid_prime raises, call
    it, and raise: before, each got full carried-forward credit (7/20 with no maths)."""
    source = SOLUTION + textwrap.dedent("""

        FLAG = [False]
        _model_sigmoid_prime = sigmoid_prime

        def sigmoid_prime(z):
            if FLAG[0]:
                raise ValueError("shapes not aligned")
            return _model_sigmoid_prime(z)

        def _no_maths(z):
            FLAG[0] = True
            try:
                sigmoid_prime(z)
            finally:
                FLAG[0] = False
            raise ValueError("no maths here")

        def delta3(y, yHat, z3):
            _no_maths(z3)

        def delta2(delta3, W2, z2):
            _no_maths(z2)
        """)
    parts = _parts(grade(source))
    assert parts["sigmoid_prime"][0] == 2
    assert parts["delta3"][0] == 0 and parts["delta2"][0] == 0, parts
    assert "your sigmoid_prime is right on its own question" in parts["delta3"][1]


def test_02_a_function_that_always_raises_carries_nothing_to_callers_that_do_no_maths(grade):
    source = SOLUTION + textwrap.dedent("""

        def sigmoid_prime(z):
            raise NotImplementedError

        def delta3(y, yHat, z3):
            sigmoid_prime(z3)
            raise ValueError("no maths here")

        def delta2(delta3, W2, z2):
            sigmoid_prime(z2)
            raise ValueError("no maths here")
        """)
    parts = _parts(grade(source))
    assert parts["delta3"][0] == 0 and parts["delta2"][0] == 0, parts
    assert parts["delta3"][1].endswith("with a right sigmoid_prime it still fails")  # not what it said


def test_02_an_answer_that_ignores_what_it_called_earns_nothing(grade):
    """sigmoid_prime gives ones (wrong on its own question too); delta3 calls it and leaves it
    out: -(y - yHat) is what the model answer gives with those ones, yet no maths of its own."""
    source = SOLUTION + textwrap.dedent("""

        def sigmoid_prime(z):
            return np.ones_like(z)

        def delta3(y, yHat, z3):
            sigmoid_prime(z3)
            return -(y - yHat)
        """)
    parts = _parts(grade(source))
    assert parts["delta3"][0] == 0, parts
    assert "with a right sigmoid_prime its answer is still wrong" in parts["delta3"][1]


@pytest.mark.parametrize("sigmoid_prime", [
    "def sigmoid_prime(z):\n    return sigmoid(z) * (1 - sigmoid(z)) * 2\n",  # wrong
    "def sigmoid_prime(z):\n    raise NotImplementedError\n",  # not answered yet
])
def test_02_an_honest_function_built_on_a_wrong_or_unanswered_one_keeps_its_credit(grade, sigmoid_prime):
    parts = _parts(grade(with_solution(sigmoid_prime)))
    assert parts["sigmoid_prime"][0] == 0
    assert parts["delta3"][0] == 2 and parts["delta2"][0] == 2 and parts["cost_function_prime"][0] == 2, parts


def test_02_the_calls_given_right_answers_say_nothing_back(grade):
    """Given the model's answers, a function could raise or print them into its own feedback
    (a seeded case's expected values, which 'published' feedback keeps back): neither what it
    raises nor what it prints then is kept."""
    source = SOLUTION + textwrap.dedent("""

        def sigmoid_prime(z):
            raise ValueError("no")

        def delta2(delta3, W2, z2):
            leak = repr(sigmoid_prime(z2).round(6).tolist())  # only when given the right one
            print("LEAK", leak)
            raise ValueError("LEAK " + leak)
        """)
    result = grade(source, options=Options(BACKPROP, limits=FAST.limits, feedback="published"))
    import grader.grading as grading

    model = grading.plan(result.questions and 0, BACKPROP)
    secrets = [repr(c.expected.round(6).tolist())[:12] for c in model if c.question.id == "sigmoid_prime"]
    said = json.dumps([q.feedback for q in result.questions]) + json.dumps(
        [c.message for q in result.questions for c in q.cases]) + result.output
    assert "LEAK" not in said and not any(secret in said for secret in secrets), said[:400]


def test_02_recorded_answers_of_shapes_past_the_cases_are_never_run_in_the_grader():
    """A forward that answers cost_function_prime's inner call with (K2, 1, 1, 1) and (K, 1, 1)
    arrays would make the model answer's formulas broadcast K * K2 * ... elements in the
    grader's own process. Here small (a few MB if it ran); at the trace budget, tens of GB."""
    from grader import assignment
    from grader.grading import plan
    from grader.judge import carry

    work = assignment.default()
    check = next(c for c in plan(0, work) if c.question.id == "cost_function_prime")
    K, K2 = 300, 200
    node = sandbox.Traced("forward", tuple(check.args[i] for i in (0, 2, 3)), "returned",
                          [np.full((K2, 1, 1, 1), 0.5), np.full((1, 1), 0.5),
                           np.full((K, 1, 1), 0.5), np.full((K, 1, 1), 0.5)])
    replayed = carry.replay(work, "cost_function_prime", check.args, (node,))
    assert replayed.value is None and replayed.wrong == () and not replayed.raised


def test_02_gradient_checking_functions_never_written_earn_nothing(grade):
    """compute_gradients and numerical_gradient call cost_function_prime and cost with a flag
    on which those raise, and stop there."""
    from grader import assignment

    work = assignment.load("gradient-checking")
    model = work.model_answer_path.read_text()
    head = model[:model.index("def compute_gradients")].replace(
        "def cost_function_prime(X, y, W1, W2):\n",
        "FLAG = [False]\n\ndef cost_function_prime(X, y, W1, W2):\n    if FLAG[0]:\n        raise ValueError('shapes')\n")
    source = head + textwrap.dedent("""

        def compute_gradients(X, y, W1, W2):
            FLAG[0] = True
            try:
                cost_function_prime(X, y, W1, W2)
            finally:
                FLAG[0] = False
        """)
    result = grade(source, name="gradient_checking.py", options=Options(work, limits=FAST.limits))
    assert _parts(result)["compute_gradients"][0] == 0, _parts(result)


# 1 (found by this round's own red team). Without namespaces.

@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode", ["no-namespaces", "as-user-no-userns"])
def test_01_an_honest_error_is_not_flagged_as_opening_the_graders_files(mode):
    """Saying where an error happened must not read the runner's own source (the grader's)."""
    result, _ = graded_in(mode, with_solution("def dJdW1(X, delta2):\n    return X @ delta2.T @ X\n"))
    assert result.flags == () and scores(result)["dJdW1"] == 0


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode", ["as-user-no-userns", "as-user"])
def test_01_a_files_owner_mode_and_times_stay_as_they_are(mode):
    """Landlock governs opening, not a file's mode: a file of the instructor's own (here a
    classmate's hand-in; ~/.ssh or ~/.bashrc as well) made world-writable would be a way in.
    The filter refuses chmod, chown, utime and xattrs."""
    from conftest import NORMAL_USER

    folder = shared_folder()
    try:
        victim = folder / "bob.py"
        victim.write_text(SOLUTION)
        victim.chmod(0o644)
        os.chown(victim, NORMAL_USER, NORMAL_USER)  # the instructor's, who runs the grader
        before = os.stat(victim)
        source = textwrap.dedent(f"""\
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            TRIED = [libc.chmod({str(victim)!r}.encode(), 0o666), libc.utimes({str(victim)!r}.encode(), None),
                     libc.syscall(452, -100, {str(victim)!r}.encode(), 0o666, 0)]
            def dz3dW2(a2):
                raise RuntimeError(repr(TRIED))
            """)
        (folder / "alice.py").write_text(with_solution(source))
        (folder / "alice.py").chmod(0o644)
        done = grade_in(mode, folder / "alice.py", "--timeout", "2")
        assert done.returncode == 0, done.stderr
        after = os.stat(victim)
        assert (after.st_mode, after.st_mtime_ns) == (before.st_mode, before.st_mtime_ns)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.sandbox
@root_only
def test_01_the_fork_server_takes_no_interrupt_from_a_runner_of_its_user():
    """As a normal user with user namespaces, a runner's user is its fork server's, which is
    PID 1 of their namespace: Python's SIGINT handler would let the runner end it."""
    source = with_solution("import os, signal\ntry:\n    os.kill(1, signal.SIGINT)\nexcept OSError:\n    pass\n")
    result, _ = graded_in("as-user", source)
    assert result.error is None and result.score == BACKPROP.max_score, result.error


@pytest.mark.sandbox
def test_01_the_grader_is_not_dumpable_once_it_has_a_worker():
    """Student code of the grader's own user (no user namespaces, no Landlock) could otherwise
    read and write the grader's memory through /proc."""
    import ctypes

    processes.Worker().close()
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE


def test_08_leftovers_however_deep_are_removed(tmp_path):
    child = _child()
    place = tmp_path / "lock"
    deep = place / "d"
    deep.mkdir(parents=True)
    for _ in range(1500):  # deeper than Python's recursion limit
        deep = deep / "d"
        os.mkdir(deep)
    child["remove_leftovers"](os.getuid(), [str(place)])
    assert list(place.iterdir()) == []


# 3. Every copy of the key, the source tree it was installed from included.

def _checkout_with_copies(where: Path) -> Path:
    """A checkout as pip leaves it after `pip install .`: the source, build/lib (a copy of the
    package) and .git (the model answer as a compressed object)."""
    checkout = where / "backprop-grader"
    (checkout / "build" / "lib" / "assignments" / "backprop" / "solution").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text('[project]\nname = "backprop-grader"\n')
    (checkout / "build" / "lib" / "assignments" / "backprop" / "solution" / "backprop.py").write_text(SOLUTION)
    (checkout / ".git" / "objects" / "pack").mkdir(parents=True)
    (checkout / ".git" / "objects" / "pack" / "pack-1.pack").write_bytes(zlib.compress(SOLUTION.encode()))
    for path in [checkout, *checkout.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return checkout


HUNTER = SOLUTION.replace("def forward(", "def _model_forward(") + textwrap.dedent('''

    import os as _os
    import zlib as _zlib

    def _hunt(place):
        for root, _, files in _os.walk(place):
            for name in files:
                try:
                    with open(_os.path.join(root, name), "rb") as handle:
                        data = handle.read()
                except OSError:
                    continue
                for text in (data, _zlib.decompress(data) if data[:1] == b"x" else b""):
                    if b"def cost_function_prime" in text and b"_hunt" not in text:
                        return text.decode()
        return ""

    def forward(X, W1, W2):
        found = _hunt(%r)
        if found:
            raise RuntimeError(found[-2000:])
        return _model_forward(X, W1, W2)
    ''')


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode", MODES)
def test_03_the_source_tree_pip_installed_from_is_out_of_reach_build_and_git_included(mode):
    where = shared_folder("not-tmp-checkout-")
    try:
        checkout = _checkout_with_copies(where)
        site = where / "site"
        info = site / "backprop_grader-0.1.0.dist-info"
        info.mkdir(parents=True)
        (info / "RECORD").write_text("")
        (info / "direct_url.json").write_text(json.dumps({"url": checkout.as_uri(), "dir_info": {}}))
        for path in [site, *site.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        import grader

        env = {"PYTHONPATH": f"{Path(grader.__file__).resolve().parent.parent}:{site}"}
        result, _ = graded_in(mode, HUNTER % str(checkout), env=env)
        text = json.dumps([q.feedback for q in result.questions])
        assert MODEL_LINE not in text and result.score == BACKPROP.max_score, text[:500]
    finally:
        shutil.rmtree(where, ignore_errors=True)


def test_03_every_worktree_of_the_checkouts_repository_is_a_copy(tmp_path, monkeypatch):
    """`git worktree add` puts a sibling checkout anywhere on the disk (an earlier version's
    model answer in it); the repository's own files list them all."""
    from grader.sandbox import key_copies as copies

    checkout = _checkout_with_copies(tmp_path)
    (checkout / ".git" / "worktrees" / "old").mkdir(parents=True)
    sibling = tmp_path / "elsewhere" / "old-version"
    (sibling / "assignments").mkdir(parents=True)
    (sibling / ".git").write_text(f"gitdir: {checkout / '.git' / 'worktrees' / 'old'}\n")
    (checkout / ".git" / "worktrees" / "old" / "gitdir").write_text(f"{sibling / '.git'}\n")
    (checkout / ".git" / "worktrees" / "old" / "commondir").write_text("../..\n")
    expected = {checkout.resolve(), sibling.resolve(), (checkout / ".git").resolve()}
    assert copies._git_relatives(checkout) >= expected  # from the main checkout
    assert copies._git_relatives(sibling) >= expected  # and from the worktree


def test_03_a_checkout_is_known_by_what_pip_recorded(tmp_path, monkeypatch):
    from grader.sandbox import key_copies as copies

    checkout = _checkout_with_copies(tmp_path)
    site = tmp_path / "site"
    info = site / "backprop_grader-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "direct_url.json").write_text(json.dumps({"url": checkout.as_uri(), "dir_info": {"editable": True}}))
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    copies.source_trees.cache_clear()
    copies.answer_key_copies.cache_clear()
    try:
        assert str(checkout.resolve()) in copies.answer_key_copies()
    finally:
        copies.source_trees.cache_clear()
        copies.answer_key_copies.cache_clear()


# 7. Reach without namespaces: Unix sockets by path, and terminals.

UNIX_AND_TTY = textwrap.dedent("""\
    import ctypes, os, socket
    libc = ctypes.CDLL(None, use_errno=True)
    FOUND = {}
    fd = libc.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0)
    FOUND["socket"] = fd
    if fd >= 0:
        address = %r.encode()
        sockaddr = ctypes.create_string_buffer(b"\\x01\\x00" + address, 110)
        FOUND["connect"] = libc.connect(fd, sockaddr, 110)
        libc.write(fd, b"sign this", 9)
    tty = libc.open(%r.encode(), os.O_WRONLY | os.O_NOCTTY)
    FOUND["tty"] = tty
    if tty >= 0:
        FOUND["wrote"] = libc.write(tty, b"\\x1b]0;pwned\\x07", 10)

    def dz3dW2(a2):
        raise RuntimeError(repr(FOUND))
    """)


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode", MODES)
def test_07_an_agent_socket_by_path_and_the_instructors_terminal_are_out_of_reach(mode):
    # Somewhere every mode's runner can see (not /tmp, which namespaces make private).
    folder = Path("/run") / f"grader-test-{os.getpid()}-{mode}"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    agent = socket.socket(socket.AF_UNIX)
    master, slave = os.openpty()
    try:
        agent.bind(str(folder / "agent.sock"))
        os.chmod(folder / "agent.sock", 0o777)
        agent.listen(1)
        agent.settimeout(0.5)
        terminal = os.ttyname(slave)
        os.chmod(terminal, 0o666)
        result, _ = graded_in(mode, with_solution(UNIX_AND_TTY % (str(folder / "agent.sock"), terminal)))
        found = eval(raised(result, "dz3dW2").split(": ", 1)[1].rsplit(" (line", 1)[0])
        with pytest.raises(socket.timeout):
            agent.accept()
        os.set_blocking(master, False)
        with pytest.raises(BlockingIOError):
            os.read(master, 100)
        assert found["socket"] == -1 and found["tty"] == -1, found
    finally:
        agent.close()
        os.close(master)
        os.close(slave)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.sandbox
@root_only
def test_07_a_machine_without_landlock_or_namespaces_says_so_at_the_top():
    _, stderr = graded_in("no-namespaces", SOLUTION, env={"BACKPROP_GRADER_LANDLOCK": "0"})
    assert "sandbox: no Landlock: BACKPROP_GRADER_LANDLOCK=0" in stderr


# 8. Rough edges.

@pytest.mark.sandbox
@root_only
def test_08_one_infinite_loop_costs_its_own_question_as_root_without_namespaces(monkeypatch):
    """The fresh runner after a timeout starts in the job's own folder, which is no longer
    taken for its user's leftovers."""
    monkeypatch.setenv("BACKPROP_GRADER_NAMESPACES", "0")
    processes.close_all()
    folder = shared_folder()
    try:
        path = folder / "alice.py"
        path.write_text(with_solution("def dz3dW2(a2):\n    import time\n    end = time.time() + 20\n"
                                      "    while time.time() < end:\n        pass\n"))
        result = grade_path(path, Options(BACKPROP, limits=sandbox.Limits(timeout=1.0)))
    finally:
        processes.close_all()
        shutil.rmtree(folder, ignore_errors=True)
    assert result.error is None, result.error
    assert result.score == BACKPROP.max_score - points("dz3dW2"), scores(result)
    assert statuses(result)["dz3dW2"] == "timeout"


COPYCAT = textwrap.dedent("""\
    import os
    STOLEN = ""
    for name in ("bob.py", "../bob.py"):
        for folder in (os.path.dirname(__file__), %r):
            try:
                STOLEN = open(os.path.join(folder, name)).read()
            except OSError:
                pass
    if "def dz3dW2" in STOLEN:
        exec(STOLEN)
    """)


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode", MODES)
def test_08_a_classmates_hand_in_is_out_of_reach_in_every_mode(mode):
    folder = shared_folder()
    try:
        (folder / "bob.py").write_text(SOLUTION)
        (folder / "alice.py").write_text(COPYCAT % str(folder))
        for path in folder.iterdir():
            path.chmod(0o644)
        done = grade_in(mode, folder, "--timeout", "2")
        assert done.returncode == 0, done.stderr
        rows = {s["student"]: s for s in json.loads(done.stdout)["submissions"]}
        assert rows["bob"]["score"] == BACKPROP.max_score and rows["alice"]["score"] == 0, rows["alice"]["score"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


SPINNER = textwrap.dedent("""\
    import os, time
    # Children in sessions of their own that spin (each for 20 s at most), while this file's
    # calls each take a while but stay within their own time: the classmate graded beside it
    # loses its CPU.
    for _ in range(6):
        if os.fork() == 0:
            os.setsid()
            end = time.time() + 20
            while time.time() < end:
                pass
            os._exit(0)
    """) + SOLUTION.replace("def sigmoid_prime(z):", "def sigmoid_prime(z):\n    time.sleep(0.3)")

# Its cost_function_prime needs 0.25 s of CPU, within its 0.5 s; 1.25 s in all, within 3.
HONEST_BUT_SLOW = SOLUTION.replace("def cost_function_prime(X, y, W1, W2):", textwrap.dedent("""\
    def _busy(seconds):
        import time
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    def cost_function_prime(X, y, W1, W2):
        _busy(0.25)"""))


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("mode", ["namespaces", "no-namespaces"])
def test_08_a_neighbours_spinning_children_cost_an_honest_call_nothing(mode):
    """Graded two at a time on this machine: the honest file's cost_function_prime needs a
    quarter of a second of CPU, within its half second, while the spinner's children take
    most of the machine. Time a runner waited for a CPU others held is not its own."""
    folder = shared_folder()
    try:
        (folder / "a_spinner.py").write_text(SPINNER)
        (folder / "b_honest.py").write_text(HONEST_BUT_SLOW)
        for path in folder.iterdir():
            path.chmod(0o644)
        done = grade_in(mode, folder, "--timeout", "0.5", "--jobs", "2")
        assert done.returncode == 0, done.stderr
        rows = {s["student"]: s for s in json.loads(done.stdout)["submissions"]}
        honest = {q["id"]: q["status"] for q in rows["b_honest"]["questions"]}
        assert rows["b_honest"]["score"] == BACKPROP.max_score, honest

    finally:
        shutil.rmtree(folder, ignore_errors=True)
