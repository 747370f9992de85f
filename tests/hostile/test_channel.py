"""Hostile submissions, second round: the channel from the student's process is untrusted input;
nothing to harvest; disk, links, signals, memory. One test per attack, numbered as in the
issue that found them.

Every hostile submission here bounds itself: sleeps end within a minute, files are few and
written into its own private folders (or a small tmpfs the test mounts and removes), children
are few and exit on their own, allocations are small.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

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
    with_solution,
)
from grader import sandbox
from grader.batch import feedback_file_name
from grader.grading import Options, grade_path

AS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not AS_ROOT, reason="the modes are taken from root")
TWO_SECONDS = Options(BACKPROP, limits=sandbox.Limits(timeout=2.0))
FULL = BACKPROP.max_score  # what the model answer earns: a threat that costs nothing leaves it so


def question(result, question_id):
    return next(q for q in result.questions if q.question.id == question_id)


def _dz3dW2(row: dict) -> dict:
    """A report row's dz3dW2, where the probes below raise what they saw."""
    return next(q for q in row["questions"] if q["id"] == "dz3dW2")


def _class(tmp_path: Path, **students: str) -> Path:

    folder = tmp_path / "class"
    folder.mkdir()
    for name, source in students.items():
        (folder / f"{name}.py").write_text(source)
    return folder


def _grade_class(folder: Path, *options: str, env: dict | None = None, timeout: float = 240):
    done = subprocess.run([sys.executable, "-m", "grader", str(folder), "--no-cache", "--format",
                           "json", *options], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    return {s["student"]: s for s in json.loads(done.stdout)["submissions"]}, done


def _graded_as_user(klass: Path, sources: dict[str, str], jobs: int) -> dict:
    """The class written into a folder every user may enter, graded by a normal user's `grade`."""
    for name, source in sources.items():
        (klass / f"{name}.py").write_text(source)
        (klass / f"{name}.py").chmod(0o644)
    done = run_as_user([sys.executable, "-m", "grader", str(klass), "--no-cache", "--format",
                        "json", "--jobs", str(jobs)], cwd=klass)
    assert done.returncode == 0, done.stderr
    return {s["student"]: s for s in json.loads(done.stdout)["submissions"]}


def _running(marker: str) -> bool:
    return bool(live_processes_running(marker))


def _sandbox_processes() -> set[int]:
    """Live processes running the sandbox's program (workers, fork servers, runners)."""
    return live_processes_running("def runner_main")


# Writes bytes to every descriptor the student's process holds: wherever its channel is.
WRITE_EVERYWHERE = textwrap.dedent("""\
    import os as _os

    def _write_everywhere(data):
        for fd in range(3, 64):
            try:
                _os.write(fd, data)
            except OSError:
                pass
    """)


# 1. A forged end, then a hang.
@pytest.mark.sandbox
def test_01_a_forged_end_then_a_hang_costs_a_bounded_time_and_leaves_nothing(tmp_path):
    liar = with_solution(WRITE_EVERYWHERE + textwrap.dedent("""\
        import sys, time

        class Liar:
            def write(self, text):
                return len(text)

            def flush(self):
                _write_everywhere(b'{"event": "exit", "code": 0}\\n' + b'\\x00\\x00\\x00\\x02Z\\x00')
                time.sleep(40)

        sys.stdout = Liar()
        """))
    folder = _class(tmp_path, ann=SOLUTION, liar=liar, zoe=SOLUTION)
    before = _sandbox_processes()  # this test process's own workers, if any
    started = time.monotonic()
    rows, _ = _grade_class(folder, "--timeout", "2", "--jobs", "2")
    assert time.monotonic() - started < 60  # its budget is 6 x 2 s; the others run beside it
    assert rows["ann"]["score"] == FULL and rows["zoe"]["score"] == FULL
    assert rows["liar"]["status"] == "graded" and "interfered with the grader" in rows["liar"]["flags"]
    deadline = time.monotonic() + 5  # they end with the grader, as the kernel gets to it
    while _sandbox_processes() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _sandbox_processes() - before  # its workers, fork servers and runners all gone


# 2. Forged results for calls never asked: bounded, refused, flagged.
@pytest.mark.sandbox
def test_02_forged_results_end_the_run_and_the_graders_memory_stays_small(tmp_path):
    flood = with_solution(WRITE_EVERYWHERE + textwrap.dedent("""\
        import struct
        nested = b"l\\x00\\x00\\x00\\x01" * 30 + b"N"
        body = b"R" + struct.pack(">I", 99999) + b"l" + struct.pack(">I", 200_000) + b"N" * 200_000
        for _ in range(20):  # 20 x 200 KB of answers to a call that was never asked
            _write_everywhere(struct.pack(">I", len(body)) + body)
        _write_everywhere(struct.pack(">I", 40_000_000) + b"R" + b"x" * 1_000_000)  # a 40 MB claim
        """))
    path = tmp_path / "flood.py"
    path.write_text(flood)
    measure = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:]);"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", measure, sys.executable, "-m", "grader", str(path),
                           "--no-cache", "--format", "json", "-o", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120)
    peak_kb = int(done.stdout.strip().splitlines()[-1])
    assert peak_kb < 400 * 1024, peak_kb  # the grader, its worker and the student's process
    report = json.loads((tmp_path / "r.json").read_text())["submissions"][0]
    assert report["flags"] == ["interfered with the grader"] and report["score"] == 0
    assert "the submission interfered with the grader" in report["questions"][0]["feedback"]


