"""``lrs assignments``: content assigned to learners, and its lifecycle."""

import sys
from collections import Counter
from typing import Any

import click

from lrs.cli.common import (
    STORAGE_OPTION,
    actor,
    main,
    services,
)
from lrs.enrollments.bulk import parse_rows
from lrs.exceptions import Conflict, DoesNotExist, InvalidInput


@main.group()
def assignments() -> None:
    """Content assigned to learners, with a lifecycle (docs/assignments.md)."""


def _assignment_line(found: Any) -> str:
    due = f"due {found.due:%Y-%m-%d %H:%M}" if found.due else "no due date"
    return f"{found.id}\t{found.learner}\t{found.content}\t{found.state}\t{due}"


@assignments.command("create")
@click.argument("content")
@click.option("--username", help="The learner, a user.")
@click.option("--email", help="Or the learner's e-mail address (linked to its user).")
@click.option("--course-key", help="The course an activity is in.")
@click.option("--due", help="When it expires (ISO 8601; a date alone is its end, UTC).")
@click.option("--note", default="", help="A note for the learner.")
@STORAGE_OPTION
def create_assignment(
    content: str,
    username: str | None,
    email: str | None,
    course_key: str | None,
    due: str | None,
    note: str,
    storage: str,
) -> None:
    """Assign CONTENT (an activity IRI or a course key) to a learner."""
    from lrs.usecases.assignments import parse_due

    with services(storage, "assignments", "/api/v1/assignments") as opened:
        service = opened.assignments
        try:
            made = service.assign(
                content,
                username=username,
                email=email,
                course_key=course_key,
                due=parse_due(due),
                note=note,
                actor=actor(),
            )
        except (DoesNotExist, Conflict) as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(_assignment_line(made))


@assignments.command("list")
@click.option("--course-key")
@click.option("--content")
@click.option("--username")
@click.option("--state", help="allocated, accepted, completed, errored, cancelled, ...")
@click.option(
    "--overdue", is_flag=True, help="Only those whose due date passed before they were completed."
)
@STORAGE_OPTION
def list_assignments(
    course_key: str | None,
    content: str | None,
    username: str | None,
    state: str | None,
    overdue: bool,
    storage: str,
) -> None:
    """List assignments, oldest first: id, learner, content, state, due date."""
    from lrs.assignments.base import Filters, listed_states

    with services(storage, "assignments", "/api/v1/assignments", read_only=True) as opened:
        service = opened.assignments
        filters = Filters(
            course_key=course_key,
            content=content,
            username=username,
            states=listed_states(state, overdue),
        )
        found = service.find(filters)
    for item in found:
        click.echo(_assignment_line(item))


@assignments.command("cancel")
@click.argument("assignment_id")
@click.option("--reason", default="", help="Why; kept in its log and history.")
@STORAGE_OPTION
def cancel_assignment(assignment_id: str, reason: str, storage: str) -> None:
    """Cancel an allocated, accepted or errored assignment."""
    with services(storage, "assignments", "/api/v1/assignments") as opened:
        service = opened.assignments
        try:
            found = service.cancel(assignment_id, actor=actor(), reason=reason)
        except (DoesNotExist, Conflict) as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(_assignment_line(found))


@assignments.command("import")
@click.argument("rows_file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Say what would happen; write nothing.")
@STORAGE_OPTION
def import_assignments(rows_file: Any, dry_run: bool, storage: str) -> None:
    """Assign every row of a CSV file or NDJSON (content, username or email, ...).

    Columns: content, username, email, course_key, due, note. Prints each
    row's outcome; exits with status 1 when any row failed.
    """
    from lrs.usecases.assignments import ROW_FIELDS

    with services(storage, "assignments", "/api/v1/assignments") as opened:
        service = opened.assignments
        rows = parse_rows(rows_file.read(), ROW_FIELDS)
        outcomes = service.assign_many(rows, actor=actor(), dry_run=dry_run)
    for outcome in outcomes:
        detail = f"\t{outcome.reason}" if outcome.reason else ""
        click.echo(f"{outcome.row}\t{outcome.learner}\t{outcome.content}\t{outcome.result}{detail}")
    summary = Counter(outcome.result for outcome in outcomes)
    prefix = "dry run: " if dry_run else ""
    click.echo(prefix + ", ".join(f"{count} {name}" for name, count in sorted(summary.items())))
    if summary.get("error"):
        sys.exit(1)


@assignments.command("expire")
@STORAGE_OPTION
def expire_assignments(storage: str) -> None:
    """Expire every open assignment past its due date (for cron: a second run does nothing)."""
    with services(storage, "assignments", "/api/v1/assignments") as opened:
        service = opened.assignments
        expired = service.expire()
    click.echo(f"expired {len(expired)} assignments")


@assignments.command("remind")
@click.option(
    "--before",
    required=True,
    help="How long before the due date: 2d, 12h, 30m (each assignment is reminded once).",
)
@STORAGE_OPTION
def remind_assignments(before: str, storage: str) -> None:
    """Remind the learners of open assignments due within BEFORE (for cron; once each)."""
    from lrs.usecases.assignments import parse_span

    try:
        span = parse_span(before)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc), param_hint="--before") from exc
    with services(storage, "assignments", "/api/v1/assignments") as opened:
        service = opened.assignments
        reminded = service.remind(span)
    click.echo(f"reminded {len(reminded)} assignments")
