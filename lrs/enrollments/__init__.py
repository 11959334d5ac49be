"""Users and enrollment records, with the history of every change (see ``base``)."""

import lrs.lazy
from lrs.enrollments.base import (
    MODES,
    Change,
    CourseRole,
    Enrollment,
    EnrollmentStore,
    Outcome,
    User,
)
from lrs.enrollments.memory import MemoryEnrollmentStore

__all__ = [
    "Change",
    "CourseRole",
    "Enrollment",
    "EnrollmentStore",
    "MODES",
    "MemoryEnrollmentStore",
    "MongoEnrollmentStore",
    "Outcome",
    "SqliteEnrollmentStore",
    "User",
]


_BACKENDS = {
    "MongoEnrollmentStore": "lrs.enrollments.mongo",
    "SqliteEnrollmentStore": "lrs.enrollments.sqlite",
}


def __getattr__(name: str) -> object:
    """The SQLite and MongoDB backends, imported on first use (the interface needs no driver)."""
    return lrs.lazy.lazy_attribute(__name__, name, _BACKENDS)
