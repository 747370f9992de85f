"""The `grade` command: parse options, call the core, print. No grading logic lives here.

Exit status: 0 whenever grading ran, whatever the scores; 1 for a path that can't be used
(a one-line message); 2 for a usage error; 130 when interrupted (finished results are kept).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
import time
from pathlib import Path

import click

from grader import sandbox
from grader.reports import gradescope, lms, table as report
from grader.sandbox import workers as processes
from grader.batch import FeedbackFolder, Spool, grade_all
from grader.intake.discovery import DiscoveryError, discover
from grader.assignment import DEFAULT, INSTALLED, Assignment, AssignmentError, installed
from grader.assignment import load as load_assignment
from grader.judge.catalogue import CatalogueError
from grader.grading import FEEDBACK_LEVELS, Options, answer_key_paths, mistakes_by_question
from grader.results import Report, printable
from grader.store import ResultStore, default_directory
from grader.reports.summary import ClassStats


class DefaultGroup(click.Group):
    """`grade PATH...` runs the default command; `grade extract ...` names another."""

    default_command = "run"

    group_options = ("--sandbox-info", "--version")

    def parse_args(self, ctx, args):
        first = args[0] if args else None
        if first and first not in self.commands and first not in ctx.help_option_names \
                and first not in self.group_options:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


def _load_assignment(_ctx, _param, value):
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


def _assignment_option(command):
    return click.option(
        "--assignment", "assignment", default=DEFAULT, show_default=True, callback=_load_assignment,
        help="The assignment: an installed one's name (see `grade assignments`) or an "
             "assignment's folder.")(command)


def _print_sandbox_info(ctx, _param, value):
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
def main():
    """Grade backpropagation worksheet submissions.

    `grade PATH...` grades files (.py, .ipynb) and class folders; see `grade run --help`.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "output_format",
              type=click.Choice(["table", "json", "csv", "canvas", "moodle", "gradescope",
                                 "prairielearn"]),
              default="table", show_default=True,
              help="table: a score card (one file) or the class table; json: everything; "
                   "csv: the gradebook; canvas: Canvas's gradebook import; moodle: Moodle's "
                   "offline grading worksheet; gradescope, prairielearn: the results.json of "
                   "that autograder, for one submission.")
@_assignment_option
@click.option("--assignment-name", default=None,
              help="The assignment's column in --format canvas (Canvas creates it if new)  "
                   "[default: the assignment's title]")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to this file instead of standard output.")
