"""The `grade` command: parse options, call the core, print. No grading logic lives here."""

from __future__ import annotations

from pathlib import Path

import click

from grader import assignment, report, sandbox
from grader.grading import Options, grade_path
from grader.results import Report


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["table", "json"]),
              default="table", show_default=True, help="How to print the report.")
@click.option("--seed", type=int, default=assignment.DEFAULT_SEED, show_default=True,
              help="Seed of the random cases; the same seed always gives the same grade.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=sandbox.Limits.timeout,
              show_default=True,
              help="Seconds for loading the file, and again for each call to a function.")
@click.option("--memory-mb", type=click.IntRange(min=64), default=sandbox.Limits.memory_mb,
              show_default=True, help="Memory limit of the student's process.")
def main(paths, output_format, seed, timeout, memory_mb):
    """Grade backpropagation worksheet submissions.

    Runs each submission's functions in a separate, limited process, compares them with the
    model answer on the worksheet's numbers and on seeded cases of other sizes, and prints a
    score card per question. The exit status is 0 whenever grading ran, whatever the score.

    Example:

        grade alice.py

        grade alice.py --format json
    """
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise click.ClickException(f"no such file: {missing[0]}")
    options = Options(seed=seed, limits=sandbox.Limits(timeout=timeout, memory_mb=memory_mb))
    results = tuple(grade_path(path, options) for path in paths)
    graded = Report(assignment.ASSIGNMENT, seed, results)
    click.echo(report.to_json(graded) if output_format == "json" else report.to_table(graded))
