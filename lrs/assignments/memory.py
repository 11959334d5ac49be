"""Assignments in this process's memory."""

import copy
import threading
from collections.abc import Iterable, Sequence

from lrs.assignments.base import (
    Action,
    Assignment,
    AssignmentStore,
    Change,
    Filters,
    duplicate,
    forgotten,
    forgotten_action,
    forgotten_change,
    passes,
    sort_key,
)


class MemoryAssignmentStore(AssignmentStore):
    """Assignments in dicts, under one lock; one process only."""

    def __init__(self) -> None:
        """An empty store."""
        self._lock = threading.Lock()
        self._assignments: dict[str, Assignment] = {}
        # (learner, content) -> the id of its active assignment.
        self._active: dict[tuple[str, str], str] = {}
        self._logs: dict[str, list[Action]] = {}
        self._changes: dict[str, list[Change]] = {}
        # username -> the ids of their assignments: statements of a batch
        # find their learners' assignments without a walk over every one.
        self._by_username: dict[str, set[str]] = {}

    def _insert(self, assignment: Assignment, action: Action, change: Change) -> None:
        key = (assignment.learner, assignment.content)
        with self._lock:
            if key in self._active:
                raise duplicate(assignment, self._active[key])
            self._assignments[assignment.id] = assignment
            self._index(assignment)
            self._active[key] = assignment.id
            self._logs[assignment.id] = [action]
            self._changes[assignment.id] = [change]

    def _get(self, assignment_id: str) -> Assignment | None:
        return self._assignments.get(assignment_id)

    def _index(self, assignment: Assignment) -> None:
        if assignment.username is not None:
            self._by_username.setdefault(assignment.username, set()).add(assignment.id)

    def _list(self, filters: Filters) -> list[Assignment]:
        with self._lock:
            candidates: Iterable[Assignment] = self._assignments.values()
            names = filters.usernames
            if filters.username is not None:
                names = frozenset({filters.username})
            if names is not None:
                ids = set().union(*(self._by_username.get(name, ()) for name in names))
                candidates = [self._assignments[item] for item in ids]
            found = [item for item in candidates if passes(item, filters)]
        return sorted(found, key=sort_key)

    def _replace(
        self, before: Assignment, after: Assignment, action: Action, change: Change
    ) -> bool:
        with self._lock:
            if self._assignments[before.id].version != before.version:
                return False
            old, new = (before.learner, before.content), (after.learner, after.content)
            if after.active and new != old and new in self._active:
                raise duplicate(after, self._active[new])
            if before.active and self._active.get(old) == before.id:
                del self._active[old]
            if after.active:
                self._active[new] = after.id
            self._assignments[after.id] = after
            self._index(after)
            self._logs[after.id].append(action)
            self._changes[after.id].append(change)
            return True

    def _add_actions(self, actions: Sequence[Action]) -> None:
        with self._lock:
            for action in actions:
                self._logs[action.assignment_id].append(action)

    def _actions(self, assignment_id: str) -> list[Action]:
        with self._lock:
            return copy.deepcopy(self._logs.get(assignment_id, []))

    def _history(self, assignment_id: str) -> list[Change]:
        with self._lock:
            return copy.deepcopy(self._changes.get(assignment_id, []))

    def _forget(self, assignment_id: str, pseudonym: str, names: frozenset[str]) -> None:
        with self._lock:
            before = self._assignments[assignment_id]
            after = forgotten(before, pseudonym)
            old, new = (before.learner, before.content), (after.learner, after.content)
            if self._active.get(old) == before.id:
                del self._active[old]
                self._active[new] = after.id
            self._assignments[assignment_id] = after
            if before.username is not None and before.username != after.username:
                ids = self._by_username[before.username]
                ids.discard(assignment_id)
                if not ids:  # an erased learner's name is not kept as a key
                    del self._by_username[before.username]
            self._index(after)
            self._changes[assignment_id] = [
                forgotten_change(change, after) for change in self._changes[assignment_id]
            ]
            self._logs[assignment_id] = [
                forgotten_action(action, names) for action in self._logs[assignment_id]
            ]
