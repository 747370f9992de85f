"""An assignment, loaded from its folder: the engine's whole knowledge of a worksheet.

An assignment is two folders of the same name (see `solutions/__init__.py` and the README's
"Writing an assignment"): `solutions/<name>/`, what the grader keeps (the questions and their
points as data, `assignment.toml`; the cases, `cases.py`; the model answer, `<hand-in>.py`; the
catalogue; the series-class adapter), and `exercises/<name>/`, what students are given (the stub
`<hand-in>.py`, its notebook, the guided notes `notes.md`). An instructor's own may also be one
folder of the earlier layout (`solution/`, `stub/` and `notes.md` inside it).
`load(name_or_folder)` reads it into one frozen `Assignment` that travels with the options;
every total, tolerance, choice list and cache key derives from it.

Expected values are never computed here: every one comes from calling the assignment's model
answer. A question's arguments are an expression over a case's named values, evaluated here.
"""

from __future__ import annotations

import enum
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

def _installed(part: str) -> Path:
    """Where the assignments' `part` (solutions or exercises) installed with the grader live:
    inside the package once installed (grader/solutions), beside it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    inside = package / part
    return inside if inside.is_dir() else package.parent / part


# The solutions' and exercises' folders of the assignments installed with the grader, and the
# one `grade` uses by default.
INSTALLED = _installed("solutions")
EXERCISES = _installed("exercises")
DEFAULT = "backprop"


class AssignmentError(Exception):
    """The assignment can't be found or its folder is unusable; the message says why."""


class Kind(enum.Enum):
    """What a question's function returns, which decides how its answer is read."""

    ARRAY = "array"
    SHAPE = "shape"
    ARRAYS = "arrays"  # a fixed-length tuple of arrays, named by Question.parts
    CHOICES = "choices"  # constants, each one of the assignment's choices, named by Question.constants


@dataclass(frozen=True)
class Network:
    """One 2-layer sigmoid network with its data: the inputs a series case is derived from."""

    X: np.ndarray
    y: np.ndarray
    W1: np.ndarray
    W2: np.ndarray

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        """(numExamples, inputLayerSize, hiddenLayerSize, outputLayerSize)."""
        return (self.X.shape[0], self.W1.shape[0], self.W1.shape[1], self.W2.shape[1])


@dataclass(frozen=True)
class Case:
    """A named set of values a question is checked on; `worksheet` marks the worksheet's own
    numbers. `values` are what arguments are made of; `provenance` says which question's answer
    a value is (the worksheet's intermediates), so that no call reveals it before it is answered.
    `network`, for the series' assignments, is the network the values come from."""

    id: str
    label: str
    network: Network | None
    worksheet: bool
    values: dict = field(default_factory=dict, compare=False, hash=False)
    provenance: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class KeyEntry:
    """One line of the answer key an instructor hands out after the deadline."""

    question: str  # the worksheet's question
    quantity: str
    value: Any  # a shape (tuple of ints), a text, or an array


@dataclass(frozen=True)
class Question:
    """One graded function of the student contract."""

    id: str
    worksheet: str
    points: float
    kind: Kind
    # The call's arguments: an expression over a case's values ("a2, delta3", "a2[:1],").
    arguments: str
    aliases: tuple[str, ...] = ()
    # Names that mean the same thing (`sigmoid_derivative` for sigmoid_prime): not graded
    # under them, but the feedback says what to rename.
    synonyms: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    # For a CHOICES question: the module-level names whose values are the answer (read, not
    # called), and the one case it is asked on.
    constants: tuple[str, ...] = ()
    only_case: str | None = None
    # Reads a student's decoded answer into the reference's layout where the worksheet allows
    # more than one form (J for one output may be a plain number); None keeps it as it is.
    normalise: Callable[[Any, Any], Any] | None = field(default=None, compare=False)
    # The assignment's tolerances and, for a CHOICES question, the answers it accepts with
    # their spellings: a question is compared by what it carries.
    rtol: float = 1e-5
    atol: float = 1e-8
    choices: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the student's function may be defined under, the contract's first; for
        a CHOICES question, the constants it reads."""
        return self.constants or (self.id, *self.aliases)

    def expected(self, reference: ModuleType, args: tuple) -> Any:
        """The model answer's value for these arguments."""
        if self.constants:
            return [getattr(reference, name) for name in self.constants]
        return getattr(reference, self.id)(*args)

    def args_for(self, case: Case) -> tuple:
        """The arguments this question's function gets on a case."""
        if not self.arguments.strip():
            return ()
        args = eval(compile(self.arguments, f"<{self.id} arguments>", "eval"), {"__builtins__": {}}, dict(case.values))
        # "z" is one argument, as "z," is: an array is not a tuple of its rows.
        return args if isinstance(args, tuple) else (args,)

    def reveals(self, case: Case) -> set[str]:
        """The questions whose answers this question's arguments hold on a case."""
        if not self.arguments.strip():
            return set()
        names = compile(self.arguments, "<arguments>", "eval").co_names
        return {case.provenance[name] for name in names if name in case.provenance}


