"""The SQLite plumbing every store shares: the file, transactions, schema versions, errors."""

import sqlite3
import threading

import pytest

from lrs.clients.sqlite import SqliteUserStateClient
from lrs.exceptions import ServiceUnavailable
from lrs.sqlite import DatabaseFileError, SqliteDatabase, rows_in, translate_errors
from lrs.sqlite_schema import MIGRATIONS
from lrs.testing import AUTHORITY, block, statement, user
from lrs.usecases.rebuild import rebuild


def _create_notes(connection):
    connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


def _add_author(connection):
    connection.execute("ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'unknown'")


def test_a_new_file_gets_the_schema_in_wal_mode(tmp_path):
    path = tmp_path / "data" / "lrs.db"  # the folder is created
    database = SqliteDatabase(path, MIGRATIONS)
    assert database.schema_version() == len(MIGRATIONS)
    connection = database.connection()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "credentials" in tables
    database.close()


def test_synchronous_full_can_be_asked_for(tmp_path):
    database = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS, synchronous="full")
    assert database.connection().execute("PRAGMA synchronous").fetchone()[0] == 2
    database.close()


def test_an_older_file_is_upgraded_in_place(tmp_path):
    path = tmp_path / "lrs.db"
    # A file made by the "previous" release: version 1, one note.
    old = SqliteDatabase(path, [_create_notes])
    with old.transaction() as connection:
        connection.execute("INSERT INTO notes (text) VALUES ('kept')")
    old.close()

    new = SqliteDatabase(path, [_create_notes, _add_author])
    assert new.schema_version() == 2
    rows = new.connection().execute("SELECT text, author FROM notes").fetchall()
    assert rows == [("kept", "unknown")]
    new.close()


COURSE_ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/course"


def test_a_file_of_the_first_schema_gets_progress_and_keeps_its_statements(tmp_path):
    # Schema version 2 (lrs.progress) upgrades a file that holds statements.
    from lrs.usecases.storage import sqlite_storage
    from lrs.xapi.prepare import prepare
    from lrs.xapi.statements.base import DAY_US
    from lrs.xapi.validation import Version

    path = tmp_path / "lrs.db"
    first = SqliteDatabase(path, MIGRATIONS[:1])
    sent = statement(0, timestamp="2026-03-02T09:00:00Z")
    sent["context"] = {
        "contextActivities": {
            "grouping": [
                {"id": "http://example.org/c1", "definition": {"type": COURSE_ACTIVITY_TYPE}}
            ]
        }
    }
    record = prepare(sent, version=Version.V1_0_3, authority=AUTHORITY).stamped(7)
    # As the first release stored it (its columns only).
    with first.transaction() as connection:
        connection.execute(
            "INSERT INTO statements (seq, id, stored_us, voided, digest, termsets, text) "
            "VALUES (1, ?, ?, 0, ?, ?, ?)",
            (
                record.id,
                record.stored_us,
                record.digest,
                '[["v",[],[],null,[],null,null]]',
                record.text,
            ),
        )
    first.close()
    upgraded = SqliteDatabase(path, MIGRATIONS)
    assert upgraded.schema_version() == len(MIGRATIONS) == 10
    with sqlite_storage(upgraded) as storage:
        assert storage.statements.get(record.id) is not None
        assert storage.progress.summaries() == []
        assert rebuild(storage.progress, storage.statements) == 1
        assert len(storage.progress.summaries()) == 1
        # Version 7 read each statement's course and timestamp into the index.
        day = record.time_us // DAY_US
        assert record.course == "http://example.org/c1"
        assert storage.statements.course_days("http://example.org/c1", 0, 2**62) == {day: 1}


def test_progress_written_before_tries_were_kept_reads_as_none_and_takes_new_ones(tmp_path):
    # Schema version 3 (lrs.progress.tries) adds a column that rows of version 2 lack.
    from lrs.progress.tries import TryRecords
    from lrs.testing.progress import answer, event
    from lrs.usecases.storage import sqlite_storage

    path = tmp_path / "lrs.db"
    second = SqliteDatabase(path, MIGRATIONS[:2])
    with second.transaction() as connection:
        connection.execute(
            "INSERT INTO progress (learner, content, version, course, summary, sessions) "
            "VALUES ('mbox:mailto:ada@example.org', 'http://example.org/a0', 1, '', '[]', '[]')"
        )
    second.close()
    with sqlite_storage(SqliteDatabase(path, MIGRATIONS)) as storage:
        key = ("mbox:mailto:ada@example.org", "http://example.org/a0")
        # Its empty summary held nothing: version 10 leaves the row behind.
        assert storage.progress._load(key)[1:] == ([], TryRecords())
        storage.progress.record([event(0, answer=answer())])
        (found,) = storage.progress.tries()
        assert [attempt.item for attempt in found.attempts] == [answer().item]


