"""Importing statements: into this LRS's stores, or to another LRS over xAPI.

Every statement is checked as ``POST /xAPI/statements`` checks it (``prepare``:
the rules of its own ``version``, 1.0.x or 2.0.x), then stored in batches
through the same path (``store_batch``): each batch all or nothing, with its
activity definitions and progress.

An import is idempotent, so that running it again after an interruption
finishes the job: a statement whose id is stored with the same content is
skipped and counted; one stored with other content is a conflict, reported
with where it was, and the rest go on. A statement that comes without an id
gets one made from its content (a name-based UUID of its digest), so that it
too is stored once however often the file is imported.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple, Protocol

from lrs.clock import default_clock, to_us
from lrs.exceptions import Conflict, InvalidInput
from lrs.imports.sources import Item
from lrs.progress import Event
from lrs.usecases.ingest import store_batch
from lrs.usecases.storage import Storage
from lrs.xapi import syntax
from lrs.xapi.attachments import check_statement_attachments
from lrs.xapi.digests import digest
from lrs.xapi.prepare import Prepared, prepare
from lrs.xapi.validation import Version

#: Statements stored at a time (one transaction each, as one POST of that many).
BATCH = 500
#: The longest statement taken by default: POST's body limit (``LRS_MAX_BODY_BYTES``).
MAX_STATEMENT_BYTES = 1_000_000
# The namespace of the ids made for statements that come without one.
_ID_NAMESPACE = uuid.UUID("5f0c3c1e-3b5e-4f7e-9a43-6c1d2f6f2a10")


#: What became of a statement read: each line of an import's report says one.
STORED, SKIPPED, CONFLICT, INVALID = "stored", "skipped", "conflict", "invalid"


@dataclass
class ImportSummary:
    """What an import did (or, in a dry run, would do), statement by statement.

    ``on_outcome`` is called with each statement's outcome as it is known:
    where it was, its id (``""`` when unknown), ``stored``, ``skipped``
    (stored already, the same), ``conflict`` (stored with other content) or
    ``invalid``, and the reason of the last two.
    """

    read: int = 0
    stored: int = 0
    skipped: int = 0
    #: (where, statement id) of each statement stored already with other content.
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    #: (where, reason) of each statement that could not be read or is not valid.
    invalid: list[tuple[str, str]] = field(default_factory=list)
    on_outcome: Callable[[str, str, str, str], None] | None = None

    @property
    def failed(self) -> bool:
        """Whether any statement was a conflict or invalid."""
        return bool(self.conflicts or self.invalid)

    def note(self, where: str, statement_id: str, outcome: str, reason: str = "") -> None:
        """Count one statement's outcome (and report it)."""
        if outcome == STORED:
            self.stored += 1
        elif outcome == SKIPPED:
            self.skipped += 1
        elif outcome == CONFLICT:
            self.conflicts.append((where, statement_id))
            reason = reason or "stored already with other content"
        else:
            self.invalid.append((where, reason))
        if self.on_outcome is not None:
            self.on_outcome(where, statement_id, outcome, reason)


class Checked(NamedTuple):
    """A valid statement, ready to store."""

    where: str
    statement: dict[str, Any]
    prepared: Prepared
    #: Its stored time, kept from the source (``preserve_stored``), or ``None``.
    stored_us: int | None


class Target(Protocol):
    """Where checked statements go: this LRS's stores, or another LRS."""

    def send(self, batch: list[Checked], summary: ImportSummary, dry_run: bool) -> None:
        """Store a batch (or, in a dry run, find what would be), counting into ``summary``."""


def version_of(statement: Any) -> Version:
    """The xAPI version a statement is checked against: the one it names, else 1.0.3."""
    named = statement.get("version") if isinstance(statement, dict) else None
    return Version.V2_0_0 if isinstance(named, str) and named.startswith("2.") else Version.V1_0_3


def check(
    item: Item,
    authority: dict[str, Any],
    *,
    preserve_stored: bool = False,
    max_bytes: int = MAX_STATEMENT_BYTES,
) -> Checked | tuple[str, str]:
    """A read item as a statement ready to store, or (where, reason) when it is not valid.

    The rules are POST's: the statement's own version's, and its size (a
    statement longer than ``max_bytes``, ``LRS_MAX_BODY_BYTES``, would be
    refused in any request).
    """
    if item.error:
        return item.where, item.error
    statement = item.statement
    if not isinstance(statement, dict):
        return item.where, "a statement must be a JSON object"
    try:
        if "id" not in statement:
            made = uuid.uuid5(_ID_NAMESPACE, digest(statement))
            statement = {**statement, "id": str(made)}
        stored_us = None
        if preserve_stored:
            stored_us = _stored_us(statement)
            authority = statement.get("authority", authority)
        prepared = prepare(statement, version=version_of(statement), authority=authority)
        # A file holds no attachment data: only attachments with a fileUrl come along.
        check_statement_attachments([statement], {}, ["statement"])
    except InvalidInput as exc:
        return item.where, str(exc)
    except (TypeError, AttributeError) as exc:  # digest of a malformed statement
        return item.where, f"not a statement: {exc}"
    size = len(prepared.rest)  # characters: bytes only when they may count more
    if size > max_bytes or (size * 4 > max_bytes and len(prepared.rest.encode()) > max_bytes):
        return item.where, (
            f"the statement is larger than {max_bytes:,} bytes (LRS_MAX_BODY_BYTES), "
            "which POST /xAPI/statements refuses"
        )
    return Checked(item.where, statement, prepared, stored_us)


