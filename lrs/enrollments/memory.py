"""Users and enrollments in this process's memory, under one lock."""

import copy
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from lrs.clock import default_clock, from_us
from lrs.enrollments.base import (
    Change,
    CourseRole,
    Enrollment,
    EnrollmentStore,
    Outcome,
    User,
    apply_enroll,
    change_action,
    check_course_key,
    check_mode,
    check_role,
    check_user_fields,
    check_username,
    checked_changes,
    enrollment_change,
    new_enrollment,
    user_change,
)
from lrs.exceptions import Conflict, DoesNotExist


class MemoryEnrollmentStore(EnrollmentStore):
    """Users, enrollments and changes in dicts and a list; thread-safe, one process only."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._enrollments: dict[tuple[str, str], Enrollment] = {}
        self._changes: list[Change] = []

    @staticmethod
    def _copy(user: User) -> User:
        # The profile is a mutable dict: callers get their own.
        return replace(user, profile=copy.deepcopy(user.profile))

    def _user(self, username: str) -> User:
        found = self._users.get(username)
        if found is None:
            raise DoesNotExist(f"no user {username!r}")
        return found

    def create_user(
        self, username: str, fields: Mapping[str, Any], *, actor: str, reason: str = ""
    ) -> User:
        """Create a user (see ``EnrollmentStore``)."""
        check_username(username)
        checked = copy.deepcopy(check_user_fields(fields))
        with self._lock:
            if username in self._users:
                raise Conflict(f"user {username!r} exists already")
            now = from_us(default_clock.now_us())
            user = User(username, **checked, created=now, updated=now)
            self._users[username] = user
            self._changes.append(user_change(None, user, actor=actor, reason=reason))
            return self._copy(user)

    def get_user(self, username: str) -> User:
        """Return a user (see ``EnrollmentStore``)."""
        return self._copy(self._user(username))

    def update_user(
        self, username: str, fields: Mapping[str, Any], *, actor: str, reason: str = ""
    ) -> User:
        """Change some fields of a user (see ``EnrollmentStore``)."""
        checked = copy.deepcopy(check_user_fields(fields))
        with self._lock:
            before = self._user(username)
            now = from_us(default_clock.now_us())
            after = replace(before, **checked, updated=now)
            self._users[username] = after
            self._changes.append(user_change(before, after, actor=actor, reason=reason))
            return self._copy(after)

    def list_users(
        self, *, is_active: bool | None = None, is_staff: bool | None = None
    ) -> Iterator[User]:
        """Users by username, filtered (see ``EnrollmentStore``)."""
        with self._lock:
            users = sorted(self._users.values(), key=lambda user: user.username)
        for user in users:
            if is_active is not None and user.is_active != is_active:
                continue
            if is_staff is not None and user.is_staff != is_staff:
                continue
            yield self._copy(user)

    def enroll(
        self,
        username: str,
        course_key: str,
        *,
        mode: str | None = None,
        role: CourseRole | None = None,
        actor: str,
        reason: str = "",
    ) -> tuple[Enrollment, Outcome]:
        """Enroll a user, idempotently (see ``EnrollmentStore``)."""
        check_course_key(course_key)
        mode = None if mode is None else check_mode(mode)
        role = None if role is None else check_role(role)
        with self._lock:
            user = self._user(username)
            current = self._enrollments.get((username, course_key))
            now = from_us(default_clock.now_us())
            new = new_enrollment(user, course_key, mode, role, now)
            enrollment, outcome = apply_enroll(current, new, mode, role)
            if outcome != Outcome.unchanged:
                self._enrollments[(username, course_key)] = enrollment
                self._changes.append(
                    enrollment_change(
                        current, enrollment, outcome.value, actor=actor, reason=reason
                    )
                )
            return enrollment, outcome

    def get_enrollment(self, username: str, course_key: str) -> Enrollment:
        """Return an enrollment (see ``EnrollmentStore``)."""
        found = self._enrollments.get((username, course_key))
        if found is None:
            raise DoesNotExist(f"user {username!r} was never enrolled in {course_key!r}")
        return found

    def update_enrollment(
        self,
        username: str,
        course_key: str,
        *,
        mode: str | None = None,
        role: CourseRole | None = None,
        is_active: bool | None = None,
        actor: str,
        reason: str = "",
    ) -> Enrollment:
        """Change an enrollment (see ``EnrollmentStore``)."""
        changes = checked_changes(mode, role, is_active)
        with self._lock:
            before = self.get_enrollment(username, course_key)
            if all(getattr(before, name) == value for name, value in changes.items()):
                return before
            after = replace(before, **changes, updated=from_us(default_clock.now_us()))
            self._enrollments[(username, course_key)] = after
            action = change_action(before, changes)
            self._changes.append(
                enrollment_change(before, after, action, actor=actor, reason=reason)
            )
            return after

    def list_enrollments(
        self,
        *,
        username: str | None = None,
        course_key: str | None = None,
        is_active: bool | None = None,
        role: CourseRole | None = None,
        mode: str | None = None,
    ) -> Iterator[Enrollment]:
        """Enrollments matching every filter given (see ``EnrollmentStore``)."""
        with self._lock:
            found = sorted(
                self._enrollments.values(), key=lambda item: (item.course_key, item.username)
            )
        for enrollment in found:
            if username is not None and enrollment.username != username:
                continue
            if course_key is not None and enrollment.course_key != course_key:
                continue
            if is_active is not None and enrollment.is_active != is_active:
                continue
            if role is not None and enrollment.role != role:
                continue
            if mode is not None and enrollment.mode != mode:
                continue
            yield enrollment

    def history(self, username: str, course_key: str | None = None) -> list[Change]:
        """The changes of a user or of one enrollment, newest first."""
        kind = "user" if course_key is None else "enrollment"
        with self._lock:
            changes = [
                change
                for change in self._changes
                if change.kind == kind
                and change.username == username
                and change.course_key == course_key
            ]
        return copy.deepcopy(changes[::-1])
