"""MongoDB indexes: built on an empty collection, checked at start-up, else a deployment step."""

import uuid

import mongomock
import pytest
from click.testing import CliRunner

from lrs.cli import main
from lrs.mongo import IndexBuild, IndexesNotReady, ensure_index
from lrs.usecases.storage import open_storage
from lrs.xapi.statements import MongoStatementStore

KEYS = [("course", 1), ("time_us", 1)]


def test_an_empty_collection_gets_its_index_and_a_full_one_waits_for_the_deployment_step():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    ensure_index(database.empty, KEYS, name="by_course")
    assert "by_course" in database.empty.index_information()
    database.full.insert_one({"course": "c", "time_us": 1})
    with pytest.raises(IndexesNotReady, match="lrs db ensure-indexes"):
        ensure_index(database.full, KEYS, name="by_course")
    said = []
    with IndexBuild(said.append).running() as build:
        ensure_index(database.full, KEYS, name="by_course")
    assert build.built == ["full.by_course"] and "full: building by_course ..." in said
    ensure_index(database.full, KEYS, name="by_course")  # there and the same: nothing to do


def test_an_index_that_differs_stops_the_start_until_replaced():
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    database.items.insert_one({"course": "c"})
    database.items.create_index([("course", 1)], name="by_course")
    for keys, options in ((KEYS, {}), ([("course", 1)], {"unique": True})):
        with pytest.raises(IndexesNotReady, match="differs.*--replace"):
            ensure_index(database.items, keys, name="by_course", **options)
    said = []
    with IndexBuild(said.append, replace=True).running():
        ensure_index(database.items, KEYS, name="by_course")
    assert any("dropping by_course" in line for line in said)
    assert database.items.index_information()["by_course"]["key"] == KEYS


def test_the_command_builds_what_a_new_version_needs_and_the_server_then_starts():
    url = f"mongomock://indexes-{uuid.uuid4().hex[:8]}/lrs"
    storage = open_storage(url)
    storage.statements.save([])  # opened: every index there
    database = storage.statements._collection.database
    database.statements.insert_one({"_id": "x", "text": "{}", "stored_us": 1, "termsets": []})
    database.statements.drop_index("statements_by_course")  # as before an upgrade
    storage.close()
    with pytest.raises(IndexesNotReady, match="statements_by_course"):
        MongoStatementStore(database)
    result = CliRunner().invoke(main, ["db", "ensure-indexes", "--storage", url])
    assert result.exit_code == 0, result.output
    assert "statements: building statements_by_course ..." in result.output
    assert "built 1 indexes" in result.output
    MongoStatementStore(database)  # starts now
    again = CliRunner().invoke(main, ["db", "ensure-indexes", "--storage", url])
    assert "every index was there already" in again.output
    sqlite = CliRunner().invoke(main, ["db", "ensure-indexes", "--storage", "memory://"])
    assert sqlite.exit_code == 0 and "nothing to build" in sqlite.output


def test_every_unique_index_of_a_sharded_collection_starts_with_its_shard_key():
    from lrs.clients import MongoUserStateClient
    from lrs.mongo import SHARD_KEYS

    url = f"mongomock://shards-{uuid.uuid4().hex[:8]}/lrs"
    storage = open_storage(url)
    database = storage.statements._collection.database
    MongoUserStateClient(database.client, database.name).close()
    try:
        for name, key in SHARD_KEYS.items():
            indexes = database[name].index_information()
            assert len(indexes) > 1 or name in ("attachments", "activities", "users"), name
            for index, found in indexes.items():
                if found.get("unique") and index != "_id_":
                    fields = tuple(field for field, _ in found["key"])
                    assert fields[: len(key)] == key, (name, index, fields)
    finally:
        storage.close()


def test_the_deployment_step_fills_in_what_a_new_index_reads():
    from lrs.enrollments import MongoEnrollmentStore

    database = mongomock.MongoClient(tz_aware=True).lrs_test
    earlier = MongoEnrollmentStore(database)
    # A user as an earlier version wrote it: no email_key, no users_by_email.
    earlier._users.drop_index("users_by_email")
    earlier._users.insert_one(
        {
            "_id": "ada",
            "email": "Ada@Example.org",
            "full_name": "",
            "language": "",
            "is_staff": False,
            "is_active": True,
            "profile": "{}",
            "created_us": 1,
            "updated_us": 1,
        }
    )
    with pytest.raises(IndexesNotReady, match="users_by_email"):
        MongoEnrollmentStore(database)
    with IndexBuild(lambda line: None).running():
        MongoEnrollmentStore(database)
    store = MongoEnrollmentStore(database)
    assert store.usernames_by_email(["ada@example.org"]) == {"ada@example.org": "ada"}


def test_attachment_references_are_indexed_and_older_statements_filled_in():
    from lrs.testing import AUTHORITY, statement
    from lrs.xapi.prepare import prepare
    from lrs.xapi.validation import Version

    sha2 = "a" * 64
    attached = {
        **statement(0),
        "attachments": [
            {
                "usageType": "http://x.org/u",
                "display": {"en": "a"},
                "contentType": "text/plain",
                "length": 1,
                "sha2": sha2,
            }
        ],
    }
    database = mongomock.MongoClient(tz_aware=True).lrs_test
    store = MongoStatementStore(database)
    record = prepare(attached, version=Version.V1_0_3, authority=AUTHORITY).stamped(1)
    store.save([record])
    assert store.using_attachments([sha2, "b" * 64]) == {sha2}
    # As an earlier version stored it: no attachments field, no index.
    store._collection.update_one({"_id": record.id}, {"$unset": {"attachments": ""}})
    store._collection.drop_index("statements_by_attachment")
    with pytest.raises(IndexesNotReady, match="statements_by_attachment"):
        MongoStatementStore(database)
    with IndexBuild(lambda line: None).running():
        MongoStatementStore(database)
    assert MongoStatementStore(database).using_attachments([sha2]) == {sha2}
