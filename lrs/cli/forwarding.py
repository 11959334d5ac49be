"""``lrs forwarding`` and ``lrs forward``: the other LRSs statements go to (docs/forwarding.md)."""

import threading

import click

from lrs.cli.common import STORAGE_OPTION, main, persistent_storage
from lrs.clock import from_us
from lrs.exceptions import InvalidInput

# A store's refusals (no such target, say) inside ``persistent_storage`` are
# the command's error already (``lrs.cli.common.services``).
_WHAT, _API = "forwarding targets", "/api/v1/forwarding"
_VERSION_OPTION = click.option(
    "--version",
    "xapi_version",
    default="1.0.3",
    show_default=True,
    type=click.Choice(["1.0.3", "2.0.0"]),
    help="The xAPI version it is spoken to in.",
)


@main.group()
def forwarding() -> None:
    """Manage the other LRSs that every statement stored here is forwarded to."""


@forwarding.command("add")
@click.argument("url")
@click.option("--auth", required=True, help="The target's credential, KEY:SECRET.")
@_VERSION_OPTION
@click.option("--verb", multiple=True, help="Only statements with this verb (IRI); repeatable.")
@click.option("--activity-prefix", multiple=True, help="Only activities whose id starts so.")
@click.option("--course-key", multiple=True, help="Only statements in this course; repeatable.")
@click.option("--from-start", is_flag=True, help="Send the statements stored before too.")
@click.option("--since", help="Send the statements stored after this time (ISO 8601) too.")
@STORAGE_OPTION
def add(
    url: str,
    auth: str,
    xapi_version: str,
    verb: tuple[str, ...],
    activity_prefix: tuple[str, ...],
    course_key: tuple[str, ...],
    from_start: bool,
    since: str | None,
    storage: str,
) -> None:
    """Add a target (its /about and credential are checked first)."""
    from lrs.usecases.export_kinds import moment_us
    from lrs.usecases.forwarding import add_target, checked_filters

    with persistent_storage(storage, _WHAT, _API) as stores:
        try:
            filters = checked_filters(verb, activity_prefix, course_key)
            since_us = None if since is None else moment_us(since, "--since")
            target = add_target(
                stores,
                url,
                auth,
                version=xapi_version,
                filters=filters,
                from_start=from_start,
                since_us=since_us,
            )
        except InvalidInput as exc:
            raise click.ClickException(f"{exc}; no target was added") from exc
    click.echo(f"added {target.id}: {target.url} (xAPI {target.version})")


@forwarding.command("pull")
@click.argument("url")
@click.option("--auth", required=True, help="The source's credential, KEY:SECRET.")
@_VERSION_OPTION
@click.option("--since", help="Only what it stored after this time (ISO 8601); else all.")
@STORAGE_OPTION
def pull(url: str, auth: str, xapi_version: str, since: str | None, storage: str) -> None:
    """Subscribe to another LRS: what it stores is imported here (lrs forward, lrs serve)."""
    from lrs.usecases.export_kinds import moment_us
    from lrs.usecases.forwarding import add_source

    with persistent_storage(storage, _WHAT, _API) as stores:
        try:
            since_us = None if since is None else moment_us(since, "--since")
            source = add_source(stores, url, auth, version=xapi_version, since_us=since_us)
        except InvalidInput as exc:
            raise click.ClickException(f"{exc}; no source was added") from exc
    click.echo(f"added {source.id}: pulls from {source.url} (xAPI {source.version})")


@forwarding.command("list")
@STORAGE_OPTION
def list_targets(storage: str) -> None:
    """List the targets: id, state, URL, delivered, dead letters."""
    with persistent_storage(storage, _WHAT, _API, read_only=True) as stores:
        for target in stores.forwarding.targets():
            click.echo(
                f"{target.id}\t{target.state}\t{target.direction}\t{target.url}\t"
                f"delivered {target.delivered}\tdead {target.dead}"
            )


