"""The contract of the learner-state client, split by behaviour.

``UserStateClientContract`` is all of them; a backend subclasses it with a
``client`` fixture that returns an empty client. A backend that cannot keep
some promise yet can compose the classes it passes instead (as edX composes its
user-state client tests from CRUD, history and iteration classes).
"""

import math
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.clients import base as clients_base
from lrs.clients.base import Scope, UserState, UserStateClient
from lrs.clients.values import MAX_DEPTH, BlockChange, state_etag
from lrs.conditions import Conditions
from lrs.exceptions import DoesNotExist, PreconditionFailed
from lrs.testing.helpers import (
    COURSE,
    OTHER_COURSE,
    Key,
    XBlockLikeScope,
    block,
    failures,
    race,
    states,
    user,
)


class BlockContract:
    """Reading, overlaying and deleting the fields of one block.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_get_of_missing_block_raises_does_not_exist(self, client: UserStateClient) -> None:
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(0))

    def test_set_then_get_returns_the_state(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1, "b": "two"})
        result = client.get(user(0), block(0))
        assert isinstance(result, UserState)
        assert result.username == user(0)
        assert result.block_key == block(0)
        assert result.state == {"a": 1, "b": "two"}
        assert result.scope == Scope.user_state

    def test_set_overlays_fields_on_stored_ones(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1, "b": 2})
        client.set(user(0), block(0), {"b": 3, "c": 4})
        assert client.get(user(0), block(0)).state == {"a": 1, "b": 3, "c": 4}

    def test_set_of_empty_state_creates_nothing(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {})
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(0))
        with pytest.raises(DoesNotExist):
            client.get_history(user(0), block(0))

    def test_get_with_fields_returns_only_those(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1, "b": 2, "c": 3})
        assert client.get(user(0), block(0), fields=["a", "c", "missing"]).state == {"a": 1, "c": 3}

    def test_get_with_fields_none_of_which_is_stored_returns_empty_state(
        self, client: UserStateClient
    ) -> None:
        client.set(user(0), block(0), {"a": 1})
        assert client.get(user(0), block(0), fields=["b"]).state == {}

    def test_returned_state_is_a_copy(self, client: UserStateClient) -> None:
        state = {"a": {"nested": [1]}}
        client.set(user(0), block(0), state)
        state["a"]["nested"].append(2)
        got = client.get(user(0), block(0)).state
        assert got == {"a": {"nested": [1]}}
        assert got is not None
        got["a"]["nested"].append(3)
        assert client.get(user(0), block(0)).state == {"a": {"nested": [1]}}

    def test_delete_removes_the_block(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1, "b": 2})
        client.delete(user(0), block(0))
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(0))

    def test_delete_with_fields_removes_only_those(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1, "b": 2, "c": 3})
        client.delete(user(0), block(0), fields=["a", "c"])
        assert client.get(user(0), block(0)).state == {"b": 2}

    def test_delete_last_field_removes_block(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1, "b": 2})
        client.delete(user(0), block(0), fields=["a", "b"])
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(0))
        assert list(client.iter_all_for_block(block(0))) == []
        assert list(client.iter_all_for_course(COURSE)) == []

    def test_delete_of_missing_block_or_field_changes_nothing(
        self, client: UserStateClient
    ) -> None:
        client.delete(user(0), block(0))
        client.delete(user(0), block(0), fields=["a"])
        with pytest.raises(DoesNotExist):
            client.get_history(user(0), block(0))
        client.set(user(0), block(0), {"a": 1})
        client.delete(user(0), block(0), fields=["other"])
        client.delete(user(0), block(0), fields=[])
        assert client.get(user(0), block(0)).state == {"a": 1}
        assert len(list(client.get_history(user(0), block(0)))) == 1

    def test_block_can_be_set_again_after_delete(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1})
        client.delete(user(0), block(0))
        client.set(user(0), block(0), {"b": 2})
        assert client.get(user(0), block(0)).state == {"b": 2}


class ManyBlocksContract:
    """The ``*_many`` methods: several blocks in one call.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_get_many_follows_the_order_asked_and_omits_missing_blocks(
        self, client: UserStateClient
    ) -> None:
        client.set_many(user(0), {block(n): {"n": n} for n in range(5)})
        asked = [block(3), block(9), block(0), block(4), block(8), block(1)]
        results = list(client.get_many(user(0), asked))
        assert [result.block_key for result in results] == [block(3), block(0), block(4), block(1)]
        assert [result.state for result in results] == [{"n": 3}, {"n": 0}, {"n": 4}, {"n": 1}]

    def test_get_many_yields_a_repeated_key_once(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1})
        results = list(client.get_many(user(0), [block(0), block(0)]))
        assert [result.block_key for result in results] == [block(0)]

    def test_get_many_of_no_blocks_yields_nothing(self, client: UserStateClient) -> None:
        assert list(client.get_many(user(0), [])) == []

    def test_get_many_with_fields(self, client: UserStateClient) -> None:
        client.set_many(user(0), {block(0): {"a": 1, "b": 2}, block(1): {"a": 3, "c": 4}})
        assert states(client.get_many(user(0), [block(0), block(1)], fields=["a"])) == {
            block(0): {"a": 1},
            block(1): {"a": 3},
        }

    def test_set_many_overlays_each_block(self, client: UserStateClient) -> None:
        client.set_many(user(0), {block(0): {"a": 1}, block(1): {"b": 2}})
        client.set_many(user(0), {block(0): {"c": 3}, block(1): {"b": 4}, block(2): {"d": 5}})
        assert states(client.get_many(user(0), [block(0), block(1), block(2)])) == {
            block(0): {"a": 1, "c": 3},
            block(1): {"b": 4},
            block(2): {"d": 5},
        }

    def test_delete_many(self, client: UserStateClient) -> None:
        client.set_many(user(0), {block(n): {"a": n, "b": n} for n in range(3)})
        client.delete_many(user(0), [block(0), block(1)], fields=["a"])
        client.delete_many(user(0), [block(2)])
        assert states(client.get_many(user(0), [block(0), block(1), block(2)])) == {
            block(0): {"b": 0},
            block(1): {"b": 1},
        }

    def test_one_write_gives_its_blocks_one_updated_time(self, client: UserStateClient) -> None:
        client.set_many(user(0), {block(0): {"a": 1}, block(1): {"a": 2}})
        first, second = client.get_many(user(0), [block(0), block(1)])
        assert first.updated == second.updated


