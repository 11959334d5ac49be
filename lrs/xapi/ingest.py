"""Storing a batch of prepared statements: the one path every door takes.

``POST``/``PUT /xAPI/statements`` and ``lrs import statements`` store through
``store_batch``: attachment data, the statements, the activity definitions
they carry and the progress they make, in one transaction where the storage
has them (xAPI-Communication.md 2.1.2: a batch is stored all or nothing).
"""

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from lrs.clock import default_clock
from lrs.progress import Event, event_of
from lrs.progress.rebuild import key_events
from lrs.xapi.activities import definitions_in
from lrs.xapi.attachments import AttachmentData, check_statement_attachments
from lrs.xapi.prepare import Prepared
from lrs.xapi.signature import check_signature
from lrs.xapi.statements.base import StatementStore

if TYPE_CHECKING:
    from lrs.storage import Storage


def store_batch(
    storage: "Storage",
    prepared: Sequence[Prepared],
    batch: list[Any],
    paths: list[str],
    received: dict[str, AttachmentData] | None = None,
    *,
    stored_us: Sequence[int] | None = None,
    on_stored: Callable[[list[Event]], None] | None = None,
) -> set[str]:
    """Store a batch of prepared statements, all or nothing; return the ids newly stored.

    Args:
        storage: the stores.
        prepared: the statements, as ``prepare`` made them.
        batch: the statements as sent (for attachments, signatures, definitions
            and progress).
        paths: where each statement is in the request, for error messages.
        received: the attachment data sent with the batch, by SHA-2.
        stored_us: the stored time of each statement, kept from another LRS
            (``--preserve-stored``); by default the batch is stamped now.
        on_stored: called once the batch is committed, with the progress
            events of the statements newly stored (assignments follow them).

    Raises:
        StatementError: an attachment or a signature does not match its statement.
        Conflict: an id is stored already with other content; nothing is stored.
        InvalidInput: a voiding statement targets a voiding statement.
    """
    received = received or {}
    used = check_statement_attachments(batch, received, paths)
    for statement, path in zip(batch, paths, strict=True):
        check_signature(statement, received, path)
    # The Activities resource answers with definitions merged from statements.
    definitions = definitions_in(batch)
    # What each statement says about progress (lrs.progress); one without a
    # timestamp takes its stored time once stamped.
    drafts = [
        event_of(statement, item.id, 0) for statement, item in zip(batch, prepared, strict=True)
    ]
    # One transaction where the storage has them (one commit, all or nothing);
    # what needs no lock is done before it.
    with storage.transaction():
        # Data first: where a store has no transactions, data kept by hash is
        # harmless if the statements then fail.
        storage.attachments.put(received[sha2] for sha2 in sorted(used))
        if stored_us is None:
            # Stamped last, just before saving (in SQLite, under the write
            # lock), so that concurrent batches reach the store in the order of
            # their stamps (one clock reading for the batch, one stamp per
            # statement: stored order is the batch's order).
            first_us = default_clock.now_us(len(prepared))
            stored_us = range(first_us, first_us + len(prepared))
        stamped = [item.stamped(us) for item, us in zip(prepared, stored_us, strict=True)]
        new = set(storage.statements.save(stamped))
        storage.activities.merge(definitions)
        # Progress is kept before the batch is answered; a statement stored
        # before gives nothing new.
        events = [
            draft if item.timestamped else draft._replace(time_us=record.stored_us)
            for draft, item, record in zip(drafts, prepared, stamped, strict=True)
            if draft is not None and record.id in new
        ]
        targets = [record.voids for record in stamped if record.id in new and record.voids]
        voided = [_event_of_stored(storage.statements, target) for target in targets]
        storage.progress.record(
            events,
            [event for event in voided if event is not None],
            functools.partial(key_events, storage.statements),
        )
    if on_stored is not None and events:
        on_stored(events)
    return new


def _event_of_stored(statements: StatementStore, statement_id: str) -> Event | None:
    """The progress event of a stored statement (of a voided one, to take it back)."""
    record = statements.get(statement_id)
    return (
        None if record is None else event_of(orjson.loads(record.text), record.id, record.stored_us)
    )
