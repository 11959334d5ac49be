"""The contract of export record logs: one record per export, newest first."""

from dataclasses import replace
from datetime import UTC, datetime

from lrs.exports.base import ExportLog, ExportRequest
from lrs.testing.helpers import failures, race


class ExportLogContract:
    """The behaviour every export record log must have.

    Subclasses supply an ``exports`` fixture returning an empty log.
    """

    def test_records_are_kept_by_id_and_listed_newest_first(self, exports: ExportLog) -> None:
        assert exports.list() == []
        first = ExportRequest.new(
            datetime(2026, 1, 2, tzinfo=UTC), "key-1", "statements", "ndjson", {}
        )
        second = ExportRequest.new(
            datetime(2026, 1, 3, 4, 5, 6, 789, tzinfo=UTC),
            "cli:ada",
            "summaries",
            "csv",
            {"since": "2026-01-01T00:00:00Z", "course_key": "course-v1:Org+CS101+2026"},
        )
        exports.put(first)
        exports.put(second)
        assert exports.list() == [second, first]
        assert exports.list(limit=1) == [second]
        finished = replace(first, rows=1234, finished=datetime(2026, 1, 2, 0, 1, tzinfo=UTC))
        exports.put(finished)
        assert exports.list() == [second, finished]

    def test_concurrent_exports_each_keep_their_record(self, exports: ExportLog) -> None:
        requests = [
            ExportRequest.new(
                datetime(2026, 2, 1, 0, n, tzinfo=UTC), f"key-{n}", "users", "csv", {}
            )
            for n in range(8)
        ]
        outcomes = race(*[lambda request=request: exports.put(request) for request in requests])
        assert failures(outcomes) == []
        assert exports.list() == list(reversed(requests))

    def test_a_limit_below_one_is_refused(self, exports: ExportLog) -> None:
        import pytest

        from lrs.exceptions import InvalidInput

        for bad in (0, -1, True):
            with pytest.raises(InvalidInput, match="limit"):
                exports.list(limit=bad)
        assert exports.list(limit=1) == []
