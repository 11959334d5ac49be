"""``lrs history``: the retention of learner-state history."""

from datetime import timedelta

import click

from lrs.cli.common import (
    is_memory,
    main,
    persistent_storage,
)
from lrs.clock import default_clock, from_us
from lrs.exceptions import UserStateError
from lrs.history.base import Retention
from lrs.history.factory import open_history
from lrs.settings import load_settings
from lrs.urls import Backend, parse_storage_url


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
    if is_memory(history_url):
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
        with persistent_storage(audit, "audit records", "the CLI") as stores:
            record = removal(
                "history-prune", started, "cli", "learner-state history kept: " + ", ".join(limits)
            )
            finished = from_us(default_clock.now_us())
            stores.erasures.put(
                replace(record, finished=finished, counts={"history_entries": removed})
            )
