"""The ``lrs`` command line."""

import os
from datetime import timedelta

import click

from lrs import __version__
from lrs.exceptions import UserStateError
from lrs.history.base import Retention
from lrs.history.factory import open_history


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
