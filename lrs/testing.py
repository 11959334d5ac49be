"""The contract every learner-state client and history log must keep, as pytest classes.

A backend -- ours or a third party's -- proves itself by subclassing the
contract and supplying a ``client`` fixture that returns a working client::

    from lrs.testing import UserStateClientContract

    class TestMyClient(UserStateClientContract):
        @pytest.fixture
        def client(self):
            return MyUserStateClient(...)

The class names have no ``Test`` prefix, so pytest collects them only through
such subclasses. History logs do the same with ``HistoryLogContract`` and a
``make_log`` fixture (``make_log(retention)`` builds a log with that retention
policy), credential stores with ``CredentialStoreContract`` and a ``store`` fixture,
statement stores with ``StatementStoreContract`` and a ``statements`` fixture,
document stores with ``DocumentStoreContract`` and a ``documents`` fixture,
enrollment stores with ``EnrollmentStoreContract`` and an ``enrollments`` fixture.
Needs pytest and hypothesis (the ``test`` extra).
"""

import hashlib
import math
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.clients.base import Scope, UserState, UserStateClient
from lrs.clients.values import MAX_DEPTH
from lrs.clock import default_clock
from lrs.credentials.base import CredentialStore, Role
from lrs.enrollments.base import CourseRole, EnrollmentStore, Outcome
from lrs.exceptions import Conflict, DoesNotExist, PreconditionFailed
from lrs.history.base import HistoryEntry, HistoryLog, Retention
from lrs.xapi.documents import JSON, Conditions, Context, Document, DocumentStore, Resource
from lrs.xapi.prepare import prepare
from lrs.xapi.statements.base import Record, StatementQuery, StatementStore
from lrs.xapi.validation import VOIDED, Version

COURSE = "course-v1:Org+Course+Run"
OTHER_COURSE = "course-v1:Org+Other+Run"


def user(n: int) -> str:
    """The n-th test learner."""
    return f"learner{n}"


def block(n: int, block_type: str = "problem", course: str = COURSE) -> str:
    """The n-th test block of ``course``, an edX usage key."""
    org_course_run = course.removeprefix("course-v1:")
    return f"block-v1:{org_course_run}+type@{block_type}+block@b{n}"


class Key:
    """A caller's own key object: ``str()`` is its id, like edX's ``UsageKey``."""

    def __init__(self, block_id: str, course_key: str | None = None, block_type: str | None = None):
        """Make a key whose id is ``block_id``."""
        self.block_id = block_id
        self.course_key = course_key
        self.block_type = block_type

    def __str__(self) -> str:
        """The canonical id."""
        return self.block_id

    def __hash__(self) -> int:
        """Hash as the id does."""
        return hash(self.block_id)

    def __eq__(self, other: object) -> bool:
        """Keys with the same id are equal."""
        return isinstance(other, Key) and other.block_id == self.block_id


class XBlockLikeScope:
    """Stands in for XBlock's ``Scope.user_state``: only ``.name`` matters."""

    def __init__(self, name: str):
        """Make a scope called ``name``."""
        self.name = name


def states(results: Any) -> dict[Any, Any]:
    """Map each result's block key to its state."""
    return {result.block_key: result.state for result in results}


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once, each on its own thread; return what each returned or raised."""
    outcomes: list[Any] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = calls[index]()
        except BaseException as exc:  # reported to the test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def failures(outcomes: list[Any]) -> list[BaseException]:
    """The exceptions among ``race``'s outcomes."""
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]


class UserStateClientContract:
    """The behaviour of edX's user-state client, which every backend must have.

    Subclasses supply a ``client`` fixture returning an empty client.
    """

    # -- reading and writing one block ------------------------------------

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

    # -- many blocks ---------------------------------------------------------

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

    # -- isolation -----------------------------------------------------------

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

    @pytest.mark.parametrize("username", ["", None, 7, b"bytes"])
    def test_username_must_be_a_non_empty_string(
        self, client: UserStateClient, username: Any
    ) -> None:
        with pytest.raises(ValueError, match="username"):
            client.set(username, block(0), {"a": 1})
        with pytest.raises(ValueError, match="username"):
            list(client.get_many(username, [block(0)]))

    # -- keys ----------------------------------------------------------------

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

    # -- values --------------------------------------------------------------

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

    # -- time ----------------------------------------------------------------

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

    # -- history -------------------------------------------------------------

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

    # -- iteration -----------------------------------------------------------

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

    # -- the interface -------------------------------------------------------

    def test_error_classes_are_client_attributes(self, client: UserStateClient) -> None:
        assert client.DoesNotExist is DoesNotExist
        with pytest.raises(client.DoesNotExist):
            client.get(user(0), block(0))

    # -- concurrency ---------------------------------------------------------

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

    # -- against a model -----------------------------------------------------

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


