"""Assignments: content assigned to learners, with a lifecycle, an action log and history."""

from lrs.assignments.base import Action, Assignment, AssignmentStore, Change, Filters, State
from lrs.assignments.memory import MemoryAssignmentStore

__all__ = [
    "Action",
    "Assignment",
    "AssignmentStore",
    "Change",
    "Filters",
    "MemoryAssignmentStore",
    "State",
]
