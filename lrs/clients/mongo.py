"""Learner state in MongoDB: one document per (username, scope, block).

Document shape (collection ``user_state``)::

    {username, scope, block, course, block_type,
     fields: {<encoded field name>: <JSON text>}, time_us, updated, version}

Writes are compare-and-set on ``version``: a write reads the blocks it changes,
then updates only the fields it names (``$set``/``$unset`` on
``fields.<name>``) in documents whose version is still the one it read. A
write that lands therefore knows the exact state it left, and records that as
the block's history entry; a block that another writer changed in between is
read again and written again. Concurrent writers of different fields never
lose each other's fields, and each history entry is the state its own write
produced. ``time_us`` keeps the microseconds that the BSON date ``updated``
cannot.

A document whose ``fields`` is empty is a block that does not exist (every
read ignores it). Deleting a block leaves such a document rather than removing
it: its version must never start again from nothing, or a writer that read an
older version could take the new document for the one it read.

Shard key: ``{username: 1}`` (every read and write names one learner, except
the ``iter_all_*`` scans, which are batch jobs).
"""

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError

from lrs.clients.base import (
    BlockKey,
    KeyParser,
    Scope,
    StoredUserStateClient,
    UserState,
    block_location,
)
from lrs.clients.values import BlockChange, EncodedFields, decode_fields, join_fields, state_etag
from lrs.clock import default_clock, from_us
from lrs.conditions import UNCONDITIONAL, Conditions
from lrs.history.base import HistoryEntry, HistoryLog
from lrs.history.mongo import MongoHistoryLog
from lrs.mongo import (
    DUPLICATE_KEY,
    collection,
    decode_key,
    encode_key,
    ensure_index,
    translate_errors,
)
from lrs.retries import attempts
from lrs.urls import DEFAULT_DATABASE

COLLECTION = "user_state"

# A document with no fields is a block that does not exist (see above).
_HAS_FIELDS: dict[str, Any] = {"$ne": {}}


def _stored_fields(document: Mapping[str, Any]) -> EncodedFields:
    return {decode_key(key): text for key, text in document.get("fields", {}).items()}


def _compare_and_set(
    username: str,
    scope: Scope,
    key: BlockKey,
    change: BlockChange,
    document: Mapping[str, Any] | None,
    old: EncodedFields,
    time_us: int,
) -> UpdateOne:
    """The compare-and-set update of one block, from the document read (or ``None``)."""
    version = None if document is None else document.get("version")
    assignments: dict[str, Any] = {
        f"fields.{encode_key(name)}": text for name, text in change.overlay.items()
    }
    assignments.update(time_us=time_us, updated=from_us(time_us), version=(version or 0) + 1)
    update: dict[str, Any] = {"$set": assignments}
    removed = set(old) if change.remove is None else change.remove & old.keys()
    # A field set again is not also unset: one update may not name a path twice.
    removed -= change.overlay.keys()
    if removed:
        update["$unset"] = {f"fields.{encode_key(name)}": "" for name in removed}
    if document is None:
        course, block_type = block_location(key)
        update["$setOnInsert"] = {"course": course, "block_type": block_type}
    # ``version: None`` matches a block never written (and documents written
    # before versions existed); an upsert that matches nothing inserts, and
    # the unique identity index refuses it if the block exists after all.
    identity = {"username": username, "scope": scope.value, "block": str(key)}
    return UpdateOne({**identity, "version": version}, update, upsert=True)