class IdentityContract:
    """Learners, scopes and blocks never see each other's state; keys come back as given.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_learners_never_see_each_others_state(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 0})
        client.set(user(1), block(0), {"a": 1})
        client.delete(user(1), block(0))
        assert client.get(user(0), block(0)).state == {"a": 0}
        with pytest.raises(DoesNotExist):
            client.get(user(1), block(0))

    def test_scopes_never_see_each_others_state(self, client: UserStateClient) -> None:
        for scope in Scope:
            client.set(user(0), block(0), {"scope": scope.value}, scope=scope)
        for scope in Scope:
            assert client.get(user(0), block(0), scope=scope).state == {"scope": scope.value}
        client.delete(user(0), block(0), scope=Scope.preferences)
        assert client.get(user(0), block(0), scope=Scope.user_state).state == {
            "scope": "user_state"
        }
        assert len(list(client.get_history(user(0), block(0), scope=Scope.user_info))) == 1

    @pytest.mark.parametrize(
        "scope",
        [
            pytest.param("preferences", id="name"),
            pytest.param(XBlockLikeScope("preferences"), id="object-with-name"),
            pytest.param(Scope.preferences, id="member"),
        ],
    )
    def test_scope_may_be_given_by_name_or_object(
        self, client: UserStateClient, scope: object
    ) -> None:
        client.set(user(0), block(0), {"a": 1}, scope=scope)
        result = client.get(user(0), block(0), scope=Scope.preferences)
        assert result.state == {"a": 1}
        assert result.scope == Scope.preferences

    @pytest.mark.parametrize(
        "scope",
        [
            pytest.param("user_stat", id="unknown-name"),
            pytest.param(XBlockLikeScope("settings"), id="unknown-object"),
            pytest.param(None, id="none"),
            pytest.param(3, id="number"),
        ],
    )
    def test_unknown_scope_raises_value_error(self, client: UserStateClient, scope: object) -> None:
        with pytest.raises(ValueError, match="scope"):
            client.set(user(0), block(0), {"a": 1}, scope=scope)
        with pytest.raises(ValueError, match="scope"):
            client.get(user(0), block(0), scope=scope)

    @pytest.mark.parametrize(
        "username", ["", None, 7, b"bytes", "with space", "%FF", "a/b", "x" * 151]
    )
    def test_username_must_be_a_non_empty_string(
        self, client: UserStateClient, username: Any
    ) -> None:
        # One rule everywhere (lrs.usernames): letters, digits, _ . @ + -; 1 to 150.
        with pytest.raises(ValueError, match="username"):
            client.set(username, block(0), {"a": 1})
        with pytest.raises(ValueError, match="username"):
            list(client.get_many(username, [block(0)]))

    @pytest.mark.parametrize("username", ["émile", "a.b@c+d-e_f", "x" * 150, "7"])
    def test_usernames_of_any_script_and_edx_punctuation_work(
        self, client: UserStateClient, username: str
    ) -> None:
        client.set(username, block(0), {"a": 1})
        assert client.get(username, block(0)).state == {"a": 1}

    def test_results_hand_back_the_callers_key_object(self, client: UserStateClient) -> None:
        key = Key(block(0))
        client.set(user(0), key, {"a": 1})
        assert client.get(user(0), key).block_key is key
        # Any object with the same str() names the same block.
        assert client.get(user(0), block(0)).state == {"a": 1}
        assert next(client.get_history(user(0), key)).block_key is key
        assert next(client.iter_all_for_block(key)).block_key is key

    def test_keys_may_hold_any_character(self, client: UserStateClient) -> None:
        odd = ["a/b:c+d@e f", "ключ", "$key.with.dots", "", "%2E"]
        client.set_many(user(0), {key: {"k": key} for key in odd})
        assert states(client.get_many(user(0), odd)) == {key: {"k": key} for key in odd}

    def test_course_and_type_come_from_key_attributes(self, client: UserStateClient) -> None:
        key = Key("opaque-id-1", course_key="course-v1:A+B+C", block_type="video")
        client.set(user(0), key, {"a": 1})
        results = list(client.iter_all_for_course("course-v1:A+B+C", block_type="video"))
        assert [(str(result.block_key), result.state) for result in results] == [
            ("opaque-id-1", {"a": 1})
        ]


class ValuesContract:
    """Which values are kept, exactly, and when they were written.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(None, id="null"),
            pytest.param(True, id="bool"),
            pytest.param(0, id="zero"),
            pytest.param(-(2**63), id="int64-min"),
            pytest.param(2**64 - 1, id="uint64-max"),
            pytest.param(0.1, id="float"),
            pytest.param(1e308, id="big-float"),
            pytest.param("ünïcødé ✓ \x00 \U0001f600", id="string"),
            pytest.param([], id="empty-list"),
            pytest.param({"": {"a.b": {"$c": [None, 1.5, "x"]}}}, id="nested-odd-keys"),
        ],
    )
    def test_json_values_round_trip_exactly(self, client: UserStateClient, value: Any) -> None:
        client.set(user(0), block(0), {"v": value})
        got = client.get(user(0), block(0)).state
        assert got == {"v": value}
        assert got is not None
        assert type(got["v"]) is type(value)

    @pytest.mark.parametrize(
        "field",
        ["a.b", "$set", "", "ünï", "%2E", "%", "_x", "a\x00b", ".", "$", "fields.x"],
    )
    def test_field_names_round_trip_exactly(self, client: UserStateClient, field: str) -> None:
        client.set(user(0), block(0), {field: 1, "other": 2})
        assert client.get(user(0), block(0)).state == {field: 1, "other": 2}
        assert client.get(user(0), block(0), fields=[field]).state == {field: 1}
        client.delete(user(0), block(0), fields=[field])
        assert client.get(user(0), block(0)).state == {"other": 2}

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param(object(), id="object"),
            pytest.param({1, 2}, id="set"),
            pytest.param(b"bytes", id="bytes"),
            pytest.param(datetime(2026, 1, 1, tzinfo=UTC), id="datetime"),
            pytest.param(math.nan, id="nan"),
            pytest.param([math.inf], id="inf-in-list"),
            pytest.param({"k": -math.inf}, id="inf-in-dict"),
            pytest.param({1: "int key"}, id="non-string-key"),
            pytest.param(2**64, id="int-beyond-64-bits"),
        ],
    )
    def test_non_json_value_raises_type_error_and_writes_nothing(
        self, client: UserStateClient, value: Any
    ) -> None:
        client.set(user(0), block(0), {"keep": 1})
        with pytest.raises(TypeError) as raised:
            client.set_many(
                user(0), {block(0): {"new": 1}, block(1): {"ok": 1, "bad field": value}}
            )
        assert block(1) in str(raised.value)
        assert "bad field" in str(raised.value)
        assert client.get(user(0), block(0)).state == {"keep": 1}
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(1))
        assert len(list(client.get_history(user(0), block(0)))) == 1

    def test_deeply_nested_value_raises_type_error(self, client: UserStateClient) -> None:
        value: Any = 1
        for _ in range(1000):
            value = [value]
        with pytest.raises(TypeError, match="block"):
            client.set(user(0), block(0), {"deep": value})
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(0))

    def test_the_nesting_limit_is_the_same_on_every_backend(self, client: UserStateClient) -> None:
        # A state is one JSON object of at most MAX_DEPTH levels, itself included,
        # however a backend stores it (whole, or field by field).
        def nested(levels: int) -> Any:
            value: Any = 1
            for _ in range(levels):
                value = {"a": value}
            return value

        client.set(user(0), block(0), {"deep": nested(MAX_DEPTH - 1)})
        assert client.get(user(0), block(0)).state == {"deep": nested(MAX_DEPTH - 1)}
        with pytest.raises(TypeError, match="nested"):
            client.set(user(0), block(1), {"deep": nested(MAX_DEPTH)})
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(1))

    @pytest.mark.parametrize(
        "state",
        [
            pytest.param([("a", 1)], id="list"),
            pytest.param("a=1", id="string"),
            pytest.param(None, id="none"),
            pytest.param({1: "x"}, id="non-string-field-name"),
        ],
    )
    def test_state_must_map_field_names_to_values(
        self, client: UserStateClient, state: Any
    ) -> None:
        with pytest.raises(TypeError, match="block"):
            client.set(user(0), block(0), state)
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(0))

    def test_fields_must_be_a_collection_of_names(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"abc": 1})
        with pytest.raises(TypeError, match="fields"):
            client.get(user(0), block(0), fields="abc")
        with pytest.raises(TypeError, match="fields"):
            client.delete(user(0), block(0), fields="abc")
        assert client.get(user(0), block(0)).state == {"abc": 1}

    def test_updated_is_the_aware_utc_moment_of_the_write(self, client: UserStateClient) -> None:
        before = datetime.now(UTC)
        client.set(user(0), block(0), {"a": 1})
        after = datetime.now(UTC)
        updated = client.get(user(0), block(0)).updated
        assert updated.tzinfo is not None
        assert updated.utcoffset() == timedelta(0)
        # Holds only with microsecond precision: a time cut to milliseconds
        # would usually fall before `before`.
        assert before <= updated <= after

    def test_updated_changes_with_every_write(self, client: UserStateClient) -> None:
        times = []
        for n in range(20):
            client.set(user(0), block(0), {"n": n})
            times.append(client.get(user(0), block(0)).updated)
        assert times == sorted(times)
        assert len(set(times)) == len(times)


