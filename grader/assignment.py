"""The worksheet as data: its questions, their points, and the cases each is checked on.

Expected values are never computed here: every one comes from calling the model answer in
``solutions/backprop.py`` (the reference), so the math has one home. This module only decides
which networks to test on and which arguments each question's function receives: each case is
a set of named values (X, y, W1, W2, the layer sizes, and the intermediates z2, a2, z3, yHat,
delta3, delta2), and a question's arguments are an expression over them.

On the worksheet's own cases the intermediates are the worksheet's (the model answer's forward
pass and deltas), so they hold other questions' answers: those calls are made only after those
questions are answered. On the seeded cases they are independent draws, related only as the
worksheet's identities relate them (a2 = f(z2), yHat = f(z3)): dJ/dW(2) = a(2)ᵀ δ(3) holds
for any a(2) and δ(3), and no argument gives away another question's answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np

ASSIGNMENT = "backprop"
DEFAULT_SEED = 0
RTOL = 1e-5
ATOL = 1e-8


class Kind(enum.Enum):
    """What a question's function returns, which decides how its answer is read."""

    ARRAY = "array"
    SHAPE = "shape"
    ARRAYS = "arrays"  # a fixed-length tuple of arrays, named by Question.parts
    CHOICES = "choices"  # constants, each one of CHOICES, named by Question.constants


# The answers a CHOICES question accepts, each with the spellings read as it: case and
# surrounding spaces are ignored, and the singular is as good as the plural.
CHOICES = {
    "examples": ("example", "examples"),
    "hidden units": ("hidden unit", "hidden units"),
    "input features": ("input feature", "input features"),
    "outputs": ("output", "outputs"),
}


@dataclass(frozen=True)
class Network:
    """One 2-layer sigmoid network with its data: the inputs every case is derived from."""

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
    """A named network a question is checked on; `worksheet` marks the worksheet's own numbers.
    `values` are what arguments are made of; `provenance` says which question's answer a value
    is (the worksheet's intermediates), so that no call reveals it before it is answered."""

    id: str
    label: str
    network: Network
    worksheet: bool
    values: dict = field(default_factory=dict, compare=False, hash=False)
    provenance: dict = field(default_factory=dict, compare=False, hash=False)


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
        return tuple(eval(compile(self.arguments, f"<{self.id} arguments>", "eval"),  # noqa: S307
                          {"__builtins__": {}}, dict(case.values)))

    def reveals(self, case: Case) -> set[str]:
        """The questions whose answers this question's arguments hold on a case."""
        if not self.arguments.strip():
            return set()
        names = compile(self.arguments, "<arguments>", "eval").co_names
        return {case.provenance[name] for name in names if name in case.provenance}


def _normalise_cost(answer: Any, expected: np.ndarray) -> Any:
    """J may come as (1, outputs), (outputs,) as the series' own code gives, or any size-1 form."""
    array = np.asarray(answer, dtype=float)
    if array.size == expected.size and (expected.size == 1 or array.shape == expected.shape[1:]):
        return array.reshape(expected.shape)
    return answer


_SIZES = "input_layer_size, hidden_layer_size, output_layer_size"