# 3. Forged flags, and a silenced channel.
def test_03_a_forged_flag_is_dropped_and_a_silenced_channel_is_flagged(grade):
    marker = f"2{os.getpid() % 1000}.5"  # `sleep` ends by itself anyway
    source = with_solution(WRITE_EVERYWHERE + textwrap.dedent(f"""\
        import os, subprocess
        _write_everywhere(b'\\x00\\x00\\x00\\x15G=HYPERLINK("x","y")')
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in range(3, 64):
            if fd != devnull:
                try:
                    os.dup2(devnull, fd)  # every descriptor, the channel too, now goes nowhere
                except OSError:
                    pass
        subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
        """))
    result = grade(source, options=TWO_SECONDS)
    assert not any("HYPERLINK" in flag for flag in result.flags)
    assert "silenced its channel to the grader" in result.flags
    assert "left processes running" in result.flags  # seen from outside, whatever it silenced
    assert not _running(marker)


# 4. One budget per submission, whatever it does.
def test_04_a_file_slow_everywhere_is_bounded_by_its_budget(grade):
    slow = "import time\n" + "".join(
        f"def {name}(*args):\n    time.sleep(1.5)\n"
        for name in ("forward", "cost", "per_example_dJdW2", "dJdyHat", "sigmoid_prime", "delta3",
                     "dz3dW2", "dJdW2", "delta2", "dJdW1", "cost_function_prime"))
    started = time.monotonic()
    result = grade(slow, options=TWO_SECONDS)
    assert time.monotonic() - started < 12 + 10  # 6 x 2 s, and the process's start
    assert any("time (12 s in all) ran out" in c.message for q in result.questions for c in q.cases)


# 5. Disk: private and capped; the grader's own writes survive a full disk.
@root_only
def test_05_a_submission_that_fills_its_folders_hits_its_own_cap(grade):
    fill = with_solution(textwrap.dedent("""\
        import os
        WROTE = 0
        try:
            for index in range(12):
                with open(f"big-{index}", "wb") as out:
                    out.write(b"x" * 16_000_000)
                WROTE += 1
        except OSError as exc:
            ERROR = exc.strerror
        def dz3dW2(a2):
            raise RuntimeError(f"{WROTE} {ERROR}")
        """))
    result = grade(fill)
    wrote, error = question(result, "dz3dW2").cases[0].message.split(": ", 1)[1].split(" ", 1)
    assert int(wrote) < 5 and error.startswith("No space left")  # 64 MB, far below 12 x 16
    assert result.score == FULL - points("dz3dW2")


