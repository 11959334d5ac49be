"""Forwarding targets: other LRSs that every statement stored here is sent to (docs/forwarding.md).

A target keeps its own cursor: the place in this LRS's stored order (stored
time, then id) up to which every statement was delivered or set aside. The
statements themselves are the outbox: nothing is copied, so nothing
accumulates once delivered, and an erasure's rewrite reaches what is still
to be sent. A sender works a target only while it holds the target's
*lease* (a holder and an end time), so several processes never send the same
target at once, and a dead holder's lease runs out.

Every change of a target is a compare-and-set on its ``version``; the rules
are here, each backend keeps a target's JSON and its dead letters.
"""

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from lrs.closeable import Closeable
from lrs.exceptions import DoesNotExist
from lrs.retries import attempts

ACTIVE, PAUSED = "active", "paused"


@dataclass(frozen=True)
class Filters:
    """Which statements go to a target: all, or those matching every filter given."""

    verbs: tuple[str, ...] = ()
    activity_prefixes: tuple[str, ...] = ()
    course_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """Another LRS this one forwards to, and where its stream stands."""

    id: str
    url: str  # its xAPI endpoint, ending in /xAPI or the like (statements are under it)
    key: str
    secret: str
    version: str  # the X-Experience-API-Version it is spoken to in
    filters: Filters = field(default_factory=Filters)
    state: str = ACTIVE
    cursor: tuple[int, str] | None = None  # (stored_us, id) of the last statement done
    delivered: int = 0
    dead: int = 0
    failures: int = 0  # in a row, since the last delivery
    last_error: str = ""
    next_try_us: int = 0
    lease_holder: str = ""
    lease_until_us: int = 0
    created_us: int = 0
    revision: int = 0  # the compare-and-set counter (the store's)
    # "push": statements stored here are sent there; "pull": statements stored
    # there are imported here (its cursor: the newest stored time read there).
    direction: str = "push"

    def as_json(self) -> dict[str, Any]:
        """The target as JSON keeps it (the store's copy; the API never shows the secret)."""
        found = asdict(self)
        found["filters"] = {name: list(values) for name, values in found["filters"].items()}
        found["cursor"] = None if self.cursor is None else list(self.cursor)
        return found


def target_from(value: dict[str, Any]) -> Target:
    """A target from ``Target.as_json``."""
    fields = dict(value)
    fields["filters"] = Filters(**{name: tuple(v) for name, v in fields["filters"].items()})
    cursor = fields.get("cursor")
    fields["cursor"] = None if cursor is None else (int(cursor[0]), str(cursor[1]))
    return Target(**fields)


@dataclass(frozen=True)
class DeadLetter:
    """A statement a target refused for good, with its answer (re-sendable)."""

    target: str
    statement_id: str
    time_us: int
    status: int
    answer: str


def new_target_id() -> str:
    """A new target's id: short, and never taken again."""
    return uuid.uuid4().hex[:12]


class ForwardingStore(Closeable, ABC):
    """Targets and their dead letters."""

    def add(self, target: Target) -> Target:
        """Keep a new target (revision 1)."""
        made = replace(target, revision=1)
        self._insert(made)
        return made

    def get(self, target_id: str) -> Target:
        """A target.

        Raises:
            DoesNotExist: no such target.
        """
        found = self._read(target_id)
        if found is None:
            raise DoesNotExist(f"no forwarding target {target_id!r}")
        return found

    def targets(self) -> list[Target]:
        """Every target, oldest first."""
        return sorted(self._list(), key=lambda target: (target.created_us, target.id))

    def change(self, target_id: str, how: Callable[[Target], Target | None]) -> Target:
        """Change a target by ``how`` (``None``: leave it), compare-and-set on its revision.

        Returns the target as it is after.

        Raises:
            DoesNotExist: no such target.
        """
        for _ in attempts(f"forwarding target {target_id}"):
            current = self.get(target_id)
            changed = how(current)
            if changed is None:
                return current
            after = replace(changed, revision=current.revision + 1)
            if self._write(after, current.revision):
                return after
        raise AssertionError("attempts() raises when it gives up")  # pragma: no cover

    def take_lease(self, target_id: str, holder: str, now_us: int, seconds: float) -> Target | None:
        """The target leased to ``holder`` for ``seconds``; ``None`` while another holds it.

        A holder renews its own lease the same way; a lease past its end is
        anyone's.
        """
        taken = False

        def lease(target: Target) -> Target | None:
            nonlocal taken
            if target.lease_holder not in ("", holder) and target.lease_until_us > now_us:
                taken = False
                return None
            taken = True
            return replace(
                target, lease_holder=holder, lease_until_us=now_us + int(seconds * 1_000_000)
            )

        after = self.change(target_id, lease)
        return after if taken else None

    def release(self, target_id: str, holder: str) -> None:
        """Give a lease back (when the sender stops)."""

        def release(target: Target) -> Target | None:
            if target.lease_holder != holder:
                return None
            return replace(target, lease_holder="", lease_until_us=0)

        self.change(target_id, release)

    def remove(self, target_id: str) -> None:
        """Forget a target and its dead letters.

        Raises:
            DoesNotExist: no such target.
        """
        self.get(target_id)
        self._remove_dead(target_id, None)
        self._delete(target_id)

    def add_dead(self, letters: Sequence[DeadLetter]) -> None:
        """Set statements aside for a target (one letter per statement: the latest kept)."""
        if letters:
            self._add_dead(list(letters))

    def dead_letters(self, target_id: str) -> list[DeadLetter]:
        """A target's dead letters, oldest first."""
        return sorted(self._dead(target_id), key=lambda item: (item.time_us, item.statement_id))

    def forget_dead(self, target_id: str, statement_ids: Sequence[str] | None = None) -> int:
        """Remove dead letters (all of a target's when ``statement_ids`` is ``None``)."""
        return self._remove_dead(target_id, None if statement_ids is None else list(statement_ids))

    def clear_answers(self, statement_ids: Sequence[str]) -> int:
        """Empty the answers kept in the dead letters of these statements (an erasure's).

        A target's answer may quote the statement it refused. Returns how
        many letters had one.
        """
        wanted = sorted(set(statement_ids))
        return self._clear_answers(wanted) if wanted else 0

    # -- the hooks a backend implements ----------------------------------------------

    @abstractmethod
    def _insert(self, target: Target) -> None:
        """Store a new target."""

    @abstractmethod
    def _read(self, target_id: str) -> Target | None:
        """A target, or ``None``."""

    @abstractmethod
    def _list(self) -> list[Target]:
        """Every target, in any order."""

    @abstractmethod
    def _write(self, target: Target, revision: int) -> bool:
        """Write ``target`` if the stored one is still at ``revision``; say if it was."""

    @abstractmethod
    def _delete(self, target_id: str) -> None:
        """Remove a target."""

    @abstractmethod
    def _add_dead(self, letters: list[DeadLetter]) -> None:
        """Store dead letters, replacing a target's letter of the same statement."""

    @abstractmethod
    def _dead(self, target_id: str) -> list[DeadLetter]:
        """A target's dead letters, in any order."""

    @abstractmethod
    def _remove_dead(self, target_id: str, statement_ids: list[str] | None) -> int:
        """Remove a target's dead letters (those of these statements, or all); return how many."""

    @abstractmethod
    def _clear_answers(self, statement_ids: list[str]) -> int:
        """Empty the answer of every dead letter of these statements; return how many had one."""
