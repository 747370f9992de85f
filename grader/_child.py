"""The program that runs inside a student's sandboxed process.

It is started as ``python -I -c <this file's text> EVENT_FD MEMORY_MB`` with the job as JSON on
stdin, and it must stay small and import only the standard library and numpy: it never imports
the grader, and it decides nothing. It runs the student's cells one top-level statement at a
time, calls the functions it is asked to call, and writes what happened as JSON lines on
EVENT_FD, one event per line, answers encoded as plain numbers and lists. Every verdict is made
by the grader from those plain values.

Events, in order:
  {"event": "stmt", "cell": c, "index": i, "line": n}     before each top-level statement
  {"event": "error", "cell": c, "line": n, "message": m}  a statement raised; the cell stops
  {"event": "loaded", "defined": [names]}                 every cell has run
  {"event": "start", "call": k}                           before each call
  {"event": "result", "call": k, "status": "returned", "value": v}
                                        ... "status": "raised" | "missing", "message": m
"""

import json
import os
import resource
import sys
import traceback


def _limit_resources(memory_mb):
    # Set before any student code exists; the grader also kills the process group on timeout.
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main():
    event_fd = int(sys.argv[1])
    _limit_resources(int(sys.argv[2]))
    job = json.loads(sys.stdin.buffer.read())
    # input() must fail at once rather than wait: stdin is now empty and at EOF.
    sys.stdin = open(os.devnull)

    import numpy as np

    # Bound before student code runs, so that patching numpy or json cannot change how
    # answers are encoded.
    write, dumps = os.write, json.dumps
    asarray, ndarray, view = np.asarray, np.ndarray, np.ndarray.view
    integer, floating, bool_ = np.integer, np.floating, np.bool_
    max_elements = job["max_elements"]

    def send(**event):
        write(event_fd, (dumps(event) + "\n").encode())

    class TooBig(Exception):
        pass

    def encode(value, budget):
        """Plain JSON for an answer: numbers, lists, {"array": shape, "data": [...]}."""
        if value is None or isinstance(value, (bool, bool_)):
            return None if value is None else bool(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, (float, floating)):
            return float(value)
        if isinstance(value, integer):
            return int(value)
        if isinstance(value, str):
            return {"str": value[:1000]}
        if isinstance(value, (list, tuple)):
            if len(value) > budget[0]:
                raise TooBig(f"a sequence of {len(value)} items")
            return [encode(item, budget) for item in value]
        if isinstance(value, ndarray):
            array = view(value, ndarray)  # drop any subclass: its shape or __eq__ may lie
        else:
            try:
                array = asarray(value)
            except Exception:
                return {"unsupported": type(value).__name__}
            array = view(array, ndarray)
        if array.size > budget[0]:
            raise TooBig(f"an array of shape {tuple(array.shape)}")
        budget[0] -= array.size
        if array.dtype.kind not in "biuf":
            try:
                array = array.astype(float)
            except Exception:
                return {"unsupported": f"array of {array.dtype}"}
        return {"array": list(array.shape), "data": array.astype(float).ravel().tolist()}

    def decode(value):
        if isinstance(value, dict):
            return np.array(value["data"], dtype=float).reshape(value["array"])
        return value

    def error_line(tb, filenames):
        line = cell = None
        for frame in traceback.extract_tb(tb):
            if frame.filename in filenames:
                cell, line = filenames[frame.filename], frame.lineno
        return cell, line

    def describe(exc):
        if isinstance(exc, SystemExit):
            return f"called sys.exit({exc.code!r})" if exc.code is not None else "called sys.exit()"
        text = str(exc)
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    import __future__
    import ast
    import types

    module = types.ModuleType("submission")
    module.__file__ = job["cells"][0]["filename"] if job["cells"] else "submission.py"
    sys.modules["submission"] = module
    namespace = module.__dict__
    filenames = {cell["filename"]: index for index, cell in enumerate(job["cells"])}
    stop_at = {int(cell): index for cell, index in job["stop_at"].items()}
    flags = 0

    for cell_index, cell in enumerate(job["cells"]):
        try:
            tree = ast.parse(cell["source"], cell["filename"])
        except (SyntaxError, ValueError) as exc:
            send(event="error", cell=cell_index, line=getattr(exc, "lineno", None),
                 message=f"{type(exc).__name__}: {getattr(exc, 'msg', exc)}")
            continue
        for index, statement in enumerate(tree.body):
            if index >= stop_at.get(cell_index, len(tree.body)):
                break
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                for alias in statement.names:
                    feature = getattr(__future__, alias.name, None)
                    flags |= getattr(feature, "compiler_flag", 0)
            send(event="stmt", cell=cell_index, index=index, line=statement.lineno)
            try:
                code = compile(ast.Module(body=[statement], type_ignores=[]), cell["filename"],
                               "exec", flags=flags, dont_inherit=True)
                exec(code, namespace)
            except BaseException as exc:  # noqa: B036 - SystemExit too: the module stops here
                cell_no, line = error_line(exc.__traceback__, filenames)
                send(event="error", cell=cell_index, line=line or statement.lineno,
                     message=describe(exc))
                break
    send(event="loaded", defined=sorted(k for k, v in namespace.items()
                                        if callable(v) and not k.startswith("__")))
    sys.stdout.flush()

    for call in job["calls"]:
        key = call["key"]
        function = next((namespace[n] for n in call["names"] if callable(namespace.get(n))), None)
        if function is None:
            send(event="result", call=key, status="missing", message="not defined")
            continue
        args = [decode(arg) for arg in call["args"]]
        send(event="start", call=key)
        try:
            value = function(*args)
            encoded = encode(value, [max_elements])
        except TooBig as exc:
            send(event="result", call=key, status="refused",
                 message=f"returned {exc}, more than the {max_elements} numbers an answer may hold")
            continue
        except BaseException as exc:  # noqa: B036 - SystemExit and KeyboardInterrupt too
            cell_no, line = error_line(exc.__traceback__, filenames)
            send(event="result", call=key, status="raised", message=describe(exc),
                 cell=cell_no, line=line)
            continue
        send(event="result", call=key, status="returned", value=encoded)
    sys.stdout.flush()


main()
