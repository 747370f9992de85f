"""Stand-ins for what a hand-in imports that grading does not need, or cannot have.

Part of the program that runs a student's code: it imports only the standard library and
numpy, and decides nothing.

* Plotting and display (matplotlib, pylab, seaborn, mpl_toolkits, IPython) are always
  stand-ins, installed or not: every function does nothing, so a notebook that plots is graded
  on its code, nothing waits for a window, nothing is written, the same verdict everywhere,
  and a submission that does not plot pays nothing for it.
* The series' support modules the assignment names (`from partOne import *`), when the
  student did not hand in their own: what the assignment gives for them (the series' data,
  never anything that answers a question).
* The student's own modules (other .py files of their folder), served from memory.
* A package not installed where grading runs: a top-level import of it binds `Missing`
  stand-ins, and only code that uses one fails, with an error naming the package.
"""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from importlib.machinery import ModuleSpec
from typing import TYPE_CHECKING, Any, Literal, NoReturn, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

PLOTTING_ROOTS = ("matplotlib", "pylab", "seaborn", "mpl_toolkits", "IPython")
# Packages a course may use that are often not installed where grading runs; any other name
# may as well be a file of the student's that was not handed in.
KNOWN_PACKAGES = frozenset((
    "scipy", "torch", "tensorflow", "keras", "sklearn", "pandas", "sympy", "jax", "autograd",
    "numba", "cupy", "tqdm", "PIL", "cv2", "statsmodels", "plotly", "bokeh", "theano", "mxnet",
    "xgboost", "lightgbm", "h5py", "skimage", "nltk", "gym", "networkx", "ipywidgets",
))
_PYPLOT_NAMES = (
    "plot", "figure", "subplot", "subplots", "show", "xlabel", "ylabel", "title", "legend",
    "grid", "xlim", "ylim", "scatter", "bar", "barh", "hist", "imshow", "contour", "contourf",
    "colorbar", "savefig", "close", "clf", "cla", "gca", "gcf", "axis", "text", "annotate",
    "semilogx", "semilogy", "loglog", "tight_layout", "suptitle", "errorbar", "fill_between",
    "axhline", "axvline", "xticks", "yticks", "pause", "ion", "ioff", "draw", "figtext",
    "subplots_adjust", "clabel", "rcParams", "style", "cm", "get_cmap", "twinx", "pcolor",
    "pcolormesh", "quiver", "stem", "step", "pie", "boxplot", "matshow", "polar", "rc",
    "xscale", "yscale", "margins", "figlegend", "ginput", "waitforbuttonpress",
)


def missing_message(name: str) -> str:
    """What a student reads when their code uses a module that is not here."""
    root = name.partition(".")[0]
    if root in KNOWN_PACKAGES:
        return f"{root} is not installed where this is graded: ask your instructor, or use numpy"
    return (f"there is no module {root} where this is graded: if it is a file of yours, hand it "
            f"in with your work; if it is a package, ask your instructor, or use numpy")


class Inert:
    """What every plotting or display call gives here: it takes anything and does nothing."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Inert:
        return INERT

    def __getattr__(self, name: str) -> Inert:
        if name.startswith("__"):  # not an array, a path, a number: numpy must not mistake it
            raise AttributeError(name)
        return INERT

    def __setattr__(self, name: str, value: Any) -> None:
        pass

    def __getitem__(self, key: Any) -> Inert:
        return INERT

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __iter__(self) -> Iterator[Inert]:  # `line, = plt.plot(x, y)`
        return iter((INERT,))

    def __enter__(self) -> Inert:
        return INERT

    def __exit__(self, *exc: object) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "<does nothing when graded>"


INERT = Inert()


def _subplots(nrows: int = 1, ncols: int = 1, *args: Any, squeeze: bool = True, **kwargs: Any) -> tuple[Inert, Any]:
    """(figure, axes) as matplotlib shapes them, so `fig, (a, b) = subplots(1, 2)` unpacks."""
    import numpy as np

    axes = np.frompyfunc(lambda _: INERT, 1, 1)(np.zeros((int(nrows), int(ncols))))
    if squeeze:
        axes = axes.flat[0] if axes.size == 1 else axes.reshape(-1) if 1 in axes.shape else axes
    return INERT, axes


class InertModule(types.ModuleType):
    """A plotting or display module: every name in it is inert."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in ("pyplot", "pylab"):  # `from matplotlib import pyplot`: the real stand-in
            import importlib

            return importlib.import_module(f"{self.__name__}.{name}")
        return INERT


def _pyplot_names() -> dict[str, Any]:
    names: dict[str, Any] = dict.fromkeys(_PYPLOT_NAMES, INERT)
    names.update(subplots=_subplots, hist=lambda *a, **k: (INERT, INERT, INERT))
    return names


def _pylab_names() -> dict[str, Any]:
    """What `from pylab import *` binds: pyplot's names, then numpy's (fft, random, linalg
    too), then the builtins pylab puts back, as matplotlib.pylab does."""
    import builtins
    import datetime

    import numpy
    import numpy.fft
    import numpy.linalg
    import numpy.ma
    import numpy.random

    names = _pyplot_names()
    for module in (numpy, numpy.fft, numpy.random, numpy.linalg):
        names.update((name, getattr(module, name)) for name in module.__all__
                     if hasattr(module, name))
    names.update(np=numpy, ma=numpy.ma, datetime=datetime)
    for name in ("bytes", "abs", "bool", "max", "min", "pow", "round"):
        names[name] = getattr(builtins, name)
    return names


