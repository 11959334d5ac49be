"""Progress in MongoDB: the ``progress`` collection.

No transactions: a key's version orders concurrent writers (the protocol of
``lrs.progress.base``). A key's first write inserts its document, and loses
to another first write by the unique index on (learner, content); later
writes are updates whose filter names the version they read.
"""

from collections.abc import Sequence
from typing import Any

import orjson
from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from lrs.mongo import DUPLICATE_KEY, collection, ensure_index, translate_errors
from lrs.progress.base import Key, ProgressStore, Write
from lrs.progress.derive import ContentSession, ContentSummary, session_from, summary_of
from lrs.progress.tries import TryRecords, try_records_from

# Keys read per query when a batch's records are loaded.
_LOADED_AT_ONCE = 500


def _loaded(document: dict[str, Any] | None) -> tuple[int, list[ContentSession], TryRecords]:
    """A key's version, sessions and try records from its document (``None``: never written)."""
    if document is None:
        return 0, [], TryRecords()
    sessions = [session_from(session) for session in orjson.loads(document["sessions"])]
    tries = document.get("tries")  # none in a document written before tries were kept
    records = try_records_from(None if tries is None else orjson.loads(tries))
    return int(document["version"]), sessions, records


def _fields(
    sessions: Sequence[ContentSession], tries: TryRecords, summary: ContentSummary | None
) -> dict[str, Any]:
    """A key's stored fields: its summary, sessions and try records as JSON text."""
    return {
        "course": None if summary is None else summary.course,
        "summary": None if summary is None else orjson.dumps(list(summary)).decode(),
        "sessions": orjson.dumps([list(session) for session in sessions]).decode(),
        "tries": orjson.dumps(tries.to_json()).decode() if tries.marks or tries.spans else None,
    }


