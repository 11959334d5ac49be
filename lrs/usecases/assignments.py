"""The assignment rules that reach beyond their store: learners, progress, due dates, webhooks.

``Assignments`` is what the API, the command line and statement ingest call:

- assigning checks that a username is a user, and gives an assignment made
  for an e-mail address to the user who has it (``linked``), now or when a
  user gets that address (``link_user``);
- an assignment is *accepted* when its learner started: a statement about
  the content (a progress record of theirs in it), or for a course, an
  active enrollment in it; *completed* when their progress record of the
  content is complete. This is checked when statements arrive
  (``on_events``), when someone enrolls (``on_enrolled``), and whenever an
  assignment is read (``refresh``);
- an open assignment past its due date is *expired* when it is read, and by
  ``expire`` (``lrs assignments expire``, for schedulers);
- ``remind`` records one reminder per assignment due soon;
- every event goes to the webhook, if there is one (``lrs.usecases.webhook``).
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from lrs.assignments.base import (
    ACTIVE,
    EVERY,
    MOVES,
    OPEN,
    Assignment,
    AssignmentStore,
    Filters,
    State,
    check_email,
    duplicate,
    now,
)
from lrs.enrollments.base import User
from lrs.enrollments.bulk import bounded
from lrs.exceptions import Conflict, DoesNotExist, InvalidInput, UserStateError
from lrs.progress import Event
from lrs.usecases.storage import Storage
from lrs.usecases.webhook import Webhook
from lrs.xapi import syntax
from lrs.xapi.agents import AccountAgents
from lrs.xapi.prepare import iso

log = logging.getLogger(__name__)

#: The columns of a CSV of assignments (and the fields of a JSON one).
ROW_FIELDS = ("content", "username", "email", "course_key", "due", "note")


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row of a bulk assignment: ``created`` or ``error``."""

    row: int  # from 1
    learner: str
    content: str
    result: str
    reason: str = ""
    id: str | None = None
    state: str | None = None


