"""MongoDB statement batches with a writer that dies (or stalls) between any two steps.

Faults are injected between the steps of ``MongoStatementStore.save`` on
mongomock: after the batch is recorded, after its statements are inserted,
after it is committed. Whatever the step, no statement is lost, none is
half visible, none is answered for and then taken back, and an erasure
sees what a batch in flight holds.
"""

import threading

import mongomock
import pytest
from pymongo.errors import BulkWriteError

from lrs.clock import default_clock
from lrs.exceptions import ServiceUnavailable
from lrs.testing import AUTHORITY, statement
from lrs.xapi.prepare import prepare
from lrs.xapi.statements import MongoStatementStore, mongo_batches
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.statements.mongo_batches import CLOCK_MARGIN_US
from lrs.xapi.validation import VOIDED, Version
from tests.support import REAL_MONGODB_URI, real_mongo_database


class Died(Exception):
    """The writer's process ended here."""


def record(data, stored_us=None):
    return prepare(data, version=Version.V1_0_3, authority=AUTHORITY).stamped(
        stored_us or default_clock.now_us()
    )


@pytest.fixture(params=["mongomock", *(["real"] if REAL_MONGODB_URI else [])])
def database(request):
    """mongomock, and the same faults against a real server when one is named."""
    if request.param == "mongomock":
        yield mongomock.MongoClient(tz_aware=True).lrs_test
        return
    with real_mongo_database() as database:
        yield database


def store(database):
    found = MongoStatementStore(database)
    found.transactions = False  # the pending protocol, as on a standalone server
    return found


def batch(*numbers):
    return [record(statement(n)) for n in numbers]


def visible(found, ids):
    return [statement_id for statement_id in ids if found.get(statement_id) is not None]


def dies_at(monkeypatch, writer, step):
    """Make ``writer`` die at ``step``: "open", "insert", "commit" or "finish"."""
    targets = {
        "insert": (writer, "_insert_pending"),
        "commit": (writer._batches, "commit"),
        "finish": (writer._batches, "finish"),
    }
    owner, name = targets[step]
    real = getattr(owner, name)

    def step_then_die(*args, **kwargs):
        if step in ("insert", "commit"):
            real(*args, **kwargs)  # the step is done, and the writer dies after it
        raise Died(step)

    monkeypatch.setattr(owner, name, step_then_die)


def abandoned_now(monkeypatch):
    """Time passes: every pending batch is past ABANDONED_AFTER_US."""
    monkeypatch.setattr(mongo_batches, "ABANDONED_AFTER_US", -1)


@pytest.mark.parametrize("step", ["insert", "commit", "finish"])
def test_a_writer_that_dies_leaves_nothing_half_visible_and_the_next_one_settles_it(
    database, monkeypatch, step
):
    dying, other = store(database), store(database)
    records = batch(0, 1, 2)
    ids = [item.id for item in records]
    dies_at(monkeypatch, dying, step)
    with pytest.raises(Died):
        dying.save(records)
    # Nothing shows before the batch is settled: not a part, not the whole.
    assert visible(other, ids) == [] and other.count() == 0
    assert other.query(StatementQuery(limit=10)) == []
    if step == "insert":
        # Not committed: another writer of these ids waits, then takes them back once abandoned.
        abandoned_now(monkeypatch)
    again = store(database)
    stored = again.save(records)
    if step == "insert":
        assert stored == ids  # taken back, then stored by the new writer
    else:
        assert stored == []  # committed: finished by the new writer, same content
    assert visible(again, ids) == ids and again.count() == 3
    assert database.statement_batches.count_documents({}) == 0
    assert database.statements.count_documents({"pending": {"$exists": True}}) == 0