class StateHistoryContract:
    """The history of each block, newest first.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_history_holds_the_full_state_after_each_write_newest_first(
        self, client: UserStateClient
    ) -> None:
        client.set(user(0), block(0), {"a": 1})
        client.set(user(0), block(0), {"b": 2})
        client.delete(user(0), block(0), fields=["a"])
        client.delete(user(0), block(0))
        client.set(user(0), block(0), {"c": 3})
        history = list(client.get_history(user(0), block(0)))
        assert [entry.state for entry in history] == [
            {"c": 3},
            None,
            {"b": 2},
            {"a": 1, "b": 2},
            {"a": 1},
        ]
        assert all(entry.username == user(0) for entry in history)
        assert all(entry.block_key == block(0) for entry in history)
        assert all(entry.scope == Scope.user_state for entry in history)

    def test_history_times_strictly_decrease_and_match_the_state(
        self, client: UserStateClient
    ) -> None:
        for n in range(10):
            client.set(user(0), block(0), {"n": n})
        history = list(client.get_history(user(0), block(0)))
        times = [entry.updated for entry in history]
        assert all(newer > older for newer, older in zip(times, times[1:], strict=False))
        assert history[0].updated == client.get(user(0), block(0)).updated

    def test_history_shows_none_after_deleting_the_last_field(
        self, client: UserStateClient
    ) -> None:
        client.set(user(0), block(0), {"a": 1})
        client.delete(user(0), block(0), fields=["a"])
        assert [entry.state for entry in client.get_history(user(0), block(0))] == [None, {"a": 1}]

    def test_history_is_kept_per_learner_block_and_scope(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1})
        client.set(user(1), block(0), {"a": 2})
        client.set(user(0), block(1), {"a": 3})
        client.set(user(0), block(0), {"a": 4}, scope=Scope.preferences)
        assert [entry.state for entry in client.get_history(user(0), block(0))] == [{"a": 1}]

    def test_history_of_a_block_never_stored_raises_does_not_exist(
        self, client: UserStateClient
    ) -> None:
        client.set(user(0), block(1), {"a": 1})
        with pytest.raises(DoesNotExist):
            client.get_history(user(0), block(0))

    def test_set_many_records_history_for_each_block(self, client: UserStateClient) -> None:
        client.set_many(user(0), {block(0): {"a": 1}, block(1): {"b": 2}})
        assert [entry.state for entry in client.get_history(user(0), block(0))] == [{"a": 1}]
        assert [entry.state for entry in client.get_history(user(0), block(1))] == [{"b": 2}]


class IterationContract:
    """Every state of a block or a course, streamed; the interface's errors.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_iter_all_for_block_yields_every_learner_by_username(
        self, client: UserStateClient
    ) -> None:
        for n in (3, 1, 2, 0):
            client.set(user(n), block(0), {"n": n})
        client.set(user(5), block(1), {"n": 5})
        client.set(user(6), block(0), {"n": 6}, scope=Scope.preferences)
        client.delete(user(2), block(0))
        results = list(client.iter_all_for_block(block(0), batch_size=2))
        assert [(result.username, result.state) for result in results] == [
            (user(0), {"n": 0}),
            (user(1), {"n": 1}),
            (user(3), {"n": 3}),
        ]
        assert all(result.block_key == block(0) for result in results)

    def test_iter_all_for_course_yields_every_state_in_the_course(
        self, client: UserStateClient
    ) -> None:
        client.set(user(0), block(0), {"a": 1})
        client.set(user(1), block(0), {"a": 2})
        client.set(user(0), block(1, "video"), {"b": 1})
        client.set(user(0), block(2, course=OTHER_COURSE), {"c": 1})
        client.set(user(0), "not-a-usage-key", {"d": 1})
        found = {
            (result.username, str(result.block_key)): result.state
            for result in client.iter_all_for_course(COURSE, batch_size=1)
        }
        assert found == {
            (user(0), block(0)): {"a": 1},
            (user(1), block(0)): {"a": 2},
            (user(0), block(1, "video")): {"b": 1},
        }
        videos = list(client.iter_all_for_course(COURSE, block_type="video"))
        assert [(result.username, str(result.block_key)) for result in videos] == [
            (user(0), block(1, "video"))
        ]

    def test_iter_all_for_course_accepts_a_course_key_object(self, client: UserStateClient) -> None:
        client.set(user(0), block(0), {"a": 1})
        course_key = Key(COURSE)
        assert [result.state for result in client.iter_all_for_course(course_key)] == [{"a": 1}]

    @pytest.mark.parametrize("batch_size", [0, -1, 1.5, True])
    def test_batch_size_must_be_a_positive_integer(
        self, client: UserStateClient, batch_size: Any
    ) -> None:
        with pytest.raises(ValueError, match="batch_size"):
            list(client.iter_all_for_block(block(0), batch_size=batch_size))
        with pytest.raises(ValueError, match="batch_size"):
            list(client.iter_all_for_course(COURSE, batch_size=batch_size))

    def test_error_classes_are_client_attributes(self, client: UserStateClient) -> None:
        assert client.DoesNotExist is DoesNotExist
        with pytest.raises(client.DoesNotExist):
            client.get(user(0), block(0))


