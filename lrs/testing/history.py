"""The contract of history logs."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lrs.history.base import HistoryEntry, HistoryLog, Retention
from lrs.testing.helpers import (
    entry,
)


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
