"""Assignments: content assigned to a learner, with an explicit lifecycle, actions and history.

An assignment gives one piece of content (an activity IRI or a course key)
to one learner: a user, or the e-mail address of someone without an account
yet (linked to the user who gets that address). Its ``state`` moves only by
the transitions of ``MOVES`` (docs/assignments.md):

======================  =============================================
from                    to
======================  =============================================
allocated               accepted, cancelled, expired, errored
accepted                completed, cancelled, expired, errored
errored                 allocated (tried again), cancelled
completed               reversed
cancelled, expired,     nothing: they are final
reversed
======================  =============================================

Any other move raises ``Conflict`` naming the current state and the moves
allowed from it. One (learner, content) has at most one *active* assignment
(one that is not cancelled, expired or reversed), whoever assigns at once:
the stores enforce it (a lock, a partial unique index).

Everything that happens to an assignment is an ``Action`` in its log (its
time, actor, outcome, and the reason when it failed), and every change of
its values a ``Change`` with before and after. Nothing is ever deleted; a
learner's erasure clears the e-mail and note and keeps the record.

The public methods of ``AssignmentStore`` hold these rules; a backend
implements the small hooks below them.
"""

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from lrs.clock import default_clock, from_us, to_us
from lrs.closeable import Closeable
from lrs.enrollments.base import check_course_key
from lrs.erasure.base import RETIRED_EMAIL_DOMAIN
from lrs.exceptions import Conflict, DoesNotExist, InvalidInput
from lrs.patterns import EMAIL, Whole
from lrs.retries import attempts
from lrs.usernames import check_username
from lrs.xapi import syntax


class State(StrEnum):
    """Where an assignment is in its lifecycle."""

    allocated = "allocated"
    accepted = "accepted"
    completed = "completed"
    errored = "errored"
    cancelled = "cancelled"
    expired = "expired"
    reversed = "reversed"


#: The moves allowed from each state: the lifecycle, in one table.
MOVES: dict[State, frozenset[State]] = {
    State.allocated: frozenset({State.accepted, State.cancelled, State.expired, State.errored}),
    State.accepted: frozenset({State.completed, State.cancelled, State.expired, State.errored}),
    State.errored: frozenset({State.allocated, State.cancelled}),
    State.completed: frozenset({State.reversed}),
    State.cancelled: frozenset(),
    State.expired: frozenset(),
    State.reversed: frozenset(),
}
#: The states of an assignment that still counts: one per (learner, content).
ACTIVE = frozenset({State.allocated, State.accepted, State.completed, State.errored})
#: The states whose due date still matters.
OPEN = frozenset({State.allocated, State.accepted})

#: The kinds of actions: the transitions (by their new state's name, and
#: ``created``) and the side effects.
ACTION_KINDS = frozenset(
    {"created", "linked", "notified", "reminded", "acknowledged"} | {state.value for state in State}
)

_EMAIL = Whole(EMAIL + r"\.[^@\s\x00-\x1f\x7f-\x9f]+")
MAX_NOTE = 1000


@dataclass(frozen=True)
class Assignment:
    """One piece of content assigned to one learner."""

    id: str
    content: str
    #: The course the content is in (the content itself when it is a course).
    course_key: str | None
    #: The learner: a username, or (until linked) an e-mail address.
    username: str | None
    email: str | None
    assigned_by: str
    created: datetime
    updated: datetime
    state: State = State.allocated
    due: datetime | None = None
    note: str = ""
    version: int = 1

    @property
    def learner(self) -> str:
        """Who it is for, as one key: the username, else ``email:`` and the address."""
        return self.username if self.username is not None else f"email:{self.email}"

    @property
    def active(self) -> bool:
        """Whether it still counts (not cancelled, expired or reversed)."""
        return self.state in ACTIVE

    def values(self) -> dict[str, Any]:
        """What a change record keeps of it."""
        return {
            "content": self.content,
            "course_key": self.course_key,
            "username": self.username,
            "email": self.email,
            "state": str(self.state),
            "due": None if self.due is None else self.due.isoformat(),
            "note": self.note,
        }

    def as_json(self) -> dict[str, Any]:
        """The whole record as JSON keeps it."""
        return {
            **self.values(),
            "id": self.id,
            "assigned_by": self.assigned_by,
            "created": self.created.isoformat(),
            "updated": self.updated.isoformat(),
            "version": self.version,
        }