def test_a_failed_upgrade_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "lrs.db"
    SqliteDatabase(path, [_create_notes]).close()

    def broken(connection):
        connection.execute("ALTER TABLE notes ADD COLUMN half TEXT")
        raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(DatabaseFileError, match=str(path)):
        SqliteDatabase(path, [_create_notes, broken])
    again = SqliteDatabase(path, [_create_notes])
    assert again.schema_version() == 1
    columns = [row[1] for row in again.connection().execute("PRAGMA table_info(notes)")]
    assert columns == ["id", "text"]
    again.close()


def test_a_file_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "lrs.db"
    SqliteDatabase(path, [_create_notes, _add_author]).close()
    with pytest.raises(DatabaseFileError, match="newer release") as raised:
        SqliteDatabase(path, [_create_notes])
    assert str(path) in str(raised.value)


def test_a_file_that_is_not_sqlite_is_refused_with_its_path(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are my notes, not a database\n" * 100)
    with pytest.raises(DatabaseFileError) as raised:
        SqliteDatabase(path, MIGRATIONS)
    assert str(path) in str(raised.value)
    assert path.read_bytes().startswith(b"these are my notes")


def test_a_folder_that_cannot_be_made_is_refused_with_its_path(tmp_path):
    # A file where a folder should be: refused for root too (a read-only
    # folder is not, and the tests may run as root).
    (tmp_path / "data").write_text("a file")
    with pytest.raises(DatabaseFileError) as raised:
        SqliteDatabase(tmp_path / "data" / "sub" / "lrs.db", MIGRATIONS)
    assert str(tmp_path / "data" / "sub") in str(raised.value)


def test_a_folder_in_place_of_the_file_is_refused(tmp_path):
    (tmp_path / "lrs.db").mkdir()
    with pytest.raises(DatabaseFileError, match="lrs.db"):
        SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)


def test_a_transaction_commits_whole_or_not_at_all(tmp_path):
    database = SqliteDatabase(tmp_path / "lrs.db", [_create_notes])
    with database.transaction() as connection:
        connection.execute("INSERT INTO notes (text) VALUES ('one')")
    with pytest.raises(RuntimeError), database.transaction() as connection:
        connection.execute("INSERT INTO notes (text) VALUES ('two')")
        raise RuntimeError("half-way")
    texts = [row[0] for row in database.connection().execute("SELECT text FROM notes")]
    assert texts == ["one"]
    database.close()


def test_a_transaction_inside_another_joins_it(tmp_path):
    database = SqliteDatabase(tmp_path / "lrs.db", [_create_notes])
    committed = []
    with pytest.raises(RuntimeError), database.transaction():
        with database.transaction() as connection:
            connection.execute("INSERT INTO notes (text) VALUES ('inner')")
            database.after_commit(lambda: committed.append("inner"))
        raise RuntimeError("the outer one fails after the inner one ended")
    assert database.connection().execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    assert committed == []  # a rolled-back transaction calls nothing back
    with database.transaction():
        with database.transaction() as connection:
            connection.execute("INSERT INTO notes (text) VALUES ('inner')")
            database.after_commit(lambda: committed.append("inner"))
            assert committed == []  # not before the outer one commits
    assert committed == ["inner"]
    database.after_commit(lambda: committed.append("outside"))
    assert committed == ["inner", "outside"]
    database.close()


def test_commits_are_checkpointed_in_the_background(tmp_path):
    path = tmp_path / "lrs.db"
    database = SqliteDatabase(path, [_create_notes])
    before = path.stat().st_size
    with database.transaction() as connection:
        connection.executemany("INSERT INTO notes (text) VALUES (?)", [("x" * 1000,)] * 100)
    # The commit wrote to the log only (far below CHECKPOINT_PAGES); the
    # rows reach the file itself when the checkpoint thread copies them.
    for _ in range(100):
        if path.stat().st_size > before + 100_000:
            break
        threading.Event().wait(0.05)
    assert path.stat().st_size > before + 100_000
    checkpointer = database._checkpointer
    assert checkpointer is not None and checkpointer.is_alive()
    database.close()
    assert not checkpointer.is_alive()


