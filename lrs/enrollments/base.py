"""Users and enrollment records, with the history of every change to them.

One ``EnrollmentStore`` keeps three things: users (one per username), course
enrollments (one per username and course key) and changes (one per create
or change of either, with its time, the acting credential, an optional
reason, and the values before and after). Nothing is ever hard-deleted:
unenrolling sets ``is_active`` to false.

Enrolling is idempotent (``enroll`` says what it did: ``created``,
``reactivated`` or ``unchanged``), and two simultaneous enrollments of one
(username, course) leave one record: the stores enforce it with a lock
(memory) or a unique index (MongoDB), and the loser of a race gets the
winner's record.
"""

import copy
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from lrs.clients.values import to_json
from lrs.clock import default_clock, from_us
from lrs.closeable import Closeable
from lrs.exceptions import DoesNotExist, InvalidInput
from lrs.patterns import EMAIL, Whole
from lrs.retries import attempts
from lrs.usernames import check_username

# edX's enrollment modes.
MODES = frozenset(
    {
        "audit",
        "honor",
        "verified",
        "professional",
        "no-id-professional",
        "credit",
        "masters",
        "executive-education",
        "paid-executive-education",
        "unpaid-executive-education",
    }
)
DEFAULT_MODE = "audit"

# course-v1:Org+Course+Run, or the older Org/Course/Run.
_COURSE_KEY = Whole(r"course-v1:[\w.-]+\+[\w.-]+\+[\w.-]+|[\w.-]+/[\w.-]+/[\w.-]+", re.ASCII)
_LANGUAGE = Whole(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*")
_EMAIL = Whole(EMAIL)


class CourseRole(StrEnum):
    """What an enrollment makes of its user in the course."""

    learner = "learner"
    coach = "coach"
    staff = "staff"


_ROLE_NAMES = frozenset(role.value for role in CourseRole)


class Outcome(StrEnum):
    """What an ``enroll`` did."""

    created = "created"
    reactivated = "reactivated"
    unchanged = "unchanged"


@dataclass(frozen=True)
class User:
    """A user of the platform."""

    username: str
    email: str = ""
    full_name: str = ""
    language: str = ""
    is_staff: bool = False
    is_active: bool = True
    profile: dict[str, Any] = field(default_factory=dict)
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class Enrollment:
    """One user's enrollment in one course."""

    username: str
    course_key: str
    mode: str = DEFAULT_MODE
    role: CourseRole = CourseRole.learner
    is_active: bool = True
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class Change:
    """One create or change of a user or an enrollment, for the record."""

    kind: str  # "user" or "enrollment"
    username: str
    course_key: str | None  # for enrollments
    action: str  # "created", "updated", "reactivated", "unenrolled"
    time: datetime
    actor: str  # the key of the credential that made it
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any]


USER_FIELDS = ("email", "full_name", "language", "is_staff", "is_active", "profile")
#: The user fields that say who a person is: a retired user keeps none of them.
PERSONAL_FIELDS = ("email", "full_name", "language", "profile")


def retired(user: User, pseudonym: str, email: str, now: datetime) -> User:
    """A user as kept after their erasure: renamed, inactive, without personal data."""
    return replace(
        user,
        username=pseudonym,
        email=email,
        full_name="",
        language="",
        profile={},
        is_active=False,
        updated=now,
    )


def scrubbed(change: Change, user: User) -> Change:
    """A change record of an erased user: under their new name, personal values replaced.

    Times, actions, actors and reasons stay; in a user's values, every
    personal field takes the retired ``user``'s value.
    """

    def values(found: dict[str, Any] | None) -> dict[str, Any] | None:
        if found is None or change.kind != "user":
            return found
        return {
            name: getattr(user, name) if name in PERSONAL_FIELDS else value
            for name, value in found.items()
        }

    after = values(change.after)
    assert after is not None
    return replace(change, username=user.username, before=values(change.before), after=after)


def is_course_key(value: object) -> bool:
    """Whether ``value`` is a course key (``course-v1:Org+Course+Run`` or ``Org/Course/Run``)."""
    return _COURSE_KEY(value)


def is_email(value: object) -> bool:
    """Whether ``value`` is an e-mail address as users keep them."""
    return _EMAIL(value)


def check_course_key(course_key: object) -> str:
    """Return ``course_key`` if it is one (``course-v1:Org+Course+Run`` or ``Org/Course/Run``).

    Raises:
        InvalidInput: it is not.
    """
    if not isinstance(course_key, str) or not _COURSE_KEY(course_key):
        raise InvalidInput(
            f"invalid course key {course_key!r}: expected course-v1:Org+Course+Run "
            "or Org/Course/Run"
        )
    return course_key