def entry(n: int, time_us: int, username: str = "learner0", block_id: str = "b0") -> HistoryEntry:
    """A history entry whose state records ``n``."""
    return HistoryEntry(username, "user_state", block_id, f'{{"n":{n}}}', time_us)


class HistoryLogContract:
    """The behaviour every history log must have.

    Subclasses supply ``make_log``, a fixture returning a function that builds
    an empty log with a given retention policy.
    """

    @pytest.fixture
    def log(self, make_log: Callable[[Retention | None], HistoryLog]) -> HistoryLog:
        return make_log(None)

    def test_entries_come_back_newest_first(self, log: HistoryLog) -> None:
        log.append([entry(1, 100), entry(2, 200)])
        log.append([entry(3, 300)])
        assert [e.state for e in log.entries("learner0", "user_state", "b0")] == [
            '{"n":3}',
            '{"n":2}',
            '{"n":1}',
        ]

    def test_entries_belong_to_one_block(self, log: HistoryLog) -> None:
        log.append([entry(1, 100), entry(2, 200, block_id="b1"), entry(3, 300, username="x")])
        assert [e.time_us for e in log.entries("learner0", "user_state", "b0")] == [100]
        assert list(log.entries("learner0", "preferences", "b0")) == []

    def test_deletion_entries_and_odd_field_names_round_trip(self, log: HistoryLog) -> None:
        odd = '{"a.b":1,"$c":{"":2},"\\u0000":3}'
        log.append([HistoryEntry("u", "user_state", "b", odd, 1)])
        log.append([HistoryEntry("u", "user_state", "b", None, 2)])
        assert [(e.state, e.time_us) for e in log.entries("u", "user_state", "b")] == [
            (None, 2),
            (odd, 1),
        ]

    def test_prune_without_a_policy_removes_nothing(self, log: HistoryLog) -> None:
        log.append([entry(n, n) for n in range(1, 5)])
        assert log.prune() == 0
        assert len(list(log.entries("learner0", "user_state", "b0"))) == 4

    def test_prune_keeps_the_newest_entries_of_each_block(
        self, make_log: Callable[[Retention | None], HistoryLog]
    ) -> None:
        log = make_log(Retention(keep_last=2))
        log.append([entry(n, n) for n in range(1, 6)])
        log.append([entry(n, n, block_id="b1") for n in range(1, 3)])
        assert log.prune() == 3
        assert [e.time_us for e in log.entries("learner0", "user_state", "b0")] == [5, 4]
        assert [e.time_us for e in log.entries("learner0", "user_state", "b1")] == [2, 1]
        assert log.prune() == 0

    def test_prune_removes_entries_older_than_max_age(
        self, make_log: Callable[[Retention | None], HistoryLog]
    ) -> None:
        log = make_log(Retention(max_age=timedelta(days=30)))
        now = datetime(2026, 6, 1, tzinfo=UTC)
        day_us = 86_400_000_000
        now_us = int(now.timestamp()) * 1_000_000
        log.append([entry(n, now_us - n * 10 * day_us) for n in range(6)])
        assert log.prune(now=now) == 2  # 40 and 50 days old
        assert len(list(log.entries("learner0", "user_state", "b0"))) == 4

    def test_either_limit_removes_an_entry(
        self, make_log: Callable[[Retention | None], HistoryLog]
    ) -> None:
        log = make_log(Retention(keep_last=3, max_age=timedelta(days=30)))
        now = datetime(2026, 6, 1, tzinfo=UTC)
        now_us = int(now.timestamp()) * 1_000_000
        day_us = 86_400_000_000
        log.append([entry(n, now_us - n * 20 * day_us) for n in range(6)])
        assert log.prune(now=now) == 4  # keep_last leaves 3; max_age leaves 2 of them
        assert len(list(log.entries("learner0", "user_state", "b0"))) == 2

    @pytest.mark.parametrize(
        "arguments",
        [
            pytest.param({"keep_last": 0}, id="keep-none"),
            pytest.param({"keep_last": 1.5}, id="keep-fraction"),
            pytest.param({"max_age": timedelta(0)}, id="zero-age"),
            pytest.param({"max_age": 30}, id="age-not-timedelta"),
        ],
    )
    def test_retention_rejects_nonsense(self, arguments: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            Retention(**arguments)


class CredentialStoreContract:
    """The behaviour every credential store must have.

    Subclasses supply a ``store`` fixture returning an empty store.
    """

    def test_created_credential_authenticates_with_its_secret(self, store: CredentialStore) -> None:
        credential, secret = store.create(Role.service, name="lms")
        assert len(secret) >= 32
        assert store.authenticate(credential.key, secret) == credential
        assert credential.role == Role.service
        assert credential.name == "lms"
        assert credential.active

    def test_wrong_secret_or_unknown_key_does_not_authenticate(
        self, store: CredentialStore
    ) -> None:
        credential, secret = store.create(Role.admin)
        assert store.authenticate(credential.key, secret + "x") is None
        assert store.authenticate(credential.key, "") is None
        assert store.authenticate("unknown-key", secret) is None
        assert store.authenticate("", secret) is None

    def test_the_secret_is_not_stored(self, store: CredentialStore) -> None:
        credential, secret = store.create(Role.admin)
        stored = store._find(credential.key)
        assert stored is not None
        assert secret not in repr(stored)

    def test_revoked_credential_no_longer_authenticates_but_stays_listed(
        self, store: CredentialStore
    ) -> None:
        credential, secret = store.create(Role.service)
        revoked = store.revoke(credential.key)
        assert revoked.revoked is not None
        assert store.authenticate(credential.key, secret) is None
        assert store.list() == []
        assert [c.key for c in store.list(include_revoked=True)] == [credential.key]
        assert store.revoke(credential.key) == revoked

    def test_revoking_an_unknown_key_raises_does_not_exist(self, store: CredentialStore) -> None:
        with pytest.raises(DoesNotExist):
            store.revoke("unknown-key")

    def test_list_is_oldest_first(self, store: CredentialStore) -> None:
        keys = [store.create(Role.service, name=str(n))[0].key for n in range(3)]
        assert [credential.key for credential in store.list()] == keys
        assert store.count() == 3

    def test_user_roles_need_a_username(self, store: CredentialStore) -> None:
        for role in (Role.learner, Role.coach):
            with pytest.raises(ValueError, match="username"):
                store.create(role)
        credential, _ = store.create(Role.learner, username="ada")
        assert credential.username == "ada"

    @pytest.mark.parametrize(
        "arguments",
        [
            pytest.param({"role": "root"}, id="unknown-role"),
            pytest.param({"role": "admin", "key": "short"}, id="short-key"),
            pytest.param({"role": "admin", "key": "bad key with spaces"}, id="bad-key"),
            pytest.param({"role": "admin", "secret": "short"}, id="short-secret"),
            pytest.param({"role": "learner", "username": ""}, id="empty-username"),
        ],
    )
    def test_malformed_credentials_are_refused(
        self, store: CredentialStore, arguments: dict[str, Any]
    ) -> None:
        with pytest.raises(ValueError):
            store.create(**arguments)
        assert store.count() == 0

    def test_a_key_cannot_be_created_twice(self, store: CredentialStore) -> None:
        store.create(Role.admin, key="fixed-key-1", secret="s" * 20)
        with pytest.raises(ValueError, match="exists"):
            store.create(Role.service, key="fixed-key-1", secret="t" * 20)
        assert store.get("fixed-key-1").role == Role.admin

    def test_ensure_makes_exactly_that_key_and_secret_work(self, store: CredentialStore) -> None:
        secret, other = "automation-secret-" + "0" * 20, "another-secret-" + "1" * 20
        first = store.ensure("automation-key", secret)
        assert store.ensure("automation-key", secret) == first
        assert store.authenticate("automation-key", secret) == first
        assert first.role == Role.admin
        store.ensure("automation-key", other)
        assert store.authenticate("automation-key", secret) is None
        assert store.authenticate("automation-key", other) is not None
        assert store.count() == 1

    def test_ensure_refuses_a_short_chosen_secret(self, store: CredentialStore) -> None:
        with pytest.raises(ValueError, match="at least 32 characters"):
            store.ensure("automation-key", "x" * 31)
        assert store.count() == 0


def statement(
    n: int = 0,
    *,
    actor: str = "mailto:ada@example.org",
    verb: str = "http://adlnet.gov/expapi/verbs/completed",
    activity: str = "http://example.org/activities/a0",
    **extra: Any,
) -> dict[str, Any]:
    """A small valid statement; ``n`` makes its id (and so it) distinct."""
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "actor": {"mbox": actor},
        "verb": {"id": verb},
        "object": {"id": activity},
        **extra,
    }


AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.test", "name": "tests"}}


class StatementStoreContract:
    """The behaviour every statement store must have.

    Subclasses supply a ``statements`` fixture returning an empty store.
    """

    @staticmethod
    def record(data: dict[str, Any], stored_us: int | None = None) -> Record:
        return prepare(
            data,
            version=Version.V1_0_3,
            authority=AUTHORITY,
            stored_us=stored_us if stored_us is not None else default_clock.now_us(),
        )

    def save(self, statements: StatementStore, *data: dict[str, Any]) -> list[str]:
        return statements.save([self.record(item) for item in data])

    def ids(self, records: list[Record]) -> list[str]:
        return [record.id for record in records]

    def test_saved_statements_come_back(self, statements: StatementStore) -> None:
        ids = self.save(statements, statement(0), statement(1))
        assert ids == [statement(0)["id"], statement(1)["id"]]
        record = statements.get(ids[0])
        assert record is not None
        stored = orjson.loads(record.text)
        assert stored["verb"] == statement(0)["verb"]
        assert stored["authority"] == AUTHORITY
        assert stored["version"] == "1.0.0"
        assert stored["timestamp"] == stored["stored"]
        assert statements.get(str(uuid.UUID(int=999))) is None
        assert statements.count() == 2

    def test_same_id_with_same_content_is_skipped(self, statements: StatementStore) -> None:
        self.save(statements, statement(0))
        assert self.save(statements, statement(0), statement(1)) == [statement(1)["id"]]
        assert statements.count() == 2

    def test_same_id_with_other_content_conflicts_and_stores_nothing(
        self, statements: StatementStore
    ) -> None:
        self.save(statements, statement(0))
        other = statement(0, verb="http://adlnet.gov/expapi/verbs/failed")
        with pytest.raises(Conflict):
            self.save(statements, statement(1), other)
        assert statements.count() == 1
        assert statements.get(statement(1)["id"]) is None

    def test_voiding_hides_the_target_from_queries(self, statements: StatementStore) -> None:
        self.save(statements, statement(0), statement(1))
        reference = {"objectType": "StatementRef", "id": statement(0)["id"]}
        self.save(statements, statement(2, verb=VOIDED, object=reference))
        target = statements.get(statement(0)["id"])
        assert target is not None and target.voided
        found = self.ids(statements.query(StatementQuery()))
        assert found == [statement(2)["id"], statement(1)["id"]]

    def test_a_voiding_statement_cannot_be_voided(self, statements: StatementStore) -> None:
        self.save(statements, statement(0))
        first = statement(
            1, verb=VOIDED, object={"objectType": "StatementRef", "id": statement(0)["id"]}
        )
        self.save(statements, first)
        second = statement(
            2, verb=VOIDED, object={"objectType": "StatementRef", "id": statement(1)["id"]}
        )
        with pytest.raises(ValueError, match="cannot be voided"):
            self.save(statements, second)
        assert statements.get(statement(2)["id"]) is None
        record = statements.get(statement(1)["id"])
        assert record is not None and not record.voided

    def test_query_order_limit_and_paging(self, statements: StatementStore) -> None:
        for n in range(7):
            self.save(statements, statement(n))
        newest = self.ids(statements.query(StatementQuery(limit=3)))
        assert newest == [statement(n)["id"] for n in (6, 5, 4)]
        last = statements.get(newest[-1])
        assert last is not None
        after = (last.stored_us, last.id)
        following = self.ids(statements.query(StatementQuery(limit=3, after=after)))
        assert following == [statement(n)["id"] for n in (3, 2, 1)]
        oldest = self.ids(statements.query(StatementQuery(limit=2, ascending=True)))
        assert oldest == [statement(0)["id"], statement(1)["id"]]

    def test_query_since_and_until(self, statements: StatementStore) -> None:
        for n in range(5):
            statements.save([self.record(statement(n), stored_us=1_000_000 * (n + 1))])
        found = self.ids(statements.query(StatementQuery(since_us=2_000_000, until_us=4_000_000)))
        assert found == [statement(3)["id"], statement(2)["id"]]

    def test_statements_saved_out_of_order_are_queried_in_stored_order(
        self, statements: StatementStore
    ) -> None:
        # Two writers can save in the other order than they were stamped, and
        # two statements can share a stamp: the id breaks the tie.
        stamps = {3: 4_000_000, 0: 1_000_000, 2: 3_000_000, 1: 3_000_000, 4: 5_000_000}
        for n, stored_us in stamps.items():
            statements.save([self.record(statement(n), stored_us=stored_us)])
        every = [statement(n)["id"] for n in range(5)]
        assert self.ids(statements.query(StatementQuery(ascending=True))) == every
        verb = statement(0)["verb"]["id"]
        assert self.ids(statements.query(StatementQuery(verb=verb))) == every[::-1]
        window = StatementQuery(since_us=1_000_000, until_us=3_000_000, ascending=True)
        assert self.ids(statements.query(window)) == every[1:3]
        after = (3_000_000, statement(1)["id"])
        assert self.ids(statements.query(StatementQuery(after=after))) == [every[0]]

    def test_query_filters(self, statements: StatementStore) -> None:
        other_verb = "http://adlnet.gov/expapi/verbs/failed"
        registration = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
        self.save(
            statements,
            statement(0),
            statement(1, verb=other_verb),
            statement(2, actor="mailto:grace@example.org"),
            statement(3, activity="http://example.org/activities/a1"),
            statement(
                4,
                actor="mailto:grace@example.org",
                activity="http://example.org/activities/a1",
                context={
                    "registration": registration,
                    "instructor": {"mbox": "mailto:ada@example.org"},
                    "contextActivities": {"parent": {"id": "http://example.org/activities/a0"}},
                },
            ),
            {
                **statement(5, actor="mailto:grace@example.org"),
                "actor": {
                    "objectType": "Group",
                    "member": [{"mbox": "mailto:ada@example.org"}],
                },
            },
        )

        def found(**filters: Any) -> set[int]:
            records = statements.query(StatementQuery(limit=100, **filters))
            return {uuid.UUID(record.id).int - 1 for record in records}

        ada = "mbox:mailto:ada@example.org"
        assert found(verb=other_verb) == {1}
        assert found(agent=ada) == {0, 1, 3, 5}
        assert found(agent=ada, related_agents=True) == {0, 1, 3, 4, 5}
        assert found(activity="http://example.org/activities/a1") == {3, 4}
        assert found(activity="http://example.org/activities/a0", related_activities=True) == {
            0,
            1,
            2,
            4,
            5,
        }
        assert found(registration=registration) == {4}
        assert found(agent=ada, verb=other_verb) == {1}
        assert found(verb="http://example.org/never") == set()

    def test_statements_targeting_a_match_match_too(self, statements: StatementStore) -> None:
        # xAPI-Communication.md 2.1.3, Filter Conditions for StatementRefs.
        passed = "http://adlnet.gov/expapi/verbs/passed"
        self.save(statements, statement(0, verb=passed), statement(1))
        ref = {"objectType": "StatementRef", "id": statement(0)["id"]}
        comment = "http://adlnet.gov/expapi/verbs/commented"
        self.save(statements, statement(2, verb=comment, actor="mailto:x@y.z", object=ref))
        ref_ref = {"objectType": "StatementRef", "id": statement(2)["id"]}
        self.save(statements, statement(3, verb=comment, actor="mailto:x@y.z", object=ref_ref))
        found = self.ids(statements.query(StatementQuery(verb=passed)))
        assert found == [statement(n)["id"] for n in (3, 2, 0)]
        # Every filter must hold in one statement of the chain, not across them.
        mixed = StatementQuery(verb=passed, agent="mbox:mailto:x@y.z")
        assert statements.query(mixed) == []
        # Time filters apply to the targeting statement itself.
        last = statements.get(statement(2)["id"])
        assert last is not None
        since = self.ids(statements.query(StatementQuery(verb=passed, since_us=last.stored_us)))
        assert since == [statement(3)["id"]]

    # -- racing writers --------------------------------------------------------

    def test_racing_identical_batches_all_succeed_and_store_each_once(
        self, statements: StatementStore
    ) -> None:
        for trial in range(5):
            batch = [self.record(statement(trial * 100 + n)) for n in range(10)]
            outcomes = race(*[partial(statements.save, batch)] * 8)
            assert failures(outcomes) == []
            # Between them, the racers stored each statement exactly once.
            stored = [statement_id for o in outcomes for statement_id in o]
            assert sorted(stored) == sorted(record.id for record in batch)
        assert statements.count() == 50

    def test_racing_conflicting_batches_store_one_whole_batch_and_nothing_of_the_other(
        self, statements: StatementStore
    ) -> None:
        for trial in range(10):
            base = 1000 + trial * 10
            shared = statement(base)
            first = [self.record(statement(base + 1)), self.record(shared)]
            other = {**shared, "verb": {"id": "http://example.org/verbs/other"}}
            second = [self.record(other), self.record(statement(base + 2))]
            outcomes = race(partial(statements.save, first), partial(statements.save, second))
            conflicts = [o for o in outcomes if isinstance(o, Conflict)]
            assert len(conflicts) == 1, outcomes
            winner = first if outcomes[1] is conflicts[0] else second
            loser = second if winner is first else first
            for record in winner:
                found = statements.get(record.id)
                assert found is not None and found.digest == record.digest
            # The loser's statement that the winner did not share was not stored.
            lonely = loser[0] if loser is first else loser[1]
            assert statements.get(lonely.id) is None


