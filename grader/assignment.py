"""The worksheet as data: its questions, their points, and the cases each is checked on.

Expected values are never computed here: every one comes from calling the model answer in
``solutions/backprop.py`` (the reference), so the math has one home. This module only decides
which networks to test on and which arguments each question's function receives.
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
    """A named network a question is checked on; `worksheet` marks the worksheet's own numbers."""

    id: str
    label: str
    network: Network
    worksheet: bool


@dataclass(frozen=True)
class Question:
    """One graded function of the student contract."""

    id: str
    worksheet: str
    points: float
    kind: Kind
    # Builds the call's arguments from a case's network, using the reference for any
    # intermediate value (yHat, delta3, ...) so that each question is graded on its own.
    arguments: Callable[[Network, ModuleType], tuple]
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


def _forward(net: Network, ref: ModuleType):
    return ref.forward(net.X, net.W1, net.W2)


def _delta3(net: Network, ref: ModuleType):
    z2, a2, z3, yHat = _forward(net, ref)
    return ref.delta3(net.y, yHat, z3)


def _normalise_cost(answer: Any, expected: np.ndarray) -> Any:
    """J may come as (1, outputs), (outputs,) as the series' own code gives, or any size-1 form."""
    array = np.asarray(answer, dtype=float)
    if array.size == expected.size and (expected.size == 1 or array.shape == expected.shape[1:]):
        return array.reshape(expected.shape)
    return answer


# The points live here, and only here: they total 20.
QUESTIONS: tuple[Question, ...] = (
    Question("forward", "equations (1)-(4)", 1, Kind.ARRAYS,
             lambda n, ref: (n.X, n.W1, n.W2), parts=("z2", "a2", "z3", "yHat"),
             synonyms=("forward_propagation", "forward_prop", "forward_pass", "feedforward",
                       "feed_forward", "forwardProp", "forwardPropagation", "predict")),
    Question("cost", "equation (5)", 1, Kind.ARRAY,
             lambda n, ref: (n.y, _forward(n, ref)[3]), normalise=_normalise_cost,
             synonyms=("cost_function", "costFunction", "compute_cost", "loss", "J",
                       "cost_func", "squared_error", "sse")),
    Question("dJdW1_shape", "Q1", 1, Kind.SHAPE, lambda n, ref: n.sizes[1:],
             synonyms=("dJdW1_dim", "dJdW1_dims", "dJdW1_dimension", "dJdW1_size",
                       "shape_dJdW1", "dim_dJdW1")),
    Question("dJdW2_shape", "Q2", 1, Kind.SHAPE, lambda n, ref: n.sizes[1:],
             synonyms=("dJdW2_dim", "dJdW2_dims", "dJdW2_dimension", "dJdW2_size",
                       "shape_dJdW2", "dim_dJdW2")),
    Question("per_example_dJdW2", "Q3, Q14", 1, Kind.ARRAY,
             lambda n, ref: (_forward(n, ref)[1], _delta3(n, ref)),
             synonyms=("dJdW2_per_example", "per_example_gradients", "per_example_grad",
                       "example_dJdW2", "dJdW2_each")),
    Question("dJdyHat", "Q4", 1, Kind.ARRAY, lambda n, ref: (n.y, _forward(n, ref)[3]),
             synonyms=("dJ_dyHat", "dJ_dy_hat", "dcost_dyhat", "cost_derivative", "dJdy",
                       "dJ_dyhat", "dcost")),
    Question("sigmoid_prime", "Q6", 2, Kind.ARRAY,
             lambda n, ref: (_forward(n, ref)[0],), aliases=("sigmoidPrime",),
             synonyms=("sigmoid_derivative", "sigmoidDerivative", "sigmoid_deriv", "dsigmoid",
                       "d_sigmoid", "sigmoid_grad", "sigmoid_gradient", "sigmoidGradient",
                       "derivative_sigmoid", "deriv_sigmoid", "fprime", "f_prime", "sigmoid_d")),
    Question("delta3_shape", "Q7, Q13", 1, Kind.SHAPE, lambda n, ref: (n.sizes[0], n.sizes[3]),
             synonyms=("delta3_dim", "delta3_dims", "delta3_dimension", "delta3_size",
                       "shape_delta3")),
    Question("delta3", "Q5, after Q6, Q13", 2, Kind.ARRAY,
             lambda n, ref: (n.y, _forward(n, ref)[3], _forward(n, ref)[2]),
             synonyms=("delta_3", "delta_three", "output_delta", "dJdz3", "dJ_dz3", "d3",
                       "delta_output")),
    Question("dz3dW2", "Q8-Q10", 1, Kind.ARRAY, lambda n, ref: (_forward(n, ref)[1][:1],),
             synonyms=("dz3_dW2", "dz3dw2")),
    Question("a2_rows_and_columns", "Q12", 1, Kind.CHOICES, lambda n, ref: (),
             constants=("A2_ROWS", "A2_COLUMNS"), only_case="q16"),
    Question("dJdW2", "Q11, Q14-Q16", 2, Kind.ARRAY,
             lambda n, ref: (_forward(n, ref)[1], _delta3(n, ref)),
             synonyms=("dJ_dW2", "grad_W2", "gradient_W2", "dW2", "W2_gradient", "dJdw2")),
    Question("delta2", "Q17", 2, Kind.ARRAY,
             lambda n, ref: (_delta3(n, ref), n.W2, _forward(n, ref)[0]),
             synonyms=("delta_2", "delta_two", "hidden_delta", "dJdz2", "dJ_dz2", "d2",
                       "delta_hidden")),
    Question("dJdW1", "Q17", 1, Kind.ARRAY,
             lambda n, ref: (n.X, ref.delta2(_delta3(n, ref), n.W2, _forward(n, ref)[0])),
             synonyms=("dJ_dW1", "grad_W1", "gradient_W1", "dW1", "W1_gradient", "dJdw1")),
    Question("cost_function_prime", "Your Mission", 2, Kind.ARRAYS,
             lambda n, ref: (n.X, n.y, n.W1, n.W2), aliases=("costFunctionPrime",),
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


def worksheet_cases() -> list[Case]:
    """Q11's one example and Q16's three, with W(1) and W(2) all ones."""
    X = _SERIES_X / _SERIES_X.max(axis=0)
    ones = (np.ones((2, 3)), np.ones((3, 1)))
    return [
        Case("q11", "worksheet Q11 (one example)", Network(X[:1], _SERIES_Y[:1], *ones), True),
        Case("q16", "worksheet Q16 (three examples)", Network(X, _SERIES_Y, *ones), True),
    ]


def seeded_cases(seed: int) -> list[Case]:
    """Random networks of other sizes; the same seed always gives the same networks."""
    rng = np.random.default_rng(seed)
    cases = []
    for index, (n, i, h, o) in enumerate(_SEEDED_SIZES, start=1):
        network = Network(
            X=rng.uniform(0, 1, (n, i)),
            y=rng.uniform(0, 1, (n, o)),
            W1=rng.normal(0, 1, (i, h)),
            W2=rng.normal(0, 1, (h, o)),
        )
        label = f"random {index} ({n} example{'s' * (n != 1)}, layers {i}-{h}-{o})"
        cases.append(Case(f"random{index}", label, network, False))
    return cases


def cases(seed: int = DEFAULT_SEED) -> list[Case]:
    """Every case each question is checked on: the worksheet's first, then the seeded ones."""
    return worksheet_cases() + seeded_cases(seed)
