"""Users and enrollment records, with the history of every change (see ``base``)."""

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
from lrs.enrollments.mongo import MongoEnrollmentStore

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
