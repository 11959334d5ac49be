"""Assignments in a SQLite file: ``assignments``, ``assignment_actions``, ``assignment_changes``.

A partial unique index on (learner, content) of the active rows keeps one
active assignment per learner and content, whoever writes at once.
"""

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from lrs.assignments.base import (
    OPEN,
    Action,
    Assignment,
    AssignmentStore,
    Change,
    Filters,
    action_from,
    assignment_from,
    change_from,
    duplicate,
    forgotten,
    forgotten_action,
    forgotten_change,
)
from lrs.clock import to_us
from lrs.sqlite import SqliteDatabase, translate_errors


def _row(assignment: Assignment) -> tuple[Any, ...]:
    return (
        assignment.learner,
        assignment.content,
        assignment.course_key,
        assignment.username,
        assignment.email,
        str(assignment.state),
        int(assignment.active),
        None if assignment.due is None else to_us(assignment.due),
        to_us(assignment.created),
        assignment.version,
        _text(assignment),
        assignment.id,
    )


def _text(record: Assignment | Action | Change) -> str:
    return orjson.dumps(record.as_json()).decode()


_NAMES = (
    "learner content course_key username email state active due_us created_us version record"
).split()
_COLUMNS = ", ".join([*_NAMES, "id"])
_INSERT = f"INSERT INTO assignments ({_COLUMNS}) VALUES ({', '.join('?' * (len(_NAMES) + 1))})"
# Every column of a row but its id, then the id.
_UPDATE = f"UPDATE assignments SET {', '.join(f'{name} = ?' for name in _NAMES)} WHERE id = ?"


class SqliteAssignmentStore(AssignmentStore):
    """Assignments, one row each, with their actions and changes."""

    def __init__(self, database: SqliteDatabase) -> None:
        """Keep assignments in ``database``."""
        self._database = database

    def _insert(self, assignment: Assignment, action: Action, change: Change) -> None:
        with self._database.transaction() as connection:
            try:
                connection.execute(_INSERT, _row(assignment))
            except sqlite3.IntegrityError:
                raise duplicate(assignment) from None
            self._log(connection, [action], [change])

    @staticmethod
    def _log(
        connection: sqlite3.Connection, actions: Sequence[Action], changes: Sequence[Change]
    ) -> None:
        connection.executemany(
            "INSERT INTO assignment_actions (assignment_id, record) VALUES (?, ?)",
            [(action.assignment_id, _text(action)) for action in actions],
        )
        connection.executemany(
            "INSERT INTO assignment_changes (assignment_id, record) VALUES (?, ?)",
            [(change.assignment_id, _text(change)) for change in changes],
        )

    def _get(self, assignment_id: str) -> Assignment | None:
        with translate_errors():
            row = (
                self._database.connection()
                .execute("SELECT record FROM assignments WHERE id = ?", (assignment_id,))
                .fetchone()
            )
        return None if row is None else assignment_from(orjson.loads(row[0]))

    def _list(self, filters: Filters) -> list[Assignment]:
        conditions: list[str] = []
        values: list[Any] = []
        for column, value in (
            ("course_key", filters.course_key),
            ("content", filters.content),
            ("username", filters.username),
            ("email", None if filters.email is None else filters.email.lower()),
        ):
            if value is not None:
                conditions.append(f"{column} = ?")
                values.append(value)
        for column, chosen in (("username", filters.usernames), ("state", filters.states)):
            if chosen is not None:
                conditions.append(f"{column} IN ({', '.join('?' for _ in chosen)})")
                values += sorted(chosen)
        if filters.due_before is not None:
            marks = ", ".join("?" for _ in OPEN)
            conditions.append(f"due_us < ? AND state IN ({marks})")
            values += [to_us(filters.due_before), *sorted(OPEN)]
        where = " AND ".join(conditions) or "1"
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    f"SELECT record FROM assignments WHERE {where} ORDER BY created_us, id", values
                )
                .fetchall()
            )
        return [assignment_from(orjson.loads(row[0])) for row in rows]

    def _replace(
        self, before: Assignment, after: Assignment, action: Action, change: Change
    ) -> bool:
        with self._database.transaction() as connection:
            try:
                cursor = connection.execute(
                    _UPDATE + " AND version = ?", (*_row(after), before.version)
                )
            except sqlite3.IntegrityError:
                raise duplicate(after) from None
            if cursor.rowcount != 1:
                return False
            self._log(connection, [action], [change])
            return True

    def _add_actions(self, actions: Sequence[Action]) -> None:
        with self._database.transaction() as connection:
            self._log(connection, actions, [])

    def _actions(self, assignment_id: str) -> list[Action]:
        return [action_from(value) for value in self._records("assignment_actions", assignment_id)]

    def _history(self, assignment_id: str) -> list[Change]:
        return [change_from(value) for value in self._records("assignment_changes", assignment_id)]

    def _records(self, table: str, assignment_id: str) -> list[dict[str, Any]]:
        with translate_errors():
            rows = (
                self._database.connection()
                .execute(
                    f"SELECT record FROM {table} WHERE assignment_id = ? ORDER BY seq",
                    (assignment_id,),
                )
                .fetchall()
            )
        return [orjson.loads(row[0]) for row in rows]

    def _forget(self, assignment_id: str, pseudonym: str, names: frozenset[str]) -> None:
        with self._database.transaction() as connection:
            row = connection.execute(
                "SELECT record FROM assignments WHERE id = ?", (assignment_id,)
            ).fetchone()
            after = forgotten(assignment_from(orjson.loads(row[0])), pseudonym)
            connection.execute(_UPDATE, _row(after))
            changes = connection.execute(
                "SELECT seq, record FROM assignment_changes WHERE assignment_id = ?",
                (assignment_id,),
            ).fetchall()
            connection.executemany(
                "UPDATE assignment_changes SET record = ? WHERE seq = ?",
                [
                    (_text(forgotten_change(change_from(orjson.loads(text)), after)), seq)
                    for seq, text in changes
                ],
            )
            actions = connection.execute(
                "SELECT seq, record FROM assignment_actions WHERE assignment_id = ?",
                (assignment_id,),
            ).fetchall()
            connection.executemany(
                "UPDATE assignment_actions SET record = ? WHERE seq = ?",
                [
                    (_text(forgotten_action(action_from(orjson.loads(text)), names)), seq)
                    for seq, text in actions
                ],
            )
