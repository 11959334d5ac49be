"""The contract of statement stores, split by behaviour: saving, querying, racing writers."""

import uuid
from functools import partial
from typing import Any

import orjson
import pytest

from lrs.clock import default_clock
from lrs.exceptions import Conflict
from lrs.testing.helpers import (
    AUTHORITY,
    failures,
    race,
    statement,
)
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import DAY_US, Record, StatementQuery, StatementStore
from lrs.xapi.validation import VOIDED, Version


class StatementHelpers:
    """Building records and saving them, for the classes below."""

    @staticmethod
    def record(data: dict[str, Any], stored_us: int | None = None) -> Record:
        return prepare(data, version=Version.V1_0_3, authority=AUTHORITY).stamped(
            stored_us if stored_us is not None else default_clock.now_us()
        )

    def save(self, statements: StatementStore, *data: dict[str, Any]) -> list[str]:
        return statements.save([self.record(item) for item in data])

    def ids(self, records: list[Record]) -> list[str]:
        return [record.id for record in records]


class StatementSavingContract(StatementHelpers):
    """Saving: ids are kept once, conflicts refused, voiding applied.

    Subclasses supply a ``statements`` fixture returning an empty store.
    """

    def test_saved_statements_come_back(self, statements: StatementStore) -> None:
        ids = self.save(statements, statement(0), statement(1))
        assert ids == [statement(0)["id"], statement(1)["id"]]
        record = statements.get(ids[0])
        assert record is not None
        stored = orjson.loads(record.text)
        assert stored["verb"] == statement(0)["verb"]
        assert stored["authority"] == AUTHORITY
        assert stored["version"] == "1.0.0"
        assert stored["timestamp"] == stored["stored"]
        assert statements.get(str(uuid.UUID(int=999))) is None
        assert statements.count() == 2
        # Many at once: those stored, in the order asked.
        missing = str(uuid.UUID(int=999))
        many = statements.get_many([ids[1], missing, ids[0]])
        assert [record.id for record in many] == [ids[1], ids[0]]
        assert many[1] == record

    def test_same_id_with_same_content_is_skipped(self, statements: StatementStore) -> None:
        self.save(statements, statement(0))
        assert self.save(statements, statement(0), statement(1)) == [statement(1)["id"]]
        assert statements.count() == 2

    def test_same_id_with_other_content_conflicts_and_stores_nothing(
        self, statements: StatementStore
    ) -> None:
        self.save(statements, statement(0))
        other = statement(0, verb="http://adlnet.gov/expapi/verbs/failed")
        with pytest.raises(Conflict):
            self.save(statements, statement(1), other)
        assert statements.count() == 1
        assert statements.get(statement(1)["id"]) is None

    def test_voiding_hides_the_target_from_queries(self, statements: StatementStore) -> None:
        self.save(statements, statement(0), statement(1))
        reference = {"objectType": "StatementRef", "id": statement(0)["id"]}
        self.save(statements, statement(2, verb=VOIDED, object=reference))
        target = statements.get(statement(0)["id"])
        assert target is not None and target.voided
        found = self.ids(statements.query(StatementQuery()))
        assert found == [statement(2)["id"], statement(1)["id"]]
        everything = statements.query(StatementQuery(with_voided=True, ascending=True))
        assert self.ids(everything) == [statement(n)["id"] for n in range(3)]
        assert [record.voided for record in everything] == [True, False, False]
        page = statements.query(StatementQuery(with_voided=True, ascending=True, limit=1))
        assert self.ids(page) == [statement(0)["id"]]
        walked = list(statements.walk(StatementQuery(with_voided=True), page=2))
        assert self.ids(walked) == [statement(n)["id"] for n in range(3)]
        assert self.ids(list(statements.walk(StatementQuery(), page=1))) == self.ids(
            statements.query(StatementQuery(ascending=True))
        )

    def test_a_voiding_statement_cannot_be_voided(self, statements: StatementStore) -> None:
        self.save(statements, statement(0))
        first = statement(
            1, verb=VOIDED, object={"objectType": "StatementRef", "id": statement(0)["id"]}
        )
        self.save(statements, first)
        second = statement(
            2, verb=VOIDED, object={"objectType": "StatementRef", "id": statement(1)["id"]}
        )
        with pytest.raises(ValueError, match="cannot be voided"):
            self.save(statements, second)
        assert statements.get(statement(2)["id"]) is None
        record = statements.get(statement(1)["id"])
        assert record is not None and not record.voided


