"""Users, enrollments and their changes in a SQLite file (see ``lrs.sqlite_schema``).

Each write and the record of its change commit in one ``BEGIN IMMEDIATE``
transaction; a compare-and-set of an enrollment reads and writes inside it,
so of simultaneous enrollments of one pair exactly one creates the record.
"""

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import orjson

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
from lrs.sqlite import SqliteDatabase, translate_errors

_USER_COLUMNS = (
    "username, email, full_name, language, is_staff, is_active, profile, created_us, updated_us"
)
_ENROLLMENT_COLUMNS = "username, course_key, mode, role, is_active, created_us, updated_us"
_CHANGE_COLUMNS = "kind, username, course_key, action, time_us, actor, reason, before, after"


def _us(moment: datetime | None) -> int:
    assert moment is not None
    return to_us(moment)


def _user(row: tuple[Any, ...]) -> User:
    username, email, full_name, language, is_staff, is_active, profile, created, updated = row
    return User(
        username,
        email,
        full_name,
        language,
        bool(is_staff),
        bool(is_active),
        orjson.loads(profile),
        from_us(created),
        from_us(updated),
    )


def _enrollment(row: tuple[Any, ...]) -> Enrollment:
    username, course_key, mode, role, is_active, created, updated = row
    return Enrollment(
        username,
        course_key,
        mode,
        CourseRole(role),
        bool(is_active),
        from_us(created),
        from_us(updated),
    )


def _enrollment_row(enrollment: Enrollment) -> tuple[Any, ...]:
    return (
        enrollment.username,
        enrollment.course_key,
        enrollment.mode,
        enrollment.role.value,
        int(enrollment.is_active),
        _us(enrollment.created),
        _us(enrollment.updated),
    )


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _user_row(user: User) -> tuple[Any, ...]:
    return (
        user.username,
        user.email,
        user.full_name,
        user.language,
        int(user.is_staff),
        int(user.is_active),
        orjson.dumps(user.profile).decode(),
        _us(user.created),
        _us(user.updated),
    )


def _change(row: tuple[Any, ...]) -> Change:
    kind, username, course_key, action, time_us, actor, reason, before, after = row
    return Change(
        kind,
        username,
        course_key,
        action,
        from_us(time_us),
        actor,
        reason,
        None if before is None else orjson.loads(before),
        orjson.loads(after),
    )