# The points live here, and only here: they total 20.
QUESTIONS: tuple[Question, ...] = (
    Question("forward", "equations (1)-(4)", 1, Kind.ARRAYS,
             "X, W1, W2", parts=("z2", "a2", "z3", "yHat"),
             synonyms=("forward_propagation", "forward_prop", "forward_pass", "feedforward",
                       "feed_forward", "forwardProp", "forwardPropagation", "predict")),
    Question("cost", "equation (5)", 1, Kind.ARRAY,
             "y, yHat", normalise=_normalise_cost,
             synonyms=("cost_function", "costFunction", "compute_cost", "loss", "J",
                       "cost_func", "squared_error", "sse")),
    Question("dJdW1_shape", "Q1", 1, Kind.SHAPE, _SIZES,
             synonyms=("dJdW1_dim", "dJdW1_dims", "dJdW1_dimension", "dJdW1_size",
                       "shape_dJdW1", "dim_dJdW1")),
    Question("dJdW2_shape", "Q2", 1, Kind.SHAPE, _SIZES,
             synonyms=("dJdW2_dim", "dJdW2_dims", "dJdW2_dimension", "dJdW2_size",
                       "shape_dJdW2", "dim_dJdW2")),
    Question("per_example_dJdW2", "Q3, Q14", 1, Kind.ARRAY, "a2, delta3",
             synonyms=("dJdW2_per_example", "per_example_gradients", "per_example_grad",
                       "example_dJdW2", "dJdW2_each")),
    Question("dJdyHat", "Q4", 1, Kind.ARRAY, "y, yHat",
             synonyms=("dJ_dyHat", "dJ_dy_hat", "dcost_dyhat", "cost_derivative", "dJdy",
                       "dJ_dyhat", "dcost")),
    Question("sigmoid_prime", "Q6", 2, Kind.ARRAY, "z2,", aliases=("sigmoidPrime",),
             synonyms=("sigmoid_derivative", "sigmoidDerivative", "sigmoid_deriv", "dsigmoid",
                       "d_sigmoid", "sigmoid_grad", "sigmoid_gradient", "sigmoidGradient",
                       "derivative_sigmoid", "deriv_sigmoid", "fprime", "f_prime", "sigmoid_d")),
    Question("delta3_shape", "Q7, Q13", 1, Kind.SHAPE, "num_examples, output_layer_size",
             synonyms=("delta3_dim", "delta3_dims", "delta3_dimension", "delta3_size",
                       "shape_delta3")),
    Question("delta3", "Q5, after Q6, Q13", 2, Kind.ARRAY, "y, yHat, z3",
             synonyms=("delta_3", "delta_three", "output_delta", "dJdz3", "dJ_dz3", "d3",
                       "delta_output")),
    Question("dz3dW2", "Q8-Q10", 1, Kind.ARRAY, "a2[:1],",
             synonyms=("dz3_dW2", "dz3dw2")),
    Question("a2_rows_and_columns", "Q12", 1, Kind.CHOICES, "",
             constants=("A2_ROWS", "A2_COLUMNS"), only_case="q16"),
    Question("dJdW2", "Q11, Q14-Q16", 2, Kind.ARRAY, "a2, delta3",
             synonyms=("dJ_dW2", "grad_W2", "gradient_W2", "dW2", "W2_gradient", "dJdw2")),
    Question("delta2", "Q17", 2, Kind.ARRAY, "delta3, W2, z2",
             synonyms=("delta_2", "delta_two", "hidden_delta", "dJdz2", "dJ_dz2", "d2",
                       "delta_hidden")),
    Question("dJdW1", "Q17", 1, Kind.ARRAY, "X, delta2",
             synonyms=("dJ_dW1", "grad_W1", "gradient_W1", "dW1", "W1_gradient", "dJdw1")),
    Question("cost_function_prime", "Your Mission", 2, Kind.ARRAYS, "X, y, W1, W2",
             aliases=("costFunctionPrime",),
             parts=("dJdW1", "dJdW2"),
             synonyms=("cost_prime", "costPrime", "gradients", "backprop", "backpropagation",
                       "back_propagation", "backward", "backward_pass", "gradient", "dJdW",
                       "cost_gradient", "cost_function_gradient")),
)

MAX_SCORE = sum(q.points for q in QUESTIONS)


def question(question_id: str) -> Question:
    """The question with that id; KeyError names the valid ids."""
    for q in QUESTIONS:
        if q.id == question_id:
            return q
    raise KeyError(f"no question {question_id!r}; questions are {', '.join(q.id for q in QUESTIONS)}")


def worksheet_numbers(q: Question) -> set[int]:
    """The worksheet's question numbers a question answers: "Q11, Q14-Q16" is {11, 14, 15, 16}."""
    import re

    numbers = set()
    answered = re.sub(r"after Q\d+", "", q.worksheet)  # "after Q6": builds on it, doesn't answer it
    for first, last in re.findall(r"Q(\d+)(?:-Q?(\d+))?", answered):
        numbers.update(range(int(first), int(last or first) + 1))
    return numbers


def questions_named(label: str) -> tuple[Question, ...]:
    """The questions a student means by `label`: a function's id ("dJdW2", any case) or a
    worksheet question number ("Q6", "q11", "11"). KeyError says what is accepted."""
    wanted = label.strip()
    by_id = [q for q in QUESTIONS if wanted.lower() in (q.id.lower(), *(a.lower() for a in q.aliases))]
    if by_id:
        return tuple(by_id)
    number = wanted[1:] if wanted[:1] in ("Q", "q") else wanted
    if number.isdigit():
        found = tuple(q for q in QUESTIONS if int(number) in worksheet_numbers(q))
        if found:
            return found
        covered = sorted(set().union(*(worksheet_numbers(q) for q in QUESTIONS)))
        raise KeyError(f"no function answers worksheet question Q{int(number)}; the functions answer "
                       f"Q{covered[0]}-Q{covered[-1]}")
    raise KeyError(f"no question {label!r}: name a function ({', '.join(q.id for q in QUESTIONS)}) "
                   f"or a worksheet question such as Q6")


