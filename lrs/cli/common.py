"""What every ``lrs`` command shares: the root group, the storage option, opening the services.

Every command that works on the LRS's data opens one ``Services``
(``lrs.usecases.services``) from the one ``Settings``, through ``services``:
the same stores, account agents and assignment lifecycle the server uses, and
the same checks of the settings (a bad value stops a command as it stops the
server, with the same message).
"""

import getpass
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import click

from lrs import __version__
from lrs.exceptions import InvalidInput, UserStateError
from lrs.settings import Settings, load_settings
from lrs.sqlite import SqliteDatabase
from lrs.urls import Backend, parse_storage_url
from lrs.usecases.services import Services, open_services
from lrs.usecases.storage import Storage

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


def settings_for(url: str) -> Settings:
    """The settings, with ``url`` as the storage (a ``--storage`` option).

    Raises:
        click.ClickException: a setting is not one it takes (the server's message).
    """
    try:
        return Settings.load({"STORAGE_URL": url})
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc


def is_memory(url: str) -> bool:
    """Whether ``url`` names a store in a process's memory (nothing a command could reach)."""
    try:
        return parse_storage_url(url).backend == Backend.memory
    except InvalidInput:
        return False  # opening it will say what is wrong


def reading(url: str) -> None:
    """Before a command that only reads: refuse a SQLite file that is not there, say which it is.

    A read never creates a store: a command run in the wrong folder would
    otherwise make an empty one and report nothing, as if the LRS were empty.

    Raises:
        click.ClickException: the SQLite file the URL names does not exist.
    """
    try:
        parsed = parse_storage_url(url)
    except InvalidInput:
        return  # opening it will say what is wrong
    if parsed.backend != Backend.sqlite:
        return
    if not Path(parsed.path).is_file():
        raise click.ClickException(
            f"there is no LRS data at {Path(parsed.path).resolve()}: run the command where "
            "the server keeps lrs-data/ (or in a folder below it), or name the store with "
            "--storage or LRS_DATA_DIR (a command that only reads creates none)"
        )
    # A file is found by folder (LRS_DATA_DIR): say which, on stderr.
    click.echo(f"Storage: {parsed.describe()}", err=True)


@contextmanager
def services(
    url: str, what: str | None = None, api: str = "", *, read_only: bool = False
) -> Iterator[Services]:
    """The services of the storage at ``url``, closed at the end (the webhook's queue drained).

    Args:
        url: the storage URL.
        what: what the command works on; when given, ``memory://`` is refused
            (it lives in a server's process), pointing to ``api`` instead.
        api: where a server's HTTP API does the same.
        read_only: the command only reads: a SQLite file that is not there is
            refused, not created (``reading``).

    Raises:
        click.UsageError: ``memory://`` for a command that needs a persistent store.
        click.ClickException: the settings or the store refuse, or the command's
            work fails with a store error (its message, no traceback).
    """
    if what is not None and is_memory(url):
        raise click.UsageError(
            f"memory:// {what} live in a server's process; use the HTTP API "
            f"({api}) or a persistent --storage"
        )
    if read_only:
        reading(url)
    settings = settings_for(url)
    try:
        opened = open_services(settings)
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        yield opened
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        opened.close()


@contextmanager
def persistent_storage(
    url: str,
    what: str = "credentials",
    api: str = "/api/v1/credentials",
    *,
    read_only: bool = False,
) -> Iterator[Storage]:
    """The stores of ``services``, for a command that needs no more of them."""
    with services(url, what, api, read_only=read_only) as opened:
        yield opened.storage


def sqlite_file(storage: str, command: str) -> SqliteDatabase:
    """The SQLite file of a storage URL, for commands that work on the file itself.

    The file must exist: these commands read it (``reading``).
    """
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
    reading(storage)
    try:
        return open_sqlite(parsed)
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc


def actor() -> str:
    """Who makes a change from the command line, for its history."""
    return f"cli:{getpass.getuser()}"


def minutes(us: int) -> str:
    """Microseconds as minutes, for people."""
    return f"{us / 60_000_000:.1f} min"


def table(rows: Sequence[Sequence[str]]) -> None:
    """Rows as columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        click.echo("  ".join(cells).rstrip())
