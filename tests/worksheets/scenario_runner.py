"""Scenario files: one submission per file, its expected outcome in its header comments. Each
worksheet has a folder of them and a test that runs `run_scenario` on each.

Header lines (all optional but `base`):
  # base: solution | none            prepend the model answer, or grade the file as it is
  # expect status: graded | error
  # expect score: 6                  the submission's total
  # expect lost: 1                   the points it lost: its total is the assignment's, less these
  # expect error: text               text the status-error message contains
  # expect <question>: <status> <score>
  # expect feedback <question>: text text the question's feedback contains (one line each)
  # expect unsaid <question>: text   text the question's feedback must not contain
  # expect diagnosis <question>: id  the catalogued mistake named (or: none)
  # expect other diagnoses: none     no question but those of the diagnosis lines has one
  # expect load_error: text          text one of the top-level errors contains
  # expect note: text                text one of the notes contains
Questions not named in the header are expected to score full marks when the points lost say so
(a total is read from the assignment, never written: `lost`, not `score`, with base: solution).
"""

from pathlib import Path

import pytest

from conftest import scores, statuses
from grader.grading import Options, grade_path


def _header(text: str) -> dict[str, list[str]]:
    expected: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("# base:"):
            expected["base"] = [line.split(":", 1)[1].strip()]
        elif line.startswith("# expect "):
            key, value = line[len("# expect "):].split(":", 1)
            expected.setdefault(key.strip(), []).append(value.strip())
    return expected


def run_scenario(scenario: Path, tmp_path: Path, options: Options, model_answer: str) -> None:
    """Grade the scenario file (after the model answer, with base: solution) and check every
    expectation of its header."""
    text = scenario.read_text(encoding="utf-8")
    expected = _header(text)
    source = model_answer + "\n\n" + text if expected["base"] == ["solution"] else text
    path = tmp_path / "student.py"
    path.write_text(source, encoding="utf-8")
    result = grade_path(path, options)

    assert result.status == expected.pop("status", ["graded"])[0], result.error
    for text in expected.pop("error", []):
        assert text in result.error
    if "score" in expected:
        assert result.score == pytest.approx(float(expected.pop("score")[0]))
    if "lost" in expected:
        assert result.score == pytest.approx(options.assignment.max_score - float(expected.pop("lost")[0]))

    for text in expected.pop("load_error", []):
        assert any(text in str(e) for e in result.load_errors), result.load_errors
    for text in expected.pop("note", []):
        assert any(text in note for note in result.notes), result.notes
    feedback = {q.question.id: q.feedback for q in result.questions}
    diagnoses = {q.question.id: q.diagnosis.id if q.diagnosis else "none" for q in result.questions}
    if expected.pop("other diagnoses", None) == ["none"]:
        named = {key.split()[1] for key in expected if key.startswith("diagnosis ")}
        others = {q: d for q, d in diagnoses.items() if q not in named and d != "none"}
        assert not others, others
    expected.pop("base")
    for key, values in expected.items():
        if key.startswith("feedback "):
            for text in values:  # each line of it, when there are several
                assert text in feedback[key.split()[1]], feedback[key.split()[1]]
        elif key.startswith("unsaid "):
            for text in values:
                assert text not in feedback[key.split()[1]], feedback[key.split()[1]]
        elif key.startswith("diagnosis "):
            assert diagnoses[key.split()[1]] == values[0], feedback[key.split()[1]]
        else:
            status, score = values[0].split()
            assert statuses(result)[key] == status, feedback[key]
            assert scores(result)[key] == pytest.approx(float(score))


def every_scenario_expects_something(scenarios: list[Path]) -> None:
    for scenario in scenarios:
        header = _header(scenario.read_text(encoding="utf-8"))
        assert "base" in header and len(header) > 1, scenario.name