class ConcurrencyContract:
    """Writers at the same moment: nothing lost, every history entry exact.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_concurrent_writers_of_different_fields_lose_nothing(
        self, client: UserStateClient
    ) -> None:
        threads_count, writes = 8, 200

        def write(thread: int) -> None:
            for n in range(writes):
                client.set(user(0), block(0), {f"t{thread}-{n}": n})

        assert failures(race(*(partial(write, t) for t in range(threads_count)))) == []
        expected = {f"t{t}-{n}": n for t in range(threads_count) for n in range(writes)}
        assert client.get(user(0), block(0)).state == expected
        assert next(client.get_history(user(0), block(0))).state == expected

    def test_history_is_exact_under_concurrent_writers(self, client: UserStateClient) -> None:
        # Eight writers of one block, each setting and deleting a field of its
        # own: read oldest first, every entry must be the one before it changed
        # by exactly one operation, and each writer's operations must all be
        # there, in its order.
        threads_count, rounds = 8, 12

        def operations(thread: int) -> list[int | None]:
            # A value to set, or None for deleting the thread's field.
            return [None if n % 3 == 2 else n for n in range(rounds)]

        def write(thread: int) -> None:
            for value in operations(thread):
                if value is None:
                    client.delete(user(0), block(0), fields=[f"w{thread}"])
                else:
                    client.set(user(0), block(0), {f"w{thread}": value})

        assert failures(race(*(partial(write, t) for t in range(threads_count)))) == []
        entries = list(client.get_history(user(0), block(0)))
        times = [entry.updated for entry in entries]
        assert times == sorted(times, reverse=True) and len(set(times)) == len(times)
        seen: dict[str, list[int | None]] = {}
        previous: dict[str, Any] = {}
        for history_entry in reversed(entries):
            current = history_entry.state or {}
            changed = {
                name for name in {*previous, *current} if previous.get(name) != current.get(name)
            }
            assert len(changed) == 1, f"{previous} -> {current} is not one write"
            (name,) = changed
            seen.setdefault(name, []).append(current.get(name))
            previous = current
        assert seen == {f"w{t}": operations(t) for t in range(threads_count)}


class ModelContract:
    """The client against a plain dict model, on random operations.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    @settings(
        max_examples=40,
        deadline=None,
        # Each example works on learners of its own (a fresh uuid), so sharing
        # the function-scoped client between examples is safe; and the same
        # property runs once per backend subclass, which is the point.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(
        operations=st.lists(
            st.tuples(
                st.sampled_from(["set", "delete", "delete_fields"]),
                st.integers(0, 1),  # learner
                st.lists(st.integers(0, 2), min_size=1, max_size=3),  # blocks
                st.sampled_from([Scope.user_state, Scope.preferences]),
                st.dictionaries(
                    st.sampled_from(["a", "b.c", "$d"]), st.integers(-3, 3), max_size=3
                ),
            ),
            max_size=12,
        )
    )
    def test_behaves_like_a_dict_model(
        self, client: UserStateClient, operations: list[tuple[Any, ...]]
    ) -> None:
        run = uuid.uuid4().hex
        model: dict[tuple[str, Scope, str], dict[str, int]] = {}
        history: dict[tuple[str, Scope, str], list[dict[str, int] | None]] = {}

        def record(identity: tuple[str, Scope, str], new: dict[str, int] | None) -> None:
            if new:
                model[identity] = new
            else:
                model.pop(identity, None)
            history.setdefault(identity, []).insert(0, new or None)

        for action, learner, block_numbers, scope, fields in operations:
            name = f"{run}-{learner}"
            blocks = [block(n) for n in block_numbers]
            if action == "set":
                client.set_many(name, dict.fromkeys(blocks, fields), scope=scope)
                for one in dict.fromkeys(blocks):
                    identity = (name, scope, one)
                    if fields:
                        record(identity, {**model.get(identity, {}), **fields})
            elif action == "delete":
                client.delete_many(name, blocks, scope=scope)
                for one in dict.fromkeys(blocks):
                    if (name, scope, one) in model:
                        record((name, scope, one), None)
            else:
                client.delete_many(name, blocks, scope=scope, fields=list(fields))
                for one in dict.fromkeys(blocks):
                    old = model.get((name, scope, one))
                    if old and any(field in old for field in fields):
                        left = {k: v for k, v in old.items() if k not in fields}
                        record((name, scope, one), left)

        for learner in (0, 1):
            name = f"{run}-{learner}"
            for scope in (Scope.user_state, Scope.preferences):
                every = [block(n) for n in range(3)]
                expected = {
                    one: model[(name, scope, one)] for one in every if (name, scope, one) in model
                }
                assert states(client.get_many(name, every, scope=scope)) == expected
                for one in every:
                    identity = (name, scope, one)
                    if identity in history:
                        got = [entry.state for entry in client.get_history(name, one, scope)]
                        assert got == history[identity]
                    else:
                        with pytest.raises(DoesNotExist):
                            client.get_history(name, one, scope)


