"""An export from start to end: checked, recorded, streamed, and its record completed.

``lrs export`` and ``GET /api/v1/exports/{kind}`` both run ``start_export``:
the request is checked before a byte is written (so that an HTTP error can
still be an error status), recorded in the export log, then streamed; the
record gets its row count and ``finished`` time when the last row is written.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from lrs.clock import default_clock, from_us
from lrs.exceptions import InvalidInput
from lrs.exports.base import ExportRequest
from lrs.usecases.export_formats import Counted
from lrs.usecases.export_kinds import ONE_COURSE, Filters, kind_named
from lrs.usecases.storage import Storage
from lrs.xapi.agents import AccountAgents


@dataclass
class Export:
    """A started export: its record, the bytes to write, and the rows written so far."""

    request: ExportRequest
    chunks: Iterator[bytes]
    counted: Counted

    @property
    def file_name(self) -> str:
        """A file name that says what and when: ``lrs-statements-<since>-<until>.ndjson``."""
        filters = self.request.filters
        since = _stamp(filters.get("since")) or "start"
        until = _stamp(filters.get("until")) or _stamp(self.request.requested.isoformat())
        course = filters.get("course_key")
        what = self.request.kind if course is None else f"{self.request.kind}-{_safe(course)}"
        return f"lrs-{what}-{since}-{until}.{self.request.format}"


def _stamp(value: str | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{moment:%Y%m%dT%H%M%SZ}"


def _safe(text: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in text)[:80]


def start_export(
    storage: Storage,
    accounts: AccountAgents,
    kind_name: str,
    export_format: str,
    filters: Filters,
    *,
    credential: str,
    bom: bool = False,
) -> Export:
    """Check and record an export; return it, ready to stream.

    Raises:
        InvalidInput: an unknown kind or format, or a kind that needs a course
            and got none. Nothing is recorded then.
    """
    kind = kind_named(kind_name)
    if kind.needs_course and filters.course_key is None:
        raise InvalidInput(ONE_COURSE.format(kind.name))
    # Records are read as the export is written; the format is checked now.
    counted = Counted(kind, kind.read(storage, accounts, filters), export_format, bom=bom)
    asked = filters.as_json()
    if bom and export_format == "csv":
        asked["bom"] = True
    request = ExportRequest.new(
        from_us(default_clock.now_us()), credential, kind.name, export_format, asked
    )
    storage.exports.put(request)

    def chunks() -> Iterator[bytes]:
        yield from counted
        finished = from_us(default_clock.now_us())
        storage.exports.put(replace(request, rows=counted.rows, finished=finished))

    return Export(request, chunks(), counted)
