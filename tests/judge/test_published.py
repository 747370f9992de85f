"""Issue 27, 8: published answers earn nothing on their own. The worksheet's cases are graded,
and their expected values are published (the student check carries them); a file that answers
those inputs and raises on every other scored 8.6/20, unflagged."""

import numpy as np
import pytest

from conftest import BACKPROP, SOLUTION, scores
from grader.grading import plan


def _key(args) -> tuple:
    return tuple(round(float(np.sum(a)), 6) if hasattr(a, "shape") else a for a in args)


# The published cases' inputs, as a student could read them off the self-check file.
PUBLISHED = sorted({(check.question.id, _key(check.args)) for check in plan(BACKPROP.default_seed, BACKPROP)
                    if check.case.worksheet and not check.question.constants})

# Every function is the model answer's, but answers only the published inputs: on any other it
# raises, as a table of the published values would.
LOOKUP = SOLUTION + f"""


PUBLISHED = {PUBLISHED!r}


def _published_only(name, function):
    def lookup(*args):
        key = (name, tuple(round(float(np.sum(a)), 6) if hasattr(a, "shape") else a for a in args))
        if list(key) not in [list(k) for k in PUBLISHED] and key not in PUBLISHED:
            raise KeyError("not in my table")
        return function(*args)
    return lookup


for _name in {sorted({name for name, _ in PUBLISHED})!r}:
    globals()[_name] = _published_only(_name, globals()[_name])
"""


@pytest.mark.sandbox
def test_a_lookup_of_the_published_answers_earns_nothing_and_is_flagged(grade):
    result = grade(LOOKUP)
    earned = {q: s for q, s in scores(result).items() if s}
    # Only what is asked on published cases alone (Q12's words) is left: nothing else to tell apart.
    only_published = {q.id for q in BACKPROP.questions if q.only_case}
    assert set(earned) <= only_published, earned
    [flagged] = [flag for flag in result.flags if "right only where the answers are published" in flag]
    assert all(question in flagged for question in ("forward", "delta2", "cost_function_prime")), flagged
    feedback = {q.question.id: q.feedback for q in result.questions}
    assert "no points for it, and your instructor sees it" in feedback["delta2"]


@pytest.mark.sandbox
def test_an_honest_answer_right_on_one_published_case_only_keeps_that_case(grade):
    # Right on Q11 (one example) only, wrong on Q16 too: not a lookup, and its case still counts.
    result = grade(SOLUTION + "\n\ndef dJdW2(a2, delta3):\n    return np.dot(a2.reshape(a2.shape[1], a2.shape[0]), delta3)\n")
    assert 0 < scores(result)["dJdW2"] < 2
    assert not any("published" in flag for flag in result.flags)


@pytest.mark.sandbox
def test_an_honest_formula_the_worksheets_ones_hide_keeps_what_it_earned(grade):
    # W2 left out of delta2: the worksheet's W2 is all ones, so it is right on both published
    # cases and wrong on every other, but with answers of its own, as a formula gives them, not
    # as a table would (the teacher's review: it was zeroed and flagged).
    result = grade(SOLUTION + "\n\ndef delta2(delta3, W2, z2):\n    return delta3 * sigmoid_prime(z2)\n")
    assert scores(result)["delta2"] == pytest.approx(0.8)
    assert not any("published" in flag for flag in result.flags)
    feedback = {q.question.id: q.feedback for q in result.questions}["delta2"]
    assert "published" not in feedback and "sized for" not in feedback