@click.option("--feedback-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one Markdown feedback file per student into this folder.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a one-page HTML class report: gradebook, charts, common mistakes.")
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
def run(paths, output_format, assignment, assignment_name, output, feedback_dir, html_file, jobs, seed, timeout,
        memory_mb, no_carry_forward, feedback_level, catalogues, force, cache_dir, no_cache, quiet):
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
    warnings: list[str] = []
    try:
        entries = discover(list(paths), assignment, warnings)
    except DiscoveryError as exc:
        raise click.ClickException(str(exc)) from None
    for line in warnings:  # a class folder looked at only in part: never dropped silently
        click.echo(f"warning: {line}", err=True)
    if output_format in ("gradescope", "prairielearn") and len(entries) != 1:
        raise click.UsageError(f"--format {output_format} grades one submission; {len(entries)} found")
    jobs = jobs or os.cpu_count() or 1
    store = None if no_cache else ResultStore(cache_dir or default_directory())
    # Each class folder named is private (no submission may read its classmates' files), and
    # so is every place the grader writes: feedback, reports, the result store.
    private = tuple(str(p.resolve() if p.is_dir() else p.resolve().parent) for p in paths)
    outputs = [feedback_dir, _report_folder(output), _report_folder(html_file),
               store.directory if store else None]
    private += tuple(str(p.resolve()) for p in outputs if p is not None and p.resolve() != Path("/"))
    options = Options(assignment, seed=seed, limits=sandbox.Limits(timeout=timeout, memory_mb=memory_mb),
                      private_paths=private, carry_forward=not no_carry_forward,
                      catalogues=(str(assignment.catalogue_path), *(str(c) for c in catalogues)),
                      feedback=feedback_level)
    seed = options.seed
    processes.prewarm(min(jobs, len(entries)), answer_key_paths(options))
    _say_sandbox_gaps(options)
    try:
        mistakes_by_question(options.catalogues, assignment)
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    if store is not None and (problem := store.usable()) is not None:
        click.echo(f"warning: results can't be kept in {store.directory} ({problem}); grading "
                   f"without resuming", err=True)
        store = None
    feedback = None
    if feedback_dir is not None:
        feedback_dir.mkdir(parents=True, exist_ok=True)
        feedback = FeedbackFolder(feedback_dir)
    show_progress = not quiet and len(entries) > 1 and sys.stderr.isatty()
    results = Spool(assignment)
    # The JSON report's summary, counted as results come (the other reports count their own
    # from the results they read back).
    summary = ClassStats(assignment) if output_format == "json" else None
    from_store = 0
    if output_format == "table":  # loaded while the first submissions run, not after
        threading.Thread(target=report.prepare_table, daemon=True).start()
    started = time.monotonic()
    progress = _progress(len(entries)) if show_progress else None
    try:
        for graded in grade_all(entries, options, jobs=jobs, store=store,
                                force=force):
            results.add(graded.result, graded.entry)
            if summary is not None:
                summary.add(graded.result)
            from_store += graded.from_store
            if feedback is not None:
                feedback.write(graded.result)
            if progress is not None:
                progress.update(1, f"{len(results) / (time.monotonic() - started):.1f}/s")
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: {len(results)} of {len(entries)} graded and kept; run the "
                   f"same command again to resume", err=True)
        sys.exit(130)
    finally:
        if progress is not None:
            progress.render_finish()
    if from_store:
        click.echo(f"{from_store} of {len(entries)} unchanged since an earlier run: results kept "
                   f"from then (--force grades them again)", err=True)
    elapsed = time.monotonic() - started

    left_out = [lms.LeftOut()]

    def chunks():
        # One result is a score card; a class is read back one at a time while it is written.
        ordered = list(results.in_order(entries)) if len(entries) == 1 else results.in_order(entries)
        graded_report = Report(assignment, seed, ordered)
        left_out[0] = lms.LeftOut()
        if output_format == "canvas":
            return lms.canvas_chunks(ordered, assignment_name or assignment.title, assignment.max_score, left_out[0])
        if output_format == "moodle":
            return lms.moodle_chunks(ordered, assignment.max_score, left_out[0])
        if output_format == "gradescope":
            return iter([json.dumps(gradescope.results_json(ordered[0], elapsed, assignment), indent=2) + "\n"])
        if output_format == "prairielearn":
            from grader.reports import prairielearn

            return iter([json.dumps(prairielearn.results_json(ordered[0], assignment), indent=2) + "\n"])
        if output_format == "json":  # the entries as the spool keeps them: not rebuilt
            return report.json_document(assignment.name, seed, results.json_entries(entries), summary)
        if output_format == "csv":
            return report.csv_chunks(graded_report)
        return iter([report.to_table(graded_report) + "\n"])

    _write_report(chunks, output)
    for line in left_out[0].lines(output_format.capitalize()):  # never dropped silently
        click.echo(line, err=True)
    if html_file is not None:
        from grader.reports.html import to_html

        try:
            html_file.write_text(to_html(results.in_order(entries), assignment), encoding="utf-8")
        except OSError as exc:
            click.echo(f"warning: the HTML report could not be written to {html_file} "
                       f"({exc.strerror}); the results are in the report above", err=True)
    # What could not be kept is said, never dropped silently.
    if results.in_memory:
        click.echo(f"warning: the disk took {len(results) - results.in_memory} of {len(results)} "
                   f"results; the others were kept in memory for this report", err=True)
    if store is not None and store.failed:
        click.echo(f"warning: {store.failed} result{'s' * (store.failed != 1)} could not be kept in "
                   f"{store.directory}: they will be graded again next time", err=True)
    if feedback is not None and feedback.failed:
        click.echo(f"warning: no feedback file could be written for {', '.join(feedback.failed)}",
                   err=True)
    results.close()


def _say_sandbox_gaps(options: Options) -> None:
    """Before anything is graded: each protection this machine can't give a submission, or
    that failed (then every submission is a "sandbox failure"), on standard error."""
    from grader.reports import sandbox_info

    mode = processes.worker_mode(answer_key_paths(options))
    for line in sandbox_info.gaps(mode) + sandbox_info.exposed_folders(mode, options.private_paths):
        click.echo(f"sandbox: {line} (grade --sandbox-info)", err=True)


