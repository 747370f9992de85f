"""The tiny assignment's cases: the notes' one vector, and random ones of other lengths."""

from __future__ import annotations

import numpy as np

from grader.assignment import Case


def worksheet_cases(reference) -> list[Case]:
    return [Case("given", "the notes' vector", None, True,
                 {"v": np.array([3.0, -4.0, 12.0]), "n": 3, "m": 2})]


def seeded_cases(seed: int, reference) -> list[Case]:
    """A vector of one number and one of five: an answer sized for three fails on them."""
    rng = np.random.default_rng(seed)
    return [Case(f"random{k}", f"random ({k} number{'s' * (k != 1)})", None, False,
                 {"v": rng.normal(0, 1, k), "n": k, "m": k + 2})
            for k in (1, 5)]
