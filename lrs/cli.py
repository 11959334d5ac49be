"""The ``lrs`` command line."""

import contextlib
import getpass
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from lrs import __version__
from lrs.clock import default_clock, from_us
from lrs.credentials.base import Role
from lrs.enrollments.base import MODES, CourseRole
from lrs.enrollments.bulk import bulk_enroll, parse_rows
from lrs.exceptions import Conflict, DoesNotExist, InvalidInput, UserStateError
from lrs.history.base import Retention
from lrs.history.factory import open_history
from lrs.serve import DEFAULT_THREADS, MEMORY_THREADS, Limits
from lrs.settings import load_settings
from lrs.sqlite import SqliteDatabase
from lrs.urls import Backend, parse_storage_url
from lrs.usecases.storage import Storage, open_storage

if TYPE_CHECKING:
    from lrs.usecases.assignments import Assignments

STORAGE_OPTION = click.option(
    "--storage",
    default=lambda: load_settings()["STORAGE_URL"],
    show_default="$LRS_STORAGE_URL, else sqlite:///$LRS_DATA_DIR/lrs.db (lrs-data/lrs.db)",
    help="Where everything is stored (env LRS_STORAGE_URL): a SQLite file by default, "
    "memory:// for nothing kept, mongodb://host/db for MongoDB.",
)


@click.group()
@click.version_option(__version__, prog_name="lrs")
def main() -> None:
    """Learning Record Store: learner state, history and xAPI."""


@main.group()
def history() -> None:
    """Manage the history of learner-state changes."""