def test_a_list_of_values_is_looked_up_in_as_few_queries_as_sqlite_allows(tmp_path):
    database = SqliteDatabase(tmp_path / "lrs.db", [_create_notes])
    connection = database.connection()
    connection.executemany("INSERT INTO notes (text) VALUES (?)", [(f"n{n}",) for n in range(30)])
    run = []
    connection.set_trace_callback(run.append)
    sql = "SELECT text FROM notes WHERE id > ? AND text IN ({marks})"
    wanted = [f"n{n}" for n in range(30)]
    assert sorted(row[0] for row in rows_in(connection, sql, wanted, 0)) == sorted(wanted)
    assert len(run) == 1
    run.clear()
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 11)  # 10 values a query
    assert sorted(row[0] for row in rows_in(connection, sql, wanted, 0)) == sorted(wanted)
    assert len(run) == 3
    database.close()


def test_get_many_of_a_thousand_blocks_is_one_query(sqlite_database):
    client = SqliteUserStateClient(sqlite_database)
    blocks = [block(n) for n in range(1000)]
    client.set_many(user(0), {key: {"n": n} for n, key in enumerate(blocks)})
    run = []
    sqlite_database.connection().set_trace_callback(run.append)
    assert len(list(client.get_many(user(0), blocks))) == 1000
    assert len(run) == 1


def test_each_thread_has_its_own_connection(tmp_path):
    database = SqliteDatabase(tmp_path / "lrs.db", [_create_notes])
    seen = []
    thread = threading.Thread(target=lambda: seen.append(database.connection()))
    thread.start()
    thread.join()
    assert seen[0] is not database.connection()
    database.close()


def test_a_lock_held_past_the_timeout_is_service_unavailable(tmp_path, monkeypatch):
    monkeypatch.setattr("lrs.sqlite.BUSY_TIMEOUT_MS", 50)
    database = SqliteDatabase(tmp_path / "lrs.db", [_create_notes])
    other = sqlite3.connect(tmp_path / "lrs.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        with pytest.raises(ServiceUnavailable), database.transaction() as connection:
            connection.execute("INSERT INTO notes (text) VALUES ('late')")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert database.connection().execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    database.close()


def test_a_full_disk_is_service_unavailable_and_writes_nothing(tmp_path):
    database = SqliteDatabase(tmp_path / "lrs.db", [_create_notes])
    with pytest.raises(ServiceUnavailable), database.transaction() as connection:
        connection.execute("INSERT INTO notes (text) VALUES ('lost')")
        raise sqlite3.OperationalError("database or disk is full")
    assert database.connection().execute("SELECT count(*) FROM notes").fetchone()[0] == 0
    database.close()


def test_other_database_errors_name_no_data():
    with pytest.raises(Exception) as raised, translate_errors():
        raise sqlite3.IntegrityError("UNIQUE constraint failed: credentials.key 'ada@x.org'")
    assert "ada@x.org" not in str(raised.value)


def test_an_erased_agent_leaves_no_term_value_behind(tmp_path):
    from lrs.testing.statements import StatementErasureContract
    from lrs.usecases.storage import sqlite_storage

    contract = StatementErasureContract()
    with sqlite_storage(SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)) as storage:
        for n, data in enumerate(contract.stored()):
            storage.statements.save([contract.record(data, 1_000 + n)])
        storage.statements.erase_agents({f"mbox:{contract.ADA}"}, contract.PSEUDONYM)
        connection = storage.statements._database.connection()
        values = [row[0] for row in connection.execute("SELECT value FROM term_values")]
        assert values and not any("ada@example.org" in value for value in values)
        bodies = [
            "".join(storage.statements._bodies.unpack(row[0]))
            for row in connection.execute("SELECT body FROM statements")
        ]
        assert bodies and not any("ada@example.org" in body for body in bodies)


def test_a_file_of_schema_six_keeps_its_erasures_and_takes_erased_identities(tmp_path):
    # Schema version 7 (lrs.erasure): erased identities beside the erasure records.
    from datetime import UTC, datetime

    from lrs.erasure.base import Erasure
    from lrs.usecases.storage import sqlite_storage

    path = tmp_path / "lrs.db"
    record = Erasure("retired-0", datetime(2026, 1, 1, tzinfo=UTC), "cli", "r", "pseudonymized")
    with sqlite_storage(SqliteDatabase(path, MIGRATIONS[:6])) as storage:
        salt = storage.erasures.salt()
        storage.erasures.put(record)
    with sqlite_storage(SqliteDatabase(path, MIGRATIONS)) as storage:
        assert storage.erasures.salt() == salt
        assert storage.erasures.list() == [record]
        replacement = {"account": {"homePage": "http://x", "name": "retired-0"}}
        storage.erasures.erase_identities(["mbox:mailto:ada@example.org"], replacement)
        assert storage.erasures.erased_identities(
            ["mbox:mailto:ada@example.org", "mbox:mailto:bob@example.org"]
        ) == {"mbox:mailto:ada@example.org": replacement}


