"""Making the grader's calls on the student's functions: which function answers (the student's
own, or the series' class through the assignment's adapter), with its parameters in the stub's
order or by name, traced (which graded functions a judged call used, for credit carried
forward), given right answers where asked, and J around the weights for the own-gradient check.

Part of the program that runs student code, where the runner uses it (`Answerer`); the grader's
in-process self-check (`grader.selfcheck.notebook`, in the student's own kernel) makes the same
calls with the same pieces. Standard library and numpy only; it decides nothing.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .protocol import OWN_COST, TRACE_FIELDS, fingerprint
from .wire import MAX_ANSWER, NONE, UNLIMITED, Encode, TooBig, decode, encoded_list

Function = Callable[..., Any]
Record = dict[str, Any]  # a call's result, by RESULT_FIELDS name
# A graded call a judged call made: [question id, arguments in the stub's order, answer].
Used = list[Any]


def series_adapter(spec: Any, namespace: dict[str, Any], traced: Callable[[str, Function], Function]
                   ) -> Callable[[str], Function | None] | None:
    """The assignment's adapter for the series' own class, if the student defined that class:
    a function from a question id to a function with the stub's signature (or None). The
    adapter's source comes from the assignment's folder (its series.py), through the contract;
    `traced(question_id, function)` lets a method's use be seen (credit carried forward)."""
    name = spec.get("class") if isinstance(spec, dict) else None
    series = namespace.get(name) if name else None
    if not isinstance(series, type) or not spec.get("adapter"):
        return None
    scope = {"__name__": "series_adapter"}
    exec(compile(spec["adapter"], "<the assignment's series adapter>", "exec"), scope)
    make, questions = scope.get("adapter"), set(spec.get("questions", ()))
    if not callable(make):
        return None

    def for_question(question: str) -> Function | None:
        return make(series, question, traced, namespace) if question in questions else None

    return for_question


def own_cost_values(spec: dict[str, Any], functions: dict[str, Any], args: Sequence[Any]) -> list[float]:
    """J at each weight pushed up, then down, by epsilon (the call's last argument), every
    other argument as given: `spec["J"]` is J as an expression over the student's own
    functions (`functions`, by the names the assignment gives them) and the call's other
    arguments (named by `spec["arguments"]`, in order); each entry of each argument named in
    `spec["weights"]` is pushed in turn, row by row. Each J is summed to one number; the
    differences are taken by the grader. The student's functions are called as they are."""
    import numpy as np

    *values, epsilon = args
    named = dict(zip(spec["arguments"], values, strict=True))
    J = compile(spec["J"], "<the assignment's J>", "eval")
    found = []
    for weight in spec["weights"]:
        for index in np.ndindex(*np.shape(named[weight])):
            for step in (epsilon, -epsilon):
                scope = {name: _fresh(value) for name, value in named.items()}
                scope[weight][index] += step
                found.append(float(np.sum(np.asarray(eval(J, {**scope, **functions}), dtype=float))))
    return found


def plain_name(name: str) -> str:
    """A parameter name as compared with the stub's: `y_hat` is `yHat`, `delta_3` is `delta3`."""
    return name.replace("_", "").lower()


def positional_names(function: Any) -> tuple[str, ...] | None:
    """The names of a plain function's positional parameters, or None (*args, a builtin...)."""
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType) or code.co_flags & 0x04:  # CO_VARARGS
        return None
    names = code.co_varnames[:code.co_argcount]
    return names[1:] if getattr(function, "__self__", None) is not None else names


def reordered_names(function: Any, stub: Sequence[str]) -> tuple[str, ...] | None:
    """The function's parameter names if they are the stub's in another order, else None."""
    names = positional_names(function)
    if names is None or len(names) != len(stub) or [plain_name(n) for n in names] == \
            [plain_name(n) for n in stub]:
        return None
    if sorted(plain_name(n) for n in names) != sorted(plain_name(n) for n in stub):
        return None
    return names


def positional_in_stub_order(function: Any, stub: Sequence[str]) -> bool:
    """Whether the function's positional arguments are the stub's, in the stub's order (or
    can't be told apart: *args, a builtin)."""
    return positional_names(function) is None or reordered_names(function, stub) is None


