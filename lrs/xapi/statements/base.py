"""The statement store interface, and the query terms every backend indexes.

A store keeps ``Record``s: the statement as JSON text, its stored time in
microseconds, a digest of what the client sent (for the equality test of
xAPI-Data.md section 2.3.1), and the terms that queries filter on (section
2.1.3 of xAPI-Communication.md), extracted once, on write, by ``terms_of``.
"""

import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import orjson

from lrs.closeable import Closeable
from lrs.exceptions import Conflict, InvalidInput
from lrs.xapi.agents import agent_key, with_agents_replaced
from lrs.xapi.digests import digest
from lrs.xapi.syntax import context_activities
from lrs.xapi.validation import VOIDED


def _agents_in(actor: Any) -> list[str]:
    """An agent's key, or a group's key and its members' keys (section 2.1.3, agent)."""
    key = agent_key(actor)
    keys = [] if key is None else [key]
    members = actor.get("member") if isinstance(actor, dict) else None
    if members:
        keys += [key for key in map(agent_key, members) if key is not None]
    return keys


def _context_members(context: Any) -> list[str]:
    """The agents of 2.0.0's ``contextAgents`` and ``contextGroups`` (and their members)."""
    keys: list[str] = []
    if not isinstance(context, dict):
        return keys
    for part, kind in (("contextAgents", "agent"), ("contextGroups", "group")):
        for item in context.get(part) or ():
            if isinstance(item, dict):
                keys += _agents_in(item.get(kind))
    return keys


def _terms(values: list[str]) -> tuple[str, ...]:
    """Distinct values, sorted (one value, the usual case, needs no set)."""
    return (values[0],) if len(values) == 1 else tuple(sorted(set(values)))


_SHA2 = re.compile(r'"sha2":"([^"\\]*)"')


def attachment_hashes(text: str) -> list[str]:
    """The SHA-2 hashes a statement's text names (as ``using_attachments`` reads them)."""
    return sorted(set(_SHA2.findall(text))) if '"sha2"' in text else []


def hashes_named(texts: Iterable[str], hashes: set[str]) -> set[str]:
    """Which of ``hashes`` these statement texts name, reading each text once."""
    found: set[str] = set()
    for text in texts:
        named = attachment_hashes(text)
        if named:
            found.update(hashes.intersection(named))
            if len(found) == len(hashes):
                break
    return found


class Terms(NamedTuple):
    """What queries filter on, for one statement.

    Tuples of strings, not sets, so that a store can keep them as plain
    tuples, which CPython's cyclic garbage collector stops tracking: a store
    of millions of records then costs the collector nothing.
    """

    verb: str
    agents: tuple[str, ...]
    related_agents: tuple[str, ...]
    activity: str | None
    related_activities: tuple[str, ...]
    registration: str | None
    # The statement this one targets with a StatementRef object, if any.
    target: str | None


def terms_of(statement: dict[str, Any], authority: Any = None) -> Terms:
    """Extract the query terms of a (valid) statement.

    ``authority`` is the authority the LRS gives the statement, when it is
    not in ``statement`` (the one a client sends there is replaced).
    """
    actor, obj = statement["actor"], statement["object"]
    object_type = obj.get("objectType", "Activity")
    agents = _agents_in(actor)
    related = agents[:]
    activities: list[str] = []
    activity = None
    if object_type == "Activity":
        activity = obj["id"]
        activities.append(activity)
    elif object_type in ("Agent", "Group"):
        agents += _agents_in(obj)
        related += _agents_in(obj)
    context = statement.get("context", {})
    if context:
        for part in ("instructor", "team"):
            if part in context:
                related += _agents_in(context[part])
        related += _context_members(context)
        activities += [activity["id"] for activity in context_activities(context)]
    related += _agents_in(statement.get("authority") if authority is None else authority)
    if object_type == "SubStatement":
        related += _agents_in(obj["actor"])
        inner = obj["object"]
        if inner.get("objectType") in ("Agent", "Group"):
            related += _agents_in(inner)
        elif inner.get("objectType", "Activity") == "Activity":
            activities.append(inner["id"])
        sub_context = obj.get("context", {})
        for part in ("instructor", "team"):
            related += _agents_in(sub_context.get(part))
        related += _context_members(sub_context)
        activities += [activity["id"] for activity in context_activities(sub_context)]
    return Terms(
        verb=statement["verb"]["id"],
        agents=_terms(agents),
        related_agents=_terms(related),
        activity=activity,
        related_activities=_terms(activities) if activities else (),
        registration=context.get("registration"),
        target=obj["id"] if object_type == "StatementRef" else None,
    )


