"""The ``lrs`` command line."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import urlsplit

import click

from lrs import __version__
from lrs.credentials.base import Role
from lrs.exceptions import DoesNotExist, UserStateError
from lrs.history.base import Retention
from lrs.history.factory import open_history
from lrs.storage import Storage, open_storage

STORAGE_OPTION = click.option(
    "--storage",
    envvar="LRS_STORAGE_URL",
    default="memory://",
    show_default=True,
    help="Where everything is stored (env LRS_STORAGE_URL).",
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
    default=lambda: os.environ.get("LRS_HISTORY_URL") or os.environ.get("LRS_STORAGE_URL"),
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
def prune(history_url: str | None, keep_last: int | None, max_age_days: int | None) -> None:
    """Remove history entries that the retention policy excludes.

    An entry goes when it is beyond the newest KEEP_LAST of its block, or older
    than MAX_AGE_DAYS: either limit is enough.
    """
    if not history_url:
        raise click.UsageError("name the history store with --history-url or LRS_HISTORY_URL")
    if keep_last is None and max_age_days is None:
        raise click.UsageError("give --keep-last, --max-age-days or both")
    if history_url.startswith("memory:"):
        raise click.UsageError("memory:// history lives in a server's process; nothing to prune")
    retention = Retention(
        keep_last=keep_last,
        max_age=None if max_age_days is None else timedelta(days=max_age_days),
    )
    try:
        with open_history(history_url, retention) as log:
            removed = log.prune()
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"removed {removed} history entries")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@STORAGE_OPTION
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes (default: 1 with memory://, else 2 per core).",
)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, storage: str, workers: int | None, threads: int) -> None:
    """Run the server under gunicorn.

    On a first start with no credentials, an admin credential is created and
    printed once. With LRS_ADMIN_KEY and LRS_ADMIN_SECRET set, that credential
    exists instead, and nothing is printed.
    """
    from lrs.api import create_app
    from lrs.serve import GunicornServer

    url = f"http://{host}:{port}"
    options = {"bind": f"{host}:{port}", "threads": threads, "worker_class": "gthread"}
    config = {"STORAGE_URL": storage}
    in_memory = urlsplit(storage).scheme == "memory"
    try:
        if in_memory:
            if workers not in (None, 1):
                click.echo("memory:// lives in one process: running 1 worker (use --threads).")
            # Built here and handed to the one worker, so the credential
            # printed below is in the memory it serves from.
            app = create_app(config)
            _first_admin(app.extensions["lrs"], url)
            options.update(workers=1, preload_app=True)
            GunicornServer(lambda: app, options).run()
        else:
            with _storage(storage) as stores:
                _first_admin(stores, url)
            # Each worker opens its own connections: pymongo is not fork-safe.
            options["workers"] = workers or 2 * (os.cpu_count() or 1)
            GunicornServer(lambda: create_app(config), options).run()
    except (ValueError, UserStateError) as exc:
        raise click.ClickException(str(exc)) from exc


def _first_admin(stores: Storage, url: str) -> None:
    """Make sure an admin can get in: the one from the environment, or a new one, printed."""
    from lrs.serve import curl_example

    key, secret = os.environ.get("LRS_ADMIN_KEY"), os.environ.get("LRS_ADMIN_SECRET")
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


@contextmanager
def _credential_storage(url: str) -> Iterator[Storage]:
    if urlsplit(url).scheme == "memory":
        raise click.UsageError(
            "memory:// credentials live in a server's process; use the HTTP API "
            "(/api/v1/credentials) or a persistent --storage"
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
    with _credential_storage(storage) as stores:
        credential, secret = stores.credentials.create(role, username=username, name=name)
    click.echo(f"key:    {credential.key}\nsecret: {secret}\nrole:   {credential.role}")


@credentials.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked credentials.")
@STORAGE_OPTION
def list_credentials(include_revoked: bool, storage: str) -> None:
    """List credentials, oldest first."""
    with _credential_storage(storage) as stores:
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
    with _credential_storage(storage) as stores:
        try:
            stores.credentials.revoke(key)
        except DoesNotExist as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {key}")
