"""The `grade` command: parse options, call the core, print. No grading logic lives here.

Exit status: 0 whenever grading ran, whatever the scores; 1 for a path that can't be used
(a one-line message); 2 for a usage error; 130 when interrupted (finished results are kept).
`grade audit` has its own: 0 when the assignment passed its audit, 1 when it did not, 2 when it
can't be audited.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from grader import sandbox
from grader.assignment import DEFAULT, INSTALLED, Assignment, AssignmentError, installed
from grader.assignment import load as load_assignment
from grader.batch import FeedbackFolder, Spool, grade_class, grade_handed_in, private_paths, report_folder
from grader.grading import FEEDBACK_LEVELS, Options, answer_key_paths, mistake_answers
from grader.intake.discovery import DiscoveryError, Entry, discover
from grader.judge.catalogue import CatalogueError
from grader.reports import formats, gradescope
from grader.reports.formats import FORMATS, GradedRun
from grader.reports.lms import LeftOut
from grader.reports.summary import ClassStats
from grader.results import SubmissionResult, printable
from grader.sandbox import workers as processes
from grader.store import ResultStore, default_directory

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

Command = TypeVar("Command", bound=Callable[..., Any])


class DefaultGroup(click.Group):
    """`grade PATH...` runs the default command; `grade extract ...` names another."""

    default_command = "run"

    group_options = ("--sandbox-info", "--version")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        first = args[0] if args else None
        if first and first not in self.commands and first not in ctx.help_option_names \
                and first not in self.group_options:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def _load_assignment(_ctx: click.Context, _param: click.Parameter, value: str) -> Assignment:
    """--assignment NAME|FOLDER as the loaded assignment, or a one-line usage error. Its cases
    and model answer are tried once here, so that an author's mistake in them is one line now,
    not an internal error on every submission."""
    from grader.grading import contract, plan

    try:
        assignment = load_assignment(value)
        plan(assignment.default_seed, assignment)
        contract(assignment)
    except AssignmentError as exc:
        raise click.BadParameter(str(exc)) from None
    except Exception as exc:  # the author's cases.py or model answer failing on its own cases
        raise click.BadParameter(f"{value}: computing its cases and expected answers failed: "
                                 f"{type(exc).__name__}: {exc}") from None
    return assignment


def _assignment_option(command: Command) -> Command:
    return click.option(
        "--assignment", "assignment", default=DEFAULT, show_default=True, callback=_load_assignment,
        help="The assignment: an installed one's name (see `grade assignments`) or an "
             "assignment's folder.")(command)


def _print_sandbox_info(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    limits = sandbox.Limits()
    isolation = sandbox.probe(sandbox.Confinement(protected=answer_key_paths(), report_copies=True),
                              limits)
    from grader.reports import sandbox_info

    click.echo(sandbox_info.render(isolation, os.geteuid() == 0, limits.timeout))
    ctx.exit(0)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="backprop-grader")
@click.option("--sandbox-info", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_sandbox_info,
              help="Show which protections a submission gets on this machine, and exit.")
def main() -> None:
    """Grade submissions of a worksheet: one installed with the grader (`grade assignments`
    lists them; --assignment chooses) or one of your own.

    `grade PATH...` grades files (.py, .ipynb) and class folders; see `grade run --help`.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(list(FORMATS)), default="table", show_default=True,
              help=formats.help_text())
@_assignment_option
@click.option("--assignment-name", default=None,
              help="The assignment's column in --format canvas (Canvas creates it if new)  "
                   "[default: the assignment's title]")
@click.option("--lms-points", type=click.FloatRange(min=0, min_open=True), default=None,
              help="For --format canvas or moodle: the LMS assignment's maximum, every grade scaled to "
                   "it (--lms-points 100: 17 / 20 is written 85)  [default: the assignment's points, "
                   "which the LMS assignment is then worth]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--feedback-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one Markdown feedback file per student into this folder.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a one-page HTML class report: gradebook, charts, common mistakes.")
