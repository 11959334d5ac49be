"""The tables every SQLite store keeps, and the steps from each schema version to the next.

``MIGRATIONS[n]`` upgrades a file from version ``n`` to ``n + 1``; the first
creates the tables in an empty file. A release that changes the schema adds a
step and never edits one that a release has shipped. Steps run statement by
statement inside the upgrade's transaction (``executescript`` would commit it).
"""

import sqlite3

import orjson

from lrs.clock import to_us
from lrs.sqlite import Migration, SqliteDatabase, pack_json, unpack_json
from lrs.urls import StorageURL
from lrs.xapi.courses import course_of
from lrs.xapi.statements.sqlite_bodies import FIRST_TRAINING, SAMPLES, Bodies, raw_body, train
from lrs.xapi.syntax import is_timestamp, parse_timestamp

_VERSION_1 = (
    # lrs.credentials.sqlite: the secret is kept as its SHA-256 digest only.
    """CREATE TABLE credentials (
        key TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        username TEXT,
        name TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        revoked_us INTEGER,
        digest TEXT NOT NULL
    )""",
    # Oldest first; credentials made in one millisecond in the order made.
    "CREATE INDEX credentials_by_age ON credentials (created_us)",
    # lrs.history.sqlite: one row per change of a block; a block's rows newest first.
    """CREATE TABLE history (
        username TEXT NOT NULL,
        scope TEXT NOT NULL,
        block TEXT NOT NULL,
        time_us INTEGER NOT NULL,
        state TEXT
    )""",
    "CREATE INDEX history_by_block ON history (username, scope, block, time_us)",
    "CREATE INDEX history_by_age ON history (time_us)",
    # lrs.clients.sqlite: a learner's block, its state as one JSON object. The
    # course and block type come from the block key (block_type '' if none).
    """CREATE TABLE state (
        username TEXT NOT NULL,
        scope TEXT NOT NULL,
        block TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_us INTEGER NOT NULL,
        course TEXT,
        block_type TEXT NOT NULL,
        PRIMARY KEY (username, scope, block)
    ) WITHOUT ROWID""",
    "CREATE INDEX state_by_block ON state (scope, block, username)",
    "CREATE INDEX state_by_course ON state (scope, course, block_type, block, username)",
    # lrs.xapi.attachments.sqlite: attachment data by its SHA-2, kept once.
    """CREATE TABLE attachments (
        sha2 TEXT PRIMARY KEY,
        content_type TEXT NOT NULL,
        data BLOB NOT NULL
    )""",
    # lrs.xapi.activities.sqlite: the canonical definition of each activity, as JSON.
    """CREATE TABLE activities (
        id TEXT PRIMARY KEY,
        definition TEXT NOT NULL
    ) WITHOUT ROWID""",
    # lrs.xapi.documents.sqlite: state, activity profile and agent profile
    # documents; unused context fields are empty strings.
    """CREATE TABLE documents (
        resource TEXT NOT NULL,
        activity_id TEXT NOT NULL,
        agent TEXT NOT NULL,
        registration TEXT NOT NULL,
        id TEXT NOT NULL,
        content BLOB NOT NULL,
        content_type TEXT NOT NULL,
        updated_us INTEGER NOT NULL,
        PRIMARY KEY (resource, activity_id, agent, registration, id)
    )""",
    """CREATE INDEX documents_by_update
        ON documents (resource, activity_id, agent, registration, updated_us)""",
    # lrs.enrollments.sqlite: users, enrollments, and the record of every change.
    """CREATE TABLE users (
        username TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        full_name TEXT NOT NULL,
        language TEXT NOT NULL,
        is_staff INTEGER NOT NULL,
        is_active INTEGER NOT NULL,
        profile TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        updated_us INTEGER NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE enrollments (
        username TEXT NOT NULL,
        course_key TEXT NOT NULL,
        mode TEXT NOT NULL,
        role TEXT NOT NULL,
        is_active INTEGER NOT NULL,
        created_us INTEGER NOT NULL,
        updated_us INTEGER NOT NULL,
        PRIMARY KEY (username, course_key)
    ) WITHOUT ROWID""",
    "CREATE INDEX enrollments_by_course ON enrollments (course_key, username)",
    """CREATE TABLE enrollment_changes (
        kind TEXT NOT NULL,
        username TEXT NOT NULL,
        course_key TEXT,
        action TEXT NOT NULL,
        time_us INTEGER NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        before TEXT,
        after TEXT NOT NULL
    )""",
    "CREATE INDEX enrollment_changes_by_record ON enrollment_changes (kind, username, course_key)",
    # lrs.xapi.statements.sqlite: the statement as JSON text, its query terms
    # (its own, then those inherited from its targets) as JSON. Rows get their
    # seq in the order stored, so that a batch is appended to the table's end
    # (rows of 1.5 KB keyed by a random id filled half of every page).
    """CREATE TABLE statements (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        stored_us INTEGER NOT NULL,
        voided INTEGER NOT NULL,
        digest TEXT NOT NULL,
        termsets TEXT NOT NULL,
        text TEXT NOT NULL
    )""",
    "CREATE INDEX statements_by_time ON statements (stored_us, id)",
    # Each value a statement is queried by (an agent, verb, activity or
    # registration) once, by number: the index below holds numbers only.
    "CREATE TABLE term_values (id INTEGER PRIMARY KEY, value TEXT NOT NULL UNIQUE)",
    # One row per (value, kind of term) of a statement. The value comes first,
    # so that an actor as agent and as related agent (an activity likewise)
    # share the index page a new statement writes to.
    """CREATE TABLE statement_terms (
        term INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        stored_us INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (term, kind, stored_us, seq)
    ) WITHOUT ROWID""",
)