@dataclass(frozen=True)
class Series:
    """How the series' own class answers questions: the class's name, the questions its
    adapter answers, the adapter's source (run in the student's process) and, for a series
    function that takes the class (computeNumericalGradient(N, X, y)), nothing more: the
    adapter finds it in the student's namespace."""

    class_name: str
    questions: tuple[str, ...]
    adapter_source: str
    # The series' support modules a student may leave out (`from partOne import *`), what a
    # stand-in for one runs (the series' data), and what the real ones define beyond it.
    modules: tuple[str, ...] = ()
    standin: str = ""
    work: tuple[str, ...] = ()

    @property
    def standin_holds(self) -> str:
        """The names a stand-in binds, as a student reads them ("X, y and np"): its data, then
        the modules it imports, each in the order the standin first binds it."""
        import ast

        data: list[str] = []
        modules: list[str] = []
        for node in ast.parse(self.standin).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules += [alias.asname or alias.name.split(".")[0] for alias in node.names]
            else:
                data += [t.id for t in getattr(node, "targets", ()) if isinstance(t, ast.Name)]
        names = list(dict.fromkeys(data + modules))
        return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


@dataclass(frozen=True)
class OwnGradient:
    """Where a wrong gradient is compared with the numerical gradient of the student's own
    forward and cost (see own_gradient.py)."""

    question: str
    case: str
    forward: str
    cost: str
    upstream: tuple[str, ...]
    culprits: str
    # J of the student's own forward and cost, over the call's arguments (named, in order), and
    # the arguments whose every entry is pushed up and down (see sandbox.own_cost_values).
    J: str = ""
    arguments: tuple[str, ...] = ()
    weights: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)  # one value per folder (load is cached): compared by identity