@click.option("--item-analysis", "item_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the item analysis as CSV: per question the mean, the share at full marks and "
                   "the discrimination (item-rest correlation), per case the pass rate.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Submissions graded at once  [default: the machine's cores]")
@click.option("--seed", type=int, default=None,
              help="Seed of the random cases; the same seed always gives the same grade  "
                   "[default: the assignment's, 0 for the installed ones]")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=sandbox.Limits.timeout,
              show_default=True,
              help="Seconds for loading a file, and again for each call to a function; a "
                   "submission's whole run is capped at 6 times this.")
@click.option("--memory-mb", type=click.IntRange(min=64), default=sandbox.Limits.memory_mb,
              show_default=True, help="Memory limit of a student's process.")
@click.option("--no-carry-forward", is_flag=True,
              help="No credit for an answer that is right only given the student's own wrong "
                   "earlier function (it is still pointed out).")
@click.option("--feedback", "feedback_level", type=click.Choice(FEEDBACK_LEVELS), default="full",
              show_default=True,
              help="What students are shown: full; published (expected values only on the "
                   "worksheet's own cases, whose answers students have: what the autograders show by "
                   "default); no-expected (no expected value or shape); score-only.")
@click.option("--catalogue", "catalogues", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A TOML file of further known mistakes to diagnose (repeatable).")
@click.option("--force", is_flag=True, help="Grade again even files graded before and unchanged.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where results are kept between runs  [default: ~/.cache/backprop-grader]")
@click.option("--no-cache", is_flag=True, help="Neither read nor keep results between runs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def run(paths: tuple[Path, ...], output_format: str, assignment: Assignment, assignment_name: str | None,
        lms_points: float | None, output: Path | None, feedback_dir: Path | None, html_file: Path | None,
        item_file: Path | None, jobs: int | None, seed: int | None, timeout: float, memory_mb: int,
        no_carry_forward: bool, feedback_level: str,
        catalogues: tuple[Path, ...], force: bool, cache_dir: Path | None, no_cache: bool, quiet: bool) -> None:
    """Grade submissions: files (.py, .ipynb) and class folders.

    In a class folder each .py or .ipynb is one student, and so is each subfolder. Every
    submission runs in its own limited process; each result is kept as soon as it is graded,
    so running the same command again resumes where an interrupted run stopped.

    Example:

        grade alice.py

        grade submissions/ --format csv -o gradebook.csv --feedback-dir feedback/

        grade canvas-download/ --format canvas -o canvas-import.csv

        grade alice.py --assignment gradient-checking
    """
    chosen = FORMATS[output_format]
    if lms_points is not None and not chosen.lms:
        raise click.UsageError("--lms-points scales the grades of --format canvas or moodle; "
                               f"--format {output_format} writes the assignment's own points")
    entries = _discover(paths, assignment)
    if chosen.one_submission and len(entries) != 1:
        raise click.UsageError(f"--format {output_format} grades one submission; {len(entries)} found")
    jobs = jobs or os.cpu_count() or 1
    store = None if no_cache else ResultStore(cache_dir or default_directory())
    # Each class folder named is private (no submission may read its classmates' files), and
    # so is every place the grader writes: feedback, reports, the result store.
    outputs = (feedback_dir, report_folder(output), report_folder(html_file), report_folder(item_file),
               store.directory if store else None)
    options = Options(assignment, seed=seed, limits=sandbox.Limits(timeout=timeout, memory_mb=memory_mb),
                      private_paths=private_paths(paths, outputs), carry_forward=not no_carry_forward,
                      catalogues=(str(assignment.catalogue_path), *(str(c) for c in catalogues)),
                      feedback=feedback_level)
    processes.prewarm(min(jobs, len(entries)), answer_key_paths(options))
    _say_sandbox_gaps(options)
    _check_catalogues(options)
    store = _usable(store)
    feedback = _feedback_folder(feedback_dir, assignment.title)
    spool = Spool(assignment)
    # The JSON report's summary is counted as results come (the other reports count their own
    # from the results they read back).
    summary = ClassStats(assignment) if chosen.summary else None
    if chosen.prepare is not None:  # loaded while the first submissions run, not after
        threading.Thread(target=chosen.prepare, daemon=True).start()
    started = time.monotonic()
    from_store = _grade(entries, options, spool, jobs, store, force, feedback, summary, quiet)
    if from_store:
        click.echo(f"{from_store} of {len(entries)} unchanged since an earlier run: results kept "
                   f"from then (--force grades them again)", err=True)
    seed = options.seed if options.seed is not None else assignment.default_seed
    graded = GradedRun(assignment, seed, len(entries), lambda: spool.in_order(entries),
                       lambda: spool.json_entries(entries), summary, time.monotonic() - started, assignment_name,
                       lms_points)
    left_out = _write_report(lambda left_out: chosen.render(graded, left_out), output)
    for line in left_out.lines(output_format.capitalize()):  # never dropped silently
        click.echo(line, err=True)
    if html_file is not None:
        _write_html(html_file, spool.in_order(entries), assignment)
    if item_file is not None:
        _write_item_analysis(item_file, summary, spool.in_order(entries), assignment)
    _say_what_was_not_kept(spool, store, feedback)
    spool.close()


def _discover(paths: tuple[Path, ...], assignment: Assignment) -> list[Entry]:
    """The entries of the paths named, each warning said: a class folder looked at only in
    part is never dropped silently."""
    warnings: list[str] = []
    try:
        entries = discover(list(paths), assignment, warnings)
    except DiscoveryError as exc:
        raise click.ClickException(str(exc)) from None
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    return entries


def _check_catalogues(options: Options) -> None:
    """The catalogues read once before anything is graded: an unusable one is a one-line error."""
    try:
        mistake_answers(options.seed or 0, options.catalogues, options.assignment)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None


def _usable(store: ResultStore | None) -> ResultStore | None:
    """The result store, or None (said) where results can't be kept."""
    if store is not None and (problem := store.usable()) is not None:
        click.echo(f"warning: results can't be kept in {store.directory} ({problem}); grading "
                   f"without resuming", err=True)
        return None
    return store


def _feedback_folder(folder: Path | None, title: str) -> FeedbackFolder | None:
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return FeedbackFolder(folder, title)


def _grade(entries: list[Entry], options: Options, spool: Spool, jobs: int, store: ResultStore | None,
           force: bool, feedback: FeedbackFolder | None, summary: ClassStats | None, quiet: bool) -> int:
    """`batch.grade_class`, with a progress bar on a terminal; interrupted, what was graded is
    kept and the command ends (status 130)."""
    started = time.monotonic()
    progress = _progress(len(entries)) if not quiet and len(entries) > 1 and sys.stderr.isatty() else None

    def graded_one() -> None:
        if progress is not None:
            progress.update(1, f"{len(spool) / (time.monotonic() - started):.1f}/s")

    try:
        return grade_class(entries, options, spool, jobs=jobs, store=store, force=force, feedback=feedback,
                           summary=summary, on_graded=graded_one)
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: {len(spool)} of {len(entries)} graded and kept; run the "
                   f"same command again to resume", err=True)
        sys.exit(130)
    finally:
        if progress is not None:
            progress.render_finish()