@pytest.mark.sandbox
@root_only
def test_05_the_class_run_finishes_and_keeps_everything_when_the_disk_is_full(tmp_path):
    """The grader's own writes (spool, result store, report) on a disk with no room left, as
    a submission without namespaces could leave it: every row is still reported, and what
    could not be kept is said."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], check=True)
    try:
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:  # no room left, to the last page, as a student's files would leave it
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            os.close(fd)
        students = {f"s{index:02d}": SOLUTION for index in range(6)}
        folder = _class(tmp_path, **students)
        done = subprocess.run([sys.executable, "-m", "grader", str(folder), "--format", "json",
                               "--cache-dir", str(disk / "cache"), "-o", str(disk / "report.json"),
                               "--feedback-dir", str(disk / "feedback")],
                              capture_output=True, text=True, timeout=240,
                              env={**os.environ, "TMPDIR": str(disk)})
        assert done.returncode == 0, done.stderr
        rows = {s["student"]: s for s in json.loads(done.stdout)["submissions"]}
        assert set(rows) == set(students) and all(r["score"] == FULL for r in rows.values())
        assert "the report could not be written" in done.stderr
        assert "could not be kept in" in done.stderr and "no feedback file could be written" in done.stderr
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_05_the_spool_keeps_in_memory_what_the_disk_refuses(monkeypatch):
    from grader.batch import Spool
    from grader.intake.discovery import Entry
    from grader.results import SubmissionResult

    monkeypatch.setattr(Spool, "CHUNK", 1)  # every result written as it comes
    spool = Spool(BACKPROP)
    spool.add(SubmissionResult("ann", "ann.py", error="x"))

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool._file, "write", full)
    spool.add(SubmissionResult("ben", "ben.py", error="y"))
    entries = [Entry("ann", Path("ann.py")), Entry("ben", Path("ben.py"))]
    assert [r.error for r in spool.in_order(entries)] == ["x", "y"] and spool.in_memory == 1


def test_05_results_not_yet_written_when_the_disk_fills_are_kept(monkeypatch):
    """Results gathered for one write: the write refused, every one of them is still there."""
    from grader.batch import Spool
    from grader.intake.discovery import Entry
    from grader.results import SubmissionResult

    spool = Spool(BACKPROP)
    names = [f"s{index}" for index in range(5)]
    for name in names[:2]:
        spool.add(SubmissionResult(name, f"{name}.py", error=name))
    spool._write_pending()  # these two reach the disk

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(spool._file, "write", full)
    for name in names[2:]:
        spool.add(SubmissionResult(name, f"{name}.py", error=name))
    entries = [Entry(name, Path(f"{name}.py")) for name in names]
    assert [r.error for r in spool.in_order(entries)] == names and spool.in_memory == 3


# 6. Folders a normal user's grader can't read get their own row; the class is graded.
@pytest.mark.sandbox
@root_only
def test_06_an_unreadable_student_folder_is_its_own_error_row(tmp_path):
    klass = shared_folder()
    try:
        (klass / "ann.py").write_text(SOLUTION)
        (klass / "ann.py").chmod(0o644)
        (klass / "locked").mkdir(mode=0o700)  # root's: the user grading can't enter it
        (klass / "locked" / "backprop.py").write_text(SOLUTION)
        done = run_as_user([sys.executable, "-m", "grader", str(klass), "--no-cache", "--format",
                            "json"], cwd=klass)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        rows = {s["student"]: s for s in json.loads(done.stdout)["submissions"]}
        assert rows["ann"]["score"] == FULL
        assert rows["locked"]["status"] == "error" and "can't be read" in rows["locked"]["error"]
    finally:
        shutil.rmtree(klass, ignore_errors=True)


# 7. A user per worker: a student that kills everything it may kills only itself.
KILL_ALL = with_solution("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n")


@pytest.mark.sandbox
@root_only
@pytest.mark.parametrize("namespaces", ["1", "0"])
def test_07_kill_minus_one_takes_down_nobody_else(tmp_path, namespaces):
    students = {f"s{index}": SOLUTION for index in range(6)}
    folder = _class(tmp_path, killer=KILL_ALL, **students)
    rows, _ = _grade_class(folder, "--jobs", "2", env={"BACKPROP_GRADER_NAMESPACES": namespaces})
    assert all(rows[s]["score"] == FULL for s in students), {s: rows[s]["score"] for s in students}


@pytest.mark.sandbox
@root_only
def test_07_a_normal_users_grader_survives_kill_minus_one_with_user_namespaces(tmp_path):
    klass = shared_folder()
    try:
        rows = _graded_as_user(klass, {"ann": SOLUTION, "killer": KILL_ALL, "zoe": SOLUTION}, jobs=2)
        assert rows["ann"]["score"] == FULL and rows["zoe"]["score"] == FULL
        info = run_as_user([sys.executable, "-m", "grader", "--sandbox-info"], cwd=klass,
                           env={"BACKPROP_GRADER_USERNS": "0"})
        # Without user namespaces it is the instructor's own user, said plainly; Landlock (on
        # a kernel that has it) still keeps it from signalling anything but its own processes.
        assert "no: student code runs as your own user, with your rights" in info.stdout
        assert "[x] runs as a user of the grader's own" not in info.stdout
        assert "[x] file access confined by Landlock" in info.stdout
    finally:
        shutil.rmtree(klass, ignore_errors=True)


# 8. The audit hook resolves a path opened relative to a folder descriptor.
@root_only
def test_08_opening_the_model_answer_with_dir_fd_is_blocked_and_flagged(grade, monkeypatch):
    monkeypatch.setenv("BACKPROP_GRADER_NAMESPACES", "0")  # the hook is the only wall here
    monkeypatch.setenv("BACKPROP_GRADER_LANDLOCK", "0")
    source = textwrap.dedent(f"""\
        import os
        try:
            folder = os.open({str(ROOT)!r}, os.O_RDONLY)
            fd = os.open("solutions/backprop/backprop.py", os.O_RDONLY, dir_fd=folder)
            LEAKED = os.read(fd, 100)
        except OSError:
            LEAKED = None
        def dz3dW2(a2):
            return a2.T if LEAKED is None else None
        """)
    result = grade(source)
    assert "opened the grader's files" in result.flags and scores(result)["dz3dW2"] == points("dz3dW2")


# 9. Nothing to harvest: no argument gives away another question's answer.
def test_09_answers_harvested_from_the_processes_memory_score_nothing(grade):
    harvester = with_solution(textwrap.dedent("""\
        import gc
        import numpy as _np

        def _arrays():
            # Every array this process holds: calls it was sent, decoded or not, and the rest.
            for obj in gc.get_objects():
                if isinstance(obj, _np.ndarray):
                    yield obj
                elif isinstance(obj, dict) and "array" in obj and isinstance(obj.get("data"), list):
                    try:
                        yield _np.array(obj["data"], dtype=float).reshape(obj["array"])
                    except (ValueError, TypeError):
                        pass
                elif isinstance(obj, list):
                    for item in obj:
                        if isinstance(item, _np.ndarray):
                            yield item

        def _seen(shape, exclude):
            for item in _arrays():
                if item.shape == shape and not any(_np.array_equal(item, other) for other in exclude):
                    return item
            return None

        def delta3(y, yHat, z3):
            found = _seen(y.shape, (y, yHat, z3))
            return found if found is not None else _np.zeros_like(y)

        def delta2(delta3, W2, z2):
            found = _seen(z2.shape, (delta3, z2))
            return found if found is not None else _np.zeros_like(z2)
        """))
    result = grade(harvester)
    assert scores(result)["delta3"] == 0 and scores(result)["delta2"] == 0


# 10. Nothing of a classmate in a process's memory.
@pytest.mark.sandbox
def test_10_a_student_cannot_find_a_classmates_code_in_its_memory(tmp_path):
    # A long file, as real ones are, its words all through it: freed memory keeps some.
    first = SOLUTION + "".join(f"\n# note {i}: CLASSMATE-MARKER-31415926" for i in range(400))
    scanner = with_solution(textwrap.dedent("""\
        import numpy as _np

        def _scan():
            # The marker never exists here as contiguous bytes (that would find itself): it is
            # kept as 16-bit numbers, and memory is copied into one reused buffer, straight
            # from this process's own address space (no /proc/self/mem needed).
            import ctypes
            needle = _np.array([ord(c) for c in reversed("62951413-REKRAM-ETAMSSALC")], dtype=_np.uint16)
            buffer = _np.zeros(16 * 2 ** 20, dtype=_np.uint8)
            with open("/proc/self/maps") as maps:
                regions = [line.split() for line in maps]
            for fields in regions:
                span, perms = fields[:2]
                name = fields[5] if len(fields) > 5 else ""
                if not perms.startswith("r") or name.startswith("[v"):
                    continue
                start, end = (int(x, 16) for x in span.split("-"))
                for at in range(start, end, len(buffer)):
                    size = min(len(buffer), end - at)
                    ctypes.memmove(buffer.ctypes.data, at, size)
                    window = buffer[:size]
                    for index in _np.nonzero(window[:size - len(needle)] == needle[0])[0]:
                        if _np.array_equal(window[index:index + len(needle)], needle):
                            return True
            return False

        FOUND = _scan()

        def dz3dW2(a2):
            return a2.T if not FOUND else None
        """))
    # The scanner finds what is there: the marker in its own file (a control)...
    own = scanner + "\n# CLASSMATE-MARKER-31415926, in its own file\n"
    folder = _class(tmp_path, a_first=first, b_scanner=scanner, c_control=own)
    rows, _ = _grade_class(folder, "--jobs", "1")  # one worker: the scanner comes after
    assert rows["c_control"]["score"] == FULL - points("dz3dW2")
    assert rows["b_scanner"]["score"] == FULL  # ...and nothing of the classmate before it


# 11. Outputs, other writable places and shared memory.
@pytest.mark.sandbox
@root_only
def test_11_outputs_writable_places_and_shared_memory_are_private(tmp_path):
    feedback = tmp_path / "feedback"
    left = f"left-by-a-student-{os.getpid()}"
    probe = with_solution(textwrap.dedent(f"""\
        import ctypes, os
        SEEN = []
        try:
            SEEN = os.listdir({str(feedback)!r})
        except OSError:
            pass
        LOCKED = False
        for place in ("/run/lock", "/var/lock"):
            try:
                with open(os.path.join(place, {left!r}), "w") as out:
                    out.write("x")
                LOCKED = True
            except OSError:
                pass
        libc = ctypes.CDLL(None)
        SEGMENT = libc.shmget(0, 1 << 20, 0o1666)  # IPC_PRIVATE, IPC_CREAT | 0666
        def dz3dW2(a2):
            raise RuntimeError(repr((SEEN, LOCKED, SEGMENT)))
        """))
    folder = _class(tmp_path, a_first=SOLUTION, b_probe=probe)
    segments_before = Path("/proc/sysvipc/shm").read_text().count("\n")
    rows, _ = _grade_class(folder, "--jobs", "1", "--feedback-dir", str(feedback))
    message = _dz3dW2(rows["b_probe"])["cases"][0]["message"]
    seen, locked, segment = eval(message.split(": ", 1)[1].rsplit(" (line", 1)[0])
    assert seen == [] and locked is False
    assert segment >= 0  # it made one...
    assert Path("/proc/sysvipc/shm").read_text().count("\n") == segments_before  # ...gone with it
    assert not any(Path(p, left).exists() for p in ("/run/lock", "/var/lock"))
    assert sorted(p.name for p in feedback.iterdir()) == ["a_first.md", "b_probe.md"]


def _writer(places: list[str], name: str) -> str:
    """A submission that tries to leave a file in each place, and says where it could."""
    return with_solution(textwrap.dedent(f"""\
        import os
        WROTE = []
        for place in {places!r}:
            try:
                with open(os.path.join(place, {name!r}), "w") as out:
                    out.write("x")
                WROTE.append(place)
            except OSError:
                pass
        def dz3dW2(a2):
            raise RuntimeError(repr(WROTE))
        """))


def _wrote(row: dict) -> list:
    message = _dz3dW2(row)["cases"][0]["message"]
    return eval(message.split(": ", 1)[1].rsplit(" (line", 1)[0])


@pytest.mark.sandbox
@root_only
def test_11_nothing_outside_the_private_folders_is_writable_however_deep(tmp_path):
    """Read-only everywhere, not folder by folder: a world-writable folder five levels down,
    which no walk of the tree would reach in time, is read-only too."""
    base = Path(f"/var/lib/grader-test-{os.getpid()}")
    deep = base / "a" / "b" / "c"
    name = f"left-by-a-student-{os.getpid()}"
    try:
        deep.mkdir(parents=True)
        for folder in (base, base / "a", base / "a" / "b"):
            folder.chmod(0o755)
        deep.chmod(0o777)  # only the deepest: below where a walk of the tree looks
        folder = _class(tmp_path, writer=_writer([str(deep), "/tmp"], name))
        rows, _ = _grade_class(folder)
        assert _wrote(rows["writer"]) == ["/tmp"]  # its own private /tmp, and nothing else
        assert not (deep / name).exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.sandbox
@root_only
def test_11_a_normal_users_grader_keeps_its_own_files_out_of_reach(tmp_path):
    """Without root, student code runs as the instructor's own user (in a user namespace):
    the instructor's folders outside home are read-only to it all the same."""
    own = Path(f"/var/lib/grader-test-own-{os.getpid()}")
    klass = shared_folder()
    name = f"left-by-a-student-{os.getpid()}"
    try:
        own.mkdir(mode=0o755)
        os.chown(own, NORMAL_USER, NORMAL_USER)
        (klass / "writer.py").write_text(_writer([str(own), "/tmp"], name))
        (klass / "writer.py").chmod(0o644)
        done = run_as_user([sys.executable, "-m", "grader", str(klass), "--no-cache", "--format",
                            "json"], cwd=klass)
        assert done.returncode == 0, done.stderr
        row = json.loads(done.stdout)["submissions"][0]
        assert _wrote(row) == ["/tmp"]
        assert not (own / name).exists()
    finally:
        shutil.rmtree(own, ignore_errors=True)
        shutil.rmtree(klass, ignore_errors=True)


