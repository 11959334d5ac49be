"""Users and enrollments in this process's memory, under one lock."""

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from lrs.enrollments.base import Change, Enrollment, EnrollmentStore, User, scrubbed
from lrs.exceptions import Conflict


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

    def _insert_user(self, user: User, change: Change) -> None:
        with self._lock:
            if user.username in self._users:
                raise Conflict(f"user {user.username!r} exists already")
            self._users[user.username] = self._copy(user)
            self._changes.append(copy.deepcopy(change))

    def _find_user(self, username: str) -> User | None:
        found = self._users.get(username)
        return None if found is None else self._copy(found)

    def _update_user(
        self,
        username: str,
        fields: Mapping[str, Any],
        now: datetime,
        change_from: Callable[[User], Change],
    ) -> User | None:
        with self._lock:
            before = self._users.get(username)
            if before is None:
                return None
            self._users[username] = replace(before, **copy.deepcopy(dict(fields)), updated=now)
            self._changes.append(copy.deepcopy(change_from(self._copy(before))))
        return self._copy(before)

    def _usernames_by_email(self, lowered: list[str]) -> dict[str, str]:
        wanted = set(lowered)
        found: dict[str, str] = {}
        with self._lock:
            for username in sorted(self._users):
                address = self._users[username].email.lower()
                if address in wanted:
                    found.setdefault(address, username)
        return found

    def _list_users(self, is_active: bool | None, is_staff: bool | None) -> Iterator[User]:
        with self._lock:
            users = sorted(self._users.values(), key=lambda user: user.username)
        for user in users:
            if is_active is not None and user.is_active != is_active:
                continue
            if is_staff is not None and user.is_staff != is_staff:
                continue
            yield self._copy(user)

    def _find_enrollment(self, username: str, course_key: str) -> Enrollment | None:
        return self._enrollments.get((username, course_key))

    def _write_enrollment(
        self, expected: Enrollment | None, new: Enrollment, change: Change
    ) -> bool:
        identity = (new.username, new.course_key)
        with self._lock:
            if self._enrollments.get(identity) != expected:
                return False
            self._enrollments[identity] = new
            self._changes.append(copy.deepcopy(change))
            return True

    def _list_enrollments(self, filters: Mapping[str, Any]) -> Iterator[Enrollment]:
        with self._lock:
            found = sorted(
                self._enrollments.values(), key=lambda item: (item.course_key, item.username)
            )
        for enrollment in found:
            if all(getattr(enrollment, name) == value for name, value in filters.items()):
                yield enrollment

    def _retire(self, username: str, user: User) -> None:
        with self._lock:
            del self._users[username]
            self._users[user.username] = self._copy(user)
            for key, enrollment in list(self._enrollments.items()):
                if enrollment.username == username:
                    del self._enrollments[key]
                    moved = replace(enrollment, username=user.username)
                    self._enrollments[(user.username, enrollment.course_key)] = moved
            self._changes = [
                scrubbed(change, user) if change.username == username else change
                for change in self._changes
            ]

    def _history(self, kind: str, username: str, course_key: str | None) -> list[Change]:
        with self._lock:
            changes = [
                change
                for change in self._changes
                if change.kind == kind
                and change.username == username
                and change.course_key == course_key
            ]
        return copy.deepcopy(changes[::-1])