# The kinds of term a store indexes, one per filter of section 2.1.3 (and the
# related_* forms of two of them).
VERB, AGENT, RELATED_AGENT, ACTIVITY, RELATED_ACTIVITY, REGISTRATION = range(6)


def index_keys(terms: Sequence[Any]) -> list[tuple[int, str]]:
    """The (kind, value) keys a statement with these terms is indexed under.

    ``terms`` is a ``Terms``, or a plain tuple of the same fields.
    """
    verb, agents, related_agents, activity, related_activities, registration = terms[:6]
    keys = [(VERB, verb)]
    keys += [(AGENT, agent) for agent in agents]
    keys += [(RELATED_AGENT, agent) for agent in related_agents]
    if activity is not None:
        keys.append((ACTIVITY, activity))
    keys += [(RELATED_ACTIVITY, item) for item in related_activities]
    if registration is not None:
        keys.append((REGISTRATION, registration))
    return keys


#: Microseconds in a day.
DAY_US = 86_400_000_000


class Record(NamedTuple):
    """One stored statement (a tuple, for the reason given on ``Terms``)."""

    id: str
    text: str
    stored_us: int
    digest: str
    terms: Terms
    voided: bool = False
    # The term sets of the statement this one targets with a StatementRef, and
    # of that one's target, and so on: queries match them too (section 2.1.3,
    # Filter Conditions for StatementRefs).
    inherited: tuple[Terms, ...] = ()
    # The course it is in (``lrs.xapi.courses``, "" for none) and when it
    # happened (its timestamp): what a course's activity is counted by.
    course: str = ""
    time_us: int = 0

    @property
    def term_sets(self) -> tuple[Terms, ...]:
        """Its own terms, then the inherited ones."""
        return (self.terms, *self.inherited)

    @property
    def voids(self) -> str | None:
        """The id of the statement this one voids (section 2.3.2), if it is a voiding one."""
        return self.terms.target if self.terms.verb == VOIDED else None