# Version 2: lrs.progress.sqlite. Per (learner, content) the version of its
# records and the records: the summary and the sessions, as JSON.
_VERSION_2 = (
    """CREATE TABLE progress (
        learner TEXT NOT NULL,
        content TEXT NOT NULL,
        version INTEGER NOT NULL,
        course TEXT,
        summary TEXT,
        sessions TEXT NOT NULL,
        PRIMARY KEY (learner, content)
    ) WITHOUT ROWID""",
    "CREATE INDEX progress_by_content ON progress (content, learner)",
    "CREATE INDEX progress_by_course ON progress (course, learner, content)",
)


# Version 3: lrs.progress.tries, and progress as a rowid table. Each key's
# try records (spans and marks) as JSON, NULL for a key without any; keys
# written before have none until `lrs progress rebuild` derives them. A row
# holds a key's sessions and marks (a kilobyte and more): in a WITHOUT ROWID
# table few fit a page, and a batch of new keys wrote twice the pages it does
# in a rowid table whose key is a unique index (measured: 150 against 75 µs
# a new key, commit included).
_VERSION_3 = (
    """CREATE TABLE progress_rows (
        learner TEXT NOT NULL,
        content TEXT NOT NULL,
        version INTEGER NOT NULL,
        course TEXT,
        summary TEXT,
        sessions TEXT NOT NULL,
        tries TEXT
    )""",
    "INSERT INTO progress_rows (learner, content, version, course, summary, sessions) "
    "SELECT learner, content, version, course, summary, sessions FROM progress",
    "DROP TABLE progress",
    "ALTER TABLE progress_rows RENAME TO progress",
    "CREATE UNIQUE INDEX progress_by_key ON progress (learner, content)",
    "CREATE INDEX progress_by_content ON progress (content, learner)",
    "CREATE INDEX progress_by_course ON progress (course, learner, content)",
)


# Version 4: lrs.erasure.sqlite. One audit record per erased learner (by
# pseudonym, the record as JSON), and the secrets the LRS makes for itself
# (the salt of pseudonyms).
_VERSION_4 = (
    """CREATE TABLE erasures (
        pseudonym TEXT PRIMARY KEY,
        started_us INTEGER NOT NULL,
        record TEXT NOT NULL
    )""",
    "CREATE INDEX erasures_by_start ON erasures (started_us)",
    "CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
)


# Version 5: lrs.exports.sqlite. One record per export (the record as JSON).
_VERSION_5 = (
    """CREATE TABLE export_requests (
        id TEXT PRIMARY KEY,
        requested_us INTEGER NOT NULL,
        record TEXT NOT NULL
    )""",
    "CREATE INDEX export_requests_by_time ON export_requests (requested_us)",
)


