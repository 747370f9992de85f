"""The backpropagation worksheet's cases: the networks each question is checked on.

Expected values are never computed here: every one comes from calling the model answer
(`solution/backprop.py`, passed in as `reference`), so the math has one home. This file only decides
which networks to test on; each case is a set of named values (X, y, W1, W2, the layer sizes,
and the intermediates z2, a2, z3, yHat, delta3, delta2) that the questions' `arguments` in
assignment.toml are expressions over.

On the worksheet's own cases the intermediates are the worksheet's (the model answer's forward
pass and deltas), so they hold other questions' answers: `provenance` says whose, and those
calls are made only after those questions are answered. On the seeded cases they are
independent draws, related only as the worksheet's identities relate them (a2 = f(z2),
yHat = f(z3)): dJ/dW(2) = a(2)ᵀ δ(3) holds for any a(2) and δ(3), and no argument gives away
another question's answer.
"""

from __future__ import annotations

import numpy as np

from grader.assignment import Case, KeyEntry, Network

# The worksheet's data: hours of sleep and study, scaled by the column maxima as in the series.
SERIES_X = np.array([[3, 5], [5, 1], [10, 2]], dtype=float)
SERIES_Y = np.array([[75], [82], [93]], dtype=float) / 100

# Sizes of the seeded cases, (numExamples, input, hidden, output): a hidden size other than 3,
# more than one output and a single example, so that an answer sized for the worksheet fails.
# Two square corners make common slips computable, so they can be told apart from the right
# answer: output size = hidden size (delta3 @ W2 without the transpose), examples = inputs (X @ delta2).
SEEDED_SIZES = ((5, 2, 4, 1), (1, 3, 2, 2), (3, 3, 5, 3))

# Which question's answer each of the worksheet's intermediate values is.
PROVENANCE = {"z2": "forward", "a2": "forward", "z3": "forward", "yHat": "forward",
              "delta3": "delta3", "delta2": "delta2"}


def _primary(network: Network) -> dict:
    n, i, h, o = network.sizes
    return {"X": network.X, "y": network.y, "W1": network.W1, "W2": network.W2,
            "num_examples": n, "input_layer_size": i, "hidden_layer_size": h,
            "output_layer_size": o}


def _worksheet_case(reference, id: str, label: str, network: Network) -> Case:
    """The worksheet's intermediates are the model answer's, on the worksheet's data."""
    z2, a2, z3, yHat = reference.forward(network.X, network.W1, network.W2)
    delta3 = reference.delta3(network.y, yHat, z3)
    values = {**_primary(network), "z2": z2, "a2": a2, "z3": z3, "yHat": yHat, "delta3": delta3,
              "delta2": reference.delta2(delta3, network.W2, z2)}
    return Case(id, label, network, True, values, dict(PROVENANCE))


def worksheet_cases(reference) -> list[Case]:
    """Q11's one example and Q16's three, with W(1) and W(2) all ones."""
    X = SERIES_X / SERIES_X.max(axis=0)
    ones = (np.ones((2, 3)), np.ones((3, 1)))
    return [
        _worksheet_case(reference, "q11", "worksheet Q11 (one example)", Network(X[:1], SERIES_Y[:1], *ones)),
        _worksheet_case(reference, "q16", "worksheet Q16 (three examples)", Network(X, SERIES_Y, *ones)),
    ]


def seeded_cases(seed: int, reference) -> list[Case]:
    """Random networks of other sizes; the same seed always gives the same networks."""
    rng = np.random.default_rng(seed)
    networks = []
    for n, i, h, o in SEEDED_SIZES:
        networks.append(Network(
            X=rng.uniform(0, 1, (n, i)),
            y=rng.uniform(0, 1, (n, o)),
            W1=rng.normal(0, 1, (i, h)),
            W2=rng.normal(0, 1, (h, o)),
        ))
    cases = []
    for index, network in enumerate(networks, start=1):
        n, i, h, o = network.sizes
        z2, z3 = rng.normal(0, 1, (n, h)), rng.normal(0, 1.5, (n, o))
        values = {**_primary(network), "z2": z2, "a2": reference.sigmoid(z2), "z3": z3,
                  "yHat": reference.sigmoid(z3), "delta3": rng.normal(0, 0.1, (n, o)),
                  "delta2": rng.normal(0, 0.05, (n, h))}
        label = f"random {index} ({n} example{'s' * (n != 1)}, layers {i}-{h}-{o})"
        cases.append(Case(f"random{index}", label, network, False, values))
    return cases


def answer_key(reference, worksheet: list[Case]) -> list[KeyEntry]:
    """What an instructor hands out after the deadline: the worksheet's quantities, by question."""
    ref = reference
    q11, q16 = (case.network for case in worksheet)
    n, i, h, o = q11.sizes
    z2, a2, z3, yHat = ref.forward(q11.X, q11.W1, q11.W2)
    delta3 = ref.delta3(q11.y, yHat, z3)
    z2_16, a2_16, z3_16, yHat_16 = ref.forward(q16.X, q16.W1, q16.W2)
    delta3_16 = ref.delta3(q16.y, yHat_16, z3_16)
    delta2_16 = ref.delta2(delta3_16, q16.W2, z2_16)
    return [
        KeyEntry("Q1", "dimension of dJ/dW(1)", ref.dJdW1_shape(i, h, o)),
        KeyEntry("Q2", "dimension of dJ/dW(2)", ref.dJdW2_shape(i, h, o)),
        KeyEntry("Q4", "dJ/dyHat (Q11's example)", ref.dJdyHat(q11.y, yHat)),
        KeyEntry("Q7", "dimension of delta(3), one example", ref.delta3_shape(n, o)),
        KeyEntry("Q11", "z(2)", z2),
        KeyEntry("Q11", "a(2)", a2),
        KeyEntry("Q11", "z(3)", z3),
        KeyEntry("Q11", "yHat", yHat),
        KeyEntry("Q11", "J (one example)", ref.cost(q11.y, yHat)),
        KeyEntry("Q11", "delta(3)", delta3),
        KeyEntry("Q11", "dJ/dW(2)", ref.dJdW2(a2, delta3)),
        KeyEntry("Q12", "rows of a(2)", ref.A2_ROWS),
        KeyEntry("Q12", "columns of a(2)", ref.A2_COLUMNS),
        KeyEntry("Q13", "dimension of delta(3), three examples", ref.delta3_shape(q16.sizes[0], o)),
        KeyEntry("Q16", "J (three examples)", ref.cost(q16.y, yHat_16)),
        KeyEntry("Q16", "dJ/dW(2)", ref.dJdW2(a2_16, delta3_16)),
        KeyEntry("Q17", "delta(2) (Q16's data)", delta2_16),
        KeyEntry("Q17", "dJ/dW(1) (Q16's data)", ref.dJdW1(q16.X, delta2_16)),
    ]