@dataclass(frozen=True)
class StatementQuery:
    """A statement query (xAPI-Communication.md section 2.1.3), in store terms."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_agents: bool = False
    related_activities: bool = False
    since_us: int | None = None
    until_us: int | None = None
    ascending: bool = False
    limit: int = 100
    # Where the previous page ended: (stored_us, id) of its last statement.
    after: tuple[int, str] | None = None
    # Voided statements too (an export, a backup); xAPI queries never ask for them.
    with_voided: bool = False

    def index_keys(self) -> list[tuple[int, str]]:
        """The (kind, value) keys the filters ask for, the usually most selective first.

        Registration, activity, agent, verb: a store that walks one key's
        statements and tests the rest walks the first.
        """
        keys = []
        if self.registration is not None:
            keys.append((REGISTRATION, self.registration))
        if self.activity is not None:
            keys.append((RELATED_ACTIVITY if self.related_activities else ACTIVITY, self.activity))
        if self.agent is not None:
            keys.append((RELATED_AGENT if self.related_agents else AGENT, self.agent))
        if self.verb is not None:
            keys.append((VERB, self.verb))
        return keys

    def matches(self, record: Record) -> bool:
        """Whether a record passes every filter but time, itself or through its targets."""
        return any(self.matches_terms(terms) for terms in record.term_sets)

    def matches_terms(self, terms: Terms) -> bool:
        """Whether a statement with these terms passes every filter but time."""
        if self.verb is not None and terms.verb != self.verb:
            return False
        if self.registration is not None and terms.registration != self.registration:
            return False
        if self.agent is not None:
            agents = terms.related_agents if self.related_agents else terms.agents
            if self.agent not in agents:
                return False
        if self.activity is not None:
            if self.related_activities:
                if self.activity not in terms.related_activities:
                    return False
            elif terms.activity != self.activity:
                return False
        return True


class StatementStore(Closeable, ABC):
    """Stores statements; each backend indexes the terms of ``terms_of``."""

    #: Statements a long job (an erasure's rewrite, a purge, a removal) writes
    #: at a time, for a backend whose writers queue for one lock (SQLite); 0
    #: for the others, where a job writes as it finds best.
    written_at_once = 0

    @abstractmethod
    def save(self, records: Sequence[Record]) -> list[str]:
        """Store a batch of new statements, all or nothing.

        A record whose id is stored already with the same digest is skipped
        (not an error); voiding records void their targets.

        Returns:
            The ids of the records actually stored (new ones).

        Raises:
            Conflict: an id is stored already with other content; nothing is stored.
            InvalidInput: a voiding statement targets a voiding statement.
        """

    @abstractmethod
    def get(self, statement_id: str) -> Record | None:
        """Return the record with this id (voided or not), or ``None``."""

    @abstractmethod
    def query(self, query: StatementQuery) -> list[Record]:
        """Return up to ``query.limit`` unvoided records that match the query.

        Newest first (oldest first when ``ascending``), ties broken by id.
        Voided records too when ``query.with_voided``.
        """

    def walk(self, query: StatementQuery, page: int = 1000) -> Iterator[Record]:
        """Every record that matches ``query``, oldest first, read ``page`` at a time.

        What reads every matching statement (an export, a rebuild, a chart)
        goes through here; the query's order, limit and cursor are this
        method's.
        """
        query = replace(query, ascending=True, limit=page, after=None)
        while True:
            records = self.query(query)
            yield from records
            if len(records) < page:
                return
            query = replace(query, after=(records[-1].stored_us, records[-1].id))

    def course_days(self, course: str, since_us: int, until_us: int) -> Counter[int]:
        """How many unvoided statements of ``course`` happened each day, in ``[since, until)``.

        Days are UTC days since the epoch (``time_us // DAY_US``), by each
        statement's timestamp (when it happened, not when it was stored: a
        week imported today is a week of activity). Read from an index by
        course and time: the cost follows the course, not the store.
        """
        if not course:
            return Counter()
        return Counter(
            time_us // DAY_US for time_us in self._course_times(course, since_us, until_us)
        )

    @abstractmethod
    def _course_times(self, course: str, since_us: int, until_us: int) -> Iterable[int]:
        """The timestamps of the unvoided statements of ``course`` in ``[since, until)``."""

    @abstractmethod
    def count(self) -> int:
        """Return how many statements are stored."""

    def get_many(self, ids: Sequence[str]) -> list[Record]:
        """The stored records with these ids, in the order asked (one read where it can)."""
        return [record for record in map(self.get, ids) if record is not None]

    # -- the feed: every statement in the order it became visible (forwarding) --------

    def feed(
        self, after: tuple[int, str] | None, until_us: int, limit: int
    ) -> list[tuple[tuple[int, str], Record]]:
        """The next statements (voided ones too) after ``after``, each with its place.

        Places increase strictly, in the order statements became visible, and
        are never given again: a reader that resumes after the last place it
        read skips nothing. Here (MongoDB) a place is (stored time, id), read
        up to ``readable_through_us``; SQLite and memory number their
        statements as they store them (see their ``feed``).
        """
        query = StatementQuery(
            ascending=True,
            after=after,
            until_us=min(until_us, self.readable_through_us(until_us)),
            with_voided=True,
            limit=limit,
        )
        return [((record.stored_us, record.id), record) for record in self.query(query)]

    def feed_end(self) -> tuple[int, str] | None:
        """The place of the newest statement in the feed (``None`` when empty)."""
        newest = self.query(StatementQuery(limit=1, with_voided=True))
        return None if not newest else (newest[0].stored_us, newest[0].id)

    def feed_after(self, stored_us: int) -> tuple[int, str] | None:
        """A place after which the feed holds the statements stored after ``stored_us``."""
        return (stored_us + 1, "")

    def settle(self) -> int:
        """Finish what writers left half done, and take back what they abandoned.

        A store whose batches are not one transaction (MongoDB's) may hold
        batches that a writer committed and died before showing, or inserted
        and died before committing. Erasure and purge settle them first, so
        that they see everything stored. Returns how many batches it settled
        (always 0 where a batch is one transaction).
        """
        return 0

    def consistent_through_us(self, now_us: int) -> int:
        """A time through which every statement stamped is visible (Consistent-Through).

        No statement stamped at or before it can become visible later: a
        reader that takes it as its next ``since`` skips nothing (xAPI 1.0.3
        Communication 2.1.3, ``X-Experience-API-Consistent-Through``). Where
        batches are stamped under the store's write lock (SQLite, memory),
        only a batch being written at this instant is stamped and unseen:
        ``WRITE_MARGIN_US`` back from now covers it.
        """
        return now_us - WRITE_MARGIN_US

    def readable_through_us(self, now_us: int) -> int:
        """Where a reader walking forward in stored order (``since``, ascending) stops.

        Where batches become visible in the order of their stamps (SQLite,
        memory: stamped under the write lock), a reader's own last ``stored``
        is a safe place to resume from, and it reads up to now. MongoDB
        stops before its oldest batch in flight.
        """
        return now_us

    def with_agents(self, keys: Iterable[str]) -> list[str]:
        """The ids of every statement (voided ones too) in which one of these agents appears.

        Themselves or through the statements they target: what
        ``erase_agents`` would rewrite. Half-done batches are settled first.
        """
        self.settle()
        return self._ids_with_agents(frozenset(keys))

    def erase_agents(
        self,
        keys: Iterable[str],
        replacement: dict[str, Any],
        pause: Callable[[], None] = lambda: None,
    ) -> int:
        """Replace the agents of ``keys`` by ``replacement`` in every statement; return how many.

        Every stored statement in which one of them appears (voided ones
        too, and wherever in the statement: see
        ``lrs.xapi.agents.with_agents_replaced``) is written again with its
        id, stored time and voided flag, and with its text, digest and terms
        (its own and those it inherits through StatementRefs) derived from
        the new content. A learner's erasure pseudonymizes their statements
        this way; running it again changes nothing.
        """
        erased = frozenset(keys)
        self.settle()
        found = self._held_many(self._ids_with_agents(erased))
        changed: dict[str, Record] = {}
        for record in found:
            statement = with_agents_replaced(orjson.loads(record.text), erased, replacement)
            # A timestamp equal to the stored time was set by the LRS: as at
            # the first store, it is not part of what the client sent.
            sent = statement
            if statement.get("timestamp") == statement.get("stored"):
                sent = {key: value for key, value in statement.items() if key != "timestamp"}
            changed[record.id] = record._replace(
                text=orjson.dumps(statement).decode(),
                digest=digest(sent),
                terms=terms_of(statement),
            )
        done: dict[str, Record] = {}

        def final(record: Record) -> Record:
            """The record with the inherited term sets of its target as rewritten."""
            if record.id in done:
                return done[record.id]
            done[record.id] = record  # a cycle of references stops here
            target_id = record.terms.target
            if record.inherited and target_id is not None:
                target = changed.get(target_id) or self.get(target_id)
                if target is not None:
                    record = record._replace(inherited=final(target).term_sets)
            done[record.id] = record
            return record

        rewritten = [final(record) for record in changed.values()]
        # Where writers wait for one lock, a few hundred at a time with
        # ``pause`` between: a learner's thousands of statements are then not
        # one long write that other writers wait behind.
        step = self.written_at_once or len(rewritten) or 1
        for start in range(0, len(rewritten), step):
            if start:
                pause()
            self._replace(rewritten[start : start + step])
        return len(rewritten)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove statements for good (an erasure that asks for it, a purge by age).

        They are gone from reads, queries and the count. Statements that
        targeted them keep the terms they inherited from them (see
        docs/erasure.md). Returns how many were stored.
        """
        found = sorted(set(ids))
        return self._delete(found) if found else 0

    def older_than(self, stored_us: int, limit: int) -> list[str]:
        """Up to ``limit`` ids of statements stored before ``stored_us``, oldest first.

        Voided ones too. A purge by age reads them a batch at a time.
        """
        return self._older_than(stored_us, limit)

    def using_attachments(self, hashes: Iterable[str]) -> set[str]:
        """Which of these attachment hashes a stored statement still names.

        Where no index holds them, read from the statements' text: one scan
        for all the hashes, for the rare removal of statements.
        """
        wanted = set(hashes)
        return self._using_attachments(wanted) if wanted else set()

    @abstractmethod
    def _using_attachments(self, hashes: set[str]) -> set[str]:
        """See ``using_attachments`` (``hashes`` is not empty)."""

    @abstractmethod
    def _delete(self, ids: Sequence[str]) -> int:
        """Remove the statements with these ids, and their index entries; return how many were."""

    @abstractmethod
    def _older_than(self, stored_us: int, limit: int) -> list[str]:
        """See ``older_than``."""

    def count_older_than(self, stored_us: int) -> int:
        """How many statements (voided ones too) were stored before ``stored_us``.

        Half-done batches are settled first (a purge counts, then deletes).
        """
        self.settle()
        return self._count_older_than(stored_us)

    def _held_many(self, ids: Sequence[str]) -> list[Record]:
        """The records with these ids, visible or in a batch still being stored.

        An erasure rewrites both: a batch in flight is then stored
        pseudonymized, or taken back.
        """
        return self.get_many(ids)

    @abstractmethod
    def _count_older_than(self, stored_us: int) -> int:
        """See ``count_older_than``."""

    @abstractmethod
    def _ids_with_agents(self, keys: frozenset[str]) -> list[str]:
        """The ids of every statement, voided or not, with one of these agents in its term sets.

        Those of a batch still being stored too, where a store has such (``_held``).
        """

    @abstractmethod
    def _replace(self, records: Sequence[Record]) -> None:
        """Write these records over the stored ones of the same ids (all or nothing).

        Their text, digest, terms and inherited terms change, and the index
        with them; stored time and voided flag are those already stored.
        """


#: Longer than a write transaction holds a batch's stamp before its commit
#: (SQLite's writes are kept to milliseconds: ``SqliteDatabase.longest_write_us``).
WRITE_MARGIN_US = 1_000_000


def wanted_ids(records: Iterable[Record]) -> set[str]:
    """The ids a store must look up to save a batch: its own, and its targets'."""
    ids = set()
    for record in records:
        ids.add(record.id)
        if record.terms.target is not None:
            ids.add(record.terms.target)
    return ids


def check_batch(records: Iterable[Record], stored: dict[str, Record]) -> list[Record]:
    """The records of a batch that are new, after the checks every backend shares.

    New records that target a known statement inherit its term sets.

    Args:
        records: the batch.
        stored: the records already stored with the ids of ``wanted_ids``.

    Raises:
        Conflict: an id is stored with other content.
        InvalidInput: a voiding statement targets a voiding statement.
    """
    new = []
    known = dict(stored)
    for record in records:
        existing = stored.get(record.id)
        if existing is not None:
            if existing.digest != record.digest:
                raise Conflict(f"statement {record.id} exists already, with other content")
            continue
        target = known.get(record.terms.target or "")
        if target is not None:
            if record.voids is not None and target.voids is not None:
                raise InvalidInput(
                    f"statement {record.id} voids statement {target.id}, which is itself a "
                    "voiding statement; voiding statements cannot be voided"
                )
            record = record._replace(inherited=target.term_sets)
        known[record.id] = record
        new.append(record)
    return new
