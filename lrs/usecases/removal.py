"""Removing statements for good, with what depends on them (progress, attachment data).

Used by an erasure that deletes a learner's statements (and, later, by a
purge by age).
"""

import functools
from collections.abc import Iterable
from typing import Any

import orjson

from lrs.progress.derive import event_of
from lrs.usecases.rebuild import key_events
from lrs.usecases.storage import Storage
from lrs.xapi.statements.base import Record


def remove_statements(storage: Storage, records: Iterable[Record]) -> dict[str, int]:
    """Delete stored statements, take their progress back, and drop attachment data none names now.

    Progress is taken back as for a voided statement: the sessions near each
    removed statement's time are derived again from the statements left.
    ``StatementStore.written_at_once`` at a time where the store asks for it,
    other writers let in between (an erasure may delete thousands). Returns
    how many statements and attachments went.
    """
    records = list(records)
    counts = {"statements": 0, "attachments": 0}
    step = storage.statements.written_at_once or len(records) or 1
    for start in range(0, len(records), step):
        if start:
            storage.yield_to_writers()
        for name, count in _removed(storage, records[start : start + step]).items():
            counts[name] += count
    return counts


def _removed(storage: Storage, records: list[Record]) -> dict[str, int]:
    events = []
    hashes: set[str] = set()
    for record in records:
        statement: dict[str, Any] = orjson.loads(record.text)
        for attachment in statement.get("attachments") or ():
            if isinstance(attachment, dict) and isinstance(attachment.get("sha2"), str):
                hashes.add(attachment["sha2"])
        event = None if record.voided else event_of(statement, record.id, record.stored_us)
        if event is not None:
            events.append(event)
    removed = storage.statements.delete(record.id for record in records)
    if events:
        storage.progress.record([], events, functools.partial(key_events, storage.statements))
    unused = hashes - storage.statements.using_attachments(hashes)
    return {"statements": removed, "attachments": storage.attachments.delete(unused)}