class Assignment:
    """Everything the engine knows of one assignment."""

    name: str
    title: str
    folder: Path  # what the grader keeps: solutions/<name>
    handin: str  # students hand in <handin>.py or <handin>.ipynb
    questions: tuple[Question, ...]
    rtol: float
    atol: float
    choices: dict[str, tuple[str, ...]]
    default_seed: int
    # The sizes of a case an answer may be sized for, each an expression over the case's
    # values ("hidden units": "W1.shape[1]"); empty: the shapes of its arrays.
    sizes: dict[str, str]
    # J as one number inside some questions' calls: (the function whose row J is passed on as
    # its total, the questions inside whose calls it is), or None (see [one_number]).
    one_number: tuple[str, tuple[str, ...]] | None
    catalogue_names: dict[str, str]
    series: Series | None
    own_gradient: OwnGradient | None
    cases_module: ModuleType = field(repr=False)
    exercises: Path = Path()  # what students are given: exercises/<name> (stub/ in one folder)
    model_answer_path: Path = Path()  # the model answer, named as students hand it in

    @property
    def max_score(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def catalogue_path(self) -> Path:
        return self.folder / "misconceptions.toml"

    @property
    def stub_path(self) -> Path:
        """What students fill in; the notebook beside it is built from it (grader.assignment.stub_notebook)."""
        return self.exercises / f"{self.handin}.py"

    @property
    def notebook_path(self) -> Path:
        return self.exercises / f"{self.handin}.ipynb"

    @property
    def check_modules(self) -> tuple[str, ...]:
        """The module `grade student-check` writes for it (<hand-in>_check): a hand-in's lines
        that import or call it are set aside, not run."""
        return (f"{self.handin}_check",)

    @property
    def notes_path(self) -> Path:
        legacy = self.exercises.name == "stub" and self.exercises.parent == self.folder
        return (self.folder if legacy else self.exercises) / "notes.md"

    def files_to_ship(self) -> list[tuple[Path, str]]:
        """For an instructor's own assignment, each of its files with the name it takes beside
        the installed ones (solutions/<name>/..., exercises/<name>/...), so that an autograder
        built with it installs and seals it with the grader; none for an installed one."""
        if self.folder.parent == INSTALLED.resolve():
            return []
        shipped = []
        for root, part in ((self.folder, "solutions"), (self.exercises, "exercises")):
            if part == "exercises" and (not root.is_dir() or root.parent == self.folder):
                continue  # one folder of the earlier layout: shipped whole with its solutions
            files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            shipped += [(file, f"{part}/{self.name}/{file.relative_to(root).as_posix()}") for file in files]
        return shipped

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever a file of the assignment that decides a grade changes: part of the
        result store's key, with the assignment's name."""
        import hashlib

        digest = hashlib.sha256()
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(self.folder)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:16]

    @cached_property
    def reference(self) -> ModuleType:
        """The model answer, imported in the grader's own (trusted) process."""
        return _import_file(self.model_answer_path, _module_name(self.folder, "solution"))

    @cached_property
    def catalogue_helpers(self) -> dict[str, Any]:
        """The public functions of the folder's mistakes.py, if it has one: what catalogue
        formulas too long for one expression call (see catalogue.scope_of)."""
        path = self.folder / "mistakes.py"
        if not path.is_file():
            return {}
        module = _import_file(path, _module_name(self.folder, "mistakes"))
        return {name: value for name, value in vars(module).items()
                if callable(value) and not name.startswith("_")
                and getattr(value, "__module__", None) == module.__name__}

    def question(self, question_id: str) -> Question:
        """The question with that id; KeyError names the valid ids."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"no question {question_id!r}; questions are {', '.join(q.id for q in self.questions)}")

    def questions_named(self, label: str) -> tuple[Question, ...]:
        """The questions a student means by `label`: a function's id ("dJdW2", any case) or a
        worksheet question number ("Q6", "q11", "11"). KeyError says what is accepted."""
        wanted = label.strip()
        by_id = [q for q in self.questions
                 if wanted.lower() in (q.id.lower(), *(a.lower() for a in q.aliases))]
        if by_id:
            return tuple(by_id)
        number = wanted[1:] if wanted[:1] in ("Q", "q") else wanted
        if number.isdigit():
            found = tuple(q for q in self.questions if int(number) in worksheet_numbers(q))
            if found:
                return found
            covered = sorted(set().union(*(worksheet_numbers(q) for q in self.questions)))
            if covered:
                raise KeyError(f"no function answers worksheet question Q{int(number)}; the functions "
                               f"answer Q{covered[0]}-Q{covered[-1]}")
        raise KeyError(f"no question {label!r}: name a function "
                       f"({', '.join(q.id for q in self.questions)}) or a worksheet question such as Q6")

    def worksheet_cases(self) -> list[Case]:
        return list(self.cases_module.worksheet_cases(self.reference))

    def seeded_cases(self, seed: int) -> list[Case]:
        return list(self.cases_module.seeded_cases(seed, self.reference))

    def cases(self, seed: int | None = None) -> list[Case]:
        """Every case each question is checked on: the worksheet's first, then the seeded ones."""
        return self.worksheet_cases() + self.seeded_cases(self.default_seed if seed is None else seed)

    def answer_key(self) -> list[KeyEntry]:
        """The assignment's own answer key if cases.py writes one, else each question's model
        answer on each of the worksheet's cases."""
        worksheet = self.worksheet_cases()
        own = getattr(self.cases_module, "answer_key", None)
        if own is not None:
            return list(own(self.reference, worksheet))
        entries = []
        for q in self.questions:
            for case in worksheet:
                if q.only_case in (None, case.id):
                    expected = q.expected(self.reference, q.args_for(case))
                    if q.constants:
                        entries += [KeyEntry(q.worksheet, f"{name} ({case.label})", value)
                                    for name, value in zip(q.constants, expected, strict=True)]
                    else:
                        entries.append(KeyEntry(q.worksheet, f"{q.id} ({case.label})", expected))
        return entries


def worksheet_numbers(q: Question) -> set[int]:
    """The worksheet's question numbers a question answers: "Q11, Q14-Q16" is {11, 14, 15, 16}."""
    numbers: set[int] = set()
    answered = re.sub(r"after Q\d+", "", q.worksheet)  # "after Q6": builds on it, doesn't answer it
    for first, last in re.findall(r"Q(\d+)(?:-Q?(\d+))?", answered):
        numbers.update(range(int(first), int(last or first) + 1))
    return numbers


def _module_name(folder: Path, part: str) -> str:
    """The name a file of an assignment is imported under: its folder's name and a hash of its
    path, so that two folders of the same name never share one (the runner refuses them all)."""
    import hashlib

    tag = hashlib.sha256(str(folder).encode()).hexdigest()[:8]
    name = re.sub(r"\W", "_", folder.name)
    return f"_assignment_{name}_{tag}_{part}"


def _import_file(path: Path, module_name: str) -> ModuleType:
    """A module from a file of the assignment's folder (instructor-written, trusted)."""
    if not path.is_file():
        raise AssignmentError(f"{path}: not found")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise AssignmentError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise AssignmentError(f"{path}: {type(exc).__name__}: {exc}") from None
    return module


def installed() -> list[Path]:
    """The folders of the assignments installed with the grader, by name."""
    if not INSTALLED.is_dir():
        return []
    return sorted(p for p in INSTALLED.iterdir() if (p / "assignment.toml").is_file())


def folder_of(name_or_folder: str | Path) -> Path:
    """An installed assignment's folder by name, or a folder given as a path."""
    text = str(name_or_folder)
    for folder in installed():
        if folder.name == text:
            return folder.resolve()
    candidate = Path(text).expanduser()
    if (candidate / "assignment.toml").is_file():
        return candidate.resolve()
    names = ", ".join(p.name for p in installed()) or "none"
    if candidate.exists():
        raise AssignmentError(f"{text}: no assignment.toml in this folder")
    raise AssignmentError(f"no assignment {text!r}: installed are {names}, or give an assignment's folder")


def as_number(answer: Any, expected: Any) -> Any:
    """A "number" question's answer: any size-1 array or list is read as its one number."""
    array = np.asarray(answer, dtype=float)
    return array.reshape(()) if array.size == 1 else answer


def as_row(answer: Any, expected: np.ndarray) -> Any:
    """A row (1, n) may come as (n,) (J as the series' own code gives it), or any size-1 form
    when n is 1. With several outputs one number is read as their total, the other form the
    worksheet accepts (the J whose gradient a2^T delta3 is, and what the series' notebook
    computes under %pylab): it is compared with the total, given back as (answer, total)."""
    array = np.asarray(answer, dtype=float)
    if array.size == expected.size and (expected.size == 1 or array.shape == expected.shape[1:]):
        return array.reshape(expected.shape)
    if array.size == 1 and expected.size > 1 and expected.ndim == 2 and expected.shape[0] == 1:
        return array.reshape(()), expected.sum().reshape(())
    return answer


# The readers an assignment names in a question's `normalise` (or a function of its cases.py).
NORMALISERS = {"number": as_number, "row": as_row}


# "number" is an array of shape (), any size-1 form accepted.
_KINDS = {**{kind.value: kind for kind in Kind}, "number": Kind.ARRAY}
_QUESTION_FIELDS = {"id", "worksheet", "points", "kind", "arguments", "aliases", "synonyms", "parts",
                    "constants", "only_case", "normalise", "rtol", "atol"}


def _question(entry: dict, where: str, cases_module: ModuleType, tolerances: tuple[float, float],
              choices: tuple) -> Question:
    unknown = set(entry) - _QUESTION_FIELDS
    missing = {"id", "points", "kind"} - set(entry)
    if unknown:  # first: a misspelt key is also why one is missing
        raise AssignmentError(f"{where}: {_unknown(sorted(unknown)[0], _QUESTION_FIELDS)}")
    if missing:
        raise AssignmentError(f"{where}: missing {', '.join(sorted(missing))}")
    if entry["kind"] not in _KINDS:
        raise AssignmentError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(_KINDS)}")
    normalise = as_number if entry["kind"] == "number" else None
    if entry.get("normalise"):
        normalise = NORMALISERS.get(entry["normalise"]) or getattr(cases_module, entry["normalise"], None)
        if not callable(normalise):
            raise AssignmentError(f"{where}: normalise names {entry['normalise']!r}: neither one of "
                                  f"{', '.join(NORMALISERS)} nor a function of cases.py")
    arguments = entry.get("arguments", "")
    try:
        if arguments.strip():
            compile(arguments, "<arguments>", "eval")
    except SyntaxError as exc:
        raise AssignmentError(f"{where}: arguments {arguments!r} is not an expression: {exc.msg}") from None
    if not isinstance(entry["points"], (int, float)) or isinstance(entry["points"], bool) or entry["points"] < 0:
        raise AssignmentError(f"{where}: points must be a number, 0 or more")
    return Question(entry["id"], entry.get("worksheet", entry["id"]), entry["points"],
                    _KINDS[entry["kind"]], arguments, tuple(entry.get("aliases", ())),
                    tuple(entry.get("synonyms", ())), tuple(entry.get("parts", ())),
                    tuple(entry.get("constants", ())), entry.get("only_case"), normalise,
                    float(entry.get("rtol", tolerances[0])), float(entry.get("atol", tolerances[1])),
                    choices if entry["kind"] == "choices" else ())


