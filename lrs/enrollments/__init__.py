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
    "MODES",
    "Change",
    "CourseRole",
    "Enrollment",
    "EnrollmentStore",
    "MemoryEnrollmentStore",
    "MongoEnrollmentStore",
    "Outcome",
    "User",
]


def __getattr__(name: str) -> object:
    """The MongoDB backend, imported on first use: the interface does not need the driver."""
    return lrs.lazy.lazy_attribute(
        __name__, name, {"MongoEnrollmentStore": "lrs.enrollments.mongo"}
    )
