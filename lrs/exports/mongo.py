"""Export records in MongoDB: the ``export_requests`` collection."""

from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from lrs.clock import to_us
from lrs.exports.base import ExportLog, ExportRequest, request_from
from lrs.mongo import collection, ensure_index, translate_errors


class MongoExportLog(ExportLog):
    """Export records, one document per id (``_id``)."""

    def __init__(self, database: Database[Any]) -> None:
        """Keep records in ``database``."""
        self._requests = collection(database, "export_requests")
        with translate_errors():
            ensure_index(
                self._requests,
                [("requested_us", DESCENDING), ("_id", DESCENDING)],
                name="newest_first",
            )

    def put(self, request: ExportRequest) -> None:
        """Write a record."""
        with translate_errors():
            self._requests.replace_one(
                {"_id": request.id},
                {"requested_us": to_us(request.requested), "record": request.as_json()},
                upsert=True,
            )

    def _list(self, limit: int | None) -> list[ExportRequest]:
        with translate_errors():
            found = self._requests.find(
                sort=[("requested_us", DESCENDING), ("_id", DESCENDING)], limit=limit or 0
            )
            return [request_from(document["record"]) for document in found]
