"""``lrs db``: the store itself (MongoDB's indexes, built as a deployment step)."""

import click

from lrs.cli.common import STORAGE_OPTION, main, services
from lrs.urls import Backend, parse_storage_url


@main.group()
def db() -> None:
    """The store itself: its indexes."""


@db.command("ensure-indexes")
@click.option(
    "--replace",
    is_flag=True,
    help="Drop and rebuild an index that differs from the one this version needs.",
)
@STORAGE_OPTION
def ensure_indexes(replace: bool, storage: str) -> None:
    """Build every MongoDB index this version's queries need, saying how long each took.

    Run it before starting a new version on a database with data: the
    server builds indexes only on empty collections, and refuses to start
    while one is missing or differs (docs/mongodb.md, "Indexes"). SQLite's
    indexes come with its schema migrations, when the file opens.
    """
    backend = parse_storage_url(storage).backend
    if backend not in (Backend.mongodb, Backend.mongomock):
        click.echo(f"{backend.value}: its indexes come with the store itself; nothing to build")
        return
    from lrs.mongo import IndexBuild  # the driver only for MongoDB

    build = IndexBuild(click.echo, replace=replace)
    with build.running(), services(storage):
        pass  # opening every store builds what its queries need
    if build.built:
        click.echo(f"built {len(build.built)} indexes")
    else:
        click.echo("every index was there already")
