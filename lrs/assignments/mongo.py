"""Assignments in MongoDB: ``assignments``, ``assignment_actions``, ``assignment_changes``.

An active assignment carries ``active_key`` (its learner and content); a
unique index over the documents that have one keeps one active assignment
per learner and content, whoever writes at once. An assignment is written
first and its action and change after it (no transaction spans them): a
failure between leaves an assignment whose log lacks its last entry.
"""

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

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
from lrs.mongo import collection, ensure_index, translate_errors


def _document(assignment: Assignment) -> dict[str, Any]:
    document: dict[str, Any] = {
        "_id": assignment.id,
        "content": assignment.content,
        "course_key": assignment.course_key,
        "username": assignment.username,
        "email": assignment.email,
        "state": str(assignment.state),
        "due_us": None if assignment.due is None else to_us(assignment.due),
        "created_us": to_us(assignment.created),
        "version": assignment.version,
        "record": assignment.as_json(),
    }
    if assignment.active:
        document["active_key"] = f"{assignment.learner}\n{assignment.content}"
    return document


class MongoAssignmentStore(AssignmentStore):
    """Assignments, one document each, with their actions and changes."""

    def __init__(self, database: Database[Any]) -> None:
        """Keep assignments in ``database``."""
        self._assignments = collection(database, "assignments")
        self._actions_of = collection(database, "assignment_actions")
        self._changes = collection(database, "assignment_changes")
        with translate_errors():
            ensure_index(
                self._assignments,
                [("active_key", ASCENDING)],
                name="one_active",
                unique=True,
                partialFilterExpression={"active_key": {"$exists": True}},
            )
            for name, keys in (
                ("by_created", [("created_us", ASCENDING), ("_id", ASCENDING)]),
                ("by_course", [("course_key", ASCENDING), ("created_us", ASCENDING)]),
                ("by_username", [("username", ASCENDING)]),
                ("by_email", [("email", ASCENDING)]),
                ("by_due", [("due_us", ASCENDING)]),
            ):
                ensure_index(self._assignments, keys, name=name)
            for log in (self._actions_of, self._changes):
                ensure_index(
                    log,
                    [("assignment_id", ASCENDING), ("time_us", ASCENDING), ("_id", ASCENDING)],
                    name="by_assignment",
                )

    def _insert(self, assignment: Assignment, action: Action, change: Change) -> None:
        with translate_errors():
            try:
                self._assignments.insert_one(_document(assignment))
            except DuplicateKeyError:
                raise duplicate(assignment) from None
        self._log([action], [change])

    def _log(self, actions: Sequence[Action], changes: Sequence[Change]) -> None:
        with translate_errors():
            if actions:
                self._actions_of.insert_many(
                    [_entry(action.assignment_id, action.time, action) for action in actions]
                )
            if changes:
                self._changes.insert_many(
                    [_entry(change.assignment_id, change.time, change) for change in changes]
                )

    def _get(self, assignment_id: str) -> Assignment | None:
        with translate_errors():
            found = self._assignments.find_one({"_id": assignment_id})
        return None if found is None else assignment_from(found["record"])

    def _list(self, filters: Filters) -> list[Assignment]:
        query: dict[str, Any] = {}
        for field, value in (
            ("course_key", filters.course_key),
            ("content", filters.content),
            ("username", filters.username),
            ("email", None if filters.email is None else filters.email.lower()),
        ):
            if value is not None:
                query[field] = value
        if filters.usernames is not None:
            query["username"] = {"$in": sorted(filters.usernames)}
            if filters.username is not None:
                query["username"]["$eq"] = filters.username
        states = None if filters.states is None else set(filters.states)
        if filters.due_before is not None:
            query["due_us"] = {"$ne": None, "$lt": to_us(filters.due_before)}
            states = set(OPEN) if states is None else states & OPEN
        if states is not None:
            query["state"] = {"$in": sorted(states)}
        with translate_errors():
            found = self._assignments.find(
                query, sort=[("created_us", ASCENDING), ("_id", ASCENDING)]
            )
            return [assignment_from(document["record"]) for document in found]

    def _replace(
        self, before: Assignment, after: Assignment, action: Action, change: Change
    ) -> bool:
        document = _document(after)
        update: dict[str, Any] = {"$set": {k: v for k, v in document.items() if k != "_id"}}
        if "active_key" not in document:
            update["$unset"] = {"active_key": ""}
        with translate_errors():
            try:
                result = self._assignments.update_one(
                    {"_id": before.id, "version": before.version}, update
                )
            except DuplicateKeyError:
                raise duplicate(after) from None
        if result.matched_count != 1:
            return False
        self._log([action], [change])
        return True

    def _add_actions(self, actions: Sequence[Action]) -> None:
        self._log(actions, [])

    def _actions(self, assignment_id: str) -> list[Action]:
        return [action_from(value) for value in self._entries(self._actions_of, assignment_id)]

    def _history(self, assignment_id: str) -> list[Change]:
        return [change_from(value) for value in self._entries(self._changes, assignment_id)]

    @staticmethod
    def _entries(log: Any, assignment_id: str) -> list[dict[str, Any]]:
        with translate_errors():
            found = log.find(
                {"assignment_id": assignment_id},
                sort=[("time_us", ASCENDING), ("_id", ASCENDING)],
            )
            return [document["record"] for document in found]

    def _forget(self, assignment_id: str, pseudonym: str, names: frozenset[str]) -> None:
        before = self.get(assignment_id)
        after = forgotten(before, pseudonym)
        document = _document(after)
        with translate_errors():
            self._assignments.update_one(
                {"_id": assignment_id}, {"$set": {k: v for k, v in document.items() if k != "_id"}}
            )
            for entry in list(self._changes.find({"assignment_id": assignment_id})):
                record = forgotten_change(change_from(entry["record"]), after).as_json()
                self._changes.update_one({"_id": entry["_id"]}, {"$set": {"record": record}})
            for entry in list(self._actions_of.find({"assignment_id": assignment_id})):
                record = forgotten_action(action_from(entry["record"]), names).as_json()
                self._actions_of.update_one({"_id": entry["_id"]}, {"$set": {"record": record}})


def _entry(assignment_id: str, time: Any, record: Action | Change) -> dict[str, Any]:
    # ObjectIds break ties of one microsecond in insertion order (one process).
    return {"assignment_id": assignment_id, "time_us": to_us(time), "record": record.as_json()}