def check_mode(mode: object) -> str:
    """Return ``mode`` if it is a known enrollment mode.

    Raises:
        InvalidInput: it is not.
    """
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}; known: {', '.join(sorted(MODES))}")
    return str(mode)


def check_role(role: object) -> CourseRole:
    """Return the course role that ``role`` names.

    Raises:
        InvalidInput: it names none.
    """
    if isinstance(role, str) and role in _ROLE_NAMES:
        return CourseRole(role)
    known = ", ".join(sorted(_ROLE_NAMES))
    raise InvalidInput(f"unknown role {role!r}; known: {known}")


def check_user_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the user fields given, checked.

    Raises:
        InvalidInput: an unknown field, or a value of the wrong kind.
    """
    unknown = set(fields) - set(USER_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown user fields: {', '.join(sorted(unknown))}")
    checked = dict(fields)
    for name in ("email", "full_name", "language"):
        if name in checked and not isinstance(checked[name], str):
            raise InvalidInput(f"{name} must be a string")
        if name in checked and len(checked[name]) > 254:
            raise InvalidInput(f"{name} is longer than 254 characters")
    if checked.get("email") and not _EMAIL(checked["email"]):
        raise InvalidInput(f"invalid email {checked['email']!r}")
    if checked.get("language") and not _LANGUAGE(checked["language"]):
        raise InvalidInput(f"invalid language {checked['language']!r}: a code such as en or pt-BR")
    for name in ("is_staff", "is_active"):
        if name in checked and not isinstance(checked[name], bool):
            raise InvalidInput(f"{name} must be true or false")
    if "profile" in checked:
        if not isinstance(checked["profile"], dict):
            raise InvalidInput("profile must be an object")
        try:
            to_json(checked["profile"])
        except TypeError as exc:
            raise InvalidInput(f"profile must be JSON: {exc}") from None
    return checked


def stored_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """User fields as the database stores keep them: the profile (any JSON) as its text."""
    return {
        name: orjson.dumps(value).decode() if name == "profile" else value
        for name, value in fields.items()
    }


def user_values(user: User) -> dict[str, Any]:
    """A user's values as they go into a change record."""
    return {name: getattr(user, name) for name in USER_FIELDS}


def enrollment_values(enrollment: Enrollment) -> dict[str, Any]:
    """An enrollment's values as they go into a change record."""
    return {
        "mode": enrollment.mode,
        "role": enrollment.role.value,
        "is_active": enrollment.is_active,
    }


def enrollment_change(
    before: Enrollment | None,
    after: Enrollment,
    action: str,
    *,
    actor: str,
    reason: str,
) -> Change:
    """The change record of an enrollment write."""
    assert after.updated is not None
    return Change(
        "enrollment",
        after.username,
        after.course_key,
        action,
        after.updated,
        actor,
        reason,
        None if before is None else enrollment_values(before),
        enrollment_values(after),
    )


def user_change(before: User | None, after: User, *, actor: str, reason: str) -> Change:
    """The change record of a user write."""
    assert after.updated is not None
    return Change(
        "user",
        after.username,
        None,
        "created" if before is None else "updated",
        after.updated,
        actor,
        reason,
        None if before is None else user_values(before),
        user_values(after),
    )


def checked_changes(
    mode: str | None, role: object | None, is_active: bool | None
) -> dict[str, Any]:
    """The enrollment fields a change sets, checked (``None``: left as they are).

    Raises:
        InvalidInput: the mode or role is invalid.
    """
    changes: dict[str, Any] = {}
    if mode is not None:
        changes["mode"] = check_mode(mode)
    if role is not None:
        changes["role"] = check_role(role)
    if is_active is not None:
        changes["is_active"] = is_active
    return changes


def change_action(before: Enrollment, changes: Mapping[str, Any]) -> str:
    """How an enrollment change is named in its history."""
    return "unenrolled" if changes.get("is_active") is False and before.is_active else "updated"


def new_enrollment(
    user: User, course_key: str, mode: str | None, role: CourseRole | None, now: datetime
) -> Enrollment:
    """A fresh, active enrollment: ``audit`` unless told, ``staff`` for staff users."""
    default_role = CourseRole.staff if user.is_staff else CourseRole.learner
    return Enrollment(
        user.username, course_key, mode or DEFAULT_MODE, role or default_role, True, now, now
    )


def apply_enroll(
    current: Enrollment | None,
    new: Enrollment,
    mode: str | None,
    role: CourseRole | None,
) -> tuple[Enrollment, Outcome]:
    """What enrolling does to ``current`` (``None``: no record yet); ``new`` is the fresh record.

    An active enrollment is left unchanged; an inactive one is reactivated
    (taking the mode and role given, if any).
    """
    if current is None:
        return new, Outcome.created
    if current.is_active:
        return current, Outcome.unchanged
    changes: dict[str, Any] = {"is_active": True, "updated": new.updated}
    if mode is not None:
        changes["mode"] = mode
    if role is not None:
        changes["role"] = role
    return replace(current, **changes), Outcome.reactivated