class MongoProgressStore(ProgressStore):
    """Sessions, try records and summaries, one document per learner and content."""

    def __init__(self, database: Database[Any]) -> None:
        """Keep progress in ``database``, creating the indexes the queries use."""
        self._progress = collection(database, "progress")
        with translate_errors():
            ensure_index(
                self._progress,
                [("learner", ASCENDING), ("content", ASCENDING)],
                name="by_key",
                unique=True,
            )
            # By content or by course, in the order every read returns (learner,
            # content): an index walk, never an in-memory sort of a big course.
            ensure_index(
                self._progress,
                [("content", ASCENDING), ("learner", ASCENDING)],
                name="by_content_learner",
            )
            ensure_index(
                self._progress,
                [("course", ASCENDING), ("learner", ASCENDING), ("content", ASCENDING)],
                name="by_course_learner",
            )

    def summaries(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSummary]:
        """The content summaries that match every filter given, by learner then content."""
        return [
            ContentSummary(*orjson.loads(document["summary"]))
            for document in self._documents(learner, content, course)
        ]

    def sessions(
        self, *, learner: str | None = None, content: str | None = None, course: str | None = None
    ) -> list[ContentSession]:
        """The content sessions that match every filter given, by learner, content, then start."""
        return [
            session_from(session)
            for document in self._documents(learner, content, course)
            for session in orjson.loads(document["sessions"])
        ]

    def _tried(
        self, learner: str | None, content: str | None, course: str | None
    ) -> list[tuple[ContentSummary, list[ContentSession], TryRecords]]:
        return [
            (
                ContentSummary(*orjson.loads(document["summary"])),
                [session_from(session) for session in orjson.loads(document["sessions"])],
                try_records_from(orjson.loads(document["tries"])),
            )
            for document in self._documents(learner, content, course, tried=True)
        ]

    def _documents(
        self,
        learner: str | None,
        content: str | None,
        course: str | None,
        *,
        tried: bool = False,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"summary": {"$ne": None}}
        if tried:
            query["tries"] = {"$ne": None}
        for name, value in (("learner", learner), ("content", content), ("course", course)):
            if value is not None:
                query[name] = value
        with translate_errors():
            return list(
                self._progress.find(query, sort=[("learner", ASCENDING), ("content", ASCENDING)])
            )

    def _load(self, key: Key) -> tuple[int, list[ContentSession], TryRecords]:
        learner, content = key
        with translate_errors():
            document = self._progress.find_one({"learner": learner, "content": content})
        return _loaded(document)

    def _load_many(
        self, keys: Sequence[Key]
    ) -> dict[Key, tuple[int, list[ContentSession], TryRecords]]:
        # One query for a batch's keys (by_key serves each branch of the $or).
        found: dict[Key, dict[str, Any]] = {}
        with translate_errors():
            for start in range(0, len(keys), _LOADED_AT_ONCE):
                part = keys[start : start + _LOADED_AT_ONCE]
                query = {
                    "$or": [{"learner": learner, "content": content} for learner, content in part]
                }
                for document in self._progress.find(query):
                    found[(document["learner"], document["content"])] = document
        return {key: _loaded(found.get(key)) for key in keys}

    def _save(
        self,
        key: Key,
        version: int,
        sessions: Sequence[ContentSession],
        tries: TryRecords,
        summary: ContentSummary | None,
    ) -> bool:
        learner, content = key
        fields = _fields(sessions, tries, summary)
        with translate_errors():
            if summary is None:
                # No events left: nothing is kept of the key (not its learner either).
                if version == 0:
                    return self._progress.find_one({"learner": learner, "content": content}) is None
                deleted = self._progress.delete_one(
                    {"learner": learner, "content": content, "version": version}
                )
                return bool(deleted.deleted_count == 1)
            if version == 0:
                try:
                    self._progress.insert_one(
                        {"learner": learner, "content": content, "version": 1, **fields}
                    )
                except DuplicateKeyError:
                    return False  # another writer's first write came first
                return True
            updated = self._progress.update_one(
                {"learner": learner, "content": content, "version": version},
                {"$set": {**fields, "version": version + 1}},
            )
            return bool(updated.modified_count == 1)

    def _save_many(self, writes: Sequence[Write]) -> list[Key]:
        # One unordered bulk write of upserts, each filtered on the version
        # read (a new key: version 0, which no document has): one whose
        # version changed tries to insert, and the unique by_key index
        # refuses it (error 11000, with its place): that key lost its race.
        # Keys with nothing left to keep are removed one at a time (a voiding).
        kept = [write for write in writes if write.summary is not None]
        lost = [write.key for write in writes if write.summary is None and not self._save(*write)]
        if not kept:
            return lost
        operations = [
            UpdateOne(
                {"learner": write.key[0], "content": write.key[1], "version": write.version},
                {
                    "$set": {
                        **_fields(write.sessions, write.tries, write.summary),
                        "version": write.version + 1,
                    }
                },
                upsert=True,
            )
            for write in kept
        ]
        with translate_errors():
            try:
                self._progress.bulk_write(operations, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors") or []
                if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
                    raise
                lost += [kept[error["index"]].key for error in errors]
        return lost

    def _insert_new(self, records: Sequence[tuple[Key, list[ContentSession], TryRecords]]) -> None:
        # One unordered insert for a rebuild's batch of keys; a key that a
        # writer created meanwhile (a duplicate key) is written over by
        # compare-and-set, as ``_save`` would.
        documents = [
            {
                "learner": learner,
                "content": content,
                "version": 1,
                **_fields(sessions, tries, summary_of(sessions)),
            }
            for (learner, content), sessions, tries in records
        ]
        if not documents:
            return
        taken: list[tuple[Key, list[ContentSession], TryRecords]] = []
        with translate_errors():
            try:
                self._progress.insert_many(documents, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors") or []
                if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
                    raise
                taken = [records[error["index"]] for error in errors]
        for key, sessions, tries in taken:
            self._replace(key, sessions, tries)

    def _clear(self) -> None:
        with translate_errors():
            self._progress.delete_many({})