class LargeCallContract:
    """Calls of more blocks than a backend takes at once are cut into chunks, invisibly.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_two_and_a_half_chunks_of_blocks_are_set_read_and_deleted(
        self, client: UserStateClient
    ) -> None:
        # 2,500 blocks with the usual chunk of 1,000 (a slow fake store may
        # make chunks smaller by patching lrs.clients.base.MAX_BLOCKS).
        count = int(2.5 * clients_base.MAX_BLOCKS)
        blocks = [block(n) for n in range(count)]
        client.set_many(user(0), {key: {"n": n} for n, key in enumerate(blocks)})
        found = list(client.get_many(user(0), [*blocks, block(99999)]))
        assert [result.block_key for result in found] == blocks
        assert [result.state for result in found] == [{"n": n} for n in range(count)]
        client.delete_many(user(0), blocks[::2], fields=["n"])
        client.delete_many(user(0), blocks[1::2])
        assert list(client.get_many(user(0), blocks)) == []


class UpdateContract:
    """``update``: one block changed under conditions, in one atomic step, both doors' operation.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    def test_merge_replace_and_delete_return_what_they_left(self, client: UserStateClient) -> None:
        merged = client.update(user(0), block(0), BlockChange.setting(block(0), {"a": 1, "b": 2}))
        assert merged is not None and merged.state == {"a": 1, "b": 2}
        assert merged.block_key == block(0)
        replaced = client.update(user(0), block(0), BlockChange.replacing(block(0), {"a": 5}))
        assert replaced is not None and replaced.state == {"a": 5}
        assert client.get(user(0), block(0)).state == {"a": 5}
        left = client.update(user(0), block(0), BlockChange.deleting(["x"]))
        assert left is not None and left.state == {"a": 5}  # nothing to delete: as it is
        assert client.update(user(0), block(0), BlockChange.deleting()) is None
        with pytest.raises(DoesNotExist):
            client.get(user(0), block(0))

    def test_a_replacement_is_one_write_with_one_history_entry(
        self, client: UserStateClient
    ) -> None:
        client.set(user(0), block(0), {"a": 1, "b": 2})
        client.update(user(0), block(0), BlockChange.replacing(block(0), {"a": 5}))
        assert [entry.state for entry in client.get_history(user(0), block(0))] == [
            {"a": 5},
            {"a": 1, "b": 2},
        ]
        client.update(user(0), block(0), BlockChange.replacing(block(0), {}))
        assert [entry.state for entry in client.get_history(user(0), block(0))][0] is None

    def test_the_etag_follows_the_state_not_the_backend(self, client: UserStateClient) -> None:
        result = client.update(user(0), block(0), BlockChange.setting(block(0), {"b": 1, "a": 2}))
        assert result is not None
        assert result.etag == state_etag({"a": 2, "b": 1})
        assert client.get(user(0), block(0)).etag == result.etag

    def test_if_match_and_if_none_match(self, client: UserStateClient) -> None:
        create_only = Conditions(if_none_match=frozenset({"*"}))
        first = client.update(
            user(0), block(0), BlockChange.setting(block(0), {"a": 1}), conditions=create_only
        )
        assert first is not None and first.etag is not None
        with pytest.raises(PreconditionFailed):
            client.update(
                user(0), block(0), BlockChange.setting(block(0), {"a": 2}), conditions=create_only
            )
        stale = Conditions(if_match=frozenset({"0" * 40}))
        with pytest.raises(PreconditionFailed):
            client.update(user(0), block(0), BlockChange.deleting(), conditions=stale)
        current = Conditions(if_match=frozenset({first.etag}))
        second = client.update(
            user(0), block(0), BlockChange.replacing(block(0), {"b": 2}), conditions=current
        )
        assert second is not None and second.state == {"b": 2}
        with pytest.raises(PreconditionFailed):  # that ETag is no longer current
            client.update(
                user(0), block(0), BlockChange.setting(block(0), {"c": 3}), conditions=current
            )
        with pytest.raises(PreconditionFailed):  # If-Match: * needs something there
            client.update(
                user(0),
                block(1),
                BlockChange.setting(block(1), {"c": 3}),
                conditions=Conditions(if_match=frozenset({"*"})),
            )
        assert client.get(user(0), block(0)).state == {"b": 2}
        assert [entry.state for entry in client.get_history(user(0), block(0))] == [
            {"b": 2},
            {"a": 1},
        ]

    def test_of_writers_holding_one_etag_exactly_one_wins(self, client: UserStateClient) -> None:
        # Eight rounds: in each, eight writers read the block, then all write
        # with its ETag. Exactly one write lands; the others are refused, and
        # the block is the winner's state, not a merge of several.
        client.set(user(0), block(0), {"round": -1})
        for round_number in range(8):
            etag = client.get(user(0), block(0)).etag
            assert etag is not None
            held = Conditions(if_match=frozenset({etag}))

            def write(
                writer: int, round_number: int = round_number, held: Conditions = held
            ) -> int:
                state = {"round": round_number, f"w{writer}": writer}
                client.update(
                    user(0), block(0), BlockChange.replacing(block(0), state), conditions=held
                )
                return writer

            outcomes = race(*(partial(write, writer) for writer in range(8)))
            winners = [o for o in outcomes if not isinstance(o, BaseException)]
            assert len(winners) == 1, outcomes
            assert all(isinstance(o, PreconditionFailed) for o in failures(outcomes))
            assert client.get(user(0), block(0)).state == {
                "round": round_number,
                f"w{winners[0]}": winners[0],
            }
        assert len(list(client.get_history(user(0), block(0)))) == 9

    def test_of_creators_only_one_creates(self, client: UserStateClient) -> None:
        create_only = Conditions(if_none_match=frozenset({"*"}))

        def create(writer: int) -> int:
            client.update(
                user(0),
                block(0),
                BlockChange.setting(block(0), {"by": writer}),
                conditions=create_only,
            )
            return writer

        outcomes = race(*(partial(create, writer) for writer in range(8)))
        winners = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(winners) == 1, outcomes
        assert client.get(user(0), block(0)).state == {"by": winners[0]}


