"""The learner-state contract, continued: racing writers, a model, large calls, updates.

Composed into ``UserStateClientContract`` (``lrs.testing.clients``) with the
classes there.
"""

import uuid
from functools import partial
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrs.clients import base as clients_base
from lrs.clients.base import Scope, UserStateClient
from lrs.clients.values import BlockChange, state_etag
from lrs.conditions import Conditions
from lrs.exceptions import DoesNotExist, PreconditionFailed
from lrs.testing.helpers import (
    block,
    failures,
    race,
    states,
    user,
)


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