def _say_sandbox_gaps(options: Options) -> None:
    """Before anything is graded: each protection this machine can't give a submission, or
    that failed (then every submission is a "sandbox failure"), on standard error."""
    from grader.reports import sandbox_info

    mode = processes.worker_mode(answer_key_paths(options))
    for line in sandbox_info.gaps(mode) + sandbox_info.exposed_folders(mode, options.private_paths):
        click.echo(f"sandbox: {line} (grade --sandbox-info)", err=True)


def _write_report(render: Callable[[LeftOut], Iterable[str]], output: Path | None) -> LeftOut:
    """The report, streamed to its file; if the file can't take it all (a full disk), the
    whole report again on standard output: a report cut short would drop students. The
    students the report written could not hold."""
    if output is not None:
        left_out = LeftOut()
        try:
            with output.open("w", encoding="utf-8") as out:
                for chunk in render(left_out):
                    out.write(chunk)
            return left_out
        except OSError as exc:
            click.echo(f"warning: the report could not be written to {output} ({exc.strerror}); "
                       f"here it is", err=True)
    left_out = LeftOut()
    stdout = click.get_text_stream("stdout")
    for chunk in render(left_out):
        stdout.write(chunk)
    return left_out


def _write_html(html_file: Path, results: Iterable[SubmissionResult], assignment: Assignment) -> None:
    from grader.reports.html import to_html

    try:
        html_file.write_text(to_html(results, assignment), encoding="utf-8")
    except OSError as exc:
        click.echo(f"warning: the HTML report could not be written to {html_file} "
                   f"({exc.strerror}); the results are in the report above", err=True)