def assignment_from(value: dict[str, Any]) -> Assignment:
    """An assignment from ``Assignment.as_json``."""
    return Assignment(
        value["id"],
        value["content"],
        value["course_key"],
        value["username"],
        value["email"],
        value["assigned_by"],
        datetime.fromisoformat(value["created"]),
        datetime.fromisoformat(value["updated"]),
        State(value["state"]),
        None if value["due"] is None else datetime.fromisoformat(value["due"]),
        value["note"],
        value["version"],
    )


@dataclass(frozen=True)
class Action:
    """One thing that happened to an assignment, or was tried and failed."""

    assignment_id: str
    kind: str
    time: datetime
    actor: str
    ok: bool = True
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The action as JSON keeps it."""
        return {
            "assignment_id": self.assignment_id,
            "kind": self.kind,
            "time": self.time.isoformat(),
            "actor": self.actor,
            "ok": self.ok,
            "reason": self.reason,
            "details": self.details,
        }


def action_from(value: dict[str, Any]) -> Action:
    """An action from ``Action.as_json``."""
    return Action(
        value["assignment_id"],
        value["kind"],
        datetime.fromisoformat(value["time"]),
        value["actor"],
        value["ok"],
        value["reason"],
        dict(value["details"]),
    )


@dataclass(frozen=True)
class Change:
    """One change of an assignment's values, for the record."""

    assignment_id: str
    time: datetime
    actor: str
    reason: str
    before: dict[str, Any] | None
    after: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """The change as JSON keeps it."""
        return {
            "assignment_id": self.assignment_id,
            "time": self.time.isoformat(),
            "actor": self.actor,
            "reason": self.reason,
            "before": self.before,
            "after": self.after,
        }


def change_from(value: dict[str, Any]) -> Change:
    """A change from ``Change.as_json``."""
    return Change(
        value["assignment_id"],
        datetime.fromisoformat(value["time"]),
        value["actor"],
        value["reason"],
        value["before"],
        value["after"],
    )


@dataclass(frozen=True)
class Filters:
    """Which assignments: every filter given must hold."""

    course_key: str | None = None
    content: str | None = None
    username: str | None = None
    #: Any of these users' (a batch of statements' learners).
    usernames: frozenset[str] | None = None
    email: str | None = None
    states: frozenset[State] | None = None
    #: Only those whose due date is before this time (and that are open).
    due_before: datetime | None = None


#: No filter: every assignment.
EVERY = Filters()


def now() -> datetime:
    """The time of a change: the LRS's clock."""
    return from_us(default_clock.now_us())


# -- checks --------------------------------------------------------------------


def check_content(content: object) -> tuple[str, str | None]:
    """Content and its course when the content is a course key.

    Raises:
        InvalidInput: neither an activity IRI nor a course key.
    """
    if isinstance(content, str):
        try:
            return content, check_course_key(content)
        except InvalidInput:
            if syntax.is_iri(content):
                return content, None
    raise InvalidInput(
        f"content must be an activity IRI or a course key (course-v1:Org+Course+Run), "
        f"not {content!r}"
    )


def check_email(email: object) -> str:
    """An e-mail address, as kept (lower case).

    Raises:
        InvalidInput: not an address.
    """
    if not isinstance(email, str) or len(email) > 254 or not _EMAIL(email):
        raise InvalidInput(f"invalid email {email!r}")
    return email.lower()


def listed_states(state: str | None, overdue: bool) -> frozenset[State] | None:
    """The states a list asks for: one state, and/or the overdue ones.

    Past its due date, an open assignment expires when read: the overdue
    are the expired.
    """
    states = None if state is None else frozenset({check_state(state)})
    if overdue:
        states = frozenset({State.expired}) if states is None else states & {State.expired}
    return states


def check_state(state: object) -> State:
    """A state by name.

    Raises:
        InvalidInput: no such state (the message lists them).
    """
    try:
        return State(str(state))
    except ValueError:
        names = ", ".join(item.value for item in State)
        raise InvalidInput(f"unknown state {state!r}; the states are {names}") from None


