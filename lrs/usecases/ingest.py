"""Storing a batch of prepared statements: the one path every door takes.

``POST``/``PUT /xAPI/statements`` and ``lrs import statements`` store through
``store_batch``: attachment data, the statements, the activity definitions
they carry and the progress they make, in one transaction where the storage
has them (xAPI-Communication.md 2.1.2: a batch is stored all or nothing).
Batches of concurrent requests may share a transaction (group commit), each
still all or nothing, each answered as if it had come alone.
"""

import copy
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from lrs.clock import default_clock
from lrs.exceptions import ServiceUnavailable
from lrs.progress import Event, event_of
from lrs.usecases.rebuild import key_events, rebuild
from lrs.xapi.activities import definitions_in, merge_definitions
from lrs.xapi.agents import agent_key, with_agents_replaced
from lrs.xapi.attachments import AttachmentData, check_statement_attachments
from lrs.xapi.digests import digest
from lrs.xapi.prepare import Prepared
from lrs.xapi.signature import check_signature
from lrs.xapi.statements.base import Record, StatementStore, terms_of

if TYPE_CHECKING:
    from lrs.usecases.storage import Storage


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
    work = _Batch(prepared, definitions_in(batch), _drafts(batch, prepared))
    # Where the write lock isolates, batches that arrive while another is being
    # written wait and are written together next (lrs.usecases.group_commit).
    # Written alone: those with attachment data or stored times kept from
    # elsewhere (rare), those whose statements target others (see _targets),
    # and those of a caller inside a transaction already: it holds the write
    # lock that another thread's group would wait for.
    written: Written
    if (
        storage.isolated
        and not received
        and stored_us is None
        and not _targets(prepared)
        and not storage.in_transaction()
    ):
        written = storage.writes.write(work, functools.partial(_write_group, storage))
    else:
        written = _write(storage, work, received, used, stored_us)
    new, events = written
    if on_stored is not None and events:
        on_stored(events)
    return new


@dataclass(frozen=True)
class _Batch:
    """A batch checked and ready to write: what needs no lock is done."""

    prepared: Sequence[Prepared]
    definitions: dict[str, dict[str, Any]]
    drafts: list[Event | None]

    def __len__(self) -> int:
        return len(self.prepared)


#: What writing a batch gives: the ids newly stored, and the progress events kept.
Written = tuple[set[str], list[Event]]


def _write(
    storage: "Storage",
    work: _Batch,
    received: dict[str, AttachmentData],
    used: set[str],
    stored_us: Sequence[int] | None,
) -> Written:
    """Write one batch in one transaction where the storage has them."""
    # One transaction where the storage has them (one commit, all or nothing);
    # what needs no lock is done before it.
    with storage.transaction():
        # Data first: where a store has no transactions, data kept by hash is
        # harmless if the statements then fail.
        storage.attachments.put(received[sha2] for sha2 in sorted(used))
        stamped = _stamped(work.prepared, stored_us)
        # Read under the write lock where there is one: an erasure keeps its
        # identities before it rewrites anything, so no batch can slip between.
        erased = storage.erasures.erased_identities(_agents_of(stamped))
        drafts = work.drafts
        if erased:
            stamped, drafts = _pseudonymized(stamped, work.prepared, drafts, erased)
        new = set(storage.statements.save(stamped))
        storage.activities.merge(work.definitions)
        events = _progress_kept(storage, work.prepared, stamped, drafts, new)
    if not storage.isolated:
        # Without one transaction, an erasure may have kept its identities
        # while this batch was being saved, after its own rewrite had read the
        # statements: the batch then rewrites its own.
        _catch_up(storage, stamped, erased)
    return new, events


def _write_group(storage: "Storage", group: list[_Batch]) -> list[Written | Exception]:
    """Write batches of several requests (``GroupCommit``): as one batch, else one by one.

    As one batch, they take one transaction and one commit, and what a batch
    reads or writes once (erased identities, term numbers, progress keys,
    definitions) is done once for all. If that fails, one of them is at
    fault (an id stored with other content, say): nothing was written, and
    each is written alone, so that each gets its own answer, as if it had
    come alone. Batches that name one statement id between them are written
    one by one from the start (a client repeating a request): stored in turn,
    the second finds the first's.
    """
    if len(group) > 1 and _apart(group):
        try:
            new, events = _write(storage, _joined(group), {}, set(), None)
        except ServiceUnavailable as error:
            # The store could not be written at all: one by one, each would
            # wait as long again.
            return [copy.copy(error) for _ in group]
        except Exception:
            pass  # one of them is at fault: below, each alone
        else:
            return [_share(work, new, events) for work in group]
    outcomes: list[Written | Exception] = []
    for work in group:
        try:
            outcomes.append(_write(storage, work, {}, set(), None))
        except Exception as error:
            outcomes.append(error)
    return outcomes


