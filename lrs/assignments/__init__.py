"""Assignments: content assigned to learners, with a lifecycle, an action log and history."""

import lrs.lazy
from lrs.assignments.base import Action, Assignment, AssignmentStore, Change, Filters, State
from lrs.assignments.memory import MemoryAssignmentStore

__all__ = [
    "Action",
    "Assignment",
    "AssignmentStore",
    "Change",
    "Filters",
    "MemoryAssignmentStore",
    "MongoAssignmentStore",
    "SqliteAssignmentStore",
    "State",
]


_BACKENDS = {
    "MongoAssignmentStore": "lrs.assignments.mongo",
    "SqliteAssignmentStore": "lrs.assignments.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
