"""The record of every export: who asked, when, for what, and how many rows they got.

As Kolibri records each request for a CSV of logs (who, for which facility
and dates, of which log type), every export is recorded when it starts, and
its record completed when the last row is written. A record that never
gets its ``finished`` time is an export cut short (a closed connection, a
failure).
"""

import builtins
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lrs.closeable import Closeable
from lrs.exceptions import InvalidInput


@dataclass(frozen=True)
class ExportRequest:
    """One export: asked for by a credential (or ``cli:<user>``)."""

    id: str
    requested: datetime
    credential: str
    kind: str
    format: str
    filters: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None
    finished: datetime | None = None

    @classmethod
    def new(
        cls,
        requested: datetime,
        credential: str,
        kind: str,
        export_format: str,
        filters: dict[str, Any],
    ) -> "ExportRequest":
        """A new, unfinished record with a new id."""
        return cls(uuid.uuid4().hex, requested, credential, kind, export_format, dict(filters))

    def as_json(self) -> dict[str, Any]:
        """The record as JSON keeps it."""
        return {
            "id": self.id,
            "requested": self.requested.isoformat(),
            "credential": self.credential,
            "kind": self.kind,
            "format": self.format,
            "filters": dict(self.filters),
            "rows": self.rows,
            "finished": None if self.finished is None else self.finished.isoformat(),
        }


def request_from(value: dict[str, Any]) -> ExportRequest:
    """A record from ``ExportRequest.as_json``."""
    finished = value["finished"]
    return ExportRequest(
        value["id"],
        datetime.fromisoformat(value["requested"]),
        value["credential"],
        value["kind"],
        value["format"],
        dict(value["filters"]),
        value["rows"],
        None if finished is None else datetime.fromisoformat(finished),
    )


class ExportLog(Closeable, ABC):
    """Export records, one per id."""

    @abstractmethod
    def put(self, request: ExportRequest) -> None:
        """Write a record (a new one, or the same id's again, finished)."""

    def list(self, limit: int | None = None) -> list[ExportRequest]:
        """The records, newest first (the ``limit`` newest).

        Raises:
            InvalidInput: a limit below 1.
        """
        if limit is not None and (isinstance(limit, bool) or limit < 1):
            raise InvalidInput(f"the limit is a number of records from 1, not {limit!r}")
        return self._list(limit)

    @abstractmethod
    def _list(self, limit: int | None) -> "builtins.list[ExportRequest]":
        """The ``limit`` newest records (all with ``None``), newest first."""