class Assignments:
    """Assignments with everything around them: users, progress, expiry, notifications."""

    def __init__(
        self, storage: Storage, accounts: AccountAgents, webhook: Webhook | None = None
    ) -> None:
        """Work on ``storage``'s assignments; post events to ``webhook`` if there is one."""
        self.storage = storage
        self.store: AssignmentStore = storage.assignments
        self.accounts = accounts
        self.webhook = webhook

    def close(self) -> None:
        """Post what the webhook has queued, then stop it."""
        if self.webhook is not None:
            self.webhook.close()

    # -- making them ---------------------------------------------------------------

    def assign(
        self,
        content: str,
        *,
        username: str | None = None,
        email: str | None = None,
        course_key: str | None = None,
        due: datetime | str | None = None,
        note: str = "",
        actor: str,
    ) -> Assignment:
        """Assign content to a user, or to an e-mail address (linked when a user has it).

        ``due`` is a time, or ISO 8601 text: a date alone is the end of that
        day, UTC (``parse_due``), at every door.

        Raises:
            InvalidInput: a bad field.
            DoesNotExist: no user ``username``.
            Conflict: the learner has an active assignment of this content.
        """
        when = parse_due(due)
        emails = self.storage.enrollments.usernames_by_email(
            [email] if isinstance(email, str) else []
        )
        username, email, linked = self._learner(username, email, emails)
        return self._created(
            content,
            username,
            email,
            linked,
            course_key=course_key,
            due=when,
            note=note,
            actor=actor,
        )

    def _created(
        self,
        content: str,
        username: str | None,
        email: str | None,
        linked: str | None,
        **fields: Any,
    ) -> Assignment:
        details = {"linked_from": linked} if linked else {}
        assignment = self.store.create(
            content, username=username, email=email, details=details, **fields
        )
        self._notify("created", assignment)
        (assignment,) = self.refresh([assignment])
        return assignment

    def _learner(
        self, username: str | None, email: str | None, emails: Mapping[str, str]
    ) -> tuple[str | None, str | None, str | None]:
        """(username, e-mail, the address it was linked from) of an assignment's learner."""
        if username is not None and email is not None:
            raise InvalidInput("give the learner's username or e-mail address, not both")
        if username is not None:
            self.storage.enrollments.get_user(username)  # DoesNotExist for an unknown user
            return username, None, None
        if email is None:
            raise InvalidInput("give the learner's username or e-mail address")
        address = check_email(email)
        user = emails.get(address)
        if user is not None:
            return user, None, address
        return None, address, None

    def assign_many(
        self, rows: Iterable[Any], *, actor: str, dry_run: bool = False
    ) -> list[RowOutcome]:
        """Assign every row it can (``ROW_FIELDS``); one outcome per row, in order.

        A bad row is an ``error`` with its reason and changes nothing; the
        others go on. A dry run checks every row (users, duplicates in the
        store and in the rows) and writes nothing.

        Raises:
            InvalidInput: more than ``MAX_ROWS`` rows (nothing is applied).
        """
        rows = bounded(rows)
        users = list(self.storage.enrollments.list_users())
        emails = _emails_of(users)
        usernames = {user.username for user in users}
        active = set()
        if dry_run:
            active = {
                (item.learner, item.content) for item in self.store.find(Filters(states=ACTIVE))
            }
        outcomes = []
        for number, row in enumerate(rows, start=1):
            fields = row if isinstance(row, Mapping) else {}
            learner = str(fields.get("username") or fields.get("email") or "")
            content = str(fields.get("content") or "")
            try:
                values = _row_values(row)
                username = values.get("username")
                if username is not None and username not in usernames:
                    raise DoesNotExist(f"no user {username!r}")
                username, email, linked = self._learner(username, values.get("email"), emails)
                options: dict[str, Any] = {
                    "course_key": values.get("course_key"),
                    "due": parse_due(values.get("due")),
                    "note": values.get("note", ""),
                    "actor": actor,
                }
                content = values.get("content", "")
                if dry_run:
                    made = self.store.new(
                        content, username=username, email=email, at=now(), **options
                    )
                    if (made.learner, made.content) in active:
                        raise duplicate(made)
                    active.add((made.learner, made.content))
                    outcomes.append(RowOutcome(number, made.learner, made.content, "created"))
                    continue
                made = self._created(content, username, email, linked, **options)
                state = str(made.state)
                outcomes.append(
                    RowOutcome(
                        number, made.learner, made.content, "created", id=made.id, state=state
                    )
                )
            except (ValueError, DoesNotExist, Conflict) as exc:
                outcomes.append(RowOutcome(number, learner, content, "error", str(exc)))
        return outcomes

    # -- moving them -----------------------------------------------------------------

    def move(
        self, assignment_id: str, to: State, *, actor: str, reason: str = "", **details: Any
    ) -> Assignment:
        """Move an assignment by the lifecycle and tell the webhook.

        Raises:
            DoesNotExist: no such assignment.
            Conflict: the move is not allowed from its state.
        """
        assignment = self.store.move(assignment_id, to, actor=actor, reason=reason, details=details)
        self._notify(str(to), assignment)
        return assignment

    def cancel(self, assignment_id: str, *, actor: str, reason: str = "") -> Assignment:
        """Cancel an allocated, accepted or errored assignment."""
        return self.move(assignment_id, State.cancelled, actor=actor, reason=reason)

    def reverse(self, assignment_id: str, *, actor: str, reason: str) -> Assignment:
        """Undo a completed assignment (admin), with a reason.

        Raises:
            InvalidInput: no reason.
        """
        if not reason.strip():
            raise InvalidInput("a reversal needs a reason")
        return self.move(assignment_id, State.reversed, actor=actor, reason=reason)

    def acknowledge(self, assignment_id: str, *, actor: str) -> Assignment:
        """Record that the learner has seen their assignment.

        Raises:
            Conflict: it is no longer active.
        """
        assignment = self.get(assignment_id)
        if not assignment.active:
            raise Conflict(
                f"assignment {assignment.id} is {assignment.state}: nothing to acknowledge"
            )
        self.store.record(assignment_id, "acknowledged", actor=actor)
        return assignment

    # -- reading them, and keeping them current ---------------------------------------

    def get(self, assignment_id: str) -> Assignment:
        """An assignment, brought up to date (expiry, progress) first.

        Raises:
            DoesNotExist: no such assignment.
        """
        (found,) = self.refresh([self.store.get(assignment_id)])
        return found

    def find(self, filters: Filters = EVERY) -> list[Assignment]:
        """The assignments passing ``filters``, oldest first, those past due expired first.

        Progress is applied as it happens (``on_events``, ``on_enrolled``);
        only time moves an assignment between two of those.
        """
        self.expire(filters=filters)
        return self.store.find(filters)

    def refresh(
        self, assignments: Sequence[Assignment], at: datetime | None = None
    ) -> list[Assignment]:
        """Apply what has happened to each open assignment: its expiry, its learner's progress."""
        at = at or now()
        return [self._refreshed(assignment, at) for assignment in assignments]

    def _refreshed(self, assignment: Assignment, at: datetime, progress: bool = True) -> Assignment:
        if assignment.state not in OPEN:
            return assignment
        try:
            if assignment.due is not None and assignment.due <= at:
                return self._moved(assignment, State.expired, due=assignment.due.isoformat())
            if assignment.username is None or not progress:
                return assignment
            started, completed = self._progress(assignment)
            if assignment.state == State.allocated and started:
                assignment = self._moved(assignment, State.accepted, **started)
            if assignment.state == State.accepted and completed:
                assignment = self._moved(assignment, State.completed, **completed)
        except Conflict:
            # Moved by someone else meanwhile: theirs stands.
            return self.store.get(assignment.id)
        return assignment

    def _moved(self, assignment: Assignment, to: State, **details: Any) -> Assignment:
        moved = self.store.move(
            assignment.id, to, actor="lrs", details=details, expected={assignment.state}
        )
        self._notify(str(to), moved)
        return moved

    def _progress(self, assignment: Assignment) -> tuple[dict[str, Any], dict[str, Any]]:
        """What says the learner started and completed it (empty: nothing does)."""
        assert assignment.username is not None
        learner = self.accounts.key(assignment.username)
        progress = self.storage.progress
        if assignment.course_key == assignment.content:
            enrolled = [
                item
                for item in self.storage.enrollments.list_enrollments(
                    username=assignment.username, course_key=assignment.content, is_active=True
                )
            ]
            summaries = progress.summaries(learner=learner, course=assignment.content)
            own = [item for item in summaries if item.content == assignment.content]
        else:
            enrolled = []
            summaries = own = progress.summaries(learner=learner, content=assignment.content)
        started: dict[str, Any] = {}
        if summaries:
            started = {"first_statement": iso(min(item.first_us for item in summaries))}
        elif enrolled:
            started = {"enrolled": assignment.content}
        completed: dict[str, Any] = {}
        done = [item.completion_us for item in own if item.completion_us is not None]
        if done:
            completed = {"completed": iso(min(done))}
        return started, completed

    def on_events(self, events: Sequence[Event]) -> None:
        """Statements were stored: bring their learners' open assignments up to date.

        The statements are stored already: a store that fails here is
        logged, not raised, and the learner's next statement tries again.
        """
        usernames = frozenset(
            name for event in events if (name := self.accounts.username(event.learner))
        )
        if not usernames:
            return
        try:
            found = self.store.find(Filters(usernames=usernames, states=OPEN))
            if found:
                self.refresh(found)
        except UserStateError:
            log.exception("assignments were not brought up to date after statements")

    def on_enrolled(self, username: str, course_key: str) -> None:
        """A user was enrolled: their open assignment of the course may be accepted."""
        self.refresh(
            self.store.find(Filters(username=username, course_key=course_key, states=OPEN))
        )

    def link_user(
        self, username: str, email: str | None, *, actor: str = "lrs"
    ) -> list[Assignment]:
        """A user has this address now: the assignments made for it become theirs.

        A link that fails (the user has an active assignment of the content
        already) leaves the failure in the log and the assignment *errored*,
        with the reason: someone must cancel one of the two, or retry it.
        """
        if not email:
            return []
        linked = []
        for assignment in self.store.find(Filters(email=email.lower())):
            if assignment.username is not None or not assignment.active:
                continue
            try:
                moved = self.store.link(assignment.id, username, actor=actor)
            except Conflict as exc:
                if State.errored in MOVES[assignment.state]:
                    self.move(assignment.id, State.errored, actor=actor, reason=str(exc))
                continue
            self._notify("linked", moved)
            linked.append(moved)
        return self.refresh(linked)

    def retry(self, assignment_id: str, *, actor: str) -> Assignment:
        """Try an errored assignment again: allocated, linked if its address has a user now.

        Raises:
            Conflict: it is not errored.
        """
        moved = self.move(assignment_id, State.allocated, actor=actor)
        if moved.username is None and moved.email is not None:
            user = self.storage.enrollments.usernames_by_email([moved.email]).get(moved.email)
            if user is not None:
                self.link_user(user, moved.email, actor=actor)
        return self.get(assignment_id)

    # -- for schedulers ------------------------------------------------------------------

    def expire(self, at: datetime | None = None, filters: Filters = EVERY) -> list[Assignment]:
        """Expire every open assignment past its due date; return them (none the second time)."""
        at = at or now()
        expired = []
        for assignment in self.store.find(replace(filters, states=None, due_before=at)):
            refreshed = self._refreshed(assignment, at, progress=False)
            if refreshed.state == State.expired:
                expired.append(refreshed)
        return expired

    def remind(self, before: timedelta, at: datetime | None = None) -> list[Assignment]:
        """Remind the learners of open assignments due within ``before``, once each."""
        at = at or now()
        reminded = []
        for assignment in self.store.find(Filters(due_before=at + before)):
            if assignment.due is None or assignment.due <= at:
                continue
            if "reminded" in self.store.last_actions(assignment.id):
                continue
            self.store.record(
                assignment.id, "reminded", actor="lrs", details={"due": assignment.due.isoformat()}
            )
            self._notify("reminded", assignment)
            reminded.append(assignment)
        return reminded

    def _notify(self, event: str, assignment: Assignment) -> None:
        if self.webhook is not None:
            self.webhook.send(event, assignment)


