"""``lrs users`` and ``lrs enrollments``: users and their enrollments."""

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import click

from lrs.cli.common import (
    STORAGE_OPTION,
    actor,
    main,
    persistent_storage,
    services,
)
from lrs.enrollments.base import MODES, CourseRole
from lrs.enrollments.bulk import bulk_enroll, parse_rows
from lrs.exceptions import DoesNotExist
from lrs.usecases import people

# What these commands work on, and where a server does it over HTTP.
_PEOPLE = ("users and enrollments", "/api/v1/users, /api/v1/enrollments")


@main.group()
def users() -> None:
    """Manage users."""


@users.command("create")
@click.argument("username")
@click.option("--email", default="")
@click.option("--full-name", default="")
@click.option("--language", default="", help="A language code such as en or pt-BR.")
@click.option("--staff", is_flag=True, help="A staff user (enrolled as staff by default).")
@click.option("--reason", default="", help="Why; kept in the user's history.")
@STORAGE_OPTION
def create_user(
    username: str, email: str, full_name: str, language: str, staff: bool, reason: str, storage: str
) -> None:
    """Create a user."""
    fields = {"email": email, "full_name": full_name, "language": language, "is_staff": staff}
    with services(storage, *_PEOPLE) as opened:
        user = people.create_user(
            opened.storage, opened.assignments, username, fields, actor=actor(), reason=reason
        )
    click.echo(f"created user {user.username}")


@users.command("list")
@click.option("--active/--inactive", default=None, help="Only active (or inactive) users.")
@click.option("--staff/--not-staff", default=None, help="Only staff (or other) users.")
@STORAGE_OPTION
def list_users(active: bool | None, staff: bool | None, storage: str) -> None:
    """List users by username: username, email, full name, staff, active."""
    with persistent_storage(storage, *_PEOPLE, read_only=True) as stores:
        for user in stores.enrollments.list_users(is_active=active, is_staff=staff):
            click.echo(
                f"{user.username}\t{user.email or '-'}\t{user.full_name or '-'}\t"
                f"{'staff' if user.is_staff else '-'}\t{'active' if user.is_active else 'inactive'}"
            )


@main.group()
def enrollments() -> None:
    """Manage course enrollments."""


@enrollments.command("enroll")
@click.argument("username")
@click.argument("course_key")
@click.option("--mode", type=click.Choice(sorted(MODES)), help="Default: audit.")
@click.option("--role", type=click.Choice([role.value for role in CourseRole]))
@click.option("--reason", default="", help="Why; kept in the enrollment's history.")
@STORAGE_OPTION
def enroll(
    username: str, course_key: str, mode: str | None, role: str | None, reason: str, storage: str
) -> None:
    """Enroll a user in a course (again: reactivates; nothing when already active)."""
    with services(storage, *_PEOPLE) as opened:
        try:
            enrollment, outcome = people.enroll(
                opened.storage,
                opened.assignments,
                username,
                course_key,
                mode=mode,
                role=role,
                actor=actor(),
                reason=reason,
            )
        except DoesNotExist as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{outcome.value}: {username} in {course_key} ({enrollment.mode}, {enrollment.role})"
    )


@enrollments.command("unenroll")
@click.argument("username")
@click.argument("course_key")
@click.option("--reason", default="", help="Why; kept in the enrollment's history.")
@STORAGE_OPTION
def unenroll(username: str, course_key: str, reason: str, storage: str) -> None:
    """Unenroll a user (the record stays, inactive)."""
    with persistent_storage(storage, *_PEOPLE) as stores:
        try:
            stores.enrollments.update_enrollment(
                username, course_key, is_active=False, actor=actor(), reason=reason
            )
        except DoesNotExist as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"unenrolled {username} from {course_key}")


@enrollments.command("list")
@click.option("--username")
@click.option("--course-key")
@click.option("--active/--inactive", default=None, help="Only active (or inactive) ones.")
@STORAGE_OPTION
def list_enrollments(
    username: str | None, course_key: str | None, active: bool | None, storage: str
) -> None:
    """List enrollments: course, username, mode, role, active."""
    with persistent_storage(storage, *_PEOPLE, read_only=True) as stores:
        found = stores.enrollments.list_enrollments(
            username=username, course_key=course_key, is_active=active
        )
        for item in found:
            click.echo(
                f"{item.course_key}\t{item.username}\t{item.mode}\t{item.role}\t"
                f"{'active' if item.is_active else 'inactive'}"
            )


def rows_options(what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The argument and options of a command that imports users or enrollments."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(
            [
                click.argument("rows_file", type=click.File("rb")),
                click.option(
                    "--dry-run", is_flag=True, help="Say what would happen; write nothing."
                ),
                click.option("--reason", default="", help=f"Why; kept in each {what}'s history."),
                STORAGE_OPTION,
            ]
        ):
            command = option(command)
        return command

    return decorate


@enrollments.command("import")
@rows_options("enrollment")
def import_enrollments(rows_file: Any, dry_run: bool, reason: str, storage: str) -> None:
    """Enroll every row of a CSV file (header: username,course_key[,mode][,role]) or NDJSON.

    Prints each row's result; a bad row is reported and skipped. Exits with
    status 1 when any row failed. Also `lrs import enrollments`.
    """
    import_rows(rows_file, dry_run, reason, storage, users=False)


def import_rows(rows_file: Any, dry_run: bool, reason: str, storage: str, *, users: bool) -> None:
    """Apply the rows of a users or enrollments file and report each."""
    from lrs.enrollments.bulk import USER_COLUMNS, bulk_users

    with services(storage, *_PEOPLE) as opened:
        stores, assignments = opened.storage, opened.assignments
        try:
            if users:
                rows = parse_rows(rows_file.read(), USER_COLUMNS)
                results = bulk_users(
                    stores.enrollments, rows, actor=actor(), reason=reason, dry_run=dry_run
                )
            else:
                rows = parse_rows(rows_file.read())
                results = bulk_enroll(
                    stores.enrollments, rows, actor=actor(), reason=reason, dry_run=dry_run
                )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        # Assignments follow new e-mail addresses and enrollments.
        for result in results:
            if dry_run or result.result not in ("created", "updated", "reactivated"):
                continue
            if users:
                user = stores.enrollments.get_user(result.username)
                assignments.link_user(user.username, user.email, actor=actor())
            else:
                assignments.on_enrolled(result.username, result.course_key)
    for result in results:
        detail = f"\t{result.reason}" if result.reason else ""
        course = f"\t{result.course_key}" if not users else ""
        click.echo(f"{result.row}\t{result.username}{course}\t{result.result}{detail}")
    summary = Counter(result.result for result in results)
    prefix = "dry run: " if dry_run else ""
    click.echo(prefix + ", ".join(f"{count} {name}" for name, count in sorted(summary.items())))
    if summary.get("error"):
        sys.exit(1)