@history.command()
@click.option(
    "--history-url",
    default=lambda: load_settings()["HISTORY_URL"] or load_settings()["STORAGE_URL"],
    help="Where history is stored (default: $LRS_HISTORY_URL, else $LRS_STORAGE_URL).",
)
@click.option(
    "--keep-last",
    type=click.IntRange(min=1),
    help="Keep only this many newest entries of each block.",
)
@click.option(
    "--max-age-days",
    type=click.IntRange(min=1),
    help="Remove entries older than this many days.",
)
@click.option(
    "--storage",
    help="Where the audit record of the prune goes (default: the history's store, when it "
    "holds the LRS's other data too, as a sqlite: or mongodb: URL does).",
)
def prune(
    history_url: str | None, keep_last: int | None, max_age_days: int | None, storage: str | None
) -> None:
    """Remove history entries that the retention policy excludes.

    An entry goes when it is beyond the newest KEEP_LAST of its block, or older
    than MAX_AGE_DAYS: either limit is enough. An audit record of the prune is
    kept with the erasures (`lrs learners erasures`).
    """
    if not history_url:
        raise click.UsageError("name the history store with --history-url or LRS_HISTORY_URL")
    if keep_last is None and max_age_days is None:
        raise click.UsageError("give --keep-last, --max-age-days or both")
    if _is_memory(history_url):
        raise click.UsageError("memory:// history lives in a server's process; nothing to prune")
    retention = Retention(
        keep_last=keep_last,
        max_age=None if max_age_days is None else timedelta(days=max_age_days),
    )
    started = from_us(default_clock.now_us())
    try:
        with open_history(history_url, retention) as log:
            removed = log.prune()
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed {removed} history entries")
    audit = storage or history_url
    if parse_storage_url(audit).backend in (Backend.sqlite, Backend.mongodb, Backend.mongomock):
        from dataclasses import replace

        from lrs.erasure.base import removal

        limits = [f"the newest {keep_last} of each block"] if keep_last else []
        limits += [f"{max_age_days} days"] if max_age_days else []
        with _persistent_storage(audit, "audit records", "the CLI") as stores:
            record = removal(
                "history-prune", started, "cli", "learner-state history kept: " + ", ".join(limits)
            )
            finished = from_us(default_clock.now_us())
            stores.erasures.put(
                replace(record, finished=finished, counts={"history_entries": removed})
            )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@STORAGE_OPTION
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes (default: 1 with memory://, 1 per core with SQLite, 2 per core "
    "with MongoDB). SQLite workers share one file: they read at once and take turns to "
    "write, so more of them serve more reads but no more writes.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help=f"Application threads per worker (default: {MEMORY_THREADS} with memory://, "
    f"{DEFAULT_THREADS} otherwise). A memory:// server never waits on a database, so more "
    "threads only take turns at Python's interpreter lock: 1 and 2 serve the most, and 2 "
    "keeps one long request from holding up the rest. With a database, threads overlap the "
    "waits on it.",
)
@click.option(
    "--header-timeout",
    default=Limits.header_timeout,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a client has to send a request's headers; slower ones are disconnected.",
)
@click.option(
    "--body-timeout",
    default=Limits.body_timeout,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds a client has to send a whole request, body included.",
)
@click.option(
    "--idle-timeout",
    default=Limits.idle_timeout,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds an idle kept-alive connection stays open.",
)
@click.option(
    "--trusted-proxy",
    envvar="LRS_TRUSTED_PROXY",
    help="Address of a reverse proxy whose X-Forwarded-For names the client (env "
    "LRS_TRUSTED_PROXY).",
)
def serve(
    host: str,
    port: int,
    storage: str,
    workers: int | None,
    threads: int | None,
    header_timeout: float,
    body_timeout: float,
    idle_timeout: int,
    trusted_proxy: str | None,
) -> None:
    """Run the server.

    Each worker reads requests on an event loop and hands only complete ones to
    its threads, so slow clients cannot take the threads; connections that are
    too slow are closed. On a first start with no credentials, an admin
    credential is created and printed once. With LRS_ADMIN_KEY and
    LRS_ADMIN_SECRET set, that credential exists instead, and nothing is printed.
    """
    from lrs.api import create_app
    from lrs.serve import serve as run_server

    try:
        parsed = parse_storage_url(storage)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    if parsed.test_only:
        raise click.UsageError(
            f"{parsed.scheme}:// is for tests, not for a server: each worker would have its "
            "own data, and none of it would survive; use sqlite:///, memory:// or mongodb://"
        )
    url = f"http://{host}:{port}"
    config = {"STORAGE_URL": storage}
    settings = load_settings(config)
    max_body = settings["MAX_BODY_BYTES"]
    if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
        raise click.UsageError(f"LRS_MAX_BODY_BYTES must be a number of bytes, not {max_body!r}")
    limits = Limits(header_timeout, body_timeout, idle_timeout, max_body_bytes=max_body)
    in_memory = parsed.backend == Backend.memory
    try:
        if in_memory:
            if workers not in (None, 1):
                click.echo("memory:// lives in one process: running 1 worker (use --threads).")
            # Built here and handed to the one worker, so the credential
            # printed below is in the memory it serves from.
            app = create_app(config)
            _first_admin(app.extensions["lrs"], url)
        else:
            with _storage(storage) as stores:
                _first_admin(stores, url)
        click.echo(f"Storage: {parsed.describe()}")
        click.echo(f"Serving on {url}")
        click.echo(f"Dashboard: {url}/dashboard/ (sign in with a credential)")
        if in_memory:
            run_server(
                lambda: app,
                bind=f"{host}:{port}",
                workers=1,
                threads=threads or MEMORY_THREADS,
                limits=limits,
                preload=True,
                trusted_proxy=trusted_proxy,
                # A new worker would serve an empty store as if nothing had happened.
                on_worker_death="its memory:// data died with it; stopping rather than "
                "serving an empty store",
            )
        else:
            # Each worker opens its own connections: pymongo is not fork-safe.
            run_server(
                lambda: create_app(config),
                bind=f"{host}:{port}",
                workers=workers or default_workers(parsed.backend),
                threads=threads or DEFAULT_THREADS,
                limits=limits,
                trusted_proxy=trusted_proxy,
            )
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc


def default_workers(backend: Backend) -> int:
    """Worker processes ``lrs serve`` runs on a database unless told otherwise.

    On SQLite, one per core: writers of several processes meet at the file's
    lock, whose waiting polls with sleeps, so that past one per core the
    slowest writes wait a second and more while no more are written
    (benchmarks/RESULTS.md). MongoDB takes writes at once: two per core.
    """
    cores = os.cpu_count() or 1
    return cores if backend == Backend.sqlite else 2 * cores


def _sqlite(storage: str, command: str) -> SqliteDatabase:
    """The SQLite file of a storage URL, for commands that work on the file itself."""
    from lrs.sqlite_schema import open_sqlite

    try:
        parsed = parse_storage_url(storage)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    if parsed.backend != Backend.sqlite:
        raise click.ClickException(
            f"lrs {command} works on a SQLite file, not {parsed.scheme}://; for MongoDB, "
            "use mongodump and MongoDB's own tools"
        )
    try:
        return open_sqlite(parsed)
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
@STORAGE_OPTION
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(dir_okay=False),
    help="The new file to write the copy to.",
)
def backup(storage: str, target: str) -> None:
    """Copy the SQLite store to a new file, consistently, while the server runs.

    Uses SQLite's online backup: the copy is the whole database as of one
    moment, whatever is being written meanwhile. Restore by stopping the
    server and putting the copy in place of the file.
    """
    with _sqlite(storage, "backup") as database:
        try:
            database.backup(target)
        except (ValueError, UserStateError) as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"backed up {database.path} to {target}")


