"""Users and enrollments in MongoDB: ``users``, ``enrollments`` and ``enrollment_changes``.

Times are kept as integer microseconds (BSON dates hold milliseconds). The
profile is kept as JSON text, since its keys are anyone's (dots, dollars).
A unique index on (username, course_key) keeps one enrollment per pair: an
insert that loses a race to it reads the winner's record instead. Changes are
written after the record they describe, without a transaction; a failure in
between leaves the change missing (as for learner-state history).
"""

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import orjson
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from lrs.clock import default_clock, from_us, to_us
from lrs.enrollments.base import (
    Change,
    CourseRole,
    Enrollment,
    EnrollmentStore,
    Outcome,
    User,
    apply_enroll,
    change_action,
    check_course_key,
    check_mode,
    check_role,
    check_user_fields,
    check_username,
    checked_changes,
    enrollment_change,
    new_enrollment,
    user_change,
)
from lrs.exceptions import Conflict, DoesNotExist
from lrs.mongo import attempts, collection, translate_errors


def _user_document(user: User) -> dict[str, Any]:
    assert user.created is not None and user.updated is not None
    return {
        "_id": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "language": user.language,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "profile": orjson.dumps(user.profile).decode(),
        "created_us": to_us(user.created),
        "updated_us": to_us(user.updated),
    }


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
            self._users.create_index(
                [("is_active", ASCENDING), ("is_staff", ASCENDING), ("_id", ASCENDING)],
                name="users_by_status",
            )
            self._enrollments.create_index(
                [("username", ASCENDING), ("course_key", ASCENDING)],
                unique=True,
                name="one_enrollment_per_user_and_course",
            )
            self._enrollments.create_index(
                [("course_key", ASCENDING), ("username", ASCENDING)], name="enrollments_by_course"
            )
            self._changes.create_index(
                [
                    ("kind", ASCENDING),
                    ("username", ASCENDING),
                    ("course_key", ASCENDING),
                    ("time_us", DESCENDING),
                ],
                name="changes_newest_first",
            )

    def _record(self, change: Change) -> None:
        with translate_errors():
            self._changes.insert_one(_change_document(change))

    def create_user(
        self, username: str, fields: Mapping[str, Any], *, actor: str, reason: str = ""
    ) -> User:
        """Create a user (see ``EnrollmentStore``)."""
        check_username(username)
        checked = check_user_fields(fields)
        now = from_us(default_clock.now_us())
        user = User(username, **checked, created=now, updated=now)
        with translate_errors():
            try:
                self._users.insert_one(_user_document(user))
            except DuplicateKeyError:
                raise Conflict(f"user {username!r} exists already") from None
        self._record(user_change(None, user, actor=actor, reason=reason))
        return user

    def get_user(self, username: str) -> User:
        """Return a user (see ``EnrollmentStore``)."""
        with translate_errors():
            found = self._users.find_one({"_id": username})
        if found is None:
            raise DoesNotExist(f"no user {username!r}")
        return _user(found)

    def update_user(
        self, username: str, fields: Mapping[str, Any], *, actor: str, reason: str = ""
    ) -> User:
        """Change some fields of a user (see ``EnrollmentStore``)."""
        checked = check_user_fields(fields)
        now = from_us(default_clock.now_us())
        values = {
            name: orjson.dumps(value).decode() if name == "profile" else value
            for name, value in checked.items()
        }
        with translate_errors():
            # The document before the change, for the record: one atomic step.
            previous = self._users.find_one_and_update(
                {"_id": username},
                {"$set": {**values, "updated_us": to_us(now)}},
                return_document=ReturnDocument.BEFORE,
            )
        if previous is None:
            raise DoesNotExist(f"no user {username!r}")
        before = _user(previous)
        after = replace(before, **checked, updated=now)
        self._record(user_change(before, after, actor=actor, reason=reason))
        return after

    def list_users(
        self, *, is_active: bool | None = None, is_staff: bool | None = None
    ) -> Iterator[User]:
        """Users by username, filtered (see ``EnrollmentStore``)."""
        query: dict[str, Any] = {}
        if is_active is not None:
            query["is_active"] = is_active
        if is_staff is not None:
            query["is_staff"] = is_staff
        with translate_errors():
            for document in self._users.find(query, sort=[("_id", ASCENDING)]):
                yield _user(document)

    def enroll(
        self,
        username: str,
        course_key: str,
        *,
        mode: str | None = None,
        role: CourseRole | None = None,
        actor: str,
        reason: str = "",
    ) -> tuple[Enrollment, Outcome]:
        """Enroll a user, idempotently (see ``EnrollmentStore``)."""
        check_course_key(course_key)
        mode = None if mode is None else check_mode(mode)
        role = None if role is None else check_role(role)
        user = self.get_user(username)
        name = {"username": username, "course_key": course_key}
        for _ in attempts(f"the enrollment of {username!r} in {course_key!r}"):
            with translate_errors():
                stored = self._enrollments.find_one(name)
            current = None if stored is None else _enrollment(stored)
            now = from_us(default_clock.now_us())
            new = new_enrollment(user, course_key, mode, role, now)
            enrollment, outcome = apply_enroll(current, new, mode, role)
            if outcome == Outcome.unchanged:
                return enrollment, outcome
            with translate_errors():
                if current is None:
                    try:
                        self._enrollments.insert_one(_enrollment_document(enrollment))
                    except DuplicateKeyError:
                        continue  # enrolled meanwhile: enroll again, idempotently
                else:
                    # Reactivate only what is still inactive: a racing
                    # reactivation leaves this one a no-op, then "unchanged".
                    values = _enrollment_document(enrollment)
                    del values["created_us"]
                    if not self._enrollments.update_one(
                        {**name, "is_active": False}, {"$set": values}
                    ).matched_count:
                        continue
            break
        self._record(
            enrollment_change(current, enrollment, outcome.value, actor=actor, reason=reason)
        )
        return enrollment, outcome

    def get_enrollment(self, username: str, course_key: str) -> Enrollment:
        """Return an enrollment (see ``EnrollmentStore``)."""
        with translate_errors():
            found = self._enrollments.find_one({"username": username, "course_key": course_key})
        if found is None:
            raise DoesNotExist(f"user {username!r} was never enrolled in {course_key!r}")
        return _enrollment(found)

    def update_enrollment(
        self,
        username: str,
        course_key: str,
        *,
        mode: str | None = None,
        role: CourseRole | None = None,
        is_active: bool | None = None,
        actor: str,
        reason: str = "",
    ) -> Enrollment:
        """Change an enrollment (see ``EnrollmentStore``)."""
        changes = checked_changes(mode, role, is_active)
        current = self.get_enrollment(username, course_key)
        if all(getattr(current, name) == value for name, value in changes.items()):
            return current
        now = from_us(default_clock.now_us())
        stored = {name: getattr(value, "value", value) for name, value in changes.items()}
        with translate_errors():
            previous = self._enrollments.find_one_and_update(
                {"username": username, "course_key": course_key},
                {"$set": {**stored, "updated_us": to_us(now)}},
                return_document=ReturnDocument.BEFORE,
            )
        before = _enrollment(previous)
        after = replace(before, **changes, updated=now)
        action = change_action(before, changes)
        self._record(enrollment_change(before, after, action, actor=actor, reason=reason))
        return after

    def list_enrollments(
        self,
        *,
        username: str | None = None,
        course_key: str | None = None,
        is_active: bool | None = None,
        role: CourseRole | None = None,
        mode: str | None = None,
    ) -> Iterator[Enrollment]:
        """Enrollments matching every filter given (see ``EnrollmentStore``)."""
        query: dict[str, Any] = {}
        for name, value in (
            ("username", username),
            ("course_key", course_key),
            ("is_active", is_active),
            ("role", None if role is None else role.value),
            ("mode", mode),
        ):
            if value is not None:
                query[name] = value
        with translate_errors():
            found = self._enrollments.find(
                query, sort=[("course_key", ASCENDING), ("username", ASCENDING)]
            )
            for document in found:
                yield _enrollment(document)

    def history(self, username: str, course_key: str | None = None) -> list[Change]:
        """The changes of a user or of one enrollment, newest first."""
        kind = "user" if course_key is None else "enrollment"
        query = {"kind": kind, "username": username, "course_key": course_key}
        with translate_errors():
            found = self._changes.find(query, sort=[("time_us", DESCENDING)])
            return [_change(document) for document in found]