# 12. As a normal user: killing its supervisor, detaching, hunting the grader.
@pytest.mark.sandbox
@root_only
def test_12_a_normal_users_grader_outlives_its_students_and_nothing_outlives_it(tmp_path):
    marker = f"3{os.getpid() % 1000}.25"
    escape = with_solution(textwrap.dedent(f"""\
        import os, signal, subprocess
        subprocess.Popen(["sleep", "{marker}"], start_new_session=True)  # detached
        for pid in filter(str.isdigit, os.listdir("/proc")):  # every process it can see
            try:
                if int(pid) != os.getpid():
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        try:
            os.kill(os.getppid(), signal.SIGKILL)
        except OSError:
            pass
        """))
    klass = shared_folder()
    try:
        rows = _graded_as_user(klass, {"ann": SOLUTION, "escape": escape}, jobs=1)
        assert rows["ann"]["score"] == FULL and rows["escape"]["status"] == "graded"
        time.sleep(0.5)
        assert not _running(marker)
    finally:
        shutil.rmtree(klass, ignore_errors=True)


# 13. Rough edges.
@pytest.mark.sandbox
def test_13_escape_codes_and_newlines_in_names_and_messages_are_written_out(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "evil\x1b[2Jname.py").write_text(SOLUTION)
    (folder / "two\nlines.py").write_text(with_solution(
        "def dz3dW2(a2):\n    raise RuntimeError('\\x1b[31mred\\nfake   20   row')\n"))
    table = run_cli(str(folder), "--no-cache", "-q").stdout
    assert "\x1b" not in table and "\\x1b" in table
    assert "\\n" in table and not any(line.startswith("lines") for line in table.splitlines())
    csv_text = run_cli(str(folder), "--no-cache", "--format", "csv").stdout
    assert "\x1b" not in csv_text
    page = tmp_path / "report.html"
    run_cli(str(folder), "--no-cache", "-q", "--html", str(page))
    assert "\x1b" not in page.read_text()


