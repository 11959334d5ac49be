"""Users and enrollments in MongoDB: ``users``, ``enrollments`` and ``enrollment_changes``.

Times are kept as integer microseconds (BSON dates hold milliseconds). The
profile is kept as JSON text, since its keys are anyone's (dots, dollars).
A unique index on (username, course_key) keeps one enrollment per pair: an
insert that loses a race to it reads the winner's record instead. Changes are
written after the record they describe, without a transaction; a failure in
between leaves the change missing (as for learner-state history).
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import orjson
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from lrs.clock import from_us, to_us
from lrs.enrollments.base import (
    Change,
    CourseRole,
    Enrollment,
    EnrollmentStore,
    User,
    scrubbed,
    stored_fields,
)
from lrs.exceptions import Conflict
from lrs.mongo import (
    DUPLICATE_KEY,
    building_indexes,
    collection,
    ensure_index,
    translate_errors,
)


def _user_document(user: User) -> dict[str, Any]:
    assert user.created is not None and user.updated is not None
    return {
        "_id": user.username,
        "email": user.email,
        # Found by address in any case, through users_by_email.
        "email_key": user.email.lower(),
        "full_name": user.full_name,
        "language": user.language,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "profile": orjson.dumps(user.profile).decode(),
        "created_us": to_us(user.created),
        "updated_us": to_us(user.updated),
    }


def _email_key(values: Mapping[str, Any]) -> dict[str, str]:
    """The ``email_key`` that goes with a change of ``email``, if the change has one."""
    return {"email_key": str(values["email"]).lower()} if "email" in values else {}


def _user(document: dict[str, Any]) -> User:
    return User(
        document["_id"],
        document["email"],
        document["full_name"],
        document["language"],
        document["is_staff"],
        document["is_active"],
        orjson.loads(document["profile"]),
        from_us(document["created_us"]),
        from_us(document["updated_us"]),
    )


def _enrollment_document(enrollment: Enrollment) -> dict[str, Any]:
    assert enrollment.created is not None and enrollment.updated is not None
    return {
        "username": enrollment.username,
        "course_key": enrollment.course_key,
        "mode": enrollment.mode,
        "role": enrollment.role.value,
        "is_active": enrollment.is_active,
        "created_us": to_us(enrollment.created),
        "updated_us": to_us(enrollment.updated),
    }


def _enrollment(document: dict[str, Any]) -> Enrollment:
    return Enrollment(
        document["username"],
        document["course_key"],
        document["mode"],
        CourseRole(document["role"]),
        document["is_active"],
        from_us(document["created_us"]),
        from_us(document["updated_us"]),
    )


def _change_document(change: Change) -> dict[str, Any]:
    return {
        "kind": change.kind,
        "username": change.username,
        "course_key": change.course_key,
        "action": change.action,
        "time_us": to_us(change.time),
        "actor": change.actor,
        "reason": change.reason,
        # JSON text: a user's profile may hold any keys.
        "before": None if change.before is None else orjson.dumps(change.before).decode(),
        "after": orjson.dumps(change.after).decode(),
    }


def _change(document: dict[str, Any]) -> Change:
    return Change(
        document["kind"],
        document["username"],
        document["course_key"],
        document["action"],
        from_us(document["time_us"]),
        document["actor"],
        document["reason"],
        None if document["before"] is None else orjson.loads(document["before"]),
        orjson.loads(document["after"]),
    )


class MongoEnrollmentStore(EnrollmentStore):
    """Users, enrollments and their changes in three collections of one database."""

    def __init__(self, database: Database[Any]) -> None:
        """Open the store in ``database`` and create its indexes."""
        self._users = collection(database, "users")
        self._enrollments = collection(database, "enrollments")
        self._changes = collection(database, "enrollment_changes")
        with translate_errors():
            ensure_index(
                self._users,
                [("is_active", ASCENDING), ("is_staff", ASCENDING), ("_id", ASCENDING)],
                name="users_by_status",
            )
            ensure_index(
                self._users, [("email_key", ASCENDING), ("_id", ASCENDING)], name="users_by_email"
            )
            if building_indexes():
                self._backfill_email_keys()
            ensure_index(
                self._enrollments,
                [("username", ASCENDING), ("course_key", ASCENDING)],
                unique=True,
                name="one_enrollment_per_user_and_course",
            )
            ensure_index(
                self._enrollments,
                [("course_key", ASCENDING), ("username", ASCENDING)],
                name="enrollments_by_course",
            )
            ensure_index(
                self._changes,
                [
                    ("kind", ASCENDING),
                    ("username", ASCENDING),
                    ("course_key", ASCENDING),
                    ("time_us", DESCENDING),
                ],
                name="changes_newest_first",
            )

    def _record(self, change: Change) -> None:
        # After the write it records, without a transaction: a failure in
        # between loses the record (docs/mongodb.md).
        with translate_errors():
            self._changes.insert_one(_change_document(change))

    def _insert_user(self, user: User, change: Change) -> None:
        with translate_errors():
            try:
                self._users.insert_one(_user_document(user))
            except DuplicateKeyError:
                raise Conflict(f"user {user.username!r} exists already") from None
        self._record(change)

    def _find_user(self, username: str) -> User | None:
        with translate_errors():
            found = self._users.find_one({"_id": username})
        return None if found is None else _user(found)

    def _update_user(
        self,
        username: str,
        fields: Mapping[str, Any],
        now: datetime,
        change_from: Callable[[User], Change],
    ) -> User | None:
        values = stored_fields(fields)
        with translate_errors():
            # The document before the change, for the record: one atomic step.
            previous = self._users.find_one_and_update(
                {"_id": username},
                {"$set": {**values, **_email_key(values), "updated_us": to_us(now)}},
                return_document=ReturnDocument.BEFORE,
            )
        if previous is None:
            return None
        before = _user(previous)
        self._record(change_from(before))
        return before

    def _backfill_email_keys(self) -> None:
        """Users written before ``email_key`` was kept get it (``lrs db ensure-indexes``)."""
        with translate_errors():
            found = list(self._users.find({"email_key": {"$exists": False}}, projection=["email"]))
            for document in found:
                self._users.update_one(
                    {"_id": document["_id"], "email_key": {"$exists": False}},
                    {"$set": {"email_key": str(document.get("email") or "").lower()}},
                )

    def _usernames_by_email(self, lowered: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with translate_errors():
            for document in self._users.find(
                {"email_key": {"$in": lowered}},
                projection=["email_key"],
                sort=[("email_key", ASCENDING), ("_id", ASCENDING)],
            ):
                found.setdefault(document["email_key"], document["_id"])
        return found

    def _list_users(self, is_active: bool | None, is_staff: bool | None) -> Iterator[User]:
        query: dict[str, Any] = {}
        if is_active is not None:
            query["is_active"] = is_active
        if is_staff is not None:
            query["is_staff"] = is_staff
        with translate_errors():
            for document in self._users.find(query, sort=[("_id", ASCENDING)]):
                yield _user(document)

    def _find_enrollment(self, username: str, course_key: str) -> Enrollment | None:
        with translate_errors():
            found = self._enrollments.find_one({"username": username, "course_key": course_key})
        return None if found is None else _enrollment(found)

    def _write_enrollment(
        self, expected: Enrollment | None, new: Enrollment, change: Change
    ) -> bool:
        document = _enrollment_document(new)
        with translate_errors():
            if expected is None:
                try:
                    self._enrollments.insert_one(document)
                except DuplicateKeyError:
                    return False  # enrolled meanwhile
            else:
                # Only the record as it was read: a racing writer's change wins.
                unchanged = _enrollment_document(expected)
                del document["created_us"]
                if not self._enrollments.update_one(unchanged, {"$set": document}).matched_count:
                    return False
        self._record(change)
        return True

    def _list_enrollments(self, filters: Mapping[str, Any]) -> Iterator[Enrollment]:
        query = {name: getattr(value, "value", value) for name, value in filters.items()}
        with translate_errors():
            found = self._enrollments.find(
                query, sort=[("course_key", ASCENDING), ("username", ASCENDING)]
            )
            for document in found:
                yield _enrollment(document)

    def _retire(self, username: str, user: User) -> None:
        # No transaction: every step can be repeated, and the user record
        # moves last, so that a rerun finds it and finishes the rest. A
        # username is the shard key of enrollments and their changes
        # (docs/mongodb.md), which no update may change: each record is
        # copied under the new name, then the old one deleted.
        with translate_errors():
            enrollments = list(self._enrollments.find({"username": username}))
            self._copied(
                self._enrollments,
                [
                    {**document, "_id": ObjectId(), "username": user.username}
                    for document in enrollments
                ],
            )
            self._enrollments.delete_many(
                {"_id": {"$in": [item["_id"] for item in enrollments]}, "username": username}
            )
            changes = list(self._changes.find({"username": username}))
            copies = []
            for document in changes:
                change = _change_document(scrubbed(_change(document), user))
                moved = {name: change[name] for name in ("username", "before", "after")}
                # An id derived from the old one: a rerun's copy is the same copy.
                copies.append({**document, **moved, "_id": f"{document['_id']}|retired"})
            self._copied(self._changes, copies)
            self._changes.delete_many(
                {"_id": {"$in": [item["_id"] for item in changes]}, "username": username}
            )
            try:
                self._users.insert_one(_user_document(user))
            except DuplicateKeyError:
                pass  # a retirement cut short after this step
            self._users.delete_one({"_id": username})

    @staticmethod
    def _copied(target: Any, copies: list[dict[str, Any]]) -> None:
        """Insert copies; those a rerun made already (a duplicate key) are there."""
        if not copies:
            return
        try:
            target.insert_many(copies, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if not errors or any(error.get("code") != DUPLICATE_KEY for error in errors):
                raise

    def _history(self, kind: str, username: str, course_key: str | None) -> list[Change]:
        query = {"kind": kind, "username": username, "course_key": course_key}
        with translate_errors():
            found = self._changes.find(query, sort=[("time_us", DESCENDING)])
            return [_change(document) for document in found]