@main.command()
@STORAGE_OPTION
@click.option(
    "--repair",
    is_flag=True,
    help="Store statements found malformed again under their ids, made whole (see docs/sqlite.md).",
)
def check(storage: str, repair: bool) -> None:
    """Check the SQLite store's integrity, count what each table holds, and check its records.

    Every stored statement must be JSON under a UUID; users' e-mail addresses
    and enrollments' course keys must be whole values. Exits with status 1 if
    SQLite finds the file damaged or a record breaks a rule (after
    ``--repair``, if one is left).
    """
    from lrs.usecases.repair import findings, repair_statements
    from lrs.usecases.storage import sqlite_storage

    with _sqlite(storage, "check") as database:
        problems = database.check()
        counts = database.counts()
        version = database.schema_version()
        found: list[Any] = []
        if not problems:
            stores = sqlite_storage(database)
            if repair:
                done = repair_statements(stores)
                click.echo(
                    "repaired statements: {restored} stored again, {removed} second copies "
                    "removed, {left} left".format(**done)
                )
            found = list(findings(stores))
    click.echo(f"{database.path}: schema version {version}")
    for table, count in counts.items():
        click.echo(f"  {table}: {count:,}")
    if problems:
        click.echo("integrity check failed:", err=True)
        for problem in problems[:20]:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1)
    click.echo("integrity check: ok")
    if found:
        click.echo(f"records that break a rule: {len(found):,}", err=True)
        for finding in found[:50]:
            click.echo(f"  {finding.store} {finding.key}: {finding.problem}", err=True)
        if not repair:
            click.echo("lrs check --repair mends the statements among them", err=True)
        raise SystemExit(1)
    click.echo("records: ok")


def _first_admin(stores: Storage, url: str) -> None:
    """Make sure an admin can get in: the one from the environment, or a new one, printed."""
    from lrs.serve import curl_example

    settings = load_settings()
    key, secret = settings["ADMIN_KEY"], settings["ADMIN_SECRET"]
    if key and secret:
        stores.credentials.ensure(str(key), str(secret), name="LRS_ADMIN_KEY")
        return
    if stores.credentials.count():
        return
    credential, secret = stores.credentials.create(Role.admin, name="first start")
    click.echo("No credentials yet: created an admin credential. Its secret is shown only now.")
    click.echo(f"  key:    {credential.key}\n  secret: {secret}")
    click.echo("Try it:")
    click.echo(curl_example(url, credential.key, secret))
    click.echo("")


@contextmanager
def _storage(url: str) -> Iterator[Storage]:
    stores = open_storage(url)
    try:
        yield stores
    finally:
        stores.close()


@main.group()
def credentials() -> None:
    """Manage API credentials (key/secret pairs for HTTP Basic auth)."""


def _is_memory(url: str) -> bool:
    try:
        return parse_storage_url(url).backend == Backend.memory
    except InvalidInput:
        return False  # opening it will say what is wrong


@contextmanager
def _persistent_storage(
    url: str, what: str = "credentials", api: str = "/api/v1/credentials"
) -> Iterator[Storage]:
    if _is_memory(url):
        raise click.UsageError(
            f"memory:// {what} live in a server's process; use the HTTP API "
            f"({api}) or a persistent --storage"
        )
    try:
        with _storage(url) as stores:
            yield stores
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc


@credentials.command("create")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--username", help="The user it acts for (required for coach and learner).")
@click.option("--name", default="", help="A label for people.")
@STORAGE_OPTION
def create_credential(role: str, username: str | None, name: str, storage: str) -> None:
    """Create a credential and print its secret (shown only now)."""
    with _persistent_storage(storage) as stores:
        credential, secret = stores.credentials.create(role, username=username, name=name)
    click.echo(f"key:    {credential.key}\nsecret: {secret}\nrole:   {credential.role}")