def check_due(due: datetime | None, at: datetime) -> datetime | None:
    """A due date: aware, and not in the past.

    Raises:
        InvalidInput: naive, or before ``at``.
    """
    if due is None:
        return None
    if due.tzinfo is None:
        raise InvalidInput("due must have a time zone offset")
    if due <= at:
        raise InvalidInput(f"due {due.isoformat()} is in the past")
    return due


def check_move(assignment: Assignment, to: State) -> None:
    """Refuse a move the lifecycle does not allow.

    Raises:
        Conflict: ``to`` is not one of the moves from the current state.
    """
    allowed = MOVES[assignment.state]
    if to not in allowed:
        moves = ", ".join(sorted(allowed)) or "none: it is final"
        raise Conflict(
            f"assignment {assignment.id} is {assignment.state}: it cannot become {to} "
            f"(moves from {assignment.state}: {moves})"
        )


# -- the store -----------------------------------------------------------------


class AssignmentStore(Closeable, ABC):
    """Keeps assignments, their action logs and their change histories."""

    def create(
        self,
        content: str,
        *,
        username: str | None = None,
        email: str | None = None,
        course_key: str | None = None,
        due: datetime | None = None,
        note: str = "",
        actor: str,
        details: dict[str, Any] | None = None,
    ) -> Assignment:
        """Assign content to a learner (a username, or an e-mail address).

        Raises:
            InvalidInput: a bad content, learner, course, due date or note.
            Conflict: the learner has an active assignment of this content.
        """
        at = now()
        assignment = self.new(
            content,
            username=username,
            email=email,
            course_key=course_key,
            due=due,
            note=note,
            actor=actor,
            at=at,
        )
        action = Action(assignment.id, "created", at, actor, details=details or {})
        change = Change(assignment.id, at, actor, "", None, assignment.values())
        self._insert(assignment, action, change)
        return assignment

    @staticmethod
    def new(
        content: str,
        *,
        username: str | None,
        email: str | None,
        course_key: str | None,
        due: datetime | None,
        note: str,
        actor: str,
        at: datetime,
    ) -> Assignment:
        """A new assignment, checked, not stored (``create`` stores one; dry runs check one).

        Raises:
            InvalidInput: a bad content, learner, course, due date or note.
        """
        content, own_course = check_content(content)
        if (username is None) == (email is None):
            raise InvalidInput("give the learner's username or e-mail address, one of them")
        if username is not None:
            check_username(username)
        checked_email = None if email is None else check_email(email)
        if course_key is not None:
            course_key = check_course_key(course_key)
            if own_course is not None and course_key != own_course:
                raise InvalidInput("a course's assignment is in that course")
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            raise InvalidInput(f"note must be a text of at most {MAX_NOTE} characters")
        return Assignment(
            uuid.uuid4().hex,
            content,
            own_course or course_key,
            username,
            checked_email,
            actor,
            at,
            at,
            due=check_due(due, at),
            note=note,
        )

    def get(self, assignment_id: str) -> Assignment:
        """An assignment by id.

        Raises:
            DoesNotExist: no such assignment.
        """
        found = self._get(assignment_id)
        if found is None:
            raise DoesNotExist(f"no assignment {assignment_id!r}")
        return found

    def find(self, filters: Filters = EVERY) -> list[Assignment]:
        """The assignments that pass every filter, oldest first."""
        return self._list(filters)

    def move(
        self,
        assignment_id: str,
        to: State,
        *,
        actor: str,
        reason: str = "",
        details: dict[str, Any] | None = None,
        expected: Iterable[State] | None = None,
    ) -> Assignment:
        """Move an assignment to another state, by the lifecycle, with its action and change.

        With ``expected``, the move is made only from one of those states
        (an expiry decided on what was read): from another it raises
        ``Conflict``, as a forbidden move does.

        Raises:
            DoesNotExist: no such assignment.
            Conflict: the lifecycle does not allow the move from its state.
        """
        allowed = None if expected is None else frozenset(expected)

        def moved(current: Assignment) -> Assignment:
            check_move(current, to)
            if allowed is not None and current.state not in allowed:
                raise Conflict(f"assignment {current.id} is {current.state} already")
            return replace(current, state=to)

        return self._change(
            assignment_id, moved, str(to), actor=actor, reason=reason, details=details
        )

    def link(self, assignment_id: str, username: str, *, actor: str) -> Assignment:
        """Give an assignment made for an e-mail address to the user who has it.

        Raises:
            DoesNotExist: no such assignment.
            Conflict: it is someone's already, or the user has an active
                assignment of the content (the failed link is in the log).
        """
        check_username(username)

        def linked(current: Assignment) -> Assignment:
            if current.username is not None:
                raise Conflict(f"assignment {current.id} is {current.username}'s already")
            return replace(current, username=username)

        try:
            return self._change(assignment_id, linked, "linked", actor=actor)
        except Conflict as exc:
            self.record(assignment_id, "linked", actor=actor, ok=False, reason=str(exc))
            raise

    def record(
        self,
        assignment_id: str,
        kind: str,
        *,
        actor: str,
        ok: bool = True,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> Action:
        """Add an action that changes no value (notified, reminded, acknowledged, a failure).

        Raises:
            InvalidInput: an unknown kind.
            DoesNotExist: no such assignment.
        """
        if kind not in ACTION_KINDS:
            raise InvalidInput(f"unknown action {kind!r}")
        self.get(assignment_id)
        action = Action(assignment_id, kind, now(), actor, ok, reason, details or {})
        self._add_actions([action])
        return action

    def actions(self, assignment_id: str) -> list[Action]:
        """The action log of an assignment, oldest first.

        Raises:
            DoesNotExist: no such assignment.
        """
        self.get(assignment_id)
        return self._actions(assignment_id)

    def last_actions(self, assignment_id: str) -> dict[str, Action]:
        """The last successful action of each kind.

        Raises:
            DoesNotExist: no such assignment.
        """
        return {action.kind: action for action in self.actions(assignment_id) if action.ok}

    def history(self, assignment_id: str) -> list[Change]:
        """The changes of an assignment, oldest first.

        Raises:
            DoesNotExist: no such assignment.
        """
        self.get(assignment_id)
        return self._history(assignment_id)

    def counts(self, course_key: str | None = None) -> dict[str, int]:
        """How many assignments are in each state (of one course)."""
        found = {state.value: 0 for state in State}
        for assignment in self._list(Filters(course_key=course_key)):
            found[assignment.state.value] += 1
        return found

    def of_learner(self, username: str, emails: Iterable[str]) -> list[Assignment]:
        """The assignments of a user, and those made for their e-mail addresses."""
        found = {item.id: item for item in self._list(Filters(username=username))}
        for email in emails:
            if email:
                found.update((item.id, item) for item in self._list(Filters(email=email)))
        return sorted(found.values(), key=sort_key)

    def clear_personal(self, username: str, emails: Iterable[str], *, pseudonym: str) -> int:
        """A learner's erasure: their assignments keep no e-mail or note; return how many.

        The records stay, for counts, under ``pseudonym``; their change
        history keeps no address or note either.
        """
        emails = [email for email in emails if email]
        found = self.of_learner(username, emails)
        names = frozenset({username, *(email.lower() for email in emails)})
        for assignment in found:
            self._forget(assignment.id, pseudonym, names)
        return len(found)

    def _change(
        self,
        assignment_id: str,
        change: Callable[[Assignment], Assignment],
        kind: str,
        *,
        actor: str,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> Assignment:
        """Apply ``change`` (current -> new) with compare-and-set, logging ``kind``."""
        for _ in attempts(f"assignment {assignment_id}"):
            current = self.get(assignment_id)
            at = now()
            after = replace(change(current), updated=at, version=current.version + 1)
            action = Action(assignment_id, kind, at, actor, reason=reason, details=details or {})
            record = Change(assignment_id, at, actor, reason, current.values(), after.values())
            if self._replace(current, after, action, record):
                break
        return after

    # -- backend hooks -----------------------------------------------------------

    @abstractmethod
    def _insert(self, assignment: Assignment, action: Action, change: Change) -> None:
        """Store a new assignment with its first action and change.

        Raises:
            Conflict: the learner has an active assignment of the content.
        """

    @abstractmethod
    def _get(self, assignment_id: str) -> Assignment | None:
        """The assignment with this id, or ``None``."""

    @abstractmethod
    def _list(self, filters: Filters) -> list[Assignment]:
        """The assignments passing ``filters`` (see ``passes``), oldest first."""

    @abstractmethod
    def _replace(
        self, before: Assignment, after: Assignment, action: Action, change: Change
    ) -> bool:
        """Write ``after`` if the stored version is still ``before.version``; say if it was.

        Raises:
            Conflict: ``after`` would be a second active assignment of its
                learner and content.
        """

    @abstractmethod
    def _add_actions(self, actions: Sequence[Action]) -> None:
        """Append actions to their logs."""

    @abstractmethod
    def _actions(self, assignment_id: str) -> list[Action]:
        """An assignment's actions, oldest first."""

    @abstractmethod
    def _history(self, assignment_id: str) -> list[Change]:
        """An assignment's changes, oldest first."""

    @abstractmethod
    def _forget(self, assignment_id: str, pseudonym: str, names: frozenset[str]) -> None:
        """Clear the e-mail and note of an assignment, in its record, history and actions.

        The username becomes ``pseudonym``; actions keep none of ``names``
        (see ``forgotten_action``).
        """


def passes(assignment: Assignment, filters: Filters) -> bool:
    """Whether an assignment passes every filter (stores that filter in Python use it)."""
    return (
        (filters.course_key is None or assignment.course_key == filters.course_key)
        and (filters.content is None or assignment.content == filters.content)
        and (filters.username is None or assignment.username == filters.username)
        and (filters.usernames is None or assignment.username in filters.usernames)
        and (filters.email is None or assignment.email == filters.email.lower())
        and (filters.states is None or assignment.state in filters.states)
        and (
            filters.due_before is None
            or (
                assignment.due is not None
                and assignment.due < filters.due_before
                and assignment.state in OPEN
            )
        )
    )


def forgotten(assignment: Assignment, pseudonym: str) -> Assignment:
    """An assignment without personal data: no e-mail address, no note.

    A user's becomes ``pseudonym``'s. One made for an e-mail address gets an
    address of its own under ``retired.invalid`` (RFC 2606): a user may
    have had one of each for the same content, and both stay apart.
    """
    if assignment.username is not None:
        return replace(assignment, username=pseudonym, email=None, note="")
    address = f"{pseudonym}.{assignment.id[:12]}@{RETIRED_EMAIL_DOMAIN}"
    return replace(assignment, email=address, note="")


def forgotten_values(values: dict[str, Any] | None, after: Assignment) -> dict[str, Any] | None:
    """A change record's values without personal data: the learner is ``after``'s."""
    if values is None:
        return None
    return {**values, "username": after.username, "email": after.email, "note": ""}


#: Action details that name a learner.
_PERSONAL_DETAILS = frozenset({"linked_from"})
_CLEARED = "(cleared by an erasure)"


def forgotten_action(action: Action, names: frozenset[str]) -> Action:
    """An action without personal data: no detail naming the learner, no reason quoting ``names``.

    A failure's reason may quote the learner (``ada has an active
    assignment...``): such a reason is cleared whole.
    """
    details = {key: value for key, value in action.details.items() if key not in _PERSONAL_DETAILS}
    text = action.reason.lower()
    reason = _CLEARED if any(name.lower() in text for name in names) else action.reason
    return replace(action, reason=reason, details=details)


def forgotten_change(change: Change, after: Assignment) -> Change:
    """A change record of an assignment without personal data (``after``: as ``forgotten``)."""
    return replace(
        change,
        before=forgotten_values(change.before, after),
        after=forgotten_values(change.after, after) or {},
    )


def duplicate(assignment: Assignment, existing: str | None = None) -> Conflict:
    """The error of a second active assignment of one learner and content."""
    which = f" ({existing})" if existing else ""
    return Conflict(
        f"{assignment.learner} has an active assignment of {assignment.content} already{which}"
    )


def sort_key(assignment: Assignment) -> tuple[int, str]:
    """Oldest first, ties by id."""
    return to_us(assignment.created), assignment.id