def _write_item_analysis(item_file: Path, summary: ClassStats | None, results: Iterable[SubmissionResult],
                         assignment: Assignment) -> None:
    """The item analysis's CSV, from the summary counted as results came, or counted now."""
    from grader.reports.table import item_analysis_csv

    if summary is None:
        summary = ClassStats(assignment)
        for result in results:
            summary.add(result)
    try:
        item_file.write_text(item_analysis_csv(summary), encoding="utf-8")
    except OSError as exc:
        click.echo(f"warning: the item analysis could not be written to {item_file} ({exc.strerror})", err=True)


def _say_what_was_not_kept(spool: Spool, store: ResultStore | None, feedback: FeedbackFolder | None) -> None:
    """What could not be kept is said, never dropped silently."""
    if spool.in_memory:
        click.echo(f"warning: the disk took {len(spool) - spool.in_memory} of {len(spool)} "
                   f"results; the others were kept in memory for this report", err=True)
    if store is not None and store.failed:
        click.echo(f"warning: {store.failed} result{'s' * (store.failed != 1)} could not be kept in "
                   f"{store.directory}: they will be graded again next time", err=True)
    if feedback is not None and feedback.failed:
        click.echo(f"warning: no feedback file could be written for {', '.join(feedback.failed)}",
                   err=True)


def _progress(total: int) -> ProgressBar[Any]:
    bar: ProgressBar[Any] = click.progressbar(length=total, file=sys.stderr, show_pos=True, show_eta=True,
                                              label="grading", item_show_func=lambda rate: rate)
    bar.render_progress()
    return bar


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the script here instead of standard output.")
@_assignment_option
def extract(notebook: Path, output: Path | None, assignment: Assignment) -> None:
    """Print the exact Python the grader runs for a notebook, with # In[n] cell markers.

    IPython syntax (magics, shell escapes, help) appears as comments, as the grader sets it
    aside.

    Example:

        grade extract alice.ipynb -o alice_as_graded.py
    """
    from grader.intake.loading import SubmissionError, kind_of, read_text
    from grader.intake.notebooks import NotebookError, read_notebook, to_script

    if kind_of(notebook) == ".py":  # nothing to extract: the grader runs it as it is
        raise click.ClickException(f"extract takes a notebook (.ipynb): {printable(notebook.name)} is a Python "
                                   f"file, graded as it is")
    try:
        script = to_script(read_notebook(notebook, read_text(notebook), assignment.check_modules))
    except (SubmissionError, NotebookError) as exc:
        raise click.ClickException(f"{notebook}: {exc}") from None
    if output is not None:
        output.write_text(script, encoding="utf-8")
    else:
        click.echo(script, nl=False)


def _autograder_options(command: Command) -> Command:
    """The options an autograder's command shares (Gradescope's, PrairieLearn's)."""
    for option in reversed([
        _assignment_option,
        click.option("--seed", type=int, default=None, help="[default: the assignment's]"),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=sandbox.Limits.timeout,
                     show_default=True),
        click.option("--memory-mb", type=click.IntRange(min=64), default=sandbox.Limits.memory_mb,
                     show_default=True),
        click.option("--feedback", "feedback_level", type=click.Choice(FEEDBACK_LEVELS), default="published",
                     show_default=True, help="What the student is shown (see `grade run --help`): by "
                                             "default no expected value of a seeded case."),
    ]):
        command = option(command)
    return command


