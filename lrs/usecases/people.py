"""Users and enrollments as every door makes them: the API, the CLI and the dashboard.

A new user may have assignments waiting under their e-mail address, and a
new (or renewed) enrollment may make a course's assignments theirs: both
are told to the assignments (``Assignments.link_user``, ``on_enrolled``)
in the same step, whichever door the change came through.
"""

from collections.abc import Mapping
from typing import Any

from lrs.enrollments.base import CourseRole, Enrollment, Outcome, User, check_role
from lrs.usecases.assignments import Assignments
from lrs.usecases.storage import Storage


def create_user(
    storage: Storage,
    assignments: Assignments,
    username: str,
    fields: Mapping[str, Any],
    *,
    actor: str,
    reason: str = "",
) -> User:
    """Create a user, and give them the assignments waiting under their e-mail address.

    Raises:
        InvalidInput: a field or the username is invalid; nothing is created.
        Conflict: the username is taken.
    """
    user = storage.enrollments.create_user(username, fields, actor=actor, reason=reason)
    assignments.link_user(user.username, user.email, actor=actor)
    return user


def enroll(
    storage: Storage,
    assignments: Assignments,
    username: str,
    course_key: str,
    *,
    mode: str | None = None,
    role: CourseRole | str | None = None,
    actor: str,
    reason: str = "",
) -> tuple[Enrollment, Outcome]:
    """Enroll a user (idempotently), and apply the course's assignments to them.

    Raises:
        InvalidInput: a bad course key, mode or role; nothing is changed.
        DoesNotExist: no such user.
    """
    enrollment, outcome = storage.enrollments.enroll(
        username,
        course_key,
        mode=mode,
        role=None if role is None or role == "" else check_role(role),
        actor=actor,
        reason=reason,
    )
    assignments.on_enrolled(enrollment.username, enrollment.course_key)
    return enrollment, outcome