def test_writers_of_every_process_take_turns_at_a_lock_file(tmp_path):
    # One writer at a time holds the file's lock, whichever SqliteDatabase it
    # writes through (each process opens its own); readers never take it.
    import fcntl
    import os

    path = tmp_path / "lrs.db"
    database = SqliteDatabase(path, [_create_notes])
    other = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT)
    with database.transaction() as connection:
        connection.execute("INSERT INTO notes (text) VALUES ('held')")
        with pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once committed
    assert database.connection().execute("SELECT count(*) FROM notes").fetchone() == (1,)
    fcntl.flock(other, fcntl.LOCK_UN)
    os.close(other)
    database.close()


def _progress_rows(progress):
    """Each key's (learner, content, version, course, summary, sessions, tries) as JSON values."""
    rows = []
    for summary in progress.summaries():
        version, sessions, tries = progress._load((summary.learner, summary.content))
        tried = tries.marks or tries.spans
        sessions = [list(session) for session in sessions]
        found = (summary.learner, summary.content, version, summary.course, list(summary))
        rows.append((*found, sessions, tries.to_json() if tried else None))
    return rows


def _progress_events():
    from lrs.testing.progress import answer, event

    events = [event(0, answer=answer()), event(1, minute=3, completes=True)]
    events.append(event(2, content="http://example.org/a1", minute=5))
    return events


def _reads(progress):
    return progress.summaries(), progress.sessions(), progress.tries()


def test_progress_of_schema_eight_reads_the_same_once_packed(tmp_path):
    # Schema version 9 keeps a key's summary, sessions and tries as one packed JSON.
    from lrs.testing.progress import event
    from lrs.usecases.storage import sqlite_storage

    with sqlite_storage(SqliteDatabase(tmp_path / "now.db", MIGRATIONS)) as now:
        now.progress.record(_progress_events())
        old_rows = [
            (*row[:4], *(orjson_text(part) for part in row[4:]))
            for row in _progress_rows(now.progress)
        ]
        expected = _reads(now.progress)
    eighth = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS[:8])
    with eighth.transaction() as connection:
        connection.executemany(
            "INSERT INTO progress (learner, content, version, course, summary, sessions, tries) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                *old_rows,
                ("mbox:mailto:old@example.org", "http://example.org/a9", 1, "", None, "[]", None),
            ],
        )
    eighth.close()
    with sqlite_storage(SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)) as upgraded:
        found = _reads(upgraded.progress)
        assert found == expected and len(found[0]) == 2 and found[2]
        upgraded.progress.record([event(3, minute=9)])  # and goes on from there
        assert upgraded.progress.summaries()[0].last_us == event(3, minute=9).time_us


def test_progress_of_schema_nine_reads_the_same_with_summaries_in_columns(tmp_path):
    # Schema version 10 keeps a key's summary in columns, its sessions and tries packed.
    from lrs.sqlite import pack_json
    from lrs.testing.progress import event
    from lrs.usecases.storage import sqlite_storage

    with sqlite_storage(SqliteDatabase(tmp_path / "now.db", MIGRATIONS)) as now:
        now.progress.record(_progress_events())
        rows = _progress_rows(now.progress)
        expected = _reads(now.progress)
    assert any(row[4][-1] is None for row in rows) and any(row[6] for row in rows)
    ninth = SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS[:9])
    with ninth.transaction() as connection:
        connection.executemany(
            "INSERT INTO progress (learner, content, version, course, tried, records) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    learner,
                    content,
                    version,
                    course,
                    int(tries is not None),
                    # Summaries kept before verdicts have no success field.
                    pack_json([summary[:-1] if summary[-1] is None else summary, sessions, tries]),
                )
                for learner, content, version, course, summary, sessions, tries in rows
            ],
        )
    ninth.close()
    with sqlite_storage(SqliteDatabase(tmp_path / "lrs.db", MIGRATIONS)) as upgraded:
        assert upgraded.progress._database.schema_version() == 10
        found = _reads(upgraded.progress)
        assert found == expected and len(found[0]) == 2 and found[2]
        assert upgraded.progress.summaries(course=expected[0][0].course) == [
            summary for summary in expected[0] if summary.course == expected[0][0].course
        ]
        upgraded.progress.record([event(3, minute=9)])  # and goes on from there
        assert upgraded.progress.summaries()[0].last_us == event(3, minute=9).time_us


def orjson_text(value):
    import orjson

    return None if value is None else orjson.dumps(value).decode()
