"""``lrs credentials``: API credentials (key/secret pairs for HTTP Basic auth)."""

import click

from lrs.cli.common import (
    STORAGE_OPTION,
    main,
    persistent_storage,
)
from lrs.credentials.base import Role
from lrs.exceptions import DoesNotExist


@main.group()
def credentials() -> None:
    """Manage API credentials (key/secret pairs for HTTP Basic auth)."""


@credentials.command("create")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--username", help="The user it acts for (required for coach and learner).")
@click.option("--name", default="", help="A label for people.")
@click.option(
    "--allow-unknown-user",
    is_flag=True,
    help="Create it even if no user has the username (yet).",
)
@STORAGE_OPTION
def create_credential(
    role: str, username: str | None, name: str, allow_unknown_user: bool, storage: str
) -> None:
    """Create a credential and print its secret (shown only now)."""
    from lrs.usecases.credentials import create_credential as create

    with persistent_storage(storage) as stores:
        credential, secret = create(
            stores, role, username=username, name=name, allow_unknown_user=allow_unknown_user
        )
    click.echo(f"key:    {credential.key}\nsecret: {secret}\nrole:   {credential.role}")


@credentials.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked credentials.")
@STORAGE_OPTION
def list_credentials(include_revoked: bool, storage: str) -> None:
    """List credentials, oldest first."""
    with persistent_storage(storage, read_only=True) as stores:
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
    with persistent_storage(storage) as stores:
        try:
            stores.credentials.revoke(key)
        except DoesNotExist as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {key}")
