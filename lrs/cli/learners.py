"""``lrs learners`` and ``lrs purge``: a learner's erasure, and retention by age."""

import sys
from typing import Any

import click

from lrs.cli.common import (
    STORAGE_OPTION,
    main,
    persistent_storage,
    services,
)
from lrs.clock import default_clock


@main.group()
def learners() -> None:
    """A learner's data: erase it everywhere, and list the erasures (docs/erasure.md)."""


@learners.command("erase")
@click.argument("username", required=False)
@click.option(
    "--agent",
    help="Instead of a user: an agent known only from statements, as xAPI JSON "
    '(\'{"mbox": "mailto:ada@example.org"}\').',
)
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
    username: str | None,
    agent: str | None,
    reason: str,
    dry_run: bool,
    delete_statements: bool,
    storage: str,
) -> None:
    """Erase a learner from every store: statements pseudonymized, the rest removed.

    Their statements keep their place in reports under a pseudonym
    (retired-...); their documents, learner state and its history, progress
    records and personal user data go; their credentials are revoked. One
    audit record names them by pseudonym only. Statements that name them
    from the start of the erasure on are pseudonymized as they are stored.
    Running it again finishes an erasure cut short, or repeats every step for
    what can still be found. With --agent instead of USERNAME: an agent
    known only from statements (no user here), erased the same way.
    """
    import orjson

    from lrs.usecases.erasure import erase_agent, erase_learner

    if (username is None) == (agent is None):
        raise click.UsageError("give a USERNAME, or --agent (not both)")
    options: dict[str, Any] = {
        "reason": reason,
        "credential": "cli",
        "dry_run": dry_run,
        "delete_statements": delete_statements,
        "on_step": lambda step: click.echo(f"  {step}...", err=True),
    }
    with services(storage, "learners", "/api/v1/users/{username}/erase") as opened:
        if agent is None:
            erasure = erase_learner(opened.storage, opened.accounts, str(username), **options)
        else:
            try:
                parsed = orjson.loads(agent)
            except orjson.JSONDecodeError:
                raise click.BadParameter("not JSON", param_hint="--agent") from None
            erasure = erase_agent(opened.storage, opened.accounts, parsed, **options)
    title = "Would change" if dry_run else f"Erased as {erasure.pseudonym}; changed"
    click.echo(f"{title}:")
    for name, count in erasure.counts.items():
        click.echo(f"  {name}: {count}")


@learners.command("erasures")
@STORAGE_OPTION
def list_erasures(storage: str) -> None:
    """List the erasures: when, by whom, why, and what each changed (by pseudonym only)."""
    with persistent_storage(storage, "erasures", "/api/v1/erasures", read_only=True) as stores:
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

    with persistent_storage(storage, "statements", "the CLI") as stores:
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
