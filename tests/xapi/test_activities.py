import mongomock
import pytest

from lrs.testing import statement
from lrs.xapi.activities import (
    MemoryActivityStore,
    MongoActivityStore,
    activity_object,
    definitions_in,
    merge_definitions,
)

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


@pytest.fixture(params=["memory", "mongomock"])
def activities(request):
    if request.param == "memory":
        return MemoryActivityStore()
    return MongoActivityStore(mongomock.MongoClient(tz_aware=True).lrs_test)


def test_stores_merge_and_keep_definitions(activities):
    assert activities.get("http://x.org/a") is None
    activities.merge({"http://x.org/a": MEETING})
    activities.merge({"http://x.org/a": {"name": {"fr-FR": "réunion"}}})
    found = activities.get("http://x.org/a")
    assert found["name"] == {**MEETING["name"], "fr-FR": "réunion"}
    found["name"].clear()  # a reader's copy: the stored definition is untouched
    assert activities.get("http://x.org/a")["name"]["fr-FR"] == "réunion"