# Version 6: lrs.assignments.sqlite. Assignments (the record as JSON, with
# the columns they are found by), at most one active per (learner, content)
# by a partial unique index; their actions and changes, appended.
_VERSION_6 = (
    """CREATE TABLE assignments (
        id TEXT PRIMARY KEY,
        learner TEXT NOT NULL,
        content TEXT NOT NULL,
        course_key TEXT,
        username TEXT,
        email TEXT,
        state TEXT NOT NULL,
        active INTEGER NOT NULL,
        due_us INTEGER,
        created_us INTEGER NOT NULL,
        version INTEGER NOT NULL,
        record TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX assignments_active ON assignments (learner, content) WHERE active = 1",
    "CREATE INDEX assignments_by_created ON assignments (created_us, id)",
    "CREATE INDEX assignments_by_course ON assignments (course_key, created_us)",
    "CREATE INDEX assignments_by_username ON assignments (username)",
    "CREATE INDEX assignments_by_email ON assignments (email)",
    "CREATE INDEX assignments_by_due ON assignments (due_us) WHERE due_us IS NOT NULL",
    """CREATE TABLE assignment_actions (
        seq INTEGER PRIMARY KEY,
        assignment_id TEXT NOT NULL,
        record TEXT NOT NULL
    )""",
    "CREATE INDEX assignment_actions_by_assignment ON assignment_actions (assignment_id, seq)",
    """CREATE TABLE assignment_changes (
        seq INTEGER PRIMARY KEY,
        assignment_id TEXT NOT NULL,
        record TEXT NOT NULL
    )""",
    "CREATE INDEX assignment_changes_by_assignment ON assignment_changes (assignment_id, seq)",
)


# Version 7: lrs.erasure.sqlite, the agent keys of erased learners, as keyed
# hashes, with the agent that stands in for each (statements that name one are
# pseudonymized as they arrive); lrs.credentials.sqlite, the dashboard's
# sign-in sessions, by the digest of their token; and each statement's course
# and timestamp, indexed (_courses_and_times).
_VERSION_7 = (
    """CREATE TABLE erased_identities (
        digest TEXT PRIMARY KEY,
        replacement TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE sign_in_sessions (
        digest TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        expires_us INTEGER NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX sign_in_sessions_by_end ON sign_in_sessions (expires_us)",
)


# Version 8: users found by e-mail address in any case (an assignment by
# e-mail reads the user it names), through an index on the expression; and
# forwarding targets (lrs.forwarding).
_VERSION_8 = (
    "CREATE INDEX users_by_email ON users (lower(email))",
    # lrs.forwarding.sqlite: the other LRSs statements are forwarded to (each
    # target's JSON, with its compare-and-set revision), and their dead letters.
    """CREATE TABLE forward_targets (
        id TEXT PRIMARY KEY,
        revision INTEGER NOT NULL,
        target TEXT NOT NULL
    ) WITHOUT ROWID""",
    # The highest statement number ever given (lrs.xapi.statements.sqlite: a
    # number stays taken once its statement is deleted).
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    """CREATE TABLE forward_dead (
        target TEXT NOT NULL,
        statement_id TEXT NOT NULL,
        time_us INTEGER NOT NULL,
        status INTEGER NOT NULL,
        answer TEXT NOT NULL,
        PRIMARY KEY (target, statement_id)
    ) WITHOUT ROWID""",
)


def _courses_and_times(connection: sqlite3.Connection) -> None:
    """Version 7's statements: the course each is in and when it happened, indexed.

    Read from each statement's text (``lrs.xapi.courses``); a text that does not
    parse (``lrs check`` lists them) is left in no course, at its stored time.
    """
    connection.execute("ALTER TABLE statements ADD COLUMN course TEXT NOT NULL DEFAULT ''")
    connection.execute("ALTER TABLE statements ADD COLUMN time_us INTEGER NOT NULL DEFAULT 0")
    last = 0
    while True:  # a page at a time: a large file's statements do not fit in memory at once
        rows = connection.execute(
            "SELECT seq, stored_us, text FROM statements WHERE seq > ? ORDER BY seq LIMIT 5000",
            (last,),
        ).fetchall()
        if not rows:
            break
        changes = []
        for seq, stored_us, text in rows:
            course, time_us = "", stored_us
            try:
                statement = orjson.loads(text)
                course = course_of(statement)
                timestamp = statement.get("timestamp")
                if isinstance(timestamp, str) and is_timestamp(timestamp, offset_required=False):
                    time_us = to_us(parse_timestamp(timestamp))
            except (orjson.JSONDecodeError, AttributeError):
                pass
            changes.append((course, time_us, seq))
        connection.executemany(
            "UPDATE statements SET course = ?, time_us = ? WHERE seq = ?", changes
        )
        last = rows[-1][0]
    connection.execute(
        "CREATE INDEX statements_by_course ON statements (course, time_us, voided) "
        "WHERE course != ''"
    )


# Version 9: a statement's term sets and text kept as one body compressed
# with zstd and a dictionary trained on the store's own statements
# (lrs.xapi.statements.sqlite_bodies); the dictionaries, never changed once
# written. The statements table is made again: its rows are a tenth as long.
# Progress keeps a key's summary, sessions and tries as one compressed JSON
# (lrs.sqlite.pack_json), whether it has tries beside it, in a table keyed by
# (learner, content): rows of about 300 bytes share pages as the index's do,
# so the table is its own index of keys (version 3's reason for a rowid table,
# rows of a kilobyte and more, is gone).
_VERSION_9 = (
    "CREATE TABLE statement_dictionaries (id INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    """CREATE TABLE statements_packed (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        stored_us INTEGER NOT NULL,
        voided INTEGER NOT NULL,
        digest TEXT NOT NULL,
        course TEXT NOT NULL,
        time_us INTEGER NOT NULL,
        body BLOB NOT NULL
    )""",
    """CREATE TABLE progress_packed (
        learner TEXT NOT NULL,
        content TEXT NOT NULL,
        version INTEGER NOT NULL,
        course TEXT,
        tried INTEGER NOT NULL,
        records BLOB NOT NULL,
        PRIMARY KEY (learner, content)
    ) WITHOUT ROWID""",
)
_VERSION_9_INDEXES = (
    "DROP TABLE statements",
    "ALTER TABLE statements_packed RENAME TO statements",
    "CREATE INDEX statements_by_time ON statements (stored_us, id)",
    "CREATE INDEX statements_by_course ON statements (course, time_us, voided) WHERE course != ''",
    "DROP TABLE progress",
    "ALTER TABLE progress_packed RENAME TO progress",
    "CREATE INDEX progress_by_content ON progress (content, learner)",
    "CREATE INDEX progress_by_course ON progress (course, learner, content)",
)


def _packed_bodies(connection: sqlite3.Connection) -> None:
    """Version 8's statements into version 9's table, bodies packed, a page at a time.

    With enough statements to train from, the dictionary is trained on the
    latest of them first, as a store trains its first one.
    """
    samples = connection.execute(
        "SELECT termsets, text FROM statements ORDER BY seq DESC LIMIT ?", (SAMPLES,)
    ).fetchall()
    if len(samples) >= min(SAMPLES, FIRST_TRAINING):
        train(connection, [raw_body(termsets, text) for termsets, text in samples])
    bodies = Bodies(lambda: connection)
    bodies.read_dictionaries(connection)  # packs with the one just trained, if any
    last = 0
    while True:
        rows = connection.execute(
            "SELECT seq, id, stored_us, voided, digest, course, time_us, termsets, text "
            "FROM statements WHERE seq > ? ORDER BY seq LIMIT 5000",
            (last,),
        ).fetchall()
        if not rows:
            break
        connection.executemany(
            "INSERT INTO statements_packed "
            "(seq, id, stored_us, voided, digest, course, time_us, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row[:7], bodies.pack(row[7], row[8])) for row in rows],
        )
        last = rows[-1][0]
    _packed_progress(connection)
    for statement in _VERSION_9_INDEXES:
        connection.execute(statement)


def _packed_progress(connection: sqlite3.Connection) -> None:
    """Version 8's progress rows into version 9's table.

    A row without a summary (written by version 2, with no sessions either)
    holds nothing and is left behind.
    """
    rows = connection.execute(
        "SELECT learner, content, version, course, summary, sessions, tries FROM progress "
        "WHERE summary IS NOT NULL"
    )
    while chunk := rows.fetchmany(5000):
        connection.executemany(
            "INSERT INTO progress_packed (learner, content, version, course, tried, records) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    learner,
                    content,
                    version,
                    course,
                    int(tries is not None),
                    pack_json(
                        [
                            orjson.loads(summary),
                            orjson.loads(sessions),
                            None if tries is None else orjson.loads(tries),
                        ]
                    ),
                )
                for learner, content, version, course, summary, sessions, tries in chunk
            ],
        )


# Version 10: a progress key's summary in columns of its own (the fields of
# lrs.progress.derive.ContentSummary after learner and content), its sessions
# and tries still packed: a course report reads every summary of its course
# and none of their sessions, so it no longer unpacks and parses them (the
# dashboard's report of 100,000 keys: 1.9 s with version 9, 0.8 s).
_VERSION_10 = (
    """CREATE TABLE progress_summed (
        learner TEXT NOT NULL,
        content TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        course TEXT NOT NULL,
        first_us INTEGER NOT NULL,
        last_us INTEGER NOT NULL,
        completion_us INTEGER,
        time_spent_us INTEGER NOT NULL,
        progress REAL NOT NULL,
        sessions INTEGER NOT NULL,
        closed_us INTEGER,
        score REAL,
        success INTEGER,
        tried INTEGER NOT NULL,
        records BLOB NOT NULL,
        PRIMARY KEY (learner, content)
    ) WITHOUT ROWID""",
)
_VERSION_10_INDEXES = (
    "DROP TABLE progress",
    "ALTER TABLE progress_summed RENAME TO progress",
    "CREATE INDEX progress_by_content ON progress (content, learner)",
    "CREATE INDEX progress_by_course ON progress (course, learner, content)",
)


#: Fields of a summary after learner and content.
_SUMMARY_FIELDS = 11


def _summed_progress(connection: sqlite3.Connection) -> None:
    """Version 9's progress rows into version 10's table, summaries in columns."""
    rows = connection.execute("SELECT learner, content, version, tried, records FROM progress")
    while chunk := rows.fetchmany(5000):
        moved = []
        for learner, content, version, tried, records in chunk:
            summary, sessions, tries = unpack_json(records)
            if not summary:  # without one (or an empty one) it holds nothing
                continue
            # A summary written before verdicts were kept has no success field.
            fields = summary[2:] + [None] * (_SUMMARY_FIELDS - len(summary[2:]))
            moved.append((learner, content, version, *fields, tried, pack_json([sessions, tries])))
        connection.executemany(
            "INSERT INTO progress_summed (learner, content, version, kind, course, first_us, "
            "last_us, completion_us, time_spent_us, progress, sessions, closed_us, score, "
            "success, tried, records) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            moved,
        )
    for statement in _VERSION_10_INDEXES:
        connection.execute(statement)


def _steps(statements: tuple[str, ...], *more: Migration) -> Migration:
    def step(connection: sqlite3.Connection) -> None:
        for statement in statements:
            connection.execute(statement)
        for then in more:
            then(connection)

    return step


MIGRATIONS: tuple[Migration, ...] = (
    _steps(_VERSION_1),
    _steps(_VERSION_2),
    _steps(_VERSION_3),
    _steps(_VERSION_4),
    _steps(_VERSION_5),
    _steps(_VERSION_6),
    _steps(_VERSION_7, _courses_and_times),
    _steps(_VERSION_8),
    _steps(_VERSION_9, _packed_bodies),
    _steps(_VERSION_10, _summed_progress),
)


def open_sqlite(url: StorageURL) -> SqliteDatabase:
    """Open the SQLite file a parsed ``sqlite:`` URL names, with the schema of this release.

    Raises:
        DatabaseFileError: the file cannot be used (see ``SqliteDatabase``).
    """
    return SqliteDatabase(
        url.path, MIGRATIONS, synchronous=url.options.get("synchronous", "normal")
    )
