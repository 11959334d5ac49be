"""Concurrent POSTs on SQLite share a transaction (group commit), each answered as if alone."""

import threading
import time

import pytest

from lrs.exceptions import ServiceUnavailable
from lrs.testing import AUTHORITY, statement
from lrs.usecases.ingest import store_batch
from lrs.xapi.prepare import prepare
from lrs.xapi.validation import Version
from tests.support import ADMIN, basic, make_app, storage_for

URL = "/xAPI/statements"
HEADERS = {**basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}


class HeldWrites:
    """The statement store's ``save``, recording the ids of each write; the first waits."""

    def __init__(self, store, fail=None):
        self.real = store.save
        self.writes = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = fail

    def __call__(self, records):
        self.writes.append([record.id for record in records])
        if len(self.writes) == 1:
            self.entered.set()
            assert self.release.wait(10)
        elif self.fail is not None and len(records) > 1:
            raise self.fail
        return self.real(records)


@pytest.fixture
def app(tmp_path):
    return make_app(storage_for("sqlite", tmp_path))


def queued(app, monkeypatch, bodies, fail=None, apart=()):
    """POST ``bodies``: the first is held in its write while the others arrive; their answers.

    The bodies at ``apart`` are expected to wait at the write lock, not in
    the group's queue.
    """
    storage = app.extensions["lrs"]
    held = HeldWrites(storage.statements, fail)
    monkeypatch.setattr(storage.statements, "save", held)
    answers = [None] * len(bodies)

    def post(at):
        answers[at] = app.test_client().post(URL, json=bodies[at], headers=HEADERS)

    threads = [threading.Thread(target=post, args=(0,))]
    threads[0].start()
    assert held.entered.wait(10)
    for at in range(1, len(bodies)):
        threads.append(threading.Thread(target=post, args=(at,)))
        threads[-1].start()
        if at in apart:
            time.sleep(0.2)
            continue
        deadline = time.monotonic() + 10
        # Each waits its turn before the next comes, so the order is known.
        in_queue = len([n for n in range(1, at + 1) if n not in apart])
        while len(storage.writes._waiting) < in_queue and len(held.writes) == 1:
            assert time.monotonic() < deadline
            time.sleep(0.001)
    held.release.set()
    for thread in threads:
        thread.join(10)
    return answers, held.writes


def ids(*numbers):
    return [statement(n)["id"] for n in numbers]


def stored(app, number):
    query = {"statementId": ids(number)[0]}
    return app.test_client().get(URL, query_string=query, headers=HEADERS).status_code == 200


def test_requests_arriving_during_a_write_are_written_together_each_answered_alone(
    app, monkeypatch
):
    bodies = [
        statement(0),
        statement(1, actor="mailto:bo@example.org"),
        [statement(2, actor="mailto:cy@example.org"), statement(3)],
        statement(4, activity="http://example.org/activities/a4"),
    ]
    answers, writes = queued(app, monkeypatch, bodies)
    assert writes == [ids(0), ids(1, 2, 3, 4)]  # one transaction for the three requests
    assert [answer.status_code for answer in answers] == [200] * 4
    assert [answer.json for answer in answers] == [ids(0), ids(1), ids(2, 3), ids(4)]
    assert all(stored(app, number) for number in range(5))
    # Each statement's progress is kept, as if it had come alone.
    progress = app.extensions["lrs"].progress
    learners = {summary.learner for summary in progress.summaries()}
    assert len(learners) == 3


def test_a_request_at_fault_fails_alone_and_the_others_are_stored(app, monkeypatch):
    client = app.test_client()
    assert client.post(URL, json=statement(5), headers=HEADERS).status_code == 200
    other = statement(5, activity="http://example.org/activities/other")
    bodies = [statement(0), statement(6), other, statement(7)]
    answers, writes = queued(app, monkeypatch, bodies)
    assert [answer.status_code for answer in answers] == [200, 200, 409, 200]
    # Tried together, then (nothing written) one by one.
    assert writes == [ids(0), ids(6, 5, 7), ids(6), ids(5), ids(7)]
    assert stored(app, 6) and stored(app, 7)
    kept = client.get(URL, query_string={"statementId": ids(5)[0]}, headers=HEADERS).json
    assert kept["object"]["id"] == statement(5)["object"]["id"]


def test_a_request_repeated_while_waiting_is_stored_once(app, monkeypatch):
    # Clients repeat a request they think lost (TinCanPython repeats a PUT).
    bodies = [statement(0), statement(8), statement(8)]
    answers, writes = queued(app, monkeypatch, bodies)
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert writes == [ids(0), ids(8), ids(8)]  # one after the other, not together
    found = app.test_client().get(URL, headers=HEADERS).json["statements"]
    assert sorted(item["id"] for item in found) == sorted(ids(0, 8))


def test_a_store_failure_fails_each_request_of_the_group_once(app, monkeypatch):
    bodies = [statement(0), statement(1), statement(2)]
    answers, writes = queued(app, monkeypatch, bodies, fail=ServiceUnavailable("disk full"))
    assert [answer.status_code for answer in answers] == [200, 503, 503]
    assert writes == [ids(0), ids(1, 2)]  # not tried again one by one
    assert stored(app, 0) and not stored(app, 1) and not stored(app, 2)


def test_a_statement_that_targets_another_is_written_apart(app, monkeypatch):
    voiding = statement(
        9,
        verb="http://adlnet.gov/expapi/verbs/voided",
        object={"objectType": "StatementRef", "id": ids(0)[0]},
    )
    bodies = [statement(0), statement(1), voiding, statement(2)]
    answers, writes = queued(app, monkeypatch, bodies, apart={2})
    assert [answer.status_code for answer in answers] == [200] * 4
    assert ids(9) in writes and ids(1, 2) in writes
    assert not stored(app, 0)  # voided: found only as voidedStatementId


def test_a_caller_inside_a_transaction_writes_at_once_not_behind_the_group(app):
    # It holds the write lock that the group's writer waits for: waiting
    # behind that writer, it would wait forever.
    storage = app.extensions["lrs"]
    inside, finished = threading.Event(), threading.Event()

    def held_open():
        with storage.transaction():
            inside.set()
            deadline = time.monotonic() + 10
            while not storage.writes._writing:  # the other request leads, at the lock
                assert time.monotonic() < deadline
                time.sleep(0.001)
            batch = [statement(2)]
            prepared = [prepare(batch[0], version=Version.V1_0_3, authority=AUTHORITY)]
            store_batch(storage, prepared, batch, ["statement"])
        finished.set()

    caller = threading.Thread(target=held_open, daemon=True)
    caller.start()
    assert inside.wait(10)
    answers = []
    other = threading.Thread(
        target=lambda: answers.append(
            app.test_client().post(URL, json=statement(1), headers=HEADERS)
        ),
        daemon=True,
    )
    other.start()
    assert finished.wait(10)
    other.join(10)
    assert [answer.status_code for answer in answers] == [200]
    assert stored(app, 1) and stored(app, 2)