@main.command("gradescope")
@click.option("--submission", "submission_dir", type=click.Path(path_type=Path),
              default=Path("/autograder/submission"), show_default=True,
              help="The folder Gradescope puts the student's files in.")
@click.option("--results", "results_file", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("/autograder/results/results.json"), show_default=True,
              help="Where Gradescope reads the results.")
@click.option("--visibility", type=click.Choice(gradescope.VISIBILITIES), default="visible", show_default=True,
              help="When students see each question's test (Gradescope's per-test visibility): always, "
                   "never, after the due date, or once grades are published; the overall output "
                   "(notes, total) stays visible.")
@_autograder_options
def gradescope_command(submission_dir: Path, results_file: Path, visibility: str, assignment: Assignment,
                       seed: int | None, timeout: float, memory_mb: int, feedback_level: str) -> None:
    """Grade a Gradescope submission: what an autograder's run_autograder calls.

    Finds the .py or .ipynb in the submission folder, grades it, and writes results.json. A
    valid results file is written whatever happens, so the student always sees why.

    Example:

        grade gradescope --submission /autograder/submission
    """
    started = time.monotonic()
    result = _grade_folder(assignment, submission_dir, seed, timeout, memory_mb, feedback_level)
    document = gradescope.results_json(result, time.monotonic() - started, assignment, visibility)
    _write_results(results_file, document, result)


def _grade_folder(assignment: Assignment, submission_dir: Path, seed: int | None, timeout: float, memory_mb: int,
                  feedback_level: str) -> SubmissionResult:
    """`batch.grade_handed_in` with the command's options, the sandbox's gaps said first."""
    options = Options(assignment, seed=seed, limits=sandbox.Limits(timeout=timeout, memory_mb=memory_mb),
                      private_paths=(str(submission_dir.resolve()),), feedback=feedback_level)
    _say_sandbox_gaps(options)
    return grade_handed_in(submission_dir, options)


def _write_results(results_file: Path, document: dict[str, Any], result: SubmissionResult) -> None:
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    click.echo(f"{printable(result.student)}: {result.score:g} / {result.max_score:g}"
               + (f" ({printable(result.error)})" if result.error else ""))


@main.command("prairielearn")
@click.option("--grade-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("/grade"),
              show_default=True, help="The grading job's folder: student/ in, results/results.json out.")
@_autograder_options
def prairielearn_command(grade_dir: Path, assignment: Assignment, seed: int | None, timeout: float, memory_mb: int,
                         feedback_level: str) -> None:
    """Grade a PrairieLearn external grading job: what the question's entrypoint calls.

    Finds the .py or .ipynb the student uploaded (GRADE_DIR/student), grades it, and writes
    GRADE_DIR/results/results.json as PrairieLearn's external grader expects. A file that
    can't be run at all is reported "not gradable", so the student loses no attempt.

    Example:

        grade prairielearn --grade-dir /grade
    """
    from grader.reports import prairielearn

    result = _grade_folder(assignment, grade_dir / "student", seed, timeout, memory_mb, feedback_level)
    _write_results(grade_dir / "results" / "results.json", prairielearn.results_json(result, assignment), result)