def defer_submodules(module: types.ModuleType) -> None:
    """Bind each submodule `module` lists in __all__ but loads only when first asked for (numpy
    2 does so for f2py, testing, polynomial...) to a module that imports it when first used.
    `from numpy import *`, which %pylab runs, asks for every name in __all__: numpy.f2py and
    numpy.testing alone took 130 ms of each such notebook's runner, for names it never uses.
    Importing the submodule itself (`import numpy.testing`) binds the real one, as before."""
    from importlib.util import find_spec

    for name in getattr(module, "__all__", ()):
        qualified = f"{module.__name__}.{name}"
        if name in vars(module) or qualified in sys.modules:
            continue
        try:
            found = find_spec(qualified) is not None
        except (ImportError, ValueError):  # not a submodule that can be found: left as it is
            found = False
        if found:
            setattr(module, name, _ImportedOnUse(qualified))


class _ImportedOnUse(types.ModuleType):
    """A module, imported when an attribute of it is first asked for."""

    def __getattr__(self, attribute: str) -> Any:
        import importlib

        return getattr(importlib.import_module(self.__name__), attribute)


class _PlottingLoader:
    @staticmethod
    def create_module(spec: ModuleSpec) -> types.ModuleType:
        module = InertModule(spec.name)
        module.__path__ = []  # a package: any submodule is a stand-in too
        leaf = spec.name.rpartition(".")[2]
        names = _pylab_names() if leaf == "pylab" else _pyplot_names() if leaf == "pyplot" else {}
        module.__dict__.update(names)
        if names:
            vars(module)["__all__"] = [name for name in names if not name.startswith("_")]
        return module

    @staticmethod
    def exec_module(module: types.ModuleType) -> None:
        pass


class _SourceLoader:
    """Runs a module's source from memory: a student's own file, or a series stand-in."""

    def __init__(self, source: str, filename: str) -> None:
        self.source, self.filename = source, filename

    def create_module(self, spec: ModuleSpec) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__file__ = self.filename
        exec(compile(self.source, self.filename, "exec", dont_inherit=True), module.__dict__)


class PlottingFinder:
    """First on sys.meta_path: plotting and display modules are always the stand-ins."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name.partition(".")[0] in PLOTTING_ROOTS:
            return ModuleSpec(name, cast("Loader", _PlottingLoader), is_package=True)
        return None


class StudentModuleFinder:
    """Last on sys.meta_path, so that a student's file never shadows the standard library or
    numpy: their own modules, else the stand-ins for the series' support modules, each running
    `standin` (the assignment's: the series' data). `served(name)` is told of each stand-in used."""

    def __init__(self, modules: dict[str, dict[str, str]], served: Callable[[str], None],
                 series_modules: Iterable[str] = (), standin: str = "") -> None:
        self.modules, self.served = modules, served
        self.series_modules, self.standin = frozenset(series_modules), standin

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        own = self.modules.get(name)
        if own is not None:
            return ModuleSpec(name, cast("Loader", _SourceLoader(own["source"], own["filename"])))
        if name in self.series_modules:
            self.served(name)
            return ModuleSpec(name, cast("Loader", _SourceLoader(self.standin, f"<the series' {name}: data only>")))
        return None


def install_finders(modules: dict[str, dict[str, str]], served: Callable[[str], None],
                    series_modules: Iterable[str] = (), standin: str = "") -> None:
    """The plotting stand-ins first on sys.meta_path, the student's own modules and the
    series' stand-ins last."""
    sys.meta_path.insert(0, PlottingFinder)
    sys.meta_path.append(StudentModuleFinder(modules, served, series_modules, standin))


class MissingPackageError(ModuleNotFoundError):
    """Code used a stand-in for a package not installed here."""


class Missing:
    """A name bound by an import that failed here: any use of it raises, naming the package."""

    __slots__ = ("_name",)
    _name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise MissingPackageError(missing_message(self._name), name=self._name)

    def __getattr__(self, name: str) -> Missing:
        if name.startswith("__"):
            raise AttributeError(name)
        return Missing(f"{self._name}.{name}")

    def __mro_entries__(self, bases: tuple[Any, ...]) -> NoReturn:  # class Net(torch.nn.Module): fails, naming torch
        self._fail()

    def __repr__(self) -> str:
        return f"<{self._name}: not installed where this is graded>"

    __call__ = __array__ = __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = _fail
    __setattr__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _fail
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __pow__ = __neg__ = _fail
    __float__ = __int__ = __index__ = __enter__ = _fail


def bind_missing(statement: ast.stmt, error: ModuleNotFoundError, namespace: dict[str, Any],
                 run_import: Callable[[ast.stmt], None]) -> list[str] | None:
    """After a top-level import raised `error`: if the module it names is not installed, bind a
    Missing stand-in for each name the statement would bind (the others are imported as
    usual, by `run_import(statement)`) and return the missing root modules, else None."""
    if not isinstance(statement, (ast.Import, ast.ImportFrom)) \
            or (isinstance(statement, ast.ImportFrom) and statement.level):
        return None
    failed = (error.name or "").partition(".")[0]
    if isinstance(statement, ast.ImportFrom):
        if (statement.module or "").partition(".")[0] != failed:
            return None  # the module exists but raised while importing something else
        for alias in statement.names:
            if alias.name != "*":
                namespace[alias.asname or alias.name] = Missing(f"{statement.module}.{alias.name}")
        return [failed]
    if failed not in {alias.name.partition(".")[0] for alias in statement.names}:
        return None
    missing = []
    for alias in statement.names:
        single = ast.copy_location(ast.Import(names=[alias]), statement)
        try:
            run_import(single)
        except ModuleNotFoundError as exc:
            root = (exc.name or "").partition(".")[0]
            if root != alias.name.partition(".")[0]:
                raise
            bound = alias.asname or root
            namespace[bound] = Missing(alias.name if alias.asname else root)
            missing.append(root)
    return missing
