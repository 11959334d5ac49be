"""Learner state in MongoDB: one document per (username, scope, block).

Document shape (collection ``user_state``)::

    {username, scope, block, course, block_type,
     fields: {<encoded field name>: <JSON text>}, time_us, updated}

Each write updates only the fields it names (``$set``/``$unset`` on
``fields.<name>``), so concurrent writers of different fields of one block
never lose each other's work. ``time_us`` keeps the microseconds that the BSON
date ``updated`` cannot. Every write stamps the blocks it changes with its own
unique ``time_us``; reading them back by that stamp tells which blocks this
write changed and what their full state is now, which becomes the history entry.

A document whose ``fields`` is empty is a block that does not exist: it can be
seen only for a moment, between the ``$unset`` of a block's last fields and
the delete that follows, and every read ignores it.

Shard key: ``{username: 1}`` (every read and write names one learner, except
the ``iter_all_*`` scans, which are batch jobs).
"""

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.collection import Collection

from lrs.clients.base import (
    BlockKey,
    KeyParser,
    Scope,
    StoredUserStateClient,
    UserState,
    block_location,
    check_batch_size,
    check_fields,
    check_username,
    distinct_keys,
)
from lrs.clients.values import EncodedFields, decode_fields, encode_fields, join_fields
from lrs.clock import default_clock, from_us
from lrs.history.base import HistoryEntry, HistoryLog
from lrs.history.mongo import MongoHistoryLog
from lrs.mongo import DEFAULT_DATABASE, collection, decode_key, encode_key, translate_errors

COLLECTION = "user_state"

# A document with no fields is a block that does not exist (see above).
_HAS_FIELDS: dict[str, Any] = {"$ne": {}}