def test_13_a_number_too_big_for_a_float_is_a_wrong_answer(grade):
    result = grade(with_solution("def dz3dW2(a2):\n    return 10 ** 400\n"))
    assert result.status == "graded" and scores(result)["dz3dW2"] == 0
    assert "numpy cannot read" in question(result, "dz3dW2").cases[0].message


def test_13_a_notebook_of_a_million_cells_is_refused_quickly(grade):
    cell = '{"cell_type":"code","source":"x"}'  # 27 MB in all: a size a notebook may have
    text = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [' + ",".join([cell] * 800_000) + "]}"
    started = time.monotonic()
    result = grade(text, "many.ipynb")
    assert time.monotonic() - started < 10
    assert result.status == "error" and "800000 cells" in result.error


@pytest.mark.sandbox
def test_a_huge_sparse_file_is_refused_without_being_read(tmp_path):
    path = tmp_path / "sparse.py"
    with open(path, "wb") as out:
        out.truncate(20 * 2 ** 30)  # 20 GB of nothing: no disk used
    started = time.monotonic()
    result = grade_path(path, FAST)
    assert time.monotonic() - started < 10
    assert result.status == "error" and "more than the" in result.error


def test_a_flood_of_errors_and_flags_is_bounded(grade):
    flood = with_solution(WRITE_EVERYWHERE + textwrap.dedent("""\
        import struct
        error = b"E" + struct.pack(">HII", 0, 0, 1) + b"x" * 500
        flag = b"Gstarted a process"
        frames = (struct.pack(">I", len(error)) + error) * 2000 + (struct.pack(">I", len(flag)) + flag) * 2000
        _write_everywhere(frames)
        """))
    result = grade(flood)
    assert len(result.load_errors) <= 1000 and len(result.flags) <= 8


@pytest.mark.sandbox
def test_students_whose_names_make_the_same_file_get_two_feedback_files(tmp_path):
    folder = _class(tmp_path, **{"bob smith": SOLUTION, "bob_smith": SOLUTION.replace("def cost(", "def _cost(")})
    feedback = tmp_path / "feedback"
    run_cli(str(folder), "--no-cache", "-q", "--feedback-dir", str(feedback))
    files = sorted(p.name for p in feedback.iterdir())
    assert files == [feedback_file_name("bob smith"), "bob_smith.md"] and files[0].startswith("bob_smith+")
    texts = {f: (feedback / f).read_text() for f in files}
    assert sum(f"Score: {FULL:g} / {FULL:g}" in t for t in texts.values()) == 1


def test_02_a_forged_cell_announcement_ends_the_run(grade):
    # A cell announced again (as if the worker should run it a statement at a time): refused.
    forger = with_solution(WRITE_EVERYWHERE + textwrap.dedent("""\
        import struct
        _write_everywhere(struct.pack(">I", 11) + b"A" + struct.pack(">HII", 0, 0, 0))
        """))
    result = grade(forger)
    assert "interfered with the grader" in result.flags and result.score == 0