def _report_folder(output: Path | None) -> Path | None:
    """The folder a report file is written into, private while submissions run; None for no
    file, or for a stream that is not a file in a folder (-o /dev/stdout, a named pipe)."""
    if output is None or (output.exists() and not output.is_file()):
        return None
    return output.parent


def _write_report(chunks, output: Path | None) -> None:
    """The report, streamed to its file; if the file can't take it all (a full disk), the
    whole report again on standard output: a report cut short would drop students."""
    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as out:
                for chunk in chunks():
                    out.write(chunk)
            return
        except OSError as exc:
            click.echo(f"warning: the report could not be written to {output} ({exc.strerror}); "
                       f"here it is", err=True)
    out = click.get_text_stream("stdout")
    for chunk in chunks():
        out.write(chunk)


def _progress(total: int):
    bar = click.progressbar(length=total, file=sys.stderr, show_pos=True, show_eta=True,
                            label="grading", item_show_func=lambda rate: rate)
    bar.render_progress()
    return bar


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the script here instead of standard output.")
@_assignment_option
def extract(notebook, output, assignment):
    """Print the exact Python the grader runs for a notebook, with # In[n] cell markers.

    IPython syntax (magics, shell escapes, help) appears as comments, as the grader sets it
    aside.

    Example:

        grade extract alice.ipynb -o alice_as_graded.py
    """
    from grader.intake.loading import SubmissionError, read_text
    from grader.intake.notebooks import NotebookError, read_notebook, to_script

    try:
        script = to_script(read_notebook(notebook, read_text(notebook), assignment.check_modules))
    except (SubmissionError, NotebookError) as exc:
        raise click.ClickException(f"{notebook}: {exc}") from None
    if output is not None:
        output.write_text(script, encoding="utf-8")
    else:
        click.echo(script, nl=False)


def _autograder_options(command):
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
def gradescope_command(submission_dir, results_file, visibility, assignment, seed, timeout, memory_mb, feedback_level):
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


def _grade_folder(assignment, submission_dir: Path, seed: int | None, timeout: float, memory_mb: int,
                  feedback_level: str):
    """The one submission an autograder (Gradescope, PrairieLearn) puts in a folder, graded;
    a result that says why whatever happens."""
    from grader.grading import grade_path
    from grader.results import SubmissionResult

    options = Options(assignment, seed=seed, limits=sandbox.Limits(timeout=timeout, memory_mb=memory_mb),
                      private_paths=(str(submission_dir.resolve()),), feedback=feedback_level)
    _say_sandbox_gaps(options)
    try:
        chosen = gradescope.find_submission(submission_dir, assignment)
        path = chosen.graded.path
        result = grade_path(path, options, student=path.stem, folder=submission_dir)
        return dataclasses.replace(result, notes=chosen.notes() + result.notes)
    except gradescope.NoSubmission as exc:
        return SubmissionResult("submission", str(submission_dir), error=str(exc), flags=exc.flags,
                                possible=assignment.max_score)
    except Exception as exc:  # the grader's own failure: still a results file that says so
        return SubmissionResult("submission", str(submission_dir), possible=assignment.max_score,
                                error=f"internal grader error: {type(exc).__name__}: {exc}")


def _write_results(results_file: Path, document: dict, result) -> None:
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    click.echo(f"{printable(result.student)}: {result.score:g} / {result.max_score:g}"
               + (f" ({printable(result.error)})" if result.error else ""))


@main.command("prairielearn")
@click.option("--grade-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("/grade"),
              show_default=True, help="The grading job's folder: student/ in, results/results.json out.")
@_autograder_options
def prairielearn_command(grade_dir, assignment, seed, timeout, memory_mb, feedback_level):
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
def seal(extra):
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
def key(output_format, assignment):
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
def student_check(assignment, output, seeded, public_seed, seed, catalogues):
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
def assignments():
    """List the assignments installed with the grader: name, questions, points, title.

    Grade for one with `grade FILE --assignment NAME`; `--assignment` also takes the folder of
    an assignment of your own (see the README's "Writing an assignment").

    Example:

        grade assignments
    """
    from tabulate import tabulate

    rows = []
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