class SqliteEnrollmentStore(EnrollmentStore):
    """The ``users``, ``enrollments`` and ``enrollment_changes`` tables."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep users and enrollments in ``database``."""
        self._database = database

    def _insert_user(self, user: User, change: Change) -> None:
        with self._database.transaction() as connection:
            try:
                connection.execute(
                    f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _user_row(user),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"user {user.username!r} exists already") from None
            self._record_in(connection, change)

    def _find_user(self, username: str) -> User | None:
        with translate_errors():
            return self._get_user(self._database.connection(), username)

    @staticmethod
    def _get_user(connection: sqlite3.Connection, username: str) -> User | None:
        row = connection.execute(
            f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)
        ).fetchone()
        return None if row is None else _user(row)

    def _update_user(
        self,
        username: str,
        fields: Mapping[str, Any],
        now: datetime,
        change_from: Callable[[User], Change],
    ) -> User | None:
        values = stored_fields(fields)
        with self._database.transaction() as connection:
            before = self._get_user(connection, username)
            if before is None:
                return None
            assignments = ", ".join(f"{name} = ?" for name in values)
            connection.execute(
                f"UPDATE users SET {assignments}{', ' if values else ''}updated_us = ? "
                "WHERE username = ?",
                (*values.values(), to_us(now), username),
            )
            self._record_in(connection, change_from(before))
        return before

    def _usernames_by_email(self, lowered: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with translate_errors():
            connection = self._database.connection()
            for start in range(0, len(lowered), 500):
                part = lowered[start : start + 500]
                marks = ", ".join("?" * len(part))
                # lower(email): the expression of the index users_by_email.
                rows = connection.execute(
                    f"SELECT lower(email), username FROM users WHERE lower(email) IN ({marks})",
                    part,
                ).fetchall()
                for address, username in rows:
                    found[address] = min(found.get(address, username), username)
        return found

    def _list_users(self, is_active: bool | None, is_staff: bool | None) -> Iterator[User]:
        conditions, values = [], []
        for name, value in (("is_active", is_active), ("is_staff", is_staff)):
            if value is not None:
                conditions.append(f"{name} = ?")
                values.append(int(value))
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(f"SELECT {_USER_COLUMNS} FROM users {where} ORDER BY username", values)
                .fetchall()
            )
        return (_user(row) for row in rows)

    def _find_enrollment(self, username: str, course_key: str) -> Enrollment | None:
        with translate_errors():
            return self._get_enrollment(self._database.connection(), username, course_key)

    @staticmethod
    def _get_enrollment(
        connection: sqlite3.Connection, username: str, course_key: str
    ) -> Enrollment | None:
        row = connection.execute(
            f"SELECT {_ENROLLMENT_COLUMNS} FROM enrollments WHERE username = ? AND course_key = ?",
            (username, course_key),
        ).fetchone()
        return None if row is None else _enrollment(row)

    def _write_enrollment(
        self, expected: Enrollment | None, new: Enrollment, change: Change
    ) -> bool:
        with self._database.transaction() as connection:
            if self._get_enrollment(connection, new.username, new.course_key) != expected:
                return False
            connection.execute(
                f"INSERT OR REPLACE INTO enrollments ({_ENROLLMENT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                _enrollment_row(new),
            )
            self._record_in(connection, change)
        return True

    def _list_enrollments(self, filters: Mapping[str, Any]) -> Iterator[Enrollment]:
        conditions, values = [], []
        for name, value in filters.items():
            conditions.append(f"{name} = ?")
            if isinstance(value, bool):
                value = int(value)
            elif isinstance(value, CourseRole):
                value = value.value
            values.append(value)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    f"SELECT {_ENROLLMENT_COLUMNS} FROM enrollments {where} "
                    "ORDER BY course_key, username",
                    values,
                )
                .fetchall()
            )
        return (_enrollment(row) for row in rows)

    @staticmethod
    def _record_in(connection: sqlite3.Connection, change: Change) -> None:
        """Keep a change record, in the transaction of the write it records."""
        connection.execute(
            f"INSERT INTO enrollment_changes ({_CHANGE_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                change.kind,
                change.username,
                change.course_key,
                change.action,
                to_us(change.time),
                change.actor,
                change.reason,
                _json(change.before),
                _json(change.after),
            ),
        )

    def _retire(self, username: str, user: User) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "UPDATE enrollments SET username = ? WHERE username = ?", (user.username, username)
            )
            rows = connection.execute(
                f"SELECT rowid, {_CHANGE_COLUMNS} FROM enrollment_changes WHERE username = ?",
                (username,),
            ).fetchall()
            for rowid, *values in rows:
                change = scrubbed(_change(tuple(values)), user)
                connection.execute(
                    "UPDATE enrollment_changes SET username = ?, before = ?, after = ? "
                    "WHERE rowid = ?",
                    (change.username, _json(change.before), _json(change.after), rowid),
                )
            connection.execute("DELETE FROM users WHERE username = ?", (username,))
            connection.execute(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _user_row(user),
            )

    def _history(self, kind: str, username: str, course_key: str | None) -> list[Change]:
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    f"SELECT {_CHANGE_COLUMNS} FROM enrollment_changes WHERE kind = ? AND "
                    "username = ? AND course_key IS ? ORDER BY time_us DESC, rowid DESC",
                    (kind, username, course_key),
                )
                .fetchall()
            )
        return [_change(row) for row in rows]