def _targets(prepared: Sequence[Prepared]) -> bool:
    """Whether a statement targets another (voids it, or refers to it).

    Such batches are not written with others: what a target is depends on
    what is stored before, and a batch written with others would see theirs.
    """
    return any(item.terms.target for item in prepared)


def _apart(group: list[_Batch]) -> bool:
    """Whether no statement id is in two batches of ``group``."""
    seen: set[str] = set()
    for work in group:
        ids = {item.id for item in work.prepared}
        if not seen.isdisjoint(ids):
            return False
        seen |= ids
    return True


def _joined(group: list[_Batch]) -> _Batch:
    """The batches of ``group`` as one, in order; definitions merged as successive batches would."""
    definitions: dict[str, dict[str, Any]] = {}
    for work in group:
        for identifier, definition in work.definitions.items():
            definitions[identifier] = merge_definitions(definitions.get(identifier), definition)
    return _Batch(
        [item for work in group for item in work.prepared],
        definitions,
        [draft for work in group for draft in work.drafts],
    )


def _share(work: _Batch, new: set[str], events: list[Event]) -> Written:
    """What of a joined batch's outcome is ``work``'s."""
    ids = {item.id for item in work.prepared}
    return new & ids, [event for event in events if event.statement_id in ids]


def _stamped(prepared: Sequence[Prepared], stored_us: Sequence[int] | None) -> list[Record]:
    """The records to save, stamped with their stored times (by default, now).

    Stamped last, just before saving (in SQLite, under the write lock), so
    that concurrent batches reach the store in the order of their stamps (one
    clock reading for the batch, one stamp per statement: stored order is the
    batch's order).
    """
    if stored_us is None:
        first_us = default_clock.now_us(len(prepared))
        stored_us = range(first_us, first_us + len(prepared))
    return [item.stamped(us) for item, us in zip(prepared, stored_us, strict=True)]


def _drafts(batch: list[Any], prepared: Sequence[Prepared]) -> list[Event | None]:
    """What each statement says about progress (``lrs.progress``), before it is stamped.

    A statement without a timestamp takes its stored time once stamped.
    """
    # The course and timestamp as ``prepare`` read them, not read again.
    return [
        event_of(statement, item.id, 0, course=item.course, time_us=item.time_us)
        for statement, item in zip(batch, prepared, strict=True)
    ]


def _progress_kept(
    storage: "Storage",
    prepared: Sequence[Prepared],
    stamped: list[Record],
    drafts: list[Event | None],
    new: set[str],
) -> list[Event]:
    """Keep the progress the newly stored statements make, and take back what they void.

    Kept before the batch is answered; a statement stored before gives
    nothing new. Returns the events kept.
    """
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
    return events


def _agents_of(records: Sequence[Record]) -> set[str]:
    return {key for record in records for key in record.terms.related_agents}


def _pseudonymized(
    stamped: list[Record],
    prepared: Sequence[Prepared],
    drafts: list[Event | None],
    erased: dict[str, dict[str, Any]],
) -> tuple[list[Record], list[Event | None]]:
    """The records (and progress drafts) with every erased agent replaced by its stand-in.

    As ``StatementStore.erase_agents`` rewrites a stored statement, so that a
    statement stored after an erasure reads as one stored before it.
    """
    records, events = list(stamped), list(drafts)
    for at, (record, item) in enumerate(zip(stamped, prepared, strict=True)):
        found = erased.keys() & set(record.terms.related_agents)
        if not found:
            continue
        statement = orjson.loads(record.text)
        for replacement in {orjson.dumps(erased[key]) for key in found}:
            keys = frozenset(key for key in found if orjson.dumps(erased[key]) == replacement)
            statement = with_agents_replaced(statement, keys, orjson.loads(replacement))
        sent = statement
        if not item.timestamped:  # as it was sent: without the timestamp the LRS gave it
            sent = {key: value for key, value in statement.items() if key != "timestamp"}
        records[at] = record._replace(
            text=orjson.dumps(statement).decode(), digest=digest(sent), terms=terms_of(statement)
        )
        if events[at] is not None:
            events[at] = event_of(statement, record.id, 0)
    return records, events


def _catch_up(
    storage: "Storage", stamped: Sequence[Record], erased: dict[str, dict[str, Any]]
) -> None:
    """Pseudonymize what this batch stored of identities erased while it was being stored."""
    late = storage.erasures.erased_identities(_agents_of(stamped))
    for key in late.keys() - erased.keys():
        storage.statements.erase_agents({key}, late[key])
        rebuild(storage.progress, storage.statements, learner=key)
        replacement = agent_key(late[key])
        if replacement is not None:
            rebuild(storage.progress, storage.statements, learner=replacement)


def _event_of_stored(statements: StatementStore, statement_id: str) -> Event | None:
    """The progress event of a stored statement (of a voided one, to take it back)."""
    record = statements.get(statement_id)
    return (
        None if record is None else event_of(orjson.loads(record.text), record.id, record.stored_us)
    )