def _stored_fields(document: Mapping[str, Any]) -> EncodedFields:
    return {decode_key(key): text for key, text in document.get("fields", {}).items()}


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
            self._collection.create_index(
                [("username", ASCENDING), ("scope", ASCENDING), ("block", ASCENDING)],
                name="state_identity",
                unique=True,
            )
            self._collection.create_index(
                [("scope", ASCENDING), ("block", ASCENDING), ("username", ASCENDING)],
                name="state_by_block",
            )
            self._collection.create_index(
                [
                    ("scope", ASCENDING),
                    ("course", ASCENDING),
                    ("block_type", ASCENDING),
                    ("block", ASCENDING),
                    ("username", ASCENDING),
                ],
                name="state_by_course",
            )

    def get_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> Iterator[UserState]:
        """Return the stored state of several blocks in one query (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        names = check_fields(fields)
        wanted = distinct_keys(block_keys)
        if not wanted:
            return iter(())
        projection: dict[str, int] = {"_id": 0, "block": 1, "time_us": 1}
        if names is None:
            projection["fields"] = 1
        else:
            projection.update({f"fields.{encode_key(name)}": 1 for name in names})
        with translate_errors():
            documents = {
                document["block"]: document
                for document in self._collection.find(
                    {
                        "username": username,
                        "scope": scope.value,
                        "block": {"$in": list(wanted)},
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
            for block, key in wanted.items()
            if block in documents
        )

    def set_many(
        self,
        username: str,
        block_keys_to_state: Mapping[BlockKey, Mapping[str, Any]],
        scope: object = Scope.user_state,
    ) -> None:
        """Overlay new fields on several blocks in one bulk write (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        changes = []
        for key, state in block_keys_to_state.items():
            block = str(key)
            encoded = encode_fields(block, state)
            if encoded:
                changes.append((key, block, encoded))
        if not changes:
            return
        time_us = default_clock.now_us()
        stamp = {"time_us": time_us, "updated": from_us(time_us)}
        operations = []
        for key, block, encoded in changes:
            course, block_type = block_location(key)
            operations.append(
                UpdateOne(
                    {"username": username, "scope": scope.value, "block": block},
                    {
                        "$set": {
                            **{
                                f"fields.{encode_key(name)}": text for name, text in encoded.items()
                            },
                            **stamp,
                        },
                        "$setOnInsert": {"course": course, "block_type": block_type},
                    },
                    upsert=True,
                )
            )
        with translate_errors():
            self._collection.bulk_write(operations, ordered=False)
            self._record(username, scope, [block for _, block, _ in changes], time_us)

    def delete_many(
        self,
        username: str,
        block_keys: Iterable[BlockKey],
        scope: object = Scope.user_state,
        fields: Iterable[str] | None = None,
    ) -> None:
        """Delete fields, or whole blocks (see ``UserStateClient``)."""
        check_username(username)
        scope = Scope.coerce(scope)
        names = check_fields(fields)
        blocks = list(distinct_keys(block_keys))
        if not blocks or names == []:
            return
        identity = {"username": username, "scope": scope.value, "block": {"$in": blocks}}
        time_us = default_clock.now_us()
        with translate_errors():
            if names is None:
                self._delete_blocks(identity, time_us)
                return
            keys = [f"fields.{encode_key(name)}" for name in names]
            # Only blocks holding one of the fields change (and get history).
            self._collection.update_many(
                {**identity, "$or": [{key: {"$exists": True}} for key in keys]},
                {
                    "$unset": dict.fromkeys(keys, ""),
                    "$set": {"time_us": time_us, "updated": from_us(time_us)},
                },
            )
            self._record(username, scope, blocks, time_us)

    def _delete_blocks(self, identity: dict[str, Any], time_us: int) -> None:
        documents = list(self._collection.find(identity, {"block": 1, "fields": 1}))
        if not documents:
            return
        # Delete by _id: a block recreated meanwhile is a new document and stays.
        self._collection.delete_many({"_id": {"$in": [document["_id"] for document in documents]}})
        self.history.append(
            [
                HistoryEntry(
                    identity["username"], identity["scope"], document["block"], None, time_us
                )
                for document in documents
                if document.get("fields")
            ]
        )

    def _record(self, username: str, scope: Scope, blocks: list[str], time_us: int) -> None:
        """Read back the blocks this write stamped, and record their history."""
        entries = []
        emptied = []
        for document in self._collection.find(
            {
                "username": username,
                "scope": scope.value,
                "block": {"$in": blocks},
                "time_us": time_us,
            },
            {"block": 1, "fields": 1},
        ):
            fields = _stored_fields(document)
            if not fields:
                emptied.append(document["_id"])
            state = join_fields(fields) if fields else None
            entries.append(HistoryEntry(username, scope, document["block"], state, time_us))
        if emptied:
            # The condition keeps a block that a concurrent set refilled.
            self._collection.delete_many({"_id": {"$in": emptied}, "fields": {}})
        self.history.append(entries)

    def _current(self, username: str, scope: Scope, block: str) -> tuple[str, datetime] | None:
        with translate_errors():
            document = self._collection.find_one(
                {"username": username, "scope": scope.value, "block": block, "fields": _HAS_FIELDS}
            )
        if document is None:
            return None
        return join_fields(_stored_fields(document)), from_us(document["time_us"])

    def iter_all_for_block(
        self,
        block_key: BlockKey,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield every learner's state in one block (see ``UserStateClient``)."""
        scope = Scope.coerce(scope)
        size = check_batch_size(batch_size)
        query: dict[str, Any] = {
            "scope": scope.value,
            "block": str(block_key),
            "fields": _HAS_FIELDS,
        }
        return self._stream(query, [("username", ASCENDING)], size, scope, lambda _: block_key)

    def iter_all_for_course(
        self,
        course_key: object,
        block_type: str | None = None,
        scope: object = Scope.user_state,
        batch_size: int | None = None,
    ) -> Iterator[UserState]:
        """Yield every state in a course (see ``UserStateClient``)."""
        scope = Scope.coerce(scope)
        size = check_batch_size(batch_size)
        query: dict[str, Any] = {
            "scope": scope.value,
            "course": str(course_key),
            "fields": _HAS_FIELDS,
        }
        if block_type is not None:
            query["block_type"] = block_type
        order = [("block_type", ASCENDING), ("block", ASCENDING), ("username", ASCENDING)]
        return self._stream(query, order, size, scope, self.key_parser)

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