def test_the_sweeper_settles_what_nobody_comes_back_for(database, monkeypatch):
    committed, abandoned, recorded_only = store(database), store(database), store(database)
    dies_at(monkeypatch, committed, "finish")
    dies_at(monkeypatch, abandoned, "commit")
    monkeypatch.setattr(abandoned._batches, "commit", lambda token: (_ for _ in ()).throw(Died()))
    voiding = record(
        {
            **statement(9),
            "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": statement(0)["id"]},
        }
    )
    store(database).save(batch(0))
    with pytest.raises(Died):
        committed.save([record(statement(1)), voiding])
    with pytest.raises(Died):
        abandoned.save(batch(2))
    monkeypatch.setattr(
        recorded_only, "_insert_pending", lambda *args: (_ for _ in ()).throw(Died())
    )
    with pytest.raises(Died):
        recorded_only.save(batch(3))
    reader = store(database)
    assert reader.settle() == 1  # the committed one; the others are not abandoned yet
    assert visible(reader, [statement(1)["id"], voiding.id]) == [statement(1)["id"], voiding.id]
    assert reader.get(statement(0)["id"]).voided  # the roll-forward marks voided targets too
    abandoned_now(monkeypatch)
    assert reader.settle() == 2
    assert reader.get(statement(2)["id"]) is None and reader.get(statement(3)["id"]) is None
    assert database.statement_batches.count_documents({}) == 0
    assert database.statements.count_documents({"pending": {"$exists": True}}) == 0
    # Pending statements from before batches were recorded go too, once abandoned.
    database.statements.insert_one(
        {"_id": "legacy", "text": "{}", "pending": {"token": "old", "since_us": 1}}
    )
    assert reader.settle() == 1 and database.statements.count_documents({"_id": "legacy"}) == 0


def test_a_stalled_writer_aborted_as_abandoned_never_answers_for_what_it_lost(
    database, monkeypatch
):
    # The bug this replaces: a batch pending past the limit had one id deleted
    # by another writer, then committed the rest and answered 200 for all.
    stalled, other = store(database), store(database)
    records = batch(0, 1, 2)
    ids = [item.id for item in records]
    real_commit = stalled._batches.commit
    decided = {}

    def stall_then_commit(token):
        # While this writer stalls, another takes its batch for abandoned and stores id 1.
        with monkeypatch.context() as later:
            later.setattr(mongo_batches, "ABANDONED_AFTER_US", -1)
            decided["other"] = other.save(batch(1))
        monkeypatch.setattr(stalled._batches, "commit", real_commit)
        return real_commit(token)

    monkeypatch.setattr(stalled._batches, "commit", stall_then_commit)
    answered = stalled.save(records)
    assert decided["other"] == [statement(1)["id"]]
    # Its first batch was aborted (nothing of it shown); it tried again and
    # stored the two the other writer did not; what it answers is all there.
    assert sorted(answered) == sorted([ids[0], ids[2]])
    assert visible(other, ids) == ids


def test_an_erasure_rewrites_a_batch_in_flight(database, monkeypatch):
    writer, eraser = store(database), store(database)
    dies_at(monkeypatch, writer, "insert")
    records = batch(0)
    with pytest.raises(Died):
        writer.save(records)
    ada = "mbox:mailto:ada@example.org"
    assert eraser.with_agents([ada]) == [records[0].id]  # pending, but seen
    replacement = {"account": {"homePage": "https://lrs.example.org/erased", "name": "x"}}
    assert eraser.erase_agents([ada], replacement) == 1
    text = database.statements.find_one({"_id": records[0].id})["text"]
    assert "ada@example.org" not in text


def test_a_write_concern_error_is_a_503_and_takes_the_batch_back(database, monkeypatch):
    writer = store(database)

    def concern_failed(*args, **kwargs):
        raise BulkWriteError(
            {"writeErrors": [], "writeConcernErrors": [{"code": 64, "errmsg": "waiting"}]}
        )

    monkeypatch.setattr(writer._collection, "insert_many", concern_failed)
    with pytest.raises(ServiceUnavailable):
        writer.save(batch(0))
    assert database.statement_batches.count_documents({}) == 0


