"""Retention: statements older than a number of days removed, a batch at a time.

By stored time (when the LRS received them, which a client cannot set).
Each batch is removed as a learner's deleted statements are
(``lrs.usecases.removal.remove_statements``): their progress is taken back
and attachment data no statement names any more goes. Batches are small, so
that statements keep being stored meanwhile: a SQLite write lock is held
for one batch at a time (about 0.1 s), and left free between batches long
enough for the writers of other processes (``Storage.yield_to_writers``).
One audit record per purge, beside the erasures'.
"""

from collections.abc import Callable
from dataclasses import replace

from lrs.clock import default_clock, from_us
from lrs.erasure.base import Erasure, removal
from lrs.exceptions import InvalidInput
from lrs.usecases.removal import remove_statements
from lrs.usecases.storage import Storage

#: Statements removed per batch, unless the store asks for fewer
#: (``StatementStore.written_at_once``: SQLite's 200 hold its write lock for
#: about 0.1 s, benchmarks/bench_long_writes.py).
BATCH = 1000
_DAY_US = 86_400 * 1_000_000


def purge_statements(
    storage: Storage,
    older_than_days: int,
    *,
    credential: str,
    dry_run: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> Erasure:
    """Remove every statement stored more than ``older_than_days`` days ago.

    Returns the audit record (kind ``purge``), with the counts; a dry run
    counts the statements it would remove and keeps no record.

    Args:
        storage: the stores.
        older_than_days: whole days, 0 or more (0: everything stored until now).
        credential: who asked (a credential key, or ``cli``).
        dry_run: only count.
        on_batch: told how many statements each batch removed (a progress bar).

    Raises:
        InvalidInput: the number of days is negative or not a whole number.
    """
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
        raise InvalidInput("the age is a whole number of days")
    if older_than_days < 0:
        raise InvalidInput(f"the age must be 0 days or more, not {older_than_days}")
    now_us = default_clock.now_us()
    cutoff_us = now_us - older_than_days * _DAY_US
    started = from_us(now_us)
    record = removal(
        "purge",
        started,
        credential,
        f"statements stored before {from_us(cutoff_us).isoformat()} ({older_than_days} days)",
    )
    if dry_run:
        return replace(
            record, counts={"statements": storage.statements.count_older_than(cutoff_us)}
        )
    storage.erasures.put(record)
    counts = {"statements": 0, "attachments": 0}
    storage.statements.settle()  # what writers left half done is seen, or taken back
    while True:
        ids = storage.statements.older_than(cutoff_us, storage.statements.written_at_once or BATCH)
        if not ids:
            break
        removed = remove_statements(storage, storage.statements.get_many(ids))
        for name, count in removed.items():
            counts[name] += count
        if on_batch is not None:
            on_batch(removed["statements"])
        storage.yield_to_writers()
    finished = replace(record, counts=counts, finished=from_us(default_clock.now_us()))
    storage.erasures.put(finished)
    storage.empty_log()
    return finished