def _now() -> datetime:
    return from_us(default_clock.now_us())


class EnrollmentStore(Closeable, ABC):
    """Keeps users, enrollments and the history of their changes.

    The public methods hold the rules (checks, defaults, what a change is and
    how it is recorded); a backend implements the small hooks below them: find,
    insert and compare-and-set records, list them, and keep change records.
    """

    # -- users ------------------------------------------------------------

    def create_user(
        self, username: str, fields: Mapping[str, Any], *, actor: str, reason: str = ""
    ) -> User:
        """Create a user.

        Raises:
            InvalidInput: a field or the username is invalid (a ``ValueError``).
            Conflict: the username is taken.
        """
        check_username(username)
        checked = copy.deepcopy(check_user_fields(fields))
        now = _now()
        user = User(username, **checked, created=now, updated=now)
        self._insert_user(user, user_change(None, user, actor=actor, reason=reason))
        return replace(user, profile=copy.deepcopy(user.profile))

    def get_user(self, username: str) -> User:
        """Return a user.

        Raises:
            DoesNotExist: no such user.
        """
        found = self._find_user(username)
        if found is None:
            raise DoesNotExist(f"no user {username!r}")
        return found

    def update_user(
        self, username: str, fields: Mapping[str, Any], *, actor: str, reason: str = ""
    ) -> User:
        """Change some fields of a user (``profile`` is replaced whole).

        Raises:
            InvalidInput: a field is invalid (a ``ValueError``).
            DoesNotExist: no such user.
        """
        checked = copy.deepcopy(check_user_fields(fields))
        now = _now()

        def change_from(before: User) -> Change:
            after = replace(before, **checked, updated=now)
            return user_change(before, after, actor=actor, reason=reason)

        before = self._update_user(username, checked, now, change_from)
        if before is None:
            raise DoesNotExist(f"no user {username!r}")
        return replace(before, **checked, updated=now)

    def list_users(
        self, *, is_active: bool | None = None, is_staff: bool | None = None
    ) -> Iterator[User]:
        """Users by username, optionally only active (or not) and staff (or not)."""
        return self._list_users(is_active, is_staff)

    def usernames_by_email(self, addresses: Iterable[str]) -> dict[str, str]:
        """The users with these e-mail addresses, in any case: lower-case address to username.

        Through an index where the store has one (an assignment by e-mail
        reads the user it names, never every user). When two users share
        an address, the first by username.
        """
        wanted = sorted({address.lower() for address in addresses if address})
        return self._usernames_by_email(wanted) if wanted else {}

    # -- enrollments --------------------------------------------------------

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
        """Enroll a user, idempotently (see ``apply_enroll``).

        A new enrollment's mode is ``audit`` and its role ``staff`` for a
        staff user, ``learner`` otherwise, unless given. Of simultaneous
        enrollments of one pair, one creates the record and the others find it.

        Raises:
            InvalidInput: the course key, mode or role is invalid.
            DoesNotExist: no such user.
        """
        check_course_key(course_key)
        mode = None if mode is None else check_mode(mode)
        role = None if role is None else check_role(role)
        user = self.get_user(username)
        for _ in attempts(f"the enrollment of {username!r} in {course_key!r}"):
            current = self._find_enrollment(username, course_key)
            new = new_enrollment(user, course_key, mode, role, _now())
            enrollment, outcome = apply_enroll(current, new, mode, role)
            if outcome == Outcome.unchanged:
                return enrollment, outcome
            change = enrollment_change(
                current, enrollment, outcome.value, actor=actor, reason=reason
            )
            if self._write_enrollment(current, enrollment, change):
                break
        return enrollment, outcome

    def get_enrollment(self, username: str, course_key: str) -> Enrollment:
        """Return an enrollment, active or not.

        Raises:
            DoesNotExist: the user was never enrolled in the course.
        """
        found = self._find_enrollment(username, course_key)
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
        """Change an enrollment's mode, role or activity (``is_active=False`` unenrolls).

        Raises:
            InvalidInput: the mode or role is invalid.
            DoesNotExist: the user was never enrolled in the course.
        """
        changes = checked_changes(mode, role, is_active)
        for _ in attempts(f"the enrollment of {username!r} in {course_key!r}"):
            before = self.get_enrollment(username, course_key)
            if all(getattr(before, name) == value for name, value in changes.items()):
                return before
            after = replace(before, **changes, updated=_now())
            action = change_action(before, changes)
            change = enrollment_change(before, after, action, actor=actor, reason=reason)
            if self._write_enrollment(before, after, change):
                break
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
        """Enrollments matching every filter given, by course key then username."""
        filters = {
            name: value
            for name, value in (
                ("username", username),
                ("course_key", course_key),
                ("is_active", is_active),
                ("role", role),
                ("mode", mode),
            )
            if value is not None
        }
        return self._list_enrollments(filters)

    def course_counts(self, course_key: str) -> dict[str, Any]:
        """How many enrollments a course has: active, inactive, and active ones by mode and role."""
        counts: dict[str, Any] = {"active": 0, "inactive": 0, "by_mode": {}, "by_role": {}}
        for enrollment in self.list_enrollments(course_key=course_key):
            if not enrollment.is_active:
                counts["inactive"] += 1
                continue
            counts["active"] += 1
            by_mode, by_role = counts["by_mode"], counts["by_role"]
            by_mode[enrollment.mode] = by_mode.get(enrollment.mode, 0) + 1
            by_role[enrollment.role.value] = by_role.get(enrollment.role.value, 0) + 1
        return counts

    def coached_courses(self, username: str) -> frozenset[str]:
        """Courses where ``username`` is actively enrolled as coach or staff."""
        return frozenset(
            enrollment.course_key
            for enrollment in self.list_enrollments(username=username, is_active=True)
            if enrollment.role in (CourseRole.coach, CourseRole.staff)
        )

    # -- history ------------------------------------------------------------

    def history(self, username: str, course_key: str | None = None) -> list[Change]:
        """The changes of a user (``course_key`` None) or of one enrollment, newest first."""
        kind = "user" if course_key is None else "enrollment"
        return self._history(kind, username, course_key)

    def retire_user(self, username: str, pseudonym: str, email: str) -> bool:
        """Keep a user's records for counts, without who they were (a learner's erasure).

        The user becomes ``pseudonym``, with the e-mail ``email``, no full
        name, language or profile, and inactive; their enrollments and
        change records follow them (``scrubbed``). Returns whether a user
        was retired: ``False`` when ``username`` is no user (any more).

        Atomic where the backend has transactions; elsewhere the user
        record moves last, so that a retirement cut short is finished by
        the next call.
        """
        user = self._find_user(username)
        if user is None:
            return False
        self._retire(username, retired(user, pseudonym, email, _now()))
        return True

    # -- the hooks a backend implements ---------------------------------------

    @abstractmethod
    def _insert_user(self, user: User, change: Change) -> None:
        """Store a new user and the record of its creation (together, where the store can).

        ``Conflict`` (nothing stored) if the username is taken.
        """

    @abstractmethod
    def _find_user(self, username: str) -> User | None:
        """Return a user (the caller's own copy), or ``None``."""

    @abstractmethod
    def _update_user(
        self,
        username: str,
        fields: Mapping[str, Any],
        now: datetime,
        change_from: Callable[[User], Change],
    ) -> User | None:
        """Set fields of a user and its update time, atomically; return it as it was before.

        Also keep ``change_from(before)``, the record of the change (together
        with it, where the store can). Returns ``None`` (changing nothing)
        when there is no such user.
        """

    @abstractmethod
    def _usernames_by_email(self, lowered: list[str]) -> dict[str, str]:
        """See ``usernames_by_email``; ``lowered``: distinct lower-case addresses."""

    @abstractmethod
    def _list_users(self, is_active: bool | None, is_staff: bool | None) -> Iterator[User]:
        """Users by username, filtered."""

    @abstractmethod
    def _find_enrollment(self, username: str, course_key: str) -> Enrollment | None:
        """Return an enrollment, or ``None``."""

    @abstractmethod
    def _write_enrollment(
        self, expected: Enrollment | None, new: Enrollment, change: Change
    ) -> bool:
        """Store ``new`` if the stored record is still ``expected`` (``None``: there is none).

        Compare-and-set, in one atomic step: ``False`` (nothing written) when
        another writer created or changed the record meanwhile. On success,
        also keep ``change``, its record (together with it, where the store can).
        """

    @abstractmethod
    def _list_enrollments(self, filters: Mapping[str, Any]) -> Iterator[Enrollment]:
        """Enrollments whose fields equal every filter, by course key then username."""

    @abstractmethod
    def _retire(self, username: str, user: User) -> None:
        """Move ``username``'s user, enrollments and change records to ``user`` (see above)."""

    @abstractmethod
    def _history(self, kind: str, username: str, course_key: str | None) -> list[Change]:
        """The change records of one user or enrollment, newest first."""


def as_dict(item: User | Enrollment | Change) -> dict[str, Any]:
    """A record as a plain dict (for the API and the CLI)."""
    values = asdict(item)
    if isinstance(item, Enrollment):
        values["role"] = item.role.value
    return values
