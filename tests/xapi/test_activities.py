import pytest

from lrs.testing import ActivityStoreContract, statement
from lrs.xapi.activities import (
    MemoryActivityStore,
    MongoActivityStore,
    activity_object,
    definitions_in,
    merge_definitions,
)
from lrs.xapi.activities.sqlite import SqliteActivityStore
from tests.mongomock_support import Pausing, ThreadSafeMongoClient
from tests.support import traced

MEETING = {
    "type": "http://adlnet.gov/expapi/activities/meeting",
    "name": {"en-GB": "example meeting", "en-US": "example meeting"},
    "extensions": {"http://example.com/ext/location": "room 1"},
}


def test_language_maps_and_extensions_merge_key_by_key():
    french = {"name": {"fr-FR": "réunion"}, "extensions": {"http://example.com/ext/x": 1}}
    merged = merge_definitions(MEETING, french)
    assert merged["name"] == {**MEETING["name"], "fr-FR": "réunion"}
    assert merged["extensions"] == {**MEETING["extensions"], "http://example.com/ext/x": 1}
    assert merged["type"] == MEETING["type"]
    assert merge_definitions(MEETING, {"type": "http://x.org/t"})["type"] == "http://x.org/t"


def test_definitions_are_found_wherever_a_statement_names_an_activity():
    parent = {"id": "http://x.org/parent", "definition": {"name": {"en": "parent"}}}
    inner = {"objectType": "Activity", "id": "http://x.org/inner", "definition": MEETING}
    sub = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:a@b.c"},
        "verb": {"id": "http://x.org/v"},
        "object": inner,
    }
    statements = [
        statement(0, object={"id": "http://x.org/a", "definition": {"name": {"en": "a"}}}),
        statement(1, context={"contextActivities": {"parent": parent}}),
        statement(2, object=sub),
        statement(3),  # no definition
    ]
    found = definitions_in(statements)
    assert found == {
        "http://x.org/a": {"name": {"en": "a"}},
        "http://x.org/parent": parent["definition"],
        "http://x.org/inner": MEETING,
    }


def test_an_activity_without_a_definition_is_still_an_activity_object():
    assert activity_object("http://x.org/a", None) == {
        "objectType": "Activity",
        "id": "http://x.org/a",
    }


class TestMemoryActivityStore(ActivityStoreContract):
    @pytest.fixture
    def activities(self):
        return MemoryActivityStore()

    def test_a_definition_takes_about_its_own_size(self, activities):
        # orjson's bytes keep the whole buffer they were written into (4 KB at
        # least): kept as they came, 300 definitions of 250 bytes took 1.2 MB.
        definitions = {f"http://x.org/{n}": {"name": {"en-US": "x" * 200}} for n in range(300)}
        with traced() as kept:
            activities.merge(definitions)
        assert activities.get("http://x.org/299") == definitions["http://x.org/299"]
        assert kept() < 300 * 1_000


class TestSqliteActivityStore(ActivityStoreContract):
    @pytest.fixture
    def activities(self, sqlite_database):
        return SqliteActivityStore(sqlite_database)


class TestMongoActivityStore(ActivityStoreContract):
    @pytest.fixture
    def activities(self):
        store = MongoActivityStore(ThreadSafeMongoClient()["lrs_test"])
        store._collection = Pausing(store._collection, ("find_one",), delay=0.001)
        return store