def _emails_of(users: Iterable[User]) -> dict[str, str]:
    return {user.email.lower(): user.username for user in users if user.email}


def parse_span(text: str) -> timedelta:
    """A span of time written as a number and a unit: ``2d``, ``12h``, ``30m``.

    Raises:
        InvalidInput: another form.
    """
    units = {"d": "days", "h": "hours", "m": "minutes"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise InvalidInput(f"{text!r} is not a span such as 2d, 12h or 30m")
    return timedelta(**{units[unit]: int(number)})


def parse_due(value: Any) -> datetime | None:
    """A due date from a row or an option: a datetime, or ISO 8601 text (a date: its end, UTC).

    Raises:
        InvalidInput: not such a time.
    """
    if value is None or isinstance(value, datetime):
        return value
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        text += "T23:59:59Z"
    if not syntax.is_timestamp(text, offset_required=False):
        raise InvalidInput(f"due must be an ISO 8601 time, not {value!r}")
    return syntax.parse_timestamp(text)


def _row_values(row: Any) -> dict[str, str]:
    """A bulk row's given values, each a text (``ROW_FIELDS``).

    Raises:
        InvalidInput: not an object, an unknown field, or a value that is no text.
    """
    if not isinstance(row, Mapping):
        raise InvalidInput("a row must be an object")
    unknown = set(row) - set(ROW_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(sorted(map(str, unknown)))}")
    values = {name: value for name, value in row.items() if value not in ("", None)}
    for name, value in values.items():
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a text, not {type(value).__name__}")
    return values
