"""SQLite statement bodies: compressed, with dictionaries trained on the store's own statements."""

import pytest
import zstandard

from lrs.sqlite import SqliteDatabase
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import AUTHORITY, statement
from lrs.usecases.storage import sqlite_storage
from lrs.xapi.prepare import prepare
from lrs.xapi.statements import sqlite_bodies
from lrs.xapi.statements.base import StatementQuery
from lrs.xapi.statements.sqlite_bodies import Bodies
from lrs.xapi.validation import Version


def _records(count, first=0):
    return [
        prepare(
            statement(n, timestamp="2026-03-02T09:00:00Z"),
            version=Version.V1_0_3,
            authority=AUTHORITY,
        ).stamped(1_000_000 + n)
        for n in range(first, first + count)
    ]


def _dictionaries_named(database):
    return {
        zstandard.get_frame_parameters(body).dict_id
        for (body,) in database.connection().execute("SELECT body FROM statements")
    }


@pytest.fixture
def small_trainings(monkeypatch):
    # Train at 200, 2,000, ... statements, from the latest 200.
    monkeypatch.setattr(sqlite_bodies, "FIRST_TRAINING", 200)
    monkeypatch.setattr(sqlite_bodies, "SAMPLES", 200)


def test_a_store_trains_a_dictionary_once_it_holds_enough_statements(tmp_path, small_trainings):
    database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
    with sqlite_storage(database) as storage:
        records = _records(300)
        for start in range(0, 300, 50):
            storage.statements.save(records[start : start + 50])
        trained = database.connection().execute("SELECT id FROM statement_dictionaries")
        assert [row[0] for row in trained] == [1]
        # Bodies before the training have none, those after it name it.
        assert _dictionaries_named(database) == {0, 32_769}
        sizes = (
            database.connection()
            .execute("SELECT length(body) FROM statements ORDER BY seq")
            .fetchall()
        )
        assert sizes[-1][0] * 2 < sizes[0][0]
        for record in records:
            assert storage.statements.get(record.id) == record
    # Another process (its own cache) reads every body, and takes up the dictionary.
    reopened = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
    with sqlite_storage(reopened) as storage:
        assert storage.statements.get(records[-1].id) == records[-1]
        storage.statements.save(_records(10, first=300))
        (body,) = (
            reopened.connection()
            .execute("SELECT body FROM statements ORDER BY seq DESC")
            .fetchone()
        )
        assert zstandard.get_frame_parameters(body).dict_id == 32_769
        found = storage.statements.query(StatementQuery(limit=500))
        assert len(found) == 310


def test_a_dictionary_trained_in_a_batch_that_fails_is_never_used(tmp_path, small_trainings):
    database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
    with sqlite_storage(database) as storage:
        storage.statements.save(_records(200))
        with pytest.raises(RuntimeError), storage.transaction():
            storage.statements.save(_records(10, first=200))  # trains, then rolls back
            raise RuntimeError("the batch fails after the statements")
        assert database.connection().execute(
            "SELECT count(*) FROM statement_dictionaries"
        ).fetchone() == (0,)
        storage.statements.save(_records(10, first=210))
        # Packed with the dictionary of the batch that committed, which trained again.
        assert database.connection().execute(
            "SELECT count(*) FROM statement_dictionaries"
        ).fetchone() == (1,)
    fresh = Bodies(SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS).connection)
    for (body,) in database.connection().execute("SELECT body FROM statements"):
        termsets, text = fresh.unpack(body)
        assert termsets.startswith("[[") and text.startswith('{"id":')


def test_a_file_of_schema_eight_is_packed_with_a_dictionary_of_its_statements(tmp_path):
    path = tmp_path / "lrs.db"
    eighth = SqliteDatabase(path, MIGRATIONS[:8])
    records = _records(1_200)
    with eighth.transaction() as connection:
        connection.executemany(
            "INSERT INTO statements (seq, id, stored_us, voided, digest, termsets, text, course, "
            "time_us) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?)",
            [
                (
                    seq,
                    record.id,
                    record.stored_us,
                    record.digest,
                    sqlite_bodies_termsets(record),
                    record.text,
                    record.course,
                    record.time_us,
                )
                for seq, record in enumerate(records, 1)
            ],
        )
    size_before = (
        eighth.connection()
        .execute("SELECT sum(length(text) + length(termsets)) FROM statements")
        .fetchone()[0]
    )
    eighth.close()
    upgraded = SqliteDatabase(path, MIGRATIONS)
    assert upgraded.schema_version() == len(MIGRATIONS)
    assert _dictionaries_named(upgraded) == {32_769}
    size_after = (
        upgraded.connection().execute("SELECT sum(length(body)) FROM statements").fetchone()
    )
    assert size_after[0] * 4 < size_before
    with sqlite_storage(upgraded) as storage:
        for record in records[::97]:
            assert storage.statements.get(record.id) == record
        assert storage.statements.count() == 1_200
        page = storage.statements.query(StatementQuery(limit=10, ascending=True))
        assert [record.id for record in page] == [record.id for record in records[:10]]
        new = _records(5, first=5_000)
        assert storage.statements.save(new) == [record.id for record in new]
        assert storage.statements.feed_end() == (1_205, "")


def sqlite_bodies_termsets(record):
    import orjson

    return orjson.dumps([list(terms) for terms in record.term_sets]).decode()


def test_a_training_that_fails_is_not_tried_again_before_the_next_tenfold(
    tmp_path, small_trainings, monkeypatch
):
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        raise zstandard.ZstdError("cannot train")

    monkeypatch.setattr(sqlite_bodies.zstandard, "train_dictionary", failing)
    database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)
    with sqlite_storage(database) as storage:
        records = _records(400)
        for start in range(0, 400, 20):
            storage.statements.save(records[start : start + 20])
        assert len(calls) == 1  # at 200 stored, not at each batch after it
        assert _dictionaries_named(database) == {0}
        assert storage.statements.get(records[-1].id) == records[-1]