def test_consistent_through_stays_behind_a_batch_in_flight(database, monkeypatch):
    writer, reader = store(database), store(database)
    now = default_clock.now_us()
    assert now - CLOCK_MARGIN_US <= reader.consistent_through_us(now) <= now
    inserted = threading.Event()
    release = threading.Event()
    real_commit = writer._batches.commit

    def held(token):
        inserted.set()
        release.wait(10)
        return real_commit(token)

    monkeypatch.setattr(writer._batches, "commit", held)
    early = record(statement(0), stored_us=now - 10_000_000)  # stamped, then slow to land
    thread = threading.Thread(target=writer.save, args=([early],))
    thread.start()
    try:
        assert inserted.wait(10)
        later = record(statement(1))
        reader.save([later])
        through = reader.consistent_through_us(default_clock.now_us())
        # A poller that stops there never walks past the early batch's stamp.
        assert through < early.stored_us < later.stored_us
    finally:
        release.set()
        thread.join(10)
    assert reader.consistent_through_us(default_clock.now_us()) > later.stored_us - CLOCK_MARGIN_US


class FakeSession:
    """A session whose transaction just runs its steps (mongomock has no sessions).

    What this checks is the order of the steps and what each writes, not
    their atomicity: the real-server run checks that (``REAL_MONGODB_URI``
    on a replica set).
    """

    def __init__(self, before=None):
        self.before = before

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def with_transaction(self, steps):
        if self.before is not None:
            self.before()
        return steps(self)


class WithoutSessions:
    """A mongomock collection that takes (and drops) the ``session`` of each call."""

    def __init__(self, inner):
        self._inner = inner
        self.written = []

    def __getattr__(self, name):
        found = getattr(self._inner, name)
        if not callable(found):
            return found

        def call(*args, session=None, **kwargs):
            if name.startswith(("insert", "update")):
                self.written.append((name, args))
            return found(*args, **kwargs)

        return call


def transactional(database, before=None):
    writer = store(database)
    writer.transactions = True
    writer._client = type("Client", (), {"start_session": lambda self: FakeSession(before)})()
    writer._collection = WithoutSessions(writer._collection)
    writer._batches._batches = WithoutSessions(writer._batches._batches)
    return writer


def test_on_a_replica_set_a_batch_is_one_transaction_and_never_pending(database):
    store(database).save(batch(0))
    writer = transactional(database)
    voiding = record(
        {
            **statement(9),
            "verb": {"id": VOIDED},
            "object": {"objectType": "StatementRef", "id": statement(0)["id"]},
        }
    )
    assert writer.save([record(statement(1)), voiding]) == [statement(1)["id"], voiding.id]
    inserted = [args for name, args in writer._collection.written if name == "insert_many"]
    assert len(inserted) == 1 and all("pending" not in item for item in inserted[0][0])
    assert writer.get(statement(0)["id"]).voided and writer.count() == 3
    assert database.statement_batches.count_documents({}) == 0  # its record, gone after


def test_in_a_transaction_an_id_stored_meanwhile_is_compared_as_any_other(database):
    racer = store(database)
    writer = transactional(database, before=lambda: racer.save(batch(0)))
    assert writer.save(batch(0)) == []  # the same statement: stored once, by the racer
    assert writer.count() == 1
    assert database.statement_batches.count_documents({}) == 0


@pytest.mark.skipif(not REAL_MONGODB_URI, reason="LRS_TEST_MONGODB_URI is not set")
def test_a_real_replica_set_stores_a_batch_in_one_transaction():
    with real_mongo_database() as database:
        writer = MongoStatementStore(database)
        if not writer.transactions:
            pytest.skip("the server named is standalone: no transactions to test")
        records = batch(0, 1)
        assert writer.save(records) == [item.id for item in records]
        assert writer.save(records) == []
        assert database.statements.count_documents({"pending": {"$exists": True}}) == 0
        assert database.statement_batches.count_documents({}) == 0