class StatementQueryContract(StatementHelpers):
    """Queries: filters, order, paging, time windows, StatementRef targets.

    Subclasses supply a ``statements`` fixture returning an empty store.
    """

    def test_a_course_counts_its_statements_by_the_day_they_happened(
        self, statements: StatementStore
    ) -> None:
        day = DAY_US
        first, second = "course-v1:Org+A+1", "course-v1:Org+B+1"

        def at(n: int, course: str, when: str) -> dict[str, Any]:
            block = course.replace("course-v1:", "block-v1:") + f"+type@html+block@b{n}"
            return statement(n, activity=block, timestamp=when)

        records = [
            at(0, first, "2026-03-01T10:00:00Z"),
            at(1, first, "2026-03-01T23:59:59.999999Z"),
            at(2, first, "2026-03-02T00:00:00Z"),
            at(3, second, "2026-03-02T08:00:00Z"),
            at(4, first, "2026-02-27T08:00:00+02:00"),  # 06:00 UTC on the 27th
            statement(5, timestamp="2026-03-02T08:00:00Z"),  # in no course
        ]
        # Stored long after they happened (an import): counted when they happened.
        statements.save([self.record(item, 10**16 + n) for n, item in enumerate(records)])
        march = self.record(records[0]).time_us // day
        counted = statements.course_days(first, 0, 2**62)
        assert counted == {march - 2: 1, march: 2, march + 1: 1}
        assert statements.course_days(second, 0, 2**62) == {march + 1: 1}
        assert statements.course_days(first, march * day, (march + 1) * day) == {march: 2}
        assert statements.course_days("course-v1:Org+None+1", 0, 2**62) == {}
        assert statements.course_days("", 0, 2**62) == {}
        voiding = statement(
            9, verb=VOIDED, object={"objectType": "StatementRef", "id": records[2]["id"]}
        )
        self.save(statements, voiding)
        statements.delete([records[0]["id"]])
        assert statements.course_days(first, 0, 2**62) == {march - 2: 1, march: 1}

    def test_query_order_limit_and_paging(self, statements: StatementStore) -> None:
        for n in range(7):
            self.save(statements, statement(n))
        newest = self.ids(statements.query(StatementQuery(limit=3)))
        assert newest == [statement(n)["id"] for n in (6, 5, 4)]
        last = statements.get(newest[-1])
        assert last is not None
        after = (last.stored_us, last.id)
        following = self.ids(statements.query(StatementQuery(limit=3, after=after)))
        assert following == [statement(n)["id"] for n in (3, 2, 1)]
        oldest = self.ids(statements.query(StatementQuery(limit=2, ascending=True)))
        assert oldest == [statement(0)["id"], statement(1)["id"]]

    def test_query_since_and_until(self, statements: StatementStore) -> None:
        for n in range(5):
            statements.save([self.record(statement(n), stored_us=1_000_000 * (n + 1))])
        found = self.ids(statements.query(StatementQuery(since_us=2_000_000, until_us=4_000_000)))
        assert found == [statement(3)["id"], statement(2)["id"]]

    def test_statements_saved_out_of_order_are_queried_in_stored_order(
        self, statements: StatementStore
    ) -> None:
        # Two writers can save in the other order than they were stamped, and
        # two statements can share a stamp: the id breaks the tie.
        stamps = {3: 4_000_000, 0: 1_000_000, 2: 3_000_000, 1: 3_000_000, 4: 5_000_000}
        for n, stored_us in stamps.items():
            statements.save([self.record(statement(n), stored_us=stored_us)])
        every = [statement(n)["id"] for n in range(5)]
        assert self.ids(statements.query(StatementQuery(ascending=True))) == every
        verb = statement(0)["verb"]["id"]
        assert self.ids(statements.query(StatementQuery(verb=verb))) == every[::-1]
        window = StatementQuery(since_us=1_000_000, until_us=3_000_000, ascending=True)
        assert self.ids(statements.query(window)) == every[1:3]
        after = (3_000_000, statement(1)["id"])
        assert self.ids(statements.query(StatementQuery(after=after))) == [every[0]]

    def test_query_filters(self, statements: StatementStore) -> None:
        other_verb = "http://adlnet.gov/expapi/verbs/failed"
        registration = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
        self.save(
            statements,
            statement(0),
            statement(1, verb=other_verb),
            statement(2, actor="mailto:grace@example.org"),
            statement(3, activity="http://example.org/activities/a1"),
            statement(
                4,
                actor="mailto:grace@example.org",
                activity="http://example.org/activities/a1",
                context={
                    "registration": registration,
                    "instructor": {"mbox": "mailto:ada@example.org"},
                    "contextActivities": {"parent": {"id": "http://example.org/activities/a0"}},
                },
            ),
            {
                **statement(5, actor="mailto:grace@example.org"),
                "actor": {
                    "objectType": "Group",
                    "member": [{"mbox": "mailto:ada@example.org"}],
                },
            },
        )

        def found(**filters: Any) -> set[int]:
            records = statements.query(StatementQuery(limit=100, **filters))
            return {uuid.UUID(record.id).int - 1 for record in records}

        ada = "mbox:mailto:ada@example.org"
        assert found(verb=other_verb) == {1}
        assert found(agent=ada) == {0, 1, 3, 5}
        assert found(agent=ada, related_agents=True) == {0, 1, 3, 4, 5}
        assert found(activity="http://example.org/activities/a1") == {3, 4}
        assert found(activity="http://example.org/activities/a0", related_activities=True) == {
            0,
            1,
            2,
            4,
            5,
        }
        assert found(registration=registration) == {4}
        assert found(agent=ada, verb=other_verb) == {1}
        assert found(verb="http://example.org/never") == set()

    def test_statements_targeting_a_match_match_too(self, statements: StatementStore) -> None:
        # xAPI-Communication.md 2.1.3, Filter Conditions for StatementRefs.
        passed = "http://adlnet.gov/expapi/verbs/passed"
        self.save(statements, statement(0, verb=passed), statement(1))
        ref = {"objectType": "StatementRef", "id": statement(0)["id"]}
        comment = "http://adlnet.gov/expapi/verbs/commented"
        self.save(statements, statement(2, verb=comment, actor="mailto:x@y.z", object=ref))
        ref_ref = {"objectType": "StatementRef", "id": statement(2)["id"]}
        self.save(statements, statement(3, verb=comment, actor="mailto:x@y.z", object=ref_ref))
        found = self.ids(statements.query(StatementQuery(verb=passed)))
        assert found == [statement(n)["id"] for n in (3, 2, 0)]
        # Every filter must hold in one statement of the chain, not across them.
        mixed = StatementQuery(verb=passed, agent="mbox:mailto:x@y.z")
        assert statements.query(mixed) == []
        # Time filters apply to the targeting statement itself.
        last = statements.get(statement(2)["id"])
        assert last is not None
        since = self.ids(statements.query(StatementQuery(verb=passed, since_us=last.stored_us)))
        assert since == [statement(3)["id"]]