@forwarding.command("status")
@click.argument("target_id")
@STORAGE_OPTION
def show_status(target_id: str, storage: str) -> None:
    """A target's lag, queue, delivered and dead-letter counts, last error and next try."""
    from lrs.usecases.forwarding import COUNTED_AT_MOST, status

    with persistent_storage(storage, _WHAT, _API, read_only=True) as stores:
        found = status(stores, target_id)
    target = found.target
    queued = f"{found.queued:,}" + ("+" if found.queued >= COUNTED_AT_MOST else "")
    click.echo(f"target\t{target.id} {target.url} ({target.state})")
    click.echo(f"queued\t{queued}\nlag\t{found.lag_seconds:.1f} s")
    click.echo(f"delivered\t{target.delivered:,}\ndead letters\t{found.dead:,}")
    click.echo(f"last error\t{target.last_error or '-'}")
    next_try = from_us(target.next_try_us).isoformat() if target.next_try_us else "now"
    click.echo(f"next try\t{next_try}")


def _state(target_id: str, storage: str, state: str) -> None:
    from lrs.usecases.forwarding import set_state

    with persistent_storage(storage, _WHAT, _API) as stores:
        set_state(stores, target_id, state)
    click.echo(f"{target_id} {state}")


@forwarding.command("pause")
@click.argument("target_id")
@STORAGE_OPTION
def pause(target_id: str, storage: str) -> None:
    """Stop sending to a target (statements keep waiting for it)."""
    _state(target_id, storage, "paused")


@forwarding.command("resume")
@click.argument("target_id")
@STORAGE_OPTION
def resume(target_id: str, storage: str) -> None:
    """Send to a target again, at once."""
    _state(target_id, storage, "active")


@forwarding.command("remove")
@click.argument("target_id")
@STORAGE_OPTION
def remove(target_id: str, storage: str) -> None:
    """Forget a target and its dead letters."""
    with persistent_storage(storage, _WHAT, _API) as stores:
        stores.forwarding.remove(target_id)
    click.echo(f"removed {target_id}")


@forwarding.command("dead")
@click.argument("target_id")
@STORAGE_OPTION
def dead(target_id: str, storage: str) -> None:
    """A target's dead letters: statement id, when, the target's status and answer."""
    with persistent_storage(storage, _WHAT, _API, read_only=True) as stores:
        stores.forwarding.get(target_id)  # no such target: its error, as the command's
        for letter in stores.forwarding.dead_letters(target_id):
            when = from_us(letter.time_us).isoformat()
            click.echo(f"{letter.statement_id}\t{when}\t{letter.status}\t{letter.answer}")


@forwarding.command("retry-dead")
@click.argument("target_id")
@STORAGE_OPTION
def retry_dead(target_id: str, storage: str) -> None:
    """Send a target's dead letters again."""
    from lrs.usecases.forwarding import Sender, TryLater

    with persistent_storage(storage, _WHAT, _API) as stores:
        try:
            with Sender(stores) as sender:
                delivered, still = sender.retry_dead(target_id)
        except TryLater as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"delivered {delivered}, still refused {still}")


@main.command("forward")
@click.option("--once", is_flag=True, help="One round over the targets, then stop.")
@click.option(
    "--lease-seconds",
    type=click.FloatRange(min=0.5),
    default=30.0,
    show_default=True,
    help="How long a target waits for this sender, should it die, before another takes it.",
)
@STORAGE_OPTION
def forward(once: bool, lease_seconds: float, storage: str) -> None:
    """Send every target its statements, until stopped (Ctrl-C); beside the server or alone."""
    from lrs.imports.pull import pull_round
    from lrs.usecases.forwarding import Sender

    with persistent_storage(storage, _WHAT, _API) as stores:
        sender = Sender(stores, puller=pull_round, lease_seconds=lease_seconds)
        if once:
            try:
                click.echo(f"sent past {sender.run_all_once()} statements")
            finally:
                sender.release_all()
            return
        stop = threading.Event()
        click.echo(f"forwarding as {sender.holder}; Ctrl-C stops", err=True)
        try:
            sender.run(stop)
        except KeyboardInterrupt:
            stop.set()
