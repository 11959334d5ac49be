"""``lrs serve``, ``lrs backup`` and ``lrs check``: running the server and keeping its file."""

import os
from typing import Any

import click

from lrs.cli.common import (
    STORAGE_OPTION,
    main,
    persistent_storage,
    settings_for,
    sqlite_file,
)
from lrs.credentials.base import Role
from lrs.exceptions import InvalidInput, UserStateError
from lrs.serve import DEFAULT_THREADS, MEMORY_THREADS, Limits
from lrs.settings import Settings
from lrs.urls import Backend, StorageURL, parse_storage_url
from lrs.usecases.storage import Storage


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
    settings = settings_for(storage)  # checked once, as the app checks them
    limits = Limits(
        header_timeout, body_timeout, idle_timeout, max_body_bytes=settings.max_body_bytes
    )
    try:
        _start(parsed, settings, url, workers, threads, limits, trusted_proxy)
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc


def _start(
    parsed: StorageURL,
    settings: Settings,
    url: str,
    workers: int | None,
    threads: int | None,
    limits: Limits,
    trusted_proxy: str | None,
) -> None:
    """Make sure an admin can get in, say where, and run the server until it is stopped."""
    from lrs.api import create_app
    from lrs.serve import serve as run_server

    config = {"STORAGE_URL": settings.storage_url}
    bind = url.removeprefix("http://")
    if parsed.backend == Backend.memory:
        if workers not in (None, 1):
            click.echo("memory:// lives in one process: running 1 worker (use --threads).")
        # Built here and handed to the one worker, so the credential printed
        # below is in the memory it serves from.
        app = create_app(config)
        _first_admin(app.extensions["lrs"], settings, url)
        _say_where(parsed, url)
        run_server(
            lambda: app,
            bind=bind,
            workers=1,
            threads=threads or MEMORY_THREADS,
            limits=limits,
            preload=True,
            trusted_proxy=trusted_proxy,
            # A new worker would serve an empty store as if nothing had happened.
            on_worker_death="its memory:// data died with it; stopping rather than "
            "serving an empty store",
        )
        return
    with persistent_storage(settings.storage_url) as stores:
        _first_admin(stores, settings, url)
    _say_where(parsed, url)
    # Each worker opens its own connections: pymongo is not fork-safe.
    run_server(
        lambda: create_app(config),
        bind=bind,
        workers=workers or default_workers(parsed.backend),
        threads=threads or DEFAULT_THREADS,
        limits=limits,
        trusted_proxy=trusted_proxy,
    )


def _say_where(parsed: StorageURL, url: str) -> None:
    click.echo(f"Storage: {parsed.describe()}")
    click.echo(f"Serving on {url}")
    click.echo(f"Dashboard: {url}/dashboard/ (sign in with a credential)")


def default_workers(backend: Backend) -> int:
    """Worker processes ``lrs serve`` runs on a database unless told otherwise.

    On SQLite, one per core: writers of several processes meet at the file's
    lock, whose waiting polls with sleeps, so that past one per core the
    slowest writes wait a second and more while no more are written
    (benchmarks/RESULTS.md). MongoDB takes writes at once: two per core.
    """
    cores = os.cpu_count() or 1
    return cores if backend == Backend.sqlite else 2 * cores


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
    with sqlite_file(storage, "backup") as database:
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

    with sqlite_file(storage, "check") as database:
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


def _first_admin(stores: Storage, settings: Settings, url: str) -> None:
    """Make sure an admin can get in: the one from the environment, or a new one, printed."""
    from lrs.serve import curl_example

    key, secret = settings.admin_key, settings.admin_secret
    if key and secret:
        stores.credentials.ensure(key, secret, name="LRS_ADMIN_KEY")
        return
    if stores.credentials.count():
        return
    credential, secret = stores.credentials.create(Role.admin, name="first start")
    click.echo("No credentials yet: created an admin credential. Its secret is shown only now.")
    click.echo(f"  key:    {credential.key}\n  secret: {secret}")
    click.echo("Try it:")
    click.echo(curl_example(url, credential.key, secret))
    click.echo("")