class StatementRacingContract(StatementHelpers):
    """Writers of the same ids at the same moment.

    Subclasses supply a ``statements`` fixture returning an empty store.
    """

    def test_racing_identical_batches_all_succeed_and_store_each_once(
        self, statements: StatementStore
    ) -> None:
        for trial in range(5):
            batch = [self.record(statement(trial * 100 + n)) for n in range(10)]
            outcomes = race(*[partial(statements.save, batch)] * 8)
            assert failures(outcomes) == []
            # Between them, the racers stored each statement exactly once.
            stored = [statement_id for o in outcomes for statement_id in o]
            assert sorted(stored) == sorted(record.id for record in batch)
        assert statements.count() == 50

    def test_racing_conflicting_batches_store_one_whole_batch_and_nothing_of_the_other(
        self, statements: StatementStore
    ) -> None:
        for trial in range(10):
            base = 1000 + trial * 10
            shared = statement(base)
            first = [self.record(statement(base + 1)), self.record(shared)]
            other = {**shared, "verb": {"id": "http://example.org/verbs/other"}}
            second = [self.record(other), self.record(statement(base + 2))]
            outcomes = race(partial(statements.save, first), partial(statements.save, second))
            conflicts = [o for o in outcomes if isinstance(o, Conflict)]
            assert len(conflicts) == 1, outcomes
            winner = first if outcomes[1] is conflicts[0] else second
            loser = second if winner is first else first
            for record in winner:
                found = statements.get(record.id)
                assert found is not None and found.digest == record.digest
            # The loser's statement that the winner did not share was not stored.
            lonely = loser[0] if loser is first else loser[1]
            assert statements.get(lonely.id) is None


