"""The gradient-checking worksheet's cases: the networks each question is checked on.

Every expected value comes from calling the model answer (`solution/gradient_checking.py`,
passed in as `reference`). Each case is a set of named values that the questions' `arguments`
in assignment.toml are expressions over: the network (X, y, W1, W2 and the layer sizes), and
the inputs of the later questions (params, yHat, grad, numgrad).

On the worksheet's cases those inputs are the model answer's own (params is get_params of the
weights, grad and numgrad the two gradients), so they hold other questions' answers:
`provenance` says whose, and those calls are made only after those questions are answered.
On the seeded cases they are independent draws of the right sizes, so that no argument gives
an answer away, and a relative error is asked of two gradients that do not agree.
"""

from __future__ import annotations

import numpy as np

from grader.assignment import Case, KeyEntry, Network

# The series' data (hours of sleep and study, test scores), scaled as in the series.
SERIES_X = np.array([[3, 5], [5, 1], [10, 2]], dtype=float)
SERIES_Y = np.array([[75], [82], [93]], dtype=float) / 100
# The notes' weights: all different, so that an unrolling in the wrong order shows.
NOTES_W1 = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
NOTES_W2 = np.array([[0.7], [0.8], [0.9]])

# (numExamples, input, hidden, output) of the seeded cases: other sizes than the notes' 2-3-1,
# one example alone, and two outputs (J is then summed over them too).
SEEDED_SIZES = ((5, 2, 4, 1), (1, 3, 2, 1), (4, 3, 5, 2))

PROVENANCE = {"yHat": "forward", "params": "get_params", "grad": "compute_gradients",
              "numgrad": "numerical_gradient"}


def _sizes(network: Network) -> dict:
    n, i, h, o = network.sizes
    return {"X": network.X, "y": network.y, "W1": network.W1, "W2": network.W2,
            "num_examples": n, "input_layer_size": i, "hidden_layer_size": h, "output_layer_size": o}


def _worksheet_case(reference, id: str, label: str, network: Network) -> Case:
    X, y, W1, W2 = network.X, network.y, network.W1, network.W2
    values = {**_sizes(network), "yHat": reference.forward(X, W1, W2)[3],
              "params": reference.get_params(W1, W2),
              "grad": reference.compute_gradients(X, y, W1, W2),
              "numgrad": reference.numerical_gradient(X, y, W1, W2)}
    return Case(id, label, network, True, values, dict(PROVENANCE))


def worksheet_cases(reference) -> list[Case]:
    """The notes' network (Q2-Q9), and the backpropagation worksheet's Q16 (all weights 1)."""
    X = SERIES_X / SERIES_X.max(axis=0)
    return [
        _worksheet_case(reference, "notes", "the notes' network (2-3-1, three examples)",
                        Network(X, SERIES_Y, NOTES_W1, NOTES_W2)),
        _worksheet_case(reference, "q16", "Part 4's Q16 (weights all 1)",
                        Network(X, SERIES_Y, np.ones((2, 3)), np.ones((3, 1)))),
    ]


def seeded_cases(seed: int, reference) -> list[Case]:
    """Random networks of other sizes; the same seed always gives the same networks."""
    rng = np.random.default_rng(seed)
    cases = []
    for index, (n, i, h, o) in enumerate(SEEDED_SIZES, start=1):
        network = Network(X=rng.uniform(0, 1, (n, i)), y=rng.uniform(0, 1, (n, o)),
                          W1=rng.normal(0, 1, (i, h)), W2=rng.normal(0, 1, (h, o)))
        count = i * h + h * o
        values = {**_sizes(network), "yHat": reference.sigmoid(rng.normal(0, 1.5, (n, o))),
                  "params": rng.normal(0, 1, count),
                  "grad": rng.normal(0, 0.1, count), "numgrad": rng.normal(0, 0.1, count)}
        label = f"random {index} ({n} example{'s' * (n != 1)}, layers {i}-{h}-{o})"
        cases.append(Case(f"random{index}", label, network, False, values))
    return cases


def answer_key(reference, worksheet: list[Case]) -> list[KeyEntry]:
    """The notes' numbers, on the notes' network."""
    notes = worksheet[0].values
    grad, numgrad = notes["grad"], notes["numgrad"]
    return [
        KeyEntry("Q1", "weights of a 2-3-1 network", notes["params"].size),
        KeyEntry("Q2", "the weights unrolled", notes["params"]),
        KeyEntry("Q4", "the gradient unrolled (backpropagation)", grad),
        KeyEntry("Q6-Q8", "the numerical gradient (epsilon 1e-4)", numgrad),
        KeyEntry("Q9", "relative error of the two", reference.relative_error(grad, numgrad)),
    ]