class MongoUserStateClient(StoredUserStateClient):
    """A learner-state client over a pymongo (or mongomock) client.

    Failures are never half-writes of one block, but without multi-document
    transactions a call that fails after its state write (while recording
    history) raises ``ServiceUnavailable`` with the state written and that
    history entry missing.
    """

    def __init__(
        self,
        client: Any,
        database: str = DEFAULT_DATABASE,
        *,
        history: HistoryLog | None = None,
        key_parser: KeyParser = str,
        close_client: bool = False,
    ) -> None:
        """Open the store in ``client[database]`` and create its indexes.

        Args:
            client: a ``pymongo.MongoClient`` (tests pass
                ``mongomock.MongoClient(tz_aware=True)``).
            database: the database name.
            history: where changes are recorded (default: the
                ``state_history`` collection of the same database).
            key_parser: rebuilds key objects for ``iter_all_for_course``.
            close_client: ``close()`` also closes ``client``.

        Raises:
            ServiceUnavailable: the server cannot be reached.
        """
        db = client[database]
        super().__init__(history if history is not None else MongoHistoryLog(db), key_parser)
        self._client = client
        self._close_client = close_client
        self._collection: Collection[Any] = collection(db, COLLECTION)
        with translate_errors():
            ensure_index(
                self._collection,
                [("username", ASCENDING), ("scope", ASCENDING), ("block", ASCENDING)],
                name="state_identity",
                unique=True,
            )
            ensure_index(
                self._collection,
                [("scope", ASCENDING), ("block", ASCENDING), ("username", ASCENDING)],
                name="state_by_block",
            )
            ensure_index(
                self._collection,
                [
                    ("scope", ASCENDING),
                    ("course", ASCENDING),
                    ("block_type", ASCENDING),
                    ("block", ASCENDING),
                    ("username", ASCENDING),
                ],
                name="state_by_course",
            )

    def _get_many(
        self,
        username: str,
        scope: Scope,
        blocks: Mapping[str, BlockKey],
        fields: list[str] | None,
    ) -> Iterator[UserState]:
        projection: dict[str, int] = {"_id": 0, "block": 1, "time_us": 1}
        if fields is None:
            projection["fields"] = 1
        else:
            projection.update({f"fields.{encode_key(name)}": 1 for name in fields})
        with translate_errors():
            documents = {
                document["block"]: document
                for document in self._collection.find(
                    {
                        "username": username,
                        "scope": scope.value,
                        "block": {"$in": list(blocks)},
                        "fields": _HAS_FIELDS,
                    },
                    projection,
                )
            }
        return (
            UserState(
                username,
                key,
                decode_fields(_stored_fields(documents[block])),
                from_us(documents[block]["time_us"]),
                scope,
            )
            for block, key in blocks.items()
            if block in documents
        )

    def _apply(
        self,
        username: str,
        scope: Scope,
        changes: Mapping[str, tuple[BlockKey, BlockChange]],
        conditions: Conditions = UNCONDITIONAL,
    ) -> dict[str, HistoryEntry]:
        """Apply changes to blocks by compare-and-set, and record what each one left.

        Each block's document is read with its version; its conditions are
        checked against the state read; the bulk write updates it only if the
        version is still the one read (an upsert whose filter no longer matches
        collides with the unique identity index and fails on its own). So a
        write that lands knows exactly the state it left, which is its history
        entry, and a condition held for exactly the state it replaced; the
        blocks another writer changed in between are read and checked again.
        """
        written: dict[str, HistoryEntry] = {}
        pending = dict(changes)
        if not pending:
            return written
        check = None if conditions.unconditional else conditions.check
        for _ in attempts("the blocks"):
            found = self._versions(username, scope, list(pending))
            # After the read, and after every write it saw: times increase along
            # each block's history even across servers whose clocks differ.
            time_us = max(
                [default_clock.now_us(), *(d.get("time_us", 0) + 1 for d in found.values())]
            )
            blocks, operations, entries = [], [], []
            for block, (key, change) in pending.items():
                document = found.get(block)
                old = {} if document is None else _stored_fields(document)
                if check is not None:
                    check(state_etag(decode_fields(old)) if old else None)
                if not change.changes(old):
                    continue  # deleting what is not there changes nothing
                new = change.apply(old)
                blocks.append(block)
                operations.append(
                    _compare_and_set(username, scope, key, change, document, old, time_us)
                )
                state = join_fields(new) if new else None
                entries.append(HistoryEntry(username, scope, block, state, time_us))
            if not operations:
                break
            lost = self._bulk_write(operations)
            landed = [entry for n, entry in enumerate(entries) if n not in lost]
            with translate_errors():
                self.history.append(landed)
            written.update({entry.block: entry for entry in landed})
            pending = {blocks[n]: pending[blocks[n]] for n in sorted(lost)}
            if not pending:
                break
        return written

    def _versions(self, username: str, scope: Scope, blocks: list[str]) -> dict[str, Any]:
        """The stored documents of these blocks (fields, version, time), by block."""
        with translate_errors():
            return {
                document["block"]: document
                for document in self._collection.find(
                    {"username": username, "scope": scope.value, "block": {"$in": blocks}},
                    {"block": 1, "fields": 1, "version": 1, "time_us": 1},
                )
            }

    def _bulk_write(self, operations: list[UpdateOne]) -> set[int]:
        """Run the compare-and-set updates; return the positions of those that lost a race."""
        with translate_errors():
            try:
                self._collection.bulk_write(operations, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if exc.details.get("writeConcernErrors") or any(
                    error.get("code") != DUPLICATE_KEY for error in errors
                ):
                    raise
                return {error["index"] for error in errors}
        return set()

    def _count_user(self, username: str) -> int:
        with translate_errors():
            return int(self._collection.count_documents({"username": username}))

    def _forget_user(self, username: str) -> int:
        with translate_errors():
            return int(self._collection.delete_many({"username": username}).deleted_count)

    def _current(self, username: str, scope: Scope, block: str) -> tuple[str, datetime] | None:
        with translate_errors():
            document = self._collection.find_one(
                {"username": username, "scope": scope.value, "block": block, "fields": _HAS_FIELDS}
            )
        if document is None:
            return None
        return join_fields(_stored_fields(document)), from_us(document["time_us"])

    def _iter_all_for_block(
        self, block_key: BlockKey, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        query: dict[str, Any] = {
            "scope": scope.value,
            "block": str(block_key),
            "fields": _HAS_FIELDS,
        }
        return self._stream(
            query, [("username", ASCENDING)], batch_size, scope, lambda _: block_key
        )

    def _iter_all_for_course(
        self, course: str, block_type: str | None, scope: Scope, batch_size: int
    ) -> Iterator[UserState]:
        query: dict[str, Any] = {
            "scope": scope.value,
            "course": course,
            "fields": _HAS_FIELDS,
        }
        if block_type is not None:
            query["block_type"] = block_type
        order = [("block_type", ASCENDING), ("block", ASCENDING), ("username", ASCENDING)]
        return self._stream(query, order, batch_size, scope, self.key_parser)

    def _stream(
        self,
        query: dict[str, Any],
        order: list[tuple[str, int]],
        batch_size: int,
        scope: Scope,
        make_key: KeyParser,
    ) -> Iterator[UserState]:
        with translate_errors():
            cursor = self._collection.find(
                query,
                {"_id": 0, "username": 1, "block": 1, "fields": 1, "time_us": 1},
                sort=order,
                batch_size=batch_size,
            )
            for document in cursor:
                yield UserState(
                    document["username"],
                    make_key(document["block"]),
                    decode_fields(_stored_fields(document)),
                    from_us(document["time_us"]),
                    scope,
                )

    def close(self) -> None:
        """Close the driver client when this client opened it."""
        self.history.close()
        if self._close_client:
            self._client.close()