class StatementErasureContract(StatementHelpers):
    """A learner's agents replaced everywhere by a pseudonym, terms and index with them.

    Subclasses supply a ``statements`` fixture returning an empty store.
    """

    ADA = "mailto:ada@example.org"
    PSEUDONYM = {"account": {"homePage": "https://lrs.test/retired", "name": "retired-0f3a"}}

    def stored(self) -> list[dict[str, Any]]:
        ada = {"mbox": self.ADA, "name": "Ada Lovelace"}
        bob = "mailto:bob@example.org"
        return [
            statement(0, actor=self.ADA) | {"actor": ada},
            statement(1, actor=bob, context={"instructor": ada}),
            statement(
                2,
                actor=bob,
                object={"objectType": "Group", "member": [ada, {"mbox": bob}]},
            ),
            statement(
                3, actor=bob, object={"objectType": "StatementRef", "id": statement(0)["id"]}
            ),
            statement(
                4,
                actor=bob,
                object={
                    "objectType": "SubStatement",
                    "actor": ada,
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                    "object": {"id": "http://example.org/activities/a1"},
                },
            ),
            statement(5, actor="mailto:carol@example.org"),
            # Voids statement 1: a voided statement is rewritten too.
            statement(
                6,
                actor=bob,
                verb=VOIDED,
                object={"objectType": "StatementRef", "id": statement(1)["id"]},
            ),
        ]

    def test_every_statement_with_the_agent_is_rewritten_and_indexed_anew(
        self, statements: StatementStore
    ) -> None:
        for n, data in enumerate(self.stored()):
            statements.save([self.record(data, 1_000 + n)])
        untouched = statements.get(statement(5)["id"])
        bob = StatementQuery(agent="mbox:mailto:bob@example.org", related_agents=True)
        bobs = self.ids(statements.query(bob))
        keys = {f"mbox:{self.ADA}"}
        # 0 to 4, and 6 (which inherits the terms of 1, which it voids); 3 inherits 0's.
        assert statements.erase_agents(keys, self.PSEUDONYM) == 6
        for n in range(7):
            record = statements.get(statement(n)["id"])
            assert record is not None and record.stored_us == 1_000 + n
            assert "ada@example.org" not in record.text and "Lovelace" not in record.text
            assert all(f"mbox:{self.ADA}" not in terms.related_agents for terms in record.term_sets)
        assert statements.get(statement(5)["id"]) == untouched
        assert self.ids(statements.query(bob)) == bobs  # other agents' index is intact
        first = statements.get(statement(0)["id"])
        assert first is not None and orjson.loads(first.text)["actor"] == self.PSEUDONYM
        voided = statements.get(statement(1)["id"])
        assert voided is not None and voided.voided
        everyone = StatementQuery(agent=f"mbox:{self.ADA}", related_agents=True)
        assert statements.query(everyone) == []
        pseudonym = StatementQuery(
            agent="account:https://lrs.test/retired|retired-0f3a", related_agents=True
        )
        # 1 is voided; 3 and 6 match through the statements they target.
        assert sorted(self.ids(statements.query(pseudonym))) == [
            statement(n)["id"] for n in (0, 2, 3, 4, 6)
        ]
        # The digest follows the content: the same content sent now is the same statement.
        rewritten = statements.get(statement(0)["id"])
        assert rewritten is not None
        again = self.record(statement(0) | {"actor": self.PSEUDONYM})
        assert again.digest == rewritten.digest
        assert statements.erase_agents(keys, self.PSEUDONYM) == 0  # nothing left to do
        assert statements.count() == 7