def load_reference() -> ModuleType:
    """The model answer, imported in the grader's own (trusted) process."""
    from solutions import backprop

    return backprop


# The worksheet's data: hours of sleep and study, scaled by the column maxima as in the series.
_SERIES_X = np.array([[3, 5], [5, 1], [10, 2]], dtype=float)
_SERIES_Y = np.array([[75], [82], [93]], dtype=float) / 100

# Sizes of the seeded cases, (numExamples, input, hidden, output): a hidden size other than 3,
# more than one output and a single example, so that an answer sized for the worksheet fails.
# Two square corners make common slips computable, so they can be told apart from the right
# answer: output size = hidden size (delta3 @ W2 without the transpose), examples = inputs (X @ delta2).
_SEEDED_SIZES = ((5, 2, 4, 1), (1, 3, 2, 2), (3, 3, 5, 3))


def _primary(network: Network) -> dict:
    n, i, h, o = network.sizes
    return {"X": network.X, "y": network.y, "W1": network.W1, "W2": network.W2,
            "num_examples": n, "input_layer_size": i, "hidden_layer_size": h,
            "output_layer_size": o}


# Which question's answer each of the worksheet's intermediate values is.
_PROVENANCE = {"z2": "forward", "a2": "forward", "z3": "forward", "yHat": "forward",
               "delta3": "delta3", "delta2": "delta2"}


def _worksheet_case(id: str, label: str, network: Network) -> Case:
    """The worksheet's intermediates are the model answer's, on the worksheet's data."""
    reference = load_reference()
    z2, a2, z3, yHat = reference.forward(network.X, network.W1, network.W2)
    delta3 = reference.delta3(network.y, yHat, z3)
    values = {**_primary(network), "z2": z2, "a2": a2, "z3": z3, "yHat": yHat, "delta3": delta3,
              "delta2": reference.delta2(delta3, network.W2, z2)}
    return Case(id, label, network, True, values, dict(_PROVENANCE))


def worksheet_cases() -> list[Case]:
    """Q11's one example and Q16's three, with W(1) and W(2) all ones."""
    X = _SERIES_X / _SERIES_X.max(axis=0)
    ones = (np.ones((2, 3)), np.ones((3, 1)))
    return [
        _worksheet_case("q11", "worksheet Q11 (one example)", Network(X[:1], _SERIES_Y[:1], *ones)),
        _worksheet_case("q16", "worksheet Q16 (three examples)", Network(X, _SERIES_Y, *ones)),
    ]


def seeded_cases(seed: int) -> list[Case]:
    """Random networks of other sizes; the same seed always gives the same networks."""
    rng = np.random.default_rng(seed)
    networks = []
    for n, i, h, o in _SEEDED_SIZES:
        networks.append(Network(
            X=rng.uniform(0, 1, (n, i)),
            y=rng.uniform(0, 1, (n, o)),
            W1=rng.normal(0, 1, (i, h)),
            W2=rng.normal(0, 1, (h, o)),
        ))
    sigmoid = load_reference().sigmoid
    cases = []
    for index, network in enumerate(networks, start=1):
        n, i, h, o = network.sizes
        z2, z3 = rng.normal(0, 1, (n, h)), rng.normal(0, 1.5, (n, o))
        values = {**_primary(network), "z2": z2, "a2": sigmoid(z2), "z3": z3, "yHat": sigmoid(z3),
                  "delta3": rng.normal(0, 0.1, (n, o)), "delta2": rng.normal(0, 0.05, (n, h))}
        label = f"random {index} ({n} example{'s' * (n != 1)}, layers {i}-{h}-{o})"
        cases.append(Case(f"random{index}", label, network, False, values))
    return cases


def cases(seed: int = DEFAULT_SEED) -> list[Case]:
    """Every case each question is checked on: the worksheet's first, then the seeded ones."""
    return worksheet_cases() + seeded_cases(seed)
