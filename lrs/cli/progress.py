"""``lrs progress``: progress derived again, and the course and exam reports."""

from collections.abc import Callable
from typing import Any

import click

from lrs.cli.common import (
    STORAGE_OPTION,
    main,
    minutes,
    persistent_storage,
    services,
    table,
)


@main.group()
def progress() -> None:
    """Learning progress derived from statements (sessions, summaries)."""


@progress.command("rebuild")
@click.option("--learner", help="Only this user's records (a username).")
@click.option("--agent", help="Only this learner's records, by agent key (mbox:mailto:...).")
@click.option("--course-key", help="Only the records of this course.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@STORAGE_OPTION
def rebuild_progress(
    learner: str | None, agent: str | None, course_key: str | None, quiet: bool, storage: str
) -> None:
    """Derive progress records again from the statements stored: all, or one part.

    With --learner (or --agent), that learner's records; with --course-key,
    the records of that course; the others are left as they are. Run it
    after changing LRS_SESSION_GAP_SECONDS, or to check the records
    kept as statements arrived (they are equal to a rebuild). Statements
    posted while it runs may be missing from the records until the next one:
    run it while the server takes no statements.
    """
    from lrs.usecases.rebuild import rebuild

    if sum(option is not None for option in (learner, agent, course_key)) > 1:
        raise click.UsageError("give at most one of --learner, --agent and --course-key")
    with services(storage, "progress records", "POST /xAPI/statements") as opened:
        stores = opened.storage
        if learner is not None:
            agent = opened.accounts.key(learner)
        part: dict[str, Any] = {"learner": agent, "course": course_key}
        read = 0

        def counted(bar: Any = None) -> Callable[[], None]:
            def one() -> None:
                nonlocal read
                read += 1
                if bar is not None:
                    bar.update(1)

            return one

        if quiet:
            keys = rebuild(stores.progress, stores.statements, counted(), **part)
        else:
            # click draws the bar on a terminal only: nothing when piped.
            total = stores.statements.count()
            with click.progressbar(length=total, label="Statements") as bar:
                keys = rebuild(stores.progress, stores.statements, counted(bar), **part)
    click.echo(f"read {read:,} statements; {keys:,} (learner, content) summaries derived")


@progress.command("report")
@click.option("--course-key", required=True, help="The course.")
@STORAGE_OPTION
def report_progress(course_key: str, storage: str) -> None:
    """Print the course report: each activity's totals, then each learner's.

    Learners are the course's actively enrolled ones and anyone else with
    progress in it (docs/progress.md).
    """
    from lrs.usecases.reports import report_of_course

    with services(storage, "progress records", "/api/v1/progress", read_only=True) as opened:
        stores, accounts = opened.storage, opened.accounts
        report = report_of_course(stores.progress, stores.enrollments, accounts, course_key)
    click.echo(
        f"Course {course_key}: {len(report.learners)} learners, "
        f"{len(report.activities)} activities\n"
    )
    rows = [("activity", "started", "completed", "avg progress", "avg time")]
    rows += [
        (
            totals.activity,
            str(totals.started),
            str(totals.completed),
            f"{totals.average_progress:.0%}",
            minutes(totals.average_time_spent_us),
        )
        for totals in report.activities
    ]
    table(rows)
    click.echo("")
    learners = [("learner", "started", "completed", "avg progress", "time")]
    for row in report.learners:
        started = len(row.cells)
        average = sum(summary.progress for summary in row.cells.values()) / max(started, 1)
        learners.append(
            (
                accounts.username(row.learner) or row.learner,
                str(started),
                str(row.completed),
                f"{average:.0%}",
                minutes(row.time_spent_us),
            )
        )
    table(learners)


@progress.command("exam-report")
@click.option("--activity", required=True, help="The exam's activity id.")
@click.option("--course-key", help="Only the learners' records in this course.")
@STORAGE_OPTION
def exam_report_command(activity: str, course_key: str | None, storage: str) -> None:
    """Print the exam report: its questions, those with the fewest correct answers first.

    Each question's share of correct answers is over every attempt at it
    (one per learner per try), as its latest answer marked it
    (docs/progress.md).
    """
    from lrs.usecases.reports import report_of_exam

    with persistent_storage(
        storage, "progress records", "/api/v1/progress", read_only=True
    ) as stores:
        report = report_of_exam(stores.progress, activity, course=course_key)
    score = "none" if report.average_score is None else f"{report.average_score:.0%}"
    click.echo(
        f"Exam {activity}: {report.learners} learners, {report.closed} closed, "
        f"average score {score}\n"
    )
    rows = [("question", "attempts", "graded", "correct")]
    rows += [
        (
            question.item,
            str(question.attempts),
            str(question.graded),
            "-" if question.correct is None else f"{question.correct:.0%}",
        )
        for question in report.questions
    ]
    table(rows)