class UserStateClientContract(
    BlockContract,
    ManyBlocksContract,
    IdentityContract,
    ValuesContract,
    StateHistoryContract,
    IterationContract,
    ConcurrencyContract,
    ModelContract,
    LargeCallContract,
    UpdateContract,
):
    """The behaviour of edX's user-state client, which every backend must have.

    Subclasses supply a ``client`` fixture returning an empty client.
    """


class StoredUserStateClientContract(UserStateClientContract):
    """A client over a store of its own: all of the above, and forgetting a learner.

    Subclasses supply a ``client`` fixture returning an empty
    ``StoredUserStateClient``.
    """

    def test_forgetting_a_user_removes_every_block_and_its_history(
        self, client: clients_base.StoredUserStateClient
    ) -> None:
        for n in range(3):
            client.set(user(0), block(n), {"answer": n})
        client.set(user(0), block(0), {"answer": 10}, scope=Scope.preferences)
        client.set(user(1), block(0), {"mine": True})
        others = client.get(user(1), block(0)), list(client.get_history(user(1), block(0)))
        assert client.count_user(user(0)) == 4
        assert client.forget_user(user(0)) == 4
        assert client.count_user(user(0)) == 0
        for n in range(3):
            with pytest.raises(DoesNotExist):
                client.get(user(0), block(n))
            with pytest.raises(DoesNotExist):  # no history at all, not even of a delete
                list(client.get_history(user(0), block(n)))
        with pytest.raises(DoesNotExist):
            list(client.get_history(user(0), block(0), scope=Scope.preferences))
        assert [state.username for state in client.iter_all_for_block(block(0))] == [user(1)]
        assert (client.get(user(1), block(0)), list(client.get_history(user(1), block(0)))) == (
            others
        )
        assert client.forget_user(user(0)) == 0
