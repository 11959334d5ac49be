"""The contract of the learner-state client, split by behaviour.

``UserStateClientContract`` is all of them; a backend subclasses it with a
``client`` fixture that returns an empty client. A backend that cannot keep
some promise yet can compose the classes it passes instead (as edX composes its
user-state client tests from CRUD, history and iteration classes).
"""

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lrs.clients import base as clients_base
from lrs.clients.base import Scope, UserState, UserStateClient
from lrs.clients.values import MAX_DEPTH
from lrs.exceptions import DoesNotExist
from lrs.testing.client_writes import (
    ConcurrencyContract,
    LargeCallContract,
    ModelContract,
    UpdateContract,
)
from lrs.testing.helpers import (
    COURSE,
    OTHER_COURSE,
    Key,
    XBlockLikeScope,
    block,
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