class StatementDeletionContract(StatementHelpers):
    """Statements removed for good: by id, and the oldest first (a purge by age).

    Subclasses supply a ``statements`` fixture returning an empty store.
    """

    def test_deleted_statements_are_gone_from_reads_queries_and_the_count(
        self, statements: StatementStore
    ) -> None:
        for n in range(5):
            statements.save([self.record(statement(n, actor=f"mailto:l{n % 2}@x.org"), 1_000 + n)])
        assert statements.older_than(1_003, 10) == [statement(n)["id"] for n in range(3)]
        assert statements.older_than(1_003, 2) == [statement(n)["id"] for n in range(2)]
        assert (statements.count_older_than(1_003), statements.count_older_than(0)) == (3, 0)
        assert statements.delete([statement(0)["id"], statement(1)["id"], "not-stored"]) == 2
        assert statements.get(statement(0)["id"]) is None
        assert statements.count() == 3
        assert self.ids(statements.query(StatementQuery(ascending=True))) == [
            statement(n)["id"] for n in (2, 3, 4)
        ]
        only = StatementQuery(agent="mbox:mailto:l1@x.org")
        assert self.ids(statements.query(only)) == [statement(3)["id"]]
        assert statements.older_than(1_003, 10) == [statement(2)["id"]]
        assert statements.delete([]) == 0
        sha2 = "ab" * 32
        used = statement(
            9,
            attachments=[
                {
                    "usageType": "http://example.org/usage",
                    "display": {"en": "a file"},
                    "contentType": "text/plain",
                    "length": 4,
                    "sha2": sha2,
                    "fileUrl": "http://example.org/file",
                }
            ],
        )
        self.save(statements, used)
        assert statements.using_attachments({sha2, "cd" * 32}) == {sha2}
        statements.delete([used["id"]])
        assert statements.using_attachments({sha2}) == set()
        # An id deleted may be stored again, as new.
        assert self.save(statements, statement(0)) == [statement(0)["id"]]


class StatementFeedContract(StatementHelpers):
    """The feed: every statement once, in the order it became visible, places never given again."""

    def test_the_feed_holds_every_statement_once_in_the_order_stored(
        self, statements: StatementStore
    ) -> None:
        now = default_clock.now_us()
        # Read a minute on: MongoDB's feed stays a clock margin behind its newest stamps.
        later = now + 60_000_000
        assert statements.feed_end() is None and statements.feed(None, now, 10) == []
        statements.save([self.record(statement(n), now + n) for n in range(3)])
        placed = statements.feed(None, later, 10)
        assert [record.id for _, record in placed] == [statement(n)["id"] for n in range(3)]
        places = [place for place, _ in placed]
        assert places == sorted(places) and len(set(places)) == 3
        assert statements.feed_end() == places[-1]
        assert [r.id for _, r in statements.feed(places[0], later, 10)] == [
            statement(1)["id"],
            statement(2)["id"],
        ]
        # Deleted, the newest's place is not given again: a reader past it misses nothing.
        statements.delete([statement(2)["id"]])
        statements.save([self.record(statement(3), now + 5)])
        (after,) = statements.feed(places[-1], later, 10)
        assert after[1].id == statement(3)["id"] and after[0] > places[-1]
        # From a time: what was stored after it.
        start = statements.feed_after(now + 1)
        assert [r.id for _, r in statements.feed(start, later, 10)] == [statement(3)["id"]]

    def test_a_statement_stored_with_an_old_time_is_still_in_the_feed_after_the_newest(
        self, statements: StatementStore
    ) -> None:
        now = default_clock.now_us()
        later = now + 60_000_000
        statements.save([self.record(statement(0), now)])
        end = statements.feed_end()
        # As an import that keeps another LRS's stored times does.
        statements.save([self.record(statement(1), now - 3_600_000_000)])
        fed = [record.id for _, record in statements.feed(end, later, 10)]
        if type(statements).feed is StatementStore.feed:
            pytest.skip("a feed in stored order (MongoDB): docs/forwarding.md says so")
        assert fed == [statement(1)["id"]]


class StatementStoreContract(
    StatementFeedContract,
    StatementSavingContract,
    StatementQueryContract,
    StatementRacingContract,
    StatementErasureContract,
    StatementDeletionContract,
):
    """The behaviour every statement store must have.

    Subclasses supply a ``statements`` fixture returning an empty store.
    """