@main.command()
@click.option("--also", "extra", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Another folder or file to seal: the autograder's source, say (repeatable).")
def seal(extra: tuple[Path, ...]) -> None:
    """Make every copy of the model answer and the grader readable by their owner only.

    For a machine where the sandbox has no namespaces to hide them (or as a second wall where
    it has): the copies the grader finds (the one running, the installed package's, an
    editable install's source) and the ones named with --also become unreadable to other
    users, such as the one student code runs as. Gradescope's setup.sh runs it.

    Example:

        grade seal --also /autograder/source
    """
    from grader.sandbox import key_copies as copies

    # The installed copies; a source tree (a checkout) is the owner's to seal (--also): the
    # sandbox hides it whole, and --sandbox-info says if it is readable where nothing does.
    paths = tuple(sorted({*copies.package_copies(), *(str(p.resolve()) for p in extra)}))
    try:
        changed = copies.seal(paths)
    except OSError as exc:
        raise click.ClickException(f"cannot seal {exc.filename}: {exc.strerror}") from None
    click.echo(f"sealed {len(paths)} cop{'y' if len(paths) == 1 else 'ies'} ({len(changed)} files "
               f"and folders changed): readable by their owner only")
    for path in paths:
        click.echo(f"  {path}")


@main.command()
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@_assignment_option
def key(output_format: str, assignment: Assignment) -> None:
    """Print the answer key: the worksheet's numeric answers, from the model answer.

    For the backpropagation worksheet: the dimensions of Q1, Q2, Q7 and Q13, Q11's forward
    pass, delta(3) and dJ/dW(2), Q16's dJ/dW(2), and Q17's delta(2) and dJ/dW(1) on Q16's
    data, to 6 significant digits.

    Example:

        grade key --format json > key.json
    """
    from grader.reports import key as answer_key

    entries = answer_key.answer_key(assignment)
    if output_format == "json":
        click.echo(json.dumps(answer_key.to_json_document(entries, assignment), indent=2))
    else:
        click.echo(answer_key.to_table(entries))


@main.command("student-check")
@_assignment_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the file  [default: <hand-in name>_check.py, backprop_check.py]")
@click.option("--seeded", type=int, default=2, show_default=True,
              help="Practice cases of other sizes besides the worksheet's two (0-3).")
@click.option("--public-seed", type=int, default=None,
              help="Seed of the practice cases (default: a fixed one); never the grading seed.")
@click.option("--seed", type=int, default=None,
              help="The seed you grade with: refused as the public seed  [default: the assignment's]")
@click.option("--catalogue", "catalogues", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="More catalogued mistakes to diagnose (repeatable), as for grading.")
def student_check(assignment: Assignment, output: Path | None, seeded: int, public_seed: int | None, seed: int | None,
                  catalogues: tuple[str, ...]) -> None:
    """Write backprop_check.py, a self-check students can be given: no answers inside.

    One file, numpy only: students put it beside their notebook and run
    `from backprop_check import check; check()` or `check("Q6")`. It checks on the worksheet's
    numbers and a few practice cases (not the graded ones), with the grader's comparison and
    feedback; mistakes are explained only to a student who made them.

    Example:

        grade student-check -o backprop_check.py --seeded 3
    """
    from grader.judge import catalogue as mistakes_catalogue
    from grader.selfcheck import handout as builder

    public = builder.DEFAULT_PUBLIC_SEED if public_seed is None else public_seed
    seed = assignment.default_seed if seed is None else seed
    output = output or Path(f"{assignment.handin}_check.py")
    paths = (str(assignment.catalogue_path), *(str(Path(c).resolve()) for c in catalogues))
    try:
        text = builder.build(public, seeded, seed, paths, assignment)
    except (builder.StudentCheckError, mistakes_catalogue.CatalogueError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"can't write {output}: {exc.strerror}") from None
    click.echo(f"wrote {output} ({len(text.encode()) // 1024} KiB): the worksheet's cases and {seeded} "
               f"practice case{'s' * (seeded != 1)} (public seed {public}); hand it to students")


@main.command()
def assignments() -> None:
    """List the assignments installed with the grader: name, questions, points, title.

    Grade for one with `grade FILE --assignment NAME`; `--assignment` also takes the folder of
    an assignment of your own (see the README's "Writing an assignment").

    Example:

        grade assignments
    """
    from tabulate import tabulate

    rows: list[tuple[str, int | str, str, str]] = []
    for folder in installed():
        try:
            assignment = load_assignment(folder)
        except AssignmentError as exc:
            rows.append((folder.name, "", "", f"unusable: {exc}"))
            continue
        default = " (default)" if assignment.name == DEFAULT else ""
        rows.append((assignment.name + default, len(assignment.questions), f"{assignment.max_score:g}",
                     f"{assignment.title}; hand in {assignment.handin}.py or {assignment.handin}.ipynb"))
    click.echo(tabulate(rows, headers=("assignment", "questions", "points", "about"),
                        disable_numparse=True))
    click.echo(f"\n(in {INSTALLED})")


class _CannotAudit(click.ClickException):
    """The assignment can't be audited: one line, status 2 (1 is for an audit that found weaknesses)."""

    exit_code = 2


@main.command()
@click.option("--assignment", "assignment_name", default=DEFAULT, show_default=True,
              help="The assignment: an installed one's name (see `grade assignments`) or an assignment's folder.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--question", "questions", multiple=True,
              help="Vary only this function's model answer (repeatable); the catalogue is checked whole.")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True,
              help="Try one variant in this many of each function's by each kind of change: a quicker, partial look.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Variants graded at once  [default: the machine's cores]")
