"""``lrs import`` and ``lrs export``: records in and out, to and from files and other LRSs."""

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from lrs.cli.common import (
    STORAGE_OPTION,
    actor,
    is_memory,
    main,
    services,
    settings_for,
)
from lrs.cli.people import import_enrollments, import_rows, rows_options
from lrs.exceptions import InvalidInput

if TYPE_CHECKING:
    from lrs.imports.statements import ImportSummary, Target


@main.group("import")
def import_() -> None:
    """Bring records in: statements (from a file or another LRS), users, enrollments."""


@import_.command("users")
@rows_options("user")
def import_users_command(rows_file: Any, dry_run: bool, reason: str, storage: str) -> None:
    """Create (or bring up to date) every user of a CSV file or NDJSON.

    CSV header: username, then any of email, full_name, language, is_staff,
    is_active (true/false), profile (a JSON object). A user whose fields are
    already the row's is unchanged: importing a file twice changes nothing.
    Exits with status 1 when any row failed.
    """
    import_rows(rows_file, dry_run, reason, storage, users=True)


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

    Each statement is checked as POST /xAPI/statements checks it (its size
    too) and stored in batches, each all or nothing. Statements stored already
    with the same content are skipped, with other content reported as
    conflicts: running it again after an interruption finishes the job. Exits
    with status 1 when any statement was invalid or a conflict.
    """
    from lrs.imports.remote import Bounds, RemoteLRS
    from lrs.imports.sources import read_statements
    from lrs.imports.statements import import_statements
    from lrs.usecases.services import accounts_of
    from lrs.xapi.prepare import iso

    _check_import_options(source, from_lrs, to, since, preserve_stored, storage)
    settings = settings_for(storage)
    summary = _summary(report)  # with each statement's outcome written to --report
    with contextlib.ExitStack() as stack:
        if from_lrs is not None:
            pulled = stack.enter_context(RemoteLRS(from_lrs, _credentials(auth, "--from-lrs")))
            bounds = Bounds(max_pages, time_limit, max_page_bytes, min(300.0, time_limit))
            start = None if since is None else iso(_moment(since, "--since") or 0)
            items, total = pulled.pages(start, bounds=bounds), None
        else:
            # A line may hold a statement of at most LRS_MAX_BODY_BYTES, and
            # the properties the LRS sets (which the limit leaves out) besides.
            items = read_statements(source, max_line=4 * settings.max_body_bytes)
            total = _size(source)
        target = _target(stack, storage, to, _credentials(to_auth or auth, "--to") if to else None)
        agent = accounts_of(settings).agent("lrs-import")
        authority = {"objectType": "Agent", "name": "lrs import", **agent}
        bar, advance = _progress(stack, items, total, source, quiet)
        with _import_errors():
            import_statements(
                bar if total is None else items,
                target,
                authority,
                dry_run=dry_run,
                preserve_stored=preserve_stored,
                on_batch=advance,
                max_bytes=settings.max_body_bytes,
                summary=summary,
            )
    _print_summary(summary, dry_run)


def _check_import_options(
    source: Any,
    from_lrs: str | None,
    to: str | None,
    since: str | None,
    preserve_stored: bool,
    storage: str,
) -> None:
    """Refuse options that do not go together (exit status 2)."""
    if (source is None) == (from_lrs is None):
        raise click.UsageError("give a file, or --from-lrs URL (not both)")
    if since is not None and from_lrs is None:
        raise click.UsageError("--since is for --from-lrs (a file is imported whole)")
    if preserve_stored and to is not None:
        raise click.UsageError("--preserve-stored keeps stored times in this LRS only, not --to")
    if to is None and is_memory(storage):
        raise click.UsageError("memory:// keeps nothing: import into a persistent --storage")


@contextlib.contextmanager
def _import_errors() -> Iterator[None]:
    """An LRS that fails, or a file that is no statements, as the command's error."""
    from lrs.imports.remote import RemoteError
    from lrs.imports.sources import UnreadableFile

    try:
        yield
    except RemoteError as exc:
        raise click.ClickException(
            f"{exc}; what was imported stays: run the same command again to finish"
        ) from exc
    except UnreadableFile as exc:
        raise click.ClickException(str(exc)) from exc


def _target(
    stack: contextlib.ExitStack, storage: str, to: str | None, auth: tuple[str, str] | None
) -> "Target":
    """Where imported statements go: another LRS (``to``), or this one's stores."""
    from lrs.imports.remote import RemoteLRS, RemoteTarget
    from lrs.imports.statements import LocalTarget

    if to is not None and auth is not None:
        return RemoteTarget(stack.enter_context(RemoteLRS(to, auth)))
    opened = stack.enter_context(services(storage, "statements", "/xAPI"))
    return LocalTarget(opened.storage, on_stored=opened.assignments.on_events)


def _summary(report: Any) -> "ImportSummary":
    """The summary of an import, writing each statement's outcome to ``report`` if given."""
    import orjson

    from lrs.imports.statements import ImportSummary

    summary = ImportSummary()
    if report is not None:

        def reported(where: str, statement_id: str, outcome: str, reason: str) -> None:
            line = {"where": where, "id": statement_id, "outcome": outcome}
            if reason:
                line["reason"] = reason
            report.write(orjson.dumps(line).decode() + "\n")

        summary.on_outcome = reported
    return summary


def _progress(
    stack: contextlib.ExitStack, items: Any, total: int | None, source: Any, quiet: bool
) -> tuple[Any, Callable[[int], None]]:
    """A progress bar, and what advances it after each batch.

    A file's bar follows the bytes read; a pull from an LRS, of unknown
    length, counts the statements.
    """
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

    return bar, advance


def _print_summary(summary: "ImportSummary", dry_run: bool) -> None:
    """Say what became of the statements; exit with status 1 on any problem."""
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

    try:
        filters_given = Filters(_moment(since, "--since"), _moment(until, "--until"), course_key)
    except InvalidInput as exc:  # since after until
        raise click.UsageError(str(exc)) from exc
    try:
        found = kind_named(kind)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc), param_hint="KIND") from exc
    with services(storage, "records", "/api/v1/exports", read_only=True) as opened:
        stores = opened.storage
        try:
            export = start_export(
                stores,
                opened.accounts,
                found.name,
                export_format,
                filters_given,
                credential=actor(),
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