@credentials.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked credentials.")
@STORAGE_OPTION
def list_credentials(include_revoked: bool, storage: str) -> None:
    """List credentials, oldest first."""
    with _persistent_storage(storage) as stores:
        for credential in stores.credentials.list(include_revoked=include_revoked):
            state = "active" if credential.active else f"revoked {credential.revoked:%Y-%m-%d}"
            click.echo(
                f"{credential.key}\t{credential.role}\t{credential.username or '-'}\t"
                f"{credential.created:%Y-%m-%d}\t{state}\t{credential.name}"
            )


@credentials.command("revoke")
@click.argument("key")
@STORAGE_OPTION
def revoke_credential(key: str, storage: str) -> None:
    """Revoke a credential: it no longer authenticates."""
    with _persistent_storage(storage) as stores:
        try:
            stores.credentials.revoke(key)
        except DoesNotExist as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {key}")


def _actor() -> str:
    """Who makes a change from the command line, for its history."""
    return f"cli:{getpass.getuser()}"


@contextmanager
def _assignments_of(stores: Storage, url: str) -> Iterator["Assignments"]:
    """The assignments of ``stores``, with the webhook of the settings; its queue drained at end."""
    from lrs.usecases.assignments import Assignments

    try:
        found = Assignments.from_settings(stores, load_settings({"STORAGE_URL": url}))
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield found
    finally:
        found.close()


@contextmanager
def _assignment_service(url: str) -> Iterator["Assignments"]:
    """The assignments of the storage at ``url``, for the ``lrs assignments`` commands."""
    with (
        _persistent_storage(url, "assignments", "/api/v1/assignments") as stores,
        _assignments_of(stores, url) as service,
    ):
        yield service


@contextmanager
def _enrollment_storage(url: str) -> Iterator[Storage]:
    with _persistent_storage(
        url, "users and enrollments", "/api/v1/users, /api/v1/enrollments"
    ) as stores:
        yield stores


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
    with _enrollment_storage(storage) as stores, _assignments_of(stores, storage) as assignments:
        user = stores.enrollments.create_user(username, fields, actor=_actor(), reason=reason)
        assignments.link_user(user.username, user.email, actor=_actor())
    click.echo(f"created user {user.username}")