def _manifest(manifest: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AssignmentError(f"{manifest}: {exc}") from None


def _cases_module(folder: Path) -> ModuleType:
    cases_module = _import_file(folder / "cases.py", _module_name(folder, "cases"))
    for needed in ("worksheet_cases", "seeded_cases"):
        if not callable(getattr(cases_module, needed, None)):
            raise AssignmentError(f"{folder / 'cases.py'}: no function {needed}")
    return cases_module


def _questions(data: dict[str, Any], manifest: Path, cases_module: ModuleType, tolerances: tuple[float, float],
               choices: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[Question, ...]:
    """The manifest's [[question]]s: at least one, each id once, some points in all."""
    questions = tuple(_question(entry, f"{manifest.name}, question {number}", cases_module,
                                tolerances, choices)
                      for number, entry in enumerate(data.get("question", []), start=1))
    if not questions:
        raise AssignmentError(f"{manifest}: no [[question]]")
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise AssignmentError(f"{manifest}: a question id is used twice")
    if not sum(q.points for q in questions) > 0:  # every report divides by the total
        raise AssignmentError(f"{manifest}: the questions' points total 0")
    return questions


def _check_model_answer(assignment: Assignment) -> None:
    """The model answer answers every question: a missing function is the author's, said now."""
    reference = assignment.reference
    for q in assignment.questions:
        for name_needed in (q.constants or (q.id,)):
            if not hasattr(reference, name_needed):
                raise AssignmentError(f"{assignment.model_answer_path}: no {name_needed} (question {q.id})")


_CASE_SHAPE = ("write Case(id, label, network, worksheet, values), network None where there is none, or "
               "by name: Case(id=\"given\", label=\"the notes' vector\", network=None, worksheet=True, "
               "values={...})")


def _check_cases(assignment: Assignment) -> None:
    """Every case is a Case as the engine reads it, and every question's arguments can be made
    on it and answered by the model answer: an author's mistake is said now, naming the file,
    the question and the case, not later as a NameError nobody can place."""
    where = assignment.folder / "cases.py"
    try:
        cases = assignment.cases()
    except AssignmentError:
        raise
    except Exception as exc:
        raise AssignmentError(f"{where}: making the cases raised {type(exc).__name__}: {exc}") from None
    for case in cases:
        if not isinstance(case, Case):
            raise AssignmentError(f"{where}: {case!r} is not a grader.assignment.Case: {_CASE_SHAPE}")
        label = f"case {case.id!r}"
        if not isinstance(case.worksheet, bool) or not isinstance(case.values, dict) \
                or not isinstance(case.provenance, dict) \
                or not (case.network is None or isinstance(case.network, Network)):
            raise AssignmentError(f"{where}: {label}: its fields are (id, label, network, worksheet, values); "
                                  f"worksheet is {type(case.worksheet).__name__} here, values "
                                  f"{type(case.values).__name__}: {_CASE_SHAPE}")
    manifest = assignment.folder / "assignment.toml"
    for q in assignment.questions:
        for case in cases:
            if q.only_case not in (None, case.id):
                continue
            try:
                args = q.args_for(case)
            except Exception as exc:
                names = ", ".join(sorted(case.values)) or "none"
                raise AssignmentError(f"{manifest}: question {q.id!r}: arguments {q.arguments!r} on case {case.id!r}: "
                                      f"{type(exc).__name__}: {exc} (the case's values are: {names})") from None
            try:
                q.expected(assignment.reference, args)
            except Exception as exc:
                raise AssignmentError(f"{assignment.model_answer_path}: {q.id}{_shown(args)} on case {case.id!r} "
                                      f"raised {type(exc).__name__}: {exc} (question {q.id!r}, arguments "
                                      f"{q.arguments!r})") from None


def _shown(args: tuple) -> str:
    parts = [f"array{tuple(a.shape)}" if isinstance(a, np.ndarray) else repr(a)[:30] for a in args]
    return f"({', '.join(parts)})"


_MANIFEST_KEYS = {"title", "handin", "default_seed", "rtol", "atol", "sizes", "one_number", "catalogue_names",
                  "choices", "series", "own_gradient", "question"}


def _unknown_keys(manifest: Path, data: dict[str, Any]) -> None:
    """Nothing in assignment.toml is ignored without a word: a key the engine does not read is
    a misspelling, said with what it could be."""
    for key in data:
        if key not in _MANIFEST_KEYS:
            raise AssignmentError(f"{manifest}: {_unknown(key, _MANIFEST_KEYS)}")


def unknown_key(key: str, known: set[str]) -> str:
    """"unknown key 'ponts', which nothing reads; did you mean 'points'?" """
    import difflib

    near = difflib.get_close_matches(key, sorted(known), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(sorted(known))})"
    return f"unknown key {key!r}, which nothing reads{hint}"


_unknown = unknown_key


@lru_cache(maxsize=16)
def _load_folder(folder: Path) -> Assignment:
    manifest = folder / "assignment.toml"
    data = _manifest(manifest)
    _unknown_keys(manifest, data)
    name = folder.name
    cases_module = _cases_module(folder)
    tolerances = (float(data.get("rtol", 1e-5)), float(data.get("atol", 1e-8)))
    choices = tuple((k, tuple(v)) for k, v in data.get("choices", {}).items())
    questions = _questions(data, manifest, cases_module, tolerances, choices)
    series = None
    if "series" in data:
        adapter = folder / data["series"].get("adapter", "series.py")
        try:
            source = adapter.read_text(encoding="utf-8")
        except OSError as exc:
            raise AssignmentError(f"{adapter}: {exc.strerror or exc}") from None
        s = data["series"]
        series = Series(s["class"], tuple(s.get("questions", ())), source, tuple(s.get("modules", ())),
                        s.get("standin", ""), tuple(s.get("work", ())))
    own = None
    if "own_gradient" in data:
        o = data["own_gradient"]
        if not all(key in o for key in ("J", "arguments", "weights")):
            raise AssignmentError(f"{manifest}: [own_gradient] needs J, arguments and weights")
        own = OwnGradient(o["question"], o["case"], o["forward"], o["cost"], tuple(o.get("upstream", ())),
                          o.get("culprits", "the backpropagation functions"), o["J"], tuple(o["arguments"]),
                          tuple(o["weights"]))
    handin = data.get("handin", name)
    model_answer, exercises = _layout(folder, handin)
    if not model_answer.is_file():
        raise AssignmentError(f"{model_answer}: not found (the model answer)")
    loaded = Assignment(
        name=name, title=data.get("title", name), folder=folder, handin=handin,
        questions=questions, rtol=tolerances[0], atol=tolerances[1], choices=dict(choices),
        default_seed=int(data.get("default_seed", 0)),
        sizes=_sizes(manifest, data), one_number=_one_number(manifest, data, questions),
        catalogue_names=dict(data.get("catalogue_names", {})), series=series, own_gradient=own,
        cases_module=cases_module, exercises=exercises, model_answer_path=model_answer)
    _check_model_answer(loaded)
    _check_cases(loaded)
    return loaded


def _sizes(manifest: Path, data: dict[str, Any]) -> dict[str, str]:
    sizes = data.get("sizes", {})
    if not isinstance(sizes, dict) or not all(isinstance(v, str) for v in sizes.values()):
        raise AssignmentError(f'{manifest}: [sizes] maps a name to an expression over a case\'s values, '
                              f'as "hidden units" = "W1.shape[1]"')
    if "hard_coded_hint" in data:
        raise AssignmentError(f"{manifest}: hard_coded_hint is gone: name the sizes an answer may be sized "
                              f'for in [sizes], as "hidden units" = "W1.shape[1]"')
    return dict(sizes)


def _one_number(manifest: Path, data: dict[str, Any], questions: tuple[Question, ...]
                ) -> tuple[str, tuple[str, ...]] | None:
    entry = data.get("one_number")
    if entry is None:
        return None
    ids = {q.id for q in questions}
    function, inside = entry.get("function"), entry.get("inside", [])
    if function not in ids or not inside or not all(name in ids for name in inside):
        raise AssignmentError(f"{manifest}: [one_number] needs function, a question id (\"cost\"), and inside, "
                              f"a list of question ids ([\"numerical_gradient\"])")
    return function, tuple(inside)


def case_sizes(assignment: Assignment, case: Case) -> dict[str, Any]:
    """A case's sizes, by name (see Assignment.sizes); a size its values can't give is left out."""
    import numpy as np

    if not assignment.sizes:
        return {f"the shape of {name}": tuple(value.shape) for name, value in case.values.items()
                if isinstance(value, np.ndarray)}
    found = {}
    for name, expression in assignment.sizes.items():
        try:
            # The instructor's own expression, over the grader's own cases: trusted.
            found[name] = eval(expression, {"np": np, "__builtins__": {"len": len}}, dict(case.values))
        except Exception:
            continue
    return found


def _layout(folder: Path, handin: str) -> tuple[Path, Path]:
    """The model answer and the exercises' folder of an assignment's solutions folder: in it and
    in exercises/<name> beside solutions/, or, for one folder of the earlier layout,
    solution/<hand-in>.py and stub/ inside it."""
    if (folder / "solution" / f"{handin}.py").is_file():
        return folder / "solution" / f"{handin}.py", folder / "stub"
    installed = EXERCISES / folder.name
    beside = folder.parent.parent / "exercises" / folder.name
    exercises = installed if folder.parent == INSTALLED.resolve() or not beside.is_dir() else beside
    return folder / f"{handin}.py", exercises


def load(name_or_folder: str | Path = DEFAULT) -> Assignment:
    """The assignment by installed name or by folder, loaded once."""
    return _load_folder(folder_of(name_or_folder))


def default() -> Assignment:
    return load(DEFAULT)