def _stored_us(statement: dict[str, Any]) -> int | None:
    stored = statement.get("stored")
    if stored is None:
        return None
    if not isinstance(stored, str) or not syntax.is_timestamp(stored, offset_required=True):
        raise InvalidInput("stored must be an ISO 8601 timestamp with an offset to be kept")
    return to_us(syntax.parse_timestamp(stored))


def import_statements(
    items: Iterable[Item],
    target: Target,
    authority: dict[str, Any],
    *,
    dry_run: bool = False,
    preserve_stored: bool = False,
    batch_size: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
    max_bytes: int = MAX_STATEMENT_BYTES,
    summary: ImportSummary | None = None,
) -> ImportSummary:
    """Check and store every statement of ``items``; say what became of each.

    Args:
        items: the statements read (``read_statements``, ``RemoteLRS.pages``).
        target: where they go (``LocalTarget``, ``RemoteTarget``).
        authority: the authority of statements stored here (the source's is
            kept with ``preserve_stored``).
        dry_run: check everything, find what is stored already, write nothing.
        preserve_stored: keep each statement's ``stored`` and ``authority``.
        batch_size: statements stored at a time.
        on_batch: called with the number of statements of each batch done.
        max_bytes: the longest statement taken (POST's body limit).
        summary: where outcomes are counted (with its ``on_outcome``).
    """
    summary = summary if summary is not None else ImportSummary()
    for chunk in _chunks(items, batch_size):
        summary.read += len(chunk)
        # Each id once a round: a later copy goes in a later round, so that it
        # is compared with what the first left stored (skipped when the same).
        rounds: list[list[Checked]] = [[]]
        seen: dict[str, tuple[int, str]] = {}  # id: (copies so far, first digest)
        for item in chunk:
            found = check(item, authority, preserve_stored=preserve_stored, max_bytes=max_bytes)
            if not isinstance(found, Checked):
                summary.note(found[0], _id_of(item), INVALID, found[1])
                continue
            copies, first = seen.get(found.prepared.id, (0, found.prepared.digest))
            if copies and first == found.prepared.digest:
                summary.note(found.where, found.prepared.id, SKIPPED)  # the file repeats itself
                continue
            seen[found.prepared.id] = (copies + 1, first)
            if copies == len(rounds):
                rounds.append([])
            rounds[copies].append(found)
        for batch in rounds:
            if batch:
                target.send(batch, summary, dry_run)
        if on_batch is not None:
            on_batch(len(chunk))
    return summary


def _id_of(item: Item) -> str:
    """The id a statement read says it has, for a report ("" when none)."""
    found = item.statement.get("id") if isinstance(item.statement, dict) else None
    return found if isinstance(found, str) and syntax.is_uuid(found) else ""


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class LocalTarget:
    """This LRS's stores."""

    def __init__(
        self, storage: Storage, on_stored: Callable[[list[Event]], None] | None = None
    ) -> None:
        """Store into ``storage``; ``on_stored`` follows each batch (see ``store_batch``)."""
        self.storage = storage
        self.on_stored = on_stored
        # A dry run's statements that would be stored: a later copy meets them.
        self._would_store: dict[str, str] = {}

    def send(self, batch: list[Checked], summary: ImportSummary, dry_run: bool) -> None:
        """Store the statements not stored yet; count the rest as skipped or conflicts."""
        fresh = []
        for checked in batch:
            stored = self.storage.statements.get(checked.prepared.id)
            held = self._would_store.get(checked.prepared.id) if stored is None else stored.digest
            if held is None:
                fresh.append(checked)
            elif held == checked.prepared.digest:
                summary.note(checked.where, checked.prepared.id, SKIPPED)
            else:
                summary.note(checked.where, checked.prepared.id, CONFLICT)
        if dry_run:
            for checked in fresh:
                self._would_store[checked.prepared.id] = checked.prepared.digest
                summary.note(checked.where, checked.prepared.id, STORED)
            return
        try:
            self._store(fresh, summary)
        except (Conflict, InvalidInput):
            # Stored by someone else since the look-up, or a voiding statement
            # that may not void its target: one by one, to say which.
            for checked in fresh:
                try:
                    self._store([checked], summary)
                except Conflict:
                    summary.note(checked.where, checked.prepared.id, CONFLICT)
                except InvalidInput as exc:
                    summary.note(checked.where, checked.prepared.id, INVALID, str(exc))

    def _store(self, batch: list[Checked], summary: ImportSummary) -> None:
        if not batch:
            return
        kept: list[int | None] = [checked.stored_us for checked in batch]
        stored_us = None
        if any(us is not None for us in kept):
            # Kept from the source; a statement that came without is stored now.
            now_us = default_clock.now_us(len(batch))
            stored_us = [now_us + index if us is None else us for index, us in enumerate(kept)]
        new = store_batch(
            self.storage,
            [checked.prepared for checked in batch],
            [checked.statement for checked in batch],
            [checked.where for checked in batch],
            stored_us=stored_us,
            on_stored=self.on_stored,
        )
        for checked in batch:
            outcome = STORED if checked.prepared.id in new else SKIPPED
            summary.note(checked.where, checked.prepared.id, outcome)
