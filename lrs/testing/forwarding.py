"""The contract of forwarding stores: targets, their compare-and-set, leases and dead letters."""

from dataclasses import replace
from functools import partial

import pytest

from lrs.exceptions import DoesNotExist
from lrs.forwarding.base import DeadLetter, Filters, ForwardingStore, Target
from lrs.testing.helpers import failures, race


def target(n: int = 0, **fields: object) -> Target:
    """A target with id ``t<n>``."""
    values: dict[str, object] = {
        "id": f"t{n}",
        "url": f"http://127.0.0.1:90{n:02d}/xAPI",
        "key": "k",
        "secret": "s",
        "version": "1.0.3",
        "created_us": 1_000 + n,
    }
    values.update(fields)
    return Target(**values)  # type: ignore[arg-type]


class ForwardingStoreContract:
    """Subclasses supply a ``forwarding`` fixture returning an empty store."""

    def test_targets_are_kept_whole_and_listed_oldest_first(
        self, forwarding: ForwardingStore
    ) -> None:
        filters = Filters(verbs=("http://x.org/v",), course_keys=("course-v1:O+C+R",))
        made = forwarding.add(target(1, filters=filters, cursor=(5, "id")))
        forwarding.add(target(0, created_us=2_000))
        assert made.revision == 1
        assert forwarding.get("t1") == made
        assert [item.id for item in forwarding.targets()] == ["t1", "t0"]
        with pytest.raises(DoesNotExist):
            forwarding.get("nope")

    def test_a_change_is_a_compare_and_set_that_loses_nothing(
        self, forwarding: ForwardingStore
    ) -> None:
        forwarding.add(target())

        def deliver() -> None:
            forwarding.change("t0", lambda held: replace(held, delivered=held.delivered + 1))

        assert failures(race(*[deliver for _ in range(8)])) == []
        found = forwarding.get("t0")
        assert (found.delivered, found.revision) == (8, 9)
        assert forwarding.change("t0", lambda held: None).revision == 9  # nothing to change

    def test_one_holder_at_a_time_until_the_lease_ends(self, forwarding: ForwardingStore) -> None:
        forwarding.add(target())
        taken = race(*[partial(forwarding.take_lease, "t0", f"h{n}", 0, 30) for n in range(6)])
        assert failures(taken) == []
        holders = [found for found in taken if found is not None]
        assert len(holders) == 1
        holder = holders[0].lease_holder
        assert forwarding.take_lease("t0", holder, 10_000_000, 30) is not None  # renewed
        assert forwarding.take_lease("t0", "other", 39_000_000, 30) is None
        assert forwarding.take_lease("t0", "other", 40_000_001, 30) is not None  # ran out
        forwarding.release("t0", holder)  # not its lease any more: nothing happens
        assert forwarding.get("t0").lease_holder == "other"
        forwarding.release("t0", "other")
        assert forwarding.take_lease("t0", "third", 40_000_002, 30) is not None

    def test_dead_letters_are_kept_per_statement_and_go_with_their_target(
        self, forwarding: ForwardingStore
    ) -> None:
        forwarding.add(target(0))
        forwarding.add(target(1))
        forwarding.add_dead(
            [
                DeadLetter("t0", "s2", 20, 400, "bad"),
                DeadLetter("t0", "s1", 10, 400, "bad"),
                DeadLetter("t1", "s1", 10, 403, "no"),
            ]
        )
        forwarding.add_dead([DeadLetter("t0", "s1", 30, 409, "again")])  # the latest kept
        assert [(item.statement_id, item.status) for item in forwarding.dead_letters("t0")] == [
            ("s2", 400),
            ("s1", 409),
        ]
        # An erasure empties what the targets answered about its statements.
        assert forwarding.clear_answers(["s1", "s9"]) == 2
        assert forwarding.clear_answers(["s1"]) == 0
        assert {(item.target, item.answer) for item in forwarding.dead_letters("t1")} == {
            ("t1", "")
        }
        assert forwarding.forget_dead("t0", ["s2"]) == 1
        assert [item.statement_id for item in forwarding.dead_letters("t0")] == ["s1"]
        forwarding.remove("t0")
        assert forwarding.dead_letters("t0") == [] and len(forwarding.dead_letters("t1")) == 1
        assert [item.id for item in forwarding.targets()] == ["t1"]
        with pytest.raises(DoesNotExist):
            forwarding.remove("t0")