@users.command("list")
@click.option("--active/--inactive", default=None, help="Only active (or inactive) users.")
@click.option("--staff/--not-staff", default=None, help="Only staff (or other) users.")
@STORAGE_OPTION
def list_users(active: bool | None, staff: bool | None, storage: str) -> None:
    """List users by username: username, email, full name, staff, active."""
    with _enrollment_storage(storage) as stores:
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
    with _enrollment_storage(storage) as stores, _assignments_of(stores, storage) as assignments:
        try:
            enrollment, outcome = stores.enrollments.enroll(
                username,
                course_key,
                mode=mode,
                role=None if role is None else CourseRole(role),
                actor=_actor(),
                reason=reason,
            )
        except DoesNotExist as exc:
            raise click.ClickException(str(exc)) from exc
        assignments.on_enrolled(username, course_key)
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
    with _enrollment_storage(storage) as stores:
        try:
            stores.enrollments.update_enrollment(
                username, course_key, is_active=False, actor=_actor(), reason=reason
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
    with _enrollment_storage(storage) as stores:
        found = stores.enrollments.list_enrollments(
            username=username, course_key=course_key, is_active=active
        )
        for item in found:
            click.echo(
                f"{item.course_key}\t{item.username}\t{item.mode}\t{item.role}\t"
                f"{'active' if item.is_active else 'inactive'}"
            )


def _rows_options(what: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
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
@_rows_options("enrollment")
def import_enrollments(rows_file: Any, dry_run: bool, reason: str, storage: str) -> None:
    """Enroll every row of a CSV file (header: username,course_key[,mode][,role]) or NDJSON.

    Prints each row's result; a bad row is reported and skipped. Exits with
    status 1 when any row failed. Also `lrs import enrollments`.
    """
    _import_rows(rows_file, dry_run, reason, storage, users=False)


def _import_rows(rows_file: Any, dry_run: bool, reason: str, storage: str, *, users: bool) -> None:
    """Apply the rows of a users or enrollments file and report each."""
    from lrs.enrollments.bulk import USER_COLUMNS, bulk_users

    with _enrollment_storage(storage) as stores, _assignments_of(stores, storage) as assignments:
        try:
            if users:
                rows = parse_rows(rows_file.read(), USER_COLUMNS)
                results = bulk_users(
                    stores.enrollments, rows, actor=_actor(), reason=reason, dry_run=dry_run
                )
            else:
                rows = parse_rows(rows_file.read())
                results = bulk_enroll(
                    stores.enrollments, rows, actor=_actor(), reason=reason, dry_run=dry_run
                )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        # Assignments follow new e-mail addresses and enrollments.
        for result in results:
            if dry_run or result.result not in ("created", "updated", "reactivated"):
                continue
            if users:
                user = stores.enrollments.get_user(result.username)
                assignments.link_user(user.username, user.email, actor=_actor())
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


@main.group()
def learners() -> None:
    """A learner's data: erase it everywhere, and list the erasures (docs/erasure.md)."""


@learners.command("erase")
@click.argument("username")
@click.option(
    "--reason", required=True, help="Why (a request number...): kept in the audit record."
)
@click.option("--dry-run", is_flag=True, help="Only count what would change.")
@click.option(
    "--delete-statements",
    is_flag=True,
    help="Delete their statements instead of pseudonymizing them (reports lose them).",
)
@STORAGE_OPTION
def erase_learner_command(
    username: str, reason: str, dry_run: bool, delete_statements: bool, storage: str
) -> None:
    """Erase a learner from every store: statements pseudonymized, the rest removed.

    Their statements keep their place in reports under a pseudonym
    (retired-...); their documents, learner state and its history, progress
    records and personal user data go; their credentials are revoked. One
    audit record names them by pseudonym only. Running it again finishes an
    erasure cut short, or changes nothing.
    """
    from lrs.usecases.erasure import erase_learner
    from lrs.xapi.agents import AccountAgents

    accounts = AccountAgents(str(load_settings({"STORAGE_URL": storage})["ACCOUNT_HOMEPAGE"]))
    with _persistent_storage(storage, "learners", "/api/v1/users/{username}/erase") as stores:
        erasure = erase_learner(
            stores,
            accounts,
            username,
            reason=reason,
            credential="cli",
            dry_run=dry_run,
            delete_statements=delete_statements,
            on_step=lambda step: click.echo(f"  {step}...", err=True),
        )
    title = "Would change" if dry_run else f"Erased as {erasure.pseudonym}; changed"
    click.echo(f"{title}:")
    for name, count in erasure.counts.items():
        click.echo(f"  {name}: {count}")


@learners.command("erasures")
@STORAGE_OPTION
def list_erasures(storage: str) -> None:
    """List the erasures: when, by whom, why, and what each changed (by pseudonym only)."""
    with _persistent_storage(storage, "erasures", "/api/v1/erasures") as stores:
        erasures = stores.erasures.list()
    for erasure in erasures:
        state = "finished" if erasure.finished is not None else "NOT FINISHED: run it again"
        if erasure.kind != "erasure":
            state = f"{erasure.kind}, {state}"
        counts = ", ".join(f"{name} {count}" for name, count in erasure.counts.items())
        click.echo(
            f"{erasure.started:%Y-%m-%d %H:%M} {erasure.pseudonym} by {erasure.credential} "
            f"({erasure.reason}): {state}; {counts}"
        )


@main.group()
def purge() -> None:
    """Retention: remove old records for good (see also `lrs history prune`)."""


@purge.command("statements")
@click.option(
    "--older-than",
    "days",
    required=True,
    type=click.IntRange(min=0),
    help="Remove statements stored more than this many days ago.",
)
@click.option("--dry-run", is_flag=True, help="Only count what would go.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@STORAGE_OPTION
def purge_statements_command(days: int, dry_run: bool, quiet: bool, storage: str) -> None:
    """Remove statements stored more than DAYS days ago, a batch at a time.

    Their progress is taken back and attachment data no statement names any
    more goes too; an audit record is kept (`lrs learners erasures`). Runs
    beside a server taking statements (one batch's write at a time): fit
    for cron, e.g. `0 3 * * * lrs purge statements --older-than 1825 --quiet`.
    """
    from lrs.usecases.purge import purge_statements

    with _persistent_storage(storage, "statements", "the CLI") as stores:
        if dry_run:
            found = purge_statements(stores, days, credential="cli", dry_run=True)
            click.echo(f"Would remove {found.counts['statements']:,} statements.")
            return
        total = stores.statements.count_older_than(default_clock.now_us() - days * 86_400_000_000)
        show = not quiet and sys.stderr.isatty()
        with click.progressbar(
            length=total, label="Removing statements", file=sys.stderr, hidden=not show
        ) as bar:
            record = purge_statements(stores, days, credential="cli", on_batch=bar.update)
    click.echo(
        f"Removed {record.counts['statements']:,} statements and "
        f"{record.counts['attachments']:,} attachments ({record.reason})."
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
    from lrs.xapi.agents import AccountAgents

    if sum(option is not None for option in (learner, agent, course_key)) > 1:
        raise click.UsageError("give at most one of --learner, --agent and --course-key")
    settings = load_settings({"STORAGE_URL": storage})
    if learner is not None:
        agent = AccountAgents(str(settings["ACCOUNT_HOMEPAGE"])).key(learner)
    part: dict[str, Any] = {"learner": agent, "course": course_key}
    with _persistent_storage(storage, "progress records", "POST /xAPI/statements") as stores:
        stores.progress.session_gap_us = int(float(settings["SESSION_GAP_SECONDS"]) * 1_000_000)
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
    from lrs.usecases.reports import course_report, enrolled_learners
    from lrs.xapi.agents import AccountAgents

    accounts = AccountAgents(str(load_settings({"STORAGE_URL": storage})["ACCOUNT_HOMEPAGE"]))
    with _persistent_storage(storage, "progress records", "/api/v1/progress") as stores:
        enrolled = enrolled_learners(stores.enrollments, accounts, course_key)
        report = course_report(course_key, stores.progress.summaries(course=course_key), enrolled)
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
            _minutes(totals.average_time_spent_us),
        )
        for totals in report.activities
    ]
    _table(rows)
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
                _minutes(row.time_spent_us),
            )
        )
    _table(learners)


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
    from lrs.usecases.reports import exam_report

    with _persistent_storage(storage, "progress records", "/api/v1/progress") as stores:
        summaries = stores.progress.exams(content=activity, course=course_key)
        tries = stores.progress.tries(content=activity, course=course_key)
    report = exam_report(activity, summaries, tries)
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
    _table(rows)