def in_stub_order(function: Any, stub: Sequence[str], args: Sequence[Any], kwargs: dict[str, Any]) -> list[Any] | None:
    """A call's arguments as the stub orders them (the function's own parameters may be the
    stub's in another order, or some given by keyword), or None if they can't be matched."""
    if not kwargs and positional_in_stub_order(function, stub):
        return list(args)
    names = positional_names(function)
    if names is None or len(args) > len(names) or not set(kwargs) <= set(names):
        return None
    given = dict(zip(names, args, strict=False), **kwargs)
    by_plain = {plain_name(n): v for n, v in given.items()}
    if len(by_plain) != len(stub) or set(by_plain) != {plain_name(n) for n in stub}:
        return None
    return [by_plain[plain_name(n)] for n in stub]


def call_in_stub_order(function: Function, stub: Sequence[str], reordered: Sequence[str] | None,
                       args: Sequence[Any]) -> Any:
    """The function called with `args` (in the stub's order): positionally, or by name where
    its parameters are the stub's in another order (`reordered`, see reordered_names)."""
    if reordered is None:
        return function(*args)
    by_plain = {plain_name(n): a for n, a in zip(stub, args, strict=False)}
    return function(**{n: by_plain[plain_name(n)] for n in reordered})


class Tracer:
    """Which graded functions a judged call used, with what, and what each gave back, as the
    grader needs it to carry an earlier function's error forward: only an error the student's
    function really built on, from this very run. Bounded: at most MAX_NODES calls and
    MAX_DEPTH levels per judged call, their arguments and values within `max_bytes` in all as
    encoded; past that it records nothing more and says so."""

    # A numerical gradient makes about six graded calls per weight (set_params, forward and
    # cost, pushed up and down): 151 on the seeded network of 25 weights. At 64, its credit
    # carried forward from a wrong get_params stopped past 10 weights: 3 of 5 cases.
    MAX_NODES, MAX_DEPTH = 240, 6

    def __init__(self, encode: Encode, params: Mapping[str, Sequence[str]], max_bytes: int) -> None:
        self.encode, self.params, self.max_bytes = encode, params, max_bytes
        self.stack: list[list[dict[str, Any]]] | None = None  # the open calls' children while a judged call runs
        self.nodes = 0
        self.budget = [0]
        self.truncated = False
        # For a call "given" right answers (see Answerer): question id -> [(args, answer)], the
        # answers the graded functions it calls give instead of the student's own.
        self.given: dict[str, list[tuple[Any, Any]]] | None = None
        self.used: list[Used] = []
        # The graded function whose row J is passed on as one number in this judged call (see
        # Answerer.one_number), or None.
        self.one_number: str | None = None

    def answer_given(self, question_id: str, ordered: Sequence[Any]) -> Any:
        """The right answer the grader gave for this call of a graded function (a fresh copy:
        the caller may change it in place), or None."""
        import numpy as np

        for args, answer in (self.given or {}).get(question_id, ()):
            if len(args) == len(ordered) and all(_same(a, b, np) for a, b in zip(ordered, args, strict=True)):
                return _fresh(answer)
        return None

    def passed_on(self, question_id: str, value: Any) -> Any:
        """What a graded call gives its caller: as it returned, but for the row J that this
        judged call takes as one number (see Answerer.one_number)."""
        return one_number_total(value) if question_id == self.one_number else value

    def start(self) -> None:
        self.stack, self.nodes, self.budget, self.truncated = [[]], 0, [self.max_bytes], False
        self.used = []

    def finish(self) -> list[dict[str, Any]]:
        children = self.stack[0] if self.stack else []
        self.stack = None
        return children

    def wrap(self, question_id: str, function: Function) -> Function:
        """The function, recording each call of it made inside a judged call."""
        stub = self.params.get(question_id, ())
        # By code object (student code may swap a function's __code__): whether positional
        # arguments are in the stub's order already, as they nearly always are.
        in_order: dict[types.CodeType | None, bool] = {}

        def ordered_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any] | None:
            if not kwargs:
                code = getattr(function, "__code__", None)
                code = code if isinstance(code, types.CodeType) else None
                if code not in in_order:
                    in_order[code] = positional_in_stub_order(function, stub)
                if in_order[code]:
                    return list(args)
            return in_stub_order(function, stub, args, kwargs)

        def traced(*args: Any, **kwargs: Any) -> Any:
            stack = self.stack
            if stack is None:  # not inside a judged call
                return function(*args, **kwargs)
            if self.nodes >= self.MAX_NODES or len(stack) > self.MAX_DEPTH:
                self.truncated = True
                return self.passed_on(question_id, function(*args, **kwargs))
            node: dict[str, Any] = {"f": question_id}
            try:
                ordered = ordered_args(args, kwargs)
                if self.given is not None and ordered is not None:
                    given = self.answer_given(question_id, ordered)
                    if given is not None:
                        return self.passed_on(question_id, given)
                node["args"] = None if ordered is None else [self.encode(a, self.budget) for a in ordered]
                if ordered is not None:
                    node["matrix"] = "".join(str(i) for i, a in enumerate(ordered[:10]) if _is_matrix(a))
            except Exception:  # too big, or unreadable: this call is not recorded
                self.truncated = True
                return self.passed_on(question_id, function(*args, **kwargs))
            return self.record(node, stack, ordered, function, args, kwargs)

        return functools.update_wrapper(traced, function)

    def record(self, node: dict[str, Any], stack: list[list[dict[str, Any]]], ordered: list[Any] | None,
               function: Function, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Make the call as a node of the trace, with the graded calls it makes below it."""
        self.nodes += 1
        stack[-1].append(node)
        stack.append([])
        used = [node["f"], ordered, None]
        self.used.append(used)
        try:
            value = self.passed_on(node["f"], function(*args, **kwargs))
            used[2] = value
        except BaseException as exc:  # recorded, then raised on as before
            node["raised"] = type(exc).__name__[:100]
            raise
        finally:
            children = stack.pop()
            if children:
                node["calls"] = children
        if _is_matrix(value):
            node["matrix"] = node.get("matrix", "") + "r"
        try:  # encoded now, before the caller can change it in place
            node["value"] = self.encode(value, self.budget)
        except Exception:
            node["value"] = NONE  # the value could not be kept
            self.truncated = True
        return value


def seed_generators(np: types.ModuleType, seed: int, key: int | None = None) -> None:
    """numpy's global generator and random's, seeded from the grading seed (and a call's key,
    for a call): code that draws random numbers (weights in a class's __init__) gets the same
    numbers every run, whatever ran before. The student's own seeding, at load, comes after."""
    import random

    value = (seed * 1_000_003 + (0 if key is None else key + 1)) % 2**32
    try:
        np.random.seed(value)
        random.seed(value)
    except Exception:  # the student's code replaced them: theirs to answer for
        pass


def one_number_total(value: Any) -> Any:
    """A J given as a row, one entry per output ((1, n), (n,) or any size 1), as its total: the
    one number the notes define J as for checking. Anything else (J per example) as it is."""
    import numpy as np

    try:
        array = np.asarray(value, dtype=float)
    except Exception:
        return value
    if array.ndim == 0 or array.size == 1 or array.ndim == 1 or (array.ndim == 2 and array.shape[0] == 1):
        return float(np.sum(array))
    return value


def _is_matrix(value: Any) -> bool:
    """An np.matrix, by its class. Only ever a hint for the grader's blame: never an error."""
    try:
        return any(type.__getattribute__(kind, "__name__") == "matrix"
                   and str(type.__getattribute__(kind, "__module__")).startswith("numpy")
                   for kind in type.__getattribute__(type(value), "__mro__"))
    except Exception:
        return False


def _same(a: Any, b: Any, np: types.ModuleType) -> bool:
    """Two arguments are the same: equal shapes, numbers equal but for the last bits."""
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return bool(a == b)
    return x.shape == y.shape and bool(np.all(np.abs(x - y) <= 1e-12 + 1e-9 * np.abs(y)))


def _fresh(answer: Any) -> Any:
    if isinstance(answer, (list, tuple)):
        return type(answer)(_fresh(part) for part in answer)
    return answer.copy() if hasattr(answer, "copy") else answer


def traced_bytes(nodes: Sequence[dict[str, Any]], encode: Encode) -> bytes:
    """Tracer nodes, whose values are encoded already, as the encoding of a list of lists of
    TRACE_FIELDS; put together here rather than re-encoded (a trace is most of what a right
    answer costs to send)."""
    def node_bytes(node: dict[str, Any]) -> bytes:
        args, raised = node.get("args"), node.get("raised")
        fields = {"f": encode(node["f"], [UNLIMITED]),
                  "args": NONE if args is None else encoded_list(args),
                  "value": node.get("value", NONE),
                  "raised": NONE if raised is None else encode(raised, [UNLIMITED]),
                  "calls": traced_bytes(node.get("calls", ()), encode),
                  "matrix": encode(node.get("matrix", ""), [UNLIMITED])}
        return encoded_list(fields[name] for name in TRACE_FIELDS)

    # Plain bytes, not Encoded: the result carries the trace as bytes of its own (tag b).
    return bytes(encoded_list(node_bytes(node) for node in nodes))


class Answerer:
    """The calls of one runner, each made on the student's functions and returned as (key, a
    result record). An answer is its encoding (see wire), within the budget of bytes an answer
    may take (the program's `max_answer`)."""

    def __init__(self, program: dict[str, Any], namespace: dict[str, Any], fragments: Sequence[str],
                 encode: Encode, describe: Callable[[BaseException], str],
                 error_line: Callable[[Any], tuple[int | None, int | None]],
                 restore_builtins: Callable[[], None]) -> None:
        import numpy as np

        self.np, self.namespace, self.fragments, self.encode = np, namespace, fragments, encode
        self.describe, self.error_line, self.restore_builtins = describe, error_line, restore_builtins
        self.max_answer: int = program.get("max_answer", MAX_ANSWER)
        self.params: dict[str, Sequence[str]] = program.get("params", {})
        self.own_cost_spec: dict[str, Any] = program.get("own_cost") or {}
        # J as one number inside these questions' calls: numpy 2 no longer puts a row J (one
        # entry per output, as the worksheet's table gives it) into one entry of an array, and
        # the notes define J for checking as one number: the series' class is read so by its
        # adapter, a student's own functions alike.
        self.seed: int = program["seed"] if isinstance(program.get("seed"), int) else 0
        one_number = program.get("one_number") or {}
        self.one_number: tuple[str, frozenset[str]] = (one_number.get("function") or "",
                                                       frozenset(one_number.get("inside") or ()))
        # Each graded function the student defined is traced: a judged call records the graded
        # functions it used. The judged call itself is made on the function as defined.
        self.tracer = Tracer(encode, self.params, self.max_answer)
        self.originals: dict[str, Function] = {}
        for name, question_id in program.get("graded", {}).items():
            value = namespace.get(name)
            if isinstance(value, types.FunctionType) and name not in fragments:
                self.originals[name] = value
                namespace[name] = self.tracer.wrap(question_id, value)
        self.reorderings: dict[Any, tuple[str, ...] | None] = {}
        self.series = series_adapter(program.get("series"), namespace, self.tracer.wrap)
        # Judged calls: the graded calls each made; those that returned.
        self.used_by: dict[int, list[Used]] = {}
        self.returned: set[int] = set()

    def __call__(self, call: dict[str, Any]) -> tuple[int, Record]:
        key = call["key"]
        if call.get("read"):  # module-level constants: their values are the answer
            return key, self.read(call["names"])
        question_id = call["question"]
        if question_id == OWN_COST:
            return key, self.own_cost(call)
        function = next((self.originals.get(n, self.namespace[n]) for n in call["names"]
                         if callable(self.namespace.get(n)) and n not in self.fragments), None)
        adapter = self.series(question_id) if self.series is not None else None
        via = None
        if function is None and adapter is not None:
            function, adapter, via = adapter, None, "class"
        if function is None:
            return key, {"status": "missing", "message": "not defined"}
        stub = self.params.get(question_id, ())
        if via is None and function not in self.reorderings:  # the same for every call of it
            self.reorderings[function] = reordered_names(function, stub)
        reordered = self.reorderings[function] if via is None else None
        if call.get("given_for") is not None:  # see Tracer.answer_given
            if not self.needs_given(call):
                return key, {"status": "skipped"}
            given: dict[str, list[tuple[Any, Any]]] = {}
            for function_id, given_args, given_answer in decode(call["given"], self.np):
                given.setdefault(function_id, []).append((given_args, given_answer))
            self.tracer.given = given
        return key, self.make(call, function, adapter, via, reordered, stub)

    def make(self, call: dict[str, Any], function: Function, adapter: Function | None, via: str | None,
             reordered: tuple[str, ...] | None, stub: Sequence[str]) -> Record:
        """A judged call made, traced: its answer, or how it raised."""
        tracer, key = self.tracer, call["key"]
        one_number = self.one_number[0] if call["question"] in self.one_number[1] else None
        # With the student's own J first; where that raises, again with J passed on as one number
        # (numpy 2 no longer puts a row into one entry of numgrad: see one_number). A student who
        # takes J's one number themselves (.item(), [0], .sum()) is graded on their own code.
        tries = (None, one_number) if one_number else (None,)
        kept = [_fresh(a) for a in call["args"]] if one_number else []
        trace: list[dict[str, Any]] = []
        first: BaseException | None = None
        for attempt, passing in enumerate(tries):
            args = list(call["args"]) if attempt == 0 else [_fresh(a) for a in kept]
            seed_generators(self.np, self.seed, key)
            tracer.one_number = passing
            tracer.start()
            try:
                try:
                    value, via, reordered = self.attempt(function, adapter, via, reordered, stub, args)
                finally:
                    self.restore_builtins()
                    trace = tracer.finish()
                    if tracer.used:  # the graded calls this attempt made (see needs_given)
                        self.used_by[key] = tracer.used
                encoded = self.encode(value, [self.max_answer])
                break
            except TooBig as exc:
                tracer.given = None
                return self.refused(exc)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt too
                first = first or exc
                if attempt + 1 < len(tries) and isinstance(exc, Exception):
                    continue
                tracer.given = None
                cell, line = self.error_line(first.__traceback__)
                return {"status": "raised", "message": self.describe(first), "cell": cell, "line": line,
                        "via": via, "trace": self.trace_bytes(trace), "truncated": tracer.truncated,
                        "reordered": reordered and list(reordered), "error": type(first).__name__}
        tracer.given = None
        self.returned.add(key)
        return {"status": "returned", "value": encoded, "via": via,
                "trace": self.trace_bytes(trace), "truncated": tracer.truncated,
                "reordered": reordered and list(reordered)}

    def attempt(self, function: Function, adapter: Function | None, via: str | None,
                reordered: tuple[str, ...] | None, stub: Sequence[str], args: list[Any]
                ) -> tuple[Any, str | None, tuple[str, ...] | None]:
        """The call made once: (its value, via, reordered)."""
        try:
            return call_in_stub_order(function, stub, reordered, args), via, reordered
        except NotImplementedError:
            # The stub's function left as handed out does not hide the series' class.
            if adapter is None:
                raise
            self.tracer.start()
            return adapter(*[a.copy() if hasattr(a, "copy") else a for a in args]), "class", None

    def read(self, names: Sequence[str]) -> Record:
        """Module-level constants: their values, as one answer."""
        if not all(name in self.namespace for name in names):
            return {"status": "missing", "message": "not defined"}
        try:
            value = self.encode([self.namespace[name] for name in names], [self.max_answer])
            return {"status": "returned", "value": value}
        except TooBig as exc:
            return self.refused(exc)
        except BaseException as exc:  # a value whose encoding misbehaves
            return {"status": "raised", "message": self.describe(exc)}

    def own_cost(self, call: dict[str, Any]) -> Record:
        """J around the weights, from the student's own functions (see own_cost_values)."""
        functions = {n: self.originals.get(n, self.namespace.get(n)) for n in call["names"]}
        if not self.own_cost_spec or not all(callable(f) for f in functions.values()):
            return {"status": "missing", "message": "not defined"}
        try:
            try:
                values = own_cost_values(self.own_cost_spec, functions, call["args"])
            finally:
                self.restore_builtins()
            return {"status": "returned", "value": self.encode(values, [self.max_answer])}
        except TooBig as exc:
            return self.refused(exc)
        except BaseException as exc:  # whatever the student's code does
            return {"status": "raised", "message": self.describe(exc)}

    def needs_given(self, call: dict[str, Any]) -> bool:
        """Whether a call "given right answers" could change a grade: not where the judged call
        it repeats returned and every graded call it made answered as the model does (the
        grader sends their fingerprints, `known`): nothing could then be carried forward."""
        if call["given_for"] not in self.returned:
            return True
        known = set(call.get("known") or ())
        return not all(args is not None and answer is not None
                       and fingerprint(question, args, answer, self.np) in known
                       for question, args, answer in self.used_by.get(call["given_for"], ()))

    def refused(self, exc: TooBig) -> Record:
        return {"status": "refused",
                "message": f"returned {exc}, more than the {self.max_answer:,} bytes an answer may "
                           f"take as the grader receives it (every item counted, empty lists too)"}

    def trace_bytes(self, trace: list[dict[str, Any]]) -> bytes | None:
        """The trace as bytes of its own: the grader reads it only when a verdict needs it."""
        return traced_bytes(trace, self.encode) if trace else None