@click.option("--seed", type=int, default=None,
              help="The seed the variants are graded with  [default: the assignment's]")
@click.option("-q", "--quiet", is_flag=True, help="Nothing on standard error while it runs.")
def audit(assignment_name: str, output_format: str, questions: tuple[str, ...], every: int, jobs: int | None,
          seed: int | None, quiet: bool) -> None:
    """Find where an assignment's cases are weak, before students do.

    Makes one-change variants of the model answer, function by function (a transpose dropped
    or added, operands swapped, a matrix product made elementwise and back, a sum made a
    mean, an axis or keepdims changed, a sign flipped, a constant changed, a name swapped for
    a sibling, one function called for another); sets aside those that agree with the model
    answer on every case and on 20 more seeds' cases (equivalent); grades the rest as hand-ins
    are graded, in the sandbox; and reports per question the variants killed (the question
    lost points), survived (full marks though wrong: the changed line, and a case that would
    catch it) and set aside. Then each catalogue entry, applied as a student's answer, must be
    diagnosed as itself and nothing else, and the model answer must get full marks and no
    diagnosis.

    Exit status: 0 when no variant survived, every variant was graded, every catalogue entry
    is diagnosed as itself alone and the model answer as right; 1 otherwise; 2 when the
    assignment can't be audited (a one-line error) or for a usage error.

    Example:

        grade audit --assignment path/to/solutions/my-worksheet

        grade audit --assignment gradient-checking --format json > audit.json
    """
    from grader import audit as auditing
    from grader.audit import report
    from grader.grading import contract, plan

    try:
        assignment = load_assignment(assignment_name)
        plan(assignment.default_seed if seed is None else seed, assignment)
        contract(assignment)
        for name in questions:
            assignment.question(name)
    except AssignmentError as exc:
        raise _CannotAudit(str(exc)) from None
    except KeyError as exc:  # a --question that is none of the assignment's
        raise _CannotAudit(str(exc.args[0])) from None
    except Exception as exc:  # the author's cases.py or model answer failing on its own cases
        raise _CannotAudit(f"{assignment_name}: computing its cases and expected answers failed: "
                           f"{type(exc).__name__}: {exc}") from None
    jobs = jobs or os.cpu_count() or 1
    say = (lambda line: None) if quiet else (lambda line: click.echo(f"audit: {line}", err=True))
    options = Options(assignment)
    processes.prewarm(jobs, answer_key_paths(options))
    if not quiet:
        _say_sandbox_gaps(options)
    bars: list[ProgressBar[Any]] = []

    def graded(_done: int, total: int) -> None:
        if quiet or not sys.stderr.isatty():
            return
        if not bars:
            bars.append(_progress(total))
        bars[0].update(1, "")

    try:
        found = auditing.run(assignment, seed=seed, jobs=jobs, questions=questions or None, every=every, say=say,
                             on_graded=graded)
    except auditing.AuditError as exc:
        raise _CannotAudit(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted: nothing is kept of an audit", err=True)
        sys.exit(130)
    finally:
        for bar in bars:
            bar.render_finish()
    if output_format == "json":
        click.echo(json.dumps(report.document(found), indent=2))
    else:
        click.echo(report.text(found), nl=False)
    sys.exit(0 if found.passed else 1)
