"""The contract of activity stores: canonical definitions merged from statements."""

from typing import Any

from lrs.testing.helpers import race
from lrs.xapi.activities import ActivityStore

ACTIVITY = "http://example.org/activities/meeting"
MEETING: dict[str, Any] = {
    "type": "http://adlnet.gov/expapi/activities/meeting",
    "name": {"en-GB": "example meeting", "en-US": "example meeting"},
    "extensions": {"http://example.com/ext/location": "room 1"},
}


class ActivityStoreContract:
    """The behaviour every activity store must have.

    Subclasses supply an ``activities`` fixture returning an empty store.
    """

    def test_an_unknown_activity_has_no_definition(self, activities: ActivityStore) -> None:
        assert activities.get(ACTIVITY) is None

    def test_definitions_merge_language_maps_and_extensions_key_by_key(
        self, activities: ActivityStore
    ) -> None:
        activities.merge({ACTIVITY: MEETING})
        activities.merge(
            {ACTIVITY: {"name": {"fr-FR": "réunion"}, "moreInfo": "http://example.org/m"}}
        )
        found = activities.get(ACTIVITY)
        assert found is not None
        assert found["name"] == {**MEETING["name"], "fr-FR": "réunion"}
        assert found["type"] == MEETING["type"]
        assert found["moreInfo"] == "http://example.org/m"
        assert found["extensions"] == MEETING["extensions"]

    def test_many_definitions_are_read_at_once_as_each_alone(
        self, activities: ActivityStore
    ) -> None:
        others = {f"{ACTIVITY}/{n}": {"name": {"en": f"part {n}"}} for n in range(3)}
        activities.merge({ACTIVITY: MEETING, **others})
        wanted = [ACTIVITY, *others, ACTIVITY, "http://example.org/unknown"]
        found = activities.get_many(wanted)
        assert found == {activity: activities.get(activity) for activity in [ACTIVITY, *others]}
        assert found[ACTIVITY]["name"] == MEETING["name"]
        assert activities.get_many([]) == {}

    def test_readers_get_their_own_copies(self, activities: ActivityStore) -> None:
        activities.merge({ACTIVITY: MEETING})
        found = activities.get(ACTIVITY)
        assert found is not None
        found["name"].clear()
        again = activities.get(ACTIVITY)
        assert again is not None and again["name"] == MEETING["name"]

    def test_a_later_property_replaces_an_earlier_one(self, activities: ActivityStore) -> None:
        activities.merge({ACTIVITY: {"type": "http://example.org/types/a"}})
        activities.merge({ACTIVITY: {"type": "http://example.org/types/b"}})
        found = activities.get(ACTIVITY)
        assert found is not None and found["type"] == "http://example.org/types/b"

    def test_concurrent_merges_lose_no_language(self, activities: ActivityStore) -> None:
        languages = [f"x-lang{n}" for n in range(8)]
        outcomes = race(
            *[
                (lambda tag=tag: activities.merge({ACTIVITY: {"name": {tag: tag}}}))
                for tag in languages
            ]
        )
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        found = activities.get(ACTIVITY)
        assert found is not None and set(found["name"]) == set(languages)