def _minutes(us: int) -> str:
    return f"{us / 60_000_000:.1f} min"


def _table(rows: Sequence[Sequence[str]]) -> None:
    """Rows as columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        click.echo("  ".join(cells).rstrip())


@main.group("import")
def import_() -> None:
    """Bring records in: statements (from a file or another LRS), users, enrollments."""


@import_.command("users")
@_rows_options("user")
def import_users_command(rows_file: Any, dry_run: bool, reason: str, storage: str) -> None:
    """Create (or bring up to date) every user of a CSV file or NDJSON.

    CSV header: username, then any of email, full_name, language, is_staff,
    is_active (true/false), profile (a JSON object). A user whose fields are
    already the row's is unchanged: importing a file twice changes nothing.
    Exits with status 1 when any row failed.
    """
    _import_rows(rows_file, dry_run, reason, storage, users=True)


# The same command under both groups.
import_.add_command(import_enrollments, "enrollments")


def _credentials(auth: str | None, option: str) -> tuple[str, str]:
    if not auth or ":" not in auth:
        raise click.UsageError(f"{option} needs --auth KEY:SECRET")
    key, _, secret = auth.partition(":")
    return key, secret


@import_.command("statements")
@click.argument("source", type=click.File("rb"), required=False)
@click.option(
    "--from-lrs",
    metavar="URL",
    help="Pull every statement from another LRS's xAPI endpoint (http://host/xAPI), "
    "following its more links, instead of reading a file.",
)
@click.option(
    "--to", metavar="URL", help="Send to another LRS's xAPI endpoint instead of this store."
)
@click.option(
    "--auth",
    metavar="KEY:SECRET",
    help="Credentials of the other LRS (Basic): of --from-lrs, else of --to.",
)
@click.option(
    "--to-auth", metavar="KEY:SECRET", help="Credentials of --to, when --from-lrs has others."
)
@click.option("--since", help="With --from-lrs: only statements stored after this time.")
@click.option(
    "--max-pages",
    type=click.IntRange(min=1),
    default=20_000,
    show_default=True,
    help="With --from-lrs: stop with an error after this many pages.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=6 * 3600.0,
    show_default=True,
    help="With --from-lrs: stop with an error after this many seconds.",
)
@click.option(
    "--max-page-bytes",
    type=click.IntRange(min=1024),
    default=64 * 1024 * 1024,
    show_default=True,
    help="With --from-lrs: stop with an error at a page larger than this.",
)
@click.option("--dry-run", is_flag=True, help="Check everything and say what would happen.")
@click.option(
    "--report",
    type=click.File("w"),
    help="Write what became of each statement to this file, one JSON line each "
    "(where, id, outcome: stored, skipped, conflict or invalid, reason).",
)
@click.option(
    "--preserve-stored",
    is_flag=True,
    help="Keep each statement's stored time and authority from the source (a migration); "
    "see docs/transfer.md for what it means to since queries.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@STORAGE_OPTION
def import_statements_command(
    source: Any,
    from_lrs: str | None,
    to: str | None,
    auth: str | None,
    to_auth: str | None,
    since: str | None,
    max_pages: int,
    time_limit: float,
    max_page_bytes: int,
    dry_run: bool,
    report: Any,
    preserve_stored: bool,
    quiet: bool,
    storage: str,
) -> None:
    """Import statements from SOURCE (NDJSON, a JSON array or a StatementResult; - for stdin).

    Each statement is checked as POST /xAPI/statements checks it and stored in
    batches, each all or nothing. Statements stored already with the same
    content are skipped, with other content reported as conflicts: running
    the command again after an interruption finishes the job. A statement
    longer than LRS_MAX_BODY_BYTES is invalid, as POST refuses it. Exits with
    status 1 when any statement was invalid or a conflict.
    """
    import orjson

    from lrs.imports.remote import Bounds, RemoteError, RemoteLRS, RemoteTarget
    from lrs.imports.sources import UnreadableFile, read_statements
    from lrs.imports.statements import ImportSummary, LocalTarget, Target, import_statements
    from lrs.xapi.agents import AccountAgents
    from lrs.xapi.prepare import iso

    if (source is None) == (from_lrs is None):
        raise click.UsageError("give a file, or --from-lrs URL (not both)")
    if since is not None and from_lrs is None:
        raise click.UsageError("--since is for --from-lrs (a file is imported whole)")
    if since is not None:
        since = iso(_moment(since, "--since") or 0)
    if preserve_stored and to is not None:
        raise click.UsageError("--preserve-stored keeps stored times in this LRS only, not --to")
    if to is None and _is_memory(storage):
        raise click.UsageError("memory:// keeps nothing: import into a persistent --storage")
    settings = load_settings({"STORAGE_URL": storage})
    max_bytes = int(settings["MAX_BODY_BYTES"])
    summary = ImportSummary()
    if report is not None:

        def reported(where: str, statement_id: str, outcome: str, reason: str) -> None:
            line = {"where": where, "id": statement_id, "outcome": outcome}
            if reason:
                line["reason"] = reason
            report.write(orjson.dumps(line).decode() + "\n")

        summary.on_outcome = reported
    remotes = []
    try:
        if from_lrs is not None:
            pulled = RemoteLRS(from_lrs, _credentials(auth, "--from-lrs"))
            remotes.append(pulled)
            bounds = Bounds(max_pages, time_limit, max_page_bytes, min(300.0, time_limit))
            items = pulled.pages(since, bounds=bounds)
            total = None
        else:
            # A line may hold a statement of at most max_bytes, and its
            # properties the LRS sets (which the limit leaves out) besides.
            items = read_statements(source, max_line=4 * max_bytes)
            total = _size(source)
        with contextlib.ExitStack() as stack:
            target: Target
            if to is not None:
                sent = RemoteLRS(to, _credentials(to_auth or auth, "--to"))
                remotes.append(sent)
                target = RemoteTarget(sent)
            else:
                stores = stack.enter_context(_persistent_storage(storage, "statements", "/xAPI"))
                assignments = stack.enter_context(_assignments_of(stores, storage))
                target = LocalTarget(stores, on_stored=assignments.on_events)
            homepage = str(settings["ACCOUNT_HOMEPAGE"])
            authority = {"objectType": "Agent", "name": "lrs import"}
            authority.update(AccountAgents(homepage).agent("lrs-import"))
            # A file's bar follows the bytes read; a pull from an LRS, of
            # unknown length, counts the statements.
            bar: Any = stack.enter_context(
                click.progressbar(
                    items if total is None else None,
                    length=total,
                    label="Importing statements",
                    file=sys.stderr,
                    hidden=quiet or not sys.stderr.isatty(),
                    show_pos=total is None,
                )
            )
            position = [0]

            def advance(count: int) -> None:
                if total is not None:
                    now = source.tell()
                    bar.update(now - position[0])
                    position[0] = now

            try:
                import_statements(
                    bar if total is None else items,
                    target,
                    authority,
                    dry_run=dry_run,
                    preserve_stored=preserve_stored,
                    on_batch=advance,
                    max_bytes=max_bytes,
                    summary=summary,
                )
            except RemoteError as exc:
                raise click.ClickException(
                    f"{exc}; what was imported stays: run the same command again to finish"
                ) from exc
    except UnreadableFile as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        for remote in remotes:
            remote.close()
    for where, statement_id in summary.conflicts:
        click.echo(f"{where}: conflict: statement {statement_id} is stored with other content")
    for where, reason in summary.invalid:
        click.echo(f"{where}: invalid: {reason}")
    prefix = "dry run: would store" if dry_run else "stored"
    click.echo(
        f"{prefix} {summary.stored:,}, skipped {summary.skipped:,} (stored already), "
        f"conflicts {len(summary.conflicts):,}, invalid {len(summary.invalid):,} "
        f"(of {summary.read:,} read)"
    )
    if summary.failed:
        sys.exit(1)


def _size(stream: Any) -> int | None:
    """The size of a file in bytes, or ``None`` for a pipe."""
    try:
        return os.fstat(stream.fileno()).st_size if stream.seekable() else None
    except (OSError, ValueError):
        return None


def _moment(value: str | None, option: str) -> int | None:
    from lrs.usecases.export_kinds import moment_us

    try:
        return None if value is None else moment_us(value, option)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc), param_hint=option) from exc


@main.command("export")
@click.argument("kind")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["ndjson", "csv"]),
    default="ndjson",
    show_default=True,
    help="NDJSON for machines (and lrs import), CSV for people.",
)
@click.option("--since", help="Only records after this time (ISO 8601; see docs/transfer.md).")
@click.option("--until", help="Only records up to this time (ISO 8601).")
@click.option("--course-key", help="Only the records of this course.")
@click.option(
    "--out", type=click.File("wb"), default="-", help="The file to write (default: -, stdout)."
)
@click.option("--bom", is_flag=True, help="CSV: start with a byte-order mark (for spreadsheets).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@STORAGE_OPTION
def export_command(
    kind: str,
    export_format: str,
    since: str | None,
    until: str | None,
    course_key: str | None,
    out: Any,
    bom: bool,
    quiet: bool,
    storage: str,
) -> None:
    """Write every record of KIND as NDJSON or CSV, streamed (docs/transfer.md).

    KIND is statements, users, enrollments, enrollment-changes, state-history
    (with --course-key), summaries, sessions, attempts or exams. The export is
    recorded (GET /api/v1/exports/requests). Example:
    `lrs export statements --since 2026-01-01 --out statements.ndjson`.
    """
    from lrs.usecases.export_kinds import Filters, kind_named
    from lrs.usecases.exports import start_export
    from lrs.xapi.agents import AccountAgents

    try:
        filters_given = Filters(_moment(since, "--since"), _moment(until, "--until"), course_key)
    except InvalidInput as exc:  # since after until
        raise click.UsageError(str(exc)) from exc
    try:
        found = kind_named(kind)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc), param_hint="KIND") from exc
    accounts = AccountAgents(str(load_settings({"STORAGE_URL": storage})["ACCOUNT_HOMEPAGE"]))
    with _persistent_storage(storage, "records", "/api/v1/exports") as stores:
        try:
            export = start_export(
                stores,
                accounts,
                found.name,
                export_format,
                filters_given,
                credential=_actor(),
                bom=bom,
            )
        except InvalidInput as exc:
            raise click.UsageError(str(exc)) from exc
        total = found.count(stores) if found.count is not None else None
        with click.progressbar(
            length=total or 0,
            label=f"Exporting {found.name}",
            file=sys.stderr,
            hidden=quiet or not sys.stderr.isatty() or total is None,
        ) as bar:
            written = 0
            for chunk in export.chunks:
                out.write(chunk)
                bar.update(export.counted.rows - written)
                written = export.counted.rows
        out.flush()
    click.echo(f"exported {export.counted.rows:,} {found.name} ({export.request.id})", err=True)


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

    with _assignment_service(storage) as service:
        try:
            made = service.assign(
                content,
                username=username,
                email=email,
                course_key=course_key,
                due=parse_due(due),
                note=note,
                actor=_actor(),
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

    with _assignment_service(storage) as service:
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
    with _assignment_service(storage) as service:
        try:
            found = service.cancel(assignment_id, actor=_actor(), reason=reason)
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

    with _assignment_service(storage) as service:
        rows = parse_rows(rows_file.read(), ROW_FIELDS)
        outcomes = service.assign_many(rows, actor=_actor(), dry_run=dry_run)
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
    with _assignment_service(storage) as service:
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
    with _assignment_service(storage) as service:
        reminded = service.remind(span)
    click.echo(f"reminded {len(reminded)} assignments")