DOCUMENT_CONTEXT = Context(
    Resource.state, "http://example.org/activities/a0", "mbox:mailto:ada@example.org"
)


class DocumentStoreContract:
    """The behaviour every document store must have.

    Subclasses supply a ``documents`` fixture returning an empty store.
    """

    context = DOCUMENT_CONTEXT

    def put(self, documents: DocumentStore, content: bytes, **options: Any) -> Document | None:
        options.setdefault("updated_us", default_clock.now_us())
        content_type = options.pop("content_type", JSON)
        return documents.put(self.context, "doc", content, content_type, **options)

    def test_content_round_trips_byte_for_byte_with_its_type(
        self, documents: DocumentStore
    ) -> None:
        content = bytes(range(256)) * 4
        self.put(documents, content, content_type="application/octet-stream")
        found = documents.get(self.context, "doc")
        assert found is not None
        assert (found.content, found.content_type) == (content, "application/octet-stream")
        assert found.etag == hashlib.sha1(content).hexdigest()
        assert documents.get(self.context, "other") is None

    def test_contexts_are_separate(self, documents: DocumentStore) -> None:
        self.put(documents, b'{"a": 1}')
        for other in (
            self.context._replace(registration="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"),
            self.context._replace(agent="mbox:mailto:grace@example.org"),
            self.context._replace(resource=Resource.activity_profile, agent=""),
        ):
            assert documents.get(other, "doc") is None
            assert documents.ids(other) == []

    def test_post_merges_top_level_properties(self, documents: DocumentStore) -> None:
        self.put(documents, b'{"x": "foo", "y": {"deep": 1}}')
        self.put(documents, b'{"x": "bash", "z": "faz", "y": {"other": 2}}', merge=True)
        found = documents.get(self.context, "doc")
        assert found is not None
        assert orjson.loads(found.content) == {"x": "bash", "y": {"other": 2}, "z": "faz"}
        assert found.content_type == JSON

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ((b"plain", "text/plain"), (b'{"a": 1}', JSON)),
            ((b'{"a": 1}', JSON), (b"plain", "text/plain")),
            ((b"[1, 2]", JSON), (b'{"a": 1}', JSON)),
            ((b'{"a": 1}', JSON), (b'{"a": 1}', "text/plain")),
        ],
    )
    def test_merging_what_is_not_a_json_object_fails_and_changes_nothing(
        self, documents: DocumentStore, first: tuple[bytes, str], second: tuple[bytes, str]
    ) -> None:
        self.put(documents, first[0], content_type=first[1])
        with pytest.raises(ValueError, match="JSON"):
            self.put(documents, second[0], content_type=second[1], merge=True)
        found = documents.get(self.context, "doc")
        assert found is not None and (found.content, found.content_type) == first

    def test_preconditions(self, documents: DocumentStore) -> None:
        create_only = Conditions(if_none_match=frozenset({"*"}))
        stored = self.put(documents, b"1", conditions=create_only)
        assert stored is not None
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"2", conditions=create_only)
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"2", conditions=Conditions(if_match=frozenset({"0" * 40})))
        with pytest.raises(Conflict):
            self.put(documents, b"2", conditions=Conditions(required=True))
        with pytest.raises(PreconditionFailed):
            documents.delete(self.context, "doc", Conditions(if_match=frozenset({"stale"})))
        found = documents.get(self.context, "doc")
        assert found is not None and found.content == b"1"
        self.put(documents, b"2", conditions=Conditions(if_match=frozenset({stored.etag})))
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"3", conditions=Conditions(if_match=frozenset({stored.etag})))
        changed = documents.get(self.context, "doc")
        assert changed is not None and changed.content == b"2"
        documents.delete(self.context, "doc", Conditions(if_match=frozenset({changed.etag})))
        assert documents.get(self.context, "doc") is None
        with pytest.raises(PreconditionFailed):
            self.put(documents, b"4", conditions=Conditions(if_match=frozenset({"*"})))

    def test_ids_since_and_delete_all(self, documents: DocumentStore) -> None:
        for n in range(3):
            documents.put(self.context, f"d{n}", b"x", "text/plain", updated_us=1_000_000 * (n + 1))
        assert sorted(name for name, _ in documents.ids(self.context)) == ["d0", "d1", "d2"]
        assert dict(documents.ids(self.context, since_us=2_000_000)) == {"d2": 3_000_000}
        documents.delete(self.context, "d0")
        documents.delete(self.context, "never stored")
        assert sorted(name for name, _ in documents.ids(self.context)) == ["d1", "d2"]
        documents.delete_all(self.context)
        assert documents.ids(self.context) == []

    def test_concurrent_merges_lose_no_key(self, documents: DocumentStore) -> None:
        def merge(n: int) -> None:
            for round_ in range(10):
                self.put(documents, orjson.dumps({f"t{n}-{round_}": n}), merge=True)

        threads = [threading.Thread(target=merge, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        found = documents.get(self.context, "doc")
        assert found is not None
        assert len(orjson.loads(found.content)) == 80

    def test_a_stale_if_match_never_overwrites(self, documents: DocumentStore) -> None:
        first = self.put(documents, b'{"n": 0}')
        assert first is not None
        outcomes = []

        def write(n: int) -> None:
            try:
                self.put(
                    documents,
                    orjson.dumps({"n": n}),
                    conditions=Conditions(if_match=frozenset({first.etag})),
                )
                outcomes.append(n)
            except PreconditionFailed:
                pass

        threads = [threading.Thread(target=write, args=(n,)) for n in range(1, 9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Exactly one writer held the current ETag; the others were refused.
        assert len(outcomes) == 1
        found = documents.get(self.context, "doc")
        assert found is not None and orjson.loads(found.content) == {"n": outcomes[0]}


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"n": value}
    return value


class EnrollmentStoreContract:
    """The behaviour every enrollment store must have.

    Subclasses supply an ``enrollments`` fixture returning an empty store.
    """

    def users(self, enrollments: EnrollmentStore, *names: str, **fields: Any) -> None:
        for name in names:
            enrollments.create_user(name, fields, actor="test")

    def test_users_are_created_read_updated_and_listed(self, enrollments: EnrollmentStore) -> None:
        profile = {"city": "Lyon", "a.b": {"$c": 1}}
        created = enrollments.create_user(
            "ada",
            {
                "email": "ada@example.org",
                "full_name": "Ada L.",
                "language": "en",
                "profile": profile,
            },
            actor="admin-key",
            reason="signup",
        )
        assert created.created is not None and created.created.tzinfo is not None
        found = enrollments.get_user("ada")
        assert (found.email, found.full_name, found.profile) == (
            "ada@example.org",
            "Ada L.",
            profile,
        )
        assert found.is_active and not found.is_staff
        updated = enrollments.update_user("ada", {"is_staff": True}, actor="admin-key")
        assert updated.is_staff and updated.email == "ada@example.org"
        assert enrollments.get_user("ada").is_staff
        self.users(enrollments, "grace", is_active=False)
        self.users(enrollments, "bob")
        assert [user.username for user in enrollments.list_users()] == ["ada", "bob", "grace"]
        assert [user.username for user in enrollments.list_users(is_active=False)] == ["grace"]
        assert [user.username for user in enrollments.list_users(is_staff=True)] == ["ada"]

    def test_bad_users_are_refused_and_change_nothing(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada")
        with pytest.raises(Conflict):
            enrollments.create_user("ada", {}, actor="test")
        bad_users: list[tuple[str, dict[str, Any]]] = [
            ("with space", {}),
            ("", {}),
            ("x" * 151, {}),
            ("bob", {"unknown": 1}),
            ("bob", {"email": "not an email"}),
            ("bob", {"is_staff": "yes"}),
            ("bob", {"language": "english!"}),
            ("bob", {"profile": []}),
            ("bob", {"profile": {"deep": _nested(300)}}),
            ("bob", {"profile": {"when": datetime.now(UTC)}}),
        ]
        for name, fields in bad_users:
            with pytest.raises(ValueError):
                enrollments.create_user(name, fields, actor="test")
        with pytest.raises(ValueError):
            enrollments.update_user("ada", {"is_active": 1}, actor="test")
        with pytest.raises(DoesNotExist):
            enrollments.update_user("nobody", {"is_active": False}, actor="test")
        with pytest.raises(DoesNotExist):
            enrollments.get_user("bob")
        assert enrollments.get_user("ada").is_active
        assert len(enrollments.history("ada")) == 1

    def test_enroll_is_idempotent_and_reactivates(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada")
        first, outcome = enrollments.enroll("ada", COURSE, actor="test")
        assert outcome == Outcome.created
        assert (first.mode, first.role, first.is_active) == ("audit", CourseRole.learner, True)
        again, outcome = enrollments.enroll("ada", COURSE, mode="verified", actor="test")
        assert outcome == Outcome.unchanged and again == first
        gone = enrollments.update_enrollment("ada", COURSE, is_active=False, actor="test")
        assert not gone.is_active
        back, outcome = enrollments.enroll("ada", COURSE, mode="verified", actor="test")
        assert outcome == Outcome.reactivated
        assert (back.mode, back.is_active, back.created) == ("verified", True, first.created)
        assert enrollments.get_enrollment("ada", COURSE) == back

    def test_staff_users_are_enrolled_as_staff_unless_told(
        self, enrollments: EnrollmentStore
    ) -> None:
        self.users(enrollments, "sam", is_staff=True)
        staff, _ = enrollments.enroll("sam", COURSE, actor="test")
        assert staff.role == CourseRole.staff
        learner, _ = enrollments.enroll("sam", OTHER_COURSE, role=CourseRole.learner, actor="test")
        assert learner.role == CourseRole.learner

    def test_bad_enrollments_are_refused_and_change_nothing(
        self, enrollments: EnrollmentStore
    ) -> None:
        self.users(enrollments, "ada")
        with pytest.raises(DoesNotExist):
            enrollments.enroll("nobody", COURSE, actor="test")
        bad_enrollments: list[tuple[str, dict[str, Any]]] = [
            ("not a course", {}),
            ("course-v1:Org+Course", {}),
            (COURSE, {"mode": "gold"}),
            (COURSE, {"role": "admin"}),
        ]
        for course, options in bad_enrollments:
            with pytest.raises(ValueError):
                enrollments.enroll("ada", course, actor="test", **options)
        assert list(enrollments.list_enrollments()) == []
        enrollments.enroll("ada", COURSE, actor="test")
        with pytest.raises(ValueError):
            enrollments.update_enrollment("ada", COURSE, mode="gold", actor="test")
        with pytest.raises(DoesNotExist):
            enrollments.update_enrollment("ada", OTHER_COURSE, mode="verified", actor="test")
        assert enrollments.get_enrollment("ada", COURSE).mode == "audit"

    def test_listing_filters_and_counts(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada", "bob", "cy")
        enrollments.enroll("ada", COURSE, actor="test")
        enrollments.enroll("bob", COURSE, mode="verified", actor="test")
        enrollments.enroll("cy", COURSE, role=CourseRole.coach, actor="test")
        enrollments.enroll("ada", OTHER_COURSE, actor="test")
        enrollments.update_enrollment("bob", COURSE, is_active=False, actor="test")

        def names(**filters: Any) -> list[tuple[str, str]]:
            return [(e.course_key, e.username) for e in enrollments.list_enrollments(**filters)]

        assert names(course_key=COURSE) == [(COURSE, "ada"), (COURSE, "bob"), (COURSE, "cy")]
        assert names(username="ada") == [(COURSE, "ada"), (OTHER_COURSE, "ada")]
        assert names(course_key=COURSE, is_active=True) == [(COURSE, "ada"), (COURSE, "cy")]
        assert names(role=CourseRole.coach) == [(COURSE, "cy")]
        assert names(mode="verified") == [(COURSE, "bob")]
        assert enrollments.course_counts(COURSE) == {
            "active": 2,
            "inactive": 1,
            "by_mode": {"audit": 2},
            "by_role": {"learner": 1, "coach": 1},
        }
        assert enrollments.coached_courses("cy") == {COURSE}
        assert enrollments.coached_courses("ada") == frozenset()

    def test_every_change_is_recorded_newest_first(self, enrollments: EnrollmentStore) -> None:
        enrollments.create_user("ada", {"email": "a@x.org"}, actor="k1", reason="signup")
        enrollments.update_user("ada", {"email": "b@x.org"}, actor="k2", reason="typo")
        user_history = enrollments.history("ada")
        assert [(c.action, c.actor, c.reason) for c in user_history] == [
            ("updated", "k2", "typo"),
            ("created", "k1", "signup"),
        ]
        assert user_history[0].before is not None
        assert (user_history[0].before["email"], user_history[0].after["email"]) == (
            "a@x.org",
            "b@x.org",
        )
        assert user_history[1].before is None
        enrollments.enroll("ada", COURSE, actor="k1", reason="purchase")
        enrollments.enroll("ada", COURSE, actor="k1")  # unchanged: not a change
        enrollments.update_enrollment("ada", COURSE, mode="verified", actor="k2")
        enrollments.update_enrollment("ada", COURSE, is_active=False, actor="k3", reason="refund")
        enrollments.enroll("ada", COURSE, actor="k1")
        changes = enrollments.history("ada", COURSE)
        assert [change.action for change in changes] == [
            "reactivated",
            "unenrolled",
            "updated",
            "created",
        ]
        assert changes[1].reason == "refund" and changes[1].actor == "k3"
        assert changes[1].before == {"mode": "verified", "role": "learner", "is_active": True}
        assert changes[1].after == {"mode": "verified", "role": "learner", "is_active": False}
        assert all(a.time >= b.time for a, b in zip(changes, changes[1:], strict=False))
        assert enrollments.history("ada", OTHER_COURSE) == []

    def test_simultaneous_enrollments_leave_one_record(self, enrollments: EnrollmentStore) -> None:
        self.users(enrollments, "ada")
        outcomes: list[Outcome] = []
        lock = threading.Lock()

        def enroll() -> None:
            _, outcome = enrollments.enroll("ada", COURSE, actor="test")
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=enroll) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == sorted([Outcome.created] + [Outcome.unchanged] * 7)
        assert len(list(enrollments.list_enrollments())) == 1
        assert len(enrollments.history("ada", COURSE)) == 1
